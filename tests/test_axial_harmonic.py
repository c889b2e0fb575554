"""The local harmonic estimate of axial states (wgmfem.axial.harmonic) against the adiabatic
axial equation (an independent 1-D FEM along z over exact cutoffs), and its refusals."""

import math

import numpy as np
import pytest

import wgmfem
from wgmfem.axial.equation import AxialError
from wgmfem.axial.harmonic import harmonic_states
from wgmfem.axial.modes import find_axial_modes
from wgmfem.axial.profile import AxialProfile, profile_from_spec

SMALL = wgmfem.Capillary(8.0, 9.8, 1.50, 1.45)


def test_parabolic_bottle_matches_the_adiabatic_equation():
    """Inside |z| <= L a parabolic bulge is harmonic in the radii, and the states of a 20 nm x
    20 um bottle stay inside it: the closed form and the axial FEM agree up to what the closed
    form drops (k_c^2 taken as quadratic in z, though k_c is not linear in the radii), which grows
    with q and with the height (measured: 4.3e-8 and 2.2e-7 relative for q = 0, 1 here, 1.0e-8 and
    4.0e-8 for a 5 nm bottle; the spacing 4.4e-4). Both without the first-order corrections the
    adiabatic states carry beyond their equation (wgmfem.axial.corrections)."""
    profile = profile_from_spec("parabolic:20:20", 4.0, 4.9)
    estimate = harmonic_states(profile, SMALL, pol="Ez", m=50, region="wall", count=2)
    adiabatic = find_axial_modes(profile, SMALL, pol="Ez", m=50, region="wall", count=2)
    equation = adiabatic.solution.wavelength_nm
    for q, tolerance in ((0, 1e-7), (1, 5e-7)):
        assert abs(estimate.wavelength_nm[q] / equation[q] - 1) < tolerance
    spacing = equation[0] - equation[1]
    assert abs(estimate.spacing_nm / spacing - 1) < 1e-3


def test_width_and_extent_follow_the_oscillator():
    """The ground state exp(-x^2 / 2) falls by e^-decay at x = sqrt(2 decay): the extent of q = 0
    alone is that many widths from z0, to the sampling of x."""
    profile = profile_from_spec("parabolic:20:20", 4.0, 4.9)
    estimate = harmonic_states(profile, SMALL, pol="Ez", m=50, region="wall", count=1)
    lo, hi = estimate.extent_um(8.0)
    assert hi - estimate.z0_um == pytest.approx(estimate.width_um * math.sqrt(16.0), rel=5e-3)
    assert lo - estimate.z0_um == pytest.approx(-(hi - estimate.z0_um), rel=1e-9)


def test_a_neck_holds_no_state():
    with pytest.raises(AxialError, match="no minimum|at its end"):
        harmonic_states(profile_from_spec("gaussian:-50:5", 4.0, 4.9), SMALL, pol="Ez", m=50, region="wall")


def test_a_profile_widest_at_its_end_is_refused():
    z = np.linspace(0.0, 20.0, 41)
    taper = AxialProfile(z, 4.0 + 1e-3 * z, 4.9 + 1e-3 * z)
    with pytest.raises(AxialError, match="at its end"):
        harmonic_states(taper, SMALL, pol="Ez", m=50, region="wall")


def test_the_oscillator_sits_where_the_family_cutoff_is_deepest():
    """On the paper's capillary a bore bulge at z = -5 um and an equal outer bulge at z = +5 um: the
    core family's cutoff follows the bore (the field barely reaches the outer surface), so its
    oscillator sits at the bore's bulge, not at the widest outer radius; a wall family's sits at
    the outer bulge."""
    paper = wgmfem.Capillary()
    z = np.linspace(-30.0, 30.0, 601)
    profile = AxialProfile(z, 27.0 + 0.05 * np.exp(-0.5 * ((z + 5) / 3) ** 2),
                           39.0 + 0.05 * np.exp(-0.5 * ((z - 5) / 3) ** 2))
    core = harmonic_states(profile, paper, pol="Ez", m=600, region="core", count=1)
    assert core.z0_um == pytest.approx(-5.0, abs=0.15)
    wall = harmonic_states(profile, paper, pol="Ez", m=600, p=1, region="wall", count=1)
    assert wall.z0_um == pytest.approx(5.0, abs=0.15)
