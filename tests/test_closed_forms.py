"""Closed-form limits of the layered-cylinder problem, checked on wgmfem's public API.

(a) A homogeneous rod: the characteristic equation is the single-interface condition
    Ez:  n1 J_m'(n1 k a) H_m(n0 k a) - n0 J_m(n1 k a) H_m'(n0 k a) = 0
    Hz:  J_m'(n1 k a) H_m(n0 k a) / n1 - J_m(n1 k a) H_m'(n0 k a) / n0 = 0
    written out here with mpmath (independently of tests/reference); wgmfem's roots must be its
    roots (1e-10 in k, 1 % in Q), and the radial order is the number of zeros j'_{m,s} of J_m'
    below n1 Re(k) a (maxima of |J_m| in the rod).
(b) Core against an infinite wall: a capillary (or stack) whose outermost layer has the outside
    index is the structure without that layer: same roots to 1e-12.
(c) Splitting a layer into two layers of the same index changes nothing: same roots to 1e-12.
(d) The perfect-conductor limit is not tested: it needs a complex/very large index and a limit
    that is not clean in a real-index solver.
"""

from __future__ import annotations

import math

import mpmath
import pytest

import wgmfem  # noqa: E402  (the package under test: a missing API must fail, not skip)

POLS = ("Ez", "Hz")


def rod_function(n1, n0, a, pol, m, k):
    x = k * a
    j = mpmath.besselj(m, n1 * x)
    jd = mpmath.besselj(m, n1 * x, derivative=1)
    h = mpmath.hankel1(m, n0 * x)
    # H1' = (H1_{m-1} - H1_{m+1}) / 2
    hd = (mpmath.hankel1(m - 1, n0 * x) - mpmath.hankel1(m + 1, n0 * x)) / 2
    if pol == "Ez":
        return n1 * jd * h - n0 * j * hd
    return jd * h / n1 - j * hd / n0


def rod_root(n1, n0, a, pol, m, k_start, dps=30):
    with mpmath.workdps(dps):
        k0 = mpmath.mpc(k_start)
        return mpmath.findroot(
            lambda k: rod_function(n1, n0, a, pol, m, k),
            (k0, k0 * (1 + mpmath.mpf("1e-9"))),
            solver="secant",
            tol=mpmath.mpf(10) ** (-(dps - 3)),
            verify=False,
        )


def maxima_in_rod(n1, a, m, k_re):
    """Number of zeros of J_m' in (0, n1 k a): maxima of |J_m(n1 k r)| for 0 < r < a."""
    x = n1 * k_re * a
    s = 0
    while mpmath.besseljzero(m, s + 1, derivative=1) < x:
        s += 1
    return s


def one_mode(cyl, pol, m, p, region="core"):
    modes = wgmfem.find_modes(cyl, pol=pol, m=m, p=p, region=region)
    assert len(modes) == 1, [(md.wavelength_nm, md.Q_rad, md.region, md.p) for md in modes]
    return modes[0]


def census_near(cyl, pol, m, k, rel_halfwidth):
    lam = 2 * math.pi / k.real * 1000
    window = (lam * (1 - rel_halfwidth), lam * (1 + rel_halfwidth))
    # q_min=1: the census must also list the low-Q modes the comparison asks for (Q ~ 40)
    return wgmfem.find_modes(cyl, pol=pol, wavelength_nm=window, m=(m, m), q_min=1.0)


# --------------------------------------------------------------------------- (a) rod
RODS = [
    # (radius um, n1, n0, m, p values)
    (3.0, 1.56, 1.0, 45, (1, 2, 3)),
    (5.0, 1.60, 1.33, 90, (1, 2)),
]


@pytest.mark.parametrize("pol", POLS)
@pytest.mark.parametrize("a,n1,n0,m,ps", RODS, ids=[f"rod{r[0]}-n{r[1]}-in{r[2]}-m{r[3]}" for r in RODS])
def test_rod_single_interface_equation(a, n1, n0, m, ps, pol):
    rod = wgmfem.LayeredCylinder(radii_um=(a,), indices=(n1,), outside_index=n0)
    for p in ps:
        mode = one_mode(rod, pol, m, p)
        k_c = rod_root(n1, n0, a, pol, m, mode.k)
        with mpmath.workdps(30):
            moved = abs(mpmath.mpc(mode.k) - k_c) / abs(k_c)
            q_c = mpmath.re(k_c) / (2 * abs(mpmath.im(k_c)))
        assert moved < 1e-10, (p, mode.k, k_c)
        assert abs(mode.Q_rad / float(q_c) - 1) < 0.01, (p, mode.Q_rad, q_c)
        assert mode.p == p == maxima_in_rod(n1, a, m, mpmath.re(k_c))
        assert mode.region == "core"


# --------------------------------------------------------------------------- (b) infinite wall
INFINITE_WALL = [
    # (label, layered structure whose last layer has the outside index, structure without it, m, ps)
    ("paper-core-in-glass", dict(radii=(27.0, 39.0), indices=(1.56, 1.47), n_out=1.47),
     dict(radii=(27.0,), indices=(1.56,), n_out=1.47), 600, (1,)),
    ("small-core-in-water", dict(radii=(5.0, 7.0), indices=(1.56, 1.33), n_out=1.33),
     dict(radii=(5.0,), indices=(1.56,), n_out=1.33), 100, (1, 2)),
    ("stack-layer3-is-outside", dict(radii=(10.0, 12.0, 14.0), indices=(1.45, 1.6, 1.33), n_out=1.33),
     dict(radii=(10.0, 12.0), indices=(1.45, 1.6), n_out=1.33), 200, (1,)),
]


def _layered(g):
    return wgmfem.LayeredCylinder(radii_um=g["radii"], indices=g["indices"], outside_index=g["n_out"])


@pytest.mark.parametrize("pol", POLS)
@pytest.mark.parametrize("label,full,reduced,m,ps", INFINITE_WALL, ids=[c[0] for c in INFINITE_WALL])
def test_outer_layer_with_outside_index_changes_nothing(label, full, reduced, m, ps, pol):
    region = "core" if len(reduced["radii"]) == 1 else "wall"
    for p in ps:
        mode_r = one_mode(_layered(reduced), pol, m, p, region)
        modes_f = census_near(_layered(full), pol, m, mode_r.k, 1e-6)
        assert len(modes_f) == 1, (p, mode_r.k, [md.k for md in modes_f])
        assert abs(modes_f[0].k - mode_r.k) <= 1e-12 * abs(mode_r.k), (p, modes_f[0].k, mode_r.k)
        assert modes_f[0].Q_rad == pytest.approx(mode_r.Q_rad, rel=0.01)
        if len(reduced["radii"]) == 1:  # and both are the single-interface root
            k_c = rod_root(reduced["indices"][0], reduced["n_out"], reduced["radii"][0], pol, m, mode_r.k)
            assert abs(complex(k_c) - mode_r.k) <= 1e-10 * abs(mode_r.k)
            assert mode_r.Q_rad == pytest.approx(float(mpmath.re(k_c) / (2 * abs(mpmath.im(k_c)))), rel=0.01)


# --------------------------------------------------------------------------- (c) split layers
SPLITS = [
    # (label, structure, same structure with a layer split in two, m, wavelength window nm)
    ("rod-split-core", dict(radii=(3.0,), indices=(1.56,), n_out=1.0),
     dict(radii=(1.7, 3.0), indices=(1.56, 1.56), n_out=1.0), 45, (470.0, 600.0)),
    ("paper-split-core", dict(radii=(27.0, 39.0), indices=(1.56, 1.47), n_out=1.0),
     dict(radii=(20.0, 27.0, 39.0), indices=(1.56, 1.56, 1.47), n_out=1.0), 600, (431.0, 433.0)),
    ("paper-split-wall", dict(radii=(27.0, 39.0), indices=(1.56, 1.47), n_out=1.0),
     dict(radii=(27.0, 33.0, 39.0), indices=(1.56, 1.47, 1.47), n_out=1.0), 600, (431.0, 433.0)),
]


@pytest.mark.parametrize("pol", POLS)
@pytest.mark.parametrize("label,whole,split,m,window", SPLITS, ids=[c[0] for c in SPLITS])
def test_splitting_a_layer_changes_nothing(label, whole, split, m, window, pol):
    a = sorted(wgmfem.find_modes(_layered(whole), pol=pol, wavelength_nm=window, m=(m, m)), key=lambda md: md.k.real)
    b = sorted(wgmfem.find_modes(_layered(split), pol=pol, wavelength_nm=window, m=(m, m)), key=lambda md: md.k.real)
    assert a, "no modes in the window"
    assert len(a) == len(b), ([md.k for md in a], [md.k for md in b])
    for ma, mb in zip(a, b):
        assert abs(ma.k - mb.k) <= 1e-12 * abs(ma.k), (ma.k, mb.k)
        assert mb.Q_rad == pytest.approx(ma.Q_rad, rel=0.01)
