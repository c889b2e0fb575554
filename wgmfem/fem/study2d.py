"""The 2-D cross-section FEM for studies of the discretization (convergence, validation
figures): one shift-invert solve with any :func:`~wgmfem.fem.cross_section.solve_cross_section`
keyword, every physical mode found near the target as a :class:`~wgmfem.mode.Mode` with the
engine's verification record (:func:`wgmfem.fem.engine2d.modes_from_result`). Users go through
``wgmfem.find_modes(engine="fem2d")``, which checks each mode against its exact seed.
"""

from __future__ import annotations

from ..geometry import LayeredCylinder
from ..polarization import normalize_pol
from ..solve import find_modes
from .cross_section import solve_cross_section
from .engine2d import modes_from_result
from .identify import DEFAULT_PAIR_TOLERANCE, identify
from .radial import DEFAULT_MAX_PML_FRACTION


def find_modes_2d(
    cylinder: LayeredCylinder,
    pol: str,
    m: int,
    p: int = 1,
    region: str = "core",
    *,
    k_target: complex | None = None,
    pair_tolerance: float = DEFAULT_PAIR_TOLERANCE,
    max_pml_fraction: float = DEFAULT_MAX_PML_FRACTION,
    return_result: bool = False,
    **solver_kwargs,
):
    """Modes of the 2-D cross-section near the (pol, m, p, region) resonance, for studies of
    the discretization.

    The shift is ``k_target`` (1/um) or, by default, the exact resonance of the
    *unperturbed* layered cylinder (``wgmfem.find_modes``); perturbations and the
    discretization are keywords of :func:`solve_cross_section` (``sector``, ``order``,
    ``points_per_wavelength``, ``bore_offset_um``, ``inner_ellipticity``, ...).
    Returns every physical mode found (:func:`modes_from_result`: not only the one asked
    for), nearest first; with ``return_result`` also the :class:`CrossSectionResult`.
    """
    pol = normalize_pol(pol)
    if k_target is None:
        exact = find_modes(cylinder, pol=pol, m=m, p=p, region=region)
        if not exact:
            raise ValueError(f"the exact solver found no {pol} m={m} p={p} {region} mode to seed the search")
        k_target = exact[0].k
        if solver_kwargs.get("outer_boundary", "pml") != "pml":
            k_target = complex(k_target.real)
    result = solve_cross_section(cylinder, pol, k_target, m=m, **solver_kwargs)
    modes = modes_from_result(result, identify(result, max_pml_fraction), pair_tolerance)
    return (modes, result) if return_result else modes
