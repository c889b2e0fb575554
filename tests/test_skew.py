"""Skew resonances (axial wavevector beta != 0) of wgmfem against an independent mpmath reference.

The reference (tests/reference/skew_mpmath.py) solves the full 4N x 4N matching of
(Ez, Hz, E_phi, H_phi) at every interface in mpmath, without importing wgmfem.  Its roots are
cached in tests/reference/skew_roots.json (made by tests/reference/make_skew_roots.py: each
family continued in beta from its beta = 0 root, every root verified at 50 digits and stable at
70); the slow test ``test_cache_is_honest`` recomputes them.

Tolerances: wavelength 1e-10 relative, Q 1 % (skew roots); k 1e-14 relative and Q 1e-6
(beta = 0 against the cross-section solver); axial curvature 1e-6 relative.
The only number written here is a known value checked against the *reference*: the paper
capillary's p = 1, m = 600 curvature alpha = Re[(k(beta)^2 - k(0)^2) / beta^2] = 0.4085
(quasi-Ez) and 0.4189 (quasi-Hz) for beta = 0.1 .. 0.3 /um.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import make_skew_roots as cases  # noqa: E402
from reference import skew_mpmath as sk  # noqa: E402

REL_WAVELENGTH_TOL = 1e-10
Q_REL_TOL = 0.01
BETA0_REL_K_TOL = 1e-14
BETA0_Q_REL_TOL = 1e-6
ALPHA_REL_TOL = 1e-6

# the skew cases: (family, beta); those in SLOW are left out of the default run
SKEW_CASES = [
    ("rod-Ez", "0.5"),
    ("rod-Ez", "2"),
    ("rod-Hz", "0.5"),
    ("rod-Hz", "2"),
    ("small-core-Ez", "0.3"),
    ("small-core-Ez", "1"),
    ("small-core-Hz", "0.3"),
    ("small-core-Hz", "1"),
    ("small-wall-Ez", "0.3"),
    ("small-wall-Ez", "1"),
    ("small-wall-Hz", "0.3"),
    ("small-wall-Hz", "1"),
    ("paper-Ez", "0.2"),
    ("paper-Ez", "0.5"),
    ("paper-Ez", "1"),
    ("paper-Hz", "0.2"),
    ("paper-Hz", "0.5"),
    ("paper-Hz", "1"),
    ("paper_abs-Ez", "0.5"),
    ("paper_abs-Hz", "0.5"),
]
SLOW: set[tuple[str, str]] = set()  # the engine takes < 1 s per case (m = 600 included): none so far
# families whose mode is a leaky core/wall hybrid (two resonances carry the label core p = 1)
HYBRID = {"small-core-Ez", "small-core-Hz"}


def case_id(case):
    return f"{case[0]}-beta{case[1]}"


# --------------------------------------------------------------------------- reference side
@functools.cache
def _cache():
    return cases.load()


def ref_k(family: str, beta: str) -> mpmath.mpc:
    """Cached reference root (computed and verified from scratch when the cache lacks it)."""
    kk = cases.key(family, beta)
    roots = _cache()["roots"]
    if kk not in roots:
        roots.update(cases.compute_family(family))
    return cases.entry_k(roots[kk])


def ref_alpha(family: str, beta: str) -> float:
    """Re[(k(beta)^2 - k(0)^2) / beta^2] from the reference roots."""
    with mpmath.workdps(40):
        k0, kb = ref_k(family, "0"), ref_k(family, beta)
        return float(mpmath.re((kb * kb - k0 * k0) / mpmath.mpf(beta) ** 2))


def _ref_quotient_fit(family: str) -> np.ndarray:
    """(a0, c, d) of the difference quotients a(beta) = a0 + c beta^2 + d beta^4 through the
    family's first three nonzero betas (0.1, 0.2 and 0.3 or 0.5)."""
    betas = [b for b in cases.FAMILIES[family][6].split() if float(b) > 0][:3]
    x = [float(b) ** 2 for b in betas]
    y = [ref_alpha(family, b) for b in betas]
    return np.linalg.solve([[1.0, xi, xi * xi] for xi in x], y)


def ref_alpha0(family: str) -> float:
    """d(k^2)/d(beta^2) at beta = 0: the difference quotients a(beta) at the family's first three
    nonzero betas extrapolated to beta = 0 (what remains is O(beta^6): ~1e-10 relative here)."""
    return float(_ref_quotient_fit(family)[0])


def ref_quartic0(family: str) -> float:
    """eta of k^2 = k0^2 + alpha beta^2 + eta beta^4 + ...: the beta^2 coefficient of the same fit
    (what remains is O(beta^4) of eta: the fit on the next three betas differs by 9e-5 - 2e-3,
    so this one, on betas 2-5x smaller, is good to ~1e-4)."""
    return float(_ref_quotient_fit(family)[1])


def q_of(k) -> float:
    k = complex(k)
    return k.real / (2 * abs(k.imag))


# --------------------------------------------------------------------------- engine side
def cylinder(geometry: str):
    import wgmfem

    if geometry == "rod":
        return wgmfem.Rod(5.0, 1.45)
    if geometry == "small":
        return wgmfem.Capillary(8.0, 9.8, 1.50, 1.45)
    if geometry == "paper":
        return wgmfem.Capillary()  # the default is the paper's capillary
    if geometry == "paper_abs":
        return wgmfem.Capillary(core_index=1.56 + 1e-6j)
    raise KeyError(geometry)


@functools.cache
def _engine(family: str, beta: float | None):
    """find_modes for the family's label at ``beta`` (None: the cross-section solver without
    beta), remembered (with its exception) so that several tests share one run."""
    import wgmfem

    geometry, pol, m, region, p, _, _ = cases.FAMILIES[family]
    kw = {} if beta is None else {"beta_per_um": beta}
    try:
        return tuple(wgmfem.find_modes(cylinder(geometry), pol=pol, m=m, p=p, region=region, fsr=False, **kw)), None
    except Exception as exc:  # noqa: BLE001 - re-raised by engine_mode in every test using it
        return None, exc


def engine_mode(family: str, beta: float | None, near=None):
    """The engine's mode of the family: the first of its quasi-polarization, or for a hybrid
    family (two modes carry the label) the one nearest ``near``."""
    modes, exc = _engine(family, beta)
    if exc is not None:
        raise exc
    pol = cases.FAMILIES[family][1]
    same = [md for md in modes if md.pol == pol]
    assert same, f"{family} beta={beta}: no {pol} mode among {[(md.pol, md.k) for md in modes]}"
    if family in HYBRID and near is not None:
        return min(same, key=lambda md: abs(md.k - complex(near)))
    return same[0]


def _skew_module():
    return pytest.importorskip("wgmfem.exact.skew", reason="the skew engine (wgmfem/exact/skew.py) is not there yet")


# --------------------------------------------------------------------------- the reference itself
def test_reference_geometries_are_the_engines():
    """The reference's radii/indices are the wgmfem geometries the engine tests use."""
    for geometry, (radii, indices, n_out) in cases.GEOMETRIES.items():
        cyl = cylinder(geometry)
        assert tuple(cyl.radii_um) == pytest.approx(radii, rel=1e-15)
        assert [complex(n) for n in cyl.indices] == [complex(n) for n in indices]
        assert cyl.outside_index == n_out


@pytest.mark.parametrize("family", ["paper-Ez", "paper-Hz"])
def test_reference_curvature_known_value(family):
    """Known value (paper capillary, p = 1, m = 600): the reference's difference quotients
    Re[(k(beta)^2 - k(0)^2)/beta^2] for beta = 0.1 .. 0.3 are 0.4085 (quasi-Ez), 0.4189 (quasi-Hz)."""
    known = {"paper-Ez": 0.4085, "paper-Hz": 0.4189}[family]
    for beta in ("0.1", "0.2", "0.3"):
        assert ref_alpha(family, beta) == pytest.approx(known, abs=5e-5)


def test_reference_beta0_is_the_scalar_reference_root():
    """At beta = 0 the 4N x 4N system splits: the rod's skew-reference root at beta = 0 is a root
    of the older, scalar (Ez or Hz) mpmath reference, tests/reference/mpmath_cylinder.py."""
    from reference import mpmath_cylinder as scalar

    radii, indices, n_out = cases.GEOMETRIES["rod"]
    for family in ("rod-Ez", "rod-Hz"):
        pol = cases.FAMILIES[family][1]
        k = ref_k(family, "0")
        with mpmath.workdps(30):
            other = scalar.find_root(radii, indices, n_out, pol, 40, k, dps=30, check=False)
            assert abs(other - k) < mpmath.mpf(10) ** -25 * abs(k)


# --------------------------------------------------------------------------- beta = 0
@pytest.mark.parametrize("family", list(cases.FAMILIES))
def test_reference_beta0_matches_cross_section_solver(family):
    """The reference's beta = 0 root is the existing engine's Ez/Hz root: k to 1e-14, Q to 1e-6."""
    k_ref = complex(ref_k(family, "0"))
    k = engine_mode(family, None, near=k_ref).k
    assert abs(k - k_ref) < BETA0_REL_K_TOL * abs(k_ref)
    assert q_of(k) == pytest.approx(q_of(k_ref), rel=BETA0_Q_REL_TOL)


@pytest.mark.parametrize("family", list(cases.FAMILIES))
def test_beta_zero_is_the_cross_section_root(family):
    """find_modes(..., beta_per_um=0) gives the cross-section's own Ez/Hz resonances (engine vs engine)."""
    flat = engine_mode(family, None)
    zero = engine_mode(family, 0.0, near=flat.k)
    assert zero.pol == flat.pol and zero.m == flat.m and zero.p == flat.p and zero.region == flat.region
    assert zero.beta_per_um == 0
    assert abs(zero.k - flat.k) < BETA0_REL_K_TOL * abs(flat.k)


# --------------------------------------------------------------------------- skew roots
def _check_skew(family, beta):
    k_ref = ref_k(family, beta)
    md = engine_mode(family, float(beta), near=k_ref)
    geometry, pol, m, region, p, _, _ = cases.FAMILIES[family]
    assert md.beta_per_um == pytest.approx(float(beta), rel=0, abs=0)
    assert (md.pol, md.m) == (pol, m)  # the quasi-polarization continued from beta = 0
    lam_ref = float(sk.wavelength_nm(k_ref))
    assert abs(md.wavelength_nm - lam_ref) < REL_WAVELENGTH_TOL * lam_ref, (md.k, complex(k_ref))
    assert q_of(md.k) == pytest.approx(q_of(k_ref), rel=Q_REL_TOL), (md.k, complex(k_ref))
    return md


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=case_id(c), marks=[pytest.mark.slow] if c in SLOW else []) for c in SKEW_CASES],
)
def test_skew_root_matches_reference(case):
    _check_skew(*case)


@pytest.mark.parametrize("case", [("rod-Hz", "2"), ("small-wall-Ez", "1"), ("small-core-Hz", "0.3")], ids=case_id)
def test_skew_mode_bookkeeping(case):
    """verification names its method and a count; energy fractions sum to 1; beta is recorded."""
    md = _check_skew(*case)
    assert "method" in md.verification
    assert any("count" in key for key in md.verification), md.verification
    fr = md.energy_fractions
    assert set(fr) <= set(md.cylinder.names) | {"outside"}
    assert all(v >= -1e-9 for v in fr.values())
    assert sum(fr.values()) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("family", ["paper-Ez", "paper-Hz"])
def test_paper_skew_mode_bookkeeping(family):
    md = _check_skew(family, "0.5")
    assert "method" in md.verification and any("count" in key for key in md.verification)
    assert sum(md.energy_fractions.values()) == pytest.approx(1.0, abs=1e-6)
    assert md.energy_fractions["core"] > 0.9


@pytest.mark.parametrize(
    "case",
    [
        ("rod-Ez", "2"),
        ("rod-Hz", "0.5"),
        ("small-core-Ez", "1"),
        ("small-wall-Hz", "0.3"),
        ("paper-Ez", "0.5"),
        ("paper_abs-Hz", "0.5"),
    ],
    ids=case_id,
)
def test_skew_determinant_vanishes_at_reference_roots(case):
    """skew_determinant(cyl, m, k, beta) is vectorized over k and vanishes at the reference root:
    |D| there is far below |D| on a ring of radius 1e-7 |k| around it."""
    skew = _skew_module()
    family, beta = case
    geometry, _, m, _, _, _, _ = cases.FAMILIES[family]
    k_ref = complex(ref_k(family, beta))
    ring = k_ref + 1e-7 * abs(k_ref) * np.exp(2j * np.pi * np.arange(8) / 8)
    ks = np.concatenate([[k_ref], ring])
    d = np.asarray(skew.skew_determinant(cylinder(geometry), m, ks, float(beta)))
    assert d.shape == ks.shape
    assert np.all(np.isfinite(d))
    assert abs(d[0]) < 1e-3 * np.min(np.abs(d[1:])), np.abs(d)


def test_skew_determinant_vanishes_at_both_beta0_roots():
    """At beta = 0 the skew determinant vanishes at the Ez and at the Hz root (the system splits)."""
    skew = _skew_module()
    for family in ("rod-Ez", "rod-Hz"):
        k_ref = complex(ref_k(family, "0"))
        ring = k_ref + 1e-7 * abs(k_ref) * np.exp(2j * np.pi * np.arange(8) / 8)
        d = np.abs(np.asarray(skew.skew_determinant(cylinder("rod"), 40, np.concatenate([[k_ref], ring]), 0.0)))
        assert d[0] < 1e-3 * d[1:].min(), d


# --------------------------------------------------------------------------- axial curvature
@pytest.mark.parametrize("family", list(cases.FAMILIES))
def test_axial_curvature_matches_reference(family):
    """mode.axial_curvature = d(k^2)/d(beta^2) at beta = 0 against the reference's finite differences."""
    alpha_ref = ref_alpha0(family)
    k0 = complex(ref_k(family, "0"))
    md = engine_mode(family, None, near=k0)
    assert md.axial_curvature == pytest.approx(alpha_ref, rel=ALPHA_REL_TOL)
    zero = engine_mode(family, 0.0, near=k0)  # the beta = 0 skew lookup carries the same number
    assert zero.axial_curvature == pytest.approx(alpha_ref, rel=ALPHA_REL_TOL)


@pytest.mark.parametrize("family", list(cases.FAMILIES))
def test_axial_quartic_matches_reference(family):
    """eta (the beta^4 term of k(beta)^2) against the reference roots' fit: measured within 9.2e-5
    relative (the reference's own truncation, ~1e-4, dominates), Ez and Hz of opposite signs."""
    k0 = complex(ref_k(family, "0"))
    md = engine_mode(family, None, near=k0)
    eta = _skew_module().axial_quartic(md.cylinder, md.m, md.root_k, md.axial_curvature)
    assert eta == pytest.approx(ref_quartic0(family), rel=3e-4)


# --------------------------------------------------------------------------- the cache itself
@pytest.mark.slow
@pytest.mark.parametrize("family", list(cases.FAMILIES))
def test_cache_is_honest(family):
    """Every cached root of the family, recomputed from its seed by continuation (dps 40)."""
    radii, indices, n_out = cases.GEOMETRIES[cases.FAMILIES[family][0]]
    m, betas = cases.FAMILIES[family][2], cases.FAMILIES[family][6].split()
    k0 = sk.skew_root(radii, indices, n_out, m, 0, cases.seed_k(family), dps=40, verify=False)
    path = sk.continue_root(radii, indices, n_out, m, k0, [float(b) for b in betas], dps=40)  # betas as doubles
    for beta, k in zip(betas, path):
        cached = ref_k(family, beta)
        with mpmath.workdps(40):
            assert abs(k - cached) < mpmath.mpf(10) ** -30 * abs(cached), (family, beta)


# --------------------------------------------------------------------------- second reference (optional)
TREAMS_CASES = [
    ("rod-Ez", "2"),
    ("rod-Hz", "0.5"),
    ("rod-Ez", "0"),
    ("small-wall-Ez", "1"),
    ("small-wall-Hz", "0.3"),
    ("small-core-Ez", "1"),
    ("small-core-Hz", "0.3"),
]


def treams_pole(treams, family: str, beta: str, k_ref: complex, n: int = 9, span: float = 1.0) -> complex:
    """The pole of treams' T-matrix (cylindrical waves, kz = beta, helicity basis) near k_ref.

    treams takes real vacuum wavenumbers only, so the pole is fitted: on n real k within
    +-span |Im k_ref| of Re k_ref, every element of the 2x2 block of order m obeys
    T (k - p) = polynomial of degree 2 in k (a simple pole plus a smooth background), which is
    linear least squares in p and the polynomials' coefficients (shared p)."""
    radii, indices, n_out = cases.GEOMETRIES[cases.FAMILIES[family][0]]
    m = cases.FAMILIES[family][2]
    materials = [treams.Material(complex(n) ** 2) for n in indices] + [treams.Material(n_out**2)]
    kc, w = k_ref.real, abs(k_ref.imag)
    xs = np.linspace(-span, span, n)

    def block(k):
        tm = treams.TMatrixC.cylinder([float(beta)], m, k, list(radii), materials)
        sel = np.asarray(tm.basis.m) == m
        return np.asarray(tm)[np.ix_(sel, sel)].ravel()

    t = np.array([block(kc + w * x) for x in xs])  # (n, 4)
    rows, rhs = [], []
    for j in range(t.shape[1]):
        for i, x in enumerate(xs):  # T x = p' T + q0 + q1 x + q2 x^2 in x = (k - kc) / w
            row = np.zeros(1 + 3 * t.shape[1], complex)
            row[0] = t[i, j]
            row[1 + 3 * j : 4 + 3 * j] = (1, x, x * x)
            rows.append(row)
            rhs.append(t[i, j] * x)
    sol = np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]
    return kc + w * sol[0]


@pytest.mark.parametrize("case", TREAMS_CASES, ids=case_id)
def test_treams_t_matrix_pole_is_the_reference_root(case):
    """Independent of both wgmfem and skew_mpmath: the pole of treams' cylindrical T-matrix with
    kz = beta is the reference root, within 1e-4 of its half-linewidth |Im k|.
    (treams 0.4.7 needs scipy < 1.17: skipped where it does not import.)"""
    treams = pytest.importorskip("treams")
    k_ref = complex(ref_k(*case))
    p = treams_pole(treams, *case, k_ref)
    assert abs(p - k_ref) < 1e-4 * abs(k_ref.imag), (p, k_ref)


def test_lossless_skew_mode_far_under_the_barrier_has_no_gain():
    """At beta = 16 /um the paper's m = 600 mode leaks by tunnelling ~1e-240: the secant's
    Im k is rounding of either sign, and must not read as net gain (the first-order leak
    replaces it)."""
    import wgmfem

    md = wgmfem.find_modes(wgmfem.Capillary(), pol="Ez", m=600, p=1, fsr=False, beta_per_um=16.0)[0]
    assert md.k.imag <= 0
    assert md.Q_rad > 1e100 and not md.net_gain
