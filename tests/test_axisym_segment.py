"""A uniform capillary segment between electric walls (wgmfem.axisym.segment) reproduces the exact
skew modes of the infinite cylinder (wgmfem.exact.skew, checked against mpmath in test_skew.py) at
beta = pi / L: two engines that share no code beyond the PML profile."""

import pytest

import wgmfem
from wgmfem.axisym.segment import segment_modes_fem

SMALL = wgmfem.Capillary(8.0, 9.8, 1.50, 1.45)  # the small capillary of the skew tests


def _check(study):
    k_fem = study.nearest
    assert study.wavelength_error < 1e-6  # measured 4e-8 - 1e-7 at the default P3, 12 points per wavelength
    q_fem = k_fem.real / (-2 * k_fem.imag)
    assert abs(q_fem / study.exact.Q_rad - 1) < 1e-2


def test_wall_mode_of_a_segment_is_the_exact_skew_mode():
    _check(segment_modes_fem(SMALL, 50, 1.0, pol="Ez", region="wall", num_modes=2))


@pytest.mark.slow
@pytest.mark.parametrize("pol, region, beta", [("Hz", "wall", 1.0), ("Ez", "core", 1.0), ("Hz", "core", 1.0),
                                               ("Ez", "core", 0.5)])
def test_segment_modes_are_the_exact_skew_modes(pol, region, beta):
    _check(segment_modes_fem(SMALL, 50, beta, pol=pol, region=region, num_modes=2))


def test_a_profile_too_short_for_its_states_is_refused():
    """The window's walls would cut the axial states: one clear error before any meshing."""
    import numpy as np

    from wgmfem.axial.profile import AxialProfile, profile_from_spec
    from wgmfem.axisym.profile import profile_modes_fem

    full = profile_from_spec("parabolic:20:20", 4.0, 4.9)
    keep = np.abs(full.z_um) <= 8.0  # the states reach |z| ~ 19 um
    short = AxialProfile(full.z_um[keep], full.r_in_um[keep], full.r_out_um[keep])
    with pytest.raises(ValueError, match="have not decayed"):
        profile_modes_fem(short, SMALL, pol="Ez", m=50, region="wall", count=2)


def test_segment_needs_a_positive_beta():
    with pytest.raises(ValueError, match="positive"):
        segment_modes_fem(SMALL, 50, 0.0)


@pytest.mark.slow
def test_profiled_capillary_states_against_the_adiabatic_equation():
    """A 50 nm x 5 um Gaussian bulge on the small capillary (well depth ~8 nm, slopes up to 0.006),
    Ez wall family m = 50: the FEM finds the adiabatic states q = 0, 1, 2 (labelled from their own
    fields) and their spacings agree with the adiabatic equation's to 1e-3 (measured 1.2e-4 and
    4.8e-4: the adiabatic equation's own first-order estimate covers the first, not the second)."""
    from wgmfem.axial.profile import profile_from_spec
    from wgmfem.axisym.profile import profile_modes_fem

    study = profile_modes_fem(profile_from_spec("gaussian:50:5", 4.0, 4.9), SMALL, pol="Ez", m=50, region="wall",
                              count=3, extra_modes=1)
    paired = {md.q: md for md in study.modes if md.adiabatic is not None}
    assert sorted(paired) == [0, 1, 2]
    for q in (0, 1):
        fem = paired[q].wavelength_nm - paired[q + 1].wavelength_nm
        adiabatic = paired[q].adiabatic.wavelength_nm - paired[q + 1].adiabatic.wavelength_nm
        assert abs(fem / adiabatic - 1) < 1e-3
