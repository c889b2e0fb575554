"""2-D finite-element modes near one resonance, as :class:`~wgmfem.mode.Mode` objects.

For studies of the 2-D discretization (validation figures, convergence tests): one shift-invert
solve of the cross-section at a target (by default the exact resonance of the unperturbed
cylinder), every physical mode found labelled by :func:`wgmfem.fem.identify.identify`. The
engine behind ``wgmfem.find_modes(engine="fem2d")`` is :mod:`wgmfem.fem.engine2d`.
"""

from __future__ import annotations

import numpy as np

from ..geometry import LayeredCylinder
from ..mode import Mode
from ..polarization import normalize_pol
from ..units import wavelength_nm_from_k
from .cross_section import CrossSectionResult, solve_cross_section
from .identify import DEFAULT_PAIR_TOLERANCE, ModeLabel, group_pairs, identify
from .radial import DEFAULT_MAX_PML_FRACTION


def _wavelength_nm(k: complex) -> float:
    return float(wavelength_nm_from_k(k.real))


def to_modes(
    result: CrossSectionResult,
    labels: list[ModeLabel] | None = None,
    pair_tolerance: float = DEFAULT_PAIR_TOLERANCE,
) -> list[Mode]:
    """:class:`wgmfem.Mode` objects (engine ``fem2d``), one per +-m pair, sorted by |k - k_target|."""
    labels = identify(result) if labels is None else labels
    modes = []
    for group in group_pairs(labels, pair_tolerance):
        ks = [lb.k for lb in group]
        head = group[0]
        fractions = {nm: float(np.mean([lb.fractions[nm] for lb in group])) for nm in head.fractions}
        verification = dict(
            method=f"2-D cross-section FEM (scikit-fem, {result.geometry_label})",
            unknowns=int(result.num_unknowns),
            element_order=int(result.order),
            purity=float(min(lb.purity for lb in group)),
            region_fractions=fractions,
            pml_fraction=float(max(lb.pml_fraction for lb in group)),
            mesh_path=str(result.mesh_info.path),
            sector_angle_rad=result.sector_angle,
            eigen_indices=[lb.index for lb in group],
            pair=len(group) == 2,
            k_pair=[complex(k) for k in ks],
            splitting_nm=abs(_wavelength_nm(ks[0]) - _wavelength_nm(ks[-1])),
            linear_solver=result.linear_solver,
            residual=result.max_residual([lb.index for lb in group]),
        )
        modes.append(
            Mode(
                pol=result.pol,
                m=head.m,
                p=head.p,
                region=head.region,
                k=complex(np.mean(ks)),
                cylinder=result.cylinder,
                energy_fractions=fractions,
                engine="fem2d",
                verification=verification,
            )
        )
    modes.sort(key=lambda md: abs(md.k - result.k_target))
    return modes


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
    """Modes of the 2-D cross-section near the (pol, m, p, region) resonance.

    The shift is ``k_target`` (1/um) or, by default, the exact resonance of the
    *unperturbed* layered cylinder (``wgmfem.find_modes``); perturbations and the
    discretization are keywords of :func:`solve_cross_section` (``sector``, ``order``,
    ``points_per_wavelength``, ``bore_offset_um``, ``inner_ellipticity``, ...).
    Returns every physical mode found (not only the one asked for), nearest first;
    with ``return_result`` also the :class:`CrossSectionResult`.
    """
    pol = normalize_pol(pol)
    if k_target is None:
        from ..solve import find_modes

        exact = find_modes(cylinder, pol=pol, m=m, p=p, region=region)
        if not exact:
            raise ValueError(f"the exact solver found no {pol} m={m} p={p} {region} mode to seed the search")
        k_target = exact[0].k
        if solver_kwargs.get("outer_boundary", "pml") != "pml":
            k_target = complex(k_target.real)
    result = solve_cross_section(cylinder, pol, k_target, m=m, **solver_kwargs)
    modes = to_modes(result, identify(result, max_pml_fraction), pair_tolerance)
    return (modes, result) if return_result else modes
