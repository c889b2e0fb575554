"""Independent reference for whispering-gallery modes of very high order (m ~ 1e4 - 1e5).

mpmath's ``besselj``/``bessely`` sum hypergeometric series, which at m = 30000 need
~7000-bit arithmetic and half a minute per Y value; the determinant of
:mod:`mpmath_cylinder` is then out of reach. Here the Bessel functions of integer order
come from their three-term recurrence instead, in mpmath arithmetic (arbitrary exponent,
``dps`` digits), with no asymptotic expansion anywhere (wgmfem uses scipy and the Debye
expansion, so the two share nothing but the definition):

* Y_m by upward recurrence from mpmath's Y_0, Y_1 (Y is the dominant solution as the order
  grows: the recurrence is stable);
* the ratio J_{m-1}/J_m by downward recurrence (Miller's algorithm: J is the minimal
  solution) started far enough beyond both m and x that the start error has decayed below
  the working precision at order m;
* J_m itself from the Wronskian J_m Y_{m-1} - J_{m-1} Y_m = 2/(pi x) (DLMF 10.5.2).

On these values: the real resonance condition of a layered cylinder whose outer field is
Y_m (the outgoing H1 = J + iY with J/Y below 1e-300 at the surface: Re k of a resonance with
Q beyond ~1e300 to every digit), its field, the electric energy per region from Lommel's
integral (a closed form, not wgmfem's code), and Q from energy balance.

Polarizations as in :mod:`mpmath_cylinder`: Ez (R, R' continuous) and Hz (R, R'/n^2
continuous). Slow: about a second per evaluation at m = 30000.
"""

from __future__ import annotations

import mpmath

DPS = 30
_GUARD = 15  # extra digits for the recurrences


def bessel_jy(m: int, x, dps: int = DPS):
    """(J_m, J_m', Y_m, Y_m') at real x > 0 for an integer order m >= 1 (mpf, ``dps`` digits)."""
    with mpmath.workdps(dps + _GUARD):
        x = mpmath.mpf(x)
        # Y upward: Y_{n+1} = (2n/x) Y_n - Y_{n-1}
        y_prev, y = mpmath.bessely(0, x), mpmath.bessely(1, x)
        two_over_x = 2 / x
        for n in range(1, m):
            y_prev, y = y, n * two_over_x * y - y_prev
        # J_{n-1}/J_n downward: rho_n = 2n/x - 1/rho_{n+1}, started from rho = inf at an order
        # `top` beyond both m and x. The start error at order m is ~ (J_top Y_m)/(Y_top J_m),
        # which with the margin below is far under 10^-(dps+guard) (checked by the tests
        # against mpmath.besselj and by doubling the margin).
        top = int(max(m, x) + 8 * float(x) ** (1 / 3) * (dps + _GUARD) ** (2 / 3) + 50)
        inv = mpmath.mpf(0)  # 1/rho_{top+1}
        for n in range(top, m - 1, -1):
            rho = n * two_over_x - inv
            inv = 1 / rho
        ratio = rho  # J_{m-1}/J_m
        # Wronskian J_m Y_{m-1} - J_{m-1} Y_m = 2/(pi x)
        j = 2 / (mpmath.pi * x * (y_prev - ratio * y))
        j_prev = ratio * j
        dj = j_prev - m / x * j  # Z_m' = Z_{m-1} - (m/x) Z_m
        dy = y_prev - m / x * y
        return +j, +dj, +y, +dy


def _weight(pol, n):
    return n if pol == "Ez" else 1 / n


def field_layers(radii, indices, n_out, pol, m, k, match: int = 0, dps: int = DPS):
    """Coefficients of the real field at real k: core J_m(k n_0 r), shells A J + B Y, outside
    C Y_m (the solution that decays under the outer barrier).

    The layers 0..``match`` are filled from the centre out (core A = 1) and the others from
    the outside in (C = 1), the inner and outer parts then scaled to meet at the outer radius
    of layer ``match``: each part is carried in the direction in which a field confined near
    that interface grows, so that neither amplifies the rounding of the other solution (a core
    mode at m = 30000 decays by e^-400 across the wall; carried from the centre, 30 digits
    would not hold it). Returns (coefficients [(A, B)] per layer, C, wronskian, values) where
    ``wronskian`` is u_in flux_out - flux_in u_out at the meeting radius for the unscaled parts
    (zero at a resonance, entire in k) and ``values`` the Bessel data
    {(layer, radius index): (x, J, J', Y, Y')}.
    """
    with mpmath.workdps(dps):
        k = mpmath.mpf(k)
        nl = len(radii)
        ns = [mpmath.mpf(n) for n in indices] + [mpmath.mpf(n_out)]
        rs = [mpmath.mpf(r) for r in radii]
        values = {}

        def bessel(layer, i):
            key = (layer, i)
            if key not in values:
                x = k * ns[layer] * rs[i]
                values[key] = (x,) + bessel_jy(m, x, dps)
            return values[key]

        def state(layer, i, coef):
            """(R, flux) at radius i from the coefficients of ``layer``; flux = w dZ/dx is continuous."""
            x, jv, jd, yv, yd = bessel(layer, i)
            a, b = coef
            return a * jv + b * yv, _weight(pol, ns[layer]) * (a * jd + b * yd)

        def solve(layer, i, u, flux):
            """Coefficients (A, B) of ``layer`` with the state (u, flux) at radius i (Wronskian)."""
            x, jv, jd, yv, yd = bessel(layer, i)
            zd = flux / _weight(pol, ns[layer])
            w = 2 / (mpmath.pi * x)  # J Y' - J' Y
            return (u * yd - zd * yv) / w, (zd * jv - u * jd) / w

        coefs = [None] * (nl + 1)
        coefs[0] = (mpmath.mpf(1), mpmath.mpf(0))
        for j in range(1, match + 1):
            coefs[j] = solve(j, j - 1, *state(j - 1, j - 1, coefs[j - 1]))
        coefs[nl] = (mpmath.mpf(0), mpmath.mpf(1))  # outside: Y
        for j in range(nl - 1, match, -1):
            coefs[j] = solve(j, j, *state(j + 1, j, coefs[j + 1]))
        u_in, f_in = state(match, match, coefs[match])
        u_out, f_out = state(match + 1, match, coefs[match + 1])
        wronskian = u_in * f_out - f_in * u_out
        scale = u_in / u_out
        for j in range(match + 1, nl + 1):
            coefs[j] = (coefs[j][0] * scale, coefs[j][1] * scale)
        return coefs[:nl], coefs[nl][1], wronskian, values


def real_determinant(radii, indices, n_out, pol, m, k, match: int = 0, dps: int = DPS):
    """Wronskian of the solution regular at the centre and the one decaying under the outer
    barrier, at the outer radius of layer ``match``: real, entire in k (no poles), zero at
    Re k of every resonance with Q beyond ~1e300."""
    return field_layers(radii, indices, n_out, pol, m, k, match, dps)[2]


def energy_fractions(radii, indices, n_out, pol, m, k, match: int = 0, dps: int = DPS, with_q: bool = False):
    """Energy fractions (and with ``with_q`` Q) at a real resonance k: see :func:`evaluate`."""
    result = evaluate(radii, indices, n_out, pol, m, k, match, dps)
    return (result["fractions"], result["Q"]) if with_q else result["fractions"]


def evaluate(radii, indices, n_out, pol, m, k, match: int = 0, dps: int = DPS) -> dict:
    """At real k: ``fractions``, the electric energy per region (dict core, wall, layer3, ...,
    outside) from Lommel's integral int x Z^2 dx = [x^2 Z'^2 + (x^2 - m^2) Z^2] / 2; ``Q`` from
    energy balance; and ``determinant``, :func:`real_determinant` at k (the first two mean
    something at a resonance only).

    Ez: int n^2 R^2 r dr; Hz: int (R'^2 + m^2 R^2/r^2)/n^2 r dr = ([r R R'] + q^2 int R^2 r dr)/n^2
    (q = k n; by the Bessel equation). The outside is the outgoing wave C H1_m, |H1|^2 = J^2 + Y^2,
    integrated to the outer turning point m/(k n_out) plus one wavelength in the outer medium.

    Q (to first order in 1/Q, i.e. exactly for these modes) is omega W / P with the stored energy
    W = 2 W_e and the radiated power P from the outgoing flux, Im(conj(H1) H1') = 2/(pi x):
    Ez: Q = (pi/2) k^2 int n^2 R^2 r dr / |C|^2; Hz: Q = (pi/2) n_out^2 int (...) r dr / |C|^2.
    """
    with mpmath.workdps(dps):
        k = mpmath.mpf(k)
        coefs, c_y, wronskian, values = field_layers(radii, indices, n_out, pol, m, k, match, dps)
        ns = [mpmath.mpf(n) for n in indices] + [mpmath.mpf(n_out)]
        nl = len(radii)

        def lommel(x, z, zd):
            return (x * x * zd * zd + (x * x - m * m) * z * z) / 2

        def term(n, x, z, zd):
            if pol == "Ez":
                return lommel(x, z, zd) / k**2  # n^2 int r R^2 dr = n^2/q^2 int x Z^2 dx
            return (x * z * zd + lommel(x, z, zd)) / n**2

        energies = []
        for j in range(nl):
            a, b = coefs[j]
            x2, jv, jd, yv, yd = values[(j, j)]
            e = term(ns[j], x2, a * jv + b * yv, a * jd + b * yd)
            if j > 0:
                x1, jv, jd, yv, yd = values[(j, j - 1)]
                e -= term(ns[j], x1, a * jv + b * yv, a * jd + b * yd)
            energies.append(e)
        # outside: R = C H1 with C = u_b / H1(x_b); |C|^2 = u_b^2 / (J_b^2 + Y_b^2)
        xb, jb, jdb, yb, ydb = values[(nl, nl - 1)]
        u_b = c_y * yb
        c2 = u_b**2 / (jb**2 + yb**2)
        r_out = max(mpmath.mpf(radii[-1]), m / (k * ns[-1])) + 2 * mpmath.pi / (k * ns[-1])
        xo = k * ns[-1] * r_out
        jo, jdo, yo, ydo = bessel_jy(m, xo, dps)
        outside = c2 * (term(ns[-1], xo, jo, jdo) + term(ns[-1], xo, yo, ydo) - term(ns[-1], xb, jb, jdb) - term(ns[-1], xb, yb, ydb))
        energies.append(outside)
        total = sum(energies)
        names = ["core", "wall"][:nl] + [f"layer{i + 1}" for i in range(2, nl)] + ["outside"]
        fractions = {name: e / total for name, e in zip(names, energies)}
        # Q = omega W / P; Ez: int n^2 R^2 r dr = total; Hz: the electric integral = total
        factor = k**2 if pol == "Ez" else ns[-1] ** 2
        q = mpmath.pi / 2 * factor * total / c2
        return {"fractions": fractions, "Q": q, "determinant": wronskian}


def find_real_root(radii, indices, n_out, pol, m, k_guess, rel_bracket=1e-9, match: int = 0, dps: int = DPS):
    """The zero of :func:`real_determinant` in k_guess (1 +- rel_bracket), by Illinois (regula
    falsi); ValueError when the bracket holds no sign change."""
    with mpmath.workdps(dps):
        k0 = mpmath.mpf(k_guess)
        a, b = k0 * (1 - mpmath.mpf(rel_bracket)), k0 * (1 + mpmath.mpf(rel_bracket))
        fa = real_determinant(radii, indices, n_out, pol, m, a, match, dps)
        fb = real_determinant(radii, indices, n_out, pol, m, b, match, dps)
        if mpmath.sign(fa) == mpmath.sign(fb):
            raise ValueError(f"no sign change of the determinant in k = {k_guess} (1 +- {rel_bracket})")
        side, c_prev = 0, None
        for _ in range(100):
            c = (a * fb - b * fa) / (fb - fa)
            if c_prev is not None and abs(c - c_prev) < mpmath.mpf(10) ** (-(dps - 5)) * abs(c):
                return c
            c_prev = c
            fc = real_determinant(radii, indices, n_out, pol, m, c, match, dps)
            if fc == 0:
                return c
            if mpmath.sign(fc) == mpmath.sign(fb):
                b, fb = c, fc
                if side == -1:  # the same end twice: Illinois halves the other one's value
                    fa /= 2
                side = -1
            else:
                a, fa = c, fc
                if side == 1:
                    fb /= 2
                side = 1
        raise ValueError(f"find_real_root did not converge near k = {k_guess}")


def field_values(radii, indices, n_out, pol, m, k, r_list, match: int = 0, dps: int = DPS):
    """R(r) of the real field of :func:`field_layers` at the radii ``r_list`` (um; inside the
    fibre), scaled so that R = J_m(k n_0 r) in the core."""
    with mpmath.workdps(dps):
        k = mpmath.mpf(k)
        coefs, _, _, _ = field_layers(radii, indices, n_out, pol, m, k, match, dps)
        out = []
        for r in r_list:
            r = mpmath.mpf(r)
            j = next(i for i, rj in enumerate(radii) if r <= rj)
            jv, _, yv, _ = bessel_jy(m, k * mpmath.mpf(indices[j]) * r, dps)
            a, b = coefs[j]
            out.append(a * jv + b * yv)
        return out
