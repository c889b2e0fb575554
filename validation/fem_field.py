"""The 2-D FEM solution behind Fig. 3c and 3d, solved once per process and shared.

The (p = 1, m = 600) Ez mode of the paper's capillary (54/78 um, 1.56 / 1.47, air) on a
periodic sector of the cross-section (wgmfem.fem.study2d.find_modes_2d): Floquet phase
exp(i 600 alpha) = 1 on a sector of ``periods`` azimuthal periods (alpha = 2 pi periods / 600),
curved P4 elements, inner Dirichlet cut inside the caustic, radial PML outside the
turning point. The exact mode is the reference. Units: um, nm.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

import wgmfem
from wgmfem.fem.study2d import find_modes_2d

from .common import paper_capillary

M = 600
POL = "Ez"
#: (periods, element order, points per wavelength): full run and fast run.
SETTINGS = {False: (3, 4, 18.0), True: (1, 4, 10.0)}


@dataclass
class FemField:
    """The FEM mode, its solver result, the exact mode and how long the solve took."""

    fem: wgmfem.Mode
    result: object  # wgmfem.fem.cross_section.CrossSectionResult
    exact: wgmfem.Mode
    vector: int  # index of the eigenvector shown (one of the +-m pair)
    periods: int
    seconds: float

    @property
    def sector_angle(self) -> float:
        return self.result.sector_angle

    def fem_values(self, r_um, phi) -> np.ndarray:
        """FEM field (real standing wave) at polar points (arrays of equal shape)."""
        r_um, phi = np.broadcast_arrays(np.asarray(r_um, float), np.asarray(phi, float))
        values = self.result.field(r_um * np.cos(phi), r_um * np.sin(phi), self.vector)
        return values.reshape(r_um.shape)

    def exact_fit(self, r_um, phi, fem_values) -> tuple[np.ndarray, tuple[float, float]]:
        """The exact standing wave Re R(r) (a cos m phi + b sin m phi), (a, b) fitted to the
        FEM values by least squares: the eigenvector is some real combination of the
        degenerate +-m pair, so only its phase and scale are free."""
        radial = np.real(self.exact.field(r_um))
        basis = np.stack([(radial * np.cos(M * phi)).ravel(), (radial * np.sin(M * phi)).ravel()], axis=1)
        ok = np.isfinite(fem_values.ravel())
        coef, *_ = np.linalg.lstsq(basis[ok], np.real(fem_values.ravel()[ok]), rcond=None)
        return (basis @ coef).reshape(np.shape(r_um)), (float(coef[0]), float(coef[1]))

    def radial_amplitude(self, r_um) -> np.ndarray:
        """FEM radial amplitude |R(r)| from two rays a quarter period apart: for a standing
        wave R(r) cos(m phi - c), u(phi1)^2 + u(phi1 + pi/2m)^2 = R^2 whatever c is."""
        r_um = np.asarray(r_um, float)
        phi1 = 0.3 * self.sector_angle / self.periods
        first = self.fem_values(r_um, np.full_like(r_um, phi1))
        second = self.fem_values(r_um, np.full_like(r_um, phi1 + math.pi / (2 * M)))
        return np.sqrt(np.abs(first) ** 2 + np.abs(second) ** 2)


@lru_cache(maxsize=2)
def solve(fast: bool = False) -> FemField:
    """Solve the sector once (cached per process: Fig. 3c and 3d share it)."""
    periods, order, ppw = SETTINGS[fast]
    cap = paper_capillary()
    exact = wgmfem.find_modes(cap, pol=POL, m=M, p=1, region="core", fsr=False)[0]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="wgmfem-validation-") as cache:  # meshes are not kept
        modes, result = find_modes_2d(cap, POL, M, p=1, region="core", k_target=exact.k, sector=(periods, M),
                                      order=order, points_per_wavelength=ppw, num_modes=6, cache_dir=cache,
                                      return_result=True)
    seconds = time.perf_counter() - t0
    hits = [md for md in modes if (md.m, md.p, md.region) == (M, 1, "core")]
    if not hits:
        raise RuntimeError(f"the 2-D FEM did not return the m={M} p=1 core mode: {modes}")
    fem = hits[0]
    return FemField(fem, result, exact, fem.verification["eigen_indices"][0], periods, seconds)
