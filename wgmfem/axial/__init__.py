"""Axial (z) equation of slowly varying capillaries: profiles along z and their axial states."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import AxialError
from .profile import AxialProfile, ProfileError, profile_from_spec, read_profile

if TYPE_CHECKING:
    from .equation import AxialPML, AxialSolution, make_axial_pml, solve_axial_equation

#: Loaded on first use (scipy's sparse solvers, interpolation and scikit-fem): the command
#: line catches AxialError and ProfileError without them.
_FROM_EQUATION = ("AxialPML", "AxialSolution", "make_axial_pml", "solve_axial_equation")

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


def __getattr__(name: str) -> object:
    if name in _FROM_EQUATION:
        from . import equation

        return getattr(equation, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
