"""Where a mode labelled core can be: proven lower and upper ends of the k boxes of a core census.

Lower end (:func:`core_k_floor`): where the core cannot hold the largest share of the energy.
Upper end (:func:`core_order_k_ceiling`): where the core's field has more maxima than the
largest order asked for.

A census for core modes must reach every (m, k) at which a mode *labelled* core can exist, not
only those at which a mode turns inside the core: a hybrid guided by a higher-index layer
further out can keep most of its energy in its evanescent tail inside the core. Where the core
and the layers just outside it are all evanescent, though, the field only grows outwards, and
the energy the core can hold is bounded by what the next layers must hold. This module turns
that into a k below which no mode of order m can be labelled core (the labels take the region
with the most electric energy, :mod:`wgmfem.exact.energy`).

The bound (real indices, real k, m > n_0 k a with a the core radius; docs/theory.md section 5):

* in the core the field is R = J_m(n_0 k r) > 0, and y = r R'/R obeys the Riccati equation
  y' = z^2/r - y^2/r with z = sqrt(m^2 - (n_0 k r)^2). y starts at m above z, cannot cross z
  (where y = z, y' = 0 > z'), and cannot rise above m (where y = m, y' < 0). So
  s <= z <= y <= m with s = z(a), which gives R(r) <= R(a) (r / a)^s and R' <= m R / r;
* electric energy in the core, per R(a)^2: Ez (density n^2 R^2) at most n_0^2 a^2 / (2 s + 2);
  Hz (density (R'^2 + m^2 R^2 / r^2) / n^2) at most m^2 / (n_0^2 s);
* outside the core R and R' stay positive (R' is continuous for Ez, R' / n^2 for Hz) and R
  keeps growing through every layer up to the first turning point r_t (n(r) k r = m), since
  (r R')' = (m^2 / r - n^2 k^2 r) R > 0 there: R >= R(a) on [a, r_t]. The part of layer j
  between its inner radius r_- and min(r_j, r_t) holds at least, per R(a)^2,
  Ez: n_j^2 (r_+^2 - r_-^2) / 2, Hz: m^2 ln(r_+ / r_-) / n_j^2.

The core cannot be the region where its bound is below the largest of those, divided by
``SAFETY``. The ratio of the two grows with k (s falls, r_t moves in), so for each m there is one
k below which the core is excluded: :func:`core_k_floor`. A higher-index layer next to the core
turns the field at once (r_t = a): no layer then gives a lower bound, and nothing is excluded.
"""

from __future__ import annotations

import numpy as np

from ..geometry import LayeredCylinder
from .bessel import bessel_phase, scaled_jy
from .census import newton_bracketed

# The bound is proven; the factor keeps rounding in the computed energies (1e-13) far from
# deciding a label, and moves the floor by a fraction of one m (tests/test_core_bound.py).
SAFETY = 2.0


def core_energy_ratio_bound(cyl: LayeredCylinder, pol: str, m, k) -> np.ndarray:
    """Upper bound on (core energy) / (energy of the fullest other layer) of any field regular on
    the axis, at real ``k`` (1/um) and azimuthal number ``m`` (arrays broadcast); real parts of
    the indices. ``inf`` where no bound holds (m <= n_0 k a, or no evanescent layer next to the core)."""
    m, k = np.broadcast_arrays(np.asarray(m, dtype=float), np.asarray(k, dtype=float))
    n = [complex(value).real for value in cyl.indices]
    a = cyl.radii_um[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sqrt(np.maximum(m * m - (n[0] * k * a) ** 2, 0.0))
        core = n[0] ** 2 * a * a / (2 * s + 2) if pol == "Ez" else m * m / (n[0] ** 2 * s)
        other = np.zeros(m.shape)
        evanescent = s > 0
        for j in range(1, cyl.n_layers):
            r_minus, r_j = cyl.radii_um[j - 1], cyl.radii_um[j]
            r_plus = np.minimum(r_j, m / (n[j] * k))  # the layer's turning point, if inside it
            holds = evanescent & (r_plus > r_minus)
            if pol == "Ez":
                part = n[j] ** 2 * (r_plus**2 - r_minus**2) / 2
            else:
                part = m * m * np.log(r_plus / r_minus) / n[j] ** 2
            other = np.where(holds, np.maximum(other, part), other)
            evanescent = evanescent & (r_plus >= r_j)  # the field grows on into the next layer
        return np.where(other > 0, core / np.where(other > 0, other, 1.0), np.inf)


def core_k_floor(cyl: LayeredCylinder, pol: str, m) -> np.ndarray:
    """Per m, a k (1/um) below which no mode of polarization ``pol`` holds the most electric energy
    in the core (:func:`core_energy_ratio_bound` below 1 / SAFETY); 0 where nothing is excluded.
    Lossless stacks only: a resonance of an absorbing or gain stack takes the labels of its
    lossless partner, which may lie anywhere in its box, so no bound at its own k holds."""
    if not cyl.is_lossless:
        raise ValueError("the core floor holds for lossless stacks only")
    m = np.atleast_1d(np.asarray(m, dtype=float))
    n0, a = complex(cyl.indices[0]).real, cyl.radii_um[0]
    top = m / (n0 * a)  # above it the field turns inside the core: no bound
    lo = top * 1e-9
    excluded = core_energy_ratio_bound(cyl, pol, m, lo) < 1 / SAFETY
    hi = top.copy()
    while np.any(hi - lo > 1e-12 * top):  # the ratio grows with k: the last k it stays below 1 / SAFETY
        mid = 0.5 * (lo + hi)
        below = core_energy_ratio_bound(cyl, pol, m, mid) < 1 / SAFETY
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return np.where(excluded & (m > 0), lo, 0.0)


def core_maxima(m, x) -> np.ndarray:
    """Interior maxima of |J_m| on (0, x) (the maximum at the axis counts for m = 0): the core's
    radial order p as the labels count it (max(1, this)), exactly. The zeros of J_m and J_m'
    interlace, so this is the number of zeros of J_m below x plus one where |J_m| falls at x.
    The sign of J_m is taken from the parity of that zero count (J_m > 0 next to the axis), so
    that at a zero of J_m the two terms cannot disagree by rounding."""
    jy = scaled_jy(m, x, need_y=True)
    zeros = np.floor((bessel_phase(m, x, jy) + np.pi / 2) / np.pi)
    falls = jy.dj * np.where(zeros % 2 == 0, 1.0, -1.0) < 0
    return (zeros + falls).astype(int)


def core_order_k_ceiling(cyl: LayeredCylinder, m, p_max: int) -> np.ndarray:
    """Per m, the k (1/um) above which the core's field J_m(n_0 k r) has more than ``p_max``
    maxima: no mode of order <= p_max is labelled core there (the field inside the core is the
    same for every mode of that m and k). Lossless stacks only (see :func:`core_k_floor`)."""
    if not cyl.is_lossless:
        raise ValueError("the core ceiling holds for lossless stacks only")
    m = np.atleast_1d(np.asarray(m, dtype=int))
    n0, a = complex(cyl.indices[0]).real, cyl.radii_um[0]
    lo = np.maximum(m, 1e-9)  # J_m' has no zero below m (m >= 1)
    hi = m + 4.0 * (p_max + 2) * np.cbrt(np.maximum(m, 1.0)) + np.pi * (p_max + 2)
    count_lo, count_hi = core_maxima(m, lo), core_maxima(m, hi)
    while np.any(low := count_hi <= p_max):  # widen until the order is exceeded
        hi = np.where(low, 2 * hi, hi)
        count_hi = core_maxima(m, hi)
    # bisect until [lo, hi] holds the one zero of J_m' where the count passes p_max ...
    while np.any(wide := (count_hi - count_lo > 1) & (hi - lo > 1e-12 * hi)):
        mid = 0.5 * (lo + hi)
        count_mid = core_maxima(m, mid)
        above = wide & (count_mid > p_max)
        below = wide & ~above
        hi, count_hi = np.where(above, mid, hi), np.where(above, count_mid, count_hi)
        lo, count_lo = np.where(below, mid, lo), np.where(below, count_mid, count_lo)
    # ... and solve J_m'(x) = 0 there (J_m'' from Bessel's equation; scaled values, same sign)
    def derivative_and_curvature(idx, x):
        jy = scaled_jy(m[idx], x, need_y=False)
        return jy.dj, -jy.dj / x - (1 - (m[idx] / x) ** 2) * jy.j

    d_lo, d_hi = derivative_and_curvature(np.arange(m.size), lo)[0], derivative_and_curvature(np.arange(m.size), hi)[0]
    zero, _, _ = newton_bracketed(derivative_and_curvature, lo, hi, d_lo, d_hi)
    # a bracket narrowed to rounding without one sign change of J_m': its upper end, where the
    # count already exceeds p_max, is above the transition
    zero = np.where(d_lo * d_hi < 0, zero, hi)
    return zero * (1 + 1e-9) / (n0 * a)
