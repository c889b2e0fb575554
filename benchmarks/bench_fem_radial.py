"""Benchmark of the 1-D radial FEM against exact resonances.

Run: ``python benchmarks/bench_fem_radial.py [--quick]``

For the paper capillary (radii 27 / 39 um, n 1.56 / 1.47, air; m = 600, Ez/Hz, p = 1, 2)
and a rod (radius 3 um, n 1.56, air; m = 25 and 50) it prints, for several element orders
and resolutions: unknowns, wall time (best of 3 warm runs), peak traced memory
(tracemalloc, Python + numpy allocations), the relative wavelength error and the relative
Q error against the reference. References: ``wgmfem.find_modes`` (exact solver) when
available, otherwise the mpmath reference of the tests (capillary) and the rod
characteristic equation solved with scipy (rod).
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy.optimize import newton
from scipy.special import h1vp, hankel1, jv, jvp

import wgmfem
from wgmfem.fem import solve_radial
from wgmfem.geometry import Capillary, Rod

ROOT = Path(__file__).resolve().parents[1]


def rod_reference(rod, pol, m, k_guess):
    """Rod resonance from n J'(nka) H(ka) = J(nka) H'(ka) (Ez) or J' H = n J H' (Hz)."""
    n, a = rod.indices[0], rod.radii_um[0]

    def f(k):
        x, y = n * k * a, k * a
        if pol == "Ez":
            return n * jvp(m, x) * hankel1(m, y) - jv(m, x) * h1vp(m, y)
        return jvp(m, x) * hankel1(m, y) - n * jv(m, x) * h1vp(m, y)

    return complex(newton(f, complex(k_guess), tol=1e-15, maxiter=100))


def exact_reference(cyl, pol, m, p, k_guess):
    """(k, source) of the core mode (pol, m, p): exact solver if present, else mpmath."""
    find_modes = getattr(wgmfem, "find_modes", None)
    if find_modes is not None:
        modes = find_modes(cyl, pol=pol, m=m, p=p, region="core")
        mode = modes[0] if isinstance(modes, (list, tuple)) else modes
        return complex(mode.k), "wgmfem.find_modes"
    sys.path.insert(0, str(ROOT / "tests"))
    from reference.mpmath_cylinder import find_root

    return complex(find_root(cyl.radii_um, cyl.indices, cyl.outside_index, pol, m, k_guess)), "mpmath reference"


def measure(cyl, pol, m, k_ref, order, ppw):
    """Solve near Re k_ref; return the row of the table."""
    kw = dict(num_modes=4, order=order, points_per_wavelength=ppw)
    solve_radial(cyl, pol, m, k_ref.real, **kw)  # warm-up
    times = []
    for _ in range(3):
        t = time.perf_counter()
        res = solve_radial(cyl, pol, m, k_ref.real, **kw)
        times.append(time.perf_counter() - t)
    tracemalloc.start()
    solve_radial(cyl, pol, m, k_ref.real, **kw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    i = int(np.argmin(np.abs(res.k - k_ref)))
    q_ref = k_ref.real / (2 * abs(k_ref.imag))
    return dict(
        unknowns=res.num_unknowns,
        time_s=min(times),
        peak_mb=peak / 2**20,
        err_lambda=abs(k_ref.real / res.k[i].real - 1),
        q_ref=q_ref,
        err_q=abs(res.Q[i] / q_ref - 1),
    )


def print_table(title, rows):
    print(f"\n{title}")
    print(f"{'order':>5} {'ppw':>4} {'unknowns':>8} {'time ms':>8} {'peak MB':>8} {'dlambda/lambda':>15} {'Q ref':>10} {'dQ/Q':>9}")
    for (order, ppw), r in rows:
        print(
            f"{order:>5} {ppw:>4} {r['unknowns']:>8} {1e3 * r['time_s']:>8.1f} {r['peak_mb']:>8.2f} "
            f"{r['err_lambda']:>15.1e} {r['q_ref']:>10.3e} {r['err_q']:>9.1e}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="default order/resolution only")
    args = parser.parse_args(argv)
    grid = [(4, 40)] if args.quick else [(3, 24), (4, 16), (4, 24), (4, 40), (5, 24), (6, 24)]

    paper = Capillary()
    for pol in ("Ez", "Hz"):
        guess = solve_radial(paper, pol, 600, 2 * math.pi / 0.432, num_modes=30)
        for p in (1, 2):
            cands = [i for i in range(guess.num_modes) if guess.region[i] == "core" and guess.radial_order(i) == p]
            k_ref, source = exact_reference(paper, pol, 600, p, guess.k[cands[0]])
            rows = [((o, n), measure(paper, pol, 600, k_ref, o, n)) for o, n in grid]
            lam = 2e3 * math.pi / k_ref.real
            print_table(f"paper capillary {pol} m=600 p={p}: lambda = {lam:.6f} nm (reference: {source})", rows)

    rod = Rod(3.0, 1.56)
    for pol in ("Ez", "Hz"):
        for m in (25, 50):
            guess = solve_radial(rod, pol, m, m / (1.4 * 3.0), num_modes=4)
            k_ref = rod_reference(rod, pol, m, guess.k[guess.physical()[0]])
            rows = [((o, n), measure(rod, pol, m, k_ref, o, n)) for o, n in grid]
            print_table(f"rod r=3 um n=1.56 {pol} m={m}: lambda = {2e3 * math.pi / k_ref.real:.6f} nm (reference: rod equation)", rows)

    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS (all runs, includes the Python/numpy/scipy runtime): {maxrss_mb:.0f} MB")


if __name__ == "__main__":
    main()
