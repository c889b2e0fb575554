"""The 1-D radial FEM as a wgmfem engine: exact seeds and labels in, FEM modes out.

For every mode the exact engine found (which fixes the question's m, p and region),
the radial FEM solves the same (pol, m) problem with a shift at the exact k and the
physical eigenvalue nearest to it becomes the FEM mode. Its verification record
states how far it lies from the exact root, so the two engines check each other.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..mode import Mode
from .radial import solve_radial


def refine_with_radial_fem(
    exact_modes: list[Mode],
    order: int = 4,
    points_per_wavelength: float = 40.0,
    pml_width_wavelengths: float = 2.0,
    progress: Callable[[int, int], None] | None = None,
) -> list[Mode]:
    """FEM counterparts of ``exact_modes`` (same order), engine ``fem1d``."""
    out = []
    for i, md in enumerate(exact_modes):
        fem = solve_radial(
            md.cylinder, md.pol, md.m, md.k, num_modes=6, order=order,
            points_per_wavelength=points_per_wavelength, pml={"width_wavelengths": pml_width_wavelengths},
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
            "census_ok": md.verification.get("census_ok", False) and region == md.region,
        }
        out.append(Mode(md.pol, md.m, fem.radial_order(j), region, k, md.cylinder, fractions, "fem1d", None, verification))
        if progress:
            progress(i + 1, len(exact_modes))
    return out
