"""Property-based tests: wgmfem's exact census against an independent reference census.

Random fibres (hypothesis; tests/reference/census_compare.py:cases): two-layer capillaries with
inner/outer diameters 5-150 um (thin, medium and thick walls), core index above or below the
wall's (contrast 1e-4..0.2), outside 1.0 or 1.33, and three-layer stacks; the liquid lossless,
absorbing (kappa 1e-9..1e-2) or amplifying (kappa -1e-6..-1e-9); one polarization; a window of
0.05 to a few free spectral ranges at 400-1600 nm, chosen so that the largest azimuthal number
stays below a cap.  The reference (tests/reference/independent_census.py) counts every
(pol, m) box by the argument principle on the full boundary-matching determinant and shares no
code or formulation with wgmfem.

Checks (tolerances and their reasons in census_compare.py):

1. every census mode is one independent root: wavelength 1e-10 relative, Q_total (signed) 1e-6
   relative for |Q| <= 1e9, Im k within 5e-16 |k| above;
2. no independent root with |Q| >= 1.05 max(q_min, q_floor) is missing;
3. (pol, m, nodes) is unique in a result (``Mode.nodes``: zeros of the field in the fibre);
4. looking a census mode up by (pol, m, p, region) finds the same resonance;
5. the core census (region="core", p <= P) is the full census filtered.

Profiles: ``small`` runs by default (WGMFEM_PROPERTY_SMALL_EXAMPLES examples per test, default 6,
plus one explicit example each; m <= 60; derandomized, so CI is reproducible; ~15 s on a healthy
engine, < 60 s in all); ``long`` (marked slow, ``-m slow``) runs WGMFEM_PROPERTY_EXAMPLES examples
(default 200) with m <= 400, after two paper-size explicit examples.  Statistics of a long run:
``python tests/reference/census_compare.py --examples 500``.  Nothing is cached on disk by these
tests (no hypothesis example database; hypothesis may still keep its self-ignored .hypothesis/
constants cache and, after a failure, a patch file there).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, example, given, settings  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import census_compare as cc  # noqa: E402

_COMMON = dict(
    deadline=None,
    database=None,  # cache nothing to disk
    derandomize=True,
    # no shrinking: every example costs seconds; the failure message carries a one-line reproducer
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.register_profile("wgmfem-census-small", max_examples=int(os.environ.get("WGMFEM_PROPERTY_SMALL_EXAMPLES", "6")), **_COMMON)
settings.register_profile("wgmfem-census-long", max_examples=int(os.environ.get("WGMFEM_PROPERTY_EXAMPLES", "200")), **_COMMON)
SMALL = settings.get_profile("wgmfem-census-small")
LONG = settings.get_profile("wgmfem-census-long")

SMALL_M_CAP, SMALL_FSR = cc.PROFILES["small"]
LONG_M_CAP, LONG_FSR = cc.PROFILES["long"]


# Explicit examples (run before the generated ones): cases where the engine of commit 033ab69 failed.
#: gain liquid: Q_total must be negative for a growing resonance (it was +7.7e6 for Q = -7.7e6)
GAIN = cc.Case((17.6231, 17.8011), (1.457097 - 1.02e-07j, 1.529101 + 0j), 1.0, "Hz", (1477.63016, 1486.16217), 100.0, "gain")
#: region="core", p=(1, 2) lacked Ez m=75 p=2 and m=80 p=1, which the full census labels core
CORE_FILTER = cc.Case((12.1087, 12.65), (1.521074 + 0j, 1.558645 + 0j), 1.0, "Ez", (1297.82657, 1304.66048), 1000.0, "lossless", 1)
#: the paper's capillary with an absorbing liquid: Ez m=600 p=1 (432.08769 nm, Q_total 8249) was
#: missing; find_modes(pol="Ez", m=600, p=1) returned the wall mode at 432.8326 nm (Q 3.4e7)
PAPER_ABSORBING = cc.Case((27.0, 39.0), (1.56 + 1e-4j, 1.47 + 0j), 1.0, "Ez", (432.0, 432.3), 20.0, "absorbing", 3)
#: thin wall 54/54.2 um: region="core", p=(1, 2) lacked Ez m=599 p=1 at 432.298607 nm
THIN_WALL = cc.Case((27.0, 27.1), (1.56 + 0j, 1.47 + 0j), 1.0, "Ez", (432.0, 433.0), 100.0, "lossless", 3)


def _check(case, checks):
    rep = cc.compare(case, checks=checks)
    assert rep.ok, "\n" + rep.summary()


@SMALL
@given(cc.cases(m_cap=SMALL_M_CAP, max_fsr=SMALL_FSR))
@example(GAIN)
def test_census_modes_are_independent_roots_and_none_is_missing(case):
    """Checks 1 and 2 (against the independent reference census)."""
    _check(case, ("match", "missing"))


@SMALL
@given(cc.cases(m_cap=SMALL_M_CAP, max_fsr=SMALL_FSR))
@example(CORE_FILTER)
def test_labels_unique_lookups_consistent_core_filter_complete(case):
    """Checks 3, 4 and 5 (wgmfem against itself: one census, two lookups, one core census)."""
    _check(case, ("labels", "lookup", "region"))


@pytest.mark.slow
@LONG
@given(cc.cases(m_cap=LONG_M_CAP, max_fsr=LONG_FSR))
@example(PAPER_ABSORBING)
@example(THIN_WALL)
def test_long_profile_all_checks(case):
    """Checks 1-5 on the long profile (hundreds of examples, m up to 400)."""
    _check(case, cc.ALL_CHECKS)
