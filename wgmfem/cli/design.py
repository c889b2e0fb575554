"""``wgmfem design``: capillaries (inner/outer diameter) whose p = 1 core mode at a target
wavelength meets a minimum FSR, Q and/or confinement, with the margin on each, ranked."""

from __future__ import annotations

import argparse
import math
import sys

from ..design import DEFAULT_GRID, DEFAULT_WALL_UM, DesignError, DesignResult, design_capillaries
from ..report import to_json
from ..solve import MAX_WAVELENGTH_NM, MIN_WAVELENGTH_NM
from .common import InputError, emit, float_range, index_or_material, positive_float, progress_printer
from .sensor_design import SENSOR_EPILOG, add_sensor_options, run_sensor

HELP = "propose inner/outer diameters that meet FSR, Q and confinement limits at a target wavelength"

EPILOG = f"""\
The design mode is the p = 1 core mode nearest the target. A grid of bores (geometric) x wall
thicknesses (linear) is solved exactly; the best feasible points are then tuned (bore scaled,
wall thickness kept, until that mode sits on the target) and re-solved, and kept only if they
still meet every limit. Q is Q_total (radiation, plus absorption for a complex index).

Margins: ln(value / limit) per limit (~ the fractional margin; 0.10 = 10 % above the limit).
Ranking: by score = the smallest margin (the design furthest from failing its tightest
limit), best first. Wall-thickness and bore ranges bound the search; their margins (um to the
range ends) are in the JSON output, not scored.

No design: when no scanned geometry meets the limits, the closest ones are shown with their
(negative) margins, a one-line reason goes to stderr and the exit code is 2.

defaults: bore from a fifth of the largest the FSR allows (lambda^2/(pi n_core FSR)) up to it
(30-150 um without --min-fsr), wall {DEFAULT_WALL_UM[0]:g}-{DEFAULT_WALL_UM[1]:g} um, grid {DEFAULT_GRID[0]}x{DEFAULT_GRID[1]}.

examples:
  wgmfem design --wavelength 440 --min-fsr 1.0 --min-confinement 0.85
  wgmfem design --wavelength 440 --core toluene --wall fused-silica --min-confinement 0.7 --inner-diameter 60:100 --grid 3x1
      (dispersive materials: each mode is followed to self-consistency, ~2 s a geometry)
  wgmfem design --wavelength 440 --min-fsr 1.2 --min-confinement 0.8 --inner-diameter 30:40 --grid 4x2 --format json

""" + SENSOR_EPILOG


def grid_spec(text: str) -> tuple[int, int]:
    try:
        a, b = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected BORESxWALLS, e.g. 16x5, got {text!r}") from None
    if a < 1 or b < 1:
        raise argparse.ArgumentTypeError(f"grid sizes must be >= 1, got {text!r}")
    return a, b


def add_parser(sub) -> None:
    dp = sub.add_parser(
        "design", help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Propose capillaries (inner and outer diameter, um) whose p = 1 core mode at a target "
        "wavelength (nm) meets a minimum free spectral range (nm), Q and/or confinement, with the margin on each.",
    )
    t = dp.add_argument_group("target")
    t.add_argument("--wavelength", type=target_wavelength, required=True, metavar="NM", help="target vacuum wavelength, nm")
    t.add_argument("--pol", help="Ez or Hz (TM = Ez, TE = Hz) (default Ez; with --sensor both)")
    t.add_argument("--core", type=index_or_material, default=1.56, metavar="N", help="liquid: index or material (toluene, file.yml) (default 1.56)")
    t.add_argument("--wall", type=index_or_material, default=1.47, metavar="N", help="glass: index or material (fused-silica) (default 1.47)")
    t.add_argument("--outside", type=index_or_material, default=1.0, metavar="N", help="surrounding medium (default 1)")
    c = dp.add_argument_group("limits (give at least one of the first three)")
    c.add_argument("--min-fsr", type=positive_float, metavar="NM", help="smallest free spectral range, nm")
    c.add_argument("--min-q", type=positive_float, metavar="Q", help="smallest Q_total")
    c.add_argument("--min-confinement", type=positive_float, metavar="FRAC", help="smallest fraction of the electric energy in the core (0-1)")
    c.add_argument("--wall-thickness", type=float_range, metavar="MIN:MAX",
                   help=f"wall thickness range, um (default {DEFAULT_WALL_UM[0]:g}:{DEFAULT_WALL_UM[1]:g}; with --sensor 1:8)")
    c.add_argument("--inner-diameter", type=value_or_range, metavar="MIN:MAX",
                   help="bore range, um (default: from the FSR limit); with --sensor one value, the fixed bore")
    s = dp.add_argument_group("search and output")
    s.add_argument("--grid", type=grid_spec, default=DEFAULT_GRID, metavar="BORESxWALLS", help=f"scan points (default {DEFAULT_GRID[0]}x{DEFAULT_GRID[1]})")
    s.add_argument("--top", type=int, default=5, metavar="N", help="designs returned (default 5)")
    s.add_argument("--format", choices=("table", "json"), default="table")
    s.add_argument("--output", metavar="FILE", help="write to FILE (atomically) instead of standard output")
    s.add_argument("--quiet", action="store_true", help="no progress on stderr")
    add_sensor_options(dp)
    dp.set_defaults(run=run)


def target_wavelength(text: str) -> float:
    value = positive_float(text)
    if not MIN_WAVELENGTH_NM <= value <= MAX_WAVELENGTH_NM:
        raise argparse.ArgumentTypeError(f"wavelength must lie between {MIN_WAVELENGTH_NM:g} and {MAX_WAVELENGTH_NM:g} nm, got {text!r}")
    return value


def value_or_range(text: str) -> tuple[float, float]:
    """MIN:MAX, or one value V read as V:V."""
    if ":" not in text:
        value = positive_float(text)
        return value, value
    return float_range(text)


SENSOR_ONLY = ("outer_diameter", "min_sensitivity", "min_q_rad", "max_detection_limit", "max_drift", "extra_q",
               "core_dn_dt", "wall_dn_dt", "expansion", "plot")


def run(args) -> int:
    if isinstance(args.outside, complex):
        raise InputError("the outer medium must be lossless (real index)")
    progress = progress_printer(sys.stderr.isatty() and not args.quiet)
    if args.sensor:
        return run_sensor(args, progress)
    given = [name for name in SENSOR_ONLY if getattr(args, name) is not None]
    if given:
        raise InputError(f"--{given[0].replace('_', '-')} is a sensor option: add --sensor")
    try:
        result = design_capillaries(
            args.wavelength, pol=args.pol or "Ez", core=args.core, wall=args.wall, outside=args.outside,
            min_fsr_nm=args.min_fsr, min_q=args.min_q, min_confinement=args.min_confinement,
            wall_thickness_um=args.wall_thickness or DEFAULT_WALL_UM, inner_diameter_um=args.inner_diameter,
            grid=args.grid, top=args.top, progress=progress,
        )
    except DesignError as exc:
        raise InputError(str(exc)) from None
    emit(to_json(result.to_dict()) if args.format == "json" else table(result), args.output)
    if not result.feasible:
        sys.stderr.write(f"wgmfem: error: no design meets the limits among {result.scanned} geometries scanned "
                         f"({_closest_reason(result)})\n")
        return 2
    return 0


def _closest_reason(result: DesignResult) -> str:
    if not result.closest:
        return "no p = 1 core mode found near the target in any of them"
    best = result.closest[0]
    worst = min(best.margins, key=lambda name: best.margins[name])
    return f"closest: {best.inner_diameter_um:.2f}/{best.outer_diameter_um:.2f} um, {worst} {_pct(best.margins[worst])} relative to its limit"


def _pct(margin: float) -> str:
    if not math.isfinite(margin):
        return "far below"
    if margin > math.log(10):  # Q margins can be hundreds of decades
        return f"x{math.exp(min(margin, 700)):.2g}"
    return f"{100 * (math.exp(margin) - 1):+.1f} %"


def table(result: DesignResult) -> str:
    limits = ", ".join(f"{k} >= {v:g}" for k, v in result.limits.items())
    g = result.grid
    lines = [
        f"wgmfem design: target {result.target_nm:g} nm, limits {limits}",
        f"scanned {result.scanned} geometries: bore {g['inner_diameter_um'][0]:.3g}-{g['inner_diameter_um'][1]:.3g} um "
        f"({g['inner_diameter_um'][2]} points), wall {g['wall_thickness_um'][0]:.3g}-{g['wall_thickness_um'][1]:.3g} um "
        f"({g['wall_thickness_um'][2]} points)",
        "margins: ln(value/limit) in % above the limit; ranked by the smallest margin",
        "",
    ]
    rows = result.designs or result.closest
    if not result.designs:
        if not rows:
            lines.append("NO DESIGN: no scanned geometry has a p = 1 core mode near the target (too little core/wall contrast for the bore?)")
            return "\n".join(lines) + "\n"
        lines.append("NO DESIGN meets the limits; the closest geometries scanned:")
    header = (f"{'rank':>4} {'ID_um':>8} {'OD_um':>8} {'wall_um':>7} {'pol':<3} {'m':>5} {'lambda_nm':>10} {'FSR_nm':>7} "
              f"{'Q_total':>9} {'core%':>6}  margins")
    lines += [header, "-" * len(header)]
    for rank, d in enumerate(rows, 1):
        md = d.mode
        assert md is not None  # designs and closest geometries were solved
        margins = ", ".join(f"{k} {_pct(v)}" for k, v in d.margins.items())
        fsr = f"{md.fsr_nm:7.4f}" if md.fsr_nm else f"{'-':>7}"
        lines.append(
            f"{rank:>4} {d.inner_diameter_um:8.3f} {d.outer_diameter_um:8.3f} {d.wall_thickness_um:7.2f} {md.pol:<3} {md.m:>5d} "
            f"{md.wavelength_nm:10.4f} {fsr} {md.Q_total:9.3g} {100 * md.confinement_factor:6.1f}  {margins}"
            + (f"  [{d.note}]" if d.note else "")
        )
    return "\n".join(lines) + "\n"
