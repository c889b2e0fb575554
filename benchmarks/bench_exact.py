"""Speed and accuracy of the exact engine, side by side with the mpmath reference.

Run:  python benchmarks/bench_exact.py          (about a minute; prints Markdown tables)

Measures
* the default ``wgmfem modes`` command (whole process, incl. imports), wall time and peak RSS;
* one fully verified mode (isolated-core seed, counted box, labels), and the root
  polish alone (Newton from a seed 1e-6 away);
* where the census's time goes: resonances found and counted against those reported, and the
  share of the time spent inside scipy's Bessel and Hankel functions;
* a dispersive census (Sellmeier/Cauchy indices followed to self-consistency) against the same
  census at constant indices;
* per root: wgmfem against the independent 30-digit mpmath determinant solver of
  ``tests/reference`` (time per root, relative wavelength and Q differences).
The independent double-precision peer (treams' cylinder T-matrix) has its own script:
``python benchmarks/peers/treams_exact.py``.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import wgmfem  # noqa: E402
from wgmfem.exact.census import polish_roots  # noqa: E402

# (name, fibre, pol, m, p) of the per-root comparisons with the peers (also benchmarks/peers/treams_exact.py)
REFERENCE_CASES = [
    ("paper capillary 54/78 um", wgmfem.Capillary(), "Ez", 600, 1),
    ("paper capillary 54/78 um", wgmfem.Capillary(), "Hz", 600, 1),
    ("paper capillary 54/78 um", wgmfem.Capillary(), "Ez", 597, 2),
    ("small capillary 10/14 um", wgmfem.Capillary(10, 14, 1.56, 1.47), "Ez", 210, 1),
    ("rod r=3 um n=1.56", wgmfem.LayeredCylinder((3.0,), (1.56,), 1.0), "Hz", 30, 2),
    ("rod r=1 um n=2.5", wgmfem.LayeredCylinder((1.0,), (2.5,), 1.0), "Ez", 10, 1),
]


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def bench_cli() -> None:
    times, rss = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wgmfem.cli", "modes", "--quiet"], check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
        rss.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    print("| task | median wall time | peak RSS | target |")
    print("| --- | --- | --- | --- |")
    print(f"| `wgmfem modes` (default: 110 core modes, Ez+Hz, 425-445 nm, whole process) | {statistics.median(times):.2f} s | {max(rss):.0f} MB | <= 0.8 s |")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import wgmfem.cli"], check=True, cwd=ROOT)
    print(f"| of which: Python start and `import wgmfem.cli` | {time.perf_counter() - t0:.2f} s | | |")
    cap = wgmfem.Capillary()
    t, modes = timed(lambda: wgmfem.find_modes(cap, wavelength_nm=(425, 445), region="core", p=(1, 2)), 3)
    print(f"| the same census in-process (`find_modes`, incl. FSR) | {t:.2f} s | | <= 0.3 s |")
    t, _ = timed(lambda: wgmfem.find_modes(cap, pol="Ez", m=600, p=1, region="core", fsr=False), 20)
    print(f"| one verified mode, Ez m=600 p=1 (seed, counted box, labels) | {1e3 * t:.1f} ms | | <= 3 ms |")
    k = [md for md in modes if (md.pol, md.m, md.p) == ("Ez", 600, 1)][0].k
    seed = np.array([k.real * (1 + 1e-6)])
    t, _ = timed(lambda: polish_roots(cap, "Ez", np.array([600]), seed, seed * (1 + 1e-9)), 20)
    print(f"| root polish alone (Newton from 1e-6 away) | {1e3 * t:.1f} ms | | |")


def bench_where_the_time_goes() -> None:
    """The default census: resonances found and counted vs reported, and the share of its time
    inside scipy's Bessel and Hankel functions (jv, yv, hankel1: the floor of the method)."""
    from scipy import special

    import wgmfem.exact.search as search
    from wgmfem.exact import census

    cap = wgmfem.Capillary()
    calls = {"time": 0.0, "values": 0}
    originals = {name: getattr(special, name) for name in ("jv", "yv", "hankel1")}

    def counted(fn):
        def wrapper(order, x):
            t0 = time.perf_counter()
            out = fn(order, x)
            calls["time"] += time.perf_counter() - t0
            calls["values"] += np.size(x)
            return out
        return wrapper

    found = {"roots": 0}
    find_roots = census.find_roots

    def counting_find_roots(*args, **kwargs):
        result = find_roots(*args, **kwargs)
        found["roots"] += len(result.roots)
        return result

    for name, fn in originals.items():  # the exact engine calls them as scipy.special.<name>
        setattr(special, name, counted(fn))
    census.find_roots = counting_find_roots  # called by itself for sibling ranking
    search.find_roots = counting_find_roots
    try:
        t0 = time.perf_counter()
        modes = wgmfem.find_modes(cap, wavelength_nm=(425, 445), region="core", p=(1, 2))
        total = time.perf_counter() - t0
    finally:
        for name, fn in originals.items():
            setattr(special, name, fn)
        census.find_roots = find_roots
        search.find_roots = find_roots
    print()
    print("| default census | value |")
    print("| --- | --- |")
    print(f"| modes reported | {len(modes)} |")
    print(f"| resonances found and counted (every root of every box, both polarizations) | {found['roots']} |")
    print(f"| Bessel/Hankel values computed (scipy jv, yv, hankel1) | {calls['values']} ({calls['values'] / max(found['roots'], 1):.0f} a resonance) |")
    print(f"| time inside those scipy calls | {calls['time']:.2f} s of {total:.2f} s ({100 * calls['time'] / total:.0f} %) |")


def bench_dispersive() -> None:
    """Indices followed to self-consistency (Sellmeier/Cauchy) against the same census at the
    window centre's constant indices."""
    import wgmfem.refine as refine
    from wgmfem.geometry import capillary_stack

    stack = capillary_stack(50, 125, core="ethanol", wall="fused-silica")
    window = dict(pol="Ez", wavelength_nm=(580, 590), p=(1, 3), region="wall", fsr=False)
    t_disp, disp = timed(lambda: wgmfem.find_modes(stack, **window), 3)
    t_fixed, fixed = timed(lambda: wgmfem.find_modes(stack.at(585.0), **window), 3)
    # where the dispersive run's time goes: the rounds that follow each mode, and the counted box
    # that re-finds each converged mode at its own indices
    spent = {"track": [0.0, 0], "box": [0.0, 0]}

    def clocked(fn, key):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            out = fn(*args, **kwargs)
            spent[key][0] += time.perf_counter() - t0
            spent[key][1] += 1
            return out
        return wrapper

    track_roots, find_roots = refine.track_roots, refine.find_roots
    refine.track_roots, refine.find_roots = clocked(track_roots, "track"), clocked(find_roots, "box")
    try:
        t0 = time.perf_counter()
        wgmfem.find_modes(stack, **window)
        t_profiled = time.perf_counter() - t0
    finally:
        refine.track_roots, refine.find_roots = track_roots, find_roots
    print()
    print("| ethanol in fused silica 50/125 um, wall p 1-3, Ez, 580-590 nm | modes | median wall time | ratio | target |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| dispersive indices (each mode at its own wavelength) | {len(disp)} | {t_disp:.2f} s | {t_disp / t_fixed:.1f}x | <= 1.5x |")
    print(f"| constant indices at 585 nm | {len(fixed)} | {t_fixed:.2f} s | 1x | |")
    print()
    print(f"Of one dispersive run ({t_profiled:.2f} s): {spent['track'][1]} tracked rounds (Newton at one mode's own "
          f"indices) {spent['track'][0]:.2f} s, {spent['box'][1]} counted single-mode boxes {spent['box'][0]:.2f} s; "
          "each call is one mode on its own cylinder, so nothing is vectorized across modes.")


def bench_reference() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from reference import mpmath_cylinder as ref

    print()
    print("| case | pol | m | p | wavelength (nm) | Q_rad | wgmfem per root | mpmath per root (30 digits) | speed-up | rel. wavelength diff | rel. Q diff |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, cyl, pol, m, p in REFERENCE_CASES:
        t_ours, modes = timed(lambda: wgmfem.find_modes(cyl, pol=pol, m=m, p=p, region="core", fsr=False), 5)  # noqa: B023 - called within this iteration
        md = modes[0]
        seed = md.k * (1 + 1e-9)
        t0 = time.perf_counter()
        k_ref = ref.find_root(cyl.radii_um, cyl.indices, cyl.outside_index, pol, m, seed, dps=30)
        t_ref = time.perf_counter() - t0
        k_ref = complex(k_ref)
        dl = abs(k_ref.real / md.k.real - 1)
        dq = abs(k_ref.imag / md.k.imag - 1)
        print(
            f"| {name} | {pol} | {m} | {p} | {md.wavelength_nm:.6f} | {md.Q_rad:.4g} | {1e3 * t_ours:.1f} ms | "
            f"{t_ref:.2f} s | {t_ref / t_ours:.0f}x | {dl:.1e} | {dq:.1e} |"
        )


if __name__ == "__main__":
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, numpy {np.__version__}")
    bench_cli()
    bench_where_the_time_goes()
    bench_dispersive()
    bench_reference()
