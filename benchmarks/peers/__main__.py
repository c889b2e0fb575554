"""Side-by-side benchmark: wgmfem's 2-D FEM against NGSolve, and the exact solver against mpmath.

Run from the repository root:

    pip install -e '.[bench]'              # NGSolve (optional benchmark dependency)
    python -m benchmarks.peers --quick     # a few minutes
    python -m benchmarks.peers             # the whole benchmark (< 20 min on 2 cores)

Every FEM run is a fresh process (peak memory its own, killed above --cap-gb). Prints the
tables and writes into benchmarks/peers/results/ (or --out): results.json (every run, the
machine, versions, load), runs.csv, exact_vs_mpmath.csv, summary.md and accuracy_vs_time.png.
Not part of CI. See docs/performance.md for the measured figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import analysis, exact_vs_mpmath, problems
from .runner import run_spec

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def available_gb() -> float:
    """MemAvailable of /proc/meminfo in GB (inf if unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024 / 1e9
    except OSError:
        pass
    return float("inf")


def machine() -> dict:
    """CPU model and count, memory, load, versions of the codes compared."""
    from importlib.metadata import PackageNotFoundError, version

    info = dict(python=platform.python_version(), cores=os.cpu_count(), load_start=os.getloadavg())
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        info["cpu"] = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name")), "")
    except OSError:
        info["cpu"] = platform.processor()
    meminfo = Path("/proc/meminfo").read_text().splitlines() if Path("/proc/meminfo").exists() else []
    total = next((int(ln.split()[1]) for ln in meminfo if ln.startswith("MemTotal:")), 0)
    info["memory_gb"] = round(total * 1024 / 1e9, 1)
    for pkg in ("ngsolve", "netgen-mesher", "scikit-fem", "scipy", "numpy", "gmsh", "mkl", "pypardiso", "mpmath"):
        try:
            info[pkg] = version(pkg)
        except PackageNotFoundError:
            info[pkg] = None
    return info


def _write(path: Path, text: str) -> None:
    from wgmfem.report import write_atomically

    write_atomically(path, text)


def _print_row(i, n, r):
    s = r["spec"]
    err = f"{r['rel_err']:+.2e}" if "rel_err" in r else "-"
    extra = f" Qerr {r['q_rel_err']:+.1e}" if "q_rel_err" in r else ""
    t = f"{r['solve_s']:.2f}" if "solve_s" in r else "-"
    peak = r.get("peak_rss_gb")
    peak = f"{peak:.2f}" if peak is not None else "-"
    print(f"[{i}/{n}] {s['case']:12s} {s['pol']} {s['solver']:7s} {s['variant']:26s} {s.get('threads')}t "
          f"P{s['order']} ppw {analysis.ppw_label(s):<5} N={r.get('unknowns', '-')!s:>8} err {err}{extra} "
          f"solve {t} s process {r['process_s']:.2f} s peak {peak} GB [{r['status']}] load {r['load'][0]:.1f}",
          flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer settings (a few minutes)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default %(default)s)")
    parser.add_argument("--cap-gb", type=float, default=problems.MEMORY_CAP_GB,
                        help="kill any run above this resident memory, GB (default %(default)s)")
    parser.add_argument("--skip-exact", action="store_true", help="skip the exact-vs-mpmath part")
    parser.add_argument("--render", type=Path, metavar="RESULTS_JSON",
                        help="only re-make the tables and the plot from a results.json of an earlier run")
    args = parser.parse_args(argv)
    if args.render:
        import json

        data = json.loads(args.render.read_text())
        meta = data["meta"]
        render(data["runs"], meta.pop("exact_vs_mpmath", []), meta, args.out)
        return 0
    try:
        import ngsolve  # noqa: F401
    except ImportError:
        print("error: NGSolve is not installed (pip install -e '.[bench]')", file=sys.stderr)
        return 2
    cap = min(args.cap_gb, max(1.0, available_gb() - 1.0))
    meta = machine()
    meta.update(quick=args.quick, cap_gb=cap, started=time.strftime("%Y-%m-%d %H:%M:%S"))
    print(f"machine: {meta['cpu']}, {meta['cores']} cores, {meta['memory_gb']} GB; load {meta['load_start']}; "
          f"memory cap per run {cap:.1f} GB", flush=True)
    t_start = time.perf_counter()
    cache = tempfile.mkdtemp(prefix="wgmfem-peers-mesh-")  # wgmfem meshes afresh, as NGSolve does
    rows = []
    try:
        specs = problems.build_specs(args.quick)
        for i, spec in enumerate(specs, 1):
            spec = dict(spec, mesh_cache=os.path.join(cache, str(i)))  # no run reuses another's mesh
            load = os.getloadavg()
            r = run_spec(spec, cap_gb=cap)
            r["load"] = load
            r["spec"].pop("mesh_cache", None)
            rows.append(r)
            _print_row(i, len(specs), r)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    exact_rows = [] if args.skip_exact else exact_vs_mpmath.run(args.quick)
    meta.update(load_end=os.getloadavg(), total_s=time.perf_counter() - t_start)
    render(rows, exact_rows, meta, args.out)
    return 0


CASES = (("paper-sector", "Ez"), ("paper-sector", "Hz"), ("rod-full", "Ez"))


def render(rows: list[dict], exact_rows: list[dict], meta: dict, out: Path) -> None:
    """Print the summary and write summary.md, runs.csv, results.json, the CSV of the exact
    part and accuracy_vs_time.png into ``out``."""
    kind = "quick" if meta["quick"] else "full"
    parts = [f"# wgmfem vs NGSolve ({kind} run, {meta['started']})",
             f"Machine: {meta['cpu']}, {meta['cores']} cores, {meta['memory_gb']} GB, Python {meta['python']}; "
             f"NGSolve {meta['ngsolve']}, scikit-fem {meta['scikit-fem']}, scipy {meta['scipy']}, numpy {meta['numpy']}, "
             f"gmsh {meta['gmsh']}, MKL {meta['mkl']}. Load average at start {meta['load_start'][0]:.1f}, "
             f"at end {meta['load_end'][0]:.1f} (shared machine: times are upper bounds). Total {meta['total_s']:.0f} s."]
    for key, title in (("solve_s", "solve time (mesh + assembly + eigen-solve + identification)"),
                       ("process_s", "whole process (imports included)")):
        entries = [e for case, pol in CASES for e in analysis.ratios(rows, case, pol, key)]
        parts += [f"## Fastest run reaching each target, by {title}", analysis.ratio_table(entries, key)]
        meta[f"ratios_{key}"] = [dict(case=e["case"], pol=e["pol"], target=e["target"], ratio=e["ratio"]) for e in entries]
    same = [e for case, pol in CASES for e in analysis.ratios(rows, case, pol, "solve_s", order=4)]
    parts += ["## The same element order (P4), by solve time", analysis.ratio_table(same, "solve_s")]
    e2e = analysis.end_to_end(rows)
    meta["end_to_end"] = dict(speedup=e2e["speedup"], ngsolve_reached=e2e["ngsolve_reached"])
    parts += ["## End to end: the Ez (p=1, m=600) mode to 1e-6, whole process",
              f"wgmfem (sector 2pi/600): {analysis._setting(e2e['wgmfem'], 'process_s')}; "
              f"NGSolve full annulus 24-43 um: {analysis._setting(e2e['ngsolve'], 'process_s')}"
              + ("" if e2e["ngsolve_reached"] else " (most accurate run within the memory cap: target NOT reached)")
              + (f"; NGSolve / wgmfem = {e2e['speedup']:.1f}x" if e2e["speedup"] else "")]
    parts += ["## Every run", analysis.runs_table(rows)]
    if exact_rows:
        parts += ["## Exact solver vs the mpmath reference", exact_vs_mpmath.table(exact_rows)]
    summary = "\n\n".join(parts) + "\n"
    print("\n" + summary)

    out.mkdir(parents=True, exist_ok=True)
    _write(out / "summary.md", summary)
    _write(out / "runs.csv", analysis.to_csv(rows))
    _write(out / "results.json", analysis.to_json(rows, dict(meta, exact_vs_mpmath=exact_rows)))
    if exact_rows:
        import csv
        import io

        buf = io.StringIO()
        fields = sorted({k for r in exact_rows for k in r})
        w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(exact_rows)
        _write(out / "exact_vs_mpmath.csv", buf.getvalue())
    png = out / "accuracy_vs_time.png"
    tmp = png.with_suffix(".tmp.png")
    analysis.plot(rows, tmp, f" ({kind} run, load {meta['load_start'][0]:.1f}-{meta['load_end'][0]:.1f})")
    tmp.replace(png)
    print(f"wrote {out}/summary.md, runs.csv, results.json, accuracy_vs_time.png", flush=True)


if __name__ == "__main__":
    sys.exit(main())
