"""wgmfem.exact.shell.shell_resonance (liquid-filled glass shell, coated sphere) against two
independent references and its own limits.

(a) mpmath: the 4 x 4 determinant of the boundary conditions, written here from the physics
    (Riccati-Bessel functions psi = sqrt(pi z / 2) J_{l+1/2}, chi = sqrt(pi z / 2) Y_{l+1/2},
    xi = psi + i chi from mpmath.besselj / bessely; rows: u and w u' at r = a and r = b,
    w = n (TE) or 1/n (TM)), evaluated at the solver's root (one Newton step must be < 1e-14 of k)
    and solved by mpmath.findroot at 30 + log10(Q) digits: wavelength within 1e-12 relative,
    Q within 1e-6 where Q < 1e10 (1e-4 above). Measured: wavelength <= 9e-16, Newton step <= 1e-15,
    Q <= 1e-8 (leak formula, Q 1e8 .. 8e36) and <= 6e-8 (complex root, Q 5e7), 1e-14 at Q ~ 50.
(b) treams (T-matrix code): its multilayer Mie coefficient of order l is evaluated at our
    complex k by scaling every permittivity by (k / Re k)^2 (treams takes a real k0; the
    coefficients depend only on n_j k r_i and on ratios of the n_j, so this is exact). At our root
    |1/T| is < 1e-5 of its value a distance d = max(|Im k|, 1e-9 Re k) away (measured 6e-15 to
    1.1e-6, the largest at Q ~ 1e14 where d = 1e-9 Re k), the other polarization has no pole there,
    and treams' own pole (a secant on 1/T from our root) agrees: Re k within 1e-12 relative
    (measured <= 1.1e-15), Q within 1e-6 where Q < 1e8 (measured <= 4e-8; above 1e8 a double
    complex root of 1/T cannot hold Im k).
(c) n_core = n_shell and a -> 0 reproduce sphere_resonance to 1e-13 in k.
(d) bad input raises ValueError.
"""

# ruff: noqa: E741  (l is the polar order of the physics literature)
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from wgmfem.exact.shell import ShellError, ShellLabelError, shell_resonance
from wgmfem.exact.sphere import sphere_resonance

GLASS = 1.45
WATER = 1.33
OIL = 1.50  # a liquid above the glass index

# (a, b, n_core, l, p, pol, region, other_nodes): shells 0.5-3 um thick, radius 5-30 um
WALL_WATER_THICK_TE = (7.0, 10.0, WATER, 100, 1, "TE", "shell", None)  # Q 1.3e14 (leak formula)
WALL_WATER_THICK_TM2 = (7.0, 10.0, WATER, 100, 2, "TM", "shell", None)  # Q 3.6e10
WALL_WATER_15_TE = (12.0, 15.0, WATER, 60, 1, "TE", "shell", None)  # Q 1.3e8 (leak formula)
WALL_WATER_15_TM2 = (12.0, 15.0, WATER, 60, 2, "TM", "shell", None)  # Q 1.9e5
WALL_WATER_30_TM2 = (27.0, 30.0, WATER, 100, 2, "TM", "shell", None)  # Q 2.1e9
WALL_SMALL_L20 = (4.0, 5.0, WATER, 20, 1, "TE", "shell", None)  # Q 370
WALL_THIN_HYBRID = (9.5, 10.0, WATER, 50, 1, "TE", "shell", None)  # Q 3.1e5, 69 % in the glass: hybrid
CORE_OIL_THIN_TE2 = (4.5, 5.0, OIL, 30, 2, "TE", "core", None)  # Q 98
CORE_OIL_THIN_TM2 = (4.5, 5.0, OIL, 30, 2, "TM", "core", 1)  # Q 47; two roots are (core, p = 2)
CORE_OIL_10_TE3 = (9.5, 10.0, OIL, 100, 3, "TE", "core", None)  # Q 5.1e7
CORE_OIL_20_TE2 = (19.5, 20.0, OIL, 80, 2, "TE", "core", None)  # Q 2.2e9
CORE_OIL_30_TM3 = (29.0, 30.0, OIL, 300, 3, "TM", "core", None)  # Q 8e36
CORE_WATER_TM = (4.5, 5.0, WATER, 30, 1, "TM", "core", None)  # quasi-droplet mode, Q 43
ABSORBING_WALL = (5.0, 5.5, WATER + 1e-4j, 40, 1, "TE", "shell", None)  # Q 3.3e4 (absorption-limited)
ABSORBING_CORE = (4.5, 5.0, OIL + 1e-4j, 30, 2, "TM", "core", 1)

MP_FAST = [WALL_WATER_THICK_TM2, WALL_WATER_15_TM2, WALL_THIN_HYBRID, CORE_OIL_THIN_TE2, CORE_OIL_10_TE3, ABSORBING_WALL]
MP_SLOW = [WALL_WATER_THICK_TE, WALL_WATER_15_TE, WALL_WATER_30_TM2, CORE_OIL_THIN_TM2, CORE_OIL_20_TE2, CORE_OIL_30_TM3,
           CORE_WATER_TM, ABSORBING_CORE]
TREAMS_CASES = [WALL_WATER_THICK_TE, WALL_WATER_15_TE, WALL_WATER_15_TM2, WALL_WATER_30_TM2, WALL_SMALL_L20, WALL_THIN_HYBRID,
                CORE_OIL_THIN_TE2, CORE_OIL_THIN_TM2, CORE_OIL_10_TE3, CORE_OIL_20_TE2, CORE_WATER_TM, ABSORBING_WALL,
                ABSORBING_CORE]


def case_id(case) -> str:
    a, b, n1, l, p, pol, region, other = case
    return f"a{a:g}-b{b:g}-n{complex(n1).real:g}{'abs' if complex(n1).imag else ''}-l{l}-p{p}-{pol}-{region}"


def solve(case):
    a, b, n1, l, p, pol, region, other = case
    return shell_resonance(a, b, n1, GLASS, l, p=p, pol=pol, region=region, other_nodes=other)


def q_of(k: complex) -> float:
    return k.real / (-2 * k.imag)


# --------------------------------------------------------------------------- (a) mpmath
def _mp_riccati(l: int, z):
    """(psi, psi', chi, chi') with f' = f_{l-1} - (l / z) f_l."""
    nu = mpmath.mpf(l) + mpmath.mpf(1) / 2
    pref = mpmath.sqrt(mpmath.pi * z / 2)
    psi, psi_prev = pref * mpmath.besselj(nu, z), pref * mpmath.besselj(nu - 1, z)
    chi, chi_prev = pref * mpmath.bessely(nu, z), pref * mpmath.bessely(nu - 1, z)
    return psi, psi_prev - (l / z) * psi, chi, chi_prev - (l / z) * chi


def _mp_matrix(k, a, b, n1, n2, n3, l, pol):
    """Boundary conditions on (A core psi, B shell psi, C shell chi, D outside xi): u and w u' at a and b."""
    def w(n):
        return n if pol == "TE" else 1 / n

    p1, dp1, _, _ = _mp_riccati(l, n1 * k * a)
    pa, dpa, ca, dca = _mp_riccati(l, n2 * k * a)
    pb, dpb, cb, dcb = _mp_riccati(l, n2 * k * b)
    p3, dp3, c3, dc3 = _mp_riccati(l, n3 * k * b)
    x3, dx3 = p3 + 1j * c3, dp3 + 1j * dc3
    return mpmath.matrix([[p1, -pa, -ca, 0],
                          [w(n1) * dp1, -w(n2) * dpa, -w(n2) * dca, 0],
                          [0, pb, cb, -x3],
                          [0, w(n2) * dpb, w(n2) * dcb, -w(n3) * dx3]])


def _mp_number(x):
    x = complex(x)
    return mpmath.mpf(x.real) if x.imag == 0 else mpmath.mpc(x)


def mp_check(res) -> tuple[complex, float]:
    """(mpmath's root from ours, |Newton step| / |k| at ours), at 30 + log10(Q) digits."""
    dps = 30 + (int(math.log10(res.Q)) if math.isfinite(res.Q) and res.Q > 1 else 30)
    with mpmath.workdps(dps):
        a, b = mpmath.mpf(res.inner_radius_um), mpmath.mpf(res.outer_radius_um)
        n1, n2, n3 = _mp_number(res.core_index), _mp_number(res.shell_index), mpmath.mpf(res.outside_index)
        k0 = mpmath.mpc(res.k_per_um)
        # constant column scales keep the determinant O(1) (a constant adds no root)
        m0 = _mp_matrix(k0, a, b, n1, n2, n3, res.l, res.pol)
        scale = [max(abs(m0[i, c]) for i in range(4)) for c in range(4)]

        def det(k):
            m = _mp_matrix(k, a, b, n1, n2, n3, res.l, res.pol)
            for c in range(4):
                for i in range(4):
                    m[i, c] /= scale[c]
            return mpmath.det(m)

        h = abs(k0) * mpmath.mpf(10) ** (-(dps // 2))
        newton = det(k0) / ((det(k0 + h) - det(k0 - h)) / (2 * h))
        root = mpmath.findroot(det, (k0, k0 * (1 + mpmath.mpf("1e-9"))), solver="secant",
                               tol=mpmath.mpf(10) ** (-2 * dps + 10))
        return complex(root), float(abs(newton) / abs(k0))


def _assert_against_mpmath(case):
    res = solve(case)
    k = complex(res.k_per_um)
    k_mp, newton = mp_check(res)
    assert newton < 1e-14, f"Newton step {newton:.1e} of k at the solver's root"
    assert abs(k.real - k_mp.real) <= 1e-12 * k_mp.real  # the wavelength
    q_mp = q_of(k_mp)
    tol = 1e-6 if q_mp < 1e10 else 1e-4
    assert abs(res.Q - q_mp) <= tol * q_mp, f"Q {res.Q:.10e} vs mpmath {q_mp:.10e}"
    assert res.residual < 1e-12


@pytest.mark.parametrize("case", MP_FAST, ids=case_id)
def test_root_solves_the_mpmath_determinant(case):
    _assert_against_mpmath(case)


@pytest.mark.slow
@pytest.mark.parametrize("case", MP_SLOW, ids=case_id)
def test_root_solves_the_mpmath_determinant_slow(case):
    _assert_against_mpmath(case)


@pytest.mark.slow
@pytest.mark.parametrize("case", [(100.0, 200.0, WATER, 2000, 1, "TE", "shell", None),
                                  (190.0, 200.0, GLASS, 2000, 2, "TM", "shell", None)], ids=case_id)
def test_large_order_against_mpmath(case):
    """l = 2000 with a deeply evanescent core (the scaled Bessel functions and their Debye fallback)."""
    res = solve(case)
    k_mp, newton = mp_check(res)
    assert newton < 1e-14
    assert abs(res.k_per_um.real - k_mp.real) <= 1e-12 * k_mp.real


# --------------------------------------------------------------------------- (b) treams
def _treams_inverse_t(l: int, k: complex, case, pol: str) -> complex:
    """1 / (Mie coefficient of order l) of treams' layered sphere at complex k (permittivities scaled by (k/Re k)^2)."""
    coeffs = pytest.importorskip("treams").coeffs
    a, b, n1 = case[0], case[1], case[2]
    scale = (k / k.real) ** 2
    eps = np.array([n * n * scale for n in (n1, GLASS, 1.0)], complex)
    m = coeffs.mie(l, k.real * np.array([a, b]), eps, np.ones(3, complex), np.zeros(3, complex))
    # helicity basis, achiral: the TE (magnetic) and TM (electric) coefficients are m00 -+ m01
    return complex(1 / (m[0, 0] - m[0, 1] if pol == "TE" else m[0, 0] + m[0, 1]))


def _secant(f, x0: complex, x1: complex) -> complex:
    f0, f1 = f(x0), f(x1)
    for _ in range(60):
        if f1 == f0:
            break
        x0, x1, f0 = x1, x1 - f1 * (x1 - x0) / (f1 - f0), f1
        f1 = f(x1)
        if abs(x1 - x0) <= 1e-15 * abs(x1):
            break
    return x1


@pytest.mark.parametrize("case", TREAMS_CASES, ids=case_id)
def test_treams_t_matrix_has_its_pole_at_our_root(case):
    pytest.importorskip("treams")
    l, pol = case[3], case[5]
    other = "TM" if pol == "TE" else "TE"
    res = solve(case)
    k = complex(res.k_per_um)
    d = max(abs(k.imag), 1e-9 * k.real)
    ratio = abs(_treams_inverse_t(l, k, case, pol)) / abs(_treams_inverse_t(l, k + d, case, pol))
    assert ratio < 1e-5, f"|1/T| at our root is {ratio:.1e} of its value {d:.1e} away"
    other_ratio = abs(_treams_inverse_t(l, k, case, other)) / abs(_treams_inverse_t(l, k + d, case, other))
    assert other_ratio > 0.1, "the other polarization has a pole here too"
    k_t = _secant(lambda kk: _treams_inverse_t(l, kk, case, pol), k, k + 1e-3 * d)
    assert abs(k_t.real - k.real) <= 1e-12 * k.real
    if res.Q < 1e8:
        assert abs(q_of(k_t) - res.Q) <= 1e-6 * res.Q


# --------------------------------------------------------------------------- (c) limits
@pytest.mark.parametrize("pol", ["TE", "TM"])
@pytest.mark.parametrize("l, p", [(20, 1), (20, 2), (50, 1), (100, 2)])
@pytest.mark.parametrize("inner, region", [(9.99, "core"), (1.0, "shell")])
def test_equal_indices_give_the_homogeneous_sphere(inner, region, l, p, pol):
    """n_core = n_shell: a sphere of radius b, whose modes live in the core (thin shell) or in the
    shell (small core); p counts the nodes there, which are the sphere's nodes."""
    res = shell_resonance(inner, 10.0, GLASS, GLASS, l, p=p, pol=pol, region=region)
    ref = sphere_resonance(10.0, GLASS, l, p=p, pol=pol)
    assert abs(res.k_per_um - ref.k_per_um) <= 1e-13 * abs(ref.k_per_um)
    assert res.leak_formula == ref.leak_formula
    assert (res.region, res.nodes) == (region, p - 1)
    assert (res.core_nodes if region == "shell" else res.shell_nodes) == 0


def test_equal_absorbing_indices_give_the_absorbing_sphere():
    n = GLASS + 1e-5j
    res = shell_resonance(9.99, 10.0, n, n, 100, region="core")
    ref = sphere_resonance(10.0, n, 100)
    assert abs(res.k_per_um - ref.k_per_um) <= 1e-13 * abs(ref.k_per_um)


@pytest.mark.parametrize("l, pol", [(50, "TE"), (100, "TM"), (3000, "TE")])
def test_vanishing_core_gives_the_glass_sphere(l, pol):
    """a -> 0 (and, at l = 3000, a core behind ~100 um of evanescent glass): the glass sphere."""
    b = 10.0 if l < 1000 else 200.0
    for inner in (1e-3, 0.5 * b):
        res = shell_resonance(inner, b, WATER, GLASS, l, pol=pol)
        ref = sphere_resonance(b, GLASS, l, pol=pol)
        assert abs(res.k_per_um - ref.k_per_um) <= 1e-13 * abs(ref.k_per_um)
        assert res.core_fraction < 1e-6


# --------------------------------------------------------------------------- labels
def test_wall_mode_labels():
    """A wall mode of a thick water-filled shell: p - 1 zeros in the glass, none in the water."""
    for p in (1, 2, 3):
        res = shell_resonance(7.0, 10.0, WATER, GLASS, 100, p=p)
        assert (res.region, res.nodes, res.shell_nodes, res.core_nodes, res.hybrid) == ("shell", p - 1, p - 1, 0, False)
        assert res.core_fraction < 1e-6


def test_core_mode_labels_and_the_hybrid_flag():
    core = solve(CORE_OIL_10_TE3)
    assert (core.region, core.nodes, core.core_nodes, core.hybrid) == ("core", 2, 2, False)
    assert core.core_fraction > 0.75
    thin = solve(WALL_THIN_HYBRID)  # a 0.5 um wall around water: the mode is shared with the liquid
    assert (thin.region, thin.nodes) == ("shell", 0)
    assert thin.hybrid and 0.25 < thin.core_fraction < 0.5


def test_two_roots_with_one_label_raise_unless_told_apart():
    a, b, n1, l, p, pol, region, _ = CORE_OIL_THIN_TM2
    with pytest.raises(ShellLabelError, match="2 roots"):
        shell_resonance(a, b, n1, GLASS, l, p=p, pol=pol, region=region)
    one, other = (shell_resonance(a, b, n1, GLASS, l, p=p, pol=pol, region=region, other_nodes=o) for o in (0, 1))
    assert one.shell_nodes == 0 and other.shell_nodes == 1
    assert one.k_per_um.real < other.k_per_um.real


def test_missing_label_raises():
    """A thick wall around water has no mode living in the water near the wall modes."""
    with pytest.raises(ShellError, match="no .* core root"):
        shell_resonance(7.0, 10.0, WATER, GLASS, 100, region="core")


def test_absorption_in_the_liquid_lowers_q_only_by_the_liquid_s_share():
    """1/Q grows by 2 kappa Gamma / n with Gamma (~ the core fraction) the liquid's share of the energy."""
    kappa = 1e-4
    lossless = shell_resonance(5.0, 5.5, WATER, GLASS, 40)
    lossy = shell_resonance(5.0, 5.5, WATER + 1e-4j, GLASS, 40)
    assert abs(lossy.k_per_um.real - lossless.k_per_um.real) <= 1e-6 * lossless.k_per_um.real
    gamma = (1 / lossy.Q - 1 / lossless.Q) / (2 * kappa / WATER)
    assert gamma == pytest.approx(lossless.core_fraction, rel=0.2)


# --------------------------------------------------------------------------- (d) bad input
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(inner_radius_um=10.0, outer_radius_um=10.0), "inner_radius_um < outer_radius_um"),
        (dict(inner_radius_um=11.0), "inner_radius_um < outer_radius_um"),
        (dict(inner_radius_um=-1.0), "inner_radius_um < outer_radius_um"),
        (dict(outer_radius_um=float("nan")), "finite"),
        (dict(l=0), "l >= 1"),
        (dict(p=0), "p >= 1"),
        (dict(l=2.5), "integers"),
        (dict(pol="Ez"), "pol"),
        (dict(region="liquid"), "region"),
        (dict(outside_index=1.0 + 0.1j), "outside_index"),
        (dict(shell_index=0.9), "shell's index above the outside"),
        (dict(core_index=1.33 - 1e-3j), "core_index"),
        (dict(other_nodes=-1), "other_nodes"),
    ],
)
def test_bad_input_raises_value_error(kwargs, match):
    args = dict(inner_radius_um=7.0, outer_radius_um=10.0, core_index=WATER, shell_index=GLASS, l=50)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        shell_resonance(**args)
