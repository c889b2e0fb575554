"""Mode assignment: accuracy on random spectra and time per assignment.

    python benchmarks/bench_assign.py [--trials N] [--first SEED]

Draws N random spectra (benchmarks/assign_trials.py: exact modes of a capillary whose bore is
within +-1.9 % of the nominal 54 um, one or two polarizations, p = 1 or 1:2, 6-12 peaks,
position noise 0.002-0.02 nm, 0-2 missing modes, 0-2 spurious peaks; sigma stated in 80 % of
the trials, estimated otherwise), assigns each and prints how often the bore lies within
3 sigma of the truth, every label is right and every spurious peak unassigned, the verdicts,
and the time per assignment (median and 90th percentile, by family set); then the time and
peak Python heap of one 10-peak assignment (two polarizations, p = 1, sigma stated).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.assign_trials import run, summary  # noqa: E402


def ten_peaks() -> None:
    from wgmfem.assign import assign_peaks
    from wgmfem.geometry import Capillary
    from wgmfem.solve import find_modes

    modes = find_modes(Capillary(54.3), pol="both", wavelength_nm=(436, 439.6), p=1, region="core", fsr=False)[:10]
    modes.sort(key=lambda md: md.wavelength_nm)
    peaks = np.array([md.wavelength_nm for md in modes]) + np.random.default_rng(0).normal(0, 0.003, len(modes))
    assign_peaks(peaks, Capillary(54.0), sigma_nm=0.003)  # warm-up (imports, caches)
    tracemalloc.start()
    start = time.perf_counter()
    result = assign_peaks(peaks, Capillary(54.0), sigma_nm=0.003)
    seconds = time.perf_counter() - start
    peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    d = result.to_dict()
    right = all((pk["pol"], pk["m"], pk["p"]) == (md.pol, md.m, md.p) for pk, md in zip(d["peaks"], modes))
    print(f"10 peaks (Ez+Hz, p=1, sigma 0.003 nm): {seconds:.2f} s, peak Python heap {peak_mb:.1f} MB; "
          f"labels right: {right}; D = {d['fit']['inner_diameter_um']['value']:.5f} um (true 54.3); {d['verdict'][:60]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--first", type=int, default=0)
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    ten_peaks()
    trials = []
    for seed in range(args.first, args.first + args.trials):
        trials.append(run(seed))
        print(f"\r{len(trials)}/{args.trials} trials", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(summary(trials))
    for name, pick in (("p=1", lambda t: t.p == (1, 1)), ("p=1:2", lambda t: t.p == (1, 2))):
        secs = np.array([t.seconds for t in trials if pick(t)])
        if secs.size:
            print(f"time per assignment, {name}: median {np.median(secs):.1f} s, 90 % {np.quantile(secs, 0.9):.1f} s ({secs.size} trials)")


if __name__ == "__main__":
    main()
