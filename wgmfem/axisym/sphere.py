"""Whispering-gallery modes of a dielectric sphere by the axisymmetric FEM, labelled from their fields.

The sphere is where the axisymmetric engine meets a closed form (:mod:`wgmfem.exact.sphere`):
for azimuthal order m it finds the modes of polar order l = m + q (q = 0, 1, ... the
axial order), each labelled (pol, m, p, q) from its own field and matched to the exact
resonance of that label.

Window: the (r, z) rectangle where the modes with q <= ``axial_orders`` have not decayed
by e^-decay. Inside the caustic nu / (n k) (nu = l + 1/2) the radial function falls like
exp(-nu (artanh s - s)), s = sqrt(1 - (n k r / nu)^2) (Debye); away from the equator the
angular function falls like the Gaussian exp(-l psi^2 / 2) of the elevation psi, times a
Hermite polynomial of degree q.

Every eigenpair first gets the share of its electric energy inside the sphere: below
one half it is a standing wave of the truncated window's outside region (Q ~ 10), not a
mode of the sphere, and is not labelled. The others get labels from the field (never from
the eigenvalue's position):

* pol: TE if the axial component E_z carries more of the electric energy inside the
  sphere than the radial E_r (at the equator TE's field is polar, i.e. along z), else TM;
* p: one more than the sign changes of the dominant component (E_z for TE, E_r for TM)
  along r inside the sphere, at the height of the field's maximum;
* q: sign changes of the dominant component along the arc
  through the field's maximum; on a half window, twice those above the mirror plus one
  if the mirror makes that component odd.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..exact.sphere import sphere_resonance
from ..fem.cross_section import load_mesh
from ..fem.pml import make_pml
from ..units import ComplexWavenumber, wavelength_nm_from_k
from .defaults import (
    DEFAULT_DECAY,
    DEFAULT_PML_REFLECTION,
    LABEL_TOLERANCE,
    RESOLVED_Q_MAX,
    RESONATOR_FRACTION_MIN,
)
from .fields import FieldSampler, axial_share_and_peak, real_sign_changes
from .mesh import SphereWindow, build_sphere_mesh, check_window_size, region_sizes_um
from .solver import assemble, solve


def caustic_cut_um(l: int, k_per_um: float, index: float, decay: float) -> float:  # noqa: E741
    """Radius (um) inside the caustic where the order-l radial function has fallen by e^-decay."""
    nu = l + 0.5
    lo, hi = 1e-9, 1.0 - 1e-12  # s in (0, 1); nu (artanh s - s) increases with s
    for _ in range(100):
        s = 0.5 * (lo + hi)
        lo, hi = (s, hi) if nu * (math.atanh(s) - s) < decay else (lo, s)
    return math.sqrt(1.0 - s * s) * nu / (index * k_per_um)


def sphere_window(radius_um: float, index: float, outside_index: float, l: int, k_per_um: float,  # noqa: E741
                  decay: float = DEFAULT_DECAY, axial_orders: int = 0, half: bool = False,
                  reflection: float = DEFAULT_PML_REFLECTION, core_radius_um: float = 0.0) -> SphereWindow:
    """The window around the equator for the modes of order l (and up to ``axial_orders`` more);
    ``index``: the highest index inside (it sets the innermost caustic)."""
    pml = make_pml(radius_um, k_per_um, outside_index, l, reflection=reflection)
    r_min = caustic_cut_um(l, k_per_um, index, decay)
    psi = math.sqrt((2 * decay + 2 * axial_orders + 1) / l)
    z_max = min(radius_um * math.sin(min(psi, 1.2)), 0.95 * radius_um)
    return SphereWindow(radius_um, r_min, pml.r_end_um, z_max, pml, half, core_radius_um)


@dataclass(frozen=True)
class SphereModeFEM(ComplexWavenumber):
    """One FEM mode of the sphere, its label from the field and the exact resonance of that label."""

    k_per_um: complex
    pol: str
    m: int
    p: int
    q: int
    te_share: float  # E_z share of (E_z + E_r) energy inside the sphere
    body_fraction: float  # electric energy inside the sphere over all outside the PML
    exact: ComplexWavenumber | None  # the exact resonance of the label (a sphere's, or a shell's)

    @property
    def is_resonator_mode(self) -> bool:
        return self.body_fraction >= RESONATOR_FRACTION_MIN

    @property
    def q_resolved(self) -> bool:
        """Whether the FEM resolves Q (else |Q| is only known to exceed :data:`RESOLVED_Q_MAX`)."""
        return abs(self.Q) <= RESOLVED_Q_MAX

    @property
    def label_verified(self) -> bool:
        """A resonator mode whose wavelength lies within :data:`LABEL_TOLERANCE` of the exact
        resonance of its own label, and whose resolved Q is that of a decaying mode."""
        return (self.is_resonator_mode and self.exact is not None and self.wavelength_error <= LABEL_TOLERANCE
                and (self.Q > 0 or not self.q_resolved))

    @property
    def l(self) -> int:  # noqa: E743
        return self.m + self.q

    @property
    def wavelength_error(self) -> float:
        """Relative error of the wavelength against the exact resonance of the same label."""
        return math.nan if self.exact is None else abs(self.k_per_um.real / self.exact.k_per_um.real - 1)

    @property
    def q_error(self) -> float:
        return math.nan if self.exact is None else abs(self.Q / self.exact.Q - 1)

    def to_dict(self) -> dict:
        """A JSON-ready record: wavelength in nm, k in 1/um; ``Q_rad`` is None where the FEM does not
        resolve it (``Q_rad_lower_bound`` then holds the bound); the exact resonance of the label beside it."""
        record: dict[str, object] = {
            "engine": "axisym", "shape": "sphere", "pol": self.pol, "family": "Ez" if self.pol == "TE" else "Hz",
            "m": self.m, "l": self.l, "p": self.p, "q": self.q,
            "wavelength_nm": self.wavelength_nm, "k_real": self.k_per_um.real, "k_imag": self.k_per_um.imag,
            "Q_rad": self.Q if self.q_resolved else None,
            "Q_rad_lower_bound": None if self.q_resolved else RESOLVED_Q_MAX,
            "resonator_mode": self.is_resonator_mode,
            "label_verified": self.label_verified,
            "verification": {"body_energy_fraction": self.body_fraction, "te_share": self.te_share},
        }
        if self.exact is not None:
            record["exact"] = {"wavelength_nm": self.exact.wavelength_nm, "Q_rad": self.exact.Q,
                               "wavelength_error": self.wavelength_error,
                               "Q_error": self.q_error if self.q_resolved else None}
        return record


def label_mode(sampler: FieldSampler, j: int, window: SphereWindow, mirror: str | None,
               region: str = "body") -> tuple[str, int, int, float]:
    """(pol, p, q, te_share) of eigenvector j from its field, p counted across ``region``: "body"
    (the sphere, or a shell's glass) or "core" (a shell's core)."""
    a, core = window.radius_um, window.core_radius_um
    r = np.linspace(window.r_min_um, a, 100)[1:-1]
    z = np.linspace(window.z_min_um, window.z_max_um, 61)[1:-1]
    rr, zz = np.meshgrid(r, z)
    grid = np.vstack((rr.ravel(), zz.ravel()))
    inside = np.hypot(grid[0], grid[1]) < a
    te_share, r_peak, z_peak = axial_share_and_peak(sampler, j, grid[:, inside])
    pol = "TE" if te_share > 0.5 else "TM"
    # p: sign changes of the dominant component along r at the peak's height, inside the region of the peak
    dominant = 1 if pol == "TE" else 0
    r_top = math.sqrt(max(a * a - z_peak * z_peak, 0.0))
    r_core = math.sqrt(max(core * core - z_peak * z_peak, 0.0))
    lo, hi = (window.r_min_um, r_core) if region == "core" else (max(window.r_min_um, r_core), r_top)
    line = np.vstack((np.linspace(lo, hi, 400)[1:-1], np.full(398, z_peak)))
    p = 1 + real_sign_changes(sampler.components(j, line)[dominant])
    # q: sign changes of the dominant component along the arc through the peak
    rho = math.hypot(r_peak, z_peak)
    top = math.asin(min(window.z_max_um / rho, 1.0))
    psi = np.linspace(0.0 if window.half else -top, top, 400)[1:-1]
    arc = np.vstack((rho * np.cos(psi), rho * np.sin(psi)))
    keep = arc[0] > window.r_min_um
    nodes = real_sign_changes(sampler.components(j, arc[:, keep])[dominant])
    if window.half:
        odd = (mirror == "magnetic") if pol == "TE" else (mirror == "electric")
        q = 2 * nodes + int(odd)
    else:
        q = nodes
    return pol, p, q, te_share


@dataclass
class SphereStudy:
    """A solved sphere window: its modes, the unknowns and where the time went."""

    modes: Sequence[SphereModeFEM]
    num_unknowns: int
    window: SphereWindow
    seconds: dict
    order: int
    mirror: str | None
    fields: FieldSampler  # (E_r, E_z, E_phi) of every mode at any point of the window


def sphere_modes_fem(radius_um: float, index: float, m: int, *, pol: str = "TE", p: int = 1,
                     outside_index: float = 1.0, num_modes: int = 4, order: int = 3,
                     points_per_wavelength: float = 12.0, decay: float = DEFAULT_DECAY,
                     axial_orders: int = 0, mirror: str | None = "auto", cache_dir=None) -> SphereStudy:
    """FEM modes of azimuthal order m near the exact (l = m, p, pol) resonance of a sphere.

    mirror : solve on z >= 0 only with an ``"electric"`` or ``"magnetic"`` wall on the
    equatorial plane (the modes of one parity: TE with even q has an electric wall);
    ``"auto"`` takes the wall of the target's parity, None the full window.
    """
    if mirror == "auto":
        mirror = "electric" if pol == "TE" else "magnetic"
    t0 = time.perf_counter()
    target = sphere_resonance(radius_um, index, m, p, pol, outside_index)
    k = target.k_per_um.real
    window = sphere_window(radius_um, index, outside_index, m, k, decay, axial_orders, half=mirror is not None)
    sizes = region_sizes_um(wavelength_nm_from_k(k), index, outside_index, order, points_per_wavelength)
    check_window_size((window.r_end_um - window.r_min_um) * (window.z_max_um - window.z_min_um), sizes["body"])
    info = build_sphere_mesh(window, sizes, cache_dir=cache_dir)
    loaded = load_mesh(info.path)
    t1 = time.perf_counter()
    system = assemble(loaded, {"body": index, "outside": outside_index, "pml": outside_index}, m, window.pml,
                      order, mirror)
    t2 = time.perf_counter()
    sol = solve(system, target.k_per_um, num_modes)
    t3 = time.perf_counter()
    modes = []
    sampler = FieldSampler(sol)
    body = system.energy_share(sol.vectors, ("body",))
    for j, kj in enumerate(sol.k):
        pol_j, p_j, q_j, share = label_mode(sampler, j, window, mirror)
        exact = None
        if body[j] >= RESONATOR_FRACTION_MIN:
            try:
                exact = sphere_resonance(radius_um, index, m + q_j, max(p_j, 1), pol_j, outside_index)
            except (RuntimeError, ValueError):
                exact = None
        modes.append(SphereModeFEM(complex(kj), pol_j, m, p_j, q_j, share, float(body[j]), exact))
    t4 = time.perf_counter()
    seconds = {"mesh": t1 - t0, "assemble": t2 - t1, "solve": t3 - t2, "label": t4 - t3}
    return SphereStudy(modes, system.num_unknowns, window, seconds, order, mirror, sampler)
