"""The first-order terms beyond the adiabatic axial equation (wgmfem.axial.corrections).

The interface-curvature term rests on the boundary perturbation of skew modes: at a finite
beta its terms (the components even and odd in beta) must add up to d k(beta)^2 / d r_j at
fixed beta, which exact skew roots of the fibre with the interface moved give independently.
The full-vector FEM check of the terms themselves is in tests/test_axisym_segment.py (slow).
"""

import math

import numpy as np
import pytest

import wgmfem
from wgmfem.axial import AxialProfile, profile_from_spec
from wgmfem.axial import modes as axial_modes
from wgmfem.axial.corrections import EVEN_TERMS, boundary_perturbation
from wgmfem.axial.modes import cylinder_at, find_axial_modes, reference_mode
from wgmfem.exact.skew import SkewError, skew_secant

SMALL = wgmfem.Capillary(8.0, 9.8, 1.50, 1.45)


def _exact_slope(cyl, m, k, beta, j, step=1e-3):
    """d Re k(beta)^2 / d r_j at fixed beta, central differences of exact skew roots."""
    values = []
    for sign in (1, -1):
        radii = list(cyl.radii_um)
        radii[j] += sign * step
        root, converged, _ = skew_secant(cylinder_at(cyl, *radii), m, k, beta)
        assert converged
        values.append((root * root).real)
    return (values[0] - values[1]) / (2 * step)


@pytest.mark.parametrize("pol", ["Ez", "Hz"])
def test_boundary_perturbation_at_finite_beta_against_exact_skew_roots(pol):
    """The boundary perturbation's slope at beta = 1e-3 k and 0.04 k against d k(beta)^2 / d r_j
    of exact skew roots, on both interfaces: within 1e-4 of the slope (measured 1.4e-6 - 2.3e-5,
    a beta-independent error of the differences), and its change from 1e-3 k to 0.04 k, which the
    terms odd in beta dominate (~0.03 /um^3 at the outer surface, cancelled by the even terms'
    change to 4e-4), within 1e-3 of the odd part (measured 1.2e-7 - 1.7e-4)."""
    _, fixed_mode, _ = reference_mode(SMALL, 4.0, 4.9, pol, 50, 1, "wall")
    cyl, m, k0 = fixed_mode.cylinder, fixed_mode.m, complex(fixed_mode.root_k)
    slopes = {}
    for fraction in (1e-3, 0.04):
        beta = fraction * k0.real
        k, converged, _ = skew_secant(cyl, m, complex(np.sqrt(k0 * k0 + fixed_mode.axial_curvature * beta * beta)),
                                      beta)
        assert converged
        slopes[fraction] = []
        for j, terms in enumerate(boundary_perturbation(cyl, m, k, beta)):
            odd = sum(v for name, v in terms.items() if name not in EVEN_TERMS[pol])
            exact = _exact_slope(cyl, m, k, beta, j)
            assert abs(sum(terms.values()) / exact - 1) < 1e-4, (fraction, j, terms, exact)
            slopes[fraction].append((sum(terms.values()), exact, odd))
    for (low, low_exact, _), (high, high_exact, odd) in zip(slopes[1e-3], slopes[0.04]):
        assert abs((high - low) - (high_exact - low_exact)) < 1e-3 * abs(odd)


def test_curvature_term_does_not_depend_on_the_profile_sampling():
    """r'' from the spline through the samples: 61 instead of 401 samples of a 50 nm x 5 um
    Gaussian change the curvature shift by less than 1 % (a twice-applied central difference is
    3.6 % off there)."""
    fine = find_axial_modes(profile_from_spec("gaussian:50:5", 4.0, 4.9), SMALL, pol="Ez", m=50, region="wall", count=1)
    z = np.linspace(-30.0, 30.0, 61)
    bump = 0.05 * np.exp(-z * z / 50.0)
    coarse = find_axial_modes(AxialProfile(z, 4.0 + bump, 4.9 + bump), SMALL, pol="Ez", m=50, region="wall", count=1)
    a, b = fine.modes[0].curvature_shift_nm, coarse.modes[0].curvature_shift_nm
    assert abs(b / a - 1) < 1e-2


def test_a_term_that_cannot_be_computed_is_not_applied_and_says_so(monkeypatch):
    """A failing curvature coefficient: the record says 'not applied', the shift is NaN, and the
    wavelength carries the other terms only."""
    profile = profile_from_spec("gaussian:50:5", 4.0, 4.9)
    applied = find_axial_modes(profile, SMALL, pol="Ez", m=50, region="wall", count=2)

    def fail(*_args, **_kwargs):
        raise SkewError("forced for the test")

    monkeypatch.setattr(axial_modes, "curvature_coefficients", fail)
    skipped = find_axial_modes(profile, SMALL, pol="Ez", m=50, region="wall", count=2)
    assert skipped.verification["interface_curvature"].startswith("not applied: forced for the test")
    for with_it, without in zip(applied.modes, skipped.modes):
        assert math.isnan(without.curvature_shift_nm)
        assert without.wavelength_nm - with_it.wavelength_nm == pytest.approx(-with_it.curvature_shift_nm, rel=1e-4)
    record = skipped.records()[0]
    assert math.isnan(record["curvature_shift_nm"]) and record["verification"]["curvature_coefficients_per_um"] is None
