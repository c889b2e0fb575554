"""The axisymmetric vector FEM (wgmfem.axisym) against the sphere's exact Mie resonances.

Every FEM mode is labelled (pol, m, p, q) from its own field and compared with the exact
resonance of that label (wgmfem.exact.sphere, itself checked against mpmath in
test_sphere_exact.py): a mislabelled or spurious mode has no exact partner within the
tolerance and fails.
"""

import pytest

from wgmfem.axisym.defaults import RESOLVED_Q_MAX
from wgmfem.axisym.sphere import sphere_modes_fem
from wgmfem.exact.sphere import sphere_resonance

# a small silica sphere in air: 3 um radius, m = 20, Q ~ 300-700 (fast)
SMALL = dict(radius_um=3.0, index=1.45, m=20)


def _resonator_modes(study):
    return [md for md in study.modes if md.is_resonator_mode]


@pytest.mark.parametrize("pol", ["TE", "TM"])
def test_small_sphere_modes_match_their_exact_resonances(pol):
    study = sphere_modes_fem(**SMALL, pol=pol, num_modes=4)
    modes = _resonator_modes(study)
    first = modes[0]
    assert (first.pol, first.p, first.q) == (pol, 1, 0)
    for md in modes:
        assert md.exact is not None
        # default settings (P3/N3, 12 points per wavelength): 1e-7 at l >= 50, a few 1e-7 here
        assert md.wavelength_error < 1e-6, (md.pol, md.p, md.q, md.wavelength_error)
        assert md.q_error < 1e-2
        assert md.q_resolved


def test_the_two_mirror_walls_together_give_the_full_window():
    """Electric and magnetic walls on the equator split the spectrum by parity: every resonance of
    the full window is found, with the same label and wavelength (to the discretization error),
    on the half window with one wall or the other."""
    full = _resonator_modes(sphere_modes_fem(**SMALL, pol="TE", num_modes=6, mirror=None))
    halves = [md for wall in ("electric", "magnetic")
              for md in _resonator_modes(sphere_modes_fem(**SMALL, pol="TE", num_modes=6, mirror=wall))]
    assert {("TE", 0), ("TM", 0)} <= {(md.pol, md.q) for md in full}
    for md in full:
        twin = min(halves, key=lambda h: abs(h.k_per_um - md.k_per_um))
        assert (twin.pol, twin.p, twin.q) == (md.pol, md.p, md.q)
        assert abs(twin.wavelength_nm / md.wavelength_nm - 1) < 1e-6


def test_no_spurious_eigenvalue_between_the_physical_ones():
    """Every eigenvalue next to the shift is a resonance of the sphere (labelled, matched) or a
    standing wave of the window's outside region (no energy in the sphere, Q < 20); and every
    exact p = 1 resonance of the mirror's parity between the found ones is found."""
    study = sphere_modes_fem(**SMALL, pol="TE", num_modes=10)
    found = set()
    for md in study.modes:
        if md.is_resonator_mode:
            assert md.wavelength_error < 1e-6 and md.label_verified
            found.add((md.pol, md.q))
        else:
            assert md.body_fraction < 0.01 and md.Q < 20
    ks = [md.k_per_um.real for md in study.modes if md.is_resonator_mode]
    lo, hi = min(ks), max(ks)
    for q in range(0, 8):
        pol = "TE" if q % 2 == 0 else "TM"
        k = sphere_resonance(3.0, 1.45, 20 + q, 1, pol).k_per_um.real
        if lo <= k <= hi:
            assert (pol, q) in found


def test_bad_windows_get_a_clear_error():
    from wgmfem.axisym.mesh import SphereWindow
    from wgmfem.fem.pml import RadialPML

    pml = RadialPML(r_start_um=12.0, width_um=2.0, sigma0=3.0)
    with pytest.raises(ValueError, match="inside the sphere"):
        SphereWindow(10.0, 11.0, 14.0, 5.0, pml).check()
    with pytest.raises(ValueError, match="half-height"):
        SphereWindow(10.0, 6.0, 14.0, 12.0, pml).check()
    with pytest.raises(ValueError, match="outside index"):
        sphere_modes_fem(3.0, 1.0, 20)
    with pytest.raises(ValueError, match="unknowns"):  # refused before meshing
        sphere_modes_fem(100.0, 1.45, 3000)


@pytest.mark.slow
@pytest.mark.parametrize("order_l, outside, pol", [(50, 1.0, "TE"), (50, 1.0, "TM"), (100, 1.2, "TE"),
                                             (200, 1.2, "TE"), (200, 1.2, "TM")])
def test_sphere_l_50_to_200_to_1e_7_in_wavelength_and_1_percent_in_q(order_l, outside, pol):
    study = sphere_modes_fem(10.0, 1.45, order_l, pol=pol, outside_index=outside, num_modes=2)
    md = study.modes[0]
    assert (md.pol, md.p, md.q) == (pol, 1, 0)
    assert md.wavelength_error < 1e-7
    assert md.q_resolved and md.q_error < 1e-2


@pytest.mark.slow
def test_q_beyond_double_precision_is_reported_as_a_bound():
    md = sphere_modes_fem(10.0, 1.45, 200, pol="TE", num_modes=1).modes[0]
    assert md.exact.Q > 1e29 and md.wavelength_error < 1e-7
    assert not md.q_resolved and md.label_verified
    assert md.to_dict()["Q_rad"] is None and md.to_dict()["Q_rad_lower_bound"] == RESOLVED_Q_MAX
