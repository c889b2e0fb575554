"""The proven k limits of a core census: the floor below which the core cannot hold the most
energy of a mode, and the ceiling above which its field has more maxima than the order asked for.

Checked against the closed-form (Lommel) layer energies and the labels of
:mod:`wgmfem.exact.energy`, an independent computation of the same fields, against scipy's
zeros of J_m', and against full censuses with no limits: every resonance labelled core lies
between them, including hybrids that turn only in a higher-index wall.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

import wgmfem
from wgmfem.exact.core_bound import SAFETY, core_energy_ratio_bound, core_k_floor, core_maxima, core_order_k_ceiling
from wgmfem.exact.energy import label_modes
from wgmfem.exact.search import run_boxes
from wgmfem.units import k_from_wavelength_nm

STACKS = {
    "paper 54/78": wgmfem.Capillary(),
    "water in glass 70/74": wgmfem.LayeredCylinder((35.0, 37.0), (1.33, 1.45), 1.0),
    "three layers": wgmfem.LayeredCylinder((10.0, 12.0, 14.0), (1.45, 1.6, 1.40), 1.33),
    "index-matched wall": wgmfem.LayeredCylinder((20.0, 25.0), (1.47, 1.4701), 1.0),
    "thin high-index wall 20/20.4": wgmfem.LayeredCylinder((10.0, 10.2), (1.5, 2.0), 1.0),
}


@pytest.mark.parametrize("pol", ["Ez", "Hz"])
@pytest.mark.parametrize("name", list(STACKS))
def test_the_bound_holds_for_the_closed_form_energies(name, pol):
    """At 3000 random (m, k) with m > n_0 k a, the core's energy over the fullest other layer's (from
    the Lommel integrals of the propagated field) never exceeds the bound."""
    cyl = STACKS[name]
    rng = np.random.default_rng(7)
    m = rng.integers(3, 800, 3000)
    k = m / (cyl.indices[0] * cyl.radii_um[0]) * rng.uniform(0.2, 0.9999, m.size)
    bound = core_energy_ratio_bound(cyl, pol, m, k)
    fractions = label_modes(cyl, pol, m, k).fractions
    ratio = fractions[0] / np.max(fractions[1 : cyl.n_layers], axis=0)
    finite = np.isfinite(bound)
    assert np.all(ratio[finite] <= bound[finite] * (1 + 1e-9))
    if name != "thin high-index wall 20/20.4":
        assert finite.mean() > 0.5  # the bound applies where the wall is evanescent at its inner edge


def test_no_bound_where_a_higher_index_layer_turns_the_field_at_once():
    """A wall of higher index than the core that oscillates from its inner radius gives no lower
    bound: those are the hybrids that keep most of their energy in the core's evanescent tail."""
    cyl = STACKS["thin high-index wall 20/20.4"]
    m = np.arange(100, 400)
    k = m / (2.0 * 10.0) * 1.001  # the wall turns just inside its inner radius
    assert np.all(np.isinf(core_energy_ratio_bound(cyl, "Ez", m, k)))


@pytest.mark.parametrize("pol", ["Ez", "Hz"])
def test_the_paper_floor_lies_within_two_m_of_the_core_turning_point(pol):
    """The bound is sharp enough to be useful: on the paper's capillary no mode with n_0 k a < m - 2
    needs a core census at m >= 300 (the turning-point bound alone reached m = n_wall r_wall k, 36 % higher)."""
    cyl = STACKS["paper 54/78"]
    m = np.array([300, 600, 620, 1000, 5000])
    floor = core_k_floor(cyl, pol, m)
    x = floor * cyl.indices[0] * cyl.radii_um[0]
    assert np.all((x > m - 2) & (x < m))
    ratio = core_energy_ratio_bound(cyl, pol, m, floor)
    assert np.allclose(ratio, 1 / SAFETY, rtol=1e-9)


CENSUS_CASES = [
    # (stack, pol, window nm, m range, hybrids expected): windows that straddle the floor of many m
    ("paper 54/78", "Ez", (431.0, 433.0), (590, 640), False),
    ("paper 54/78", "Hz", (431.0, 433.0), (590, 640), False),
    ("thin high-index wall 20/20.4", "Ez", (850.0, 1030.0), (85, 130), False),
    ("thin high-index wall 20/20.4", "Hz", (850.0, 1030.0), (85, 130), True),
    ("three layers", "Ez", (700.0, 720.0), (115, 145), False),
    ("index-matched wall", "Hz", (800.0, 820.0), (200, 240), False),
]


@pytest.mark.parametrize("name, pol, window, m_range, hybrids", CENSUS_CASES)
def test_every_core_resonance_of_a_full_census_lies_above_its_floor(name, pol, window, m_range, hybrids):
    """Full censuses (every m, the whole window, counted): every root labelled core has
    Re k >= the floor of its m, and the Hz hybrids of the high-index wall (47-60 % in the core)
    are among them."""
    cyl = STACKS[name]
    k_hi, k_lo = (k_from_wavelength_nm(w) for w in window)
    m = np.arange(m_range[0], m_range[1] + 1)
    result = run_boxes(cyl, pol, m, k_lo, k_hi, q_min=20.0)
    assert result.complete
    core = [r for r in result.roots if r.region_index == 0]
    assert core
    m_core = np.array([r.m for r in core])
    floor = core_k_floor(cyl, pol, m_core)
    assert all(r.k.real >= f for r, f in zip(core, floor))
    for p_max in (1, 2, 3):
        ceiling = core_order_k_ceiling(cyl, m_core, p_max)
        assert all(r.k.real <= c for r, c in zip(core, ceiling) if r.p <= p_max)
    if hybrids:
        # labelled core, yet evanescent throughout the core (the floor must stay below them)
        turning_outside = [r for r in core if r.m > 1.5 * r.k.real * 10.0]
        assert len(turning_outside) > 10


@pytest.mark.parametrize("name", ["paper 54/78", "three layers"])
def test_core_maxima_are_the_labels_p(name):
    """At 3000 random (m, k) the core's maxima count is the labels' (any field regular on the axis
    is J_m(n_0 k r) in the core): the ceiling is exact, not an estimate."""
    cyl = STACKS[name]
    rng = np.random.default_rng(11)
    m = rng.integers(0, 700, 3000)
    x = (m + 2) * rng.uniform(0.5, 2.0, m.size)
    labels = label_modes(cyl, "Ez", m, x / (cyl.indices[0] * cyl.radii_um[0]))
    assert np.array_equal(labels.maxima[0], core_maxima(m, x))


@pytest.mark.parametrize("p_max", [1, 2, 4])
def test_the_ceiling_is_the_next_zero_of_the_bessel_derivative(p_max):
    """n_0 a k_ceiling = j'_{m, p_max + 1} (j_{1, p_max} for m = 0, whose axis maximum counts), from
    scipy's zeros."""
    cyl = STACKS["paper 54/78"]
    m = np.array([0, 1, 5, 60, 600])
    x = core_order_k_ceiling(cyl, m, p_max) * cyl.indices[0] * cyl.radii_um[0]
    expected = [special.jn_zeros(1, p_max)[-1]] + [special.jnp_zeros(int(mm), p_max + 1)[-1] for mm in m[1:]]
    assert np.allclose(x, expected, rtol=1e-9)


EQUALITY_CASES = [
    # (stack, pol, window nm, m range, p_max, q_min)
    (STACKS["paper 54/78"], "both", (431.0, 433.0), (590, 640), 2, 100.0),
    # a guiding wall outside an evanescent, higher-index core: the field built from the outside in
    # grows inwards through the core, and weighed as energy it would call these wall modes core
    (wgmfem.LayeredCylinder((10.0, 30.0, 33.0), (1.45, 1.44, 1.0), 1.44), "Ez", (850.0, 880.0), (300, 305), 2, 100.0),
    # absorbing wall, low Q: a root takes the labels of a lossless partner 3 % away (no core
    # bound at the root's own k: the lossy census keeps the turning-point and phase bounds)
    (wgmfem.LayeredCylinder((16.190361754388043, 18.452322809268775), (1.5348011594038211, 1.0807647696408065 + 0.0010570864820713148j), 1.0),
     "Hz", (1274.7609212122168, 1287.5725887620881), (60, 60), 13, 20.0),
]


@pytest.mark.filterwarnings("ignore::wgmfem.solve.RegionWarning")  # the absorbing wall guides nothing itself
@pytest.mark.parametrize("cyl, pol, window, m_range, p_max, q_min", EQUALITY_CASES, ids=["paper", "buried guide", "absorbing wall"])
def test_a_core_census_is_the_full_census_filtered(cyl, pol, window, m_range, p_max, q_min):
    """find_modes(region="core", p=(1, p_max)), whose boxes run from the floor to the ceiling on a
    lossless stack, returns exactly the core modes of order <= p_max of the full census of the
    same window and m range; so does find_modes(region="wall") the wall modes."""
    common = dict(pol=pol, wavelength_nm=window, m=m_range, q_min=q_min, fsr=False)
    full = wgmfem.find_modes(cyl, region="any", **common)
    key = lambda md: (md.pol, md.m, md.p, round(md.wavelength_nm, 9))  # noqa: E731
    core = wgmfem.find_modes(cyl, region="core", p=(1, p_max), **common)
    assert sorted(map(key, core)) == sorted(key(md) for md in full if md.region == "core" and md.p <= p_max)
    wall = wgmfem.find_modes(cyl, region="wall", **common)
    assert sorted(map(key, wall)) == sorted(key(md) for md in full if md.region == "wall")
    assert core or wall
