"""``python -m validation [--fast] [--only fig3a,...] [--output DIR]``: regenerate the
validation of the paper's Fig. 3 and numbers (PNG + CSV per figure, results.json and
REPORT.md).

Run from the repository root. The full run takes a few minutes on 2 cores (the 2-D FEM
sector of Fig. 3c-d and the dispersive FSR sweep of Fig. 3b dominate); ``--fast`` uses
coarser settings and fewer cases (~30 s) and writes its report next to its outputs, so
the committed ``validation/REPORT.md`` only ever comes from a full run.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from wgmfem.report import write_atomically

from . import fig3a, fig3b, fig3c, fig3d, numbers
from .common import OUTPUT_DIR, output_dir
from .report import render_report

SCRIPTS = {"fig3a": fig3a, "fig3b": fig3b, "fig3c": fig3c, "fig3d": fig3d, "numbers": numbers}
REPORT_PATH = Path(__file__).resolve().parent / "REPORT.md"


def _plain(value):
    """JSON-ready: tuples to lists, non-finite floats to None, dict keys to strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def run_all(fast: bool = False, only=None, out=None) -> dict:
    """Run the scripts (all, or the names in ``only``); return their results by name."""
    results = {}
    for name, script in SCRIPTS.items():
        if only and name not in only:
            continue
        t0 = time.perf_counter()
        results[name] = script.run(fast=fast, out=out)
        sys.stderr.write(f"validation: {name} done in {time.perf_counter() - t0:.1f} s\n")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m validation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--fast", action="store_true", help="coarse settings, fewer cases (~30 s)")
    parser.add_argument("--only", metavar="NAMES", help=f"comma-separated subset of {','.join(SCRIPTS)}")
    parser.add_argument("--output", metavar="DIR", help=f"output folder (default {OUTPUT_DIR}; --fast: <it>/fast)")
    args = parser.parse_args(argv)
    only = None
    if args.only:
        only = [name.strip() for name in args.only.split(",")]
        unknown = sorted(set(only) - set(SCRIPTS))
        if unknown:
            parser.error(f"unknown script(s) {', '.join(unknown)}; choose from {', '.join(SCRIPTS)}")
    out = Path(args.output) if args.output else (OUTPUT_DIR / "fast" if args.fast else OUTPUT_DIR)
    folder = output_dir(out)
    results = run_all(args.fast, only, folder)
    write_atomically(str(folder / "results.json"), json.dumps(_plain(results), indent=1) + "\n")
    if set(results) == set(SCRIPTS):
        report = REPORT_PATH if (not args.fast and folder == OUTPUT_DIR) else folder / "REPORT.md"
        write_atomically(str(report), render_report(results, folder, report.parent, fast=args.fast))
        sys.stderr.write(f"validation: wrote {report}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
