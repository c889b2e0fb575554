"""Axial modes of profiled capillaries (wgmfem.axial.modes) against closed forms and
independent references.

* A parabolic bottle: the harmonic-oscillator spacing 2 sqrt(alpha c) with alpha from the
  independent mpmath skew roots (tests/reference/skew_roots.json) and c the curvature of
  Re k_c(z)^2 from exact beta = 0 roots of the fibres at z = 0 and z = +-dz.
* The cutoff slopes d lambda_c / d r_in, d r_out against exact roots of fibres with the radii
  moved by a larger step.
* Bad profiles: a uniform capillary has no axially confined state.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import wgmfem
from wgmfem.axial import AxialError, AxialProfile, profile_from_spec
from wgmfem.axial.modes import find_axial_modes

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_skew import ref_alpha0, ref_quartic0  # noqa: E402 - mpmath alpha and eta of the paper capillary's families


def _lambda_c(r_in: float, r_out: float, pol: str = "Ez") -> complex:
    md = wgmfem.find_modes(wgmfem.Capillary(2 * r_in, 2 * r_out), pol=pol, m=600, p=1, region="core", fsr=False)[0]
    return md.k


def test_parabolic_bottle_spacing_is_the_harmonic_oscillator():
    """Radii r(z) = r(0) - g z^2 (g = 1e-6 /um: 10 nm over 100 um). W = Re k_c^2 is then
    W0 + c z^2 + d z^4 (d from the curvature of k_c^2 in r); the states are the harmonic
    oscillator's, E_q = W0 + sqrt(alpha c)(2q + 1), shifted to first order by
    d <z^4>_q = (3/4) d (alpha/c) (2q^2 + 2q + 1) (a 1e-5 correction; the next is ~1e-10) and by
    the quartic axial dispersion, eta <beta^4>_q = (3/4) eta (c/alpha) (2q^2 + 2q + 1) (a change of the
    spacing here, 3e-6); alpha and eta from the mpmath skew roots. The interfaces' curvature
    r'' = -2g moves every level by the same sum_j gamma_j r'' (1e-9 relative; its coefficients are
    the engine's, checked against the full-vector FEM in tests/test_axisym_segment.py); the change
    of alpha along z moves them by < 1e-12 relative here and is left out of the expectation."""
    g = 1e-6
    z = np.linspace(-120.0, 120.0, 481)
    profile = AxialProfile(z, 27.0 - g * z * z, 39.0 - g * z * z)
    result = find_axial_modes(profile, wgmfem.Capillary(), pol="Ez", m=600, p=1, count=3)
    # W(s) = W0 + c s + d s^2 in s = z^2 from exact roots at z = 0, 10, 20 um
    s = np.array([0.0, 100.0, 400.0])
    w = np.array([(_lambda_c(27.0 - g * si, 39.0 - g * si) ** 2).real for si in s])
    d, c, w0 = np.polyfit(s, w, 2)
    alpha, eta = ref_alpha0("paper-Ez"), ref_quartic0("paper-Ez")
    curvature = sum(result.verification["curvature_coefficients_per_um"]) * (-2 * g)
    levels = [w0 + curvature + math.sqrt(alpha * c) * (2 * q + 1)
              + 0.75 * (d * alpha / c + eta * c / alpha) * (2 * q * q + 2 * q + 1) for q in (0, 1)]
    expected_nm = [2e3 * math.pi / math.sqrt(e) for e in levels]
    assert result.modes[0].spacing_nm == pytest.approx(expected_nm[0] - expected_nm[1], rel=1e-6)
    assert result.modes[0].wavelength_nm == pytest.approx(expected_nm[0], rel=1e-12)
    assert [md.q for md in result.modes] == [0, 1, 2]
    assert all(md.confined for md in result.modes)
    assert result.alpha == pytest.approx(alpha, rel=1e-6)


def test_cutoff_slopes_against_exact_roots():
    """d lambda_c / d r (nm per um) at the reference against exact roots 5 nm apart."""
    result = find_axial_modes(profile_from_spec("gaussian:20:30", 27.0, 39.0), wgmfem.Capillary(), pol="Ez", m=600, p=1, count=1)
    step = 5e-3
    r_in, r_out = 27.0 + 0.02, 39.0 + 0.02
    for name, (a, b) in {"r_in": ((r_in + step, r_out), (r_in - step, r_out)),
                         "r_out": ((r_in, r_out + step), (r_in, r_out - step))}.items():
        lam = [2e3 * math.pi / _lambda_c(*radii).real for radii in (a, b)]
        assert result.cutoff_slopes_nm_per_um[name] == pytest.approx((lam[0] - lam[1]) / (2 * step), rel=1e-4, abs=1e-4)
    # a core mode follows the bore: lambda_c / r_in to first order
    assert result.cutoff_slopes_nm_per_um["r_in"] > 100 * abs(result.cutoff_slopes_nm_per_um["r_out"])


def test_gaussian_bulge_levels_lie_inside_the_well():
    """Every confined state lies between the deepest cutoff and the ends' cutoff, q counts up."""
    result = find_axial_modes(profile_from_spec("gaussian:50:30", 27.0, 39.0), wgmfem.Capillary(), pol="Hz", m=600, p=1, count=3)
    lam_c = result.cutoff_wavelength_nm
    for md in result.modes:
        assert lam_c[[0, -1]].max() < md.wavelength_nm < lam_c.max()
    assert [md.q for md in result.modes] == [0, 1, 2]
    assert result.verification["max_radius_slope"] < 1e-2


def test_uniform_capillary_has_no_confined_state():
    z = np.linspace(-50, 50, 21)
    profile = AxialProfile(z, np.full(z.shape, 27.0), np.full(z.shape, 39.0))
    with pytest.raises(AxialError, match="no axial mode of .* is confined"):
        find_axial_modes(profile, wgmfem.Capillary(), pol="Ez", m=600, p=1, count=2)


def test_anticrossing_along_the_profile_is_refused():
    """A 150 nm bulge drives the Hz core family through an anticrossing with a wall mode: the
    one-family equation is refused with the place, not solved across it."""
    with pytest.raises(AxialError, match="anticrossing"):
        find_axial_modes(profile_from_spec("gaussian:150:50", 27.0, 39.0), wgmfem.Capillary(), pol="Hz", m=600, p=1, count=1)


def test_shape_metric_along_a_uniform_scaling():
    """Scaling both radii by (1 + eps) scales the resonance and its profile exactly
    (Maxwell's equations have no length scale): X_eps(r) = X(r / (1 + eps)) / (1 + eps), so
    dX/d eps = -(X + r X') and [a, b] G [a, b]^T = int (X + r X')^2 r dr, from the one profile."""
    from wgmfem.axial.modes import shape_metric

    md = wgmfem.find_modes(wgmfem.Capillary(), pol="Ez", m=600, p=1, fsr=False)[0]
    a, b = md.cylinder.radii_um
    metric = shape_metric(md.cylinder, md, a, b)
    along = np.array([a, b]) @ metric @ np.array([a, b])
    r = np.linspace(1e-6, md.m / md.k.real + 2 * math.pi / md.k.real, 400001)
    x = md.field(r).real
    x = x / np.sqrt(np.trapezoid(x * x * r, r))
    dx = np.gradient(x, r)
    expected = np.trapezoid((x + r * dx) ** 2 * r, r)
    assert along == pytest.approx(expected, rel=1e-4)


def test_cross_section_loss_reaches_every_state():
    """A shallow well (only the outer radius raised: a core mode hardly feels it) whose complex
    solve cannot resolve Im E still carries the cross-section's loss: Q_total within the range of
    the exact cross-section Q along the profile, never infinite."""
    result = find_axial_modes(profile_from_spec("step:10:60:inner=0", 27.0, 39.0), wgmfem.Capillary(), pol="Ez", m=600, p=1, count=1)
    q_cross = result.cutoff_k.real / (-2 * result.cutoff_k.imag)
    assert q_cross.min() * 0.999 <= result.modes[0].Q_total <= q_cross.max() * 1.001


def test_interpolated_cutoff_matches_exact_roots_at_every_point():
    """The cutoff from exact roots at every 8th point (interpolation checked at the gaps' middles)
    against exact roots at every point: within CUTOFF_TOLERANCE Re k_c, and the check recorded."""
    from wgmfem.axial import modes as axial_modes

    profile = profile_from_spec("gaussian:50:40", 27.0, 39.0)
    result = find_axial_modes(profile, wgmfem.Capillary(), pol="Ez", m=600, p=1, count=3)
    md = result.reference
    slopes = result.cutoff_slopes_nm_per_um
    spacing = axial_modes.neighbour_spacing(md)
    every = axial_modes.cutoff_along(profile, md.cylinder, md, slopes, spacing, stride=1)
    report: dict = {}
    sparse = axial_modes.cutoff_along(profile, md.cylinder, md, slopes, spacing, report=report)
    assert report["roots_solved"] < 0.5 * len(set(zip(profile.r_in_um, profile.r_out_um)))
    assert np.max(np.abs(sparse - every) / every.real) < axial_modes.CUTOFF_TOLERANCE
    assert report["check_points"] > 0 and report["max_check_error_relative"] <= axial_modes.CUTOFF_TOLERANCE
    v = result.verification
    assert 0 < v["cutoff_check_error_nm"] and v["cutoff_check_error_over_spacing"] < 1e-6


def test_a_lossless_wall_family_never_shows_gain():
    """The paper capillary's wall family (Q ~ 6e98) under a 10 nm step of the outer surface: a
    tracked root whose Im k comes out of the census as rounding noise of either sign must not
    turn into gain (Q_total ~ -4e17); confined states of a lossless capillary have the
    cross-section's Q."""
    result = find_axial_modes(profile_from_spec("step:10:60:inner=0", 27.0, 39.0), wgmfem.Capillary(), pol="Ez",
                              m=600, p=1, region="wall", count=2)
    for md in result.modes:
        assert md.confined
        assert md.Q_total == pytest.approx(result.reference.Q_total, rel=1e-2)


def test_axial_orders_that_do_not_match_their_place_are_flagged():
    """1 nm of noise on the radii of a 20 nm bottle (8 / 9.8 um capillary): the second state's Re psi
    has no clean node in its allowed stretch, so its node count says q = 0 again; the record says
    the label is not verified instead of listing two ground states."""
    base = profile_from_spec("parabolic:20:20", 4.0, 4.9)
    rng = np.random.default_rng(1)
    noisy = AxialProfile(base.z_um, base.r_in_um + 1e-3 * rng.standard_normal(base.num_points),
                         base.r_out_um + 1e-3 * rng.standard_normal(base.num_points))
    result = find_axial_modes(noisy, wgmfem.Capillary(8.0, 9.8, 1.50, 1.45), pol="Ez", m=50, region="wall", count=3)
    assert [md.q_verified for md in result.modes] == [md.q == i for i, md in enumerate(result.modes)]
    assert not all(md.q_verified for md in result.modes)
    assert [rec["q_verified"] for rec in result.records()] == [md.q_verified for md in result.modes]
