"""Modes of very high order (m = 2000 - 100000) against an independent reference.

The reference (tests/reference/large_order.py) builds the Bessel functions from their
recurrences in 30-digit mpmath arithmetic (no asymptotic expansion, no scipy), the field of
a mode from the centre out and from the surface in (so that 30 digits hold a field that falls
by e^400 across the wall), the wavelength from the sign change of an entire determinant, the
energy fractions from Lommel's integral and Q from energy balance. It is first checked
against mpmath's own Bessel functions and against the 30-digit complex roots of the full
boundary-matching determinant (tests/reference/roots.json, m = 600).

Tolerances (measured errors in docs/theory.md, "Accuracy and limits"): wavelength: the
reference's root lies within 1e-14 (relative) of wgmfem's; energy fractions 1e-10; Q 1e-8.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import cache  # noqa: E402
from reference import large_order as ref  # noqa: E402

import wgmfem  # noqa: E402
from wgmfem.cli import main  # noqa: E402

PAPER = ((27.0, 39.0), (1.56, 1.47), 1.0)  # the paper's capillary: radii (um), indices, outside
ROD = ((50.0,), (1.45,), 1.0)
K_BRACKET = 1e-14
FRACTION_TOL = 1e-10
Q_TOL = 1e-8


@functools.cache
def wgmfem_mode(geometry, pol, m, p=1):
    cyl = wgmfem.LayeredCylinder(*geometry)
    modes = wgmfem.find_modes(cyl, pol=pol, m=m, p=p, region="core", fsr=False)
    assert len(modes) == 1
    return modes[0]


@functools.cache
def reference_at(geometry, pol, m, k):
    """Reference fractions and Q next to wgmfem's k, and whether the reference's root (Re k of the
    resonance) lies within k (1 +- K_BRACKET): the reference determinant changes sign there.
    (The field changes by ~1e-12 over the bracket.)"""
    lo = ref.evaluate(*geometry, pol, m, mpmath.mpf(k) * (1 - mpmath.mpf(K_BRACKET)))
    hi = ref.evaluate(*geometry, pol, m, mpmath.mpf(k) * (1 + mpmath.mpf(K_BRACKET)))
    bracketed = mpmath.sign(lo["determinant"]) != mpmath.sign(hi["determinant"])
    return lo["fractions"], lo["Q"], bracketed


def assert_fractions(md, fractions):
    assert set(md.energy_fractions) == set(fractions)
    for name, value in fractions.items():
        assert math.isfinite(md.energy_fractions[name])
        assert abs(md.energy_fractions[name] - float(value)) < FRACTION_TOL, name


# --------------------------------------------------------------------------- wgmfem against it
def check_reference():
    """The reference itself: its Bessel values against mpmath's hypergeometric besselj/bessely
    either side of the turning point (30 digits), and its real root, fractions and energy-balance
    Q at m = 600 (Q ~ 1e12) against the 30-digit complex roots of the 2N x 2N determinant and
    their quadrature labels (tests/reference/roots.json)."""
    with mpmath.workdps(30):
        for m, x in ((2000, "1900.5"), (2000, "2100.5"), (1000, "700.25")):
            x = mpmath.mpf(x)
            j, dj, y, dy = ref.bessel_jy(m, x)
            jm, ym = mpmath.besselj(m, x), mpmath.bessely(m, x)
            djm = mpmath.besselj(m - 1, x) - m / x * jm
            dym = mpmath.bessely(m - 1, x) - m / x * ym
            for a, b in ((j, jm), (dj, djm), (y, ym), (dy, dym)):
                assert abs(a / b - 1) < mpmath.mpf("1e-25")
    roots = cache.load()["roots"]
    for pol, seed in (("Ez", "14.5414586035"), ("Hz", "14.5477953386")):
        entry = roots[cache.key("paper", pol, 600, seed)]
        k = ref.find_real_root(*PAPER, pol, 600, seed, rel_bracket=1e-9)
        with mpmath.workdps(30):
            assert abs(k / mpmath.mpf(entry["k_re"]) - 1) < 1e-15
        fractions, q = ref.energy_fractions(*PAPER, pol, 600, k, with_q=True)
        assert abs(float(q) / float(entry["Q"]) - 1) < 1e-6
        for name, value in entry["fractions"].items():
            assert abs(float(fractions[name]) - value) < 1e-8


@pytest.mark.parametrize("pol,m", [("Ez", 1000), ("Ez", 2000), ("Ez", 5000), ("Hz", 5000)])
def test_q_and_labels_of_high_q_core_modes(pol, m):
    """Core modes with Q 1e22 - 1e128: the wavelength, the energy fractions and Q, which needs the
    field at the surface, up to e^-150 below its peak. From m ~ 1500 the root lies within machine
    precision of a pole; at m = 1000 the outward-built field at the surface already moves by ~1e-6
    when k moves by one rounding unit. The first case also checks the reference itself
    (:func:`check_reference`)."""
    if m == 1000:
        check_reference()
    md = wgmfem_mode(PAPER, pol, m)
    fractions, q, bracketed = reference_at(PAPER, pol, m, md.k.real)
    assert bracketed, f"no root of the reference within {K_BRACKET:g} of k = {md.k.real!r}"
    assert_fractions(md, fractions)
    assert 1e20 < float(q) < 1e300
    assert abs(md.Q_rad / float(q) - 1) < Q_TOL


@pytest.mark.parametrize("key", ["paper|Ez|m=600|seed=14.5414586035", "paper|Hz|m=600|seed=14.5477953386",
                                 "paper|Ez|m=597|seed=14.4696007573"])
def test_q_at_m600_against_the_complex_determinant_roots(key):
    """Q ~ 1e12 to 1e-11 of the 30-digit complex roots of the full 2N x 2N determinant."""
    entry = cache.load()["roots"][key]
    md = wgmfem_mode(PAPER, entry["pol"], entry["m"])
    with mpmath.workdps(34):
        q_ref = mpmath.mpf(entry["k_re"]) / (2 * abs(mpmath.mpf(entry["k_im"])))
    assert abs(md.k.real / float(mpmath.mpf(entry["k_re"])) - 1) < 1e-15
    assert abs(md.Q_rad / float(q_ref) - 1) < 1e-11


def test_m30000_capillary_core_mode():
    """m = 30000: wavelength and energy fractions against the reference; Q ~ 1e833 is beyond the
    double range, so Q_rad is +inf (null in JSON)."""
    md = wgmfem_mode(PAPER, "Ez", 30000)
    fractions, q, bracketed = reference_at(PAPER, "Ez", 30000, md.k.real)
    assert bracketed, f"no root of the reference within {K_BRACKET:g} of k = {md.k.real!r}"
    assert_fractions(md, fractions)
    assert (md.region, md.p) == ("core", 1) and md.verification["census_ok"]
    assert mpmath.log10(q) > 800 and md.Q_rad == math.inf


def test_m30000_field_profile():
    """The radial field across the core/wall interface, where it falls by 1e-45 within 0.3 um
    into the wall, against the reference field (both scaled to 1 at the interface)."""
    md = wgmfem_mode(PAPER, "Ez", 30000)
    radii = [26.95, 26.99, 27.0, 27.05, 27.3]
    expected = ref.field_values(*PAPER, "Ez", 30000, mpmath.mpf(md.k.real), radii)
    got = md.field(np.array(radii))
    assert np.all(np.isfinite(got))
    for r, e, g in zip(radii, expected, got):
        ratio_ref = float(e / expected[2])
        ratio = (g / got[2]).real
        assert abs(ratio - ratio_ref) <= 1e-7 * abs(ratio_ref) + 1e-300, r
    assert float(abs(expected[-1] / expected[2])) < 1e-40
    assert 0 < md.effective_area_um2 < 100


def _strict_json(text):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_cli_at_m50000(fmt, capsys):
    """`wgmfem modes --m 50000 --p 1 --pol Ez`: exit 0, finite energy fractions summing to 1, a
    finite effective area; Q_rad infinite, written empty (CSV) or null (JSON), never nan."""
    code = main(["modes", "--m", "50000", "--p", "1", "--pol", "Ez", "--no-fsr", "--format", fmt, "--quiet"])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err
    assert "nan" not in out.lower()
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out)))
        assert len(rows) == 1
        row = rows[0]
        assert row["Q_rad"] == ""
        fractions = [float(row[c]) for c in ("core_fraction", "wall_fraction", "outside_fraction")]
        area = float(row["effective_area_um2"])
    else:
        (row,) = _strict_json(out)
        assert row["Q_rad"] is None
        fractions = [row[c] for c in ("core_fraction", "wall_fraction", "outside_fraction")]
        area = row["effective_area_um2"]
    assert all(isinstance(f, float) and 0 <= f <= 1 for f in fractions)
    assert abs(sum(fractions) - 1) < 1e-12 and fractions[0] > 0.999
    assert 0 < area < 100


WATER_OUTSIDE = ((27.0, 39.0), (1.56, 1.47), 1.33)  # no barrier at the outer surface: roots from the seed grid


@pytest.mark.parametrize("pol", ["Ez", "Hz"])
def test_seed_grid_roots_are_labelled_from_the_stitched_field(pol):
    """In water the paper capillary's m = 3000 core modes are found by the seed-grid search; their
    field built from the centre cannot hold the outer layers (it would label them wall p = 177 and
    the core lookup would fail). Labels and fractions against the 30-digit reference at the root."""
    md = wgmfem_mode(WATER_OUTSIDE, pol, 3000)
    assert (md.region, md.p) == ("core", 1) and md.verification["census_ok"]
    k = ref.find_real_root(*WATER_OUTSIDE, pol, 3000, repr(md.k.real), rel_bracket=1e-9)
    with mpmath.workdps(30):
        assert abs(mpmath.mpf(md.k.real) / k - 1) < 2e-15
    assert_fractions(md, ref.energy_fractions(*WATER_OUTSIDE, pol, 3000, k))


# --------------------------------------------------------------------------- slow: higher still
@pytest.mark.slow
@pytest.mark.parametrize(
    "geometry,pol,m",
    [(PAPER, "Hz", 30000), (ROD, "Ez", 30000), (PAPER, "Ez", 100000)],
    ids=["paper-Hz-30000", "rod50-Ez-30000", "paper-Ez-100000"],
)
def test_high_orders_against_the_reference(geometry, pol, m):
    """Reference root found from scratch (not only bracketed) and the fractions (~30-60 s each);
    at m = 30000 the reference's Bessel functions are first checked against mpmath's series
    (which needs ~7000-bit arithmetic there, ~30 s per Y)."""
    if m == 30000 and geometry == PAPER:
        with mpmath.workdps(30):
            x = mpmath.mpf("29950.5")
            j, _, y, _ = ref.bessel_jy(30000, x)
            opts = dict(maxterms=10**6, maxprec=200000)
            assert abs(j / mpmath.besselj(30000, x, **opts) - 1) < mpmath.mpf("1e-25")
            assert abs(y / mpmath.bessely(30000, x, **opts) - 1) < mpmath.mpf("1e-25")
    md = wgmfem_mode(geometry, pol, m)
    k = ref.find_real_root(*geometry, pol, m, repr(md.k.real), rel_bracket=1e-9)
    with mpmath.workdps(30):
        assert abs(mpmath.mpf(md.k.real) / k - 1) < 2e-15
    fractions, q = ref.energy_fractions(*geometry, pol, m, k, with_q=True)
    assert_fractions(md, fractions)
    assert mpmath.log10(q) > 308 and md.Q_rad == math.inf
