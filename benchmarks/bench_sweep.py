"""Speed of ``wgmfem sweep``: a 100-point inner-diameter sweep of the default census.

Run:  python benchmarks/bench_sweep.py [--points 100] [--jobs N]

The sweep is the default census of ``wgmfem modes`` (core modes, p = 1..2, 425-445 nm, Ez and
Hz, FSR of every mode) at inner diameters 45, 45.2, ... um (outer 78 um), run as a whole
process (imports, worker start-up and the final sort included). Prints the number of points
and mode rows, wall and CPU time, peak memory of the process tree (psutil; else the largest
single process), and the time per point against one ``wgmfem modes`` run. Target: 100 points
in < 60 s on the project's 2-core machine. Timings taken while other jobs share the machine
are upper bounds.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_measured(cmd: list[str]) -> tuple[float, float, float]:
    """(wall s, CPU s of the process tree, peak RSS in MB) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL)
    peak = [0.0]
    try:
        import psutil

        def sample():  # total RSS of the sweep and its worker processes
            parent = psutil.Process(proc.pid)
            while proc.poll() is None:
                try:
                    tree = [parent] + parent.children(recursive=True)
                    peak[0] = max(peak[0], sum(p.memory_info().rss for p in tree) / 2**20)
                except psutil.Error:
                    pass
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
    except ImportError:
        sampler = None
    if proc.wait() != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    wall = time.perf_counter() - t0
    if sampler:
        sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, peak[0] or after.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    args = parser.parse_args()
    start, step = 45.0, 0.2
    grid = f"{start}:{start + step * (args.points - 1):.6g}:{step}"
    with tempfile.TemporaryDirectory() as folder:
        table = Path(folder) / "sweep.csv"
        cmd = [sys.executable, "-m", "wgmfem.cli", "sweep", "--inner-diameter", grid, "--output", str(table), "--quiet"]
        if args.jobs:
            cmd += ["--jobs", str(args.jobs)]
        wall, cpu, peak = run_measured(cmd)
        rows = list(csv.DictReader(table.open()))
    points = len({r["inner_diameter_um"] for r in rows})
    modes = sum(1 for r in rows if r["n_modes"] != "0")
    singles = [run_measured([sys.executable, "-m", "wgmfem.cli", "modes", "--quiet"]) for _ in range(3)]
    single_wall = statistics.median(s[0] for s in singles)
    single_cpu = statistics.median(s[1] for s in singles)
    jobs = args.jobs or os.cpu_count()
    print(f"sweep: --inner-diameter {grid} (outer 78 um), default census, {jobs} worker processes")
    print(f"points            : {points}")
    print(f"mode rows         : {modes} ({modes / points:.0f} a point)")
    print(f"wall time         : {wall:.1f} s (target < 60 s)")
    print(f"CPU time          : {cpu:.1f} s ({cpu / points:.2f} s a point)")
    print(f"peak memory       : {peak:.0f} MB (process tree)")
    print(f"per point (wall)  : {wall / points:.2f} s, vs one `wgmfem modes` process: {single_wall:.2f} s wall, {single_cpu:.2f} s CPU")
    print(f"load average      : {', '.join(f'{x:.1f}' for x in os.getloadavg())} (other jobs on the machine make these upper bounds)")


if __name__ == "__main__":
    main()
