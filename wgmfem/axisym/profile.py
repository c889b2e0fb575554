"""Axial modes of a capillary with z-dependent radii by the axisymmetric vector FEM, beside the
adiabatic axial equation's states of the same family (:mod:`wgmfem.axial.modes`).

The adiabatic solution sets the target (its q = 0 state) and the window: in z, where its
states up to ``count`` have decayed by e^-decay; in r, from inside the caustic of the
narrowest bore to a PML beyond the widest wall. The FEM then solves the full vector problem
on the (r, z) section, with nothing from the adiabatic solution but the shift and the window.

Labels from each eigenvector's field: the family (Ez if the axial component E_z carries
more electric energy in the glass and liquid than E_r, else Hz), the region of its peak
(core or wall), p (one more than the sign changes of the dominant component along r at the
peak's height) and q (sign changes along z at the peak's radius). A mode with less than
half its energy in the capillary is a standing wave of the window, not labelled.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..axial.modes import AxialMode, AxialResult, find_axial_modes
from ..axial.profile import AxialProfile
from ..fem.cross_section import load_mesh
from ..fem.pml import make_pml
from ..fem.radial import inner_cut_radius_um
from ..geometry import LayeredCylinder
from ..units import ComplexWavenumber, wavelength_nm_from_k
from .defaults import DEFAULT_DECAY, DEFAULT_PML_REFLECTION, RESOLVED_Q_MAX, RESONATOR_FRACTION_MIN
from .fields import FieldSampler, axial_share_and_peak, real_sign_changes
from .mesh import ProfileWindow, build_profile_mesh, check_window_size
from .solver import assemble, solve


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
    adiabatic: AxialMode | None

    @property
    def is_resonator_mode(self) -> bool:
        return self.capillary_fraction >= RESONATOR_FRACTION_MIN

    @property
    def q_resolved(self) -> bool:
        return abs(self.Q) <= RESOLVED_Q_MAX

    def to_dict(self) -> dict:
        """A JSON-ready record (wavelength in nm, k in 1/um); ``Q`` None where unresolved, beside the
        adiabatic state of the same label when there is one."""
        record: dict[str, object] = {
            "engine": "axisym", "shape": "profile", "pol": self.pol, "m": self.m, "p": self.p, "region": self.region,
            "q": self.q, "wavelength_nm": self.wavelength_nm, "k_real": self.k_per_um.real,
            "k_imag": self.k_per_um.imag, "Q": self.Q if self.q_resolved else None,
            "Q_lower_bound": None if self.q_resolved else RESOLVED_Q_MAX, "resonator_mode": self.is_resonator_mode,
            "verification": {"capillary_energy_fraction": self.capillary_fraction, "ez_share": self.ez_share},
        }
        if self.adiabatic is not None:
            record["adiabatic"] = {"wavelength_nm": self.adiabatic.wavelength_nm,
                                   "adiabatic_shift_nm": self.adiabatic.adiabatic_shift_nm,
                                   "fem_minus_adiabatic_nm": self.shift_from_adiabatic_nm}
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
    adiabatic: AxialResult
    window: ProfileWindow
    num_unknowns: int
    seconds: dict
    fields: FieldSampler  # (E_r, E_z, E_phi) of every mode at any point of the window


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


def _label(sampler: FieldSampler, j: int, window: ProfileWindow) -> tuple[str, int, str, int, float]:
    """(pol, p, region, q, ez_share) of eigenvector j from its field."""
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
    line_z = np.linspace(window.z_min_um, window.z_max_um, 600)[1:-1]
    q = real_sign_changes(sampler.components(j, np.vstack((np.full(len(line_z), r_peak), line_z)))[dominant])
    return pol, p, region, q, ez_share


def profile_modes_fem(profile: AxialProfile, cylinder: LayeredCylinder, *, pol: str = "Ez", m: int, p: int = 1,
                      region: str | None = None, count: int = 3, extra_modes: int = 3, order: int = 3,
                      points_per_wavelength: float = 12.0, decay: float = DEFAULT_DECAY,
                      cache_dir=None) -> ProfileStudy:
    """FEM modes of the capillary ``profile`` next to the adiabatic states q < ``count`` of (pol, m, p, region).

    ``cylinder`` gives the indices (core, wall, outside); the radii come from ``profile``.
    ``extra_modes`` more eigenpairs are asked for, for the other families that lie between.
    """
    if profile.core_index is not None:
        raise ValueError("the axisymmetric FEM takes a constant core index; drop the profile's core_index column")
    if cylinder.n_layers != 2:
        raise ValueError("a capillary profile has two layers (core and wall)")
    t0 = time.perf_counter()
    adiabatic = find_axial_modes(profile, cylinder, pol=pol, m=m, p=p, region=region, count=count)
    target = adiabatic.modes[0].k
    k = target.real
    z_min, z_max = _z_window(adiabatic, decay)
    narrowest = LayeredCylinder((float(profile.r_in_um.min()), float(profile.r_out_um.min())), cylinder.indices,
                                cylinder.outside_index, cylinder.names)
    r_min = inner_cut_radius_um(narrowest, m, k, math.exp(-decay))
    pml = make_pml(float(profile.r_out_um.max()), k, cylinder.outside_index, m, reflection=DEFAULT_PML_REFLECTION)
    window = ProfileWindow(tuple(profile.z_um), tuple(profile.r_in_um), tuple(profile.r_out_um), r_min, z_min, z_max, pml)
    indices = {"core": cylinder.indices[0], "wall": cylinder.indices[1], "outside": cylinder.outside_index,
               "pml": cylinder.outside_index}
    lam_um = wavelength_nm_from_k(k) / 1000.0
    sizes = {name: order * lam_um / (complex(n).real * points_per_wavelength) for name, n in indices.items()}
    check_window_size((window.r_end_um - r_min) * (z_max - z_min), min(sizes["core"], sizes["wall"]))
    info = build_profile_mesh(window, sizes, cache_dir=cache_dir)
    loaded = load_mesh(info.path)
    t1 = time.perf_counter()
    system = assemble(loaded, {name: indices[name] for name in set(loaded.element_group)}, m, pml, order)
    t2 = time.perf_counter()
    sol = solve(system, target, count + extra_modes)
    t3 = time.perf_counter()
    share = system.energy_share(sol.vectors, ("core", "wall"))
    sampler = FieldSampler(sol)
    family = (adiabatic.reference.pol, adiabatic.reference.p, adiabatic.reference.region)
    states = {md.q: md for md in adiabatic.modes}
    modes = []
    for j, kj in enumerate(sol.k):
        pol_j, p_j, region_j, q_j, ez = _label(sampler, j, window)
        partner = states.get(q_j) if (pol_j, p_j, region_j) == family and share[j] >= RESONATOR_FRACTION_MIN else None
        modes.append(ProfileModeFEM(complex(kj), pol_j, m, p_j, region_j, q_j, ez, float(share[j]), partner))
    seconds = {"adiabatic_and_mesh": t1 - t0, "assemble": t2 - t1, "solve": t3 - t2,
               "label": time.perf_counter() - t3}
    return ProfileStudy(modes, adiabatic, window, system.num_unknowns, seconds, sampler)
