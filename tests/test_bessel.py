"""Scaled Bessel functions against mpmath (30 digits), and the unwrapped Bessel phase."""

import mpmath
import numpy as np
import pytest
from scipy import special

from wgmfem.exact.bessel import bessel_phase, scaled_jy

mpmath.mp.dps = 30


@pytest.mark.parametrize(
    "m, x",
    [(5000, 3500.0), (5000, 1000.0), (3000, 1500.0), (200, 1.0), (5000, 3500.0 - 0.5j), (1200, 300.0 + 0.01j)],
)
def test_scaled_values_where_double_precision_fails(m, x):
    """Where scipy under/overflows the Debye branch takes over; compare with mpmath."""
    b = scaled_jy(m, np.array([x]))
    assert b.debye[0], "this argument should be outside scipy's range"
    e = mpmath.mpf(float(b.e[0]))
    xm = mpmath.mpmathify(x)
    for value, ref in (
        (b.j[0] * mpmath.exp(e), mpmath.besselj(m, xm)),
        (b.y[0] * mpmath.exp(-e), mpmath.bessely(m, xm)),
        (b.dj[0] * mpmath.exp(e), mpmath.besselj(m, xm, derivative=1)),
        (b.dy[0] * mpmath.exp(-e), mpmath.bessely(m, xm, derivative=1)),
    ):
        assert abs(value / ref - 1) < 1e-11


@pytest.mark.parametrize("m", [0, 1, 7, 600, 2500])
def test_scaled_values_in_scipy_range_match_mpmath(m):
    xs = np.array([0.5, 0.9, 1.0, 1.3]) * max(m, 2) + 0.01j
    b = scaled_jy(m, xs)
    for i, x in enumerate(xs):
        e = mpmath.mpf(float(b.e[i]))
        j_ref, y_ref = mpmath.besselj(m, x), mpmath.bessely(m, x)
        # where J and Y oscillate, errors are measured against the modulus |H| (near a zero
        # of Y its relative error is meaningless); where they do not, |J| << |H| and J is
        # checked relative to itself
        assert abs(b.j[i] * mpmath.exp(e) - j_ref) < 1e-12 * abs(j_ref)
        assert abs(b.y[i] * mpmath.exp(-e) - y_ref) < 1e-12 * abs(mpmath.hankel1(m, x))


@pytest.mark.parametrize("m", [1, 7, 60, 600])
def test_complex_oscillatory_values_from_hankel_functions_match_mpmath(m):
    """Re x > m off the real axis (counting contours reach |Im x| ~ 5): J and Y from H1 and H2
    to 1e-12 of their larger modulus, as separate J and Y calls give them."""
    xs = (np.array([1.001, 1.05, 1.3, 2.0])[:, None] * m + 1j * np.array([1e-6, 0.3, -0.3, 5.0, -5.0])[None, :]).ravel()
    b = scaled_jy(m, xs)
    assert not np.any(b.debye)
    for i, x in enumerate(xs):
        xm = mpmath.mpc(x.real, x.imag)
        refs = [mpmath.besselj(m, xm), mpmath.bessely(m, xm), mpmath.besselj(m, xm, 1), mpmath.bessely(m, xm, 1)]
        scale, dscale = max(abs(refs[0]), abs(refs[1])), max(abs(refs[2]), abs(refs[3]))
        for value, ref, size in zip((b.j[i], b.y[i], b.dj[i], b.dy[i]), refs, (scale, scale, dscale, dscale)):
            assert abs(value - ref) < 1e-12 * size


@pytest.mark.parametrize("m", [0, 1, 5, 50, 600])
def test_phase_is_the_continuous_unwrapped_phase(m):
    """atan2(Y, J) unwrapped on a fine grid starting near x = 0 (where theta = -pi/2)."""
    xs = np.linspace(1e-3, 3 * m + 60, 100_001)
    reference = np.unwrap(np.arctan2(special.yv(m, xs), special.jv(m, xs)))
    assert np.max(np.abs(bessel_phase(m, xs) - reference)) < 1e-9


def test_phase_counts_zeros_of_j():
    """Zeros of J_m below x = floor((theta + pi/2) / pi), against scipy's tabulated zeros."""
    for m in (0, 3, 40):
        zeros = special.jn_zeros(m, 30)
        xs = np.concatenate([zeros - 1e-6, zeros + 1e-6])
        counts = np.floor((bessel_phase(m, xs) + np.pi / 2) / np.pi)
        expected = np.concatenate([np.arange(30), np.arange(1, 31)])
        assert np.array_equal(counts, expected)
