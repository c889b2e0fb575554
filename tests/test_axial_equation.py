"""The axial equation alpha Psi'' + (k^2 - k_c(z)^2) Psi = 0 (wgmfem.axial) and axial profiles.

References, each independent of the FEM:
(a) harmonic oscillator: k_c^2 = k0^2 + c z^2 gives E_q = sqrt(alpha c) (2q + 1) and the
    ground state exp(-z^2 / (2 l^2)), l = (alpha / c)^(1/4);
(b) Poschl-Teller well W = -D sech^2(z/w): E_n = -alpha (lam - n)^2 / w^2, lam (lam + 1) = D w^2 / alpha;
(c) Gaussian well: the WKB quantization int sqrt((E - W)/alpha) dz = pi (q + 1/2) (scipy quad + brentq);
(d) a complex constant in W moves every E by exactly that constant;
(e) a well with a lower plateau on one side: Im E of the tunnelling states from a shooting
    solution of the ODE (scipy solve_ivp, decaying on the left, outgoing on the right);
(f) piecewise-linear interpolation of a parabola raises it by c dz^2 / 6 on average.
Parameters: k0 = 14.28 /um (440 nm), alpha = 0.41, c = 1e-5 /um^4 (10 nm over 100 um), W depths
~0.05 /um^2 (a bulge of ~5 nm on a 39 um radius).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp
from scipy.optimize import brentq, newton

from wgmfem.axial import (
    AxialError,
    AxialProfile,
    ProfileError,
    profile_from_spec,
    read_profile,
    solve_axial_equation,
)
from wgmfem.axial.profile import SPEC_FORMS, STEP_EDGE_UM

K0 = 14.28  # 1/um, 440 nm
ALPHA = 0.41
C = 1e-5  # 1/um^4
E0 = math.sqrt(ALPHA * C)  # harmonic ground level, 1/um^2


def k_c_of(w):
    """k_c with k_c^2 = K0^2 + W (W in 1/um^2, may be complex)."""
    return np.sqrt(K0**2 + np.asarray(w, dtype=complex))


# --------------------------------------------------------------------------
# (a) harmonic oscillator
# --------------------------------------------------------------------------
HARMONIC_Z = np.linspace(-150.0, 150.0, 401)


@pytest.fixture(scope="module")
def harmonic():
    return solve_axial_equation(HARMONIC_Z, k_c_of(C * HARMONIC_Z**2), ALPHA, count=5, k_ref=K0)


def test_harmonic_levels_spacing_and_nodes(harmonic):
    exact = E0 * (2 * np.arange(5) + 1)
    assert np.max(np.abs(harmonic.E.real - exact)) / E0 < 1e-9  # measured 1e-11
    # the spacing of the levels, 2 sqrt(alpha c), to 1e-6 relative or better
    assert np.max(np.abs(np.diff(harmonic.E.real) / (2 * E0) - 1)) < 1e-9  # measured 1e-12
    # the same in wavelength, from lambda = 2 pi / sqrt(k0^2 + E_q)
    wavelength = 2e3 * np.pi / np.sqrt(K0**2 + exact)
    assert np.allclose(harmonic.spacing_to_next_nm[:-1], wavelength[:-1] - wavelength[1:], rtol=1e-8)
    assert np.isnan(harmonic.spacing_to_next_nm[-1])
    assert list(harmonic.q) == [0, 1, 2, 3, 4]
    assert harmonic.nodes_match_order.all()
    assert harmonic.confined.all()
    assert np.all(harmonic.Q_axial > 1e12)  # inf: no axial leakage to numerical precision
    # the checks a caller reports
    assert np.all(harmonic.residual < 1e-12)
    assert np.all(harmonic.refinement_change < 1e-12 * 1e3 * E0)
    assert np.all(harmonic.pml_change < 1e-12)


def test_harmonic_ground_state_profile(harmonic):
    width = (ALPHA / C) ** 0.25  # um
    psi = harmonic.psi[0]
    assert np.max(np.abs(psi)) == pytest.approx(1.0)
    peak = np.argmax(np.abs(psi))
    assert psi[peak].imag == pytest.approx(0.0, abs=1e-12) and psi[peak].real > 0
    # the input grid has a sample at z = 0, the Gaussian's peak
    assert np.max(np.abs(psi - np.exp(-(HARMONIC_Z**2) / (2 * width**2)))) < 1e-8


# --------------------------------------------------------------------------
# (d) a complex constant part of W: cross-section loss passes through
# --------------------------------------------------------------------------
def test_complex_constant_moves_every_level_by_it(harmonic):
    loss = -2e-3  # Im W in 1/um^2 (a family with Q ~ 1e5)
    lossy = solve_axial_equation(HARMONIC_Z, k_c_of(C * HARMONIC_Z**2 + 1j * loss), ALPHA, count=5, k_ref=K0)
    assert np.max(np.abs(lossy.E.imag - loss)) < 1e-12 * abs(loss)
    assert np.max(np.abs(lossy.E.real - harmonic.E.real)) < 1e-13
    assert np.all(np.isinf(lossy.Q_axial))  # the loss is not axial
    k = np.sqrt(K0**2 + E0 * (2 * np.arange(5) + 1) + 1j * loss)
    assert np.allclose(lossy.Q_total, k.real / (2 * abs(k.imag)), rtol=1e-9)
    assert list(lossy.q) == [0, 1, 2, 3, 4]


# --------------------------------------------------------------------------
# (b) Poschl-Teller, (c) Gaussian well against WKB
# --------------------------------------------------------------------------
DEPTH, WIDTH = 0.05, 25.0  # 1/um^2, um
WELL_Z = np.linspace(-12 * WIDTH, 12 * WIDTH, 1201)


def test_poschl_teller_exact_levels():
    solution = solve_axial_equation(WELL_Z, k_c_of(-DEPTH / np.cosh(WELL_Z / WIDTH) ** 2), ALPHA, count=6, k_ref=K0)
    lam = (math.sqrt(1 + 4 * DEPTH * WIDTH**2 / ALPHA) - 1) / 2
    exact = -ALPHA * (lam - np.arange(6)) ** 2 / WIDTH**2
    # measured 3e-9: the cubic spline of the 0.5 um samples
    assert np.max(np.abs(solution.E.real - exact) / np.abs(exact)) < 1e-7
    assert list(solution.q) == list(range(6))


def wkb_level(q):
    """First-order WKB level of the Gaussian well -DEPTH exp(-z^2 / (2 WIDTH^2))."""

    def phase(e):
        turning = WIDTH * math.sqrt(2 * math.log(DEPTH / -e))
        integrand = lambda z: math.sqrt(max(e + DEPTH * math.exp(-(z**2) / (2 * WIDTH**2)), 0.0) / ALPHA)  # noqa: E731
        return quad(integrand, -turning, turning, limit=200)[0] - math.pi * (q + 0.5)

    return brentq(phase, -DEPTH * (1 - 1e-12), -1e-12, xtol=1e-16)


def test_gaussian_well_against_wkb():
    """First-order WKB (Bohr-Sommerfeld) misses a constant: near the bottom the well is
    -D + D z^2/(2 w^2) - D z^4/(8 w^4), and <q| z^4 |q> has a part 3/2 (alpha w^2 / (2D))^2
    that the phase integral lacks, so E_exact - E_WKB = -3 alpha / (32 w^2) (6.2e-5 /um^2,
    ~1 % of the spacing). What remains is of relative order spacing / depth squared: 3 %
    of that constant is allowed (measured 0.05 % at q = 0, 0.8 % at q = 7)."""
    count = 8
    solution = solve_axial_equation(WELL_Z, k_c_of(-DEPTH * np.exp(-(WELL_Z**2) / (2 * WIDTH**2))), ALPHA, count=count, k_ref=K0)
    wkb = np.array([wkb_level(q) for q in range(count)])
    missing = -3 * ALPHA / (32 * WIDTH**2)
    assert np.all(np.abs(solution.E.real - wkb - missing) < 0.03 * abs(missing))
    # WKB gets better with q: its error relative to the height above the bottom falls
    relative = np.abs(solution.E.real - wkb) / (solution.E.real + DEPTH)
    assert np.all(np.diff(relative) < 0) and relative[-1] < 0.2 * relative[0]
    assert list(solution.q) == list(range(count)) and solution.confined.all()


# --------------------------------------------------------------------------
# (e) leaking states: a well next to a lower plateau
# --------------------------------------------------------------------------
PLATEAU, STEP_AT, STEP_WIDTH = 0.045, 50.0, 5.0  # 1/um^2, um, um
LEAKY_Z = np.linspace(-150.0, STEP_AT + 50.0, 801)


def leaky_potential(z):
    """The Gaussian well, blended (tanh over STEP_WIDTH) into a plateau at -PLATEAU for z > STEP_AT:
    the ground level (-0.046) lies below the plateau, the next ones tunnel out to the right."""
    step = 0.5 * (1 + np.tanh((z - STEP_AT) / STEP_WIDTH))
    return -DEPTH * np.exp(-(z**2) / (2 * WIDTH**2)) * (1 - step) - PLATEAU * step


def shooting_level(e_start):
    """Root of the Wronskian at z = 0 of the solution decaying to the left and the one
    outgoing (exp(i beta z), Re beta > 0) to the right of LEAKY_Z."""
    w_left, w_right = leaky_potential(LEAKY_Z[0]), leaky_potential(LEAKY_Z[-1])

    def integrate(e, start, slope):
        def rhs(z, y):
            return [y[1], (leaky_potential(z) - e) / ALPHA * y[0]]

        return solve_ivp(rhs, (start, 0.0), [1 + 0j, slope], method="DOP853", rtol=1e-11, atol=1e-300).y[:, -1]

    def wronskian(e):
        beta = np.sqrt((e - w_right) / ALPHA)
        beta = beta if beta.real > 0 else -beta
        left = integrate(e, LEAKY_Z[0], np.sqrt((w_left - e) / ALPHA))
        right = integrate(e, LEAKY_Z[-1], 1j * beta)
        return (left[0] * right[1] - left[1] * right[0]) / (left[0] * right[0])

    # secant steps from e_start and a point 1e-7 /um^2 away (the levels are ~7e-3 apart)
    return newton(wronskian, e_start, x1=e_start + 1e-7, tol=1e-15, maxiter=50)


def test_leaky_states_against_shooting():
    solution = solve_axial_equation(LEAKY_Z, k_c_of(leaky_potential(LEAKY_Z)), ALPHA, count=4, k_ref=K0)
    assert list(solution.confined) == [True, False, False, False]
    assert list(solution.q) == [0, 1, 2, 3]
    assert solution.Q_axial[0] > 1e12
    assert np.all(np.isfinite(solution.Q_axial[1:]))
    # no Im k_c: the full solve is the axial one
    assert np.array_equal(solution.Q_total, solution.Q_axial)
    for i in (1, 2, 3):  # Q_axial 3e13, 3e11, 5e9; Im E to 1e-7, measured
        reference = shooting_level(complex(solution.E_axial[i]))
        assert abs(solution.E_axial[i].real - reference.real) < 1e-10
        assert abs(solution.E_axial[i].imag / reference.imag - 1) < 1e-4


def test_well_open_to_one_side_holds_only_its_bound_states():
    """A parabola that levels off at W_open for z > 40 um: four levels lie below W_open;
    above it the waves leave without a barrier, and the poles there are broader than
    their height above W_open (no resonance), so 6 asked give 4."""
    z = np.linspace(-150.0, 150.0, 601)
    w = C * np.minimum(z, 40.0) ** 2
    solution = solve_axial_equation(z, k_c_of(w), ALPHA, count=6, k_ref=K0)
    assert len(solution) == 4
    assert solution.confined.all() and np.all(solution.E.real < C * 40.0**2)
    assert list(solution.q) == [0, 1, 2, 3] and np.all(np.isinf(solution.Q_axial))


def test_no_state_in_a_neck():
    z = np.linspace(-100.0, 100.0, 401)
    hump = 0.02 * np.exp(-(z**2) / 200.0)  # a thinner section: a barrier, no well
    with pytest.raises(AxialError, match="no axially confined state"):
        solve_axial_equation(z, k_c_of(hump), ALPHA, k_ref=K0)


# --------------------------------------------------------------------------
# (f) options: P2 elements and linear interpolation
# --------------------------------------------------------------------------
def test_p2_with_linear_interpolation_of_a_parabola():
    solution = solve_axial_equation(
        HARMONIC_Z, k_c_of(C * HARMONIC_Z**2), ALPHA, count=3, k_ref=K0, order=2, interpolation="linear"
    )
    dz = HARMONIC_Z[1] - HARMONIC_Z[0]
    lift = C * dz**2 / 6  # mean of the chords over the parabola
    exact = E0 * (2 * np.arange(3) + 1) + lift
    assert np.max(np.abs(solution.E.real - exact)) < 0.01 * lift
    assert solution.order == 2 and solution.interpolation == "linear"


# --------------------------------------------------------------------------
# bad inputs
# --------------------------------------------------------------------------
Z5 = np.linspace(0.0, 40.0, 5)


@pytest.mark.parametrize(
    ("z", "k_c", "alpha", "message"),
    [
        (Z5[::-1], k_c_of(C * Z5**2), ALPHA, "strictly increasing"),
        (np.array([0.0, 1.0, 1.0, 2.0, 3.0]), k_c_of(C * Z5**2), ALPHA, "strictly increasing"),
        (Z5, np.array([K0, K0, np.nan, K0, K0]), ALPHA, "NaN"),
        (Z5[:2], k_c_of(C * Z5[:2] ** 2), ALPHA, "at least 3 points"),
        (Z5, k_c_of(C * Z5**2), 0.0, "alpha must be a positive"),
        (Z5, k_c_of(C * Z5**2), -0.4, "alpha must be a positive"),
        (Z5, k_c_of(C * Z5**2)[:4], ALPHA, "same length"),
    ],
)
def test_bad_inputs(z, k_c, alpha, message):
    with pytest.raises(AxialError, match=message) as info:
        solve_axial_equation(z, k_c, alpha)
    assert isinstance(info.value, ValueError) and "\n" not in str(info.value)


# --------------------------------------------------------------------------
# profiles: built-in shapes
# --------------------------------------------------------------------------
R_IN, R_OUT = 27.0, 39.0


def test_parabolic_spec():
    profile = profile_from_spec("parabolic:10:100", R_IN, R_OUT)
    z = profile.z_um
    assert len(z) == 401 and z[0] == -150.0 and z[-1] == 150.0
    rise = np.where(np.abs(z) <= 100, 0.010 * (1 - (z / 100) ** 2), 0.0)
    assert np.allclose(profile.r_out_um, R_OUT + rise, rtol=0, atol=1e-12)
    assert np.allclose(profile.r_in_um, R_IN + rise, rtol=0, atol=1e-12)
    assert profile.core_index is None


def test_gaussian_spec_with_other_inner_rise_and_a_neck():
    profile = profile_from_spec("gaussian:-5:20:inner=2", R_IN, R_OUT)
    z = profile.z_um
    assert z[0] == -120.0 and z[-1] == 120.0
    shape = np.exp(-(z**2) / (2 * 20.0**2))
    assert np.allclose(profile.r_out_um, R_OUT - 0.005 * shape, rtol=0, atol=1e-12)
    assert np.allclose(profile.r_in_um, R_IN + 0.002 * shape, rtol=0, atol=1e-12)


def test_taper_spec():
    profile = profile_from_spec("taper:8:100", R_IN, R_OUT)
    z, r = profile.z_um, profile.r_out_um
    assert r[0] == pytest.approx(R_OUT) and r[-1] == pytest.approx(R_OUT + 0.008)
    assert np.interp(0.0, z, r) == pytest.approx(R_OUT + 0.004)
    assert np.all(np.diff(r) >= 0)
    assert np.allclose(r[z <= -50], R_OUT) and np.allclose(r[z >= 50], R_OUT + 0.008)


def test_step_spec_edges_are_resolved():
    profile = profile_from_spec("step:3:200", R_IN, R_OUT)
    z, r = profile.z_um, profile.r_out_um
    assert np.interp(0.0, z, r) == pytest.approx(R_OUT + 0.003)
    assert np.interp(100.0, z, r) == pytest.approx(R_OUT + 0.0015)  # half height at the edge
    assert r[0] == pytest.approx(R_OUT, abs=1e-12) and r[-1] == pytest.approx(R_OUT, abs=1e-12)
    assert np.max(np.diff(z)) <= STEP_EDGE_UM / 4 + 1e-12
    long_step = profile_from_spec("step:3:2000", R_IN, R_OUT)
    assert np.max(np.diff(long_step.z_um)) <= STEP_EDGE_UM / 4 + 1e-12


@pytest.mark.parametrize(
    "spec", ["bottle:10:100", "parabolic:10", "parabolic:10:0", "parabolic:10:-5", "gaussian:x:10", "step:1:2:outer=3", ""]
)
def test_bad_spec_lists_the_forms(spec):
    with pytest.raises(ProfileError) as info:
        profile_from_spec(spec, R_IN, R_OUT)
    assert all(form in str(info.value) for form in SPEC_FORMS) and "\n" not in str(info.value)


def test_spec_that_closes_the_bore():
    with pytest.raises(ProfileError, match="r_in_um must be smaller than r_out_um"):
        profile_from_spec("gaussian:0:10:inner=12001", R_IN, R_OUT)


# --------------------------------------------------------------------------
# profiles: CSV and validation
# --------------------------------------------------------------------------
def test_read_profile_csv(tmp_path):
    path = tmp_path / "bottle.csv"
    path.write_text(
        "# a bottle measured along z\n"
        "r_out_um, z_um, core_index, r_in_um\n"
        "39.000, -10, 1.56, 27.0\n"
        "\n"
        "# the middle\n"
        "39.010, 0, 1.56-1e-8j, 27.01\n"
        "39.000, 10, 1.56, 27.0\n"
    )
    profile = read_profile(path)
    assert list(profile.z_um) == [-10.0, 0.0, 10.0]
    assert list(profile.r_out_um) == [39.0, 39.01, 39.0]
    assert list(profile.r_in_um) == [27.0, 27.01, 27.0]
    assert profile.core_index[1] == 1.56 - 1e-8j
    real = tmp_path / "real.csv"
    real.write_text("z_um,r_in_um,r_out_um,core_index\n0,27,39,1.56\n1,27,39,1.56\n2,27,39,1.57\n")
    assert read_profile(real).core_index.dtype == float
    plain = tmp_path / "plain.csv"
    plain.write_text("z_um,r_in_um,r_out_um\n0,27,39\n1,27,39\n2,27,39\n")
    assert read_profile(plain).core_index is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0,27,39\n1,27,39\n2,27,39\n", "unknown column"),
        ("z_um,r_in_um\n0,27\n1,27\n2,27\n", "lacks r_out_um"),
        ("z_um,r_in_um,r_out_um,index\n0,27,39,1.5\n", "unknown column"),
        ("z_um,r_in_um,r_out_um\n0,27,39\n1,27\n2,27,39\n", "2 values for 3 columns"),
        ("z_um,r_in_um,r_out_um\n0,27,39\n1,27,abc\n2,27,39\n", "not a number"),
        ("# only a comment\n", "no header"),
        ("z_um,r_in_um,r_out_um\n0,27,39\n2,27,39\n1,27,39\n", "strictly increasing"),
        ("z_um,r_in_um,r_out_um\n0,27,39\n1,39,39\n2,27,39\n", "smaller than r_out_um"),
        ("z_um,r_in_um,r_out_um\n0,27,39\n1,-1,39\n2,27,39\n", "r_in_um must be positive"),
        ("z_um,r_in_um,r_out_um\n0,27,39\n1,27,nan\n2,27,39\n", "NaN"),
        ("z_um,r_in_um,r_out_um\n0,27,39\n1,27,39\n", "at least 3 points"),
    ],
)
def test_bad_csv(tmp_path, text, message):
    path = tmp_path / "profile.csv"
    path.write_text(text)
    with pytest.raises(ProfileError, match=message) as info:
        read_profile(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_missing_csv(tmp_path):
    with pytest.raises(ProfileError, match="cannot read profile"):
        read_profile(tmp_path / "absent.csv")


Z3 = np.array([0.0, 1.0, 2.0])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (dict(z_um=[0.0, 2.0, 1.0]), "strictly increasing"),
        (dict(z_um=[0.0, 1.0, 1.0]), "strictly increasing"),
        (dict(r_in_um=[27.0, -0.5, 27.0]), "r_in_um must be positive .at least 0.001 um., or 0 where the bore is closed"),
        (dict(r_in_um=[27.0, 1e-4, 27.0]), "at least 0.001 um"),
        (dict(r_out_um=[-39.0, 39.0, 39.0], r_in_um=[-40.0, 27.0, 27.0]), "must be positive"),
        (dict(r_in_um=[27.0, 39.5, 27.0]), "smaller than r_out_um"),
        (dict(r_in_um=[27.0, 39.0, 27.0]), "smaller than r_out_um"),
        (dict(r_out_um=[39.0, np.nan, 39.0]), "NaN"),
        (dict(z_um=[0.0, 1.0], r_in_um=[27.0, 27.0], r_out_um=[39.0, 39.0]), "at least 3 points"),
        (dict(r_in_um=[27.0, 27.0]), "same length"),
        (dict(core_index=[1.56, -1.0, 1.56]), "positive real part"),
    ],
)
def test_bad_profile(fields, message):
    values = dict(z_um=Z3, r_in_um=[27.0] * 3, r_out_um=[39.0] * 3) | fields
    with pytest.raises(ProfileError, match=message) as info:
        AxialProfile(**values)
    assert isinstance(info.value, ValueError) and "\n" not in str(info.value)
