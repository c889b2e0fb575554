"""Skew resonances: whispering-gallery modes with an axial wavevector beta.

Fields vary as exp(i m phi + i beta z - i omega t) with real beta (1/um) and complex k.
In a layer of index n both Ez and Hz solve Bessel's equation of order m with the transverse
wavenumber kt = sqrt(n^2 k^2 - beta^2), and (units with Z0 = 1)

    E_phi = -(i k / kt^2) dHz/dr - (beta m / (kt^2 r)) Ez,
    H_phi =  (i k n^2 / kt^2) dEz/dr - (beta m / (kt^2 r)) Hz.

Ez, Hz, E_phi and H_phi are continuous at every interface: the two solutions regular at
the axis (Ez = J, Hz = 0 and Ez = 0, Hz = J in the core) are carried outwards as two
columns of these four tangential components, and a resonance is a k where they are
linearly dependent on the two outgoing waves (Ez = H1, Hz = 0 and Ez = 0, Hz = H1
outside): the 4x4 determinant D(k) vanishes. At beta = 0 the columns do not mix and D is
the product of the Ez and Hz problems' mismatches, so its roots are exactly theirs.

Inside a layer Ez and Hz evolve independently, so each column is carried through a shell
by the scalar state transfer of :mod:`wgmfem.exact.characteristic` (the state
(R, r dR/dr), the Wronskian form with scaled Bessel functions, no ratio of exponentially
different numbers); only the interfaces mix them. Each column is normalized after every
layer and its growth kept in a real log-scale, so D is the analytic determinant up to the
factor exp(L(k)): with the log-scale of a reference k taken out, a secant converges on it
as on the scalar function, and the argument principle counts its zeros (D has no poles).

Roots are continued from beta = 0 (an exact root of the Ez or Hz problem, which carries
the labels) in steps of beta, each step a secant from the quadratic prediction
k(beta)^2 = k(0)^2 + alpha beta^2; the last root is counted by the argument principle on
a circle that holds no other root. Energy fractions come from the derivatives of the root
with respect to each index (Gamma_j = -(n_j / k) dk/dn_j, the electric energy fraction for
a lossless stack), computed from D by implicit differentiation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..geometry import LayeredCylinder
from ..units import wavelength_nm_from_k
from .bessel import scaled_jy
from .characteristic import outgoing_admittance

SECANT_TOL = 1e-15  # relative step at which a secant stops
SECANT_MAX_ITER = 40
NOISE_FLOOR = 1e-13  # a secant whose steps stop shrinking below this (relative) has converged
CONTOUR_MAX_POINTS = 4096
STEP_ACCEPT = 0.2  # a continuation step may land this many neighbour spacings from its prediction
STEP_TARGET = 0.01  # the prediction miss (in spacings) the next step is sized for
MAX_STEPS = 200  # continuation steps tried, failed ones included
# relative step of the derivatives of D: near a core mode D bends on a scale of ~1e-6 k (the
# growing solution's share of the regular one passes through zero), rounding dominates below
# ~1e-8; at 1e-7 the energy fractions of the paper's m = 600 modes sum to 1 within 1e-9
DERIVATIVE_STEP = 1e-7
_RING = np.array([1, 1j, -1, -1j])  # the four points of the derivative circle
CURVATURE_STEP = 4e-4  # beta / k of the difference quotient in beta^2 (D is even in beta)
QUARTIC_STEP = 0.01  # beta / k of the first of the three skew roots the quartic term is fitted to
#: the fit's own alpha must agree with axial_curvature this well (relative), else the roots are not one smooth branch
QUARTIC_ALPHA_AGREEMENT = 1e-5


class SkewError(RuntimeError):
    """A skew root could not be continued or verified (the message says which and where)."""


def transverse_wavenumber(n, k, beta_per_um):
    """kt = sqrt(n^2 k^2 - beta^2) on the principal branch (Re kt >= 0), 1/um."""
    return np.sqrt(n * n * k * k - beta_per_um * beta_per_um + 0j)


def tangential(k, n, kt2, beta, m, r, ez, vez, hz, vhz):
    """(Ez, Hz, E_phi, H_phi) from the scalar states (Ez, r dEz/dr) and (Hz, r dHz/dr) at radius r."""
    e_phi = -(1j * k * vhz + beta * m * ez) / (kt2 * r)
    h_phi = (1j * k * n * n * vez - beta * m * hz) / (kt2 * r)
    return ez, hz, e_phi, h_phi


def scalar_states(k, n, kt2, beta, m, r, t):
    """The inverse of :func:`tangential`: (Ez, r dEz/dr, Hz, r dHz/dr) from t = (Ez, Hz, E_phi, H_phi)."""
    ez, hz, e_phi, h_phi = t
    vez = (kt2 * r * h_phi + beta * m * hz) / (1j * k * n * n)
    vhz = -(kt2 * r * e_phi + beta * m * ez) / (1j * k)
    return ez, vez, hz, vhz


def shell_transfer(u, v, b1, b2, x1, x2):
    """Scalar state (R, x dR/dx) at x1 carried to x2 through a shell (Wronskian form, scaled
    Bessel values b1 at x1 and b2 at x2); the physical result is this times exp(b2.e - b1.e)."""
    a_hat = u * x1 * b1.dy - v * b1.y
    b_hat = v * b1.j - u * x1 * b1.dj
    s = np.exp(2 * (b1.e - b2.e))  # <= 1: e grows outwards
    return (np.pi / 2 * (a_hat * b2.j + b_hat * b2.y * s), np.pi / 2 * x2 * (a_hat * b2.dj + b_hat * b2.dy * s))


@dataclass
class SkewColumns:
    """The two regular solutions at the outer surface (``inner``, shape (4, 2, ...): Ez, Hz,
    E_phi, H_phi of each column, normalized, physical = column * exp(log_scale)) and the two
    outgoing waves (``outer``, normalized to Ez = 1 and Hz = 1 at the surface)."""

    inner: np.ndarray
    log_scale: np.ndarray  # (2, ...)
    outer: np.ndarray
    # with keep_layers: the normalized columns and log-scales at every layer's outer radius
    layers: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)


def skew_columns(cyl: LayeredCylinder, m: int, k, beta_per_um, keep_layers: bool = False, *,
                 indices=None, outside_index=None) -> SkewColumns:
    """Carry the two solutions regular at the axis to the outer surface (``k`` an array, 1/um);
    ``keep_layers`` also keeps the columns at every interface (for the field). ``beta_per_um``,
    and ``indices`` (one value or array per layer) and ``outside_index`` when given in place of
    the cylinder's, may vary from point to point (arrays broadcast with ``k``)."""
    k = np.atleast_1d(np.asarray(k, dtype=complex))
    beta = np.asarray(beta_per_um, dtype=float)
    indices = cyl.indices if indices is None else indices
    n_out = cyl.outside_index if outside_index is None else outside_index
    n0, a = indices[0], cyl.radii_um[0]
    kt2 = n0 * n0 * k * k - beta * beta
    x0 = transverse_wavenumber(n0, k, beta) * a
    b0 = scaled_jy(m, x0, need_y=False)
    zero = np.zeros(k.shape, complex)
    j0, v0 = b0.j.astype(complex), x0 * b0.dj
    columns = np.array([
        tangential(k, n0, kt2, beta, m, a, j0, v0, zero, zero),
        tangential(k, n0, kt2, beta, m, a, zero, zero, j0, v0),
    ]).transpose(1, 0, 2)  # (component, column, k)
    log_scale = np.broadcast_to(b0.e, (2,) + k.shape).astype(float)
    columns, log_scale = _normalize_columns(columns, log_scale)
    layers = [(columns, log_scale)] if keep_layers else []
    for j in range(1, cyl.n_layers):
        n, r1, r2 = indices[j], cyl.radii_um[j - 1], cyl.radii_um[j]
        kt = transverse_wavenumber(n, k, beta)
        kt2 = n * n * k * k - beta * beta
        x1, x2 = kt * r1, kt * r2
        b1, b2 = scaled_jy(m, x1), scaled_jy(m, x2)
        carried = []
        for c in range(2):
            ez, vez, hz, vhz = scalar_states(k, n, kt2, beta, m, r1, columns[:, c])
            ez, vez = shell_transfer(ez, vez, b1, b2, x1, x2)
            hz, vhz = shell_transfer(hz, vhz, b1, b2, x1, x2)
            carried.append(tangential(k, n, kt2, beta, m, r2, ez, vez, hz, vhz))
        columns = np.array(carried).transpose(1, 0, 2)
        log_scale = log_scale + (b2.e - b1.e)
        columns, log_scale = _normalize_columns(columns, log_scale)
        if keep_layers:
            layers.append((columns, log_scale))
    rb = cyl.outer_radius_um
    kt_out = transverse_wavenumber(n_out, k, beta)
    kt2 = n_out * n_out * k * k - beta * beta
    # x H1'(x) / H1(x) at x = kt_out r_b: the Ez admittance of a medium of index 1 at k = kt_out / n_out
    admittance = outgoing_admittance(replace(cyl, outside_index=1.0), "Ez", m, kt_out)
    one = np.ones(k.shape, complex)
    outer = np.array([
        tangential(k, n_out, kt2, beta, m, rb, one, admittance, zero, zero),
        tangential(k, n_out, kt2, beta, m, rb, zero, zero, one, admittance),
    ]).transpose(1, 0, 2)
    return SkewColumns(columns, log_scale, outer, layers)


def _normalize_columns(columns, log_scale):
    norm = np.sqrt(np.sum(np.abs(columns) ** 2, axis=0))
    norm = np.where(norm > 0, norm, 1.0)
    return columns / norm, log_scale + np.log(norm)


def skew_determinant(cyl: LayeredCylinder, m: int, k, beta_per_um, log_ref=None, **varied) -> np.ndarray:
    """D(k): zero at the skew resonances of azimuthal number ``m`` and axial wavevector
    ``beta_per_um`` (1/um). ``k`` (1/um) is an array or a scalar; ``varied``: per-point
    ``indices`` / ``outside_index`` as in :func:`skew_columns`.

    Without ``log_ref`` the regular columns are normalized (D up to a smooth positive factor:
    the right function for counting zeros); with it, D is multiplied by exp(L(k) - log_ref),
    which makes it analytic in k (the right function for a secant).
    """
    cols = skew_columns(cyl, m, k, beta_per_um, **varied)
    matrix = np.concatenate([cols.inner, cols.outer], axis=1)  # (4, 4, nk)
    det = np.linalg.det(np.moveaxis(matrix, -1, 0))
    if log_ref is not None:
        det = det * np.exp(cols.log_scale.sum(axis=0) - log_ref)
    return det


def _log_reference(cyl, m, k, beta) -> float:
    return float(skew_columns(cyl, m, k, beta).log_scale.sum(axis=0)[0])


def skew_secant(cyl: LayeredCylinder, m: int, k_start: complex, beta_per_um: float,
                tol: float = SECANT_TOL) -> tuple[complex, bool, int]:
    """The root of D nearest ``k_start`` by a complex secant on the analytic D.

    Converged when a step falls below ``tol`` |k|, or below ``NOISE_FLOOR`` |k| and no longer
    shrinking (the steps then wander in D's rounding: a low-Q root is known to ~1e-15 only).
    Returns (k, converged, iterations)."""
    ref = _log_reference(cyl, m, k_start, beta_per_um)

    def evaluate(k):
        return complex(skew_determinant(cyl, m, k, beta_per_um, ref)[0])

    k0, k1 = complex(k_start), complex(k_start) * (1 + 1e-8)
    f0, f1 = evaluate(k0), evaluate(k1)
    previous_step = math.inf
    for iteration in range(1, SECANT_MAX_ITER + 1):
        if f1 == f0:
            return k1, f1 == 0, iteration
        k2 = k1 - f1 * (k1 - k0) / (f1 - f0)
        if not np.isfinite(k2) or abs(k2 - k_start) > 1e-2 * abs(k_start):
            return k1, False, iteration
        k0, f0 = k1, f1
        k1, f1 = k2, evaluate(k2)
        step = abs(k1 - k0)
        if step <= tol * abs(k1) or f1 == 0:
            return k1, True, iteration
        if step <= NOISE_FLOOR * abs(k1) and step > 0.3 * previous_step:
            return k1, True, iteration
        previous_step = step
    return k1, False, SECANT_MAX_ITER


def count_roots_in_circle(cyl: LayeredCylinder, m: int, centre: complex, radius: float, beta_per_um: float) -> int | None:
    """Zeros of D inside the circle |k - centre| = radius by the argument principle (the
    winding of arg D, sampled until no step turns it by more than pi/4); None when D
    vanishes on the circle or the sampling does not settle."""
    points = 64
    while points <= CONTOUR_MAX_POINTS:
        theta = 2 * np.pi * np.arange(points) / points
        values = skew_determinant(cyl, m, centre + radius * np.exp(1j * theta), beta_per_um)
        if not np.all(np.isfinite(values)) or np.any(values == 0):
            return None
        turns = np.angle(np.roll(values, -1) / values)
        if np.max(np.abs(turns)) < np.pi / 4:
            return int(round(np.sum(turns) / (2 * np.pi)))
        points *= 2
    return None


def analytic_at(cyl: LayeredCylinder, m: int, k: complex, beta_per_um: float) -> tuple[float, complex, complex]:
    """(log_ref, D(k), dD/dk) of the analytic D with the log-scale of ``k`` taken out; dD/dk from
    D on a circle of four points around k (exact for a cubic), all five values in one call."""
    ref = _log_reference(cyl, m, k, beta_per_um)
    hk = DERIVATIVE_STEP * abs(k)
    values = skew_determinant(cyl, m, k + hk * np.concatenate([[0], _RING]), beta_per_um, ref)
    return ref, complex(values[0]), complex(np.sum(values[1:] * np.conj(_RING)) / (4 * hk))


def index_derivatives(cyl: LayeredCylinder, m: int, k: complex, beta_per_um: float,
                      at: tuple[float, complex, complex] | None = None) -> tuple[np.ndarray, complex]:
    """(dk/dn_j for every layer and the outer medium, dk/dbeta) at a root ``k``, by implicit
    differentiation of D: dk/dx = -(dD/dx) / (dD/dk), dD/dk from :func:`analytic_at` (``at``
    when already computed), dD/dn_j and dD/dbeta by central differences (real steps: the outer
    medium stays lossless)."""
    ref, _, d_dk = analytic_at(cyl, m, k, beta_per_um) if at is None else at
    # one batch: +h and -h for every layer's index, the outer index and beta
    layers = cyl.n_layers
    points = 2 * (layers + 2)
    indices = [np.full(points, n, dtype=complex) for n in cyl.indices]
    outside = np.full(points, cyl.outside_index, dtype=float)
    beta = np.full(points, float(beta_per_um))
    steps = np.empty(layers + 2)
    for j, n in enumerate(cyl.indices):
        steps[j] = DERIVATIVE_STEP * abs(n)
        indices[j][2 * j:2 * j + 2] += (steps[j], -steps[j])
    steps[layers] = DERIVATIVE_STEP * cyl.outside_index
    outside[2 * layers:2 * layers + 2] += (steps[layers], -steps[layers])
    steps[layers + 1] = DERIVATIVE_STEP * abs(k)
    beta[-2:] += (steps[-1], -steps[-1])
    values = skew_determinant(cyl, m, np.full(points, k), beta, ref, indices=indices, outside_index=outside)
    derivatives = -(values[0::2] - values[1::2]) / (2 * steps) / d_dk
    return derivatives[:-1], complex(derivatives[-1])


def newton_residual(cyl: LayeredCylinder, m: int, k: complex, beta_per_um: float,
                    at: tuple[float, complex, complex] | None = None) -> float:
    """|D(k) / D'(k)| / |k| on the analytic D (:func:`analytic_at`, or ``at``): the relative
    distance from ``k`` to the root that one Newton step predicts. For a lossless high-Q root
    whose Im k comes from the first-order leak this includes that first-order error (~1/Q)."""
    _, value, d_dk = analytic_at(cyl, m, k, beta_per_um) if at is None else at
    return float(abs(value / d_dk) / abs(k)) if d_dk != 0 else math.inf


def _outgoing_admittance_parts(m: int, x: float) -> tuple[float, float]:
    """(Re, Im) of x H1'(x) / H1(x) at real x > 0, each without cancellation:
    Re = x (J J' + Y Y') / (J^2 + Y^2), Im = (2/pi) / (J^2 + Y^2) (the Wronskian)."""
    b = scaled_jy(m, np.array([x]))
    s = np.exp(2 * b.e)  # J = j exp(e), Y = y exp(-e); multiply through by exp(2e)... per term below
    denominator = (b.j * s) ** 2 + b.y**2  # (J^2 + Y^2) exp(2e)
    real = x * (b.j * b.dj * s * s + b.y * b.dy) / denominator
    return float(real[0]), float((2 / np.pi) * s[0] / denominator[0])


def high_q_root(cyl: LayeredCylinder, m: int, k: complex, beta_per_um: float) -> tuple[complex, bool]:
    """A lossless stack's high-Q root with Im k to first order in the leak (relative error ~1/Q).

    Evaluated at complex k, D carries Im k ~ 1e-13 Re k only to ~1e-16 / 1e-13: the leak
    is lost in rounding. Instead the root of the closed problem (the outgoing admittance y
    replaced by Re y, everything real) is found on the real axis, and the leak added to
    first order: Im k = -Im y (dD/dy) / (dD/dk), with Im y = (2/pi) / |H1|^2 exactly.
    Returns (k, converged)."""
    n_out, rb, beta = cyl.outside_index, cyl.outer_radius_um, float(beta_per_um)
    if (n_out * k.real) ** 2 <= beta**2:  # evanescent outside: nothing leaks, nothing to add
        return k, False
    # the analytic D (log-scale of a reference taken out): the normalized one bends on a scale of
    # ~1e-6 k near a core mode, where the growing solution's share of the regular one passes zero
    ref = _log_reference(cyl, m, complex(k.real), beta)

    def closed(k_real: float, admittance_shift: float = 0.0) -> complex:
        kk = np.array([complex(k_real)])
        kt_out = math.sqrt((n_out * k_real) ** 2 - beta**2)
        y_real, _ = _outgoing_admittance_parts(m, kt_out * rb)
        cols = skew_columns(cyl, m, kk, beta)
        kt2 = kt_out**2
        one, zero = np.ones(1, complex), np.zeros(1, complex)
        y = np.array([y_real + admittance_shift], complex)
        outer = np.array([
            tangential(kk, n_out, kt2, beta, m, rb, one, y, zero, zero),
            tangential(kk, n_out, kt2, beta, m, rb, zero, zero, one, y),
        ]).transpose(1, 0, 2)
        matrix = np.concatenate([cols.inner, outer], axis=1)[:, :, 0]
        return complex(np.linalg.det(matrix) * np.exp(cols.log_scale.sum() - ref))

    # the closed problem's determinant has a constant phase along the real axis: a real secant
    k0, k1 = k.real, k.real * (1 + 1e-9)
    f0, f1 = closed(k0), closed(k1)
    converged = False
    for _ in range(SECANT_MAX_ITER):
        if f1 == f0:
            converged = f1 == 0
            break
        k2 = k1 - (f1 * (k1 - k0) / (f1 - f0)).real
        k0, f0, k1 = k1, f1, k2
        f1 = closed(k1)
        if abs(k1 - k0) <= SECANT_TOL * abs(k1):
            converged = True
            break
    if not converged or abs(k1 - k.real) > 1e-8 * k.real:
        return k, False
    kt_out = math.sqrt((n_out * k1) ** 2 - beta**2)
    _, y_imag = _outgoing_admittance_parts(m, kt_out * rb)
    hy = 1e-6
    d_dy = (closed(k1, hy) - closed(k1, -hy)) / (2 * hy)
    hk = 1e-7 * k1
    d_dk = (closed(k1 + hk) - closed(k1 - hk)) / (2 * hk)
    return complex(k1, -(y_imag * d_dy / d_dk).real), True


@dataclass
class SkewRoot:
    """A skew resonance continued from beta = 0, with how it was verified."""

    k: complex  # 1/um
    beta_per_um: float
    steps: int  # continuation steps in beta
    count: int | None  # zeros of D within ``count_radius`` of k (1 verifies it)
    count_radius: float  # 1/um
    dk_dn: np.ndarray  # dk/dn_j per layer, then the outer medium
    dk_dbeta: complex
    energy_fractions: np.ndarray  # Re(-n_j/k dk/dn_j), layers then outside
    ez_share: float  # |Ez|^2 / (|Ez|^2 + |Hz|^2) at the outer surface (1: quasi-Ez, 0: quasi-Hz)
    method: str
    residual: float  # |D / D'| / |k| at k: the relative distance to the true root (one Newton step)

    @property
    def fraction_sum_residual(self) -> float:
        """|sum_j n_j dk/dn_j + k| / k: Euler's identity for k(n) homogeneous of degree -1."""
        return float(abs(np.sum(self.energy_fractions) - 1))


def axial_field_share(cyl: LayeredCylinder, m: int, k: complex, beta_per_um: float) -> float:
    """|Ez|^2 / (|Ez|^2 + |Hz|^2) of the outgoing wave at the outer surface of the resonance at ``k``."""
    cols = skew_columns(cyl, m, k, beta_per_um)
    matrix = np.concatenate([cols.inner, cols.outer], axis=1)[:, :, 0]
    _, _, vh = np.linalg.svd(matrix)
    null = vh[-1].conj()
    ez, hz = abs(null[2]) ** 2, abs(null[3]) ** 2
    return float(ez / (ez + hz)) if ez + hz > 0 else math.nan


def follow_beta(cyl: LayeredCylinder, m: int, k0: complex, beta_per_um: float, alpha_guess: float,
                spacing: float) -> SkewRoot:
    """The skew root at ``beta_per_um`` continued from the beta = 0 root ``k0`` (1/um).

    ``spacing`` (1/um) is the distance from ``k0`` to the nearest other root of the same m
    (either polarization) at beta = 0: each step must land within ``STEP_ACCEPT`` of it of its
    prediction, and the last root is counted in a circle of a quarter of it.
    """
    beta_target = float(beta_per_um)
    if beta_target < 0:
        raise ValueError("beta must be >= 0 (the resonances of -beta are those of beta)")
    k0 = complex(k0)
    if beta_target == 0:
        k, converged, _ = skew_secant(cyl, m, k0, 0.0)
        if not converged or abs(k - k0) > 0.2 * spacing:
            raise SkewError(f"m={m}: no root of the 4x4 determinant near {wavelength_nm_from_k(k0.real):.6f} nm")
        return verify_root(cyl, m, k, 0.0, 0, spacing)
    # Steps in beta^2, where k^2 moves nearly linearly (k^2 = k0^2 + alpha beta^2 near cutoff).
    # The first predicts a shift of one spacing; each next is sized so that the prediction
    # misses by about STEP_TARGET spacings (the miss grows as the square of the step). A step
    # is accepted when the secant lands within STEP_ACCEPT spacings of its prediction (the
    # other roots lie about a spacing away), else it is retried shorter.
    target2 = beta_target**2
    step2 = min(target2, 2 * abs(k0) * spacing / max(alpha_guess, 1e-3))
    done2, k, alpha, steps, tries = 0.0, k0, alpha_guess, 0, 0
    while done2 < target2:
        next2 = target2 if target2 - done2 < 1.25 * step2 else done2 + step2
        beta = math.sqrt(next2)
        predicted = np.sqrt(k**2 + alpha * (next2 - done2))
        # a step on the way only seeds the next prediction: 1e-11 of k is plenty there
        new, converged, _ = skew_secant(cyl, m, predicted, beta, SECANT_TOL if next2 == target2 else 1e-11)
        miss = abs(new - predicted)
        tries += 1
        if not converged or miss > STEP_ACCEPT * spacing:
            if tries >= MAX_STEPS:
                raise SkewError(
                    f"m={m}: the root continued from {wavelength_nm_from_k(k0.real):.6f} nm was lost at beta = {beta:.4g} /um "
                    f"({'no convergence' if not converged else 'jumped to another root'})"
                )
            step2 = (next2 - done2) / 4
            continue
        alpha = ((new * new - k * k) / (next2 - done2)).real
        growth = math.sqrt(STEP_TARGET * spacing / miss) if miss > 0 else 4.0
        step2 = (next2 - done2) * min(4.0, growth)
        done2, k, steps = next2, new, steps + 1
    return verify_root(cyl, m, k, beta_target, steps, spacing)


HIGH_Q = 1e7  # above this Q a lossless root's Im k comes from the first-order leak (:func:`high_q_root`)


def verify_root(cyl: LayeredCylinder, m: int, k: complex, beta: float, steps: int, spacing: float) -> SkewRoot:
    """The root ``k`` polished (a lossless high-Q root's Im k from the first-order leak),
    counted by the argument principle within a quarter of ``spacing``, with its index
    derivatives, energy fractions and axial field share. ``steps``: how it was continued."""
    method = "secant on the 4x4 determinant"
    if cyl.is_lossless and (cyl.outside_index * k.real) ** 2 < beta**2:
        # beyond the outer medium's light line the field decays outside: a bound mode, k real
        # (what Im k the secant leaves is rounding, and its sign would read as gain)
        k, method = complex(k.real), "secant on the 4x4 determinant; bound (beta above the outer medium's n k): Im k = 0"
    elif cyl.is_lossless and k.imag != 0 and k.real / (2 * abs(k.imag)) > HIGH_Q:  # either sign: rounding
        refined, ok = high_q_root(cyl, m, k, beta)
        # the complex root fixes Im k to ~1e-16 |k|: the first-order value must agree with it
        if ok and abs(refined - k) < 1e-13 * abs(k):
            k, method = refined, "secant on the 4x4 determinant; Im k from the first-order leak (Q > 1e7)"
    radius = 0.25 * spacing
    count = count_roots_in_circle(cyl, m, k, radius, beta)
    at = analytic_at(cyl, m, k, beta)
    residual = newton_residual(cyl, m, k, beta, at)
    dk_dn, dk_dbeta = index_derivatives(cyl, m, k, beta, at)
    all_indices = list(cyl.indices) + [cyl.outside_index]
    fractions = np.array([(-n * d / k).real for n, d in zip(all_indices, dk_dn)])
    return SkewRoot(k, beta, steps, count, radius, dk_dn, dk_dbeta, fractions,
                    axial_field_share(cyl, m, k, beta), method, residual)


def axial_curvature(cyl: LayeredCylinder, m: int, k0: complex) -> float:
    """alpha = d(k^2)/d(beta^2) at beta = 0 of the root ``k0`` (dimensionless, ~1/n_eff^2).

    Implicit differentiation of D, which is even in beta: d(k^2)/d(beta^2) = -2k (dD/d beta^2)
    / (dD/dk), dD/dk on a circle of four points and dD/d beta^2 from the difference quotient
    (D(k0, h) - D(k0, 0)) / h^2, Richardson-extrapolated from h = 4e-4 k and 2e-4 k (its
    error is O(h^2) with a large coefficient near a high-Q core mode, whose D bends on a scale
    of ~1e-6 k; smaller h meet D's rounding). Agrees with high-precision skew roots to 1.6e-9 - 1.4e-7
    (the test set's 10 families; the largest for an absorbing core).
    """
    k0 = complex(k0)
    ref, at_zero, d_dk = analytic_at(cyl, m, k0, 0.0)
    estimates = []
    for h in (CURVATURE_STEP * abs(k0), 0.5 * CURVATURE_STEP * abs(k0)):
        d_dbeta2 = (skew_determinant(cyl, m, k0, h, ref)[0] - at_zero) / h**2
        estimates.append((-2 * k0 * d_dbeta2 / d_dk).real)
    return float((4 * estimates[1] - estimates[0]) / 3)


def axial_quartic(cyl: LayeredCylinder, m: int, k0: complex, alpha: float) -> float:
    """eta (um^2) of k(beta)^2 = k(0)^2 + alpha beta^2 + eta beta^4 + ... for the root ``k0`` at beta = 0.

    The axial dispersion beyond the parabola: eta beta^2 / alpha is the relative change of the
    curvature over a skew mode's beta (1e-4 for the states of a nm bottle). Fitted to the exact
    skew roots at beta = h, 2h, 3h (h = QUARTIC_STEP k), each a secant from the parabolic
    prediction, as k^2 - k0^2 = alpha' beta^2 + eta beta^4 + zeta beta^6 (the beta^6 term taken
    out; the beta^8 term leaves ~1e-3 of eta). Raises :class:`SkewError` when the fit's
    alpha' is off ``alpha`` (:func:`axial_curvature`) by more than QUARTIC_ALPHA_AGREEMENT:
    the roots then do not lie on one smooth branch (an anticrossing in beta, a jump).
    """
    k0 = complex(k0)
    h = QUARTIC_STEP * abs(k0)
    rows, rises = [], []
    for beta in (h, 2 * h, 3 * h):
        k, converged, _ = skew_secant(cyl, m, complex(np.sqrt(k0 * k0 + alpha * beta * beta)), beta)
        if not converged:
            raise SkewError(f"the skew root at beta = {beta:.4g} /um did not converge")
        rows.append([beta**2, beta**4, beta**6])
        rises.append((k * k - k0 * k0).real)
    alpha_fit, eta, _ = np.linalg.solve(np.array(rows), np.array(rises))
    if not abs(alpha_fit / alpha - 1) <= QUARTIC_ALPHA_AGREEMENT:
        raise SkewError(f"the skew roots up to beta = {3 * h:.4g} /um are not one smooth branch (their curvature "
                        f"{alpha_fit:.8g} against {alpha:.8g} at beta = 0)")
    return float(eta)
