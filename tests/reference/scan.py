"""Seed finding for the reference roots: scan the real companion of the characteristic
determinant along the real k axis, bisect every sign change, polish it into a complex root and
label it by energy fractions and radial maxima (all with :mod:`mpmath_cylinder`).

Used once by ``make_roots.py`` to choose the seeds listed in ``cases.py``; not imported by tests.
Wall modes interleave with core modes and a seed from an asymptotic formula
lands on a wall mode, so every seed is checked by its energy fractions before it is used.
"""

from __future__ import annotations

import mpmath

try:  # imported as part of the package tests.reference or with tests/ on sys.path
    from . import mpmath_cylinder as ref
except ImportError:  # pragma: no cover
    import mpmath_cylinder as ref


def sign_changes(geom, pol, m, k_lo, k_hi, step, dps=20):
    """Real k intervals (k_a, k_b) where :func:`real_scan_function` changes sign."""
    radii, indices, n_out = geom["radii"], geom["indices"], geom["n_out"]
    out = []
    with mpmath.workdps(dps):
        n = int(mpmath.ceil((mpmath.mpf(k_hi) - k_lo) / step))
        ks = [mpmath.mpf(k_lo) + (mpmath.mpf(k_hi) - k_lo) * i / n for i in range(n + 1)]
        prev = None
        for k in ks:
            f = ref.real_scan_function(radii, indices, n_out, pol, m, k)
            if prev is not None and mpmath.sign(f) != mpmath.sign(prev[1]) and f != 0:
                out.append((prev[0], k, prev[1], f))
            prev = (k, f)
    return out


def bisect(geom, pol, m, interval, rel_tol=1e-11, dps=20):
    radii, indices, n_out = geom["radii"], geom["indices"], geom["n_out"]
    a, b, fa, fb = interval
    with mpmath.workdps(dps):
        while (b - a) > rel_tol * b:
            c = (a + b) / 2
            fc = ref.real_scan_function(radii, indices, n_out, pol, m, c)
            if mpmath.sign(fc) == mpmath.sign(fa):
                a, fa = c, fc
            else:
                b = c
        return (a + b) / 2


def label(geom, pol, m, k, quick=False):
    radii, indices, n_out = geom["radii"], geom["indices"], geom["n_out"]
    kw = dict(maxdegree=1, waves_per_interval=2) if quick else {}
    fr = ref.field_energy_fractions(radii, indices, n_out, pol, m, k, **kw)
    region = max(fr, key=fr.get)
    p = None
    if region != "outside":
        p = ref.radial_maxima_count(radii, indices, n_out, pol, m, k, region)
    return fr, region, p


def abs_minima(geom, pol, m, k_lo, k_hi, step, dps=20):
    """Real k grid points where |char_det| (outgoing H^(1) outside) has a local minimum.  Works
    where the real companion does not (outside field oscillatory at the outer radius, so that
    replacing H^(1) by Y is no approximation); a high-Q resonance makes a sharp dip."""
    radii, indices, n_out = geom["radii"], geom["indices"], geom["n_out"]
    with mpmath.workdps(dps):
        n = int(mpmath.ceil((mpmath.mpf(k_hi) - k_lo) / step))
        ks = [mpmath.mpf(k_lo) + (mpmath.mpf(k_hi) - k_lo) * i / n for i in range(n + 1)]
        vals = [abs(ref.char_det(radii, indices, n_out, pol, m, k)) for k in ks]
    return [ks[i] for i in range(1, n) if vals[i] < vals[i - 1] and vals[i] < vals[i + 1]]
