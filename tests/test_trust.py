"""No silently wrong mode off the paper's path: absorbing and gain liquids, thin walls,
labels that identify, the completeness floor. Every expected value comes from an independent
source: the 30-digit determinant (tests/reference), or another, differently posed census."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import mpmath
import pytest

from wgmfem import Capillary, LayeredCylinder, find_modes

sys.path.insert(0, str(Path(__file__).parent))
from reference import lossy_cases  # noqa: E402

LOSSY = lossy_cases.load()


def _reference_k(entry) -> complex:
    return complex(float(mpmath.mpf(entry["k_re"])), float(mpmath.mpf(entry["k_im"])))


def _stack(entry) -> LayeredCylinder:
    return LayeredCylinder(tuple(entry["radii_um"]), tuple(complex(*n) if n[1] else n[0] for n in entry["indices"]), entry["n_out"])


@pytest.mark.parametrize("name", sorted(LOSSY))
def test_absorbing_and_gain_liquids_against_the_30_digit_determinant(name):
    """kappa from 1e-9 to 1e-2 (and gain): the census of the lossy stack lists the reference root."""
    entry = LOSSY[name]
    k_ref = _reference_k(entry)
    lam = 2e3 * math.pi / k_ref.real
    modes = find_modes(_stack(entry), pol=entry["pol"], m=entry["m"], wavelength_nm=(lam - 0.05, lam + 0.05),
                       q_min=2, fsr=False)
    hits = [md for md in modes if abs(md.k - k_ref) < 1e-6 * abs(k_ref)]
    assert len(hits) == 1, f"{name}: reference root {k_ref} not in {[md.k for md in modes]}"
    md = hits[0]
    assert abs(md.wavelength_nm - entry["wavelength_nm"]) / entry["wavelength_nm"] < 1e-10
    assert md.Q_total == pytest.approx(entry["Q_signed"], rel=1e-6)
    assert md.verification["census_ok"]
    assert (md.Q_total < 0) == (entry["Q_signed"] < 0)
    # the labels are the lossless mode's: the absorbing layer is where the energy is
    region = ("core", "wall")[entry["absorbing_layer"]]
    assert md.region == region and md.energy_fractions[region] == pytest.approx(entry["layer_fraction"], abs=0.01)


def test_absorbing_paper_mode_by_label_is_the_reference_root():
    """wgmfem modes --core 1.56+1e-4j --m 600 --p 1 --pol Ez landed on a wall mode at 432.83 nm."""
    entry = LOSSY["paper_Ez600_kappa+1e-04"]
    md, = find_modes(Capillary(54, 78, 1.56 + 1e-4j, 1.47), pol="Ez", m=600, p=1)
    assert abs(md.k - _reference_k(entry)) < 1e-10 * abs(md.k)
    assert md.Q_total == pytest.approx(entry["Q_signed"], rel=1e-6)
    assert md.Q_rad > 1e12 and md.Q_abs == pytest.approx(md.Q_total, rel=1e-6)


def test_absorbing_census_keeps_every_family_member_and_its_fsr():
    """m = 599 was missing from the lossy census and the FSR read 0.575 nm instead of 0.71."""
    lossless = find_modes(Capillary(54, 78, 1.56, 1.47), pol="Ez", wavelength_nm=(431, 433), p=1)
    lossy = find_modes(Capillary(54, 78, 1.56 + 1e-4j, 1.47), pol="Ez", wavelength_nm=(431, 433), p=1)
    assert [(md.m, md.p, md.region, md.nodes) for md in lossy] == [(md.m, md.p, md.region, md.nodes) for md in lossless]
    for a, b in zip(lossy, lossless):
        assert abs(a.wavelength_nm - b.wavelength_nm) < 1e-6 and a.fsr_nm == pytest.approx(b.fsr_nm, rel=1e-5)


def test_gain_liquid_has_signed_q_and_consistent_threshold():
    """A growing mode reports negative Q_abs / Q_total, and both threshold gains are negative and agree."""
    entry = LOSSY["paper_Ez600_kappa-1e-06"]
    md, = find_modes(Capillary(54, 78, 1.56 - 1e-6j, 1.47), pol="Ez", m=600, p=1)
    assert md.k.imag > 0 and md.net_gain
    assert md.Q_total == pytest.approx(entry["Q_signed"], rel=1e-6) and md.Q_total < 0 and md.Q_abs < 0
    # the layer already holds 2 k kappa of gain; the threshold sits below it by the radiation loss
    held = 2 * (2 * math.pi / (md.wavelength_nm * 1e-7)) * 1e-6
    assert md.threshold_gain_per_cm < 0 and md.lasing_gain_per_cm < 0
    assert md.lasing_gain_per_cm == pytest.approx(md.threshold_gain_per_cm, rel=1e-3)
    assert -md.lasing_gain_per_cm == pytest.approx(held, rel=1e-3)


@pytest.mark.parametrize(
    "cap, pol, window, p",
    [
        (Capillary(54, 54.2, 1.56, 1.47), "Ez", (431, 433), (1, 1)),
        (Capillary(54, 54.1, 1.56, 1.47), "Ez", (431, 433), (1, 1)),
        (Capillary(54, 54.4, 1.56, 1.47), "Ez", (431, 433), (1, 1)),
        (Capillary(6, 8, 1.5, 1.5), "Ez", (400, 401), (1, 2)),
        (Capillary(5, 6, 1.5625, 1.5), "Ez", (400, 403), None),
    ],
)
def test_region_filter_is_a_filter_of_the_complete_census(cap, pol, window, p):
    """Thin walls and index-matched walls: region='core' lists exactly the core modes of the
    unfiltered census (it used to search narrower boxes and lose them)."""
    core = find_modes(cap, pol=pol, wavelength_nm=window, p=p, region="core", fsr=False)
    every = find_modes(cap, pol=pol, wavelength_nm=window, p=p, region=None, fsr=False)
    expected = [md for md in every if md.region == "core"]
    assert expected, "the case must hold core modes"
    assert [(md.m, md.nodes) for md in core] == [(md.m, md.nodes) for md in expected]
    assert all(abs(a.k - b.k) <= 1e-12 * abs(a.k) for a, b in zip(core, expected))


def test_thin_wall_core_mode_matches_the_30_digit_determinant():
    """54/54.2 um: Ez m = 600 p = 1 core at 431.58835 nm is found, and is a root of the 30-digit determinant."""
    md = next(md for md in find_modes(Capillary(54, 54.2, 1.56, 1.47), pol="Ez", wavelength_nm=(431, 433), p=1)
              if md.m == 600)
    k = mpmath.mpc(md.k)
    delta = lossy_cases.ref.newton_step((27.0, 27.1), (1.56, 1.47), 1.0, "Ez", 600, k, dps=30)
    assert abs(complex(delta)) < 1e-11 * abs(md.k)
    assert md.region == "core" and md.core_fraction > 0.9


def test_labels_identify_and_lookups_return_what_the_census_lists():
    cap = Capillary(29.677, 31.245, 1.5129, 1.4336)
    census = find_modes(cap, pol="Ez", wavelength_nm=(886.07, 888.9), p=(1, 3))
    md = next(md for md in census if (md.m, md.p) == (133, 3))
    looked_up = find_modes(cap, pol="Ez", m=133, p=3)
    assert any(abs(o.k - md.k) <= 1e-12 * abs(md.k) and o.nodes == md.nodes for o in looked_up)
    # two modes carry the description (133, 3, core): their node counts tell them apart
    assert len({o.nodes for o in looked_up}) == len(looked_up)


@pytest.mark.parametrize(
    "cap, kwargs",
    [
        (Capillary(29.769, 49.639, 1.544, 1.4096, outside_index=1.33), dict(pol="Ez", wavelength_nm=(400.29, 411.35), p=2)),
        (Capillary(54, 78, 1.56, 1.47), dict(pol="both", wavelength_nm=(425, 445), m=(0, 1), region=None, p=None)),
        (Capillary(54, 78, 1.56, 1.47), dict(pol="Ez", wavelength_nm=(431, 432), region=None, p=None, m=(500, 840))),
    ],
)
def test_identifying_labels_are_unique_and_follow_sturm(cap, kwargs):
    """(pol, m, nodes, sibling) is unique within a result (these cases repeated (pol, m, p, region))."""
    modes = find_modes(cap, fsr=False, **kwargs)
    ids = [md.mode_id for md in modes]
    assert len(ids) == len(set(ids))
    assert all(md.verification["label_unique"] for md in modes)


def test_q_min_is_applied_as_stated():
    """A mode with Q 98.83 was listed under the default q_min = 100."""
    cap = Capillary(6.53, 9.464, 1.5193, 1.4)
    modes = find_modes(cap, pol="Ez", wavelength_nm=(400, 412), p=(1, 3), region=None)
    assert modes and all(md.Q_rad >= 100 for md in modes)
    lower = find_modes(cap, pol="Ez", wavelength_nm=(400, 412), p=(1, 3), region=None, q_min=50)
    assert {(md.m, md.nodes) for md in modes} == {(md.m, md.nodes) for md in lower if md.Q_rad >= 100}


def test_stated_floor_holds_over_the_whole_window():
    """Low-Q stack over 800-1800 nm: every resonance above the reported floor is listed. The
    reference is a census of narrow sub-windows (other boxes, other contours)."""
    stack = LayeredCylinder((10, 12, 14), (1.45, 1.6, 1.40), outside_index=1.33)
    wide = find_modes(stack, pol="Hz", wavelength_nm=(800, 1800), m=(84, 92), region=None, p=None, q_min=5, fsr=False)
    floor = max(md.verification["q_floor"] for md in wide)
    pieces = []
    edges = [800 + 100 * i for i in range(11)]
    for lo, hi in zip(edges[:-1], edges[1:]):
        pieces += find_modes(stack, pol="Hz", wavelength_nm=(lo, hi), m=(84, 92), region=None, p=None, q_min=2, fsr=False)
    wanted = {(md.m, md.nodes, round(md.wavelength_nm, 6)) for md in pieces if md.Q_rad >= max(floor, 5) * 1.01}
    have = {(md.m, md.nodes, round(md.wavelength_nm, 6)) for md in wide}
    assert wanted <= have
