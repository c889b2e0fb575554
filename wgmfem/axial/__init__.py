"""Axial (z) equation of slowly varying capillaries: profiles along z and their axial states."""

from .equation import AxialError, AxialPML, AxialSolution, make_axial_pml, solve_axial_equation
from .profile import AxialProfile, ProfileError, profile_from_spec, read_profile

__all__ = [
    "AxialError",
    "AxialPML",
    "AxialProfile",
    "AxialSolution",
    "ProfileError",
    "make_axial_pml",
    "profile_from_spec",
    "read_profile",
    "solve_axial_equation",
]
