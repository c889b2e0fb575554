"""Independent high-precision reference for the resonances (Mie poles) of a homogeneous
dielectric sphere, written from the physics, not from the wgmfem code (nothing is imported
from ``wgmfem``).

Problem
-------
Sphere of radius ``a`` (um) and index ``n1`` (complex allowed, ``n + i kappa``) in an infinite
medium of real index ``n2``.  Time dependence ``exp(-i omega t)``, vacuum wavenumber ``k``
(1/um), outgoing waves outside; a resonance is a complex ``k`` with ``Im k < 0``.
Riccati-Bessel functions ``psi_l(z) = z j_l(z)`` and ``xi_l(z) = z h_l^(1)(z)``, with
``x = k a``:

* TE: ``n1 psi_l'(n1 x) / psi_l(n1 x) = n2 xi_l'(n2 x) / xi_l(n2 x)``
* TM: ``psi_l'(n1 x) / (n1 psi_l(n1 x)) = xi_l'(n2 x) / (n2 xi_l(n2 x))``

Cross-multiplied, these are the pole-free characteristic functions

* TE: ``n1 psi'(n1 x) xi(n2 x) - n2 psi(n1 x) xi'(n2 x)``
* TM: ``n2 psi'(n1 x) xi(n2 x) - n1 psi(n1 x) xi'(n2 x)``

(entire in ``k`` away from the branch cut of ``xi`` on the negative real axis), whose zeros
:func:`sphere_root_mpmath` polishes with ``mpmath.findroot``.  To keep them O(1) they are divided
by the *constant* ``psi(n1 x0) xi(n2 x0)`` at the seed ``x0`` (a constant adds no pole).

Functions: ``psi_l(z) = sqrt(pi z / 2) J_{l+1/2}(z)``, ``xi_l(z) = sqrt(pi z / 2) H^(1)_{l+1/2}(z)``
from mpmath's ``besselj``/``bessely`` (H = J + iY, both to full relative precision) and
``f_l' = f_{l-1} - (l / z) f_l``.  :func:`xi_closed_form` is the finite (exact) series of
``h_l^(1)``, used by the tests to check the Bessel evaluation independently.

Precision: a high-Q root has ``|Im k| / Re k = 1 / (2 Q)``, so ``Im k`` keeps about
``dps - log10(Q)`` digits; the working precision is raised to ``log10(Q) + 30`` when needed.
The root is returned as a Python ``complex``: its imaginary part is a double of its own, so it
holds ``Im k`` to 1e-16 *of itself* however small it is next to ``Re k``.

Radial order ``p`` (1, 2, ...): the p-th whispering-gallery resonance of given (l, pol) by
increasing ``Re k``; its interior radial function ``psi_l(n1 k r)`` has ``p - 1`` zeros in
``0 < r < a`` (:func:`radial_nodes`).  Seeds: the large-``l`` expansion of Lam, Leung & Young
(J. Opt. Soc. Am. B 9, 1585 (1992)), :func:`asymptotic_size_parameter`.

Outputs: ``wavelength_nm = 2 pi / Re k * 1000``, ``Q = Re k / (2 |Im k|)``.
"""

# ruff: noqa: E741  (l is the polar order of the physics literature)
from __future__ import annotations

import mpmath

__all__ = [
    "AIRY_ZEROS",
    "riccati_psi",
    "riccati_xi",
    "xi_closed_form",
    "psi_closed_form",
    "char_function",
    "asymptotic_size_parameter",
    "asymptotic_k",
    "sphere_root_mp",
    "sphere_root_mpmath",
    "radial_nodes",
    "sphere_mode_mpmath",
    "wavelength_nm",
    "q_factor",
]

# |a_p|, the magnitudes of the first zeros of Ai (Abramowitz & Stegun table 10.13)
AIRY_ZEROS = (2.338107410459767, 4.087949444130970, 5.520559828095551, 6.786708090071759, 7.944133587120853)


def _check_pol(pol: str) -> str:
    if pol not in ("TE", "TM"):
        raise ValueError(f"pol must be 'TE' or 'TM', got {pol!r}")
    return pol


def _mp(x):
    return mpmath.mpc(x) if isinstance(x, (complex, mpmath.mpc)) else mpmath.mpf(x)


# --------------------------------------------------------------------------- Riccati-Bessel
def _riccati(l: int, z, hankel: bool):
    """(f_l(z), f_l'(z)) with f = psi (hankel False) or xi (hankel True)."""
    nu = mpmath.mpf(l) + mpmath.mpf(1) / 2
    pref = mpmath.sqrt(mpmath.pi * z / 2)

    def cyl(order):
        j = mpmath.besselj(order, z)
        return j + 1j * mpmath.bessely(order, z) if hankel else j

    f = pref * cyl(nu)
    f_prev = pref * cyl(nu - 1)  # f_{l-1}
    return f, f_prev - (l / z) * f


def riccati_psi(l: int, z):
    """(psi_l(z), psi_l'(z)), psi_l(z) = z j_l(z)."""
    return _riccati(int(l), mpmath.mpmathify(z), hankel=False)


def riccati_xi(l: int, z):
    """(xi_l(z), xi_l'(z)), xi_l(z) = z h_l^(1)(z)."""
    return _riccati(int(l), mpmath.mpmathify(z), hankel=True)


def _hankel_series(l: int, z, sign: int):
    """z h_l^(1)(z) (sign +1) or z h_l^(2)(z) (sign -1) from the terminating series
    ``z h_l^(1,2)(z) = (-+i)^(l+1) e^{+-iz} sum_{s=0}^{l} (+-i)^s (l+s)! / (s! (l-s)! (2z)^s)``."""
    unit = 1j * sign
    total = mpmath.mpc(0)
    term = mpmath.mpc(1)  # s = 0
    for s in range(l + 1):
        if s:
            term *= unit * ((l + s) * (l - s + 1)) / (s * 2 * z)
        total += term
    phase = (1, -unit, -1, unit)[(l + 1) % 4]  # (-+i)^(l+1), exactly (a float power would not be)
    return phase * mpmath.exp(unit * z) * total


def xi_closed_form(l: int, z):
    """xi_l(z) = z h_l^(1)(z) from the terminating (exact) series of h_l^(1): no Bessel function
    evaluation, to check :func:`riccati_xi`."""
    l = int(l)
    with mpmath.extradps(l + 20):
        val = _hankel_series(l, mpmath.mpmathify(z), +1)
    return +val


def psi_closed_form(l: int, z):
    """psi_l(z) = (xi_l^(1)(z) + xi_l^(2)(z)) / 2 from the terminating series.  Below the turning
    point psi is exponentially small next to each half (|psi / xi| ~ 1e-33 at l = 200, z = 140),
    so the series is summed with l + 20 extra digits."""
    l = int(l)
    with mpmath.extradps(l + 20):
        z = mpmath.mpmathify(z)
        val = (_hankel_series(l, z, +1) + _hankel_series(l, z, -1)) / 2
    return +val


# --------------------------------------------------------------------------- characteristic function
def _char_raw(radius, n1, n2, l, pol, k):
    x = k * radius
    ps, dps_ = riccati_psi(l, n1 * x)
    xi, dxi = riccati_xi(l, n2 * x)
    if pol == "TE":
        return n1 * dps_ * xi - n2 * ps * dxi, ps * xi
    return n2 * dps_ * xi - n1 * ps * dxi, ps * xi


def char_function(radius_um, n_inside, n_outside, l, pol, k, scale=None):
    """Pole-free characteristic function at complex ``k`` (1/um), divided by the constant
    ``scale`` (default 1)."""
    _check_pol(pol)
    val, _ = _char_raw(mpmath.mpf(radius_um), _mp(n_inside), _mp(n_outside), int(l), pol, mpmath.mpmathify(k))
    return val if scale is None else val / scale


# --------------------------------------------------------------------------- asymptotics
def asymptotic_size_parameter(n_inside, n_outside, l, p, pol, terms=3):
    """Large-l expansion of ``n1 k a`` (= m n2 k a, m = n1 / n2) of the (l, p, pol) resonance
    (Lam, Leung & Young 1992), nu = l + 1/2, P = m (TE) or 1/m (TM):

        nu + 2^(-1/3) a_p nu^(1/3) - P / sqrt(m^2 - 1)                       (terms = 3)
           + (3/10) 2^(-2/3) a_p^2 nu^(-1/3)                                   (terms = 4)
           - 2^(-1/3) P (m^2 - 2 P^2 / 3) a_p nu^(-2/3) / (m^2 - 1)^(3/2)      (terms = 5)

    The error is O(nu^(-1/3)) with 3 terms, O(nu^(-2/3)) with 4 and O(nu^(-1)) with 5.
    Complex m (absorbing sphere) is allowed."""
    _check_pol(pol)
    if not 1 <= p <= len(AIRY_ZEROS):
        raise ValueError(f"p must be 1..{len(AIRY_ZEROS)}")
    m = _mp(n_inside) / _mp(n_outside)
    nu = mpmath.mpf(l) + mpmath.mpf(1) / 2
    ap = mpmath.mpf(AIRY_ZEROS[p - 1])
    big_p = m if pol == "TE" else 1 / m
    c = mpmath.cbrt(2)
    z = nu + ap * nu ** (mpmath.mpf(1) / 3) / c - big_p / mpmath.sqrt(m * m - 1)
    if terms >= 4:
        z += mpmath.mpf(3) / 10 * ap**2 * nu ** (-mpmath.mpf(1) / 3) / c**2
    if terms >= 5:
        z -= big_p * (m * m - 2 * big_p**2 / 3) * ap * nu ** (-mpmath.mpf(2) / 3) / (c * (m * m - 1) ** mpmath.mpf(1.5))
    return z


def asymptotic_k(radius_um, n_inside, n_outside, l, p, pol, terms=3):
    """The expansion as a vacuum wavenumber k = (n1 k a) / (n1 a), 1/um (complex if n1 is)."""
    return asymptotic_size_parameter(n_inside, n_outside, l, p, pol, terms) / (_mp(n_inside) * mpmath.mpf(radius_um))


# --------------------------------------------------------------------------- roots
def _polish(radius, n1, n2, l, pol, k_seed, dps, solver):
    with mpmath.workdps(dps):
        r, a, b = mpmath.mpf(radius), _mp(n1), _mp(n2)
        k0 = mpmath.mpc(k_seed)
        _, scale = _char_raw(r, a, b, l, pol, k0)

        def f(k):
            val, _ = _char_raw(r, a, b, l, pol, k)
            return val / scale

        h = mpmath.mpf("1e-7") * abs(k0)
        start = (k0, k0 + h) if solver == "secant" else (k0, k0 + h, k0 - h)
        tol = mpmath.mpf(10) ** (-(dps - 5))
        root = mpmath.mpc(mpmath.findroot(f, start, solver=solver, tol=tol, verify=False, maxsteps=100))
        return root, f


def sphere_root_mp(radius_um, n_inside, n_outside, l, pol, k_seed, dps=40, solver="secant", verify=True):
    """Complex resonance k (1/um, an mpc at the working precision) polished from ``k_seed``.

    The working precision is raised to ``log10(Q) + 30`` digits when ``dps`` is too few for
    ``Im k``.  ``verify``: (1) |f(root)| < 10^-(dps/2) min |f| on 8 points at 1e-8 |k| around it
    (an isolated zero, not a stalled iteration); (2) the root polished again with 20 more digits
    (from the root, fresh scaling) agrees to 10^-(dps-10) |k| in Re k and to 1e-20 |Im k| in
    Im k.  Raises ValueError otherwise."""
    _check_pol(pol)
    l = int(l)
    if l < 1:
        raise ValueError("l >= 1")
    root, f = _polish(radius_um, n_inside, n_outside, l, pol, k_seed, dps, solver)
    q = q_factor(root)
    if mpmath.isfinite(q) and mpmath.log10(q) + 30 > dps:  # Im k would keep fewer than ~30 digits
        dps = int(mpmath.log10(q)) + 31
        root, f = _polish(radius_um, n_inside, n_outside, l, pol, root, dps, solver)
    if verify:
        with mpmath.workdps(dps):
            d0 = abs(f(root))
            rho = mpmath.mpf("1e-8") * abs(root)
            ring = min(abs(f(root + rho * mpmath.expjpi(mpmath.mpf(s) / 4))) for s in range(8))
            if not d0 < mpmath.mpf(10) ** (-(dps // 2)) * ring:
                raise ValueError(f"sphere_root: |f| {mpmath.nstr(d0, 3)} vs {mpmath.nstr(ring, 3)} nearby at k = {root}")
        again, _ = _polish(radius_um, n_inside, n_outside, l, pol, root, dps + 20, solver)
        with mpmath.workdps(dps + 20):
            bad_re = abs(mpmath.re(again - root)) > mpmath.mpf(10) ** (-(dps - 10)) * abs(root)
            bad_im = abs(mpmath.im(again - root)) > mpmath.mpf("1e-20") * abs(mpmath.im(root))
            if bad_re or bad_im:
                raise ValueError(f"sphere_root: unstable under dps + 20: {root} vs {again}")
    with mpmath.workdps(dps):
        return +root


def sphere_root_mpmath(radius_um, n_inside, n_outside, l, pol, k_seed, dps=40, verify=True) -> complex:
    """Complex resonance k (1/um; Im k < 0) of the sphere, polished from ``k_seed`` at ``dps``
    (or more) digits: the zero of the TE/TM characteristic function that the secant iteration
    reaches from the seed (the closest one for a seed within a fraction of the mode spacing).
    Returned as a Python complex (both parts to double precision of themselves)."""
    return complex(sphere_root_mp(radius_um, n_inside, n_outside, l, pol, k_seed, dps=dps, verify=verify))


def radial_nodes(radius_um, n_inside, l, k) -> int:
    """Zeros of the interior radial function psi_l(n1 k r) in 0 < r < a, counted on the real
    axis: the zeros j_{l+1/2, s} of J_{l+1/2} below Re(n1 k a)."""
    with mpmath.workdps(30):
        top = mpmath.re(_mp(n_inside) * mpmath.mpmathify(k)) * mpmath.mpf(radius_um)
        nu = mpmath.mpf(l) + mpmath.mpf(1) / 2
        count = 0
        while mpmath.besseljzero(nu, count + 1) < top:
            count += 1
        return count


def sphere_mode_mpmath(radius_um, n_inside, n_outside, l, p, pol, dps=40, verify=True):
    """(k, nodes) of the (l, p, pol) whispering-gallery resonance: seeded by the expansion
    (5 terms, then 4 and 3; secant, then Muller: the real seeds are poor for the leaky low-l
    modes), polished by :func:`sphere_root_mpmath`, its radial nodes counted.  The first root
    with nodes == p - 1 and Re(n1 k a) > l + 1/2 (a whispering-gallery root) is returned;
    ValueError if no seed reaches one."""
    found = []
    for solver in ("secant", "muller"):
        for terms in (5, 4, 3):
            seed = complex(asymptotic_k(radius_um, n_inside, n_outside, l, p, pol, terms=terms))
            try:
                root = sphere_root_mp(radius_um, n_inside, n_outside, l, pol, seed, dps=dps, solver=solver, verify=False)
            except (ValueError, ZeroDivisionError):
                continue
            k = complex(root)
            nodes = radial_nodes(radius_um, n_inside, l, k)
            whispering = (complex(n_inside) * k).real * radius_um > l + 0.5
            found.append((terms, solver, k, nodes))
            if nodes == p - 1 and whispering and k.imag <= 0:
                if verify:
                    k = sphere_root_mpmath(radius_um, n_inside, n_outside, l, pol, k, dps=dps, verify=True)
                return k, nodes
    raise ValueError(f"sphere_mode: no seed reached the l = {l}, p = {p} {pol} resonance; reached {found}")


# --------------------------------------------------------------------------- outputs
def wavelength_nm(k):
    return 2 * mpmath.pi / mpmath.re(mpmath.mpmathify(k)) * 1000


def q_factor(k):
    k = mpmath.mpmathify(k)
    return mpmath.re(k) / (2 * abs(mpmath.im(k)))
