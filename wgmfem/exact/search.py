"""Which (m, k-interval) boxes to census for a user's question, and the census itself.

Every question is answered by filtering a complete census, never by a narrower search
whose completeness would depend on a guess of where the mode lives:

* *all modes in a window* (optionally an m range, a region, an order p <= P): one box
  per m. The m range follows from the window alone: a mode turns somewhere inside the
  fibre (m <= n_j r_j k for some layer j: not necessarily its region layer, which a
  hybrid guided by a thin high-index layer further out can fill with its evanescent
  tail), and a layer whose WKB phase across it exceeds (P + 3) pi at the window's lowest k
  holds more than P maxima (:func:`window_m_range`). With a region and P, each m's box is
  the part of the window that the same bounds leave (:func:`family_k_ranges`).
* *one label (m, p, region) wherever it lies*: one box per m from the lowest k at which
  a mode can turn inside the fibre to the k at which the region layer holds more than
  p maxima (:func:`family_k_ranges`); every mode in it carrying the label is returned.

Each box is counted independently by the argument principle (:mod:`wgmfem.exact.census`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..geometry import LayeredCylinder
from .census import CensusResult, find_roots
from .core_bound import core_k_floor, core_order_k_ceiling

AIRY_ZEROS = (2.33810741, 4.08794944, 5.52055983, 6.78670809, 7.94413359, 9.02265085, 10.04017434, 11.00852430)
BATCH = 48  # boxes per vectorized census call (bounds memory; gives progress steps)


def airy_zero(p: int) -> float:
    """|a_p|, the p-th zero of Ai (asymptotic formula beyond the table)."""
    if p <= len(AIRY_ZEROS):
        return AIRY_ZEROS[p - 1]
    t = 3 * math.pi / 8 * (4 * p - 1)
    return t ** (2 / 3) * (1 + 5 / 48 / t**2)


def wgm_size_parameter(m: int, p: int) -> float:
    """Leading Airy estimate of x = n k R of a WGM of order (m, p) at an interface of radius R."""
    return m + airy_zero(p) * (max(m, 1) / 2) ** (1 / 3)


def run_boxes(
    cyl: LayeredCylinder,
    pol: str,
    m,
    k_lo,
    k_hi,
    q_min: float,
    progress: Callable[[int, int], None] | None = None,
    verify: bool = True,
) -> CensusResult:
    """Census of many boxes, in batches (reports ``progress(done, total)``)."""
    m = np.atleast_1d(np.asarray(m, dtype=int))
    k_lo = np.broadcast_to(np.asarray(k_lo, dtype=float), m.shape)
    k_hi = np.broadcast_to(np.asarray(k_hi, dtype=float), m.shape)
    total = CensusResult()
    for start in range(0, m.size, BATCH):
        sl = slice(start, start + BATCH)
        part = find_roots(cyl, pol, m[sl], k_lo[sl], k_hi[sl], q_min=q_min, verify=verify)
        for r in part.roots:
            r.box += start
        total.roots.extend(part.roots)
        total.checks.extend(part.checks)
        if progress:
            progress(min(start + BATCH, m.size), m.size)
    return total


# A layer whose WKB phase at (m, k) exceeds (p + PHASE_MARGIN) pi holds more than p maxima of
# any solution (zeros lie within ~1 of phase/pi, maxima within 1 of the zeros): no mode of
# order <= p can have that layer as its region.
PHASE_MARGIN = 3


def layer_phase(cyl: LayeredCylinder, j: int, m, k) -> np.ndarray:
    """WKB phase int sqrt(n^2 k^2 - m^2 / r^2) dr over the oscillating part of layer ``j`` (rad)."""
    n = cyl.indices[j].real if isinstance(cyl.indices[j], complex) else cyl.indices[j]
    r1, r2 = cyl.layer_bounds_um(j)
    m, k = np.broadcast_arrays(np.asarray(m, dtype=float), np.asarray(k, dtype=float))
    nk = n * k

    def antiderivative(r):
        x = np.maximum(nk * r, m)  # the phase starts at the turning point r = m / (n k)
        with np.errstate(invalid="ignore", divide="ignore"):
            acos = np.where(x > 0, np.arccos(np.clip(np.divide(m, x, out=np.ones_like(x), where=x > 0), -1, 1)), 0.0)
        return np.sqrt(np.maximum(x * x - m * m, 0.0)) - m * acos

    return np.maximum(antiderivative(r2) - antiderivative(r1), 0.0)


def _real(n) -> float:
    return complex(n).real


def window_m_range(cyl: LayeredCylinder, k_lo: float, k_hi: float, region_index: int | None, p_max: int | None):
    """Azimuthal numbers that can hold a mode of the region and of order <= p_max in [k_lo, k_hi].

    Above: a confined mode turns inside the fibre (m <= n_j r_j k_hi for some layer j; a
    hybrid labelled by an inner layer may turn only in a higher-index layer outside it).
    Below: a layer whose phase at k_lo exceeds (p_max + PHASE_MARGIN) pi holds more than
    p_max maxima at every k of the window. Neither bound assumes where the mode's energy
    will turn out to be.
    """
    m_hi = max(math.floor(_real(cyl.indices[j]) * cyl.radii_um[j] * k_hi) for j in range(cyl.n_layers)) + 1
    if p_max is None or (region_index is not None and region_index >= cyl.n_layers):
        return 0, m_hi
    layers = range(cyl.n_layers) if region_index is None else [region_index]
    limit = (p_max + PHASE_MARGIN) * math.pi
    m_lo = m_hi
    for j in layers:
        lo, hi = 0, m_hi  # phase decreases with m: smallest m with phase < limit
        if layer_phase(cyl, j, lo, k_lo) < limit:
            m_lo = 0
            break
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if layer_phase(cyl, j, mid, k_lo) < limit:
                hi = mid
            else:
                lo = mid
        m_lo = min(m_lo, hi)
    return m_lo, m_hi


def family_k_ranges(cyl: LayeredCylinder, m, p_max: int, region_index: int, pol: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """k intervals (1/um) holding every mode of azimuthal number m, order <= p_max in a region layer,
    for an array of m: (k_lo, k_hi) arrays.

    From the lowest k at which a mode can turn inside the fibre (m = n_j r_j k for the layer
    with the largest n_j r_j) to the k where the region layer's phase passes
    (p_max + PHASE_MARGIN) pi (see :func:`window_m_range`). For the core of a lossless stack both
    ends are exact bounds instead (:mod:`~wgmfem.exact.core_bound`): the k below which the core
    cannot hold the most energy (with a polarization) and the k above which its field has more
    than p_max maxima.
    """
    j = region_index
    m = np.atleast_1d(np.asarray(m, dtype=float))
    k_lo = np.maximum(m, 0.5) / max(_real(cyl.indices[i]) * cyl.radii_um[i] for i in range(cyl.n_layers))
    if region_index == 0 and cyl.is_lossless:
        if pol is not None:
            k_lo = np.maximum(k_lo, core_k_floor(cyl, pol, m))
        return k_lo * (1 - 1e-9), core_order_k_ceiling(cyl, m.astype(int), p_max)
    limit = (p_max + PHASE_MARGIN) * math.pi
    hi = 2 * k_lo + 1.0
    for _ in range(200):  # the phase grows ~linearly in k: a few doublings reach the limit
        short = layer_phase(cyl, j, m, hi) < limit
        if not np.any(short):
            break
        hi = np.where(short, 2 * hi, hi)
    lo = k_lo.copy()
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        below = layer_phase(cyl, j, m, mid) < limit
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        if np.all(hi - lo < 1e-12 * hi):
            break
    return k_lo * (1 - 1e-9), hi
