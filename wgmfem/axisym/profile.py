"""Axial modes of a capillary with z-dependent radii by the axisymmetric vector FEM, beside an
axial-equation estimate of the same family.

The estimate sets the shifts (its states) and the window. It is the adiabatic axial
equation's solution (:mod:`wgmfem.axial.modes`) where the family can be followed along the whole
profile, else (a um-scale bulge such as a microbubble, whose family meets wall modes of the same
m on its flanks) the local harmonic estimate where its cutoff is deepest (:mod:`wgmfem.axial.harmonic`).
The window runs in z to where the estimated states up to ``count`` have decayed by e^-decay,
and in r from inside the caustic of the narrowest bore in that range to a PML beyond the widest
wall. The FEM then solves the full vector problem on the (r, z) section, with nothing from the
estimate but the shifts and the window. The fields vary along z on the scale of the axial states,
far more slowly than across the wall, so the elements are longer along z (``z_stretch``).

Labels from each eigenvector's field: the family (Ez if the axial component E_z carries
more electric energy in the glass and liquid than E_r, else Hz), the region of its peak
(core or wall), p (one more than the sign changes of the dominant component along r at the
peak's height) and q (sign changes along z at the peak's radius). A mode with less than
half its energy in the capillary is a standing wave of the window, not labelled.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from ..axial.harmonic import HarmonicStates, harmonic_states
from ..axial.modes import AxialMode, AxialResult, BoreCloses, FamilyLabelsChange, find_axial_modes
from ..axial.profile import AxialProfile
from ..fem.cross_section import load_mesh
from ..fem.pml import AxialPML, make_pml
from ..fem.radial import inner_cut_radius_um
from ..geometry import LayeredCylinder, MaterialStack
from ..mode import Mode
from ..units import ComplexWavenumber, wavelength_nm_from_k
from .defaults import (
    AXIAL_END_BAND,
    AXIAL_END_SHARE_MAX,
    AXIAL_PML_FRACTION,
    AXIAL_PML_REFLECTION,
    DEFAULT_DECAY,
    DEFAULT_PML_REFLECTION,
    PROFILE_RESOLVED_Q_MAX,
    RESONATOR_FRACTION_MIN,
)
from .fields import FieldSampler, axial_share_and_peak, real_sign_changes
from .mesh import AUTO_Z_STRETCH_MAX, ProfileWindow, build_profile_mesh, check_window_size, check_z_stretch
from .solver import AxisymSolution, AxisymSystem, assemble, axial_pml_change, solve, with_electric_mirror

#: eigenvalues from two shifts closer than this (relative) are the same eigenpair
SAME_EIGENVALUE = 1e-10
#: a Q that changes by more than this (relative, first order) with the axial PML twice as strong is
#: a property of the window, not of the state: not reported
Q_PML_CHANGE_MAX = 0.05
#: the window's inner edge lies at least this far inside the narrowest bore it spans (fraction of its radius)
BORE_MARGIN = 0.98
#: a profile whose radii differ by less than this (um) at mirror heights is solved on half a window
MIRROR_TOLERANCE_UM = 1e-7


@dataclass(frozen=True)
class ProfileModeFEM(ComplexWavenumber):
    """One FEM mode of the profile: k (1/um), labels from its field, the adiabatic state of the same label."""

    k_per_um: complex
    pol: str
    m: int
    p: int
    region: str
    q: int
    ez_share: float
    capillary_fraction: float
    axial_end_share: float  # electric energy in the window's end bands (AXIAL_END_BAND), of that outside the PML
    adiabatic: AxialMode | None  # the adiabatic state of the same label, when the adiabatic solution exists
    harmonic_nm: float | None = None  # the harmonic estimate of the same label (nm), when that was the estimate
    dispersion_factor: float = 1.0  # F of the reference resonance (1 for fixed indices)
    label_shared: bool = False  # another mode of the resonator carries the same (pol, p, region, q)
    q_pml_change: float = math.nan  # relative change of Q, to first order, with the axial PML twice as strong

    @property
    def Q(self) -> float:
        """F Re k / (2 |Im k|): a dispersive medium stores F times the energy (negative: growing)."""
        return self.dispersion_factor * ComplexWavenumber.Q.fget(self)  # type: ignore[attr-defined]

    @property
    def is_resonator_mode(self) -> bool:
        """Holds half its energy in the capillary and has decayed before the window's ends."""
        return self.capillary_fraction >= RESONATOR_FRACTION_MIN and self.axial_end_share <= AXIAL_END_SHARE_MAX

    @property
    def reaches_window_ends(self) -> bool:
        return self.axial_end_share > AXIAL_END_SHARE_MAX

    @property
    def q_resolved(self) -> bool:
        """|Q| within what the FEM resolves and, with an axial PML, insensitive to it (a state that
        leaks along the fibre through waves the layers absorb poorly has a Q of the window)."""
        steady = math.isnan(self.q_pml_change) or self.q_pml_change <= Q_PML_CHANGE_MAX
        return abs(self.Q) <= PROFILE_RESOLVED_Q_MAX and steady

    def to_dict(self) -> dict:
        """A JSON-ready record (wavelength in nm, k in 1/um); ``Q`` None where unresolved (no bound is
        claimed: above PROFILE_RESOLVED_Q_MAX it can belong to the window), beside the
        adiabatic state of the same label when there is one."""
        record: dict[str, object] = {
            "engine": "axisym", "shape": "profile", "pol": self.pol, "m": self.m, "p": self.p, "region": self.region,
            "q": self.q, "wavelength_nm": self.wavelength_nm, "k_real": self.k_per_um.real,
            "k_imag": self.k_per_um.imag, "Q": self.Q if self.q_resolved else None,
            "resonator_mode": self.is_resonator_mode,
            "verification": {"capillary_energy_fraction": self.capillary_fraction, "ez_share": self.ez_share,
                             "axial_end_energy_fraction": self.axial_end_share,
                             "dispersion_factor": self.dispersion_factor, "label_unique": not self.label_shared,
                             "Q_change_with_stronger_axial_pml": None if math.isnan(self.q_pml_change)
                             else self.q_pml_change},
        }
        if self.adiabatic is not None:
            record["adiabatic"] = {"wavelength_nm": self.adiabatic.wavelength_nm,
                                   "adiabatic_shift_nm": self.adiabatic.adiabatic_shift_nm,
                                   "quartic_shift_nm": self.adiabatic.quartic_shift_nm,
                                   "curvature_shift_nm": self.adiabatic.curvature_shift_nm,
                                   "alpha_shift_nm": self.adiabatic.alpha_shift_nm,
                                   "fem_minus_adiabatic_nm": self.shift_from_adiabatic_nm}
        if self.harmonic_nm is not None:
            record["harmonic"] = {"wavelength_nm": self.harmonic_nm,
                                  "fem_minus_harmonic_nm": self.wavelength_nm - self.harmonic_nm}
        return record

    @property
    def shift_from_adiabatic_nm(self) -> float:
        """FEM wavelength minus the adiabatic state's (NaN without a partner)."""
        return math.nan if self.adiabatic is None else self.wavelength_nm - self.adiabatic.wavelength_nm


@dataclass
class ProfileStudy:
    """A solved profile window: its modes, the adiabatic solution they are paired with, the unknowns
    and where the time went."""

    modes: list[ProfileModeFEM]
    adiabatic: AxialResult | None  # the estimate: the adiabatic solution, or else
    harmonic: HarmonicStates | None  # the local harmonic estimate where the cutoff is deepest
    window: ProfileWindow
    z_stretch: float
    num_unknowns: int
    seconds: dict
    fields: FieldSampler  # (E_r, E_z, E_phi) of every mode at any point of the window
    estimate_note: str = ""  # why the adiabatic solution is not the estimate, when it is not

    @property
    def missing_states(self) -> list[int]:
        """The estimated states q that no FEM mode was paired with (by its own, unshared labels)."""
        if self.adiabatic is not None:
            estimated = [md.q for md in self.adiabatic.modes]
        else:
            assert self.harmonic is not None
            estimated = list(range(len(self.harmonic.k)))
        found = {md.q for md in self.modes if md.adiabatic is not None or md.harmonic_nm is not None}
        return [q for q in estimated if q not in found]

    @property
    def reference(self) -> Mode:
        """The exact cross-section mode the estimate starts from."""
        estimate = self.adiabatic if self.adiabatic is not None else self.harmonic
        assert estimate is not None
        return estimate.reference


def _z_window(result: AxialResult, decay: float) -> tuple[float, float]:
    """Heights (um) beyond which every adiabatic state has decayed by e^-decay; ValueError when a
    state has not decayed within the profile (the window's walls would cut it)."""
    z = result.profile.z_um
    inside = np.zeros(len(z), dtype=bool)
    for md in result.modes:
        inside |= np.abs(md.psi) > math.exp(-decay)
    if inside[0] or inside[-1] or not inside.any():
        raise ValueError(f"the axial states have not decayed by e^-{decay:g} within the profile "
                         f"(z {z[0]:g}..{z[-1]:g} um): extend the profile")
    idx = np.flatnonzero(inside)
    return float(z[idx[0] - 1]), float(z[idx[-1] + 1])


def _label(sampler: FieldSampler, j: int, window: ProfileWindow, mirror: str | None) -> tuple[str, int, str, int, float]:
    """(pol, p, region, q, ez_share) of eigenvector j from its field; on a half window (``mirror``:
    the wall on the plane z_min) q is twice the sign changes above the plane, plus one if the
    dominant component is odd (E_z under a magnetic wall, E_r under an electric one)."""
    r = np.linspace(window.r_min_um, max(window.r_out_um), 120)[1:-1]
    z = np.linspace(window.z_min_um, window.z_max_um, 121)[1:-1]
    rr, zz = np.meshgrid(r, z)
    grid = np.vstack((rr.ravel(), zz.ravel()))
    _, r_out = window.radii_at(grid[1])
    ez_share, r_peak, z_peak = axial_share_and_peak(sampler, j, grid[:, grid[0] < r_out])
    pol = "Ez" if ez_share > 0.5 else "Hz"
    dominant = 1 if pol == "Ez" else 0
    a, b = window.radii_at(z_peak)
    region = "core" if r_peak < a else "wall"
    line_r = np.linspace(window.r_min_um, a if region == "core" else b, 400)[1:-1]
    p = 1 + real_sign_changes(sampler.components(j, np.vstack((line_r, np.full(len(line_r), z_peak))))[dominant])
    # q along the line parallel to the outer surface through the peak (on a curved body a line of
    # constant r would cross the radial nodes of a p >= 2 mode)
    line_z = np.linspace(window.z_min_um, window.z_max_um, 600)[1:-1]
    line_r = window.radii_at(line_z)[1] - (b - r_peak)
    inside = line_r > window.r_min_um
    q = real_sign_changes(sampler.components(j, np.vstack((line_r[inside], line_z[inside])))[dominant])
    if mirror is not None:
        odd = mirror == ("magnetic" if pol == "Ez" else "electric")
        q = 2 * q + int(odd)
    return pol, p, region, q, ez_share


def q_sensitivity(system: AxisymSystem, dA, dB, sol: AxisymSolution) -> np.ndarray:
    """|Q' / Q - 1| of each eigenpair when the matrices of ``system`` change by (dA, dB), to first
    order: dk^2 = x^T (dA - k^2 dB) x / x^T B x (the problem is complex symmetric, so x is its own
    left eigenvector; x is zero on the fixed unknowns of either wall)."""
    out = np.empty(len(sol.k))
    for j, k in enumerate(sol.k):
        x = sol.vectors[:, j]
        lam = complex(k) ** 2
        shift = (x @ (dA @ x) - lam * (x @ (dB @ x))) / (x @ (system.B @ x))
        k2 = np.sqrt(lam + shift)
        q1, q2 = k.real / (-2 * k.imag), k2.real / (-2 * k2.imag)
        out[j] = abs(q2 / q1 - 1)
    return out


def shared_labels(labels: list[tuple], resonator: np.ndarray) -> np.ndarray:
    """For each mode, whether it is a mode of the resonator whose label another one also carries
    (two modes, one label: neither is trusted)."""
    counts = Counter(label for label, keep in zip(labels, resonator) if keep)
    return np.array([bool(keep) and counts[label] > 1 for label, keep in zip(labels, resonator)], dtype=bool)


def _mirror_for(pol: str, q: int) -> str:
    """The wall on a symmetric profile's mirror plane that state q of the family satisfies: the
    dominant component (E_z for Ez, E_r for Hz) is even in z for even q."""
    even = q % 2 == 0
    if pol == "Ez":
        return "electric" if even else "magnetic"  # electric wall: E_r, E_phi odd, E_z even
    return "magnetic" if even else "electric"


def is_mirror_symmetric(profile: AxialProfile, z0_um: float, half_height_um: float) -> bool:
    """Whether both radii are even about z0 over |z - z0| <= half_height (to MIRROR_TOLERANCE_UM)."""
    t = np.linspace(0.0, half_height_um, 401)
    for radii in (profile.r_in_um, profile.r_out_um):
        up, down = (np.interp(z0_um + sign * t, profile.z_um, radii) for sign in (1.0, -1.0))
        if np.max(np.abs(up - down)) > MIRROR_TOLERANCE_UM:
            return False
    return True


def _estimate(profile: AxialProfile, cylinder: LayeredCylinder | MaterialStack, pol: str, m: int, p: int, region: str | None,
              count: int) -> tuple[AxialResult | None, HarmonicStates | None, str]:
    """The adiabatic solution of the family, or the harmonic estimate where the family meets another
    mode of the same m along the profile or the bore closes (with the adiabatic engine's reason)."""
    try:
        return find_axial_modes(profile, cylinder, pol=pol, m=m, p=p, region=region, count=count), None, ""
    except (FamilyLabelsChange, BoreCloses) as exc:
        return None, harmonic_states(profile, cylinder, pol=pol, m=m, p=p, region=region, count=count), str(exc)


def auto_z_stretch(axial_wavelength_um: float, wavelength_um: float, index: float, max_slope: float = 0.0) -> float:
    """Elements this many times longer along z than across: half the ratio of the shortest axial
    wavelength of the states to the shortest wavelength in the glass and liquid (so that z is
    sampled twice as densely per wavelength as r), between 1 and AUTO_Z_STRETCH_MAX, and at most
    1 / ``max_slope`` (the largest |dr/dz| of the interfaces in the window): a steep interface
    crosses a stretched element along r (on a hollow sphere, slopes to 0.53, stretch 3 is 3e-7 off
    the exact resonance, 2 and 1.5 are 1e-7 and 5e-8 off)."""
    stretch = min(max(0.5 * axial_wavelength_um * index / wavelength_um, 1.0), AUTO_Z_STRETCH_MAX)
    return float(max(min(stretch, 1.0 / max_slope), 1.0) if max_slope > 0 else stretch)


def _dispersion_factors(system: AxisymSystem, vectors: np.ndarray, reference: Mode) -> np.ndarray:
    """F = sum_j Gamma_j n_g,j / n_j of every eigenvector, from its own electric energy shares in
    the liquid and the glass (the outside medium taken as non-dispersive), with the index slopes
    of the reference resonance; 1 with fixed indices."""
    slopes = reference.verification.get("dn_dlambda_per_nm") or {}
    factors = np.ones(vectors.shape[1])
    cyl = reference.cylinder
    for name in ("core", "wall"):
        if slopes.get(name):
            n = complex(cyl.indices[cyl.layer_of(name)]).real
            gamma = system.energy_share(vectors, (name,))
            factors -= gamma * reference.wavelength_nm * slopes[name] / n
    return factors


@dataclass
class _Estimate:
    """The estimated states of the family: from the adiabatic solution or the harmonic estimate."""

    adiabatic: AxialResult | None
    harmonic: HarmonicStates | None
    reference: Mode  # the exact cross-section mode they start from
    z0_um: float  # its height
    z_min_um: float  # where the states q < count have decayed by e^-decay
    z_max_um: float
    axial_wavelength_um: float  # the shortest of the states
    wavelengths_nm: dict[int, float]  # by q
    k: list[complex]  # 1/um, by q
    note: str = ""  # why the adiabatic solution is not the estimate, when it is not


def _estimated_states(profile: AxialProfile, cylinder: LayeredCylinder | MaterialStack, pol: str, m: int, p: int,
                      region: str | None, count: int, decay: float) -> _Estimate:
    adiabatic, harmonic, note = _estimate(profile, cylinder, pol, m, p, region, count)
    if adiabatic is not None:
        z_min, z_max = _z_window(adiabatic, decay)
        return _Estimate(adiabatic, None, adiabatic.reference, adiabatic.reference_z_um, z_min, z_max,
                         float(adiabatic.verification["shortest_axial_wavelength_um"]),
                         {md.q: md.wavelength_nm for md in adiabatic.modes}, [md.k for md in adiabatic.modes])
    assert harmonic is not None
    z_min, z_max = harmonic.extent_um(decay)
    if z_min < profile.z_um[0] or z_max > profile.z_um[-1]:
        raise ValueError(f"the axial states reach beyond the profile (z {z_min:.3g}..{z_max:.3g} um needed, "
                         f"{profile.z_um[0]:g}..{profile.z_um[-1]:g} um given): extend the profile")
    return _Estimate(None, harmonic, harmonic.reference, harmonic.z0_um, z_min, z_max,
                     harmonic.shortest_axial_wavelength_um(), dict(enumerate(harmonic.wavelength_nm.tolist())),
                     list(harmonic.k), note)


def _solve_states(system: AxisymSystem, half_mesh, pol: str, targets: list[complex],
                  per_target: int) -> tuple[AxisymSolution, list[str | None]]:
    """Eigenpairs near the estimated states (``targets``, by q) and the mirror wall of each: on a
    half window (``half_mesh``: its loaded mesh) each state is sought with the wall of its parity."""
    if half_mesh is None:
        sol = _solve_near(system, targets, per_target)
        return sol, [None] * len(sol.k)
    walls = {"magnetic": system, "electric": with_electric_mirror(system, half_mesh)}
    parts = []
    for wall in ("electric", "magnetic"):
        mine = [k for q, k in enumerate(targets) if _mirror_for(pol, q) == wall]
        if mine:
            parts.append((wall, _solve_near(walls[wall], mine, per_target)))
    return _merge(system, parts)


def _merge(system: AxisymSystem, parts: list[tuple[str, AxisymSolution]]) -> tuple[AxisymSolution, list[str | None]]:
    """One solution from the solutions with each mirror wall, sorted by wavelength, and the wall of each."""
    ks = np.concatenate([sol.k for _, sol in parts])
    vectors = np.hstack([sol.vectors for _, sol in parts])
    walls: list[str | None] = [wall for wall, sol in parts for _ in sol.k]
    order = np.argsort(-wavelength_nm_from_k(ks.real))
    return AxisymSolution(system, ks[order], vectors[:, order]), [walls[i] for i in order]


def _solve_near(system: AxisymSystem, targets: list[complex], per_target: int) -> AxisymSolution:
    """The eigenpairs nearest each target (one shift-invert solve each; the capillary's wall
    guides waves along z that the window's walls turn into a dense set of standing waves, so one
    shift cannot reach far), without repeats, sorted by wavelength."""
    ks: list[complex] = []
    columns = []
    for target in targets:
        sol = solve(system, target, per_target)
        for j, k in enumerate(sol.k):
            if all(abs(k - other) > SAME_EIGENVALUE * abs(k) for other in ks):
                ks.append(complex(k))
                columns.append(sol.vectors[:, j])
    order = np.argsort([-wavelength_nm_from_k(k.real) for k in ks])
    return AxisymSolution(system, np.array(ks)[order], np.column_stack(columns)[:, order])


def profile_modes_fem(profile: AxialProfile, cylinder: LayeredCylinder | MaterialStack, *, pol: str = "Ez", m: int, p: int = 1,
                      region: str | None = None, count: int = 3, extra_modes: int = 3, order: int = 3,
                      points_per_wavelength: float = 12.0, z_stretch: float | None = None,
                      axial_pml: bool = True, half: bool | None = None, decay: float = DEFAULT_DECAY,
                      cache_dir=None) -> ProfileStudy:
    """FEM modes of the capillary ``profile`` next to the estimated states q < ``count`` of (pol, m, p, region).

    ``cylinder`` gives the materials (core, wall, outside: a :class:`LayeredCylinder` or a
    :class:`MaterialStack`); the radii come from ``profile``. With materials whose index follows
    the wavelength the FEM runs at the indices of the estimate's reference resonance (the exact
    cross-section mode at the reference point, self-consistent), and each mode's shift from that
    resonance is divided by its dispersion factor F, Q multiplied by F: first order in the shift,
    as in the adiabatic equation.
    The solver is shifted to every estimated state and asks for ``extra_modes`` more eigenpairs
    there, for the other families (and standing waves of the window) that lie between.
    ``z_stretch``: elements that many times longer along z than along r (default: from the
    estimated states' shortest axial wavelength, :func:`auto_z_stretch`). ``axial_pml``: absorbing
    layers beyond the window's ends (:class:`~wgmfem.fem.pml.AxialPML`), for what travels along
    the capillary; without them the ends are bare electric walls. ``half``: solve a profile that is
    symmetric about the estimate's reference height on the half window above it, once with an
    electric and once with a magnetic wall on the mirror plane (the states' two parities; about
    half the unknowns); None (default) does so when the profile is symmetric there.
    """
    if profile.core_index is not None:
        raise ValueError("the axisymmetric FEM takes a constant core index; drop the profile's core_index column")
    if z_stretch is not None:
        check_z_stretch(z_stretch)
    if cylinder.n_layers != 2:
        raise ValueError("a capillary profile has two layers (core and wall)")
    t0 = time.perf_counter()
    est = _estimated_states(profile, cylinder, pol, m, p, region, count, decay)
    adiabatic, harmonic, reference = est.adiabatic, est.harmonic, est.reference
    z0, z_min, z_max = est.z0_um, est.z_min_um, est.z_max_um
    reach = max(z0 - z_min, z_max - z0)
    symmetric = is_mirror_symmetric(profile, z0, reach * (1 + 2 * AXIAL_PML_FRACTION))
    if half and not symmetric:
        raise ValueError(f"the profile is not symmetric about z = {z0:g} um (the reference height): solve the "
                         "whole window")
    if half is None:
        half = symmetric
    if half:
        z_min, z_max = z0 - reach, z0 + reach
    fixed, k_ref = reference.cylinder, reference.k.real
    to_fixed = [complex(k_ref + (k.real - k_ref) * reference.dispersion_factor, k.imag) for k in est.k]
    k = to_fixed[0].real
    heights = np.linspace(z_min, z_max, 401)
    # inside the caustic, and inside the bore wherever the mesh reaches (its layers included): a
    # wall mode's caustic can lie in the glass, but the mesh needs the bore's interface; where the
    # bore closes (a sealed end) the window's inner edge cuts through the glass instead
    meshed = np.linspace(z_min - AXIAL_PML_FRACTION * (z_max - z_min), z_max + AXIAL_PML_FRACTION * (z_max - z_min), 801)
    bore = float(np.interp(meshed, profile.z_um, profile.r_in_um).min())
    if bore > 0:
        narrowest = LayeredCylinder((float(np.interp(heights, profile.z_um, profile.r_in_um).min()),
                                     float(np.interp(heights, profile.z_um, profile.r_out_um).min())),
                                    fixed.indices, fixed.outside_index, fixed.names)
        r_min = min(inner_cut_radius_um(narrowest, m, k, math.exp(-decay)), BORE_MARGIN * bore)
    else:  # where the bore has closed the field decays inward through the glass: the higher index counts
        densest_index = max(fixed.indices, key=lambda n: complex(n).real)
        solid = LayeredCylinder(fixed.radii_um, (densest_index, densest_index), fixed.outside_index, fixed.names)
        r_min = inner_cut_radius_um(solid, m, k, math.exp(-decay))
    pml = make_pml(float(profile.r_out_um.max()), k, fixed.outside_index, m, reflection=DEFAULT_PML_REFLECTION)
    z_pml = AxialPML.for_window(z_min, z_max, AXIAL_PML_FRACTION, AXIAL_PML_REFLECTION) if axial_pml else None
    window = ProfileWindow(tuple(profile.z_um), tuple(profile.r_in_um), tuple(profile.r_out_um), r_min,
                           z0 if half else z_min, z_max, pml, z_pml.width_um if z_pml is not None else 0.0, half)
    indices = {"core": fixed.indices[0], "wall": fixed.indices[1], "outside": fixed.outside_index,
               "pml": fixed.outside_index}
    lam_um = wavelength_nm_from_k(k) / 1000.0
    sizes = {name: order * lam_um / (complex(n).real * points_per_wavelength) for name, n in indices.items()}
    densest = max(complex(indices["core"]).real, complex(indices["wall"]).real)
    in_window = (profile.z_um >= meshed[0]) & (profile.z_um <= meshed[-1])
    slope = max(float(np.max(np.abs(np.gradient(radii, profile.z_um))[in_window & (radii > r_min)], initial=0.0))
                for radii in (profile.r_in_um, profile.r_out_um))  # of the interfaces the mesh holds
    stretch = (auto_z_stretch(est.axial_wavelength_um, lam_um, densest, slope) if z_stretch is None
               else float(z_stretch))
    low, high = window.mesh_z_range_um
    check_window_size((window.r_end_um - r_min) * (high - low) / stretch, min(sizes["core"], sizes["wall"]))
    info = build_profile_mesh(window, sizes, z_stretch=stretch, cache_dir=cache_dir)
    loaded = load_mesh(info.path)
    t1 = time.perf_counter()
    system = assemble(loaded, {name: indices[name] for name in set(loaded.element_group)}, m, pml, order,
                      mirror="magnetic" if half else None, axial_pml=z_pml)
    t2 = time.perf_counter()
    sol, mirrors = _solve_states(system, loaded if half else None, reference.pol, to_fixed, 1 + extra_modes)
    t3 = time.perf_counter()
    share = system.energy_share(sol.vectors, ("core", "wall"))
    z_centre = system.element_centres()[1]
    band = AXIAL_END_BAND * (z_max - z_min)
    at_ends = (z_centre > z_max - band) if half else (z_centre < z_min + band) | (z_centre > z_max - band)
    end_share = system.energy_share(sol.vectors, ("core", "wall", "outside"), where=at_ends)
    factors = _dispersion_factors(system, sol.vectors, reference)
    if z_pml is not None:  # the same mesh with the axial layers twice as strong
        d_a, d_b = axial_pml_change(system, loaded, {name: indices[name] for name in set(loaded.element_group)}, pml,
                                    order, z_pml, replace(z_pml, sigma0=2 * z_pml.sigma0))
        q_change = q_sensitivity(system, d_a, d_b, sol)
    else:
        q_change = np.full(len(sol.k), math.nan)
    sampler = FieldSampler(sol)
    family = (reference.pol, reference.p, reference.region)
    states = {md.q: md for md in adiabatic.modes} if adiabatic is not None else {}
    labels = [_label(sampler, j, window, mirrors[j]) for j in range(len(sol.k))]
    resonator = (share >= RESONATOR_FRACTION_MIN) & (end_share <= AXIAL_END_SHARE_MAX)
    shared_label = shared_labels([label[:4] for label in labels], resonator)
    modes = []
    for j, kj in enumerate(sol.k):
        pol_j, p_j, region_j, q_j, ez = labels[j]
        shared = bool(shared_label[j])
        same = (pol_j, p_j, region_j) == family and bool(resonator[j]) and not shared
        k_true = complex(k_ref + (kj.real - k_ref) / factors[j], kj.imag)  # Q = F Re k / (2 |Im k|)
        modes.append(ProfileModeFEM(k_true, pol_j, m, p_j, region_j, q_j, ez, float(share[j]), float(end_share[j]),
                                    states.get(q_j) if same else None,
                                    est.wavelengths_nm.get(q_j) if same and harmonic is not None else None,
                                    float(factors[j]), shared, float(q_change[j])))
    seconds = {"estimate_and_mesh": t1 - t0, "assemble": t2 - t1, "solve": t3 - t2,
               "label": time.perf_counter() - t3}
    return ProfileStudy(modes, adiabatic, harmonic, window, stretch, system.num_unknowns, seconds, sampler, est.note)
