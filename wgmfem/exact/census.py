"""Every resonance in a set of (m, k-interval) boxes, found and then counted independently.

How the roots are found (lossless stack, one polarization, vectorized over boxes):

1. Poles. f(k) = beta_in - beta_out has its poles on the real axis, at the zeros of
   the inner solution at r_b. Sturm's oscillation theorem counts them exactly
   (:func:`~wgmfem.exact.characteristic.node_count`). This matters: at m = 600 a core
   mode of the paper's capillary lies 3e-6 (relative) from a pole.
2. Roots. Between two consecutive poles beta_in falls from +inf to -inf, so the
   pole-free real function g~ = v - u Re(beta_out) changes sign exactly once there, and
   c(k) = 2 (poles below k) + [f < 0] rises by one at every pole and every root: bisection
   on c isolates each root (:func:`_isolate_roots`), safeguarded Newton with the exact
   k-derivative (``propagate(derivative=True)``) solves it.
3. Loss. Im k follows from the leak term Im(beta_out) = p (2/pi)/|H|^2 (Wronskian,
   no cancellation) divided by dg/dk: first order in 1/Q, so Q is exact to ~1/Q and
   stays accurate at Q = 1e13. Resonances with Q below ``POLISH_BELOW_Q`` (1e9) are
   polished by Newton's method on f in the complex plane instead.
4. Independent count. The argument principle on the rectangle
   [k_lo, k_hi] x [-depth, +height] applied to F = v - u beta_out (analytic up to a
   positive factor, zeros exactly at the resonances, no poles) gives the number
   of resonances with Q >= q_floor in the box; it must equal the number found.
5. Labels: energy fractions, region, radial order p, and the node count (zeros inside
   the fibre), which with (pol, m) identifies a resonance.

Absorbing or gain layers (complex indices) are censused directly by
:func:`_lossy_roots`: same count, seeds from the lossless stack's resonances moved by
their first-order shift, labels from the lossless partner each root is paired with.

Where the count exceeds the roots found (a resonance with no nearby real root of g~,
which happens when no tunnelling barrier lies outside r_b), Newton's method from a
seeds just below each pole and box end, then from a grid inside the rectangle, looks for the rest. A root is kept only if the
iteration converged and |f/f'|/|k| < ``ACCEPT_RESIDUAL``. Boxes whose count still
disagrees are reported, never silently accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..geometry import LayeredCylinder
from .characteristic import (
    leak_admittance,
    node_count,
    node_count_and_state,
    outgoing_admittance,
    outgoing_admittance_derivative,
    propagate,
)
from .energy import label_modes, sturm_norm

# Below this Q the complex Newton polish gives Im k to ~1e-14 absolute, better than the first-order
# Wronskian formula (relative error ~ |Im k| / distance to the nearest pole); above it,
# the Wronskian formula is the accurate one.
POLISH_BELOW_Q = 1e9
ACCEPT_RESIDUAL = 1e-10  # a root is kept only if |f/f'| / |k| is below this
NEWTON_NOISE_FLOOR = 1e-11  # a Newton step below this (relative) that stops shrinking has met rounding
INWARD_ABOVE_SENSITIVITY = 1e-6
LOSS_SLACK = 1.25  # safety factor on the first-order absorption/gain shift of Im k
SIBLING_Q_MIN = 1.0  # resonances ranked within an inter-pole interval: every one the box can hold
AMBIGUOUS_PAIRING = 0.5  # a lossy root this close (relative) to a second lossless prediction is flagged
_AIRY_A1 = 2.338107410459767  # |first zero of Ai|


@dataclass
class Root:
    """One resonance as found by the census (labels added by :func:`census`)."""

    pol: str
    m: int
    k: complex
    method: str
    residual: float  # |f(k) / f'(k)| / |k|: estimated relative distance to the true root
    fractions: np.ndarray | None = None
    region_index: int = -1
    p: int = 0
    zeros_in_region: int = 0
    box: int = -1
    label_inward: bool = False  # labels taken from the field built from the outside in
    nodes: int = -1  # zeros of the (real-index) field in 0 < r < r_b at Re k
    sibling: int = 0  # rank by Re k among the resonances between the same two poles (nodes, sibling identify)
    lossless_k: complex | None = None  # absorbing/gain stacks: the lossless resonance this one continues
    pairing: str = ""  # absorbing/gain stacks: how the lossless partner was chosen


@dataclass
class BoxCheck:
    """Result of the independent count in one box."""

    pol: str
    m: int
    k_lo: float
    k_hi: float
    q_floor: float  # every resonance of the box with (radiation) Q >= q_floor is in the count
    expected: int | None  # resonances counted by the argument principle (None: not run)
    found: int
    note: str = ""
    q_floor_total: float | None = None  # absorbing/gain stacks: the floor on the total |Q| of the counted rectangle

    @property
    def ok(self) -> bool:
        return self.expected is not None and self.expected == self.found


@dataclass
class CensusResult:
    roots: list[Root] = field(default_factory=list)
    checks: list[BoxCheck] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(c.ok for c in self.checks)


def hankel_zero_kappa(cyl: LayeredCylinder, m) -> np.ndarray:
    """|Im k| of the zero of H1_m(k n_out r_b) nearest the real axis (asymptotic, DLMF 10.21(ix)).

    Zeros of H1_m put poles into beta_out; the counting contour stays well above them.
    """
    m = np.maximum(np.asarray(m, dtype=float), 1.0)
    return (m / 2) ** (1 / 3) * _AIRY_A1 * np.sin(np.pi / 3) / (cyl.outside_index * cyl.outer_radius_um)


def _g_tilde_newton(cyl, pol, m, k):
    """(g~, dg~/dk) at real k, the derivative in g~'s representation (:func:`newton_bracketed`)."""
    inner = propagate(cyl, pol, m, k, derivative=True)
    beta = outgoing_admittance(cyl, pol, m, k)
    d_re_beta = outgoing_admittance_derivative(cyl, pol, m, k, beta).real  # d(Re beta)/dk on the real axis
    beta = beta.real
    return inner.v - inner.u * beta, inner.dv - inner.du * beta - inner.u * d_re_beta


def _u_newton(cyl, pol, m, k):
    """(u, du/dk) of the inner state at the outer surface: its zeros are the poles of f."""
    inner = propagate(cyl, pol, m, k, derivative=True)
    return inner.u, inner.du


def _isolate_events(cyl, pol, m, k_lo, k_hi, lo_ends, hi_ends, roots: bool):
    """Brackets that each hold one real root of g~ (``roots``) or one pole of f, by bisection on
    c(k) = 2 n(k) + [f(k) < 0].

    n counts the poles of f below k (Sturm, :func:`node_count_and_state`) and f = g~ / u falls
    from +inf to -inf between consecutive poles, so c rises by one at every pole and at every
    root: a root is where c goes from even to odd, a pole from odd to even. ``lo_ends`` /
    ``hi_ends``: (n, u, g~) at the box ends. Returns per event (box, a, b, (n, u, g~) at a,
    (n, u, g~) at b, whether c rises by exactly one across [a, b]); the bisection stops there or
    at rounding.
    """

    def half_count(n, u, g):
        return 2 * n + (g * u < 0)

    h_lo, h_hi = half_count(*lo_ends), half_count(*hi_ends)
    parity = 1 if roots else 0
    first = h_lo + 1 + ((h_lo + 1 - parity) % 2)  # the first value above h_lo of the events' parity
    counts = np.maximum((h_hi - first) // 2 + 1, 0)
    box = np.repeat(np.arange(len(m)), counts)
    target = np.concatenate([np.arange(f, h + 1, 2) for f, h in zip(first, h_hi)]) if box.size else np.zeros(0, int)
    a, b = k_lo[box].copy(), k_hi[box].copy()
    ha, hb = h_lo[box].copy(), h_hi[box].copy()
    at_a = [part[box].copy() for part in lo_ends]  # n, u, g~
    at_b = [part[box].copy() for part in hi_ends]
    mb = m[box]
    for _ in range(64):
        mid = 0.5 * (a + b)
        active = ((ha != target - 1) | (hb != target)) & (mid > a) & (mid < b)
        if not np.any(active):
            break
        idx = np.nonzero(active)[0]
        n_mid, u_mid, v_mid = node_count_and_state(cyl, pol, mb[idx], mid[idx])
        g_mid = v_mid - u_mid * outgoing_admittance(cyl, pol, mb[idx], mid[idx]).real
        h_mid = half_count(n_mid, u_mid, g_mid)
        above = h_mid >= target[idx]
        up, down = idx[above], idx[~above]
        b[up], hb[up] = mid[up], h_mid[above]
        a[down], ha[down] = mid[down], h_mid[~above]
        for ends, sel, side in ((at_b, up, above), (at_a, down, ~above)):
            for part, value in zip(ends, (n_mid, u_mid, g_mid)):
                part[sel] = value[side]
    single = (ha == target - 1) & (hb == target)
    return box, a, b, at_a, at_b, single, hb - ha


def _isolate_roots(cyl, pol, m, k_lo, k_hi, lo_ends, hi_ends):
    """Brackets that each hold one real root of g~ (:func:`_isolate_events`). Returns (box, a, b,
    g~(a), g~(b), n(a), isolated, at_pole) per root: ``isolated`` where [a, b] holds the root alone;
    ``at_pole`` where the bisection reached rounding with the root and its pole in one bracket
    (c rises by two across it, and both g~ and u change sign). A bracket that is neither (a node
    count that is not monotone within rounding of a pole) is no root: the independent count
    decides."""
    box, a, b, at_a, at_b, single, rise = _isolate_events(cyl, pol, m, k_lo, k_hi, lo_ends, hi_ends, roots=True)
    (na, ua, ga), (_, ub, gb) = at_a, at_b
    g_flips = np.sign(ga) * np.sign(gb) < 0
    isolated = single & g_flips
    at_pole = ~isolated & (rise == 2) & g_flips & (np.sign(ua) * np.sign(ub) < 0)
    return box, a, b, ga, gb, na, isolated, at_pole


def _poles_of(cyl, pol, m, k_lo, k_hi, lo_ends, hi_ends, boxes):
    """(box index, pole) of the real poles of f in ``boxes``, for the seeds of :func:`_grid_search`:
    each isolated by :func:`_isolate_events` and located by Newton's method on u (exact
    derivative); a bracket at rounding gives its middle."""
    if not boxes:
        return np.zeros(0, int), np.zeros(0)
    sel = np.asarray(boxes)
    ends = [tuple(part[sel] for part in state) for state in (lo_ends, hi_ends)]
    box, a, b, at_a, at_b, single, _ = _isolate_events(cyl, pol, m[sel], k_lo[sel], k_hi[sel], *ends, roots=False)
    pole = 0.5 * (a + b)
    ua, ub = at_a[1], at_b[1]
    ok = single & (np.sign(ua) * np.sign(ub) < 0)
    if np.any(ok):
        mb = m[sel][box[ok]]
        pole[ok], _, _ = newton_bracketed(lambda i, k: _u_newton(cyl, pol, mb[i], k), a[ok], b[ok], ua[ok], ub[ok])
    return sel[box], pole


def newton_bracketed(func, a, b, fa, fb, xtol_rel=4e-16, max_iter=300):
    """Vectorized safeguarded Newton on brackets [a, b] with fa * fb < 0. Returns (root, lo, hi).

    ``func(idx, k)`` gives (f, df/dk) of the elements ``idx`` at ``k``; f may carry any smooth
    positive factor that df omits (Newton on f * c converges to the same root). A Newton step
    that leaves the bracket or does not halve the previous step is replaced by bisection
    (rtsafe), so the iteration never leaves [a, b] and converges quadratically where f is
    smooth. The last Newton step is taken without a further evaluation once it is below
    ``4 xtol_rel`` of k; [lo, hi] is the bracket of the last evaluated points.
    """
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    f_lo = np.where(a <= b, fa, fb)
    with np.errstate(all="ignore"):
        x = (a * fb - b * fa) / (fb - fa)  # start at the regula falsi point
    x = np.where(np.isfinite(x) & (x > lo) & (x < hi), x, 0.5 * (lo + hi))
    root = x.copy()
    step_old = hi - lo  # step before the last, for the "halving" test
    step = step_old.copy()
    active = np.arange(x.size)
    for _ in range(max_iter):
        if active.size == 0:
            break
        fx, dfx = func(active, x[active])
        same = np.sign(fx) == np.sign(f_lo[active])
        lo[active] = np.where(same, x[active], lo[active])
        f_lo[active] = np.where(same, fx, f_lo[active])
        hi[active] = np.where(same, hi[active], x[active])
        xa, la, ha = x[active], lo[active], hi[active]
        with np.errstate(all="ignore"):
            newton = fx / dfx
            cand = xa - newton
        tol = 4 * xtol_rel * np.abs(xa)
        converged = np.abs(newton) <= tol  # a step below rounding of k: x_new may equal x
        bisect = ~converged & (
            ~np.isfinite(cand) | (cand <= la) | (cand >= ha) | (np.abs(2 * newton) > np.abs(step_old[active]))
        )
        new_step = np.where(bisect, xa - 0.5 * (la + ha), newton)
        x_new = np.where(bisect, 0.5 * (la + ha), np.clip(cand, la, ha))
        step_old[active], step[active] = step[active], new_step
        finished = (fx == 0) | converged | (np.abs(new_step) <= tol) | (ha - la <= tol)
        root[active] = np.where(fx == 0, xa, x_new)
        x[active] = x_new
        active = active[~finished]
    return root, lo, hi


def polish_roots(cyl, pol, m, k0, k1=None, tol=1e-15, max_iter=40, func=None, pole_free=False):
    """Vectorized complex root polish from seeds ``k0``. Returns (k, converged).

    Without ``func`` this is Newton's method with the exact derivative (:func:`_newton_F`; ``k1``
    is then unused) on f = beta_in - beta_out, or with ``pole_free=True`` on the pole-free,
    analytic F = u f = v - u beta_out (same zeros, different basins: from a real-axis seed next
    to a pole, f's Newton steps stay with the resonance of that inter-pole interval). With
    ``func(cyl, pol, m, k)`` it is a secant from (k0, k1) on that function. A step that leaves
    the neighbourhood of its seed (20 % of |k0|) or the half-plane Re k > 0 has diverged and is
    not converged.
    """
    if func is None:
        return _complex_newton(cyl, pol, m, np.asarray(k0), tol, max_iter, pole_free)
    evaluate = lambda idx, k: func(cyl, pol, m[idx], k)  # noqa: E731
    everything = np.arange(np.size(k0))
    f0 = evaluate(everything, k0)
    f1 = evaluate(everything, k1)
    k0, k1 = k0.astype(complex), k1.astype(complex)
    start = k0.copy()
    done = np.zeros(k0.shape, bool)
    diverged = np.zeros(k0.shape, bool)
    for _ in range(max_iter):
        idx = np.nonzero(~done)[0]
        if idx.size == 0:
            break
        with np.errstate(all="ignore"):
            k2 = k1[idx] - f1[idx] * (k1[idx] - k0[idx]) / (f1[idx] - f0[idx])
        # a step that leaves the neighbourhood of its seed has diverged: stop it there
        bad = ~np.isfinite(k2) | (np.abs(k2 - start[idx]) > 0.2 * np.abs(start[idx])) | (k2.real <= 0)
        k2[bad] = k1[idx][bad]
        f2 = evaluate(idx, k2)
        step = np.abs(k2 - k1[idx])
        k0[idx], f0[idx] = k1[idx], f1[idx]
        k1[idx], f1[idx] = k2, f2
        finished = (step <= tol * np.abs(k2)) | (f2 == 0)
        done[idx] = finished | bad
        diverged[idx] |= bad & ~finished
    return k1, done & ~diverged


def _newton_F(cyl, pol, m, k, pole_free: bool = True):
    """(F, dF/dk) of the pole-free F = v - u beta_out, in one representation: the physical F and
    its derivative are both exp(L(k)) times these (L the propagated log-scale), so F / dF is the
    exact Newton step of the physical, analytic F. ``pole_free=False``: (f, df/dk) of
    f = F / u = beta_in - beta_out instead."""
    inner = propagate(cyl, pol, m, k, derivative=True)
    beta = outgoing_admittance(cyl, pol, m, k)
    d_beta = outgoing_admittance_derivative(cyl, pol, m, k, beta)
    F, dF = inner.v - inner.u * beta, inner.dv - inner.du * beta - inner.u * d_beta
    if pole_free:
        return F, dF
    with np.errstate(all="ignore"):
        return F / inner.u, (dF * inner.u - F * inner.du) / inner.u**2


def _complex_newton(cyl, pol, m, k0, tol, max_iter, pole_free):
    """Newton's method on F or f (:func:`_newton_F`) from seeds ``k0``: see :func:`polish_roots`."""
    m = np.asarray(m)
    k = np.array(k0, dtype=complex).reshape(-1)
    start = k.copy()
    done = np.zeros(k.shape, bool)
    diverged = np.zeros(k.shape, bool)
    last_step = np.full(k.shape, np.inf)
    for _ in range(max_iter):
        idx = np.nonzero(~done)[0]
        if idx.size == 0:
            break
        F, dF = _newton_F(cyl, pol, m[idx], k[idx], pole_free)
        with np.errstate(all="ignore"):
            step = F / dF
        k_new = k[idx] - step
        # a step that leaves the neighbourhood of its seed has diverged: stop it there
        bad = ~np.isfinite(k_new) | (np.abs(k_new - start[idx]) > 0.2 * np.abs(start[idx])) | (k_new.real <= 0)
        size = np.abs(step)
        # converged: a step below tol, or a small step that no longer shrinks (the rounding noise
        # of F, 1e-14 - 1e-13 of k at low Q); the residual test downstream judges the root
        stalled = (size <= NEWTON_NOISE_FLOOR * np.abs(k_new)) & (size >= 0.5 * last_step[idx])
        finished = ~bad & ((size <= tol * np.abs(k_new)) | (F == 0) | stalled)
        last_step[idx] = size
        k[idx] = np.where(bad, k[idx], k_new)
        done[idx] = finished | bad
        diverged[idx] |= bad
    return k.reshape(np.shape(k0)), done & ~diverged


def relative_residual(cyl, pol, m, k):
    """|F / F'| / |k| at k: the relative distance to the nearest root, to first order.

    F = v - u beta_out is pole-free and analytic (its exact derivative: :func:`_newton_F`), so a
    pole next to the root (1e-14 away for a barely coupled mode) does not spoil the estimate,
    and neither does the smooth normalization of the contour count's F (not analytic: its
    difference quotient is noise at a strongly confined, absorbing root).
    """
    F, dF = _newton_F(cyl, pol, m, k)
    with np.errstate(all="ignore"):
        return np.abs(F / dF) / np.abs(k)


def find_roots(
    cyl: LayeredCylinder, pol: str, m, k_lo, k_hi, q_min=100.0, verify: bool = True, rank_siblings: bool = True
) -> CensusResult:
    """All resonances with Re k in [k_lo, k_hi] (1/um) and Q above a floor, per box.

    ``m``, ``k_lo``, ``k_hi`` are arrays of equal length (one box each); ``q_min`` a number
    or one per box. The counted rectangle reaches down to |Im k| = Re k / (2 q_min), less
    where the zeros of H1 come close (:func:`hankel_zero_kappa`): the floor it guarantees
    is reported in each :class:`BoxCheck`. Absorbing or gain layers (complex indices) are
    censused directly (:func:`_lossy_roots`). ``verify=False`` skips the independent count
    (for internal seeding passes only); ``rank_siblings=False`` skips ordering resonances
    that share an inter-pole interval (:func:`_rank_siblings`).
    """
    m = np.atleast_1d(np.asarray(m, dtype=int))
    k_lo = np.atleast_1d(np.asarray(k_lo, dtype=float)) * np.ones(m.shape)
    k_hi = np.atleast_1d(np.asarray(k_hi, dtype=float)) * np.ones(m.shape)
    q_min = np.asarray(q_min, dtype=float) * np.ones(m.shape)
    if not cyl.is_lossless:
        return _lossy_roots(cyl, pol, m, k_lo, k_hi, q_min, verify)
    depth = np.minimum(k_hi / (2 * q_min), 0.5 * hankel_zero_kappa(cyl, m))
    q_floor = k_hi / (2 * depth)

    # 1. isolate each real root of g~ by bisection on the count of poles and roots below k
    ends = []  # (n, u, g~) at k_lo and at k_hi
    for k_end in (k_lo, k_hi):
        n_end, u_end, v_end = node_count_and_state(cyl, pol, m, k_end)
        ends.append((n_end, u_end, v_end - u_end * outgoing_admittance(cyl, pol, m, k_end).real))
    lo_ends, hi_ends = ends
    rb, seg_a, seg_b, ga, gb, nodes_below, isolated, hidden = _isolate_roots(cyl, pol, m, k_lo, k_hi, lo_ends, hi_ends)

    # 2. each isolated root by safeguarded Newton on g~ (continuous, one sign change in its bracket)
    mr = m[rb[isolated]]
    k_real, _, _ = newton_bracketed(
        lambda idx, k: _g_tilde_newton(cyl, pol, mr[idx], k), seg_a[isolated], seg_b[isolated], ga[isolated], gb[isolated]
    )
    # A core mode that barely couples outwards has its root closer to its pole than double
    # precision resolves (m = 5000: < 1e-14): the bisection ends at rounding with the root and
    # the pole in one bracket, which is then the root's position.
    n_bracketed = k_real.size
    k_real = np.concatenate([k_real, 0.5 * (seg_a[hidden] + seg_b[hidden])])
    hidden_width = (seg_b[hidden] - seg_a[hidden]) / k_real[n_bracketed:]
    rb = np.concatenate([rb[isolated], rb[hidden]])
    nodes_below = np.concatenate([nodes_below[isolated], nodes_below[hidden]])
    mr = m[rb]

    # 3. loss: first order from the Wronskian leak, complex polish where Q is modest
    eps, sensitivity = _first_order(cyl, pol, mr, k_real)
    k = k_real + 1j * eps
    method = np.full(k.shape, "real root + Wronskian leak", dtype=object)
    with np.errstate(divide="ignore", over="ignore"):  # eps underflows to 0 for Q beyond ~1e300
        q1 = np.abs(k_real / (2 * eps))
    # the first-order leak needs the outer surface under the tunnelling barrier
    low_q = ~(q1 >= POLISH_BELOW_Q) | ~_under_barrier(cyl, mr, k_real)
    if np.any(low_q):
        k0 = k[low_q]
        step = (1e-3 * np.abs(k0.imag) + 1e-12 * np.abs(k0)) * (1 + 1j)
        kp, conv = polish_roots(cyl, pol, mr[low_q], k0, k0 + step)
        k[low_q] = np.where(conv, kp, k0)
        method[low_q] = np.where(conv, "complex Newton", "complex Newton (not converged)")
    residual = relative_residual(cyl, pol, mr, k)
    # a root inside a pole bracket: its position is known to the bracket width, and the
    # smoothly normalized F cannot see it (both u and v vanish there)
    residual[n_bracketed:] = hidden_width
    for i in range(n_bracketed, k.size):  # its Im k: polished (modest Q, or no barrier outside) or the Wronskian leak
        how = ", complex Newton" if method[i] == "complex Newton" else " + Wronskian leak"
        method[i] = "root within machine precision of a pole (barely coupled mode)" + how
    accepted = (residual < ACCEPT_RESIDUAL) & ~np.char.endswith(method.astype(str), "(not converged)")

    result = CensusResult()
    inward = (sensitivity > INWARD_ABOVE_SENSITIVITY) | (np.arange(k.size) >= n_bracketed)
    # the node count of a root's bracket is that at the root: no pole between them (a polished
    # root's Re k has moved off the real root, and is counted there by the labels instead)
    nodes = np.where(low_q & (np.arange(k.size) < n_bracketed), -1, nodes_below)
    _add_roots(result, pol, mr, k, method, residual, rb, accepted, k_lo, k_hi, depth, depth, inward, nodes)

    # 4. independent count, and a seed-grid search where it finds more than the real axis did
    expected = count_resonances(cyl, pol, m, k_lo, k_hi, depth) if verify else [None] * len(m)
    short = [b for b in range(len(m)) if (e := expected[b]) is not None and e > _found(result, b)]
    poles = _poles_of(cyl, pol, m, k_lo, k_hi, lo_ends, hi_ends, short)
    # seeds just below the poles and the box ends first (where a resonance with no real root
    # of g~ sits), then grids
    for density in (0, 1, 3, 9):
        if not short:
            break
        _grid_search(cyl, pol, m, k_lo, k_hi, depth, depth, short, density, result, poles)
        short = [b for b in short if (e := expected[b]) is not None and e > _found(result, b)]

    _mark_unresolved_loss(result.roots)

    # 5. labels (energy fractions, region, p, nodes), at Re k
    _label_roots(cyl, pol, result.roots)
    if rank_siblings:
        _rank_siblings(cyl, pol, result.roots)
    _append_checks(result, pol, m, k_lo, k_hi, q_floor, expected, verify)
    return result


UNRESOLVED_LOSS = "Im k at rounding noise: Q_rad is a lower bound"
UNCERTAIN_LOSS = "Im k near the polish's noise: Q_rad uncertain"
# A polished Im k below this fraction of Re k (Q_rad above 1e9) can be noise: the polish stops once
# its steps stall below NEWTON_NOISE_FLOOR (1e-11 of k), and next to a pole its Im k was off by
# 1.05e-11 of k (a 4-layer stack's Hz m = 220 root, against its 40-digit Q of 1.96e15).
POLISH_NOISE_IMAG = 5e-10


def _mark_unresolved_loss(roots: list[Root]) -> None:
    """Lossless stacks, roots whose Im k comes from the complex polish (a very high Q with no
    tunnelling barrier at the outer surface, where the Wronskian formula does not apply):

    * Im k >= 0 (no passive resonance grows): the loss is below what the polish resolves. Im k
      is set to minus twice the noise it showed plus its residual, which bounds Q_rad from below
      (checked against 40-digit roots, tests/test_exact_vs_mpmath.py), and the method says so;
    * |Im k| below POLISH_NOISE_IMAG of Re k: kept, and the method says it is uncertain.

    (An Im k from the Wronskian formula is never noise: it is 0 only where it underflows, Q
    beyond the double range.)"""
    for r in roots:
        if "Wronskian" in r.method:
            continue
        if r.k.imag >= 0:
            noise = 2 * abs(r.k.imag) + max(r.residual, np.finfo(float).eps) * abs(r.k)
            r.k = complex(r.k.real, -noise)
            r.method = f"{r.method} ({UNRESOLVED_LOSS})"
        elif -r.k.imag < POLISH_NOISE_IMAG * r.k.real:
            r.method = f"{r.method} ({UNCERTAIN_LOSS})"


def _rank_siblings(cyl: LayeredCylinder, pol: str, roots: list[Root]) -> None:
    """Order resonances that share an interval between two consecutive poles.

    Under a tunnelling barrier each such interval holds one resonance. Where the outer
    surface is not under one, an interval may hold two or more (Hz at low m sits next to the
    poles, on either side; a weakly leaking core mode shares its interval with a low-Q
    resonance of the wall). For those resonances the interval is located by bisection on the
    node count, censused whole (independently of the box that found them) and its resonances
    ranked by Re k: ``sibling`` is that rank, so (pol, m, nodes, sibling) identifies them. Only
    intervals where the box found more than one resonance are ranked (a census is costly): a
    result holding just one resonance of such an interval reports it as sibling 0.
    """
    shared: dict[tuple, int] = {}
    for r in roots:
        shared[(r.box, r.nodes)] = shared.get((r.box, r.nodes), 0) + 1
    todo = [r for r in roots if shared[(r.box, r.nodes)] > 1 and not _under_barrier(cyl, r.m, r.k.real)]
    if not todo:
        return
    m = np.array([r.m for r in todo])
    k = np.array([r.k.real for r in todo])
    n_at = node_count(cyl, pol, m, k)
    edges = []
    for side in (-1, 1):  # the nearest pole below and above: where the count changes
        near, width = k.copy(), 1e-3 * k
        far = np.maximum(k + side * width, 1e-6 * k)
        for _ in range(12):  # widen until the count differs
            moved = node_count(cyl, pol, m, far) != n_at
            if np.all(moved):
                break
            width = width * 2
            far = np.where(moved, far, np.maximum(k + side * width, 1e-6 * k))
        for _ in range(55):
            mid = 0.5 * (near + far)
            moved = node_count(cyl, pol, m, mid) != n_at
            near, far = np.where(moved, near, mid), np.where(moved, mid, far)
        edges.append(np.where(node_count(cyl, pol, m, far) != n_at, near, np.nan))
    intervals: dict[tuple, list[int]] = {}
    for i in range(len(todo)):
        if np.isfinite(edges[0][i]) and np.isfinite(edges[1][i]):
            intervals.setdefault((int(m[i]), float(edges[0][i]), float(edges[1][i])), []).append(i)
    if not intervals:
        return
    keys = list(intervals)
    whole = find_roots(cyl, pol, [key[0] for key in keys], [key[1] for key in keys], [key[2] for key in keys],
                       q_min=SIBLING_Q_MIN, rank_siblings=False)
    for b, key in enumerate(keys):
        ranked = sorted((r.k for r in whole.roots if r.box == b), key=lambda z: z.real)
        for i in intervals[key]:
            hits = [j for j, z in enumerate(ranked) if abs(z - todo[i].k) <= 1e-8 * abs(z)]
            todo[i].sibling = hits[0] if hits else -1


def _label_roots(cyl: LayeredCylinder, pol: str, roots: list[Root]) -> None:
    """Energy fractions, region, radial order p and node count of lossless roots, at Re k."""
    if not roots:
        return
    mm = np.array([r.m for r in roots])
    kk = np.array([r.k.real for r in roots])
    labels = label_modes(cyl, pol, mm, kk)
    at_pole = np.array([r.label_inward for r in roots])
    if np.any(at_pole):  # their field is only accurate when built from the outside in
        inward = label_modes(cyl, pol, mm[at_pole], kk[at_pole], inward=True)
        for name in ("fractions", "maxima", "zeros"):
            getattr(labels, name)[:, at_pole] = getattr(inward, name)
        labels.region_index[at_pole], labels.p[at_pole] = inward.region_index, inward.p
    # Sturm: the node count steps by one at each pole and each inter-pole segment holds one
    # real-axis root, so (pol, m, nodes) identifies a resonance
    nodes = node_count(cyl, pol, mm, kk)
    for i, r in enumerate(roots):
        r.fractions = labels.fractions[:, i]
        r.region_index = int(labels.region_index[i])
        r.p = int(labels.p[i])
        r.zeros_in_region = int(labels.zeros[r.region_index, i]) if r.region_index < cyl.n_layers else 0
        if r.nodes < 0:
            r.nodes = int(nodes[i])


def _append_checks(result, pol, m, k_lo, k_hi, q_floor, expected, verify, q_floor_total=None, extra_notes=None):
    for b in range(len(m)):
        found = _found(result, b)
        note = "" if expected[b] == found else f"argument principle counts {expected[b]}, found {found}"
        if expected[b] is None:
            note = "argument-principle count did not converge" if verify else "not counted"
        if extra_notes and extra_notes.get(b):
            note = "; ".join(x for x in (note, extra_notes[b]) if x)
        total = None if q_floor_total is None else float(q_floor_total[b])
        result.checks.append(
            BoxCheck(pol, int(m[b]), float(k_lo[b]), float(k_hi[b]), float(q_floor[b]), expected[b], found, note, total)
        )


def _lossy_roots(cyl: LayeredCylinder, pol: str, m, k_lo, k_hi, q_min, verify) -> CensusResult:
    """Census of a stack with absorbing or gain layers (complex indices).

    F = v - u beta_out stays analytic in k with complex indices, so the argument principle
    counts the lossy resonances directly. The rectangle reaches down by the radiation
    floor plus the largest absorption shift k max_j(kappa_j / n_j) (and up by the largest
    gain shift): every resonance whose lossless counterpart has Q_rad >= q_floor lies
    inside. Roots are found by Newton's method on F from the first-order prediction
    k0 (1 - i sum_j Gamma_j kappa_j / n_j) of every resonance k0 of the lossless stack
    (a seed-grid search adds any the count still misses). Each lossy root is paired one
    to one with the lossless resonance whose prediction it is nearest to; its labels
    (fractions, region, p, nodes) and its radiation Q are that resonance's.
    """
    base = cyl.real_part()
    absorb_rate, gain_rate = cyl.loss_rates()
    limit = 0.5 * hankel_zero_kappa(cyl, m)
    radiation = k_hi / (2 * q_min)
    depth = np.minimum(radiation + LOSS_SLACK * absorb_rate * k_hi, limit)
    height = np.maximum(depth, LOSS_SLACK * gain_rate * k_hi)
    margin = depth - LOSS_SLACK * absorb_rate * k_hi
    with np.errstate(divide="ignore"):
        q_floor = np.where(margin > 0, k_hi / (2 * np.maximum(margin, 1e-300)), np.inf)
    q_floor_total = k_hi / (2 * depth)

    # lossless resonances that can move into the rectangle: the seeds and the labels
    reach = np.minimum(depth + LOSS_SLACK * gain_rate * k_hi, limit)
    seed_lo = np.maximum(k_lo - depth, 0.5 * k_lo)  # k stays positive (m = 0 boxes start near k = 0)
    seed_run = find_roots(base, pol, m, seed_lo, k_hi + depth, q_min=k_hi / (2 * reach), verify=False)
    seeds_from = seed_run.roots
    layer_rates = np.array([complex(n).imag / complex(n).real for n in cyl.indices])

    def predicted(r: Root) -> complex:
        assert r.fractions is not None  # find_roots labels every root
        return r.k - 1j * r.k.real * float(np.dot(r.fractions[: cyl.n_layers], layer_rates))

    result = CensusResult()
    if seeds_from:
        k0 = np.array([predicted(r) for r in seeds_from])
        ms = np.array([r.m for r in seeds_from])
        boxes = np.array([r.box for r in seeds_from])
        step = (1e-3 * np.abs(k0 - np.array([r.k for r in seeds_from])) + 1e-9 * np.abs(k0)) * (1 + 1j)
        k, conv = polish_roots(cyl, pol, ms, k0, k0 + step, pole_free=True)
        residual = relative_residual(cyl, pol, ms, k)
        method = np.full(k.shape, "complex Newton from the lossless resonance's first-order shift", dtype=object)
        _add_roots(result, pol, ms, k, method, residual, boxes, conv & (residual < ACCEPT_RESIDUAL), k_lo, k_hi, depth, height)

    expected = count_resonances(cyl, pol, m, k_lo, k_hi, depth, height) if verify else [None] * len(m)
    short = [b for b in range(len(m)) if (e := expected[b]) is not None and e > _found(result, b)]
    for density in (1, 3, 9):
        if not short:
            break
        _grid_search(cyl, pol, m, k_lo, k_hi, depth, height, short, density, result)
        short = [b for b in short if (e := expected[b]) is not None and e > _found(result, b)]

    notes = _pair_with_lossless(cyl, base, pol, result.roots, seeds_from, predicted)
    _append_checks(result, pol, m, k_lo, k_hi, q_floor, expected, verify, q_floor_total, notes)
    return result


def _pair_with_lossless(cyl, base, pol, roots: list[Root], lossless: list[Root], predicted) -> dict[int, str]:
    """Give each lossy root the labels of its lossless counterpart (one to one per box, nearest
    first-order prediction); roots left without one are labelled from the real-index field at
    their Re k. Where absorption is weak (|Q| above ``POLISH_BELOW_Q``) Im k is the lossless
    one plus the first-order absorption, which is then more accurate than the complex polish's."""
    notes: dict[int, str] = {}
    unpaired = []
    for b in sorted({r.box for r in roots}):
        lossy = [r for r in roots if r.box == b]
        candidates = [r for r in lossless if r.box == b]
        if not candidates:
            unpaired.extend(lossy)
            continue
        pred = np.array([predicted(c) for c in candidates])
        cost = np.abs(np.array([r.k for r in lossy])[:, None] - pred[None, :])
        from scipy.optimize import linear_sum_assignment  # here: scipy.optimize costs 0.1 s of every start

        rows, cols = linear_sum_assignment(cost)
        for i, j in zip(rows, cols):
            r, c = lossy[i], candidates[j]
            others = np.delete(cost[i], j)
            ratio = cost[i, j] / others.min() if others.size and others.min() > 0 else 0.0
            r.fractions, r.region_index, r.p = c.fractions, c.region_index, c.p
            r.zeros_in_region, r.nodes, r.sibling, r.lossless_k = c.zeros_in_region, c.nodes, c.sibling, c.k
            r.label_inward = c.label_inward
            r.pairing = f"lossless partner at distance {ratio:.2g} of the next nearest"
            if ratio > AMBIGUOUS_PAIRING:
                r.pairing += " (ambiguous: labels and Q_rad by continuity are uncertain)"
                notes[b] = "ambiguous pairing with the lossless resonances"
            q_rad = np.inf if c.k.imag == 0 else c.k.real / (2 * abs(c.k.imag))
            q_total = np.inf if r.k.imag == 0 else abs(r.k.real / (2 * r.k.imag))
            if q_total > POLISH_BELOW_Q and q_rad > POLISH_BELOW_Q:  # every loss channel tiny
                r.k = complex(r.k.real, predicted(c).imag)
                r.method += " + first-order absorption for Im k"
        unpaired.extend(r for r in lossy if r.lossless_k is None)
    if unpaired:
        _label_roots(base, pol, unpaired)
        for r in unpaired:
            r.pairing = "no lossless partner: labels from the real-index field at Re k"
            notes[r.box] = "a resonance without a lossless partner"
    return notes


def _found(result: CensusResult, box: int) -> int:
    return sum(1 for r in result.roots if r.box == box)


def _add_roots(result, pol, m, k, method, residual, box, accepted, k_lo, k_hi, depth, height, inward=None, nodes=None):
    """Append accepted roots that lie inside their box's counting rectangle
    [k_lo, k_hi] x [-depth, +height] (lossless stacks: Im k <= 0), without duplicates."""
    inside = accepted & (k.real >= k_lo[box]) & (k.real <= k_hi[box]) & (-k.imag <= depth[box]) & (k.imag <= height[box])
    inward = np.zeros(k.shape, bool) if inward is None else inward
    nodes = np.full(k.shape, -1) if nodes is None else nodes
    for i in np.nonzero(inside)[0]:
        result.roots.append(
            Root(pol, int(m[i]), complex(k[i]), str(method[i]), float(residual[i]), box=int(box[i]),
                 label_inward=bool(inward[i]), nodes=int(nodes[i]))
        )
    result.roots = _deduplicate(result.roots)


def _grid_search(cyl, pol, m, k_lo, k_hi, depth, height, boxes, density, result, poles=None):
    """Newton's method on the pole-free F from seeds inside each box's rectangle: a grid of
    12 ``density`` x 5 points, and points just below each real pole and each end of the box
    (for resonances with no nearby real-axis root of g~: when the outer surface is not under
    a tunnelling barrier the resonance sits next to a pole instead; the ends of a sibling
    interval are its poles). ``density=0``: the pole and end seeds alone."""
    seeds, seed_box = [], []
    for b in boxes:
        nx = 12 * density
        xs = np.linspace(k_lo[b], k_hi[b], nx + 2)[1:-1]
        ys = -depth[b] * np.array([1e-9, 0.02, 0.15, 0.5, 0.85])
        if height[b] > depth[b]:  # gain: resonances may have moved above the real axis
            ys = np.concatenate([ys, height[b] * np.array([0.02, 0.15, 0.5, 0.85])])
        grid = (xs[:, None] + 1j * ys[None, :]).ravel()
        if poles is not None:
            at = np.concatenate([poles[1][poles[0] == b], [k_lo[b], k_hi[b]]])
            offsets = -1j * np.geomspace(1e-12, 1e-2, 3 * max(density, 1) + 2) * k_hi[b]
            grid = np.concatenate([grid, (at[:, None] + offsets[None, :]).ravel()])
        if grid.size:
            seeds.append(grid)
            seed_box.append(np.full(grid.size, b))
    if not seeds:
        return
    seeds, seed_box = np.concatenate(seeds), np.concatenate(seed_box)
    ms = m[seed_box]
    step = 1e-3 * np.maximum(np.abs(seeds.imag), 1e-9 * seeds.real) * (1 + 1j)
    k, conv = polish_roots(cyl, pol, ms, seeds, seeds + step, pole_free=True)
    residual = relative_residual(cyl, pol, ms, k)
    method = np.full(k.shape, "complex Newton from a seed grid", dtype=object)
    # the polished Im k is noise at very high Q: take the Wronskian value there
    high_q = conv & (np.abs(k.imag) * 2 * POLISH_BELOW_Q < k.real) & _under_barrier(cyl, ms, k.real) & cyl.is_lossless
    if np.any(high_q):
        k[high_q] = k[high_q].real + 1j * first_order_imag(cyl, pol, ms[high_q], k[high_q].real)
        method[high_q] = "complex Newton from a seed grid + Wronskian leak"
    accepted = conv & (residual < ACCEPT_RESIDUAL)
    # labels from the stitched field where the outward one is too sensitive (as for real roots)
    inward = np.zeros(k.shape, bool)
    if cyl.is_lossless and np.any(accepted):
        with np.errstate(all="ignore"):
            inward[accepted] = _first_order(cyl, pol, ms[accepted], k[accepted].real)[1] > INWARD_ABOVE_SENSITIVITY
    _add_roots(result, pol, ms, k, method, residual, seed_box, accepted, k_lo, k_hi, depth, height, inward)


def _under_barrier(cyl: LayeredCylinder, m, k_real) -> np.ndarray:
    """True where the outer surface lies inside the outer medium's evanescent zone
    (n_out k r_b < m): only there is the leak at r_b a small tunnelling term, which the
    first-order (Wronskian) formula for Im k assumes."""
    return np.asarray(k_real) * cyl.outside_index * cyl.outer_radius_um < np.asarray(m)


def first_order_imag(cyl: LayeredCylinder, pol: str, m, k_real) -> np.ndarray:
    """Im k of a high-Q resonance whose real part is ``k_real`` (first order in 1/Q).

    f = beta_in - beta_out = 0 with beta_out = Re + i*leak gives Im k = leak / g',
    g = beta_in - Re beta_out. The leak is the Wronskian term (no cancellation) and
    d beta_in / dk = -2k int w R^2 dr / u_b^2 (Sturm), with u_b = v_b / Re beta_out,
    its value at the root: no derivative is taken across the nearby pole, so this
    holds even where root and pole coincide to machine precision. Only the smooth
    Re beta_out is differentiated numerically.
    """
    return _first_order(cyl, pol, m, k_real)[0]


def _first_order(cyl, pol, m, k_real):
    """(Im k, outward sensitivity): see :func:`first_order_imag`.

    The sensitivity eps_machine * k |d beta_in/dk| / |beta_out| is the relative error
    that a root known to machine precision leaves in the outer state of the
    outward-propagated field; above ~1e-6 that field is not trusted for labels.
    """
    norm, _, vb = sturm_norm(cyl, pol, m, k_real)
    re_beta = outgoing_admittance(cyl, pol, m, k_real).real
    h = 1e-6 * k_real
    d_re_beta = (outgoing_admittance(cyl, pol, m, k_real + h).real - outgoing_admittance(cyl, pol, m, k_real - h).real) / (2 * h)
    with np.errstate(all="ignore"):
        ub = vb / re_beta
        d_beta_in = -2 * k_real * norm / ub**2
        sensitivity = np.finfo(float).eps * k_real * np.abs(d_beta_in) / np.abs(re_beta)
        return leak_admittance(cyl, pol, m, k_real) / (d_beta_in - d_re_beta), sensitivity


def _deduplicate(roots: list[Root], rel_tol: float = 1e-10) -> list[Root]:
    """One root per resonance; the first found (real axis before the seed grid) is kept."""
    kept: list[Root] = []
    by_box: dict[tuple[int, int], list[complex]] = {}  # (m, box) -> the k kept there
    for r in roots:
        others = by_box.setdefault((r.m, r.box), [])
        if any(abs(k - r.k) <= rel_tol * abs(r.k) for k in others):
            continue
        others.append(r.k)
        kept.append(r)
    return sorted(kept, key=lambda r: (r.m, r.k.real))


def _contour_F(cyl, pol, m, k):
    """F = v - u beta_out and its logarithmic derivative F'/F (exact, :func:`_newton_F`)."""
    F, dF = _newton_F(cyl, pol, m, k)
    with np.errstate(all="ignore"):
        return F, dF / F


# Contour sampling: an edge between neighbouring points is resolved when the phase of F moves by at
# most CONTOUR_MAX_TURN along it, that move agrees within CONTOUR_AGREE (rad) with the trapezoid
# integral of Im(F'/F dk) from the exact derivatives at its ends, and |F'/F| times the edge's length
# is at most CONTOUR_MAX_TURN at both ends. A zero near the edge (or two, whose turns could add up to
# 2 pi and alias) makes |F'/F| large at the ends: ~2/length per zero within the edge's reach.
CONTOUR_MAX_TURN = np.pi / 2
CONTOUR_AGREE = 0.25
CONTOUR_POINTS_PER_HEIGHT = 2  # initial points along the bottom and top per (depth + height)
CONTOUR_SIDE_RATIO = 1000.0  # initial geometric spacing of the sides towards Im k = 0 (split geometrically)


def _unresolved_edges(z, F, w):
    """Indices i of the edges (z[i], z[i+1]) that fail the phase tests (see above)."""
    with np.errstate(all="ignore"):
        turn = np.angle(F[1:] / F[:-1])
        predicted = np.imag(0.5 * (z[1:] - z[:-1]) * (w[1:] + w[:-1]))
        reach = np.abs(z[1:] - z[:-1]) * np.maximum(np.abs(w[1:]), np.abs(w[:-1]))
        ok = (np.abs(turn) <= CONTOUR_MAX_TURN) & (np.abs(turn - predicted) <= CONTOUR_AGREE) & (reach <= CONTOUR_MAX_TURN)
    return np.nonzero(~ok)[0]


def _edge_midpoint(z1: np.ndarray, z2: np.ndarray) -> np.ndarray:
    """Where to split contour edges: the middle, or on a side (same Re k, Im k of one sign) the
    geometric middle of Im k, so that the splits close in on a high-Q root next to the side as
    fast as its distance to the real axis shrinks."""
    mid = 0.5 * (z1 + z2)
    side = (z1.real == z2.real) & (z1.imag * z2.imag > 0)
    mid.imag[side] = np.sign(z1.imag[side]) * np.sqrt(z1.imag[side] * z2.imag[side])
    return mid


def count_resonances(cyl, pol, m, k_lo, k_hi, depth, height=None, max_rounds: int = 60) -> list[int | None]:
    """Winding number of F = v - u beta_out around [k_lo, k_hi] x [-depth, +height] per box
    (``height`` defaults to ``depth``).

    F is analytic up to a positive real factor (the normalization), has no poles
    (the zeros of H1 lie below -kappa) and vanishes exactly at the resonances, so
    its winding number is the number of resonances inside. Sampling is refined until
    every edge passes the phase tests of :func:`_unresolved_edges` (a turn of at most
    pi/2 that matches the integral of the exact F'/F); a box that does not settle
    within ``max_rounds`` refinements gives None.
    """
    height = depth if height is None else height
    points = []
    for b in range(len(m)):
        lo, hi, kap, top_y = k_lo[b], k_hi[b], depth[b], height[b]
        # High-Q resonances sit within ~1e-12 of the real axis, possibly that close to a
        # side, so the sides are sampled geometrically towards Im k = 0 (the refinement
        # splits any edge a root next to the side turns by more than the tests allow).
        down = kap * CONTOUR_SIDE_RATIO ** -np.arange(0, 30)
        down = down[down > 1e-14 * hi]
        upper = top_y * CONTOUR_SIDE_RATIO ** -np.arange(0, 30)
        upper = upper[upper > 1e-14 * hi]
        up = np.concatenate([-down, [0.0], upper[::-1]])  # from -depth to +height
        n_flat = int(np.clip(CONTOUR_POINTS_PER_HEIGHT * (hi - lo) / min(hi - lo, kap + top_y), 8, 400))
        bottom = np.linspace(lo, hi, n_flat) - 1j * kap
        right = hi + 1j * up[1:]
        top = np.linspace(hi, lo, n_flat)[1:] + 1j * top_y
        left = lo + 1j * up[::-1][1:]
        points.append(np.concatenate([bottom, right, top, left]))  # closed: last == first
    F_all, w_all = _contour_F(cyl, pol, np.repeat(m, [p.size for p in points]), np.concatenate(points))
    values, logder = list(_split(F_all, points)), list(_split(w_all, points))
    pending = list(range(len(m)))
    for _ in range(max_rounds):
        inserts = {}
        for b in pending:
            after = _unresolved_edges(points[b], values[b], logder[b])
            if after.size:
                inserts[b] = (after, _edge_midpoint(points[b][after], points[b][after + 1]))
        pending = list(inserts)
        if not pending:
            break
        new_pts = [inserts[b][1] for b in pending]
        F_new, w_new = _contour_F(cyl, pol, np.repeat(m[pending], [p.size for p in new_pts]), np.concatenate(new_pts))
        for b, vals, ders in zip(pending, _split(F_new, new_pts), _split(w_new, new_pts)):
            after, pts = inserts[b]
            points[b] = np.insert(points[b], after + 1, pts)
            values[b] = np.insert(values[b], after + 1, vals)
            logder[b] = np.insert(logder[b], after + 1, ders)
    result: list[int | None] = []
    for b in range(len(m)):
        if b in pending or not np.all(np.isfinite(values[b])):
            result.append(None)
            continue
        winding = np.sum(np.angle(values[b][1:] / values[b][:-1])) / (2 * np.pi)
        result.append(int(round(winding)))
    return result


def _split(flat, like):
    """Cut a flat array into pieces the sizes of the arrays in ``like``."""
    return np.split(flat, np.cumsum([p.size for p in like])[:-1])
