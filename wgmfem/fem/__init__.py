"""Finite-element solvers (scikit-fem): 1-D radial problem and the shared radial PML."""

from .pml import RadialPML, make_pml, outer_turning_point_um, sigma0_for_reflection
from .radial import RadialFEMResult, inner_cut_radius_um, inner_turning_point_um, solve_radial, wkb_decay

__all__ = [
    "RadialPML",
    "RadialFEMResult",
    "inner_cut_radius_um",
    "inner_turning_point_um",
    "make_pml",
    "outer_turning_point_um",
    "sigma0_for_reflection",
    "solve_radial",
    "wkb_decay",
]
