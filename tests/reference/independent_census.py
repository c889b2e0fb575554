"""Independent reference census: every resonance of a layered cylinder in a box of the k plane.

Written from the physics, deliberately *not* from wgmfem's formulation (which propagates a
normalized (u, v) state layer by layer with scaled Bessel functions, counts real poles with
Sturm's theorem and takes Im k from a Wronskian leak term).  Nothing here imports wgmfem.

Problem
-------
Layers ``j = 0 .. N-1`` with outer radii ``r_j`` (um) and indices ``n_j`` (complex allowed:
``n' + i kappa``, kappa > 0 absorbs, < 0 amplifies); an infinite outer medium of real index
``n_out``.  Time dependence ``exp(-i w t)``; with ``u = R(r) exp(i m phi)``:

* ``pol="Ez"``: ``u = Ez``; ``u`` and ``du/dr`` continuous;
* ``pol="Hz"``: ``u = Hz``; ``u`` and ``(1/n^2) du/dr`` continuous.

``R = A_0 J_m(k n_0 r)`` in the core, ``A_j J_m + B_j Y_m`` in shell ``j``, ``C H1_m(k n_out r)``
outside.  A resonance is a complex ``k`` (1/um) at which these ``2N`` matching conditions have a
non-trivial solution.

Formulation
-----------
:func:`determinant` is the full ``2N x 2N`` boundary-matching determinant D(k) (unknowns
``A_0, (A_1, B_1), ..., C``; rows: value and flux at each interface).  Every entry is an entire
function of k in the right half plane (J, Y, H1 have their only branch cut on the negative real
axis and no poles), so D is analytic there, has no poles, and its zeros are exactly the
resonances.  What is evaluated is D times a *positive* factor (each column divided by its
largest entry, which keeps double precision in range), so the phase of D - all that the
argument principle needs - is exact, and Newton's step ``-D/D'`` is taken from Jacobi's formula
``D'/D = tr(A^-1 A')`` with the analytic derivative of every entry (the positive factors drop
out of that trace).

Double precision
----------------
* Bessel functions come from scipy (AMOS).  Next to the real axis (|Im z| <= 5e-3) they are
  continued from real z by their Taylor series (coefficients from Bessel's equation), so that the
  tiny imaginary parts of J, Y at a high-Q resonance keep full relative precision; complex AMOS
  gives them only to eps |f| absolute, which would limit Im k to ~1e-15 /um (Q = 4.8e12 to 1e-3).
  With this, Im k agrees with 30-digit mpmath to ~1e-25 /um there.
* Where J_m underflows or Y_m, H1_m overflow (a layer deep inside the centrifugal barrier, e.g.
  the core of a thick-walled capillary at large m), ``(mantissa, log-scale)`` pairs are built from
  ratio recurrences anchored at an order where AMOS is representable: J by backward (Miller)
  ratios, Y by forward ratios, each in its stable direction.  Column entries more than ~1e-304
  below the largest entry of their column underflow to 0: couplings of relative size < 1e-304 are
  dropped.
* In a shell the basis {J, Y} becomes ill-conditioned deep in the complex plane (both ~H1/2 for
  Im z << 0, the decaying H2 is lost to rounding); there the shell uses {J, H2} (Im z < -1) or
  {J, H1} (Im z > 1), which is well conditioned both there and where the shell is evanescent, and
  the determinant is divided by the constant det of the change of basis (-i or i), so D is the
  same analytic function everywhere.

Root finding
------------
For each azimuthal number m the rectangle ``[k_lo, k_hi] x [-kappa, +kappa]``,
``kappa = k_hi / (2 q_floor)``, is counted by the argument principle: the phase of D is sampled
along the edges and refined until neighbouring samples differ by < pi/4, agree with the change that
D'/D predicts between them (trapezoid) and |D'/D| times the gap is < 1.5 at both ends (this rules
out aliasing by whole turns: deep in the plane D rotates by ~40 rad per unit Im k, and a root next
to a gap makes D'/D vary across it).  Boxes with roots are seeded with Newton on D (a row of seeds next to
the real axis, then a grid); a box where Newton does not produce as many distinct roots as its
count is bisected (counting both halves, which must add up) until it does.  Every root is
therefore backed by a count.  The rectangle is symmetric about the real axis, so gain resonances
(Im k > 0) are found as well: all resonances with |Q| = Re k / (2 |Im k|) >= q_floor and Re k in
the window are inside it.

Accuracy (tests/test_independent_reference.py, against the 30-digit mpmath determinant of
tests/reference/mpmath_cylinder.py): wavelength ~2e-16 relative (up to ~2e-15 for Q ~ 50);
Q to ~1e-13 relative from Q ~ 1e2 to 5e12 (|d Im k| ~ 1e-25..1e-17 /um).  Speed: ~40 determinant
evaluations per m and window, ~100 us each (2 layers), i.e. ~0.5-5 s for m up to 100-900.
Units: k in 1/um, lengths in um, wavelengths in nm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.special as sp

__all__ = [
    "Stack",
    "Resonance",
    "Census",
    "RangeError",
    "determinant",
    "log_derivative",
    "newton_step",
    "census",
    "census_window",
    "polish",
    "local_root",
    "wavelength_nm",
    "q_signed",
]

_TINY = 1e-250  # AMOS values below/above these are recomputed with log-scaled recurrences
_HUGE = 1e250
_LOG_UNDERFLOW = -700.0  # column entries this far (natural log) below the column maximum are 0
_PHASE_STEP = math.pi / 4  # refine the contour until neighbouring phases differ by less
_LOCAL_STEP = 1.5  # and until |D'/D| times the gap is below this at both ends
_MAX_REFINE_ROUNDS = 64
_NEWTON_STEPS = 40


class RangeError(ValueError):
    """The parameters leave the range where this double-precision reference is valid."""


# --------------------------------------------------------------------------- geometry
@dataclass(frozen=True)
class Stack:
    """Concentric layers (outer radii in um, indices) inside an infinite medium ``n_out``."""

    radii: tuple[float, ...]
    indices: tuple[complex, ...]
    n_out: float

    def __post_init__(self):
        radii = tuple(float(r) for r in self.radii)
        indices = tuple(complex(n) for n in self.indices)
        if len(radii) != len(indices) or not radii:
            raise ValueError("one index per layer, at least one layer")
        if any(b <= a for a, b in zip(radii, radii[1:])) or radii[0] <= 0:
            raise ValueError("radii must be positive and increasing")
        if any(n.real <= 0 for n in indices) or float(self.n_out) <= 0:
            raise ValueError("indices must have positive real parts")
        object.__setattr__(self, "radii", radii)
        object.__setattr__(self, "indices", indices)
        object.__setattr__(self, "n_out", float(self.n_out))

    @classmethod
    def of(cls, cylinder) -> Stack:
        """From any object with ``radii_um``, ``indices``, ``outside_index`` (duck typing)."""
        return cls(tuple(cylinder.radii_um), tuple(cylinder.indices), float(cylinder.outside_index))

    @property
    def n_layers(self) -> int:
        return len(self.radii)

    @property
    def lossless(self) -> bool:
        return all(n.imag == 0 for n in self.indices)

    def m_max(self, k_hi: float) -> int:
        """Largest m worth searching at Re k <= k_hi: beyond max_j n_j k r_j no layer has a turning
        point (the whole fibre lies inside the centrifugal barrier) and the only resonances are
        very lossy; a margin of 5 % + 20 is added, and :func:`census` reports the count of the
        last m searched so that a caller can check that it is empty."""
        x = max(n.real * r for n, r in zip(self.indices, self.radii)) * k_hi
        return int(math.ceil(1.05 * x + 20))


def wavelength_nm(k: complex) -> float:
    return 2000 * math.pi / k.real


def q_signed(k: complex) -> float:
    """Re k / (2 |Im k|), negative for a growing (gain) resonance (Im k > 0)."""
    if k.imag == 0:
        return math.inf
    return -k.real / (2 * k.imag)


# --------------------------------------------------------------------------- Bessel functions
def _j_fallback(m, z):
    """log-scaled J_m(z) and J_m'(z)/J_m(z) where AMOS underflows (m well above |z|).

    Backward (Miller) recurrence of rho_n = J_n / J_{n-1} = 1 / (2n/z - rho_{n+1}), started at
    N = max(m) + 60 (stable: J is the minimal solution for increasing n), anchored at an order
    b ~ |z| where AMOS is representable.  Returns (mantissa, log_scale, dlog) with
    J_m = mantissa * exp(log_scale).
    """
    m = np.asarray(m, int)
    z = np.asarray(z, complex)
    b = np.clip(np.floor(np.abs(z)).astype(int) - 1, 0, m - 1)
    jb0, jb1 = sp.jv(b, z), sp.jv(b + 1, z)
    use1 = (np.abs(jb1) > np.abs(jb0)) & (b + 1 < m)
    b = np.where(use1, b + 1, b)
    jb = np.where(use1, jb1, jb0)
    if not np.all(np.isfinite(jb)) or np.any(np.abs(jb) < 1e-280) or np.any(np.abs(jb) > 1e280):
        raise RangeError("J anchor order not representable")
    top = int(m.max()) + 60
    rho = z / (2 * (top + 1))
    logsum = np.zeros(z.shape, complex)
    rho_m = np.zeros(z.shape, complex)
    for n in range(top, int(b.min()), -1):
        rho = 1.0 / (2 * n / z - rho)
        take = (n <= m) & (n > b)
        logsum = np.where(take, logsum + np.log(rho), logsum)
        rho_m = np.where(n == m, rho, rho_m)
    log_total = logsum + np.log(jb)
    mant = np.exp(1j * log_total.imag)
    dlog = 1.0 / rho_m - m / z
    return mant, log_total.real, dlog


def _y_fallback(m, z):
    """log-scaled Y_m(z) and Y_m'(z)/Y_m(z) where AMOS overflows (m well above |z|).

    Forward recurrence of t_n = Y_{n-1} / Y_n, t_{n+1} = 1 / (2n/z - t_n) (stable: Y is the
    dominant solution for increasing n), anchored at an order b ~ |z|.
    """
    m = np.asarray(m, int)
    z = np.asarray(z, complex)
    b = np.clip(np.floor(np.abs(z)).astype(int) - 1, 1, m - 1)
    y = lambda n: (sp.hankel1(n, z) - sp.jv(n, z)) * -1j  # noqa: E731
    yb0, yb1 = y(b), y(b + 1)
    use1 = (np.abs(yb1) > np.abs(yb0)) & (b + 1 < m)
    b = np.where(use1, b + 1, b)
    yb = np.where(use1, yb1, yb0)
    ybm = y(b - 1)
    if not (np.all(np.isfinite(yb)) and np.all(np.isfinite(ybm))) or np.any(np.abs(yb) > 1e280):
        raise RangeError("Y anchor order not representable")
    t = ybm / yb
    logsum = np.zeros(z.shape, complex)
    t_m = np.zeros(z.shape, complex)
    for n in range(int(b.min()), int(m.max())):
        t_new = 1.0 / (2 * n / z - t)
        t = np.where(n >= b, t_new, t)
        take = (n + 1 <= m) & (n >= b)
        logsum = np.where(take, logsum - np.log(t), logsum)
        t_m = np.where(n + 1 == m, t, t_m)
    log_total = logsum + np.log(yb)
    mant = np.exp(1j * log_total.imag)
    dlog = t_m - m / z
    return mant, log_total.real, dlog


@dataclass
class _Pair:
    """A Bessel-type function and its derivative d/dz at points z, times exp(log)."""

    f: np.ndarray
    df: np.ndarray
    log: np.ndarray  # real log scale: true value = f * exp(log)

    @classmethod
    def empty(cls, shape):
        return cls(np.zeros(shape, complex), np.zeros(shape, complex), np.zeros(shape))

    def put(self, where, f, df, log):
        self.f[where], self.df[where], self.log[where] = f, df, log


_NEAR = 5e-3  # |Im z| below which Bessel functions are continued from the real axis by Taylor series
_TAYLOR_TERMS = 24
Y_, H1_, H2_ = 0, 1, 2  # the second basis function of a layer: Y, H1 = J + iY or H2 = J - iY


def _taylor(m, x, f0, f1, h):
    """f(x + h), f'(x + h) from f(x), f'(x) for a solution of Bessel's equation of order m.

    The Taylor coefficients a_n of f(x + h) follow from z^2 f'' + z f' + (z^2 - m^2) f = 0:
    a_{n+2} = -[x (n+1)(2n+1) a_{n+1} + (n^2 + x^2 - m^2) a_n + 2x a_{n-1} + a_{n-2}] / (x^2 (n+1)(n+2)).
    With real x and f, and h = i y, the even terms are real and the odd ones imaginary, so the small
    imaginary part of f(x + i y) keeps full relative precision (complex-argument AMOS gives it only
    to eps |f| absolute, which limits Im k of a high-Q resonance).
    """
    a_m2 = np.zeros_like(f0)
    a_m1 = np.zeros_like(f0)
    a0, a1 = f0.astype(complex), f1.astype(complex)
    val = a0 + a1 * h
    der = a1.copy()
    hp = h.copy()  # h^(n+1) for n = 0
    x2 = x * x
    mm = m.astype(float) ** 2
    for n in range(0, _TAYLOR_TERMS):
        a2 = -(x * (n + 1) * (2 * n + 1) * a1 + (n * n + x2 - mm) * a0 + 2 * x * a_m1 + a_m2) / (x2 * (n + 1) * (n + 2))
        der = der + (n + 2) * a2 * hp
        hp = hp * h
        val = val + a2 * hp
        a_m2, a_m1, a0, a1 = a_m1, a0, a1, a2
    return val, der


def _bad(v0, v1):
    return ~(np.isfinite(v0) & np.isfinite(v1)) | (np.abs(v0) < _TINY) | (np.abs(v0) > _HUGE)


def _combine(J: _Pair, Y: _Pair, sign: float) -> _Pair:
    """J + sign * i Y for log-scaled pairs (common scale: the larger of the two)."""
    top = np.maximum(J.log, Y.log)
    with np.errstate(under="ignore"):
        sj, sy = np.exp(J.log - top), np.exp(Y.log - top)
    return _Pair(sj * J.f + sign * 1j * sy * Y.f, sj * J.df + sign * 1j * sy * Y.df, top)


def _taylor_pair(m, x, h, scipy_fn, fallback) -> _Pair:
    """One cylinder function (J or Y: ``scipy_fn``, with its log-scaled ``fallback``) at x + h
    by Taylor from real values at x."""
    with np.errstate(all="ignore"):
        f0, f1 = scipy_fn(m, x), scipy_fn(m - 1, x)
        df = f1 - (m / x) * f0
    pair = _Pair(f0.astype(complex), df.astype(complex), np.zeros(x.shape))
    bad = _bad(f0, f1)
    if np.any(bad):
        mant, lg, dlog = fallback(m[bad], x[bad].astype(complex))
        pair.put(bad, mant, mant * dlog, lg)
    pair.f, pair.df = _taylor(m, x, pair.f, pair.df, h)
    return pair


def _near_axis(m, x, h, second):
    """J and the second function at x + h (x real, |h| small) by Taylor from real scipy values."""
    J = _taylor_pair(m, x, h, sp.jv, _j_fallback)
    if second is None:
        return J, None
    Y = _taylor_pair(m, x, h, sp.yv, _y_fallback)
    out = _Pair.empty(x.shape)
    for code, make in ((Y_, lambda: Y), (H1_, lambda: _combine(J, Y, 1.0)), (H2_, lambda: _combine(J, Y, -1.0))):
        sel = second == code
        if np.any(sel):
            v = make()
            out.put(sel, v.f[sel], v.df[sel], v.log[sel])
    return J, out


def _off_axis(m, z, second):
    """J and the second function by complex AMOS; log-scaled recurrences where not representable
    (there J << Y, so H1 = iY and H2 = -iY to far beyond double precision)."""
    with np.errstate(all="ignore"):
        j0, j1 = sp.jv(m, z), sp.jv(m - 1, z)
        dj = j1 - (m / z) * j0
    J = _Pair(j0, dj, np.zeros(z.shape))
    bad = _bad(j0, j1)
    if np.any(bad):
        mant, lg, dlog = _j_fallback(m[bad], z[bad])
        J.put(bad, mant, mant * dlog, lg)
    if second is None:
        return J, None
    out = _Pair.empty(z.shape)
    for code in (Y_, H1_, H2_):
        sel = second == code
        if not np.any(sel):
            continue
        ms, zs = m[sel], z[sel]
        fn = sp.hankel2 if code == H2_ else sp.hankel1
        with np.errstate(all="ignore"):
            h0, h1 = fn(ms, zs), fn(ms - 1, zs)
            if code == Y_:  # Y = (H1 - J) / i, each part to full accuracy
                h0, h1 = (h0 - j0[sel]) * -1j, (h1 - j1[sel]) * -1j
            dh = h1 - (ms / zs) * h0
        f, df, lg = h0, dh, np.zeros(zs.shape)
        bad = _bad(h0, h1) | ~np.isfinite(dh)
        if np.any(bad):
            mant, lgb, dlog = _y_fallback(ms[bad], zs[bad])
            factor = {Y_: 1.0, H1_: 1j, H2_: -1j}[code]
            f[bad], df[bad], lg[bad] = factor * mant, factor * mant * dlog, lgb
        out.put(sel, f, df, lg)
    return J, out


def _bessel(m, z, second=None):
    """(J_m, second function) as _Pair at integer orders m and complex z (arrays of one shape);
    ``second``: None (J only), or per point Y_, H1_ or H2_.

    Near the real axis (|Im z| <= _NEAR) by Taylor continuation from real z (see :func:`_taylor`);
    elsewhere by complex AMOS.  Log-scaled recurrences where the values are not representable.
    """
    m = np.asarray(m, int)
    z = np.asarray(z, complex)
    if second is not None:
        second = np.broadcast_to(np.asarray(second), z.shape)
    J = _Pair.empty(z.shape)
    S = _Pair.empty(z.shape) if second is not None else None
    # Taylor where it converges fast: |h| times the growth rate ~max(1, m/|z|) of the derivatives
    near = (np.abs(z.imag) <= _NEAR) & (np.abs(z.imag) * np.maximum(1.0, m / np.abs(z)) <= 0.05)
    for sel, fn in ((near, lambda s: _near_axis(m[s], z[s].real, 1j * z[s].imag, None if second is None else second[s])),
                    (~near, lambda s: _off_axis(m[s], z[s], None if second is None else second[s]))):
        if np.any(sel):
            j, o = fn(sel)
            J.put(sel, j.f, j.df, j.log)
            if S is not None:
                S.put(sel, o.f, o.df, o.log)
    return J, S


def _jy(m, z):
    """(J_m, Y_m) as _Pair (see :func:`_bessel`)."""
    return _bessel(m, z, Y_)


def _second(m, z, pair: _Pair):
    """d^2/dz^2 from Bessel's equation: f'' = -f'/z - (1 - m^2/z^2) f."""
    return -pair.df / z - (1 - (m / z) ** 2) * pair.f


def _log_norm(pair: _Pair):
    with np.errstate(divide="ignore"):
        return pair.log + np.log(np.hypot(np.abs(pair.f), np.abs(pair.df)))


# --------------------------------------------------------------------------- the determinant
def _weight(pol, n):
    """Factor of dZ/d(k n r) in the flux row (k dropped): Ez -> n, Hz -> 1/n."""
    return n if pol == "Ez" else 1 / n


#: |Im(k n r)| at a shell's outer radius beyond which the shell's basis is {J, H2} (Im < 0) or
#: {J, H1} (Im > 0) instead of {J, Y}: deep in the complex plane J and Y are both ~H1/2 (or ~H2/2)
#: and the decaying Hankel function would be lost to rounding in their combinations.
_BASIS_SWITCH = 1.0
#: D_JY = D / det(T) for [J, S] = [J, Y] T: S = Y: 1; H1 = J + iY: i; H2 = J - iY: -i
_BASIS_DET = {Y_: 1.0, H1_: 1j, H2_: -1j}


def _assemble(stack: Stack, pol: str, m, k, derivative: bool):
    """Scaled matrices A (and dA/dk, same scaling) at points (m, k), and the phase constant c:
    D(k) = c * det(A) * (positive factor), D the determinant in the {J, Y} shell basis."""
    if pol not in ("Ez", "Hz"):
        raise ValueError(f"pol must be 'Ez' or 'Hz', got {pol!r}")
    k = np.atleast_1d(np.asarray(k, complex))
    m = np.broadcast_to(np.atleast_1d(np.asarray(m, int)), k.shape).copy()
    N = stack.n_layers
    size = 2 * N
    P = k.size
    A = np.zeros((P, size, size), complex)
    dA = np.zeros((P, size, size), complex) if derivative else None
    const = np.ones(P, complex)

    def put(col, entries):
        """entries: list of (row0, sign, n, r, pair) - value row row0 and flux row row0 + 1.
        The column is scaled by exp(-max log |entry|) (positive)."""
        logs = [_log_norm(p) + math.log(max(abs(_weight(pol, n)), 1.0)) for (_, _, n, _, p) in entries]
        top = np.max(np.stack(logs), axis=0)
        if not np.all(np.isfinite(top)):
            raise RangeError("a column of the matching matrix vanished or overflowed")
        for row0, sign, n, r, p in entries:
            rel = p.log - top
            with np.errstate(under="ignore", over="ignore"):
                scale = np.exp(np.maximum(rel, _LOG_UNDERFLOW)) * (rel > _LOG_UNDERFLOW)
            w = _weight(pol, n)
            A[:, row0, col] = sign * scale * p.f
            A[:, row0 + 1, col] = sign * scale * w * p.df
            if derivative:
                z = k * n * r
                dA[:, row0, col] = sign * scale * n * r * p.df
                dA[:, row0 + 1, col] = sign * scale * w * n * r * _second(m, z, p)

    ns, rs = stack.indices, stack.radii
    # core
    J, _ = _bessel(m, k * ns[0] * rs[0])
    put(0, [(0, 1.0, ns[0], rs[0], J)])
    # shells
    for j in range(1, N):
        z_in, z_out = k * ns[j] * rs[j - 1], k * ns[j] * rs[j]
        second = np.where(z_out.imag < -_BASIS_SWITCH, H2_, np.where(z_out.imag > _BASIS_SWITCH, H1_, Y_))
        J_in, S_in = _bessel(m, z_in, second)
        J_out, S_out = _bessel(m, z_out, second)
        const = const / np.select([second == H1_, second == H2_], [_BASIS_DET[H1_], _BASIS_DET[H2_]], 1.0)
        for c, (p_in, p_out) in zip((2 * j - 1, 2 * j), ((J_in, J_out), (S_in, S_out))):
            put(c, [(2 * (j - 1), -1.0, ns[j], rs[j - 1], p_in), (2 * j, 1.0, ns[j], rs[j], p_out)])
    # outside: H1 (near the axis from separate J and Y: J << Y keeps its digits there)
    _, H = _bessel(m, k * stack.n_out * rs[-1], H1_)
    put(size - 1, [(size - 2, -1.0, stack.n_out, rs[-1], H)])
    return A, dA, const


def determinant(stack: Stack, pol: str, m, k) -> np.ndarray:
    """D(k) times a positive factor (the phase is exact): zero exactly at the resonances."""
    A, _, const = _assemble(stack, pol, m, k, derivative=False)
    return np.linalg.det(A) * const


def log_derivative(stack: Stack, pol: str, m, k):
    """(D as :func:`determinant`, D'/D) at points (m, k); D'/D = tr(A^-1 A') (Jacobi's formula,
    the positive column scales drop out)."""
    A, dA, const = _assemble(stack, pol, m, k, derivative=True)
    det = np.linalg.det(A) * const
    with np.errstate(all="ignore"):
        try:
            trace = np.trace(np.linalg.solve(A, dA), axis1=1, axis2=2)
        except np.linalg.LinAlgError:
            trace = np.array([np.trace(np.linalg.lstsq(a, b, rcond=None)[0]) for a, b in zip(A, dA)])
    return det, trace


def newton_step(stack: Stack, pol: str, m, k):
    """(D value as :func:`determinant`, Newton step -D/D') at points (m, k)."""
    det, trace = log_derivative(stack, pol, m, k)
    with np.errstate(all="ignore"):
        return det, -1.0 / trace


# --------------------------------------------------------------------------- contour counting
class _Line:
    """Samples of D along one horizontal (Im k = c) or vertical (Re k = c) line, for one m."""

    __slots__ = ("horizontal", "c", "pos", "val", "dlog")

    def __init__(self, horizontal: bool, c: float):
        self.horizontal, self.c = horizontal, c
        self.pos = np.zeros(0)
        self.val = np.zeros(0, complex)
        self.dlog = np.zeros(0, complex)  # D'/D

    def point(self, t):
        t = np.asarray(t, float)
        return t + 1j * self.c if self.horizontal else self.c + 1j * t

    def insert(self, t, v, dl):
        order = np.argsort(np.concatenate([self.pos, t]), kind="stable")
        self.pos = np.concatenate([self.pos, t])[order]
        self.val = np.concatenate([self.val, v])[order]
        self.dlog = np.concatenate([self.dlog, dl])[order]
        keep = np.concatenate([[True], np.diff(self.pos) > 0])
        self.pos, self.val, self.dlog = self.pos[keep], self.val[keep], self.dlog[keep]


@dataclass
class _Edge:
    line: _Line
    a: float  # start position along the line
    b: float  # end position (may be < a: the edge runs backwards)
    m: int
    initial: int
    phase: float = math.nan
    ok: bool = False


class _Sampler:
    """Evaluates D for many (m, k) at once and keeps every sample on its line."""

    def __init__(self, stack: Stack, pol: str):
        self.stack, self.pol = stack, pol
        self.lines: dict[tuple, _Line] = {}
        self.evaluations = 0

    def line(self, m: int, horizontal: bool, c: float) -> _Line:
        key = (m, horizontal, c)
        if key not in self.lines:
            self.lines[key] = _Line(horizontal, c)
        return self.lines[key]

    def evaluate(self, ms, ks):
        ms = np.asarray(ms, int)
        ks = np.asarray(ks, complex)
        out = np.empty(ks.size, complex)
        dl = np.empty(ks.size, complex)
        self.evaluations += ks.size
        chunk = 4096
        for s in range(0, ks.size, chunk):
            out[s : s + chunk], dl[s : s + chunk] = log_derivative(self.stack, self.pol, ms[s : s + chunk], ks[s : s + chunk])
        return out, dl

    def phases(self, edges: list[_Edge]):
        """Fill each edge's total phase change (radians, from a to b), refining adaptively."""
        # initial samples: endpoints, a uniform grid and, across the real axis, geometric heights
        new = []
        for e in edges:
            lo, hi = min(e.a, e.b), max(e.a, e.b)
            have = e.line.pos
            inside = int(np.count_nonzero((have >= lo) & (have <= hi)))
            pts = [np.array([lo, hi])]
            if inside < 3:  # a fresh line (edges cut from a sampled line inherit its samples)
                pts.append(np.linspace(lo, hi, e.initial))
            if not e.line.horizontal and lo < 0 < hi:
                pts.append(np.array([0.0]))  # the high-Q resonances crowd next to the real axis
            pts = np.unique(np.concatenate(pts))
            pts = pts[(pts >= lo) & (pts <= hi) & ~np.isin(pts, have)]
            new.append(pts)
        self._add(edges, new)
        pending = list(range(len(edges)))
        for _ in range(_MAX_REFINE_ROUNDS):
            new, todo = [], []
            for i in pending:
                e = edges[i]
                lo, hi = min(e.a, e.b), max(e.a, e.b)
                sel = (e.line.pos >= lo) & (e.line.pos <= hi)
                t, v, dl = e.line.pos[sel], e.line.val[sel], e.line.dlog[sel]
                with np.errstate(all="ignore"):
                    d = np.angle(v[1:] / v[:-1])
                    # the phase change D'/D predicts (trapezoid): sampling is fine where it is small
                    # and agrees with the measured one, which rules out aliasing by whole turns
                    dk = np.diff(t) * (1.0 if e.line.horizontal else 1j)
                    pred = (0.5 * (dl[1:] + dl[:-1]) * dk).imag
                    mismatch = np.angle(np.exp(1j * (d - pred)))
                    # and D'/D itself must change little across the gap, or the trapezoid may
                    # agree with an aliased measurement by chance (a root next to the gap)
                    local = np.maximum(np.abs(dl[1:] * dk), np.abs(dl[:-1] * dk))
                coarse = (
                    ~(np.abs(d) <= _PHASE_STEP)
                    | ~(np.abs(pred) <= _PHASE_STEP)
                    | ~(np.abs(mismatch) <= 0.25)
                    | ~(local <= _LOCAL_STEP)
                )
                if not np.any(coarse):
                    total = float(np.sum(d))
                    e.phase = total if e.b >= e.a else -total
                    e.ok = True
                    continue
                gaps = np.nonzero(coarse)[0]
                a, b = t[gaps], t[gaps + 1]
                mid = 0.5 * (a + b)
                fine = (mid > a) & (mid < b) & (b - a > 1e-14 * (np.abs(mid) + abs(e.line.c)))
                if not np.all(fine):  # cannot refine further: a root on (or too close to) the edge
                    e.ok = False
                    continue
                # as many points as the predicted phase change needs (at least the midpoint)
                need = np.maximum(np.abs(pred[gaps]) / _PHASE_STEP, local[gaps] / _LOCAL_STEP)
                parts = np.clip(np.ceil(np.nan_to_num(need, nan=0.0, posinf=0.0)), 2, 64).astype(int)
                pts = np.concatenate([a_ + (b_ - a_) * np.arange(1, n_) / n_ for a_, b_, n_ in zip(a, b, parts)])
                new.append(pts)
                todo.append(i)
            if not todo:
                break
            self._add([edges[i] for i in todo], new)
            pending = todo
        else:
            for i in pending:
                edges[i].ok = False

    def _add(self, edges, new):
        ms = np.concatenate([np.full(p.size, e.m) for e, p in zip(edges, new)]) if new else np.zeros(0)
        ks = np.concatenate([e.line.point(p) for e, p in zip(edges, new)]) if new else np.zeros(0)
        vals, dls = self.evaluate(ms, ks)
        start = 0
        for e, p in zip(edges, new):
            e.line.insert(p, vals[start : start + p.size], dls[start : start + p.size])
            start += p.size


@dataclass
class _Box:
    m: int
    x0: float
    x1: float
    y0: float
    y1: float
    count: int | None = None
    depth: int = 0
    stage: int = 0  # Newton seeding stage (see _seeds)

    @property
    def corners(self):
        return self.x0, self.x1, self.y0, self.y1


def _box_edges(sampler: _Sampler, box: _Box, initial: int) -> list[_Edge]:
    """The four edges, counter-clockwise: bottom (x0 -> x1), right (y0 -> y1), top (x1 -> x0),
    left (y1 -> y0)."""
    x0, x1, y0, y1 = box.corners
    n_v = max(5, initial // 2)
    return [
        _Edge(sampler.line(box.m, True, y0), x0, x1, box.m, initial),
        _Edge(sampler.line(box.m, False, x1), y0, y1, box.m, n_v),
        _Edge(sampler.line(box.m, True, y1), x1, x0, box.m, initial),
        _Edge(sampler.line(box.m, False, x0), y1, y0, box.m, n_v),
    ]


def _count(sampler: _Sampler, boxes: list[_Box], initial: int) -> list[int | None]:
    """Winding numbers of D around each box (None where the edges could not be resolved)."""
    edges = []
    for b in boxes:
        edges.extend(_box_edges(sampler, b, initial))
    sampler.phases(edges)
    out = []
    for i in range(len(boxes)):
        es = edges[4 * i : 4 * i + 4]
        if not all(e.ok for e in es):
            out.append(None)
            continue
        w = sum(e.phase for e in es) / (2 * math.pi)
        out.append(int(round(w)) if abs(w - round(w)) < 0.05 else None)
    return out


# --------------------------------------------------------------------------- Newton
def _newton(stack: Stack, pol: str, ms, seeds, limit, steps: int = _NEWTON_STEPS):
    """Vectorized Newton on D from ``seeds``; each step at most ``limit`` (per seed) long.

    Returns (k, converged, evaluations): converged once a step is below 2e-16 |k|, or once steps stop
    decreasing below 1e-13 |k| (the noise floor of the determinant)."""
    k = np.asarray(seeds, complex).copy()
    ms = np.asarray(ms, int)
    limit = np.broadcast_to(np.asarray(limit, float), k.shape)
    done = np.zeros(k.shape, bool)
    conv = np.zeros(k.shape, bool)
    last = np.full(k.shape, np.inf)
    extra = np.zeros(k.shape, int)
    evaluations = 0
    for _ in range(steps):
        idx = np.nonzero(~done)[0]
        if idx.size == 0:
            break
        evaluations += idx.size
        _, step = newton_step(stack, pol, ms[idx], k[idx])
        size = np.abs(step)
        bad = ~np.isfinite(step)
        big = size > limit[idx]
        step = np.where(big, step / np.where(size > 0, size, 1) * limit[idx], step)
        step[bad] = 0
        k[idx] = k[idx] + step
        size = np.where(bad, np.inf, size)
        rel = size / np.abs(k[idx])
        small = rel < 2e-16
        stalled = (rel < 1e-13) & (size >= 0.5 * last[idx])
        # after the step falls below 1e-12 |k|, take one more (it squares the error)
        extra[idx] += (rel < 1e-12).astype(int)
        finished = small | stalled | (extra[idx] >= 3)
        conv[idx] = finished & ~bad
        done[idx] = finished | bad | (k[idx].real <= 0)
        last[idx] = size
    return k, conv, evaluations


def polish(stack: Stack, pol: str, m: int, k: complex, steps: int = 8) -> complex:
    """A few more Newton steps from ``k`` (returns the last iterate)."""
    kk, _, _ = _newton(stack, pol, [m], [k], limit=1e-6 * abs(k), steps=steps)
    return complex(kk[0])


# --------------------------------------------------------------------------- the census
@dataclass
class Resonance:
    pol: str
    m: int
    k: complex

    @property
    def wavelength_nm(self) -> float:
        return wavelength_nm(self.k)

    @property
    def Q(self) -> float:
        return q_signed(self.k)


@dataclass
class Census:
    """All resonances with Re k in [k_lo, k_hi] and |Im k| <= kappa (each m), one polarization."""

    stack: Stack
    pol: str
    k_lo: float
    k_hi: float
    kappa: float
    m_range: tuple[int, int]
    roots: list[Resonance] = field(default_factory=list)
    counts: dict[int, int] = field(default_factory=dict)  # argument-principle count per m
    evaluations: int = 0
    contour_evaluations: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def q_floor(self) -> float:
        """Every resonance with |Q| >= q_floor and Re k in the box is in ``roots``."""
        return self.k_hi / (2 * self.kappa)

    @property
    def complete(self) -> bool:
        return not self.problems

    def by_m(self, m: int) -> list[Resonance]:
        return [r for r in self.roots if r.m == m]


def _seeds(box: _Box, n: int, stage: int):
    """Newton seeds inside a box.  Stage 0: a row next to the real axis (where the high-Q
    resonances crowd) or along the middle of the box; stage 1: a grid (denser for more roots)."""
    x0, x1, y0, y1 = box.corners
    if stage == 0:
        nx = n + 1
        xs = x0 + (x1 - x0) * (np.arange(nx) + 0.5) / nx
        y = -1e-10 * x1 if y0 < 0 < y1 else 0.5 * (y0 + y1)
        return xs + 1j * y
    nx = max(3, 2 * n + 1)
    ny = 3 if n <= 2 else 5
    xs = x0 + (x1 - x0) * (np.arange(nx) + 0.5) / nx
    ys = y0 + (y1 - y0) * (np.arange(ny) + 0.5) / ny
    return (xs[:, None] + 1j * ys[None, :]).ravel()


def census(
    stack: Stack,
    pol: str,
    k_lo: float,
    k_hi: float,
    q_floor: float,
    m_range: tuple[int, int] | None = None,
    initial: int = 9,
    max_depth: int = 60,
) -> Census:
    """Every resonance with Re k in [k_lo, k_hi] (1/um) and |Q| >= q_floor, for every m.

    ``m_range`` defaults to 0 .. :meth:`Stack.m_max` (and then its last m must hold no root, or
    the census reports a problem).  Problems (a box that could not be counted
    or resolved) are listed in ``Census.problems``; a census without problems is complete.
    """
    if not (0 < k_lo < k_hi) or q_floor <= 0:
        raise ValueError("need 0 < k_lo < k_hi and q_floor > 0")
    automatic = m_range is None
    if automatic:
        m_range = (0, stack.m_max(k_hi))
    kappa = k_hi / (2 * q_floor)
    result = Census(stack, pol, k_lo, k_hi, kappa, m_range)
    sampler = _Sampler(stack, pol)
    ms = list(range(m_range[0], m_range[1] + 1))

    # outer boxes, nudged outwards until their edges are resolved
    pending = [_Box(m, k_lo, k_hi, -kappa, kappa) for m in ms]
    outer: list[_Box] = []
    for attempt in range(4):
        counts = _count(sampler, pending, initial)
        retry = []
        for b, c in zip(pending, counts):
            if c is None:
                grow = 1e-9 * 7.0**attempt
                retry.append(_Box(b.m, b.x0 * (1 - grow), b.x1 * (1 + grow), b.y0 * (1 + 10 * grow), b.y1 * (1 + 10 * grow)))
            else:
                b.count = c
                outer.append(b)
                result.counts[b.m] = c
        pending = retry
        if not pending:
            break
    for b in pending:
        result.problems.append(f"m={b.m}: the outer box could not be counted")

    rng = np.random.default_rng(12345)  # split positions: deterministic, away from round numbers
    active = [b for b in outer if b.count]
    found: list[Resonance] = []
    while active:
        # Newton from seeds in every active box (stage 0 first, then a grid, then split)
        seeds, owner = [], []
        for i, b in enumerate(active):
            s = _seeds(b, b.count, b.stage)
            seeds.append(s)
            owner.append(np.full(s.size, i))
        seeds, owner = np.concatenate(seeds), np.concatenate(owner)
        ms_arr = np.array([active[i].m for i in owner])
        diag = np.array([math.hypot(active[i].x1 - active[i].x0, active[i].y1 - active[i].y0) for i in owner])
        k, conv, n_eval = _newton(stack, pol, ms_arr, seeds, limit=0.5 * diag)
        result.evaluations += n_eval
        split, again = [], []
        for i, b in enumerate(active):
            sel = (owner == i) & conv
            inside = [
                kk for kk in k[sel]
                if b.x0 <= kk.real <= b.x1 and b.y0 <= kk.imag <= b.y1
            ]
            distinct: list[complex] = []
            for kk in sorted(inside, key=lambda c: (c.real, c.imag)):
                if not any(abs(kk - d) <= 1e-11 * abs(kk) for d in distinct):
                    distinct.append(kk)
            if len(distinct) == b.count:
                found.extend(Resonance(pol, b.m, complex(d)) for d in distinct)
            elif len(distinct) > b.count:
                result.problems.append(f"m={b.m}: {len(distinct)} roots found in a box counted {b.count}")
                found.extend(Resonance(pol, b.m, complex(d)) for d in distinct)
            elif b.stage == 0:
                b.stage = 1
                again.append(b)
            elif b.depth >= max_depth or (b.x1 - b.x0) < 1e-13 * b.x1:
                result.problems.append(f"m={b.m}: box {b.corners} counted {b.count}, resolved {len(distinct)}")
                found.extend(Resonance(pol, b.m, complex(d)) for d in distinct)
            else:
                split.append(b)
        # bisect unresolved boxes along their longer side (in units of the box's own scales)
        children: list[_Box] = []
        for b in split:
            for _try in range(3):
                f = 0.5 + 0.1 * (rng.random() - 0.5)
                if (b.x1 - b.x0) >= (b.y1 - b.y0):
                    c = b.x0 + f * (b.x1 - b.x0)
                    pair = [_Box(b.m, b.x0, c, b.y0, b.y1, depth=b.depth + 1), _Box(b.m, c, b.x1, b.y0, b.y1, depth=b.depth + 1)]
                else:
                    c = b.y0 + f * (b.y1 - b.y0)
                    if b.y0 < 0 < b.y1 and abs(c) < 0.05 * (b.y1 - b.y0):  # keep split lines off the real axis
                        c = b.y0 + 0.3 * (b.y1 - b.y0) if c > 0 else b.y0 + 0.7 * (b.y1 - b.y0)
                        c = c if abs(c) > 0.05 * (b.y1 - b.y0) else b.y0 + 0.25 * (b.y1 - b.y0)
                    pair = [_Box(b.m, b.x0, b.x1, b.y0, c, depth=b.depth + 1), _Box(b.m, b.x0, b.x1, c, b.y1, depth=b.depth + 1)]
                cs = _count(sampler, pair, initial)
                if None not in cs and sum(cs) == b.count:
                    for ch, cc in zip(pair, cs):
                        ch.count = cc
                        if cc:
                            children.append(ch)
                    break
            else:
                result.problems.append(f"m={b.m}: box {b.corners} (count {b.count}) could not be split and counted")
        active = again + children

    result.evaluations += sampler.evaluations
    result.contour_evaluations = sampler.evaluations
    found = [r for r in found if k_lo <= r.k.real <= k_hi]
    result.roots = sorted(found, key=lambda r: (r.m, r.k.real))
    top = m_range[1]
    if automatic and result.counts.get(top):
        result.problems.append(f"the last m searched ({top}) still holds {result.counts[top]} resonances: widen m_range")
    return result


def census_window(stack: Stack, pol: str, wavelength_nm_window: tuple[float, float], q_floor: float, **kw) -> Census:
    """:func:`census` for a vacuum-wavelength window in nm."""
    lo, hi = wavelength_nm_window
    return census(stack, pol, 2000 * math.pi / hi, 2000 * math.pi / lo, q_floor, **kw)


def local_root(stack: Stack, pol: str, m: int, k_guess: complex, rel_box: float = 1e-7):
    """The resonance next to ``k_guess``, with its own count: Newton from the guess, then the
    argument principle on a small square around the result must count exactly one root.
    Returns (k, count) (count None if the square could not be counted)."""
    k = polish(stack, pol, m, k_guess, steps=_NEWTON_STEPS)
    h = rel_box * abs(k)
    sampler = _Sampler(stack, pol)
    box = _Box(m, k.real - h, k.real + h, k.imag - h, k.imag + h)
    (count,) = _count(sampler, [box], 9)
    return k, count
