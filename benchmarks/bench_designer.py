"""Speed and accuracy of the per-mode designer quantities against their references.

Run:  python benchmarks/bench_designer.py

For a few modes (the paper's Ez/Hz p = 1 m = 600 core modes, wall modes of a water-filled
70/74 um capillary at 1550 nm, a leaky absorbing core mode):

* bulk sensitivity S = d lambda / d n_core: the closed form (``wgmfem.exact.perturbation``)
  against a central difference of two exact roots (dn = 1e-5), and the time of each;
* effective area: the Gauss-Legendre quadrature of ``Mode.effective_area_um2`` against a
  40001-point trapezoid of the same field over the same window (for Hz the trapezoid's
  np.gradient smears the jump of R' at the interfaces: ~2e-5 of its own error);
* the whole export record (``Mode.to_dict``, without the exact lasing gain) per mode.

Prints one line per mode with wall times (ms) and relative differences, and the peak memory
of the Python heap (tracemalloc). Timings on a shared machine are upper bounds.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np

import wgmfem
from wgmfem import Capillary, find_modes
from wgmfem.quantities import sensitivity_nm_per_riu

CASES = [
    ("paper Ez p=1", Capillary(54, 78, 1.56, 1.47), "Ez", 600, "core"),
    ("paper Hz p=1", Capillary(54, 78, 1.56, 1.47), "Hz", 600, "core"),
    ("water 70/74 Ez p=1 wall", Capillary(70, 74, 1.318, 1.444), "Ez", 207, "wall"),
    ("water 70/74 Hz p=2 wall", Capillary(70, 74, 1.318, 1.444), "Hz", 191, "wall"),
    ("absorbing 6/8 Ez core", Capillary(6, 8, 1.6 + 1e-3j, 1.45), "Ez", 46, "core"),
]
DN = 1e-5


def _timed(fn, repeat: int = 3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return value, best


def _root_nm(cap: wgmfem.LayeredCylinder, md, core_index) -> float:
    other = wgmfem.LayeredCylinder(cap.radii_um, (core_index,) + cap.indices[1:], cap.outside_index, cap.names)
    found = find_modes(other, pol=md.pol, m=md.m, p=md.p, region=md.region, fsr=False)
    return min(found, key=lambda x: abs(x.k - md.k)).wavelength_nm


def _trapezoid_area(md) -> float:
    lo, hi = md._quadrature_window_um()
    grid = np.linspace(lo, hi, 40001)
    R = md._raw_field(grid)
    if md.pol == "Ez":
        e2 = np.abs(R) ** 2
    else:
        n = np.array([complex(md.cylinder.index_at(x)) for x in grid])
        e2 = (np.abs(np.gradient(R, grid)) ** 2 + md.m**2 * np.abs(R) ** 2 / grid**2) / np.abs(n) ** 4
    return float((2 * np.pi * np.trapezoid(e2 * grid, grid)) ** 2 / (2 * np.pi * np.trapezoid(e2**2 * grid, grid)))


def main() -> None:
    print(f"{'mode':<26} {'S_nm/RIU':>10} {'S ms':>6} {'FD ms':>7} {'S vs FD':>9} "
          f"{'A_um2':>9} {'A ms':>6} {'A vs trapz':>10} {'record ms':>9}")
    tracemalloc.start()
    for name, cap, pol, m, region in CASES:
        md = find_modes(cap, pol=pol, m=m, p=1 if "p=2" not in name else 2, region=region, fsr=False, q_min=5)[0]
        s, t_s = _timed(lambda: sensitivity_nm_per_riu(md))  # noqa: B023 - called within this iteration
        n0 = cap.indices[0]
        (up, down), t_fd = _timed(lambda: (_root_nm(cap, md, n0 + DN), _root_nm(cap, md, n0 - DN)), repeat=1)  # noqa: B023 - called within this iteration
        fd = (up - down) / (2 * DN)
        area, t_a = _timed(lambda: type(md).effective_area_um2.func(md))  # noqa: B023 - called within this iteration
        trapz = _trapezoid_area(md)
        fresh = find_modes(cap, pol=pol, m=m, p=md.p, region=region, fsr=False, q_min=5)[0]
        _, t_rec = _timed(lambda: fresh.to_dict(), repeat=1)  # noqa: B023 - called within this iteration
        print(f"{name:<26} {s:10.4g} {1e3 * t_s:6.1f} {1e3 * t_fd:7.0f} {s / fd - 1:9.1e} "
              f"{area:9.4g} {1e3 * t_a:6.1f} {area / trapz - 1:10.1e} {1e3 * t_rec:9.1f}")
    _, peak = tracemalloc.get_traced_memory()
    print(f"peak Python heap: {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
