"""The 1-D radial FEM as a wgmfem engine: exact seeds and labels in, FEM modes out.

For every mode the exact engine found (which fixes the question's m, p and region),
the radial FEM solves the same (pol, m) problem with a shift at the exact k and the
physical eigenvalue nearest to it becomes the FEM mode. :func:`wgmfem.fem.verify.verify`
then compares it with the exact root (labels, wavelength, Q): a mode that disagrees
beyond the tolerance is a :class:`~wgmfem.fem.verify.FEMVerificationError`, unless
unverified output was asked for, so the two engines check each other.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Integral, Real

import numpy as np

from ..errors import SearchError
from ..mode import Mode
from .radial import solve_radial
from .verify import FEMVerificationError, failure_message, resolve, verify

#: Element degrees of the 1-D engine (hierarchical Legendre elements).
ORDERS_1D = (1, 10)
#: Largest nodal points per local wavelength: beyond it the 1-D problem grows towards millions of
#: unknowns while P4 is already at double precision from ~40 (docs/fem.md).
MAX_POINTS_PER_WAVELENGTH_1D = 1e4
#: Largest PML width in outside wavelengths (the default 2 already reflects 1e-12; shared with fem2d).
MAX_PML_WIDTH_WAVELENGTHS = 20.0


def _number_in(value, lo: float, hi: float) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and lo < float(value) <= hi


def check_radial_settings(order, points_per_wavelength, pml_width_wavelengths) -> None:
    """SearchError (one line) for 1-D FEM settings outside their range."""
    if isinstance(order, bool) or not isinstance(order, Integral) or not ORDERS_1D[0] <= int(order) <= ORDERS_1D[1]:
        raise SearchError(f"FEM element order must be an integer from {ORDERS_1D[0]} to {ORDERS_1D[1]}, got {order!r}")
    if not _number_in(points_per_wavelength, 0, MAX_POINTS_PER_WAVELENGTH_1D):
        raise SearchError(f"FEM points per wavelength must be a number in (0, {MAX_POINTS_PER_WAVELENGTH_1D:g}], "
                          f"got {points_per_wavelength!r}")
    if not _number_in(pml_width_wavelengths, 0, MAX_PML_WIDTH_WAVELENGTHS):
        raise SearchError(f"FEM PML width must be a number of outside wavelengths in (0, {MAX_PML_WIDTH_WAVELENGTHS:g}], "
                          f"got {pml_width_wavelengths!r}")


def refine_with_radial_fem(
    exact_modes: list[Mode],
    order: int = 4,
    points_per_wavelength: float = 40.0,
    pml_width_wavelengths: float = 2.0,
    progress: Callable[[int, int], None] | None = None,
    *,
    tolerance: float | None = None,
    q_tolerance: float | None = None,
    unverified: bool | None = None,
) -> list[Mode]:
    """FEM counterparts of ``exact_modes`` (same order), engine ``fem1d``, each verified
    against its exact seed (:func:`wgmfem.fem.verify.verify`).

    tolerance, q_tolerance, unverified : the check (None: the enclosing
    :func:`~wgmfem.fem.verify.fem_verification` block, else the defaults, relative wavelength
    difference 1e-7). A mode that fails raises :class:`~wgmfem.fem.verify.FEMVerificationError`
    unless ``unverified``, which returns it with ``verification['verified'] = False``.
    Settings out of range raise SearchError before any solve.
    """
    check_radial_settings(order, points_per_wavelength, pml_width_wavelengths)
    policy = resolve(tolerance, q_tolerance, unverified)
    out = []
    for i, md in enumerate(exact_modes):
        fem = solve_radial(
            md.cylinder, md.pol, md.m, md.k, num_modes=6, order=int(order),
            points_per_wavelength=float(points_per_wavelength), pml={"width_wavelengths": float(pml_width_wavelengths)},
        )
        physical = fem.physical()
        j = physical[np.argmin(np.abs(fem.k[physical] - md.k))] if physical.size else int(np.argmin(np.abs(fem.k - md.k)))
        k = complex(fem.k[j])
        fractions = {name: float(f) for name, f in zip(fem.region_names, fem.layer_fractions[j])}
        region = fem.region[j]
        verification = {
            "method": "1-D radial FEM, shift-invert at the exact root",
            "seeded_by": "exact",
            "unknowns": int(fem.num_unknowns),
            "element_order": order,
            "points_per_wavelength": points_per_wavelength,
            "r_min_um": float(fem.r_min_um),
            "pml_fraction": float(fem.pml_fraction[j]),
            "spurious_pml_mode": bool(fem.is_pml_mode()[j]),
            "exact_wavelength_nm": md.wavelength_nm,
            "relative_difference_to_exact": abs(k.real / md.k.real - 1),
            "Q_relative_difference_to_exact": abs(md.k.imag / k.imag - 1) if k.imag else None,
            "region_fraction": fractions[region],
        }
        mode = md.counterpart(engine="fem1d", k=k, m=md.m, p=fem.radial_order(j), region=region,
                              energy_fractions=fractions, verification=verification)
        if not verify(mode, md, policy) and not policy.unverified:
            raise FEMVerificationError(failure_message(mode), mode)
        out.append(mode)
        if progress:
            progress(i + 1, len(exact_modes))
    return out
