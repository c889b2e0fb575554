"""Known resonances re-found from good seeds: Newton's method and the census's own labels.

When a mode's wavelength is already known to ~1e-5 (a neighbouring geometry, a smooth
family in m), a census box is more than is needed to find it again: Newton's method on the
analytic, pole-free characteristic function (exact derivative) converges in a few steps
(~0.7 ms a mode, vectorized), and the root's labels (radial order p, region, energy fractions) are computed
with the same function the census uses. A root whose labels differ from those asked for
is reported as not found, never substituted: the caller then falls back to a census.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry import LayeredCylinder
from .census import ACCEPT_RESIDUAL, polish_roots, relative_residual
from .energy import label_modes


@dataclass
class Tracked:
    """Roots found from seeds (arrays over the seeds)."""

    k: np.ndarray  # complex wavenumber, 1/um
    p: np.ndarray  # radial order in the region layer
    region_index: np.ndarray  # layer holding the most energy (n_layers = outside)
    fractions: np.ndarray  # (n_layers + 1, n): energy fraction per region
    converged: np.ndarray  # the iteration converged (last step below 1e-15 relative, or at rounding)

    def matches(self, p, region_index) -> np.ndarray:
        """Converged with the asked labels."""
        return self.converged & (self.p == np.asarray(p)) & (self.region_index == np.asarray(region_index))


def track_roots(cyl: LayeredCylinder, pol: str, m, k_seed) -> Tracked:
    """The roots of a lossless stack nearest the real seeds ``k_seed`` (1/um), with their labels."""
    m = np.atleast_1d(np.asarray(m, dtype=int))
    seed = np.atleast_1d(np.asarray(k_seed, dtype=float)).astype(complex)
    if not cyl.is_lossless:
        raise ValueError("track_roots works on lossless stacks")
    if m.size == 0:
        empty = np.zeros(0)
        return Tracked(empty.astype(complex), empty.astype(int), empty.astype(int), np.zeros((cyl.n_layers + 1, 0)), empty.astype(bool))
    with np.errstate(all="ignore"):  # a seed far from any root may overflow on the way: not converged
        k, converged = polish_roots(cyl, pol, m, seed, pole_free=True)
    # Newton stops when a step is below 1e-15 relative or stops shrinking at rounding; the residual
    # test of the census (|F/F'| / |k|) tells a root from a stall next to a close pair of roots
    ok = converged & np.isfinite(k) & (k.real > 0)
    if np.any(ok):
        with np.errstate(all="ignore"):
            ok[ok] = relative_residual(cyl, pol, m[ok], k[ok]) < ACCEPT_RESIDUAL
    k_real = np.where(ok, k.real, seed.real)
    with np.errstate(all="ignore"):
        labels = label_modes(cyl, pol, m, k_real)
    return Tracked(k, labels.p, labels.region_index, labels.fractions, ok)
