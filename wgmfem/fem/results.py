"""What every FEM eigen-result has in common: complex wavenumbers k (1/um) per mode."""

from __future__ import annotations

import numpy as np

from ..units import wavelength_nm_from_k


class EigenvaluesMixin:
    """num_modes, wavelength_nm and Q from an array attribute ``k`` (1/um)."""

    k: np.ndarray

    @property
    def num_modes(self) -> int:
        return len(self.k)

    @property
    def wavelength_nm(self) -> np.ndarray:
        """Vacuum wavelength 2 pi / Re k in nm."""
        return wavelength_nm_from_k(self.k.real)

    @property
    def Q(self) -> np.ndarray:
        """Quality factor Re k / (2 |Im k|) (inf for a real k)."""
        with np.errstate(divide="ignore"):
            return self.k.real / (2.0 * np.abs(self.k.imag))
