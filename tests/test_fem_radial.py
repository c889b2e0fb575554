"""1-D radial FEM (wgmfem.fem.radial) and the radial PML (wgmfem.fem.pml).

References used here: closed forms (zeros of J_m and J_m' for closed disks), the
rod-in-air characteristic equation solved below with scipy, the independent mpmath
reference in tests/reference, the exact solver (wgmfem.find_modes) once it exists,
and the reference value 432.0877 nm (paper capillary, Ez, p = 1, m = 600; docs/theory.md section 7).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy.optimize import newton
from scipy.special import h1vp, hankel1, jn_zeros, jnp_zeros, jv, jvp

import wgmfem
from wgmfem.fem import RadialPML, inner_turning_point_um, make_pml, solve_radial
from wgmfem.fem.pml import sigma0_for_reflection
from wgmfem.geometry import Capillary, LayeredCylinder, Rod

ROD = Rod(3.0, 1.56)  # the low-Q validation rod of the brief: radius 3 um, n = 1.56, in air
SMALL_CAPILLARY = LayeredCylinder((5.0, 7.0), (1.56, 1.47))
PAPER = Capillary()  # radii 27 / 39 um, n 1.56 / 1.47, air


def rel(a, b):
    return abs(a - b) / abs(b)


def q_of(k):
    return k.real / (2 * abs(k.imag))


# --------------------------------------------------------------------------
# rod in air: the characteristic equation, solved here with scipy
# --------------------------------------------------------------------------
def rod_characteristic(pol, m, n, a, k):
    """Ez: n J'(nka) H(ka) - J(nka) H'(ka); Hz (R'/n^2 continuous): J'(nka) H(ka) - n J(nka) H'(ka)."""
    x, y = n * k * a, k * a
    if pol == "Ez":
        return n * jvp(m, x) * hankel1(m, y) - jv(m, x) * h1vp(m, y)
    return jvp(m, x) * hankel1(m, y) - n * jv(m, x) * h1vp(m, y)


def rod_root(pol, m, n, a, k_guess):
    """Polish a rod resonance k (1/um) by Newton/secant on the single equation above."""
    return complex(newton(lambda k: rod_characteristic(pol, m, n, a, k), complex(k_guess), tol=1e-15, maxiter=100))


def _exact_find_modes():
    find_modes = getattr(wgmfem, "find_modes", None)
    if find_modes is None:
        pytest.skip("the exact solver wgmfem.find_modes is not available yet")
    return find_modes


# --------------------------------------------------------------------------
# PML profile
# --------------------------------------------------------------------------
def test_pml_profile_is_smooth_and_consistent():
    pml = RadialPML(r_start_um=10.0, width_um=2.0, sigma0=5.0)
    r = np.linspace(8.0, 12.0, 4001)
    s, rt = pml.s(r), pml.r_tilde(r)
    before = r <= pml.r_start_um
    assert np.all(s[before] == 1) and np.all(rt[before] == r[before])
    # d r~/dr = s (central differences on a quartic: error ~ h^2)
    h = r[1] - r[0]
    assert np.max(np.abs(np.gradient(rt, h)[1:-1] - s[1:-1])) < 1e-5
    assert pml.s(pml.r_end_um) == pytest.approx(1 + 5j)
    assert np.all(rt.imag >= 0)
    # 2-D factors are 1 outside the layer
    a_rr, a_pp, b = pml.tensor_2d(np.array([5.0, 9.9]))
    assert np.allclose([a_rr, a_pp, b], 1.0)


def test_pml_reflection_plane_wave_for_m0():
    k, n = 2 * math.pi / 0.5, 1.0
    pml = RadialPML(10.0, 1.0, 3.0)
    expected = math.exp(-2 * k * n * pml.sigma0 * pml.width_um / 3)  # Im r~(r_end) = sigma0 d / 3
    assert pml.reflection(k, n, m=0) == pytest.approx(expected, rel=1e-6)


def test_make_pml_accounts_for_the_turning_point():
    """At m = 600 a layer just beyond the turning point absorbs far less than a plane wave:
    the plane-wave strength leaves ~1e-3 reflection, make_pml's WKB choice meets the target."""
    k = 2 * math.pi / 0.4320877
    pml = make_pml(PAPER.outer_radius_um, k, 1.0, m=600)
    assert pml.r_start_um > 600 / k  # beyond the outer turning point
    assert pml.reflection(k, 1.0, 600) <= 1.01e-12
    naive = RadialPML(pml.r_start_um, pml.width_um, sigma0_for_reflection(1e-12, k, 1.0, pml.r_start_um, pml.width_um))
    assert naive.reflection(k, 1.0, 600) > 1e-6


# --------------------------------------------------------------------------
# closed cavities: zeros of J_m (Ez, Dirichlet wall) and J_m' (Hz, Neumann wall)
# --------------------------------------------------------------------------
DISK = Rod(5.0, 1.5)


@pytest.mark.parametrize("m", [0, 1, 3, 7, 30])
@pytest.mark.parametrize("s", [1, 3])
def test_dirichlet_disk_ez(m, s):
    k_exact = jn_zeros(m, s)[-1] / (1.5 * 5.0)
    res = solve_radial(DISK, "Ez", m, k_exact * 1.001, num_modes=3, outer_boundary="dirichlet")
    assert rel(res.k[0], k_exact) < 1e-9
    assert res.pml is None and res.pml_fraction[0] == 0


@pytest.mark.parametrize("m", [0, 1, 3, 7, 30])
@pytest.mark.parametrize("s", [1, 3])
def test_neumann_disk_hz(m, s):
    k_exact = jnp_zeros(m, s)[-1] / (1.5 * 5.0)
    res = solve_radial(DISK, "Hz", m, k_exact * 1.001, num_modes=3, outer_boundary="neumann")
    assert rel(res.k[0], k_exact) < 1e-9


def test_centre_conditions():
    """m = 0 keeps R(0) free (natural R'(0) = 0); m > 0 fixes R(0) = 0."""
    k0 = jn_zeros(0, 2)[-1] / 7.5
    r0 = solve_radial(DISK, "Ez", 0, k0, num_modes=2, outer_boundary="dirichlet")
    assert r0.r_min_um == 0 and abs(r0.field(0.0, 0)[0]) > 0.1
    k1 = jn_zeros(2, 2)[-1] / 7.5
    r1 = solve_radial(DISK, "Ez", 2, k1, num_modes=2, outer_boundary="dirichlet")
    assert r1.r_min_um == 0 and r1.field(0.0, 0)[0] == 0


# --------------------------------------------------------------------------
# rod in air: wavelength and Q against the characteristic equation
# --------------------------------------------------------------------------
@pytest.mark.parametrize("pol", ["Ez", "Hz"])
@pytest.mark.parametrize("m", [20, 25, 30, 50])
def test_rod_in_air(pol, m):
    res = solve_radial(ROD, pol, m, m / (1.4 * 3.0), num_modes=6)
    i = res.physical()[0]
    k_ref = rod_root(pol, m, 1.56, 3.0, res.k[i])
    assert rel(res.k[i].real, k_ref.real) < 1e-9  # wavelength
    assert q_of(k_ref) < 1e9
    assert rel(res.Q[i], q_of(k_ref)) < 1e-2
    assert res.region[i] == "core"


def test_lossy_rod_and_aliases():
    """Complex index (absorption) enters the forms; TM = Ez alias; the sign of m is irrelevant."""
    n = 1.56 + 2e-5j
    lossy = Rod(3.0, n)
    res = solve_radial(lossy, "TM", -30, 7.4, num_modes=3)
    assert res.pol == "Ez" and res.m == 30
    k_ref = rod_root("Ez", 30, n, 3.0, res.k[0])
    assert rel(res.k[0], k_ref) < 1e-9
    assert rel(res.Q[0], q_of(k_ref)) < 1e-2
    # first order in kappa: 1/Q = 1/Q_rad + Gamma 2 kappa / n, Gamma = core electric energy fraction
    lossless = solve_radial(ROD, "Ez", 30, 7.4, num_modes=3)
    expected = lossless.layer_fractions[0][0] * 2 * n.imag / n.real
    assert 1 / res.Q[0] - 1 / lossless.Q[0] == pytest.approx(expected, rel=1e-2)


def test_rod_field_matches_bessel():
    m, pol = 25, "Ez"
    res = solve_radial(ROD, pol, m, 6.26, num_modes=2)
    k = rod_root(pol, m, 1.56, 3.0, res.k[0])
    r = np.linspace(1.5, 3.0, 50)
    exact = jv(m, 1.56 * k * r)
    fem = res.field(r, 0)
    ratio = fem / exact
    # eigenvectors converge like h^(order+1), eigenvalues like h^(2 order): ~1e-6 here
    assert np.max(np.abs(ratio / ratio[-1] - 1)) < 1e-5


# --------------------------------------------------------------------------
# PML: spurious modes and convergence of Q
# --------------------------------------------------------------------------
def test_pml_modes_are_flagged():
    """Every returned mode is either a rod resonance (kept) or a PML mode (flagged)."""
    res = solve_radial(ROD, "Ez", 20, 5.0, num_modes=10)
    flagged = res.is_pml_mode()
    assert 0 < flagged.sum() < res.num_modes
    for i in range(res.num_modes):
        k_ref = rod_root("Ez", 20, 1.56, 3.0, res.k[i])
        is_resonance = rel(res.k[i], k_ref) < 1e-7
        assert is_resonance != flagged[i], (res.k[i], res.pml_fraction[i])
    # PML modes move with the layer, resonances do not
    other = solve_radial(ROD, "Ez", 20, 5.0, num_modes=20, pml=dict(width_wavelengths=3.0))
    for i in res.physical():
        assert np.min(np.abs(other.k - res.k[i])) / abs(res.k[i]) < 1e-9
    for i in np.flatnonzero(flagged):
        assert np.min(np.abs(other.k - res.k[i])) / abs(res.k[i]) > 1e-6


def test_q_converges_with_pml():
    k_ref = rod_root("Ez", 20, 1.56, 3.0, 5.1027 - 0.00145j)
    errors = []
    for reflection in (1e-1, 1e-2, 1e-4, 1e-8, 1e-12):
        res = solve_radial(ROD, "Ez", 20, k_ref.real, num_modes=3, pml=dict(reflection=reflection))
        i = np.argmin(np.abs(res.k - k_ref))
        errors.append(rel(res.Q[i], q_of(k_ref)))
    assert all(b < a for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 1e-8
    # moving / thickening the layer does not change a converged Q
    qs = []
    for kw in ({}, dict(gap_wavelengths=3.0), dict(width_wavelengths=4.0), dict(gap_wavelengths=0.0)):
        res = solve_radial(ROD, "Ez", 20, k_ref.real, num_modes=3, pml=kw)
        qs.append(res.Q[np.argmin(np.abs(res.k - k_ref))])
    assert max(qs) / min(qs) - 1 < 1e-8


# --------------------------------------------------------------------------
# inner cut
# --------------------------------------------------------------------------
def test_inner_cut_is_invisible():
    k0 = 2 * math.pi / 0.4320877
    base = solve_radial(PAPER, "Ez", 600, k0, num_modes=2)
    r_c = inner_turning_point_um(PAPER, 600, k0)
    assert 0.8 * r_c < base.r_min_um < 0.9 * r_c
    assert base.cut_decay == pytest.approx(1e-16, rel=1e-6)
    deeper = solve_radial(PAPER, "Ez", 600, k0, num_modes=2, r_min_um=0.9 * base.r_min_um)
    assert rel(deeper.k[0], base.k[0]) < 1e-14
    # where (r/r_c)^m = 1e-16 the Bessel field is still ~1e-4 of its peak: the cut shows
    naive = solve_radial(PAPER, "Ez", 600, k0, num_modes=2, r_min_um=r_c * 10 ** (-16 / 600))
    assert rel(naive.k[0], base.k[0]) > 1e-12


# --------------------------------------------------------------------------
# small capillary: Q against the independent mpmath reference
# --------------------------------------------------------------------------
@pytest.mark.parametrize("pol", ["Ez", "Hz"])
def test_small_capillary_q(pol):
    from reference.mpmath_cylinder import find_root

    res = solve_radial(SMALL_CAPILLARY, pol, 40, 40 / 7.5, num_modes=6)
    phys = res.physical()
    assert len(phys) >= 3
    for i in phys[:2]:
        k_ref = complex(find_root(SMALL_CAPILLARY.radii_um, SMALL_CAPILLARY.indices, 1.0, pol, 40, res.k[i]))
        assert rel(res.k[i].real, k_ref.real) < 1e-9
        assert rel(res.Q[i], q_of(k_ref)) < 1e-2
        assert np.sum(res.layer_fractions[i]) + res.pml_fraction[i] == pytest.approx(1.0)


# --------------------------------------------------------------------------
# paper capillary against the exact solver
# --------------------------------------------------------------------------
def test_paper_ez_p1_published_wavelength():
    res = solve_radial(PAPER, "Ez", 600, 2 * math.pi / 0.432, num_modes=4)
    i = res.physical()[0]
    assert res.radial_order(i) == 1 and res.region[i] == "core"
    assert abs(res.wavelength_nm[i] - 432.0877) < 5e-5  # quoted to 7 digits
    assert res.layer_fractions[i][0] == pytest.approx(0.946, abs=5e-4)  # mpmath reference: 94.6 % in the core


@pytest.mark.parametrize("pol", ["Ez", "Hz"])
@pytest.mark.parametrize("p", [1, 2])
def test_paper_capillary_vs_exact(pol, p):
    find_modes = _exact_find_modes()
    exact = find_modes(PAPER, pol=pol, m=600, p=p, region="core")
    exact = exact[0] if isinstance(exact, (list, tuple)) else exact
    res = solve_radial(PAPER, pol, 600, exact.k.real, num_modes=4)
    i = int(np.argmin(np.abs(res.k - exact.k)))
    assert res.radial_order(i) == p
    assert rel(res.wavelength_nm[i], exact.wavelength_nm) < 1e-9
    if exact.Q_rad <= 1e9:
        assert rel(res.Q[i], exact.Q_rad) < 1e-2


def test_paper_case_is_fast():
    k0 = 2 * math.pi / 0.432
    solve_radial(PAPER, "Ez", 600, k0)  # warm-up (imports, quadrature tables)
    best = min(_timed(lambda: solve_radial(PAPER, "Ez", 600, k0)) for _ in range(3))
    assert best < 0.5


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


# --------------------------------------------------------------------------
# slow: convergence with order and resolution, paper capillary vs mpmath
# --------------------------------------------------------------------------
@pytest.mark.slow
def test_convergence_with_order_and_resolution():
    k_ref = rod_root("Ez", 25, 1.56, 3.0, 6.2578 - 0.00025j)
    for order in (2, 3, 4, 5):
        errs = []
        for ppw in (12, 24, 48):
            res = solve_radial(ROD, "Ez", 25, k_ref.real, num_modes=2, order=order, points_per_wavelength=ppw)
            errs.append(rel(res.k[0].real, k_ref.real))
        # dispersion error ~ h^(2 order) asymptotically; measured orders at 12-48 points per
        # wavelength: 3.9-4.2 (order 2), 5.6-5.9 (3), 7.3-7.8 (4), 8.9-9.6 (5). Require 2 order - 2.
        for a, b in zip(errs, errs[1:]):
            assert b < a / 2 ** (2 * order - 2) or b < 1e-13, (order, errs)


@pytest.mark.slow
@pytest.mark.parametrize("pol", ["Ez", "Hz"])
@pytest.mark.parametrize("p", [1, 2])
def test_paper_capillary_vs_mpmath(pol, p):
    from reference.mpmath_cylinder import find_root

    res = solve_radial(PAPER, pol, 600, 2 * math.pi / 0.432, num_modes=30)
    cands = [i for i in range(res.num_modes) if res.region[i] == "core" and res.radial_order(i) == p]
    assert cands
    i = cands[0]
    k_ref = complex(find_root(PAPER.radii_um, PAPER.indices, 1.0, pol, 600, res.k[i]))
    assert rel(res.k[i].real, k_ref.real) < 1e-9
    if q_of(k_ref) <= 1e9:
        assert rel(res.Q[i], q_of(k_ref)) < 1e-2
