"""Exact resonances of a homogeneous dielectric sphere (Mie poles in complex k).

The sphere is the closed-form check of the axisymmetric FEM: a sphere of radius a is
a body of revolution whose (r, z) section is a half-disk, and its whispering-gallery
modes with polar order l = m are the sphere's analogue of a cylinder's (m, p) modes.

With x = k a (k = 2 pi / lambda in 1/um, time dependence exp(-i omega t)), inside
index n1 (may be complex), outside index n2, and the Riccati-Bessel functions
psi_l(z) = z j_l(z), xi_l(z) = z h_l^(1)(z), the resonances are the roots of

    TE:  n1 psi_l'(n1 x) / psi_l(n1 x) = n2 xi_l'(n2 x) / xi_l(n2 x)
    TM:  psi_l'(n1 x) / (n1 psi_l(n1 x)) = xi_l'(n2 x) / (n2 xi_l(n2 x))

TE has no radial electric field; for l = m its electric field points along the axis
at the equator, so it continues the cylinder's Ez family (TM continues Hz).

Each log-derivative is a ratio of half-integer Bessel functions,
f'(z)/f(z) = F_{l-1/2}(z) / F_{l+1/2}(z) - l/z for f = psi, xi with F = J, H^(1),
computed with scipy's Bessel functions (J exponentially scaled: the scale cancels in the ratio).

High Q: Im k / Re k falls below double precision long before the Q of a large sphere
does, so a complex root would carry noise in Im k. Write xi = psi + i Y (Y = z y_l);
where |Y| >> |psi| outside, xi'/xi = Y'/Y + i / Y^2 to first order (the Wronskian
psi' Y - psi Y' = -1). The real root k0 of the bound problem (xi replaced by Y) is
found in real arithmetic, and Im k = -Im(delta) / G'(k0), delta being the first-order
leak term (as for the cylinder's high-Q modes). Below ``LEAK_FORMULA_ABOVE_Q`` the root
is found directly in complex k.

Labels and verification: p - 1 is the number of zeros of the interior radial function
psi_l(n1 k r) for 0 < r < a, counted on the real axis (``nodes``); a root with another
count is rejected and the next starting point is tried (the very leaky modes of small
spheres, Q ~ 10, lie far below the real axis). Its residual |F / (k F')| is recorded.
"""

# ruff: noqa: E741  (l is the polar order of the physics literature)
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from ..units import ComplexWavenumber
from .search import airy_zero

#: a root with Q above this takes Im k from the first-order leak formula
LEAK_FORMULA_ABOVE_Q = 1e8
POLARIZATIONS = ("TE", "TM")


def _psi_log_derivative(l: int, z):
    """psi_l'(z) / psi_l(z) for complex z."""
    return special.jve(l - 0.5, z) / special.jve(l + 0.5, z) - l / z


def _xi_log_derivative(l: int, z):
    """xi_l'(z) / xi_l(z), xi = z h_l^(1)(z), for complex z."""
    # unscaled: scipy's hankel1e returns 0 for Im z < 0, where the resonances lie
    return special.hankel1(l - 0.5, z) / special.hankel1(l + 0.5, z) - l / z


def _y_log_derivative(l: int, z):
    """Y'(z) / Y(z) for Y = z y_l(z) (the standing outside wave of the bound problem), real z."""
    return special.yv(l - 0.5, z) / special.yv(l + 0.5, z) - l / z


def _weights(pol: str, n1, n2):
    """(inside, outside) factors multiplying the two log-derivatives."""
    return (n1, n2) if pol == "TE" else (1.0 / n1, 1.0 / n2)


def characteristic(k, radius_um: float, index, l: int, pol: str = "TE", outside_index: float = 1.0):
    """The mismatch of log-derivatives whose roots in complex k (1/um) are the resonances."""
    w1, w2 = _weights(pol, index, outside_index)
    x = np.asarray(k) * radius_um
    return w1 * _psi_log_derivative(l, index * x) - w2 * _xi_log_derivative(l, outside_index * x)


def _bound_characteristic(k: float, radius_um: float, index: float, l: int, pol: str, outside_index: float) -> float:
    """The real problem with xi replaced by Y: its real roots are the resonances' Re k at high Q."""
    w1, w2 = _weights(pol, index, outside_index)
    x = k * radius_um
    return float(w1 * _psi_log_derivative(l, index * x) - w2 * _y_log_derivative(l, outside_index * x))


def seed_k(radius_um: float, index: float, l: int, p: int, pol: str, outside_index: float = 1.0) -> float:
    """The asymptotic (Airy-zero) estimate of the resonance (Lam, Leung and Young, JOSA B 9, 1585 (1992))."""
    nu = l + 0.5
    rel = index / outside_index
    big_p = rel if pol == "TE" else 1.0 / rel
    a_p = airy_zero(p)
    rel_x = (nu + 2 ** (-1 / 3) * a_p * nu ** (1 / 3) - big_p / math.sqrt(rel**2 - 1)
             + 0.3 * 2 ** (-2 / 3) * a_p**2 * nu ** (-1 / 3))
    return rel_x / (index * radius_um)


def radial_spacing_k(radius_um: float, index: float, l: int, p: int) -> float:
    """Distance in k (1/um) between the radial orders p and p + 1 of the asymptotic formula."""
    nu = l + 0.5
    return 2 ** (-1 / 3) * (airy_zero(p + 1) - airy_zero(p)) * nu ** (1 / 3) / (index * radius_um)


def interior_nodes(k: float, radius_um: float, index: float, l: int) -> int:
    """Zeros of psi_l(n k r) for 0 < r < a: sign changes of J_{l+1/2} below n k a (real parts)."""
    top = float(np.real(index) * k * radius_um)
    start = min(0.5 * (l + 0.5), top)
    t = np.linspace(start, top, 4000 + 40 * int(top - start))[:-1]
    s = np.sign(special.jv(l + 0.5, t))
    return int(np.count_nonzero(s[1:] * s[:-1] < 0))


class SphereError(RuntimeError):
    """The sphere root could not be found or verified."""


@dataclass(frozen=True)
class SphereResonance(ComplexWavenumber):
    """One resonance of a homogeneous sphere; lengths in um, wavelength in nm."""

    radius_um: float
    index: complex
    outside_index: float
    l: int
    p: int
    pol: str
    k_per_um: complex
    nodes: int
    residual: float
    leak_formula: bool


def secant_root(f, x0, x1, tol: float = 1e-15, max_iter: int = 60):
    """A root of ``f`` by the secant method from x0, x1 (real or complex): converged when a step is
    below ``tol`` of |x| (or, after ``max_iter`` steps, below 1e-12); else :class:`SphereError`."""
    f0, f1 = f(x0), f(x1)
    for _ in range(max_iter):
        if f1 == f0:
            break
        x2 = x1 - f1 * (x1 - x0) / (f1 - f0)
        x0, f0, x1 = x1, f1, x2
        f1 = f(x1)
        if abs(x1 - x0) <= tol * abs(x1):
            return x1
    if abs(x1 - x0) <= 1e-12 * abs(x1):
        return x1
    raise SphereError("the secant iteration did not converge")


def central_difference(f, k, h):
    """(f(k + h) - f(k - h)) / (2 h)."""
    return (f(k + h) - f(k - h)) / (2 * h)


def _bound_path(complex_f, real_f, step, pol, index, outside_index, radius_um, l, k_seed):
    """Real root of the bound problem, first-order leak, then (below the leak threshold) a complex secant."""
    k0 = float(secant_root(real_f, k_seed, k_seed + step))
    # first-order leak: xi'/xi = Y'/Y + i / Y^2, so characteristic = G - i w2 / Y^2
    w2 = _weights(pol, index, outside_index)[1]
    y_out = outside_index * k0 * radius_um
    y_fun = y_out * math.sqrt(math.pi / (2 * y_out)) * special.yv(l + 0.5, y_out)
    # beyond |Y| ~ 1e150 the leak (Q > 1e300) is below double precision: Im k = 0, Q infinite
    delta = -1j * w2 / y_fun**2 if abs(y_fun) < 1e150 else 0j
    g_prime = central_difference(real_f, k0, 1e-7 * k0)
    k_root = complex(k0 - delta / g_prime)
    leak = abs(k_root.real / (2 * k_root.imag)) > LEAK_FORMULA_ABOVE_Q if k_root.imag else True
    if leak:
        return k_root, True, real_f, k0
    k_root = complex(secant_root(complex_f, k_root, k_root + step))
    return k_root, False, complex_f, k_root


def _complex_path(start):
    """A complex secant from ``start`` (for absorbing spheres and very leaky modes)."""
    def attempt(complex_f, real_f, step, *_):
        k_root = complex(secant_root(complex_f, start, start + step))
        return k_root, False, complex_f, k_root
    return attempt


def _attempts(lossless: bool, k_seed: float, spacing: float):
    """Root-finding paths, tried in turn until one lands on a root with the right node count."""
    if lossless:
        yield functools.partial(_bound_path, k_seed=k_seed)
    for depth in (0.0, 0.25, 1.0):
        yield _complex_path(complex(k_seed, -depth * spacing))


def sphere_resonance(radius_um: float, index, l: int, p: int = 1, pol: str = "TE",
                     outside_index: float = 1.0) -> SphereResonance:
    """The (l, p, pol) resonance of a sphere of radius ``radius_um`` (um) and index ``index`` in ``outside_index``."""
    if pol not in POLARIZATIONS:
        raise ValueError(f"pol must be one of {POLARIZATIONS}, got {pol!r}")
    if radius_um <= 0 or l < 1 or p < 1:
        raise ValueError("the sphere needs radius_um > 0, l >= 1 and p >= 1")
    if not np.real(index) > outside_index:
        raise ValueError("a whispering-gallery resonance needs the sphere's index above the outside index")
    n_re = float(np.real(index))
    k_seed = seed_k(radius_um, n_re, l, p, pol, outside_index)
    spacing = radial_spacing_k(radius_um, n_re, l, p)
    step = 1e-4 * spacing

    def complex_f(k):
        return complex(characteristic(k, radius_um, index, l, pol, outside_index))

    def real_f(k):
        return _bound_characteristic(k, radius_um, n_re, l, pol, outside_index)

    failures = []
    for attempt in _attempts(np.imag(index) == 0, k_seed, spacing):
        try:
            k_root, leak, residual_f, at = attempt(complex_f, real_f, step, pol, index, outside_index, radius_um, l)
        except (SphereError, ZeroDivisionError, OverflowError, ValueError) as exc:
            failures.append(str(exc))
            continue
        nodes = interior_nodes(k_root.real, radius_um, index, l)
        if nodes == p - 1 and math.isfinite(abs(k_root)):
            break
        failures.append(f"a root with {nodes} interior nodes")
    else:
        raise SphereError(f"no (l={l}, p={p}, {pol}) root with {p - 1} interior nodes was found: {'; '.join(failures)}")
    h = 1e-7 * abs(at)
    residual = abs(residual_f(at)) / (abs(at) * abs(central_difference(residual_f, at, h)))
    return SphereResonance(radius_um, complex(index), float(outside_index), l, p, pol, complex(k_root), nodes,
                           float(residual), leak)
