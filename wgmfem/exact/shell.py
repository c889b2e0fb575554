"""Exact resonances of a liquid-filled glass shell (coated sphere; Mie poles in complex k).

The shell is the closed-form check of the axisymmetric FEM for a hollow body of revolution (a
microbubble or hollow microsphere filled with liquid): its bore closes on the axis, as a sealed
capillary's does. Conventions as for the homogeneous sphere (:mod:`wgmfem.exact.sphere`):
k = 2 pi / lambda in 1/um, lengths in um, time dependence exp(-i omega t), Q = Re k / (-2 Im k).

A core of radius a and index n1 (a liquid, may be complex = absorbing) inside a shell of
outer radius b and index n2 (glass), in an outside medium of real index n3: a microbubble
or hollow microsphere filled with liquid. In each region the radial function u(r) (r times
the radial dependence of the tangential field) is a Riccati-Bessel combination of z = n k r:

    core   u = psi_l(n1 k r)
    shell  u = A psi_l(n2 k r) + B chi_l(n2 k r)      (chi_l(z) = z y_l(z), called Y above)
    out    u = C xi_l(n3 k r)

TE (no radial E; u is E tangential): u and du/dr are continuous at r = a and r = b.
TM (no radial H; u is H tangential): u and (1/n^2) du/dr are continuous (weights 1/n^2).
With w = n (TE) or 1/n (TM), i.e. p n for p = 1 or 1/n^2, the admittance
beta = w u'(z) / u(z) (' = d/dz) is continuous at both interfaces. The core fixes
beta at a, the shell carries it to b, and the resonances are the roots of

    F(k) = w2 U'(n2 k b) / U(n2 k b) - w3 xi_l'(n3 k b) / xi_l(n3 k b),

U being the shell solution whose log-derivative at z_a = n2 k a is (w1 / w2) psi_l'(n1 k a) / psi_l(n1 k a).
For n1 = n2, U = psi_l and F is the homogeneous sphere's characteristic function.

Numerical stability (l up to a few thousand, evanescent layers): Bessel functions of order
nu = l + 1/2 are used in the scaled form of :mod:`wgmfem.exact.bessel`, J = j exp(e),
Y = y exp(-e) (e <= 0 the Debye exponent below the turning point, 0 above), so that
psi = s j exp(e), chi = s y exp(-e) with s = sqrt(pi z / 2), and likewise for the derivatives
(pj, py). By the Wronskian psi chi' - psi' chi = 1, the shell solution with state (u_a, g_a)
at z_a is U = (u_a chi_a' - g_a chi_a) psi - (u_a psi_a' - g_a psi_a) chi, i.e. up to a common
factor s_a s exp(e - e_a)

    U ~ c1 j(z) - c2 y(z) exp(-2 (e(z) - e_a)),   c1 = u_a py_a - g_a y_a,  c2 = u_a pj_a - g_a j_a,

where e(z) >= e_a, so the only exponential left is <= 1: no product overflows, and an
opaque (deeply evanescent) layer makes the exponential underflow harmlessly to 0. The
outgoing wave's log-derivative is (pj exp(2e) + i py) / (j exp(2e) + i y). Where scipy's
values leave the double range, the uniform Debye expansion takes over (orders >= 30).

Root finding: for a lossless stack the bound problem (xi replaced by chi, real) is scanned
in k on a window covering the requested (region, p), in the pole-free form
w2 U' chi3 - w3 U chi3' (its sign changes are exactly its roots), and every root is bracketed
(brentq) and labelled. High Q: Im k from the same first-order leak term as for the sphere,
delta = -i w3 / chi3^2; below ``LEAK_FORMULA_ABOVE_Q`` a complex secant on F from there.
An absorbing core or shell: the lossless (Re n) resonance is continued to the complex indices
by a complex secant (in steps of Im n if one jump lands elsewhere).

Labels of a shell resonance: ``region`` is where the mode lives, the region (core or shell)
holding the larger part of the energy of the tangential field, int w_E |u|^2 dr with
w_E = n^2 (TE, electric) or 1 (TM, magnetic); ``p - 1`` is the number of zeros of u(r) in
that region only: 0 < r < a for a core mode, a < r < b for a wall (shell) mode, counted on a
fine grid of the real bound problem. So p is the radial order of a wall mode across the glass
wall, or of a core mode across the liquid, not a global count over 0 < r < b. Labels are those
of the real bound-problem root the resonance was continued from (with real parts of the
indices). A mode with less than ``CLEAR_REGION_FRACTION`` of its energy in its region (a hybrid
of a core and a wall mode near an anti-crossing, or a quasi-droplet mode of a thin wall) is
returned with ``hybrid=True``: its (region, p) is then a majority label, not a clean one. If two
roots of the window carry the requested label, :class:`ShellLabelError` is raised (no silent
choice).
"""

# ruff: noqa: E741  (l is the polar order of the physics literature)
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from ..units import ComplexWavenumber
from .bessel import debye_jy, scaling_exponent
from .sphere import (
    LEAK_FORMULA_ABOVE_Q,
    POLARIZATIONS,
    SphereError,
    central_difference,
    radial_spacing_k,
    secant_root,
    seed_k,
)

REGIONS = ("shell", "core")
#: a mode with less of its energy than this in its region is flagged ``hybrid``
CLEAR_REGION_FRACTION = 0.75
# scipy's Bessel values are trusted only well inside the double range (as in wgmfem.exact.bessel)
_TINY, _HUGE = 1e-280, 1e280
_DEBYE_MIN_ORDER = 30
# grid points per unit of z = n k r for labelling (nodes of u are >= pi apart in z)
_POINTS_PER_UNIT_Z = 5


class ShellError(SphereError):
    """The shell resonance could not be found or verified."""


class ShellLabelError(ShellError):
    """More than one root carries the requested (region, p) label: the label is ambiguous."""


@dataclass(frozen=True)
class ShellResonance(ComplexWavenumber):
    """One resonance of a liquid-filled shell; lengths in um, wavelength in nm, k in 1/um.

    ``region`` ("shell": wall mode, or "core") is where the mode lives and ``p - 1 == nodes``
    the zeros of u(r) in that region (see the module docstring); ``core_nodes``/``shell_nodes``
    count both regions, ``core_fraction`` is the energy fraction in the core, ``hybrid`` flags a
    mode with less than ``CLEAR_REGION_FRACTION`` of its energy in its region.
    """

    inner_radius_um: float
    outer_radius_um: float
    core_index: complex
    shell_index: complex
    outside_index: float
    l: int
    p: int
    pol: str
    region: str
    k_per_um: complex
    nodes: int
    core_nodes: int
    shell_nodes: int
    core_fraction: float
    hybrid: bool
    residual: float
    leak_formula: bool


@dataclass(frozen=True)
class _Shell:
    """Geometry and indices: core radius a, outer radius b (um), indices n1 (core), n2 (shell), n3 (outside)."""

    a: float
    b: float
    n1: complex | float
    n2: complex | float
    n3: float
    l: int
    pol: str

    def real(self) -> _Shell:
        """The same shell with the real parts of the indices (the lossless problem)."""
        return _Shell(self.a, self.b, float(np.real(self.n1)), float(np.real(self.n2)), self.n3, self.l, self.pol)

    def with_indices(self, n1, n2) -> _Shell:
        return _Shell(self.a, self.b, n1, n2, self.n3, self.l, self.pol)


@dataclass
class _ScaledRiccati:
    """psi = s j exp(e), psi' = s pj exp(e), chi = s y exp(-e), chi' = s py exp(-e), s = sqrt(pi z / 2)."""

    j: np.ndarray
    pj: np.ndarray
    y: np.ndarray
    py: np.ndarray
    e: np.ndarray


def _scaled_riccati(l: int, z) -> _ScaledRiccati:
    """psi_l, chi_l and their derivatives at ``z`` (array, Re z > 0) in scaled form: nothing overflows."""
    nu = l + 0.5
    shape = np.shape(z)
    z = np.atleast_1d(z)  # 1-d inside, so that the Debye fallback can assign by mask
    e = scaling_exponent(nu, z)
    with np.errstate(all="ignore"):
        jm, jm1 = special.jv(nu, z), special.jv(nu - 1, z)
        ym, ym1 = special.yv(nu, z), special.yv(nu - 1, z)
        dj, dy = jm1 - (nu / z) * jm, ym1 - (nu / z) * ym  # F'_nu = F_{nu-1} - (nu / z) F_nu
        safe = (np.isfinite(jm) & np.isfinite(ym) & np.isfinite(dj) & np.isfinite(dy)
                & (np.abs(ym) < _HUGE) & (np.abs(dy) < _HUGE) & ((np.abs(jm) > _TINY) | (e == 0)))
        j, dj = jm * np.exp(-e), dj * np.exp(-e)
        y, dy = ym * np.exp(e), dy * np.exp(e)
    if not np.all(safe):
        # outside the double range: the uniform Debye expansion (accurate there, at large order only)
        unsafe = ~safe
        if nu >= _DEBYE_MIN_ORDER:
            with np.errstate(all="ignore"):
                d = debye_jy(nu, z[unsafe])
            e = e.copy()
            for target, val in ((j, d.j), (dj, d.dj), (y, d.y), (dy, d.dy)):
                target[unsafe] = val if np.iscomplexobj(target) else val.real
            e[unsafe] = d.e
        else:
            for target in (j, dj, y, dy):
                target[unsafe] = np.nan
    # Riccati form: psi' = s (J' + J / (2 z)) etc.
    pj, py = dj + j / (2 * z), dy + y / (2 * z)
    return _ScaledRiccati(*(v.reshape(shape) for v in (j, pj, y, py, e)))


def _weight(pol: str, n):
    """w = n (TE) or 1/n (TM): the admittance w u'/u is continuous at an interface."""
    return n if pol == "TE" else 1.0 / n


def _core_state(s: _Shell, k) -> tuple[np.ndarray, np.ndarray, _ScaledRiccati]:
    """(u_a, g_a) at r = a in the shell's variable z = n2 k r (normalized), and the core's Bessel values."""
    core = _scaled_riccati(s.l, s.n1 * np.asarray(k) * s.a)
    u_a, g_a = core.j, (_weight(s.pol, s.n1) / _weight(s.pol, s.n2)) * core.pj
    # the common factor s1 exp(e1) is dropped; the norm keeps (u_a, g_a) O(1) for a tiny core
    norm = np.maximum(np.abs(u_a), np.abs(g_a))
    return u_a / norm, g_a / norm, core


def _shell_top(s: _Shell, k) -> tuple[np.ndarray, np.ndarray]:
    """(U, U') of the shell solution at z_b = n2 k b, up to the common factor s_a s_b exp(e_b - e_a) (> 0 for real k)."""
    u_a, g_a, _ = _core_state(s, k)
    at_a = _scaled_riccati(s.l, s.n2 * np.asarray(k) * s.a)
    at_b = _scaled_riccati(s.l, s.n2 * np.asarray(k) * s.b)
    c1 = u_a * at_a.py - g_a * at_a.y
    c2 = u_a * at_a.pj - g_a * at_a.j
    decay = np.exp(-2 * (at_b.e - at_a.e))  # <= 1: chi's share shrinks across an evanescent wall
    return c1 * at_b.j - c2 * at_b.y * decay, c1 * at_b.pj - c2 * at_b.py * decay


def _xi_log_derivative_scaled(l: int, z):
    """xi_l'/xi_l = (pj exp(2e) + i py) / (j exp(2e) + i y): no overflow at any order."""
    out = _scaled_riccati(l, z)
    g = np.exp(2 * out.e)
    return (out.pj * g + 1j * out.py) / (out.j * g + 1j * out.y)


def _shell_characteristic(s: _Shell, k):
    """F(k) = w2 U'/U - w3 xi'/xi at r = b (complex k, 1/um)."""
    u_b, du_b = _shell_top(s, k)
    z3 = s.n3 * np.asarray(k) * s.b
    return _weight(s.pol, s.n2) * du_b / u_b - _weight(s.pol, s.n3) * _xi_log_derivative_scaled(s.l, z3)


def _shell_bound(s: _Shell, k):
    """The real bound problem (xi replaced by chi), pole-free: w2 U' chi3 - w3 U chi3' (scaled, real k)."""
    u_b, du_b = _shell_top(s, k)
    out = _scaled_riccati(s.l, s.n3 * np.asarray(k) * s.b)
    return _weight(s.pol, s.n2) * du_b * out.y - _weight(s.pol, s.n3) * u_b * out.py


def shell_characteristic(k, inner_radius_um: float, outer_radius_um: float, core_index, shell_index, l: int,
                         pol: str = "TE", outside_index: float = 1.0):
    """The mismatch of admittances at the outer surface whose roots in complex k (1/um) are the shell's resonances.

    F(k) = w2 U'/U - w3 xi_l'/xi_l at r = b (module docstring); ``k`` scalar or array.
    """
    s = _Shell(float(inner_radius_um), float(outer_radius_um), core_index, shell_index, float(outside_index), int(l), pol)
    return _shell_characteristic(s, np.asarray(k, dtype=complex))


# --------------------------------------------------------------------------- labels (real k, real indices)
@dataclass(frozen=True)
class _Label:
    region: str
    core_nodes: int
    shell_nodes: int
    core_fraction: float

    @property
    def nodes(self) -> int:
        return self.core_nodes if self.region == "core" else self.shell_nodes

    @property
    def other_nodes(self) -> int:
        return self.shell_nodes if self.region == "core" else self.core_nodes

    @property
    def hybrid(self) -> bool:
        share = self.core_fraction if self.region == "core" else 1.0 - self.core_fraction
        return share < CLEAR_REGION_FRACTION


def _grid(lo: float, hi: float, turning: float) -> np.ndarray:
    """Points in z from lo to hi: 300 below the turning point (no oscillation there), dense above it."""
    mid = min(max(turning, lo), hi)
    below = np.linspace(lo, mid, 300, endpoint=False) if mid > lo else np.empty(0)
    return np.concatenate([below, np.linspace(mid, hi, 100 + int(_POINTS_PER_UNIT_Z * (hi - mid)))])


def _sign_changes(sign: np.ndarray) -> int:
    nz = sign[sign != 0]
    return int(np.count_nonzero(nz[1:] * nz[:-1] < 0))


def _label(s: _Shell, k: float) -> _Label:
    """Zeros of u(r) in the core and in the shell and the core's share of the energy, at a real root k."""
    s = s.real()
    n1, n2, l = float(np.real(s.n1)), float(np.real(s.n2)), s.l
    u_a, g_a, core_a = _core_state(s, k)
    norm_log = -math.log(max(abs(float(core_a.j)), abs(float(core_a.pj)) * abs(_weight(s.pol, n1) / _weight(s.pol, n2))))
    # core: u = s(z) j(z) exp(e(z)) relative to the value carried into the shell (see _core_state)
    z1a = n1 * k * s.a
    nu = l + 0.5
    turning = math.sqrt(l * (l + 1))
    z1 = _grid(min(nu, z1a) * (0.5 if l >= 20 else 0.05), z1a, turning)
    c = _scaled_riccati(l, z1)
    with np.errstate(all="ignore"):
        log1 = 0.5 * np.log(z1 / z1a) + norm_log + np.log(np.abs(c.j)) + c.e - float(core_a.e)
    sign1 = np.sign(c.j)
    # shell: u = s_a s(z) exp(e - e_a) [c1 j - c2 y exp(-2 (e - e_a))]
    z2 = _grid(n2 * k * s.a, n2 * k * s.b, turning)
    at_a = _scaled_riccati(l, z2[:1])
    sh = _scaled_riccati(l, z2)
    c1 = float(u_a * at_a.py[0] - g_a * at_a.y[0])
    c2 = float(u_a * at_a.pj[0] - g_a * at_a.j[0])
    rise = sh.e - at_a.e[0]
    bracket = c1 * sh.j - c2 * sh.y * np.exp(-2 * rise)
    with np.errstate(all="ignore"):
        log2 = 0.5 * np.log(z2 * z2[0]) + math.log(math.pi / 2) + rise + np.log(np.abs(bracket))
    sign2 = np.sign(bracket)
    # energy of the tangential field, int w_E |u|^2 dr with dr = dz / (n k)
    w_core, w_shell = (n1**2, n2**2) if s.pol == "TE" else (1.0, 1.0)
    top = max(np.max(log1), np.max(log2))
    e1 = w_core * np.trapezoid(np.exp(2 * (log1 - top)), z1) / n1
    e2 = w_shell * np.trapezoid(np.exp(2 * (log2 - top)), z2) / n2
    fraction = float(e1 / (e1 + e2))
    if not math.isfinite(fraction):
        raise ShellError(f"the field of the root k = {k!r} could not be evaluated for labelling")
    return _Label("core" if fraction > 0.5 else "shell", _sign_changes(sign1), _sign_changes(sign2), fraction)


# --------------------------------------------------------------------------- roots
def _model_seeds(s: _Shell, p: int, region: str) -> list[tuple[float, float]]:
    """(region, seed k, radial spacing) of the homogeneous spheres that model each family of modes."""
    n1, n2 = float(np.real(s.n1)), float(np.real(s.n2))
    models = []
    if n2 > s.n3:  # wall modes: a glass sphere of radius b in the outside medium
        models.append(("shell", s.b, n2, s.n3))
    if n1 > n2:  # core modes confined by the glass: a liquid sphere of radius a in glass
        models.append(("core", s.a, n1, n2))
    if n1 > s.n3:  # quasi-droplet modes of a thin wall: a liquid sphere of radius b in the outside medium
        models.append(("core", s.b, n1, s.n3))
    return [(seed_k(radius, n, s.l, p, s.pol, n_out), radial_spacing_k(radius, n, s.l, p))
            for family, radius, n, n_out in models if family == region]


def _bound_roots(s: _Shell, p: int, region: str) -> list[float]:
    """All real roots of the bound problem in a window that holds the radial orders 1 .. p + 1 of the region's model family."""
    n_top = max(float(np.real(s.n1)) * s.a, float(np.real(s.n2)) * s.b)
    # below this k every region is evanescent: no bound root
    k_lo = 0.99 * math.sqrt(s.l * (s.l + 1)) / n_top
    k_hi = max(seed + 1.5 * spacing for seed, spacing in _model_seeds(s, p + 1, region))
    ks = np.linspace(k_lo, k_hi, 600 + 300 * p)
    f = _shell_bound(s, ks)
    roots = []
    for i in np.flatnonzero(np.sign(f[1:]) * np.sign(f[:-1]) < 0):
        root = optimize.brentq(lambda k: float(_shell_bound(s, k)), ks[i], ks[i + 1], xtol=1e-300, rtol=1e-15, maxiter=200)
        roots.append(float(root))
    return roots


def _leak(s: _Shell, k0: float) -> complex:
    """k0 moved off the real axis by the first-order leak term.

    The pole-free outgoing form w2 U' xi3 - w3 U xi3' = i Fb + P, Fb = w2 U' chi3 - w3 U chi3' (the bound
    problem), and at a root of Fb the Wronskian gives P = w3 U / chi3; so Im k = Re(i w3 U / (chi3 Fb'))
    (the admittance form's -delta / G' with delta = -i w3 / chi3^2). In the scaled variables of
    :func:`_shell_bound` this is i w3 u_b exp(2 e3) / ((pi z3 / 2) y3 Fb_s'). The derivative is taken
    of the pole-free Fb, which stays smooth where U is tiny (a core mode behind an evanescent wall).
    """
    z3 = s.n3 * k0 * s.b
    out = _scaled_riccati(s.l, z3)
    u_b, _ = _shell_top(s, k0)
    fb_prime = central_difference(lambda k: float(_shell_bound(s, k)), k0, 1e-7 * k0)
    # exp(2 e3) leaves the double range beyond Q ~ 1e300: then Im k = 0 (Q infinite)
    log_leak = 2 * float(out.e) - math.log(math.pi / 2 * z3)
    leak = math.exp(log_leak) if log_leak > -700 else 0.0
    return complex(k0, _weight(s.pol, s.n3) * float(u_b) * leak / (float(out.y) * fb_prime))


def _complex_root(f, start: complex, step: float) -> complex:
    return complex(secant_root(lambda k: complex(f(k)), start, start + step))


def _to_indices(s_from: _Shell, s_to: _Shell, k_start: complex, gap: float, step: float) -> complex:
    """Continue a root from the indices of ``s_from`` to those of ``s_to`` (complex secant, in steps if needed)."""
    for n_steps in (1, 8):
        k = k_start
        try:
            for t in np.linspace(0, 1, n_steps + 1)[1:]:
                stage = s_from.with_indices(s_from.n1 + t * (s_to.n1 - s_from.n1), s_from.n2 + t * (s_to.n2 - s_from.n2))
                k_new = _complex_root(functools.partial(_shell_characteristic, stage), k, step)
                if abs(k_new - k) > 0.5 * gap:
                    raise ShellError("a continuation step jumped to another root")
                k = k_new
            return k
        except (SphereError, ZeroDivisionError, OverflowError, ValueError):
            continue
    raise ShellError("the root could not be continued to the complex (absorbing) indices")


def _check_shell_input(a, b, n1, n2, n3, l, p, pol, region, other_nodes) -> None:
    if pol not in POLARIZATIONS:
        raise ValueError(f"pol must be one of {POLARIZATIONS}, got {pol!r}")
    if region not in REGIONS:
        raise ValueError(f"region must be one of {REGIONS}, got {region!r}")
    if not (math.isfinite(a) and math.isfinite(b) and 0 < a < b):
        raise ValueError(f"the shell needs 0 < inner_radius_um < outer_radius_um (finite), got {a!r} and {b!r}")
    if int(l) != l or l < 1 or int(p) != p or p < 1:
        raise ValueError(f"the shell needs integers l >= 1 and p >= 1, got l={l!r}, p={p!r}")
    if other_nodes is not None and (int(other_nodes) != other_nodes or other_nodes < 0):
        raise ValueError(f"other_nodes must be None or an integer >= 0, got {other_nodes!r}")
    if not (np.isreal(n3) and math.isfinite(float(np.real(n3))) and float(np.real(n3)) > 0):
        raise ValueError(f"outside_index must be a positive real number, got {n3!r}")
    for name, n in (("core_index", n1), ("shell_index", n2)):
        if not (np.isfinite(n) and np.real(n) > 0 and np.imag(n) >= 0):
            raise ValueError(f"{name} must be finite with Re > 0 and Im >= 0 (absorption), got {n!r}")
    if region == "shell" and not np.real(n2) > n3:
        raise ValueError("a wall (shell) mode needs the shell's index above the outside index")
    if region == "core" and not np.real(n1) > min(float(np.real(n2)), n3):
        raise ValueError("a core mode needs the core's index above the shell's or the outside index")


def shell_resonance(inner_radius_um: float, outer_radius_um: float, core_index, shell_index, l: int, p: int = 1,
                    pol: str = "TE", outside_index: float = 1.0, region: str = "shell",
                    other_nodes: int | None = None) -> ShellResonance:
    """The (l, p, pol) resonance living in ``region`` of a liquid-filled shell.

    Core radius ``inner_radius_um`` (um) of index ``core_index`` (complex = absorbing), shell of
    outer radius ``outer_radius_um`` (um) and index ``shell_index``, outside index ``outside_index``
    (real). ``region`` "shell" asks for a wall mode, "core" for a core mode; ``p`` is the radial order
    counted in that region (module docstring). ``other_nodes``, if given, also fixes the number of
    zeros of u(r) in the other region (to tell apart the roots of a thin wall that share (region, p)).
    Raises ValueError for bad input, ShellError if no root with that label is found and
    ShellLabelError if two are.
    """
    a, b = float(inner_radius_um), float(outer_radius_um)
    _check_shell_input(a, b, core_index, shell_index, outside_index, l, p, pol, region, other_nodes)
    s = _Shell(a, b, core_index, shell_index, float(np.real(outside_index)), int(l), pol)
    lossless = s.real()
    roots = _bound_roots(lossless, p, region)
    labels = [_label(lossless, k) for k in roots]
    matches = [i for i, lab in enumerate(labels) if lab.region == region and lab.nodes == p - 1
               and other_nodes in (None, lab.other_nodes)]
    if len(matches) > 1:
        found = ", ".join(f"k={roots[i]:.12g} (other_nodes={labels[i].other_nodes}, core fraction "
                          f"{labels[i].core_fraction:.3f})" for i in matches)
        raise ShellLabelError(f"{len(matches)} roots carry the label (l={l}, p={p}, {pol}, {region}): {found}; "
                              "pass other_nodes to choose")
    if not matches:
        found = "; ".join(f"k={k:.10g}: {lab.region} p={lab.nodes + 1} other_nodes={lab.other_nodes}"
                          for k, lab in zip(roots, labels))
        raise ShellError(f"no (l={l}, p={p}, {pol}) {region} root in the window; bound roots found: {found or 'none'}")
    i = matches[0]
    k0, lab = roots[i], labels[i]
    others = [abs(k - k0) for j, k in enumerate(roots) if j != i]
    gap = min(others) if others else 0.1 * k0
    step = 1e-6 * k0

    k_root = _leak(lossless, k0)
    leak = k_root.imag == 0 or k_root.real / (-2 * k_root.imag) > LEAK_FORMULA_ABOVE_Q
    if not leak:
        k_root = _complex_root(lambda k: _shell_characteristic(lossless, k), k_root, step)
        if abs(k_root.real - k0) > 0.5 * gap:
            raise ShellError(f"the complex root {k_root} left its bound root k0={k0} (a very leaky mode)")
    if s != lossless:  # absorbing core or shell
        k_root = _to_indices(lossless, s, k_root, gap, step)
        leak = False

    def residual_f(k):
        return float(_shell_bound(lossless, k.real)) if leak else complex(_shell_characteristic(s, k))

    at = complex(k0) if leak else k_root
    h = 1e-7 * abs(at)
    residual = abs(residual_f(at)) / (abs(at) * abs(central_difference(residual_f, at, h)))
    return ShellResonance(a, b, complex(core_index), complex(shell_index), s.n3, s.l, p, pol, lab.region,
                          complex(k_root), lab.nodes, lab.core_nodes, lab.shell_nodes, lab.core_fraction, lab.hybrid,
                          float(residual), leak)
