"""Vacuum wavelength (nm) <-> wavenumber k = 2 pi / lambda (1/um): the interface speaks
nanometres, the solvers micrometres."""

from __future__ import annotations

import math

NM_PER_UM = 1e3


def k_from_wavelength_nm(wavelength_nm):
    """k in 1/um of a vacuum wavelength in nm (scalars or arrays)."""
    return 2 * math.pi * NM_PER_UM / wavelength_nm


def wavelength_nm_from_k(k_per_um):
    """Vacuum wavelength in nm of a real wavenumber in 1/um (scalars or arrays)."""
    return 2 * math.pi * NM_PER_UM / k_per_um


def wavelength_nm_per_k(k_per_um):
    """d lambda / d k in nm um: how far (nm) the vacuum wavelength moves per 1/um of k."""
    return -2 * math.pi * NM_PER_UM / k_per_um**2


class ComplexWavenumber:
    """Wavelength and Q of a mode record with a complex ``k_per_um`` (1/um, Im k < 0: decaying)."""

    k_per_um: complex

    @property
    def wavelength_nm(self) -> float:
        return wavelength_nm_from_k(self.k_per_um.real)

    @property
    def Q(self) -> float:
        """Re k / (2 |Im k|); negative for a growing mode, infinite for a real k."""
        im = -self.k_per_um.imag
        return math.inf if im == 0 else self.k_per_um.real / (2 * im)
