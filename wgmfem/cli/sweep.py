"""``wgmfem sweep``: the census (or one tracked mode) over a grid of one geometry or index
parameter, appended point by point to a CSV / JSON-lines table, with plots."""

from __future__ import annotations

import argparse
import os
import sys
import time

from ..geometry import PAPER_CORE_INDEX, PAPER_INNER_DIAMETER_UM, PAPER_OUTER_DIAMETER_UM, PAPER_WALL_INDEX
from ..polarization import normalize_pols
from ..sweep import EXTRAS, SweepError, SweepFile, SweepSpec, Track, encode_rows, grid, run_sweep
from .common import InputError, figure_suffix_ok, save_figure_atomically, float_range, index_or_material, int_range, positive_float

HELP = "sweep a diameter, wall thickness or index: the census or one tracked mode at each point"

EPILOG = """\
One geometry option given as START:STOP:STEP (STOP included when it lies on the grid) is
the swept one; the others are fixed (defaults: the paper's 54/78 um capillary, core 1.56,
wall 1.47, air). --wall-thickness keeps the inner diameter fixed (outer = inner + 2 t).

At each point: the census of `wgmfem modes` (same filters and defaults: core modes, p = 1..2,
425-445 nm, both pols), or with --track POL:M:P one mode followed from point to point by
continuity of its wavelength and energy fractions (through avoided crossings; labels do not
decide; the points run in order in this process, any region and Q >= 2 are candidates).

Output: one row per mode and point (a point without modes: one row with n_modes = 0), the
swept value in the first column (e.g. inner_diameter_um), CSV or JSON lines. Each point is
appended and fsync'ed as soon as it is finished (in completion order), so the file is a valid
table after every point; when the sweep completes it is rewritten in grid order (without
--output the rows go to standard output in completion order). Points run in --jobs
processes, or on a Dask cluster with --scheduler.

--resume continues an interrupted FILE. Its settings must match FILE.settings.json and every
row is checked (each field, the geometry of its point). What a kill leaves, a half-written
last line or an unfinished last point, is dropped and computed again (one notice on stderr).
Any other damage, or a point that is not on the grid, is refused (exit 2, FILE untouched):
resume with a grid that holds every point of FILE, or start again with --overwrite. While a
sweep writes FILE it holds FILE.lock (removed at the end): a second sweep on FILE is refused.

examples:
  wgmfem sweep --inner-diameter 50:60:1 --output sweep.csv --plot sweep
  wgmfem sweep --inner-diameter 54:54.1:0.05 --jobs 1 --pol Ez --p 1 --wavelength 430:434
  wgmfem sweep --inner-diameter 54:54.3:0.05 --track Ez:600:1 --format json --output track.jsonl
  wgmfem sweep --wall-thickness 2:12:0.5 --inner-diameter 54 --pol Ez --p 1 --plot wall
  wgmfem sweep --core 1.50:1.60:0.01 --pol Ez --p 1 --output index.csv
  wgmfem sweep --core 1.50:1.60:0.01 --pol Ez --p 1 --output index.csv --resume   # after an interruption
  wgmfem sweep --outer-diameter 70:90:0.5 --scheduler tcp://10.0.0.5:8786 --output big.csv
"""


class Swept:
    """A START:STOP:STEP option value: the grid it stands for."""

    def __init__(self, text: str, values: tuple[float, ...]):
        self.text, self.values = text, values


def _grid(text: str, what: str) -> Swept:
    parts = text.split(":")
    try:
        start, stop, step = (float(x) for x in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what} or START:STOP:STEP (three numbers), got {text!r}") from None
    try:
        return Swept(text, grid(start, stop, step))
    except SweepError as exc:
        raise argparse.ArgumentTypeError(f"{exc} in {text!r}") from None


def length_or_grid(text: str):
    """A length in um, or a grid START:STOP:STEP of lengths."""
    if ":" in text:
        swept = _grid(text, "a length in um")
        if min(swept.values) <= 0:
            raise argparse.ArgumentTypeError(f"lengths must be positive, got {text!r}")
        return swept
    return positive_float(text)


def index_or_grid(text: str):
    """A refractive index or material (kept by name), or a grid START:STOP:STEP of indices."""
    if text.count(":") == 2:
        swept = _grid(text, "an index")
        if min(swept.values) <= 0:
            raise argparse.ArgumentTypeError(f"indices must be positive, got {text!r}")
        return swept
    value = index_or_material(text)
    return value if isinstance(value, (float, complex)) else text  # a material travels by name


def track_spec(text: str) -> Track:
    parts = text.split(":")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected POL:M:P, e.g. Ez:600:1, got {text!r}")
    try:
        (pol,) = normalize_pols(parts[0])
        m, p = int(parts[1]), int(parts[2])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected POL:M:P with POL Ez or Hz and integers M >= 0, P >= 1, got {text!r}") from None
    if m < 0 or p < 1:
        raise argparse.ArgumentTypeError(f"expected M >= 0 and P >= 1, got {text!r}")
    return Track(pol, m, p)


def quantities(text: str) -> tuple[str, ...]:
    names = tuple(EXTRAS) if text.strip() == "all" else tuple(n.strip().replace("-", "_") for n in text.split(",") if n.strip())
    for name in names:
        if name not in EXTRAS:
            raise argparse.ArgumentTypeError(f"unknown quantity {name!r}: choose from {', '.join(EXTRAS)} or all")
    return names


def add_parser(sub) -> None:
    sw = sub.add_parser(
        "sweep", help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Vary one of inner diameter, outer diameter, wall thickness, core or wall index over a grid "
        "and solve each point: every mode in a window (as `wgmfem modes`) or one mode tracked across the sweep.",
    )
    g = sw.add_argument_group("geometry (lengths in um; exactly one given as START:STOP:STEP is swept)")
    g.add_argument("--inner-diameter", type=length_or_grid, metavar="UM", help=f"bore diameter (default {PAPER_INNER_DIAMETER_UM:g})")
    g.add_argument("--outer-diameter", type=length_or_grid, metavar="UM", help=f"fibre diameter (default {PAPER_OUTER_DIAMETER_UM:g})")
    g.add_argument("--wall-thickness", type=length_or_grid, metavar="UM", help="wall thickness; outer = inner + 2 * thickness (replaces --outer-diameter)")
    g.add_argument("--core", "--core-index", dest="core", type=index_or_grid, metavar="N", help=f"liquid core: index, material name or file (default {PAPER_CORE_INDEX:g})")
    g.add_argument("--wall", "--wall-index", dest="wall", type=index_or_grid, metavar="N", help=f"glass wall: index or material (default {PAPER_WALL_INDEX:g})")
    g.add_argument("--outside", type=index_or_grid, metavar="N", default=1.0, help="surrounding medium: index or material (default 1)")
    g.add_argument("--strict", action="store_true", help="a material used outside its validity range is an error (default: a warning)")
    s = sw.add_argument_group("what to find at each point")
    s.add_argument("--pol", default="both", help="Ez, Hz or both (TM = Ez, TE = Hz) (default both)")
    s.add_argument("--wavelength", type=float_range, metavar="MIN:MAX", help="vacuum wavelength window in nm (default 425:445)")
    s.add_argument("--p", type=int_range("--p"), metavar="P|P1:P2", help="radial order(s), or 'any' (default 1:2)")
    s.add_argument("--region", metavar="NAME", help="core, wall or 'any' (default core)")
    s.add_argument("--q-min", type=positive_float, default=100.0, metavar="Q", help="smallest radiation Q listed (default 100)")
    s.add_argument("--no-fsr", action="store_true", help="skip FSR and group index")
    s.add_argument("--track", type=track_spec, metavar="POL:M:P", help="follow this one mode across the sweep (e.g. Ez:600:1) instead of the census")
    s.add_argument(
        "--quantities", type=quantities, default=(), metavar="LIST",
        help=f"extra per-mode columns, comma-separated: {', '.join(EXTRAS)}, or all (sensitivity is added when "
        "the wall thickness is swept); each costs extra solves",
    )
    r = sw.add_argument_group("running")
    r.add_argument("--jobs", type=int, metavar="N", help=f"worker processes (default: all cores, here {os.cpu_count()}); 1 = in this process")
    r.add_argument("--scheduler", metavar="ADDRESS", help="run the points on a Dask distributed cluster (e.g. tcp://host:8786; needs wgmfem[dask])")
    o = sw.add_argument_group("output")
    o.add_argument("--output", metavar="FILE", help="table file, appended point by point (default: standard output)")
    o.add_argument("--format", choices=("csv", "jsonl", "json"), help="csv (default; .jsonl/.json FILE: JSON lines) or jsonl (json = JSON lines, one object per row)")
    o.add_argument("--resume", action="store_true", help="continue FILE: skip the points it already holds (a damaged FILE or one with a point off the grid is refused)")
    o.add_argument("--overwrite", action="store_true", help="replace an existing FILE (otherwise an error)")
    o.add_argument("--plot", metavar="PREFIX", help="write PREFIX_wavelength.png, PREFIX_fsr.png, PREFIX_q.png, PREFIX_confinement.png (and _sensitivity)")
    o.add_argument("--plot-format", choices=("png", "svg", "pdf"), default="png", help="figure format (default png)")
    o.add_argument("--quiet", action="store_true", help="no progress bar or summary on stderr")
    sw.set_defaults(run=run)


def build_spec(args) -> SweepSpec:
    options = {"inner_diameter": args.inner_diameter, "outer_diameter": args.outer_diameter,
               "wall_thickness": args.wall_thickness, "core": args.core, "wall": args.wall}
    swept = [name for name, value in options.items() if isinstance(value, Swept)]
    flag = {name: "--" + name.replace("_", "-") for name in options}
    if isinstance(args.outside, Swept):
        raise InputError("the outside index cannot be swept; sweep --core, --wall or a diameter")
    if not swept:
        raise InputError("nothing to sweep: give one of --inner-diameter, --outer-diameter, --wall-thickness, --core, --wall as START:STOP:STEP")
    if len(swept) > 1:
        raise InputError(f"only one parameter can be swept, but {flag[swept[0]]} and {flag[swept[1]]} are both START:STOP:STEP")
    parameter = swept[0]
    if args.wall_thickness is not None and args.outer_diameter is not None:
        raise InputError("--wall-thickness sets the outer diameter (inner + 2 * thickness); give one or the other")
    fixed = {k: v for k, v in options.items() if not isinstance(v, Swept) and v is not None}
    region = None if (args.region or "").lower() == "any" else (args.region or "core")
    if args.track is not None and args.region is not None and region is None:
        raise InputError("--track needs the region of the mode to start from (core or wall), not 'any'")
    if args.p == "any":
        p_range = None
    else:
        p_range = args.p if args.p is not None else (1, 2)
    if args.track is not None and (args.p is not None or args.wavelength is not None):
        raise InputError("--track POL:M:P already says which mode; drop --p / --wavelength")
    if args.track is not None and args.scheduler:
        raise InputError("--track runs its points in order in this process; drop --scheduler")
    extras = tuple(args.quantities)
    if parameter == "wall_thickness" and "sensitivity" not in extras:
        extras += ("sensitivity",)
    try:
        pols = normalize_pols(args.pol)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return SweepSpec(
        parameter=parameter, values=options[parameter].values,
        inner_diameter_um=fixed.get("inner_diameter", PAPER_INNER_DIAMETER_UM),
        outer_diameter_um=fixed.get("outer_diameter", PAPER_OUTER_DIAMETER_UM),
        wall_thickness_um=fixed.get("wall_thickness"),
        core=fixed.get("core", PAPER_CORE_INDEX), wall=fixed.get("wall", PAPER_WALL_INDEX), outside=args.outside,
        pol="both" if len(pols) == 2 else pols[0], wavelength_nm=args.wavelength or (425.0, 445.0),
        p=p_range, region=region, q_min=args.q_min, fsr=not args.no_fsr, extras=extras, track=args.track,
    )


def _format(args) -> str:
    if args.format:
        return "csv" if args.format == "csv" else "jsonl"
    return "jsonl" if (args.output or "").lower().endswith((".jsonl", ".json")) else "csv"


def _progress(enabled: bool):
    """A progress bar on stderr: points done / total, elapsed, ETA (from this run's pace)."""
    if not enabled:
        return None
    start, first = time.perf_counter(), []

    def show(value, rows, done, total) -> None:
        if not first:
            first.append(done - 1)  # points that came from a resumed file
        elapsed = time.perf_counter() - start
        pace = elapsed / max(1, done - first[0])
        width = 30
        bar = "#" * round(width * done / total)
        sys.stderr.write(f"\rsweep [{bar:<{width}}] {done}/{total} points, {elapsed:.0f} s, ETA {pace * (total - done):.0f} s ")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def write_plots(rows: list[dict], column: str, prefix: str, suffix: str) -> list[str]:
    """One figure per plot of :mod:`wgmfem.plot_sweep`, PREFIX_<name>.<suffix>, each written atomically."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    from ..plot_sweep import PLOTS, available_plots

    written = []
    for name in available_plots(rows):
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        try:
            PLOTS[name](rows, column, ax)
            fig.tight_layout()
            path = f"{prefix}_{name}.{suffix}"
            save_figure_atomically(fig, path)
            written.append(path)
        finally:
            plt.close(fig)
    return written


def run(args) -> int:
    spec = build_spec(args)
    fmt = _format(args)
    if args.jobs is not None and args.jobs < 1:
        raise InputError(f"--jobs must be >= 1, got {args.jobs}")
    if args.plot:
        figure_suffix_ok(f"{args.plot}_x.{args.plot_format}")
        folder = os.path.dirname(os.path.abspath(args.plot + "_x"))
        if not os.path.isdir(folder):
            raise InputError(f"--plot: folder {folder} does not exist")
    output = None
    if args.output:
        if os.path.isdir(args.output):
            raise InputError(f"--output {args.output} is a folder; give a file name")
        if not os.path.isdir(os.path.dirname(os.path.abspath(args.output))):
            raise InputError(f"--output: folder {os.path.dirname(os.path.abspath(args.output))} does not exist")
        if os.path.exists(args.output) and not (args.resume or args.overwrite):
            raise InputError(f"{args.output} exists: --resume continues it, --overwrite replaces it")
        output = SweepFile(args.output, spec, fmt)
    elif args.resume:
        raise InputError("--resume needs --output FILE (the table to continue)")

    progress = _progress(sys.stderr.isatty() and not args.quiet)
    if output is None:  # rows go to standard output as each point finishes
        sys.stdout.write(encode_rows(spec.columns, fmt, [], header=fmt == "csv"))

    def on_point(value, rows, done, total):
        if output is None:
            sys.stdout.write(encode_rows(spec.columns, fmt, rows))
            sys.stdout.flush()
        if progress:
            progress(value, rows, done, total)

    t0 = time.perf_counter()
    rows = run_sweep(spec, output, resume=args.resume, jobs=args.jobs, scheduler=args.scheduler, on_point=on_point)
    elapsed = time.perf_counter() - t0
    if output is not None and output.repaired and not args.quiet:
        sys.stderr.write(f"wgmfem: resumed {args.output}: dropped {' and '.join(output.repaired)}\n")
    written = []
    if args.plot:
        written = write_plots(rows, spec.column, args.plot, args.plot_format)
    if not args.quiet:
        modes = sum(1 for row in rows if row.get("n_modes"))
        where = f" -> {args.output}" if args.output else ""
        sys.stderr.write(f"wgmfem: {len(spec.values)} points, {modes} mode rows in {elapsed:.1f} s{where}"
                         + (f"; plots: {', '.join(written)}" if written else "") + "\n")
    return 0

