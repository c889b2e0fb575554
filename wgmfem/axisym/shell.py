"""Whispering-gallery modes of a liquid-filled glass shell by the axisymmetric FEM, labelled from their fields.

A shell (a core of radius a and index n_core inside glass of outer radius b, index n_shell) is a
hollow body of revolution whose bore closes on the axis, as a microbubble's or a sealed
capillary's does, and it has a closed form (:mod:`wgmfem.exact.shell`). For azimuthal order m the
FEM finds the modes near the exact (l = m, p, pol, region) resonance on the window and mesh of the
sphere (:mod:`wgmfem.axisym.sphere`) with the core's circle as a second exact interface; each
mode is labelled from its own field as on the sphere, plus its region: the one (core or wall)
holding more of its electric energy, p counting the sign changes across that region only, as
the exact labels do. Each is matched to the exact resonance of its own label. A mode with less
than CLEAR_REGION_FRACTION of its energy in its region is a core-wall hybrid (``hybrid``): its
region is a majority label, as the exact solution's is.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, replace

from ..exact.shell import CLEAR_REGION_FRACTION, ShellError, ShellResonance, shell_resonance
from ..fem.cross_section import load_mesh
from ..units import wavelength_nm_from_k
from .defaults import DEFAULT_DECAY, LABEL_TOLERANCE, RESONATOR_FRACTION_MIN
from .fields import FieldSampler
from .mesh import build_sphere_mesh, check_window_size, region_sizes_um
from .solver import assemble, solve
from .sphere import SphereModeFEM, SphereStudy, label_mode, sphere_window

REGIONS = ("wall", "core")
_EXACT_REGION = {"wall": "shell", "core": "core"}


@dataclass(frozen=True)
class ShellModeFEM(SphereModeFEM):
    """One FEM mode of the shell: the sphere's labels plus its region (wall or core)."""

    region: str = "wall"
    region_fraction: float = 1.0  # of the electric energy in the core and the wall, the region's
    label_shared: bool = False  # another mode of the window carries the same (pol, region, p, q)

    @property
    def hybrid(self) -> bool:
        return self.region_fraction < CLEAR_REGION_FRACTION

    @property
    def label_verified(self) -> bool:
        return super().label_verified and not self.label_shared

    def to_dict(self) -> dict:
        record = super().to_dict()
        record.update(shape="shell", region=self.region, hybrid=self.hybrid, label_shared=self.label_shared)
        record["verification"]["region_energy_fraction"] = self.region_fraction
        return record


def _exact(a: float, b: float, n_core, n_shell: float, n_out: float, l: int, p: int, pol: str,  # noqa: E741
           region: str) -> ShellResonance | None:
    """The exact resonance of a FEM mode's label, or None where that label has none (or two)."""
    try:
        return shell_resonance(a, b, n_core, n_shell, l, max(p, 1), pol, n_out, region=_EXACT_REGION[region])
    except (ShellError, ValueError):
        return None


def _matched(k: complex, exact: ShellResonance | None) -> bool:
    return exact is not None and abs(k.real / exact.k_per_um.real - 1) <= LABEL_TOLERANCE


def _hybrid_region(k: complex, region: str, exact: ShellResonance | None, lookup) -> tuple[str, ShellResonance | None]:
    """A hybrid's region: the FEM weighs the electric energy, the exact labels the tangential
    field's (for TM the magnetic energy), so near 50/50 they can differ. If its own region's exact
    resonance is not this mode and the other region's is, that region; if both are within the
    tolerance (a tight anticrossing), neither: the label is ambiguous."""
    other = "wall" if region == "core" else "core"
    alternative = lookup(other)
    if _matched(k, exact) and _matched(k, alternative):
        return region, None
    if not _matched(k, exact) and _matched(k, alternative):
        return other, alternative
    return region, exact


def shell_modes_fem(inner_radius_um: float, outer_radius_um: float, core_index, shell_index: float, m: int, *,
                    pol: str = "TE", p: int = 1, region: str = "wall", outside_index: float = 1.0,
                    num_modes: int = 4, order: int = 3, points_per_wavelength: float = 12.0,
                    decay: float = DEFAULT_DECAY, axial_orders: int = 0, mirror: str | None = "auto",
                    cache_dir=None) -> SphereStudy:
    """FEM modes of azimuthal order m near the exact (l = m, p, pol, region) resonance of a shell
    (radii in um; ``region`` "wall" or "core"; ``mirror`` as for :func:`~wgmfem.axisym.sphere.sphere_modes_fem`).
    The study's modes are :class:`ShellModeFEM`."""
    if region not in REGIONS:
        raise ValueError(f"region must be one of {REGIONS}, got {region!r}")
    if mirror == "auto":
        mirror = "electric" if pol == "TE" else "magnetic"
    t0 = time.perf_counter()
    a, b = float(inner_radius_um), float(outer_radius_um)
    target = shell_resonance(a, b, core_index, shell_index, m, p, pol, outside_index, region=_EXACT_REGION[region])
    k = target.k_per_um.real
    n_max = max(float(complex(core_index).real), float(shell_index))
    window = sphere_window(b, n_max, outside_index, m, k, decay, axial_orders, half=mirror is not None,
                           core_radius_um=a)
    lam = wavelength_nm_from_k(k)
    sizes = region_sizes_um(lam, float(shell_index), outside_index, order, points_per_wavelength)
    sizes["core"] = region_sizes_um(lam, float(complex(core_index).real), outside_index, order,
                                    points_per_wavelength)["body"]
    check_window_size((window.r_end_um - window.r_min_um) * (window.z_max_um - window.z_min_um), min(sizes.values()))
    loaded = load_mesh(build_sphere_mesh(window, sizes, cache_dir=cache_dir).path)
    t1 = time.perf_counter()
    indices = {"core": core_index, "body": shell_index, "outside": outside_index, "pml": outside_index}
    system = assemble(loaded, indices, m, window.pml, order, mirror)
    t2 = time.perf_counter()
    sol = solve(system, target.k_per_um, num_modes)
    t3 = time.perf_counter()
    sampler = FieldSampler(sol)
    in_core = system.energy_share(sol.vectors, ("core",))
    inside = in_core + system.energy_share(sol.vectors, ("body",))
    modes = []
    for j, kj in enumerate(sol.k):
        core_fraction = float(in_core[j] / inside[j]) if inside[j] > 0 else 0.0
        region_j = "core" if core_fraction > 0.5 else "wall"
        pol_j, p_j, q_j, share = label_mode(sampler, j, window, mirror, "core" if region_j == "core" else "body")
        exact = None
        if inside[j] >= RESONATOR_FRACTION_MIN:
            def lookup(name: str, q=q_j, p=p_j, pol=pol_j) -> ShellResonance | None:
                return _exact(a, b, core_index, shell_index, outside_index, m + q, p, pol, name)

            exact = lookup(region_j)
            if min(core_fraction, 1 - core_fraction) > 1 - CLEAR_REGION_FRACTION:
                region_j, exact = _hybrid_region(complex(kj), region_j, exact, lookup)
        fraction = core_fraction if region_j == "core" else 1 - core_fraction
        modes.append(ShellModeFEM(complex(kj), pol_j, m, p_j, q_j, share, float(inside[j]), exact, region_j, fraction))
    counts = Counter((md.pol, md.region, md.p, md.q) for md in modes if md.is_resonator_mode)
    modes = [replace(md, label_shared=md.is_resonator_mode and counts[(md.pol, md.region, md.p, md.q)] > 1)
             for md in modes]
    t4 = time.perf_counter()
    seconds = {"mesh": t1 - t0, "assemble": t2 - t1, "solve": t3 - t2, "label": t4 - t3}
    return SphereStudy(modes, system.num_unknowns, window, seconds, order, mirror, sampler)

