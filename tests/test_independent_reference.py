"""The independent reference census (tests/reference/independent_census.py) checked on its own.

Before it judges wgmfem (tests/test_property_census.py) the double-precision reference is
compared with the 30-digit mpmath determinant of tests/reference/mpmath_cylinder.py (cached roots
of tests/reference/roots.json, and fresh mpmath roots where they are cheap), with Bessel values
of mpmath where it needs log-scaled recurrences, and with a brute-force seed grid (nothing found
by Newton from a dense grid may be missing from the census).  Nothing here imports wgmfem.

Tolerances are what double precision gives (measured: wavelength ~2e-16, |d Im k| ~1e-25..1e-17
/um, so Q to ~1e-13 even at Q = 4.8e12).
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import independent_census as ic  # noqa: E402
from reference import mpmath_cylinder as mc  # noqa: E402
from reference.cases import GEOMETRIES  # noqa: E402

PAPER = ic.Stack((27.0, 39.0), (1.56, 1.47), 1.0)
K_432 = 2000 * math.pi / 432.08769  # the paper's Ez m=600 p=1 core mode (docs/theory.md section 7)


def _only_root(stack, pol, m, k, half=0.002, q=100.0):
    res = ic.census(stack, pol, k - half, k + half, q, m_range=(m - 1, m + 1))
    assert res.complete, res.problems
    roots = [r for r in res.roots if r.m == m]
    assert len(roots) == 1 and len(res.roots) == 1, res.roots
    return roots[0]


def test_paper_mode_lossless():
    """Ez m=600 p=1 at 432.08769 nm, Q ~ 4.79e12, against the cached 30-digit mpmath root."""
    r = _only_root(PAPER, "Ez", 600, K_432)
    assert abs(r.wavelength_nm - 432.08769) < 5e-6
    assert abs(r.Q / 4.79e12 - 1) < 0.01
    cached = json.loads((Path(__file__).parent / "reference" / "roots.json").read_text())["roots"]
    entry = cached["paper|Ez|m=600|seed=14.5414586035"]
    k_mp = complex(float(entry["k_re"]), float(entry["k_im"]))
    assert abs(r.k.real - k_mp.real) <= 4e-16 * k_mp.real
    assert abs(r.k.imag - k_mp.imag) <= 1e-22  # measured 1.3e-25: Q to 1e-13
    assert abs(r.Q / ic.q_signed(k_mp) - 1) < 1e-9


# 30-digit roots of mpmath_cylinder.find_root (recomputed by test_paper_lossy_values_are_mpmath's)
PAPER_LOSSY = {
    # core 1.56 + 1e-4 i: Q_total ~ 8249 at 432.08769 nm
    1.56 + 1e-4j: ("14.54145860271395027385133799", "-0.0008814255538176450661797002226"),
    # core 1.56 - 1e-9 i (gain): the resonance grows, Q = -8.25e8
    1.56 - 1e-9j: ("14.54145860350855234917468917", "8.812732663094527312509592138e-9"),
}


@pytest.mark.parametrize("core", list(PAPER_LOSSY), ids=["absorbing", "gain"])
def test_paper_mode_absorbing_and_gain(core):
    stack = ic.Stack((27.0, 39.0), (core, 1.47), 1.0)
    r = _only_root(stack, "Ez", 600, K_432)
    re, im = PAPER_LOSSY[core]
    k_mp = complex(float(re), float(im))
    assert abs(r.wavelength_nm - 432.08769) < 5e-6
    assert abs(r.k.real - k_mp.real) <= 4e-16 * k_mp.real
    assert abs(r.Q / ic.q_signed(k_mp) - 1) < 1e-11  # measured 3e-15 / 5e-14
    if core.imag > 0:
        assert abs(r.Q - 8249) < 1
    else:
        assert r.Q < 0 and r.k.imag > 0


@pytest.mark.slow
@pytest.mark.parametrize("core", list(PAPER_LOSSY), ids=["absorbing", "gain"])
def test_paper_lossy_values_are_mpmath(core):
    re, im = PAPER_LOSSY[core]
    k = mc.find_root((27.0, 39.0), [core, 1.47], 1.0, "Ez", 600, complex(float(re), float(im)), dps=30)
    with mpmath.workdps(30):
        assert abs(k - mpmath.mpc(re, im)) < mpmath.mpf("1e-24")


def _cached_groups():
    cached = json.loads((Path(__file__).parent / "reference" / "roots.json").read_text())["roots"]
    groups: dict[tuple, list] = {}
    for entry in cached.values():
        groups.setdefault((entry["geometry"], entry["pol"], entry["m"]), []).append(entry)
    return sorted(groups.items())


FULL_SPAN = {("paper", "Ez", 600), ("rod3", "Hz", 45)}  # the others: a narrow box around each root


@pytest.mark.parametrize("group", _cached_groups(), ids=lambda g: "-".join(map(str, g[0])))
def test_cached_mpmath_roots_are_in_the_census(group):
    """Every cached 30-digit root (real-axis scans of mpmath_cylinder) is a census root of the same
    (pol, m); for two groups the census spans all their roots, and the census roots the scans did
    not list are roots too (a fresh 30-digit Newton step from them is tiny)."""
    (geometry, pol, m), entries = group
    g = GEOMETRIES[geometry]
    stack = ic.Stack(g["radii"], g["indices"], g["n_out"])
    ks = [complex(float(e["k_re"]), float(e["k_im"])) for e in entries]
    q_min = min(ic.q_signed(k) for k in ks)
    if (geometry, pol, m) in FULL_SPAN:
        lo, hi = min(k.real for k in ks) * (1 - 1e-4), max(k.real for k in ks) * (1 + 1e-4)
        windows = [(lo, hi)]
        q_min = 100.0  # and the census of the whole span down to Q = 100 holds exactly these
    else:
        windows = [(k.real * (1 - 1e-5), k.real * (1 + 1e-5)) for k in ks]
    roots = []
    for lo, hi in windows:
        res = ic.census(stack, pol, lo, hi, 0.5 * q_min if (geometry, pol, m) not in FULL_SPAN else q_min, m_range=(m, m))
        assert res.complete, res.problems
        roots.extend(res.roots)
    for k_mp in ks:
        r = min(roots, key=lambda r: abs(r.k - k_mp))
        assert abs(r.k.real - k_mp.real) <= 1e-15 * k_mp.real, (r.k, k_mp)
        if abs(ic.q_signed(k_mp)) < 1e13:  # 30 digits resolve Im k to ~1e-29 |k|
            assert abs(r.k.imag - k_mp.imag) <= max(1e-9 * abs(k_mp.imag), 1e-22), (r.k, k_mp)
    listed = {min(roots, key=lambda r: abs(r.k - k)).k for k in ks}
    extra = [r for r in roots if r.k not in listed]
    if (geometry, pol, m) in FULL_SPAN:
        assert len(roots) == len(ks), [r.k for r in extra]
    for r in extra[:2]:
        step = mc.newton_step(g["radii"], g["indices"], g["n_out"], pol, m, r.k, dps=30)
        assert abs(complex(step)) < 1e-13 * abs(r.k)


SMALL_CASES = [
    # (radii, indices, n_out, pol, k_lo, k_hi, m_range): absorbing, gain, three layers, Hz
    ((5.0, 7.0), (1.56 + 2e-3j, 1.47), 1.0, "Ez", 5.3, 6.5, (49, 51)),
    ((5.0, 7.0), (1.56 - 3e-7j, 1.47), 1.0, "Hz", 5.3, 6.5, (49, 51)),
    ((3.0,), (1.56 + 1e-5j,), 1.0, "Hz", 10.5, 13.2, (44, 46)),
    ((10.0, 12.0, 14.0), (1.45 + 1e-6j, 1.6, 1.40), 1.33, "Ez", 10.8, 11.0, (200, 200)),
    ((4.0, 4.2), (1.47 + 1e-3j, 1.45), 1.33, "Ez", 10.0, 10.6, (58, 60)),  # thin wall, core below wall
]


@pytest.mark.parametrize("case", SMALL_CASES, ids=["absorbing", "gain-Hz", "rod-Hz", "stack3", "thin-wall"])
def test_small_cases_against_fresh_mpmath_roots(case):
    radii, indices, n_out, pol, k_lo, k_hi, m_range = case
    stack = ic.Stack(radii, indices, n_out)
    res = ic.census(stack, pol, k_lo, k_hi, 20.0, m_range=m_range)
    assert res.complete, res.problems
    assert res.roots
    chosen = sorted(res.roots, key=lambda r: -abs(r.Q))
    for r in {id(x): x for x in (chosen[0], chosen[-1])}.values():  # the highest and the lowest Q
        k_mp = complex(mc.find_root(radii, list(indices), n_out, pol, r.m, r.k, dps=30, check=False))
        assert abs(r.k.real - k_mp.real) <= 1e-14 * k_mp.real  # measured <= 2.2e-15
        if abs(r.Q) < 1e13:
            assert abs(r.Q / ic.q_signed(k_mp) - 1) < 1e-10, (r.k, k_mp)


def test_dense_seed_grid_finds_nothing_more():
    """Newton from a dense grid over each box finds no root the counted census lacks."""
    stack = ic.Stack((5.0, 7.0), (1.56 + 1e-3j, 1.47), 1.0)
    k_lo, k_hi, q = 5.3, 6.5, 10.0
    res = ic.census(stack, "Ez", k_lo, k_hi, q, m_range=(48, 50))
    assert res.complete, res.problems
    xs = np.linspace(k_lo, k_hi, 50)
    ys = np.linspace(-res.kappa, res.kappa, 12)
    seeds = (xs[:, None] + 1j * ys[None, :]).ravel()
    for m in range(48, 51):
        k, conv, _ = ic._newton(stack, "Ez", np.full(seeds.size, m), seeds, limit=0.05)
        inside = k[conv & (k.real >= k_lo) & (k.real <= k_hi) & (np.abs(k.imag) <= res.kappa)]
        for kk in inside:
            assert any(abs(kk - r.k) < 1e-10 * abs(kk) for r in res.by_m(m)), (m, kk)
        assert len(res.by_m(m)) == res.counts[m]


def test_log_scaled_bessel_values_against_mpmath():
    """Where AMOS underflows/overflows (order far above |z|) the ratio recurrences agree with mpmath."""
    for m, z in [(400, 26.0), (400, 26.0 - 0.5j), (1000, 33 + 2j)]:
        J, Y = ic._jy(np.array([m]), np.array([complex(z)]))
        assert J.log[0] < -600 and Y.log[0] > 600  # really outside double precision
        with mpmath.workdps(30):
            jm, ym = mpmath.besselj(m, z), mpmath.bessely(m, z)
            jc = mpmath.mpc(complex(J.f[0])) * mpmath.exp(J.log[0])
            yc = mpmath.mpc(complex(Y.f[0])) * mpmath.exp(Y.log[0])
            djm = mpmath.besselj(m - 1, z) - m / mpmath.mpmathify(z) * jm
            assert abs(jc / jm - 1) < 1e-11 and abs(yc / ym - 1) < 1e-11
            assert abs(complex(J.df[0] / J.f[0]) / complex(djm / jm) - 1) < 1e-14


def test_thick_wall_with_deeply_evanescent_core():
    """A 5/80 um capillary at m ~ 380: J_m in the core is ~1e-400 (log-scaled columns); the wall
    modes agree with mpmath (Re k; their Q ~ 1e39 is beyond 30 digits)."""
    stack = ic.Stack((2.5, 40.0), (1.5 + 1e-6j, 1.45), 1.0)
    res = ic.census(stack, "Ez", 6.7, 6.9, 10.0, m_range=(375, 380))
    assert res.complete, res.problems
    assert len(res.roots) >= 5
    r = max(res.roots, key=lambda r: r.m)
    k_mp = complex(mc.find_root(stack.radii, list(stack.indices), 1.0, "Ez", r.m, r.k, dps=30, check=False))
    assert abs(r.k.real - k_mp.real) <= 1e-15 * k_mp.real
    assert abs(r.k.imag - k_mp.imag) <= 1e-20


def test_local_root_counts_one():
    k, count = ic.local_root(PAPER, "Ez", 600, K_432)
    assert count == 1 and abs(ic.wavelength_nm(k) - 432.08769) < 5e-6


@pytest.mark.slow
def test_reference_is_self_consistent_on_random_fibres():
    """The census of a window equals the union of the censuses of its two halves, counted with
    denser initial sampling and a 20 % lower floor (different boxes, splits and seeds: an aliased
    count or a lost root would show), on the long profile's random fibres."""
    hypothesis = pytest.importorskip("hypothesis")
    from reference import census_compare as cc

    @hypothesis.settings(max_examples=40, deadline=None, database=None, derandomize=True,
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(cc.cases(m_cap=cc.PROFILES["long"][0], max_fsr=cc.PROFILES["long"][1]))
    def check(case):
        stack = ic.Stack(case.radii, case.indices, case.n_out)
        lo, hi = case.window_nm
        q = cc.REFERENCE_FLOOR_FACTOR * case.q_min
        whole = ic.census_window(stack, case.pol, (lo, hi), q)
        cut = lo + 0.37 * (hi - lo)
        halves = [ic.census_window(stack, case.pol, w, 0.8 * q, initial=17) for w in ((lo, cut), (cut, hi))]
        assert whole.complete and all(h.complete for h in halves), (whole.problems, [h.problems for h in halves])
        other = [r for h in halves for r in h.roots if abs(r.Q) >= q]
        mine = [r for r in whole.roots if abs(r.Q) >= q]
        for a, b in ((mine, other), (other, mine)):
            for r in a:
                if abs(abs(r.Q) / q - 1) < 0.01:
                    continue  # at the floor: either census may keep it
                assert any(s.m == r.m and abs(s.k - r.k) <= 1e-11 * abs(r.k) for s in b), (case, r)

    check()
