"""Which (m, k-interval) boxes to census for a user's question, and the census itself.

Three questions reach the exact engine:

* *all modes in a window* (optionally an m range): one box per m over the whole
  window; boxes whose argument-principle count is zero are not searched further.
* *core modes of order p <= P in a window* (the common question, and the default
  of ``wgmfem modes``): the core alone against an infinite wall is a one-interface
  problem whose resonances k_iso(m, p) are cheap; the capillary's core modes lie
  within the core's linewidth, widened by its coupling to the discrete wall modes
  (a Fano/Breit-Wigner picture: |V| ~ sqrt(Gamma * spacing / 2 pi)), of k_iso. Only
  those narrow boxes are censused. This is how the core mode is "seeded from the
  core-against-infinite-wall problem" (PHYSICS.md 3.1) without trusting a seed:
  every box is still counted by the argument principle.
* *one family member (m, p, region) wherever it lies*: the window is set from the
  turning point of the region layer and the Airy estimate of order p, and widened
  until the mode is found.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..geometry import LayeredCylinder
from .census import CensusResult, find_roots
from .characteristic import node_count

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


def window_m_range(cyl: LayeredCylinder, k_lo: float, k_hi: float, region_index: int | None, p_max: int | None):
    """Azimuthal numbers that can hold a confined mode (of the region, of order <= p_max) in a window."""
    layers = range(cyl.n_layers) if region_index is None or region_index >= cyl.n_layers else [region_index]
    m_hi = max(math.floor(cyl.indices[j].real * cyl.radii_um[j] * k_hi) for j in layers) + 1
    if p_max is None:
        return 0, m_hi
    # the lowest m whose order-p_max mode can still reach the window from below
    m_lo = m_hi
    for j in layers:
        x_lo = cyl.indices[j].real * cyl.radii_um[j] * k_lo
        m = x_lo
        for _ in range(50):
            m = x_lo - 1.5 * airy_zero(p_max) * (max(m, 1) / 2) ** (1 / 3) - 2 * p_max - 5
        m_lo = min(m_lo, max(0, math.floor(m)))
    return m_lo, m_hi


def core_boxes(cyl, pol, k_lo, k_hi, m_values, p_max, q_min=2.0, p_min=1):
    """Boxes around the isolated-core resonances (m, p_min <= p <= p_max) that can fall in [k_lo, k_hi]."""
    core = LayeredCylinder((cyl.radii_um[0],), (cyl.indices[0],), cyl.indices[1].real, names=("core",))
    margin = 0.02 * k_hi
    # a seeding pass: the boxes it proposes are counted independently later
    iso = run_boxes(core, pol, m_values, k_lo - margin, k_hi + margin, q_min=q_min, verify=False)
    # spacing of the poles (wall resonances) near each m: the scale the core mode couples across
    m_values = np.asarray(m_values)
    n_lo, n_hi = node_count(cyl, pol, m_values, k_lo), node_count(cyl, pol, m_values, k_hi)
    spacing = dict(zip(m_values.tolist(), (k_hi - k_lo) / np.maximum(1, n_hi - n_lo)))
    boxes: dict[int, list[tuple[float, float]]] = {}
    for r in iso.roots:
        if not (p_min <= r.p <= p_max) or r.region_index != 0:
            continue
        gamma = abs(r.k.imag)
        half = max(20 * gamma, 3 * math.sqrt(gamma * spacing[r.m] / (2 * math.pi)), 1e-6 * r.k.real)
        lo, hi = max(k_lo, r.k.real - half), min(k_hi, r.k.real + half)
        if lo < hi:
            boxes.setdefault(r.m, []).append((lo, hi))
    ms, los, his = [], [], []
    for m, intervals in sorted(boxes.items()):
        for lo, hi in _merge_intervals(intervals):
            ms.append(m)
            los.append(lo)
            his.append(hi)
    return np.array(ms, int), np.array(los), np.array(his), iso


def _merge_intervals(intervals):
    merged = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def family_window(cyl: LayeredCylinder, m: int, p: int, region_index: int, widen: int = 0):
    """k interval (1/um) expected to contain the order-p mode of a region layer at azimuthal number m."""
    j = min(region_index, cyl.n_layers - 1)
    nr = cyl.indices[j].real * cyl.radii_um[j]
    k_turn = max(m, 0.5) / nr  # the turning point must lie inside the layer
    k_est = wgm_size_parameter(m, p) / nr
    k_hi = k_est + (k_est - k_turn) * (1.0 + 2.0 * widen) + (2 + p) / nr
    k_lo = k_turn if widen == 0 else max(1e-3, k_turn - (k_est - k_turn) * widen)
    return k_lo, k_hi
