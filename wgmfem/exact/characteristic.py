"""The characteristic function of a layered cylinder and the quantities built on it.

Field u = R(r) exp(i m phi) with R = J_m in the core, a J_m + b Y_m in each shell
and C H1_m outside (docs/theory.md sections 1-2). The state carried from interface to
interface is the pair

    (u, v) = (R, p r dR/dr),   p = 1 (Ez) or 1/n^2 (Hz),

which is continuous across every interface for both polarizations. Inside a shell
the field with state (u1, v1) at x1 = q r1 (q = k n) is, using the Wronskian
J Y' - J' Y = 2/(pi x),

    R(x) = pi/(2p) [ (u1 p x1 Y'(x1) - v1 Y(x1)) J(x) + (v1 J(x1) - u1 p x1 J'(x1)) Y(x) ],

so no J is ever recovered from H and no ratio of exponentially different numbers
is formed: with scaled Bessel functions (:mod:`wgmfem.exact.bessel`) every term is
O(1) and the exponential growth is carried as a separate real log-scale.

The characteristic function is the mismatch of the admittance beta = v/u at the
outer surface r_b between the inner solution and the outgoing wave:

    f(k) = v_in/u_in - p_out x H1'(x)/H1(x),   x = k n_out r_b.

It is meromorphic in k: its poles are the zeros of u_in, which for a lossless
stack lie on the real axis and are counted exactly by Sturm's oscillation theorem
(:func:`node_count`); its zeros are the resonances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from ..geometry import LayeredCylinder
from ..polarization import normalize_pol
from .bessel import ScaledJY, bessel_phase, scaled_jy


def p_factor(pol: str, n) -> complex | float:
    """Coefficient p of the radial operator: 1 for Ez, 1/n^2 for Hz."""
    return 1.0 if pol == "Ez" else 1.0 / (n * n)


@dataclass
class LayerCoefficients:
    """Field in layer ``index`` as scaled coefficients, and its states at both radii.

    Inside the layer, R(x) = exp(log_scale) * pi/(2p) * [a_hat j(x) exp(e(x) - e_ref)
    + b_hat y(x) exp(e_ref - e(x))]. States are (u, v) = (R, p r R') normalized, with
    the physical state exp(log) * (u, v).
    """

    index: int
    a_hat: np.ndarray
    b_hat: np.ndarray
    e_ref: np.ndarray  # scaling exponent the coefficients refer to (inner radius; outer for inward)
    log_scale: np.ndarray
    jy_inner: ScaledJY | None  # Bessel values at the inner radius (None for the core)
    jy_outer: ScaledJY
    state_inner: tuple[np.ndarray, np.ndarray, np.ndarray]  # (u, v, log) at the inner radius
    state_outer: tuple[np.ndarray, np.ndarray, np.ndarray]  # (u, v, log) at the outer radius


@dataclass
class InnerSolution:
    """State (u, v) at the outer surface, normalized, with its real log-scale.

    With ``derivative=True`` (:func:`propagate`), ``du`` and ``dv`` hold d/dk of the physical
    state in the same representation: d(exp(log_scale) u)/dk = exp(log_scale) du.
    """

    u: np.ndarray
    v: np.ndarray
    log_scale: np.ndarray
    layers: list[LayerCoefficients]
    du: np.ndarray | None = None
    dv: np.ndarray | None = None


def _normalize(u, v, log_scale, *also):
    """(u, v) divided by their Euclidean norm (a smooth positive factor, so normalized functions
    stay smooth in k), the log-scale grown by it, and every array in ``also`` divided alike."""
    norm = np.hypot(np.abs(u), np.abs(v))
    norm = np.where(norm > 0, norm, 1.0)
    return (u / norm, v / norm, log_scale + np.log(norm), *(a / norm for a in also))


def propagate(cyl: LayeredCylinder, pol: str, m, k, keep_layers: bool = False, derivative: bool = False) -> InnerSolution:
    """Carry the regular (finite at r = 0) solution from the centre to the outer surface.

    ``m`` (integers) and ``k`` (real or complex, 1/um) broadcast. In the core the field is
    J_m(q r); the state is normalized after every layer and the growth kept in
    ``log_scale`` so that nothing overflows. ``derivative=True`` also carries d/dk of the
    state (``du``, ``dv``), exactly: d/dk of a Bessel function of x = k n r is (x/k) times its
    x-derivative, and the second x-derivatives follow from Bessel's equation, so no further
    Bessel function is evaluated.
    """
    pol = normalize_pol(pol)
    m, k = np.broadcast_arrays(np.asarray(m, dtype=int), np.asarray(k))
    dtype = complex if (np.iscomplexobj(k) or not cyl.is_lossless) else float
    k = k.astype(dtype)
    n0, a = cyl.indices[0], cyl.radii_um[0]
    x0 = k * n0 * a
    b0 = scaled_jy(m, x0, need_y=keep_layers)  # the core needs J only (Y for phases when kept)
    p0 = p_factor(pol, n0)
    u, v = b0.j.astype(dtype), (p0 * x0 * b0.dj).astype(dtype)
    m2 = m.astype(float) ** 2
    if derivative:
        # u = J(x0), v = p x0 J'(x0): du = (x0/k) J', dv = p (m^2 - x0^2)/k J (Bessel's equation)
        du, dv = x0 / k * b0.dj, p0 * (m2 - x0 * x0) / k * b0.j
    log_scale = np.zeros(k.shape)
    if derivative:
        u, v, log_scale, du, dv = _normalize(u, v, log_scale, du, dv)
    else:
        u, v, log_scale = _normalize(u, v, log_scale)
    layers = []
    if keep_layers:
        zeros = np.zeros(k.shape)
        # core field R = J(x) = j(x) exp(e(x)): the shell form with a_hat = 2p/pi, b_hat = 0, e1 = 0
        # and log_scale 0 (J itself, not the normalized state, is the reference amplitude)
        layers.append(
            LayerCoefficients(
                0, np.full(k.shape, 2 * p0 / np.pi, dtype), np.zeros(k.shape, dtype), zeros, zeros,
                None, b0, (np.zeros(k.shape, dtype), np.zeros(k.shape, dtype), zeros),
                (u, v, log_scale + b0.e),
            )
        )
    log_scale = log_scale + b0.e
    for j in range(1, cyl.n_layers):
        n, r1, r2 = cyl.indices[j], cyl.radii_um[j - 1], cyl.radii_um[j]
        p = p_factor(pol, n)
        x1, x2 = k * n * r1, k * n * r2
        b1, b2 = scaled_jy(m, x1), scaled_jy(m, x2)
        a_hat = u * p * x1 * b1.dy - v * b1.y
        b_hat = v * b1.j - u * p * x1 * b1.dj
        inner_state = (u, v, log_scale)
        s = np.exp(2 * (b1.e - b2.e))  # <= 1: e grows outwards
        if derivative:
            # product rule on the Wronskian map; x d/dx(x Z') = (m^2 - x^2) Z for Z = J, Y
            da_hat = du * p * x1 * b1.dy - dv * b1.y + u * p * (m2 - x1 * x1) / k * b1.y - v * x1 / k * b1.dy
            db_hat = dv * b1.j - du * p * x1 * b1.dj + v * x1 / k * b1.dj - u * p * (m2 - x1 * x1) / k * b1.j
            z2 = a_hat * b2.j + b_hat * b2.y * s  # Z(x2) and Z'(x2) of the layer's field
            dz2 = a_hat * b2.dj + b_hat * b2.dy * s
            du = np.pi / (2 * p) * (da_hat * b2.j + db_hat * b2.y * s + x2 / k * dz2)
            dv = np.pi / 2 * (x2 * (da_hat * b2.dj + db_hat * b2.dy * s) + (m2 - x2 * x2) / k * z2)
        u = np.pi / (2 * p) * (a_hat * b2.j + b_hat * b2.y * s)
        v = np.pi / 2 * x2 * (a_hat * b2.dj + b_hat * b2.dy * s)
        if derivative:
            u, v, new_log, du, dv = _normalize(u, v, log_scale + (b2.e - b1.e), du, dv)
        else:
            u, v, new_log = _normalize(u, v, log_scale + (b2.e - b1.e))
        if keep_layers:
            layers.append(LayerCoefficients(j, a_hat, b_hat, b1.e, log_scale, b1, b2, inner_state, (u, v, new_log)))
        log_scale = new_log
    if derivative:
        return InnerSolution(u, v, log_scale, layers, du, dv)
    return InnerSolution(u, v, log_scale, layers)


def propagate_inward(cyl: LayeredCylinder, pol: str, m, k_real) -> list[LayerCoefficients]:
    """Layer states of the solution fixed by the outer medium, carried inwards (real k).

    Starts from (u, v) = (1, Re beta_out) at r_b, i.e. the wave that decays outwards
    under the barrier. This is the stable direction for a field that grows inwards
    (a core mode seen from the wall), where the outward solution of
    :func:`propagate` carries an exponentially amplified error; used to label
    resonances that sit within machine precision of a pole. Only the states and the
    Bessel values are filled in; the shell coefficients refer to the outer radius.
    """
    pol = normalize_pol(pol)
    m, k = np.broadcast_arrays(np.asarray(m, dtype=int), np.atleast_1d(np.asarray(k_real, dtype=float)))
    return carry_inward(cyl, pol, m, k, np.ones(k.shape), outgoing_admittance(cyl, pol, m, k).real)


def carry_inward(cyl: LayeredCylinder, pol: str, m, k, u, v) -> list[LayerCoefficients]:
    """Carry the state (u, v) at the outer surface r_b inwards through every shell (real or
    complex k), the mirror image of :func:`propagate`.

    Layer ``j`` >= 1 holds R(x) = exp(log_scale) * pi/(2p) * [a_hat j(x) exp(e(x) - e_ref)
    + b_hat y(x) exp(e_ref - e(x))] with e_ref the scaling exponent at its *outer* radius;
    the core entry carries only its outer state (its coefficients are left zero).
    """
    pol = normalize_pol(pol)
    m, k = np.broadcast_arrays(np.asarray(m, dtype=int), np.asarray(k))
    dtype = complex if (np.iscomplexobj(k) or np.iscomplexobj(v) or not cyl.is_lossless) else float
    u, v = np.asarray(u, dtype=dtype) * np.ones(k.shape), np.asarray(v, dtype=dtype) * np.ones(k.shape)
    u, v, log_scale = _normalize(u, v, np.zeros(k.shape))
    zeros = np.zeros(k.shape)
    layers: list[LayerCoefficients] = []
    for j in range(cyl.n_layers - 1, 0, -1):
        n, r1, r2 = cyl.indices[j], cyl.radii_um[j - 1], cyl.radii_um[j]
        p = p_factor(pol, n)
        x1, x2 = k * n * r1, k * n * r2
        b1, b2 = scaled_jy(m, x1), scaled_jy(m, x2)
        # R = a J + b Y with the state (u, v) at x2 (Wronskian), evaluated at x1
        a_hat = u * p * x2 * b2.dy - v * b2.y
        b_hat = v * b2.j - u * p * x2 * b2.dj
        s = np.exp(2 * (b1.e - b2.e))  # <= 1: exp(e) of J shrinks inwards
        u1 = np.pi / (2 * p) * (a_hat * b1.j * s + b_hat * b1.y)
        v1 = np.pi / 2 * x1 * (a_hat * b1.dj * s + b_hat * b1.dy)
        u1, v1, log1 = _normalize(u1, v1, log_scale + (b2.e - b1.e))
        layers.append(LayerCoefficients(j, a_hat, b_hat, b2.e, log_scale, b1, b2, (u1, v1, log1), (u, v, log_scale)))
        u, v, log_scale = u1, v1, log1
    b0 = scaled_jy(m, k * cyl.indices[0] * cyl.radii_um[0])
    layers.append(LayerCoefficients(0, zeros, zeros, zeros, zeros, None, b0, (zeros, zeros, zeros), (u, v, log_scale)))
    return layers[::-1]


# The outward and inward solutions agree at an interface to this (sine of the angle between
# their states) when k is a resonance and both are accurate there; elsewhere they differ at O(1).
STITCH_TOL = 1e-6


def _state_mismatch(u1, v1, u2, v2) -> np.ndarray:
    """Sine of the angle between the states (u1, v1) and (u2, v2): 0 when they are parallel."""
    norm = np.hypot(np.abs(u1), np.abs(v1)) * np.hypot(np.abs(u2), np.abs(v2))
    with np.errstate(all="ignore"):
        mis = np.abs(u1 * v2 - v1 * u2) / norm
    return np.where((norm > 0) & np.isfinite(mis), mis, np.inf)


def stitched_layers(cyl: LayeredCylinder, pol: str, m, k, forward: list[LayerCoefficients] | None = None,
                    inward: list[LayerCoefficients] | None = None):
    """Layer coefficients of the field of a resonance, accurate however strongly it is confined.

    The solution carried out from the centre (:func:`propagate`) is exact for any k, but
    where the field of a resonance decays outwards through a thick barrier (a core mode at
    m ~ 1e4 falls by e^400 across the wall) it is swamped by the growing solution that the
    rounding of k and of the Bessel values inject (already at m ~ 1000 the outer state of a
    core mode moves by ~1e-6 when k moves by one rounding unit). The solution carried in from
    the surface (:func:`carry_inward`, from the outgoing wave: (1, beta_out) for complex k,
    (1, Re beta_out) for real k) is accurate there. Where the two meet at an inner interface
    to within :data:`STITCH_TOL`, and better than the outward solution meets the outer state,
    ``k`` is a resonance: layers up to the best-matching interface are taken from the outward
    solution and the others from the inward one, rescaled onto it. At any other k (the two
    solutions differ at O(1)) the outward solution is returned unchanged.

    ``forward`` and ``inward`` may pass the two solutions already computed (:func:`propagate`
    with ``keep_layers``; :func:`propagate_inward` for real k).

    Returns (layers, stitch) with ``stitch`` (per point) the index of the last outward layer
    (n_layers - 1: no switch). The inward layers' coefficients refer to their outer radius
    (``e_ref``), which the field formula of :class:`LayerCoefficients` takes as it comes.
    """
    pol = normalize_pol(pol)
    m, k = np.broadcast_arrays(np.asarray(m, dtype=int), np.atleast_1d(np.asarray(k)))
    if forward is None:
        forward = propagate(cyl, pol, m, k, keep_layers=True).layers
    last = cyl.n_layers - 1
    stitch = np.full(k.shape, last)
    if last == 0:
        return forward, stitch
    beta = outgoing_admittance(cyl, pol, m, k)
    if not np.iscomplexobj(k):
        beta = beta.real
    uf, vf, _ = forward[-1].state_outer
    surface = _state_mismatch(uf, vf, np.ones(k.shape), beta)
    if inward is None:
        inward = carry_inward(cyl, pol, m, k, np.ones(k.shape), beta)
    mismatch = np.array([
        _state_mismatch(*forward[j].state_outer[:2], *inward[j + 1].state_inner[:2]) for j in range(last)
    ])
    best = np.argmin(mismatch, axis=0)
    best_mismatch = np.take_along_axis(mismatch, best[None, :], axis=0)[0]
    use = (best_mismatch <= STITCH_TOL) & (best_mismatch < surface)
    if not np.any(use):
        return forward, stitch
    stitch = np.where(use, best, last)
    # factor s with s (u_in, v_in) = (u_out, v_out) at the stitch (least squares), as phase and log
    pick = lambda arrays: np.choose(np.minimum(stitch, last - 1), arrays)  # noqa: E731
    uo = pick([forward[j].state_outer[0] for j in range(last)])
    vo = pick([forward[j].state_outer[1] for j in range(last)])
    lo = pick([forward[j].state_outer[2] for j in range(last)])
    ui = pick([inward[j + 1].state_inner[0] for j in range(last)])
    vi = pick([inward[j + 1].state_inner[1] for j in range(last)])
    li = pick([inward[j + 1].state_inner[2] for j in range(last)])
    with np.errstate(all="ignore"):
        s = (uo * np.conj(ui) + vo * np.conj(vi)) / (np.abs(ui) ** 2 + np.abs(vi) ** 2)
        phase = np.where(use, s / np.abs(s), 1.0)
        shift = np.where(use, np.log(np.abs(s)) + lo - li, 0.0)
    layers = []
    for j in range(cyl.n_layers):
        fw, iw = forward[j], inward[j]
        take = use & (j > stitch)
        if not np.any(take):
            layers.append(fw)
            continue

        def mix(a, b, scale=1.0):
            return np.where(take, b * scale, a)  # noqa: B023 - called within this iteration

        def mix_state(a, b):
            return (mix(a[0], b[0], phase), mix(a[1], b[1], phase), mix(a[2], b[2] + shift))

        layers.append(LayerCoefficients(
            j, mix(fw.a_hat, iw.a_hat, phase), mix(fw.b_hat, iw.b_hat, phase), mix(fw.e_ref, iw.e_ref),
            mix(fw.log_scale, iw.log_scale + shift), fw.jy_inner, fw.jy_outer,
            mix_state(fw.state_inner, iw.state_inner), mix_state(fw.state_outer, iw.state_outer),
        ))
    return layers, stitch


def outgoing_admittance(cyl: LayeredCylinder, pol: str, m, k) -> np.ndarray:
    """p_out x H1_m'(x)/H1_m(x) at the outer surface, x = k n_out r_b (complex array)."""
    pol = normalize_pol(pol)
    n = cyl.outside_index
    m, x = np.broadcast_arrays(np.asarray(m, dtype=int), np.asarray(k) * n * cyl.outer_radius_um)
    # H1 directly is accurate in modulus and phase (only J recovered from it would not be)
    with np.errstate(all="ignore"):
        h, h1 = special.hankel1(m, x), special.hankel1(m - 1, x)
        beta = x * h1 / h - m  # x H'/H = x H_{m-1}/H_m - m
    bad = ~np.isfinite(beta) | ~(np.abs(h) < 1e280)
    if np.any(bad):  # beyond double range: scaled J, Y (Debye where needed)
        b = scaled_jy(m[bad], x[bad])
        s = np.exp(2 * b.e)  # H = exp(-e) (j s + i y)
        beta = np.array(beta, dtype=complex)  # an array even for scalar input
        beta[bad] = x[bad] * (b.dj * s + 1j * b.dy) / (b.j * s + 1j * b.y)
    return p_factor(pol, n) * beta


def outgoing_admittance_derivative(cyl: LayeredCylinder, pol: str, m, k, beta) -> np.ndarray:
    """d/dk of :func:`outgoing_admittance` given its value ``beta`` at k: closed form.

    beta = p x H'/H with x = k n_out r_b, and Bessel's equation gives
    x d/dx (x H'/H) = m^2 - x^2 - (x H'/H)^2, so d beta/dk = p (m^2 - x^2 - (beta/p)^2) / k.
    """
    pf = p_factor(normalize_pol(pol), cyl.outside_index)
    x = np.asarray(k) * cyl.outside_index * cyl.outer_radius_um
    m2 = np.asarray(m, dtype=float) ** 2
    return pf * (m2 - x * x - (beta / pf) ** 2) / np.asarray(k)


def leak_admittance(cyl: LayeredCylinder, pol: str, m, k_real) -> np.ndarray:
    """Im of :func:`outgoing_admittance` on the real axis, from the Wronskian.

    Im(x H' conj(H)) = x W[J, Y] = 2/pi exactly, so Im beta = p (2/pi) / |H|^2
    with no cancellation, however small it is (Q up to 1e13 and beyond).
    """
    n = cyl.outside_index
    x = np.asarray(k_real, dtype=float) * n * cyl.outer_radius_um
    b = scaled_jy(m, x)
    s = np.exp(2 * b.e)
    return p_factor(normalize_pol(pol), n) * (2 / np.pi) * s / ((b.j * s) ** 2 + b.y**2)


def characteristic_function(cyl: LayeredCylinder, pol: str, m, k) -> np.ndarray:
    """f(k) = beta_in - beta_out at the outer surface; zero at a resonance.

    Dimensionless, meromorphic in k (1/um): poles at the zeros of the inner
    solution at r_b (real for a lossless stack), zeros at the resonances.
    """
    inner = propagate(cyl, pol, m, np.asarray(k, dtype=complex))
    with np.errstate(divide="ignore", invalid="ignore"):
        return inner.v / inner.u - outgoing_admittance(cyl, pol, m, k)


def real_characteristic(cyl: LayeredCylinder, pol: str, m, k_real) -> np.ndarray:
    """g(k) = beta_in - Re beta_out for real k of a lossless stack.

    Decreasing between its poles (Sturm); its zeros are the real parts of the
    resonances to second order in 1/Q.
    """
    k_real = np.asarray(k_real, dtype=float)
    inner = propagate(cyl, pol, m, k_real)
    with np.errstate(divide="ignore", invalid="ignore"):
        return inner.v / inner.u - outgoing_admittance(cyl, pol, m, k_real).real


def node_count(cyl: LayeredCylinder, pol: str, m, k_real) -> np.ndarray:
    """Number of zeros of the regular solution in 0 < r < r_b at real k (lossless stack).

    By Sturm's oscillation theorem this counts the poles of
    :func:`characteristic_function` below k (the Dirichlet eigenvalues of the
    disk of radius r_b). Computed from the unwrapped Bessel phase in every
    layer, so it is exact and costs no sampling.
    """
    return node_count_and_state(cyl, pol, m, k_real)[0]


def node_count_and_state(cyl: LayeredCylinder, pol: str, m, k_real) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`node_count` and the normalized inner state (u, v) at the outer surface, from one
    propagation (real k, lossless stack)."""
    if not cyl.is_lossless:
        raise ValueError("node counting needs a lossless (real-index) stack")
    m, k_real = np.broadcast_arrays(np.asarray(m, dtype=int), np.atleast_1d(np.asarray(k_real, dtype=float)))
    inner = propagate(cyl, pol, m, k_real, keep_layers=True)
    counts = sum(layer_zero_counts(cyl, m, k_real, inner.layers))
    assert isinstance(counts, np.ndarray)  # a stack has at least one layer
    return counts, inner.u, inner.v


def layer_zero_counts(cyl: LayeredCylinder, m, k_real, layers: list[LayerCoefficients]) -> list[np.ndarray]:
    """Zeros of the real field inside each layer (real k, lossless).

    Inside a layer R = rho M(x) cos(theta(x) - phi) with the Bessel phase theta, so
    the number of zeros is floor or ceil of (theta2 - theta1) / pi; the signs of R at
    the two radii (shared with the neighbouring layers) fix its parity. This makes
    the count exact and consistent across interfaces: a zero sitting on an interface
    is counted once, however the rounding falls.
    """
    counts = []
    for layer in layers:
        n = cyl.indices[layer.index]
        r2 = cyl.radii_um[layer.index]
        th2 = bessel_phase(m, k_real * n * r2, layer.jy_outer)
        sign2 = np.sign(np.real(layer.state_outer[0]))
        if layer.index == 0:
            th1 = np.full(th2.shape, -np.pi / 2)  # theta(0+) = -pi/2, and J_m > 0 just off the axis
            sign1 = np.ones(th2.shape)
        else:
            r1 = cyl.radii_um[layer.index - 1]
            th1 = bessel_phase(m, k_real * n * r1, layer.jy_inner)
            sign1 = np.sign(np.real(layer.state_inner[0]))
        span = np.maximum(th2 - th1, 0.0) / np.pi
        low = np.floor(span).astype(int)
        odd = sign1 != sign2
        counts.append(np.where((low % 2 == 1) == odd, low, low + 1))
    return counts
