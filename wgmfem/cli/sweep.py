"""``wgmfem sweep``: the census (or one tracked mode) over a grid of one geometry or index
parameter, appended point by point to a CSV / JSON-lines table, with plots."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from contextlib import nullcontext
from typing import TYPE_CHECKING

from ..geometry import PAPER_CORE_INDEX, PAPER_INNER_DIAMETER_UM, PAPER_OUTER_DIAMETER_UM, PAPER_WALL_INDEX
from ..polarization import normalize_pols
from ..quantities import DEFAULT_RESOLVABLE_FRACTION
from ..sweep_columns import EXTRAS
from .common import (
    InputError,
    clear_progress,
    command_progress,
    figure_suffix_ok,
    float_range,
    index_or_material,
    int_range,
    message_line,
    positive_float,
    save_figure_atomically,
)

if TYPE_CHECKING:  # the sweep itself is imported where it runs: building the parser needs none of it
    from ..sweep import SweepSpec, Track

HELP = "sweep a diameter, wall thickness or index: the census or one tracked mode at each point"

EPILOG = """\
One geometry option given as START:STOP:STEP (STOP included when it lies on the grid) is
the swept one; the others are fixed (defaults: the paper's 54/78 um capillary, core 1.56,
wall 1.47, air). --wall-thickness keeps the inner diameter fixed (outer = inner + 2 t);
--ratio R keeps outer/inner = R while a diameter is swept (the whole fibre scaled).

At each point: the census of `wgmfem modes` (same filters and defaults: p = 1..2, 425-445 nm,
both pols, region auto), or with --track POL:M:P one mode followed from point to point by
continuity of its wavelength and energy fractions (through avoided crossings; labels do not
decide; the points run in order in this process, any region and Q >= 2 are candidates; with
--wavelength the mode starts in that window at the first point). Region auto: core modes
where the liquid's index is at least the wall's, wall modes where the liquid is below the
glass (a water-filled ring-resonator sensor; one notice on stderr), judged at each point.

Sensor columns (--quantities): sensitivity d lambda/d n_core (nm/RIU); detection_limit =
FRACTION * lambda / (Q_total S) (RIU, FRACTION = --resolvable-fraction, Q_total with
--extra-q); drift d lambda/dT (nm/K) from dn/dT of liquid and glass and the glass's expansion
(built-in materials, or --core-dn-dt / --wall-dn-dt / --expansion; an error if unknown).

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
  wgmfem sweep --inner-diameter 70 --wall-thickness 2:4:0.5 --core water --wall fused-silica \\
      --wavelength 1545:1555 --track Ez:207:1 --quantities sensitivity,detection_limit,drift --extra-q 1e7
  wgmfem sweep --inner-diameter 60:80:5 --ratio 1.06 --core 1.318 --wall 1.444 --wavelength 1545:1555 \\
      --p 1 --quantities detection_limit,drift --core-dn-dt=-8.7e-5 --wall-dn-dt 1e-5 --expansion 5.5e-7 --plot ratio
  wgmfem sweep --core 1.50:1.60:0.01 --pol Ez --p 1 --output index.csv
  wgmfem sweep --core 1.50:1.60:0.01 --pol Ez --p 1 --output index.csv --resume   # after an interruption
  wgmfem sweep --outer-diameter 70:90:0.5 --scheduler tcp://10.0.0.5:8786 --output big.csv
  (a negative number with an exponent needs '=': --core-dn-dt=-8.7e-5)
"""

#: Options of the sensor extras: option -> (the quantity that uses it, SweepSpec field).
SENSOR_OPTIONS = {
    "--resolvable-fraction": ("detection_limit", "resolvable_fraction"),
    "--core-dn-dt": ("drift", "core_dn_dT_per_K"),
    "--wall-dn-dt": ("drift", "wall_dn_dT_per_K"),
    "--expansion": ("drift", "expansion_per_K"),
}


class Swept:
    """A START:STOP:STEP option value: the grid it stands for."""

    def __init__(self, text: str, values: tuple[float, ...]):
        self.text, self.values = text, values


def _grid(text: str, what: str) -> Swept:
    from ..sweep import SweepError, grid

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
    from ..sweep import Track

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
    """Names of :data:`~wgmfem.sweep.EXTRAS`, comma-separated, or ``all`` (kept as ``("all",)``:
    every quantity the fibre's data allow, see :func:`build_spec`)."""
    if text.strip() == "all":
        return ("all",)
    names = tuple(n.strip().replace("-", "_") for n in text.split(",") if n.strip())
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
    g.add_argument("--ratio", type=float, metavar="R", help="outer/inner diameter ratio (> 1) kept while the inner or outer "
                   "diameter is swept: the other follows (the whole fibre scaled)")
    g.add_argument("--core", "--core-index", dest="core", type=index_or_grid, metavar="N", help=f"liquid core: index, material name or file (default {PAPER_CORE_INDEX:g})")
    g.add_argument("--wall", "--wall-index", dest="wall", type=index_or_grid, metavar="N", help=f"glass wall: index or material (default {PAPER_WALL_INDEX:g})")
    g.add_argument("--outside", type=index_or_grid, metavar="N", default=1.0, help="surrounding medium: index or material (default 1)")
    g.add_argument("--strict", action="store_true", help="a material used outside its validity range is an error (default: a warning)")
    s = sw.add_argument_group("what to find at each point")
    s.add_argument("--pol", default="both", help="Ez, Hz or both (TM = Ez, TE = Hz) (default both)")
    s.add_argument("--wavelength", type=float_range, metavar="MIN:MAX", help="vacuum wavelength window in nm (default 425:445)")
    s.add_argument("--p", type=int_range("--p"), metavar="P|P1:P2", help="radial order(s), or 'any' (default 1:2)")
    s.add_argument("--region", metavar="NAME", help="core, wall, 'auto' or 'any' (default auto: core modes where the liquid's "
                   "index is at least the wall's, wall modes where it is below, judged at each point)")
    s.add_argument("--q-min", type=positive_float, default=100.0, metavar="Q", help="smallest radiation Q listed (default 100)")
    s.add_argument("--no-fsr", action="store_true", help="skip FSR and group index")
    s.add_argument("--track", type=track_spec, metavar="POL:M:P", help="follow this one mode across the sweep (e.g. Ez:600:1) instead "
                   "of the census; with --wavelength it starts in that window")
    s.add_argument(
        "--quantities", type=quantities, default=(), metavar="LIST",
        help=f"extra per-mode columns, comma-separated: {', '.join(EXTRAS)}, or all (drift only with thermal data); "
        "sensitivity is added when the wall thickness is swept; each costs extra solves",
    )
    x = sw.add_argument_group("sensor columns (--quantities detection_limit, drift)")
    x.add_argument("--extra-q", type=positive_float, metavar="Q", help="extra loss (coupling, scattering) as a Q, in Q_total and the detection limit")
    x.add_argument("--resolvable-fraction", type=positive_float, metavar="F", help="fraction of a linewidth resolved, for the detection limit (default 0.01)")
    x.add_argument("--core-dn-dt", type=float, metavar="PER_K", help="dn/dT of the liquid, 1/K (default: the material's)")
    x.add_argument("--wall-dn-dt", type=float, metavar="PER_K", help="dn/dT of the glass, 1/K (default: the material's)")
    x.add_argument("--expansion", type=float, metavar="PER_K", help="linear thermal expansion of the glass, 1/K (default: the material's)")
    r = sw.add_argument_group("running")
    r.add_argument("--jobs", type=int, metavar="N", help=f"worker processes (default: all cores, here {os.cpu_count()}); 1 = in this process")
    r.add_argument("--scheduler", metavar="ADDRESS", help="run the points on a Dask distributed cluster (e.g. tcp://host:8786; needs wgmfem[dask])")
    o = sw.add_argument_group("output")
    o.add_argument("--output", metavar="FILE", help="table file, appended point by point (default: standard output)")
    o.add_argument("--format", choices=("csv", "jsonl", "json"), help="csv (default; .jsonl/.json FILE: JSON lines) or jsonl (json = JSON lines, one object per row)")
    o.add_argument("--resume", action="store_true", help="continue FILE: skip the points it already holds (a damaged FILE or one with a point off the grid is refused)")
    o.add_argument("--overwrite", action="store_true", help="replace an existing FILE (otherwise an error)")
    o.add_argument("--plot", metavar="PREFIX", help="write PREFIX_wavelength.png, PREFIX_fsr.png, PREFIX_q.png, PREFIX_confinement.png (and _sensitivity, "
                   "_detection_limit, _drift when computed)")
    o.add_argument("--plot-format", choices=("png", "svg", "pdf"), default="png", help="figure format (default png)")
    o.add_argument("--quiet", action="store_true", help="no progress bar or summary on stderr")
    sw.set_defaults(run=run)


def build_spec(args) -> SweepSpec:
    from ..sweep import THERMAL_FIELDS, SweepSpec, Track, missing_thermal

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
    _check_ratio(args, parameter, flag)
    fixed = {k: v for k, v in options.items() if not isinstance(v, Swept) and v is not None}
    asked = (args.region or "auto").strip()
    region = {"any": None, "auto": "auto"}.get(asked.lower(), asked)
    if args.track is not None and region is None:
        raise InputError("--track needs the region of the mode to start from (core, wall or auto), not 'any'")
    if args.p == "any":
        p_range = None
    else:
        p_range = args.p if args.p is not None else (1, 2)
    track = args.track
    if track is not None:
        if args.p is not None:
            raise InputError("--track POL:M:P already says which mode; drop --p")
        if args.scheduler:
            raise InputError("--track runs its points in order in this process; drop --scheduler")
        track = Track(track.pol, track.m, track.p, tuple(args.wavelength) if args.wavelength else None)
    try:
        pols = normalize_pols(args.pol)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    sensor = _sensor_settings(args)
    missing = []
    if "drift" in args.quantities or "all" in args.quantities:  # the thermal data a drift would need
        core = fixed.get("core", PAPER_CORE_INDEX) if parameter != "core" else options["core"].values[0]
        wall = fixed.get("wall", PAPER_WALL_INDEX) if parameter != "wall" else options["wall"].values[0]
        window = args.wavelength or (425.0, 445.0)
        missing = missing_thermal(core, wall, 0.5 * (window[0] + window[1]), **{k: v for k, v in sensor.items() if k in THERMAL_FIELDS})
    extras = _extras(args, parameter, missing)
    for option, (quantity, _name) in SENSOR_OPTIONS.items():
        if getattr(args, name_of(option)) is not None and quantity not in extras:
            raise InputError(f"{option} is for the {quantity.replace('_', ' ')} column: add {quantity} to --quantities")
    if "drift" in extras and missing:
        options_needed = {"core_dn_dT_per_K": "--core-dn-dt", "wall_dn_dT_per_K": "--wall-dn-dt", "expansion_per_K": "--expansion"}
        raise InputError(f"drift needs thermal data: {_listed([THERMAL_FIELDS[m] for m in missing])} "
                         f"{'is' if len(missing) == 1 else 'are'} unknown for this fibre; give {_listed([options_needed[m] for m in missing])}")
    return SweepSpec(
        parameter=parameter, values=options[parameter].values,
        inner_diameter_um=fixed.get("inner_diameter", PAPER_INNER_DIAMETER_UM),
        outer_diameter_um=fixed.get("outer_diameter", PAPER_OUTER_DIAMETER_UM),
        wall_thickness_um=fixed.get("wall_thickness"), ratio=args.ratio,
        core=fixed.get("core", PAPER_CORE_INDEX), wall=fixed.get("wall", PAPER_WALL_INDEX), outside=args.outside,
        pol="both" if len(pols) == 2 else pols[0], wavelength_nm=args.wavelength or (425.0, 445.0),
        p=p_range, region=region, q_min=args.q_min, fsr=not args.no_fsr, extras=extras, track=track, **sensor,
    )


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def name_of(option: str) -> str:
    """The argparse attribute of an option: --core-dn-dt -> core_dn_dt."""
    return option[2:].replace("-", "_")


def _check_ratio(args, parameter: str, flag: dict) -> None:
    """--ratio R: a number > 1, with a swept inner or outer diameter and nothing else setting the other one."""
    if args.ratio is None:
        return
    if not (math.isfinite(args.ratio) and args.ratio > 1):
        raise InputError(f"--ratio is the outer/inner diameter ratio, a number > 1; got {args.ratio:g}")
    if parameter not in ("inner_diameter", "outer_diameter"):
        raise InputError(f"--ratio keeps outer/inner fixed while a diameter is swept; it does not go with a {flag[parameter]} sweep")
    if args.wall_thickness is not None:
        raise InputError("--ratio and --wall-thickness both set the outer diameter; give one or the other")
    other = "outer_diameter" if parameter == "inner_diameter" else "inner_diameter"
    if getattr(args, other) is not None:
        raise InputError(f"--ratio sets {flag[other]} from the swept {flag[parameter]}; give one diameter, not both")


def _sensor_settings(args) -> dict:
    """The SweepSpec fields of the sensor options, checked."""
    from ..sweep import MAX_THERMAL_COEFFICIENT_PER_K

    for option in ("--core-dn-dt", "--wall-dn-dt", "--expansion"):
        value = getattr(args, name_of(option))
        if value is not None and not (math.isfinite(value) and abs(value) < MAX_THERMAL_COEFFICIENT_PER_K):
            raise InputError(f"{option} must be a coefficient in 1/K with |value| < {MAX_THERMAL_COEFFICIENT_PER_K:g}, got {value!r}")
    fraction = args.resolvable_fraction
    if fraction is not None and not 0 < fraction <= 1:
        raise InputError(f"--resolvable-fraction must be in (0, 1], got {fraction:g}")
    settings = {name: getattr(args, name_of(option)) for option, (_, name) in SENSOR_OPTIONS.items()}
    settings["resolvable_fraction"] = fraction if fraction is not None else DEFAULT_RESOLVABLE_FRACTION
    settings["extra_q"] = args.extra_q
    return settings


def _extras(args, parameter: str, missing_thermal_data: list[str]) -> tuple[str, ...]:
    """The extra quantities asked for; ``all``: every one, the drift only when its thermal data
    are known or given."""
    extras = tuple(args.quantities)
    if extras == ("all",):
        thermal_given = any(getattr(args, name_of(o)) is not None for o, (q, _) in SENSOR_OPTIONS.items() if q == "drift")
        extras = tuple(e for e in EXTRAS if e != "drift" or thermal_given or not missing_thermal_data)
    if parameter == "wall_thickness" and "sensitivity" not in extras:
        extras += ("sensitivity",)
    return extras


def _format(args) -> str:
    if args.format:
        return "csv" if args.format == "csv" else "jsonl"
    return "jsonl" if (args.output or "").lower().endswith((".jsonl", ".json")) else "csv"


def write_plots(rows: list[dict], column: str, prefix: str, suffix: str, progress=None) -> list[str]:
    """One figure per plot of :mod:`wgmfem.plot_sweep`, PREFIX_<name>.<suffix>, each written atomically
    (``progress("plots", done, total)`` after each)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    from ..plot_sweep import PLOTS, available_plots

    written = []
    names = available_plots(rows)
    for name in names:
        fig, ax = plt.subplots(figsize=(6.4, 4.4))
        try:
            PLOTS[name](rows, column, ax)
            fig.tight_layout()
            path = f"{prefix}_{name}.{suffix}"
            save_figure_atomically(fig, path)
            written.append(path)
        finally:
            plt.close(fig)
        if progress:
            progress("plots", len(written), len(names))
    return written


def run(args) -> int:
    from ..sweep import SweepFile, encode_rows, run_sweep

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

    # the region's notice, once, with the first point solved (an error before it stays the only line)
    notices = [notice] if (notice := spec.region_notice()) and not args.quiet else []
    progress = command_progress(args)  # a bar of the points (resumed ones counted), its clock running between them
    if output is None:  # rows go to standard output as each point finishes
        sys.stdout.write(encode_rows(spec.columns, fmt, [], header=fmt == "csv"))

    def on_start(done, total):
        if progress:
            progress.start("sweep", done, total)

    def on_point(value, rows, done, total):
        while notices:
            message_line(notices.pop())
        if output is None:
            if sys.stdout.isatty():  # the rows share the terminal with the bar: erase it first
                clear_progress()
            sys.stdout.write(encode_rows(spec.columns, fmt, rows))
            sys.stdout.flush()
        if progress:
            progress("sweep", done, total)

    t0 = time.perf_counter()
    with progress.ticking() if progress else nullcontext():
        rows = run_sweep(spec, output, resume=args.resume, jobs=args.jobs, scheduler=args.scheduler,
                         on_point=on_point, on_start=on_start)
    elapsed = time.perf_counter() - t0
    if output is not None and output.repaired and not args.quiet:
        message_line(f"resumed {args.output}: dropped {' and '.join(output.repaired)}")
    written = []
    if args.plot:
        written = write_plots(rows, spec.column, args.plot, args.plot_format, progress)
    if not args.quiet:
        modes = sum(1 for row in rows if row.get("n_modes"))
        where = f" -> {args.output}" if args.output else ""
        sys.stderr.write(f"wgmfem: {len(spec.values)} points, {modes} mode rows in {elapsed:.1f} s{where}"
                         + (f"; plots: {', '.join(written)}" if written else "") + "\n")
    return 0

