"""Skew modes and axial modes: accuracy against the independent mpmath reference, time, memory.

    python benchmarks/bench_axial.py

1. Skew roots: every cached mpmath root of tests/reference/skew_roots.json (full 4N x 4N
   boundary system at 50 digits, written by tests/reference/make_skew_roots.py) against
   ``find_modes(..., beta_per_um=beta)``: largest relative wavelength and Q differences, and the
   time per skew mode beside the time of the same beta = 0 lookup.
2. A skew census: the default window of ``wgmfem modes`` (425-445 nm, core, p 1-2, both
   polarizations) at beta = 0.5 /um, against the same census at beta = 0.
3. Axial modes of the paper's capillary with a 50 nm x 30 um Gaussian bulge (Ez, m = 600,
   p = 1, 5 states): time and peak Python heap.
4. Ten axial modes of a 480 um long profile (50 nm x 40 um Gaussian bulge, z over +-6 W): median
   time of 3 runs (target <= 1 s) and the check of the interpolated cutoff.
"""

from __future__ import annotations

import json
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import mpmath

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from reference import make_skew_roots as cases  # noqa: E402
from test_skew import cylinder  # noqa: E402 - the reference's geometries by name

import wgmfem  # noqa: E402


def skew_accuracy() -> None:
    data = json.loads((Path(__file__).resolve().parents[1] / "tests/reference/skew_roots.json").read_text())["roots"]
    worst_lambda = worst_q = 0.0
    skew_times, ratios = [], []
    for family, (geometry, pol, m, region, p, _, betas) in cases.FAMILIES.items():
        cyl = cylinder(geometry)
        wgmfem.find_modes(cyl, pol=pol, m=m, p=p, region=region, fsr=False)  # warm the caches
        flat_time = lookup_time(cyl, pol=pol, m=m, p=p, region=region, fsr=False)
        for beta in betas.split():
            if float(beta) == 0:
                continue
            entry = data.get(cases.key(family, beta))
            if entry is None:
                continue
            k_ref = complex(mpmath.mpc(entry["k_re"], entry["k_im"]))
            modes = wgmfem.find_modes(cyl, pol=pol, m=m, p=p, region=region, fsr=False, beta_per_um=float(beta))
            skew_times.append(lookup_time(cyl, pol=pol, m=m, p=p, region=region, fsr=False, beta_per_um=float(beta)))
            ratios.append(skew_times[-1] / flat_time)
            md = min(modes, key=lambda x: abs(x.k - k_ref))
            worst_lambda = max(worst_lambda, abs(k_ref.real / md.k.real - 1))
            q_ref = k_ref.real / (-2 * k_ref.imag)
            worst_q = max(worst_q, abs(md.Q_total / q_ref - 1))
    print(f"skew roots vs mpmath ({len(skew_times)} roots, {len(cases.FAMILIES)} families): "
          f"wavelength <= {worst_lambda:.1e}, Q <= {worst_q:.1e} relative")
    skew_times.sort()
    ratios.sort()
    print(f"time per skew lookup (m, p, beta; best of 3): median {1e3 * skew_times[len(skew_times) // 2]:.0f} ms, "
          f"max {1e3 * skew_times[-1]:.0f} ms; against the same beta = 0 lookup: median {ratios[len(ratios) // 2]:.2f}x, "
          f"max {ratios[-1]:.2f}x (target <= 2x)")


def lookup_time(cyl, **lookup) -> float:
    """The best of three runs of ``find_modes(cyl, **lookup)`` (s)."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        wgmfem.find_modes(cyl, **lookup)
        times.append(time.perf_counter() - start)
    return min(times)


def skew_census() -> None:
    window = dict(wavelength_nm=(425.0, 445.0), region="core", p=(1, 2), fsr=False)
    start = time.perf_counter()
    flat = wgmfem.find_modes(wgmfem.Capillary(), **window)
    t_flat = time.perf_counter() - start
    start = time.perf_counter()
    skew = wgmfem.find_modes(wgmfem.Capillary(), beta_per_um=0.5, **window)
    t_skew = time.perf_counter() - start
    print(f"default window, beta = 0: {len(flat)} modes in {t_flat:.2f} s; beta = 0.5 /um: {len(skew)} modes in "
          f"{t_skew:.2f} s ({1e3 * t_skew / max(len(skew), 1):.0f} ms a mode), "
          f"{sum(not md.verification['census_ok'] for md in skew)} unverified")


def axial() -> None:
    from wgmfem.axial import profile_from_spec
    from wgmfem.axial.modes import find_axial_modes

    profile = profile_from_spec("gaussian:50:30", 27.0, 39.0)
    start = time.perf_counter()
    result = find_axial_modes(profile, wgmfem.Capillary(), pol="Ez", m=600, p=1, count=5)
    elapsed = time.perf_counter() - start
    tracemalloc.start()  # a second run for the heap (tracemalloc slows Python several times)
    find_axial_modes(profile, wgmfem.Capillary(), pol="Ez", m=600, p=1, count=5)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"axial modes, 50 nm x 30 um Gaussian bulge, Ez m=600 p=1: {len(result.modes)} states in {elapsed:.2f} s, "
          f"peak Python heap {peak / 2**20:.0f} MiB, {result.verification['cutoff_points_solved']} cutoff points, "
          f"{result.solution.num_unknowns} axial unknowns")
    for md in result.modes:
        print(f"  q={md.q}: {md.wavelength_nm:.5f} nm, spacing {md.spacing_nm:.5f} nm, Q_total {md.Q_total:.3g}, "
              f"error estimate {md.error_estimate_nm:.1e} nm")


def axial_long() -> None:
    from wgmfem.axial import profile_from_spec
    from wgmfem.axial.modes import find_axial_modes

    profile = profile_from_spec("gaussian:50:40", 27, 39)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        result = find_axial_modes(profile, wgmfem.Capillary(), pol="Ez", m=600, p=1, count=10)
        times.append(time.perf_counter() - start)
    v = result.verification
    print(f"ten axial modes, 50 nm x 40 um Gaussian bulge over {profile.z_um[-1] - profile.z_um[0]:.0f} um: "
          f"median {sorted(times)[1]:.2f} s of 3 (target <= 1 s), {len(result.modes)} states, "
          f"{v['cutoff_points_solved']} cutoff roots + checks, largest check error {v['cutoff_check_error_nm']:.1e} nm "
          f"({v['cutoff_check_error_over_spacing']:.1e} of the smallest axial spacing)")


if __name__ == "__main__":
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    skew_accuracy()
    skew_census()
    axial()
    axial_long()
