"""The exact engine: published numbers, internal consistency, census completeness, labels."""

import math

import numpy as np
import pytest

import wgmfem
from wgmfem.exact.census import find_roots, polish_roots
from wgmfem.exact.characteristic import characteristic_function, node_count
from wgmfem.exact.field import radial_field

PAPER = wgmfem.Capillary()


@pytest.fixture(scope="module")
def default_census():
    return wgmfem.find_modes(PAPER, wavelength_nm=(425, 445), region="core", p=(1, 2))


def _mode(modes, pol, m, p):
    hits = [md for md in modes if (md.pol, md.m, md.p) == (pol, m, p)]
    assert len(hits) == 1
    return hits[0]


def test_paper_mode_matches_the_mpmath_reference(default_census):
    """Independent 30-digit mpmath solution: Ez p=1 m=600 at 432.0877 nm, Q ~ 4.79e12, 94.6 % core."""
    md = _mode(default_census, "Ez", 600, 1)
    assert md.region == "core"
    assert abs(md.wavelength_nm - 432.0877) < 5e-5
    assert abs(md.Q_rad / 4.79e12 - 1) < 0.01
    assert abs(md.core_fraction - 0.946) < 5e-4
    # m = 597: Q ~ 1.1e12 (same reference)
    assert abs(_mode(default_census, "Ez", 597, 1).Q_rad / 1.1e12 - 1) < 0.1


def test_simple_formula_is_off_by_about_twelve_mode_numbers(default_census):
    """m*lambda = pi*n*D puts m = 600 at 441.1 nm; the exact p=1 mode there has m ~ 588 (docs/theory.md section 7)."""
    simple_lambda_nm = math.pi * 1.56 * 54e3 / 600
    assert abs(simple_lambda_nm - 441.1) < 0.05
    nearest = min((md for md in default_census if md.pol == "Ez" and md.p == 1), key=lambda md: abs(md.wavelength_nm - simple_lambda_nm))
    assert 10 <= 600 - nearest.m <= 14


def test_every_box_is_verified_and_nothing_is_duplicated(default_census):
    assert all(md.verification["census_ok"] for md in default_census)
    keys = [(md.pol, md.m, round(md.wavelength_nm, 9)) for md in default_census]
    assert len(keys) == len(set(keys))
    # one p=1 and one p=2 core mode per m and polarization where the window holds them
    for pol in ("Ez", "Hz"):
        ms = sorted(md.m for md in default_census if md.pol == pol and md.p == 1)
        assert ms == list(range(ms[0], ms[-1] + 1))


def test_full_window_census_agrees_with_targeted_core_search(default_census):
    """The full census (every mode of every region) at a few m must contain the same core modes."""
    ms = (590, 600, 605)
    full = wgmfem.find_modes(PAPER, wavelength_nm=(425, 445), m=(590, 605), region=None, fsr=False)
    for m in ms:
        for pol in ("Ez", "Hz"):
            core_full = sorted(md.wavelength_nm for md in full if md.m == m and md.pol == pol and md.region == "core" and md.p <= 2)
            core_target = sorted(md.wavelength_nm for md in default_census if md.m == m and md.pol == pol)
            assert np.allclose(core_full, core_target, rtol=1e-13, atol=0)
    assert all(md.verification["census_ok"] for md in full)
    # wall modes interleave with the core modes (docs/theory.md section 6)
    assert sum(md.region == "wall" for md in full) > sum(md.region == "core" for md in full)


def test_wronskian_leak_agrees_with_polish_roots_at_moderate_q():
    """Around Q ~ 1e7 both ways of getting Im k are accurate: they must agree."""
    res = find_roots(PAPER, "Ez", np.array([590]), 14.1, 14.8, q_min=100)
    for r in res.roots:
        q = r.k.real / (2 * abs(r.k.imag))
        if 1e6 < q < 1e8:
            k_secant, ok = polish_roots(PAPER, "Ez", np.array([590]), np.array([r.k]), np.array([r.k * (1 + 1e-10)]))
            assert ok[0]
            assert abs(k_secant[0].imag / r.k.imag - 1) < 1e-6
            assert abs(k_secant[0].real / r.k.real - 1) < 1e-14


def test_energy_fractions_match_quadrature_of_the_field(default_census):
    """Closed-form (Lommel) fractions against a brute-force integral of the evaluated field."""
    for md in (_mode(default_census, "Ez", 600, 1), _mode(default_census, "Hz", 597, 2)):
        r = np.linspace(1e-6, PAPER.outer_radius_um, 400_001)
        R = radial_field(PAPER, md.pol, md.m, md.k.real, r)
        n = np.where(r < 27, 1.56, 1.47)
        if md.pol == "Ez":
            density = n**2 * np.abs(R) ** 2
        else:
            dR = np.gradient(R, r)
            density = (np.abs(dR) ** 2 + md.m**2 * np.abs(R) ** 2 / r**2) / n**2
        w = density * r
        core, wall = np.trapezoid(w[r < 27], r[r < 27]), np.trapezoid(w[r >= 27], r[r >= 27])
        inside = md.energy_fractions["core"] + md.energy_fractions["wall"]
        assert abs(core / (core + wall) - md.energy_fractions["core"] / inside) < 1e-4


def test_node_count_equals_sign_changes_of_the_field():
    """Sturm count from Bessel phases against zeros of the sampled real field (3-layer stack)."""
    stack = wgmfem.LayeredCylinder((10.0, 12.0, 14.0), (1.45, 1.6, 1.40), 1.33)
    r = np.linspace(1e-6, 14.0, 200_001)
    for m, k in ((0, 5.1), (3, 9.7), (60, 8.3), (90, 9.9)):
        R = radial_field(stack, "Hz", m, k, r).real
        R = R[np.abs(R) > 1e-14 * np.abs(R).max()]
        assert node_count(stack, "Hz", m, k)[0] == np.count_nonzero(np.diff(np.sign(R)) != 0)


def test_rod_limit_core_against_infinite_wall():
    """A capillary whose wall has the outside index is the bare core: same resonances."""
    cap = wgmfem.Capillary(20, 30, 1.56, 1.33, outside_index=1.33)
    rod = wgmfem.LayeredCylinder((10.0,), (1.56,), 1.33)
    a = wgmfem.find_modes(cap, pol="Ez", wavelength_nm=(600, 640), region="core", p=(1, 1), fsr=False)
    b = wgmfem.find_modes(rod, pol="Ez", wavelength_nm=(600, 640), region="core", p=(1, 1), fsr=False)
    assert [md.m for md in a] == [md.m for md in b]
    assert np.allclose([md.k for md in a], [md.k for md in b], rtol=1e-12)


def test_fsr_is_the_spacing_of_the_family(default_census):
    md = _mode(default_census, "Ez", 600, 1)
    lower, upper = _mode(default_census, "Ez", 599, 1), _mode(default_census, "Ez", 601, 1)
    assert md.fsr_nm == pytest.approx((lower.wavelength_nm - upper.wavelength_nm) / 2, rel=1e-12)
    # group index above the phase index of the liquid (dispersion of the cavity itself)
    assert 1.5 < md.group_index < 1.6


@pytest.mark.parametrize("m", [0, 1, 5000])
def test_extreme_orders_agree_with_the_radial_fem(m):
    """m = 0, 1 (a leaky rod, Q ~ 10) and m = 5000 (Bessel functions beyond double range,
    Q beyond 1e300) against the independent 1-D radial finite-element engine."""
    from wgmfem.fem.radial import solve_radial

    if m == 5000:
        cyl = wgmfem.Capillary(460, 500, 1.56, 1.47)  # m ~ 5000 near 450 nm
        md = wgmfem.find_modes(cyl, pol="Ez", m=m, p=1, region="core")[0]
        assert 400 < md.wavelength_nm < 500
    else:
        cyl = wgmfem.LayeredCylinder((1.0,), (2.5,), 1.0)
        md = wgmfem.find_modes(cyl, pol="Hz", m=m, p=1, region="core", q_min=2)[0]
    assert md.verification["census_ok"]
    # at Q ~ 3 the default FEM mesh is 4e-9 off; refined it converges onto the exact root (6e-11)
    fem = solve_radial(cyl, md.pol, m, md.k.real, num_modes=4, points_per_wavelength=80)
    nearest = fem.k[np.argmin(np.abs(fem.k - md.k))]
    assert abs(nearest.real / md.k.real - 1) < 1e-9
    if np.isfinite(md.Q_rad):
        assert abs(nearest.imag / md.k.imag - 1) < 1e-3
    else:
        assert abs(nearest.imag) < 1e-12 * md.k.real  # the FEM sees no loss either


def test_characteristic_function_vanishes_at_found_roots(default_census):
    for md in default_census[::7]:
        f = characteristic_function(PAPER, md.pol, md.m, md.k)
        df = characteristic_function(PAPER, md.pol, md.m, md.k + 1e-9) - f
        assert abs(f) < 1e-4 * abs(df)  # within 1e-13 of the root in k


def _sampled_interior_maxima(cyl, md, samples_per_um=300):
    """Interior maxima of |R| inside the mode's region layer, counted on a dense grid of the field.
    Where the field is evanescent (r < m / (k n)) it has no maximum, and in the core it underflows
    to round-off noise: sampling starts just inside the turning point."""
    j = cyl.region_names.index(md.region)
    r1 = cyl.radii_um[j - 1] if j else 0.0
    r_turn = md.m / (md.k.real * cyl.indices[j])
    start = max(r1, 0.98 * r_turn) if j == 0 else r1
    r = np.linspace(start, cyl.radii_um[j], int((cyl.radii_um[j] - start) * samples_per_um) + 1)
    a = np.abs(radial_field(cyl, md.pol, md.m, md.k, r).real)
    return int(np.sum((a[1:-1] > a[:-2]) & (a[1:-1] >= a[2:])))


@pytest.mark.parametrize(
    "cyl,window,m_range",
    [
        (PAPER, (430.2, 433.0), (597, 603)),  # paper wall modes with a node just inside the wall (p ~ 39)
        (wgmfem.LayeredCylinder((10.0, 12.0, 14.0), (1.45, 1.6, 1.40), 1.33), (386.0, 392.0), (296, 304)),
        (wgmfem.Capillary(inner_diameter_um=30, outer_diameter_um=36, core_index=1.515, wall_index=1.47), (440.0, 446.0), (318, 324)),
    ],
    ids=["paper", "stack3", "thin-wall-toluene"],
)
def test_radial_order_is_the_number_of_field_maxima_in_the_region(cyl, window, m_range):
    """p counts the maxima of |R| in the guiding layer (docs/theory.md section 6). The labels come from Bessel
    phases and sign rules without sampling; here they are checked against the sampled field."""
    modes = wgmfem.find_modes(cyl, wavelength_nm=window, m=m_range, p=None, region=None, q_min=1e3, fsr=False)
    in_layer = [md for md in modes if md.region != "outside" and not md.hybrid]
    assert len(in_layer) >= 10
    wrong = [(md.pol, md.m, md.region, md.p, _sampled_interior_maxima(cyl, md)) for md in in_layer]
    wrong = [w for w in wrong if w[3] != w[4]]
    assert not wrong, f"(pol, m, region, p, sampled maxima): {wrong[:5]}"
