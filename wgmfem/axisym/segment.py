"""A length of uniform layered cylinder by the axisymmetric FEM: the skew modes' cross-check.

Between electric walls at z = 0 and z = L, a skew mode of the infinite cylinder and its
mirror image (beta and -beta, degenerate) combine into a standing wave with E_r, E_phi ~
sin(beta z) and E_z ~ cos(beta z), which meets both walls when beta = q pi / L. The (r, z)
FEM on the segment must therefore find the exact skew resonance k(beta) of
:mod:`wgmfem.exact.skew` at beta = pi / L (q = 1), with nothing fitted. (At q = 0 only the
Ez family survives the walls: it is the beta = 0 resonance.)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ..fem.cross_section import load_mesh
from ..fem.pml import make_pml
from ..fem.radial import inner_cut_radius_um
from ..geometry import LayeredCylinder
from ..mode import Mode
from ..solve import find_modes
from ..units import wavelength_nm_from_k
from .defaults import DEFAULT_DECAY, DEFAULT_PML_REFLECTION, RESONATOR_FRACTION_MIN
from .mesh import SegmentWindow, build_segment_mesh, check_window_size, check_z_stretch
from .solver import assemble, solve


@dataclass
class SegmentStudy:
    """FEM eigenvalues of the segment next to the exact skew mode, with their energy share in the cylinder."""

    exact: Mode
    beta_per_um: float
    k: list[complex]
    cylinder_fraction: list[float]
    num_unknowns: int
    seconds: float

    @property
    def nearest(self) -> complex:
        """The FEM eigenvalue of a cylinder mode nearest the exact skew root."""
        ks = [k for k, f in zip(self.k, self.cylinder_fraction) if f >= RESONATOR_FRACTION_MIN]
        if not ks:
            raise ValueError("no eigenvector of the segment holds half its energy in the cylinder")
        return min(ks, key=lambda k: abs(k - self.exact.k))

    @property
    def wavelength_error(self) -> float:
        return abs(self.nearest.real / self.exact.k.real - 1)


def segment_modes_fem(cylinder: LayeredCylinder, m: int, beta_per_um: float, *, pol: str = "Ez", p: int = 1,
                      region: str | None = None, num_modes: int = 4, order: int = 3,
                      points_per_wavelength: float = 12.0, z_stretch: float = 1.0, decay: float = DEFAULT_DECAY,
                      cache_dir=None) -> SegmentStudy:
    """The segment of length pi / beta (um) solved next to the exact skew mode (pol, m, p, region) at beta
    (``z_stretch``: elements that many times longer along z than along r)."""
    if not beta_per_um > 0:
        raise ValueError("beta_per_um must be positive: the segment is pi / beta long")
    check_z_stretch(z_stretch)
    t0 = time.perf_counter()
    exact = find_modes(cylinder, pol=pol, m=m, p=p, region=region, fsr=False, beta_per_um=beta_per_um)[0]
    k = exact.k.real
    # outside, the wave travels radially with n^2 k^2 - beta^2: the PML is sized for that wavenumber
    k_radial = math.sqrt(max((cylinder.outside_index * k) ** 2 - beta_per_um**2, 0.25 * (cylinder.outside_index * k) ** 2))
    pml = make_pml(cylinder.outer_radius_um, k_radial / cylinder.outside_index, cylinder.outside_index, m,
                   reflection=DEFAULT_PML_REFLECTION)
    window = SegmentWindow(tuple(cylinder.radii_um), tuple(cylinder.region_names), inner_cut_radius_um(cylinder, m, k, math.exp(-decay)),
                           math.pi / beta_per_um, pml)
    lam_um = wavelength_nm_from_k(k) / 1000.0
    indices = dict(zip(cylinder.region_names, cylinder.indices))
    indices.update(outside=cylinder.outside_index, pml=cylinder.outside_index)
    sizes = {name: order * lam_um / (complex(n).real * points_per_wavelength) for name, n in indices.items()}
    check_window_size((window.r_end_um - window.r_min_um) * window.length_um / z_stretch, min(sizes.values()))
    info = build_segment_mesh(window, sizes, z_stretch=z_stretch, cache_dir=cache_dir)
    loaded = load_mesh(info.path)
    system = assemble(loaded, {name: indices[name] for name in set(loaded.element_group)}, m, pml, order)
    sol = solve(system, exact.k, num_modes)
    inside = tuple(n for n in cylinder.region_names if n in set(loaded.element_group))
    share = system.energy_share(sol.vectors, inside)
    return SegmentStudy(exact, beta_per_um, [complex(x) for x in sol.k], [float(s) for s in share],
                        system.num_unknowns, time.perf_counter() - t0)
