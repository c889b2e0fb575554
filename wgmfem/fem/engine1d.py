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
from dataclasses import dataclass, replace
from numbers import Integral, Real

import numpy as np

from ..mode import Mode
from .radial import solve_radial
from .verify import FEMVerificationError, check_tolerance, failure_message, reported_q_difference, resolve, verify

#: Element degrees of the 1-D engine (hierarchical Legendre elements).
ORDERS_1D = (1, 10)
#: Largest nodal points per local wavelength: beyond it the 1-D problem grows towards millions of
#: unknowns while P4 is already at double precision from ~40 (docs/fem.md).
MAX_POINTS_PER_WAVELENGTH_1D = 1e4
#: Largest PML width in outside wavelengths (the default 2 already reflects 1e-12; shared with fem2d).
MAX_PML_WIDTH_WAVELENGTHS = 20.0


def _number_in(value, lo: float, hi: float) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and lo < float(value) <= hi


@dataclass(frozen=True)
class RadialSettings:
    """Settings of the ``fem1d`` engine.

    order : degree of the hierarchical Legendre elements, 1-10. points_per_wavelength : nodal
    points per local wavelength lambda/n (P4 reaches double precision from ~40).
    pml_width_wavelengths : PML width in outside wavelengths. tolerance, q_tolerance,
    unverified : the check against the exact seed (None: the enclosing
    :func:`~wgmfem.fem.verify.fem_verification` block, else the defaults: relative
    wavelength difference 1e-7, Q 1e-2 where resolved, a failing mode raises).
    """

    order: int = 4
    points_per_wavelength: float = 40.0
    pml_width_wavelengths: float = 2.0
    tolerance: float | None = None
    q_tolerance: float | None = None
    unverified: bool | None = None

    def check(self) -> None:
        """ValueError with a one-line message for settings no solve can use."""
        order = self.order
        if isinstance(order, bool) or not isinstance(order, Integral) or not ORDERS_1D[0] <= int(order) <= ORDERS_1D[1]:
            raise ValueError(f"FEM element order must be an integer from {ORDERS_1D[0]} to {ORDERS_1D[1]}, got {order!r}")
        if not _number_in(self.points_per_wavelength, 0, MAX_POINTS_PER_WAVELENGTH_1D):
            raise ValueError(f"FEM points per wavelength must be a number in (0, {MAX_POINTS_PER_WAVELENGTH_1D:g}], "
                             f"got {self.points_per_wavelength!r}")
        if not _number_in(self.pml_width_wavelengths, 0, MAX_PML_WIDTH_WAVELENGTHS):
            raise ValueError(f"FEM PML width must be a number of outside wavelengths in "
                             f"(0, {MAX_PML_WIDTH_WAVELENGTHS:g}], got {self.pml_width_wavelengths!r}")
        check_tolerance(self.tolerance, "FEM tolerance")
        check_tolerance(self.q_tolerance, "FEM Q tolerance")
        if self.unverified not in (None, True, False):
            raise ValueError(f"unverified must be True, False or None, got {self.unverified!r}")


def as_radial_settings(value) -> RadialSettings:
    """A :class:`RadialSettings` from None, a dict of its fields, or itself."""
    if value is None:
        return RadialSettings()
    if isinstance(value, RadialSettings):
        return value
    return replace(RadialSettings(), **dict(value))


def refine_with_radial_fem(
    exact_modes: list[Mode],
    settings: RadialSettings | dict | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Mode]:
    """FEM counterparts of ``exact_modes`` (same order), engine ``fem1d``, each verified
    against its exact seed (:func:`wgmfem.fem.verify.verify`).

    A mode that fails raises :class:`~wgmfem.fem.verify.FEMVerificationError` unless the
    settings (or the enclosing :func:`~wgmfem.fem.verify.fem_verification` block) ask for
    unverified output, which returns it with ``verification['verified'] = False``.
    Settings out of range raise ValueError before any solve.
    """
    settings = as_radial_settings(settings)
    settings.check()
    order, points = int(settings.order), float(settings.points_per_wavelength)
    policy = resolve(settings.tolerance, settings.q_tolerance, settings.unverified)
    out = []
    for i, md in enumerate(exact_modes):
        fem = solve_radial(
            md.cylinder, md.pol, md.m, md.k, num_modes=6, order=order,
            points_per_wavelength=points, pml={"width_wavelengths": float(settings.pml_width_wavelengths)},
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
            "points_per_wavelength": points,
            "r_min_um": float(fem.r_min_um),
            "pml_fraction": float(fem.pml_fraction[j]),
            "spurious_pml_mode": bool(fem.is_pml_mode()[j]),
            "exact_wavelength_nm": md.wavelength_nm,
            "relative_difference_to_exact": abs(k.real / md.k.real - 1),
            "region_fraction": fractions[region],
        }
        mode = md.counterpart(engine="fem1d", k=k, m=md.m, p=fem.radial_order(j), region=region,
                              energy_fractions=fractions, verification=verification)
        # the Q as reported (with the FEM's own energy fractions in a dispersive stack's factor F)
        mode.verification["Q_relative_difference_to_exact"] = reported_q_difference(mode, md)
        if not verify(mode, md, policy) and not policy.unverified:
            raise FEMVerificationError(failure_message(mode), mode)
        out.append(mode)
        if progress:
            progress(i + 1, len(exact_modes))
    return out
