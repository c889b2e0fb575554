"""``wgmfem design --sensor``: the thinnest capillary wall whose modes meet sensitivity, Q,
FSR, detection-limit and thermal-drift limits at a target wavelength, with the design plot."""

from __future__ import annotations

import math
import sys

from ..report import to_json
from ..sensor import (
    DEFAULT_POINTS,
    DEFAULT_WALL_RANGE_UM,
    SensorDesign,
    SensorDesignError,
    SensorProblem,
    design_sensor,
    thermal_of,
)
from .common import InputError, figure_suffix_ok, positive_float, staged_outputs, write_text

SENSOR_EPILOG = f"""\
sensor mode (--sensor): the wall thickness is the design variable, at a fixed bore
(--inner-diameter D) or a fixed outer diameter (--outer-diameter D). Every (pol, p) family
of the region (auto: the wall when the liquid is below the glass) is solved at
--points wall thicknesses in --wall-thickness (default {DEFAULT_WALL_RANGE_UM[0]:g}:{DEFAULT_WALL_RANGE_UM[1]:g} um):
the mode of each family nearest the target, with its bulk sensitivity S (nm/RIU), Q_rad,
Q_total, FSR, detection limit (RIU) and thermal drift (nm/K). Per family, the thinnest wall that
meets every limit is bracketed by the grid and refined by bisection. Detection limit:
FRACTION * lambda / (Q_total S), FRACTION = --resolvable-fraction of a linewidth (default
0.01); Q_total holds --extra-q (coupling, scattering) and any absorption (complex index).
Drift: dn/dT of liquid and glass and the glass's expansion, from the built-in materials or
--core-dn-dt / --wall-dn-dt / --expansion. No design meeting the limits: the closest point
is shown, one line on stderr, exit code 2.

  wgmfem design --sensor --wavelength 1550 --inner-diameter 75 --core 1.318 --core-dn-dt=-8.7e-5 \\
      --wall fused-silica --min-q-rad 1e6 --min-sensitivity 30 --extra-q 1e6 --plot sensor.png
  (a negative number with an exponent needs '=': --core-dn-dt=-8.7e-5)
"""


def add_sensor_options(parser) -> None:
    s = parser.add_argument_group("sensor design (with --sensor)")
    s.add_argument("--sensor", action="store_true", help="design a ring-resonator sensor: the wall thickness at a fixed bore or outer diameter")
    s.add_argument("--outer-diameter", type=positive_float, metavar="UM", help="fixed outer diameter, um (instead of a fixed --inner-diameter)")
    s.add_argument("--min-sensitivity", type=positive_float, metavar="NM_PER_RIU", help="smallest bulk sensitivity d lambda/d n_liquid")
    s.add_argument("--min-q-rad", type=positive_float, metavar="Q", help="smallest radiation Q")
    s.add_argument("--max-detection-limit", type=positive_float, metavar="RIU", help="largest detection limit")
    s.add_argument("--max-drift", type=positive_float, metavar="NM_PER_K", help="largest |d lambda/dT|")
    s.add_argument("--p", default="1:2", metavar="P|P1:P2", help="radial orders (default 1:2)")
    s.add_argument("--region", default="auto", metavar="NAME", help="core, wall or auto (default auto)")
    s.add_argument("--points", type=int, default=DEFAULT_POINTS, metavar="N", help=f"wall thicknesses scanned (default {DEFAULT_POINTS})")
    s.add_argument("--extra-q", type=positive_float, metavar="Q", help="extra loss (coupling, scattering) as a Q, in Q_total and the detection limit")
    s.add_argument("--resolvable-fraction", type=positive_float, default=0.01, metavar="F", help="fraction of a linewidth resolved (default 0.01)")
    s.add_argument("--core-dn-dt", type=float, metavar="PER_K", help="dn/dT of the liquid, 1/K (default: the material's)")
    s.add_argument("--wall-dn-dt", type=float, metavar="PER_K", help="dn/dT of the glass, 1/K (default: the material's)")
    s.add_argument("--expansion", type=float, metavar="PER_K", help="linear thermal expansion of the glass, 1/K (default: the material's)")
    s.add_argument("--plot", metavar="FILE", help="write the design figure (S, Q, detection limit against wall thickness)")


def _p_range(text: str) -> tuple[int, int]:
    try:
        values = [int(v) for v in str(text).split(":")]
    except ValueError:
        raise InputError(f"--p must be P or P1:P2 (integers >= 1), got {text!r}") from None
    lo, hi = (values[0], values[-1]) if len(values) in (1, 2) else (0, -1)
    if not (1 <= lo <= hi <= 50):
        raise InputError(f"--p must be P or P1:P2 with 1 <= P1 <= P2 <= 50, got {text!r}")
    return lo, hi


def _fixed_diameter(args) -> tuple[float | None, float | None]:
    bore = args.inner_diameter
    if bore is not None:
        if bore[0] != bore[1]:
            raise InputError("with --sensor, --inner-diameter is one value (the fixed bore), not a range")
        bore = bore[0]
    if (bore is None) == (args.outer_diameter is None):
        raise InputError("with --sensor, fix the bore (--inner-diameter D) or the outer diameter (--outer-diameter D)")
    return bore, args.outer_diameter


def run_sensor(args, progress) -> int:
    bore, outer = _fixed_diameter(args)
    if args.plot:
        figure_suffix_ok(args.plot)
    for name in ("min_fsr", "min_confinement"):
        if name == "min_confinement" and getattr(args, name) is not None:
            raise InputError("--min-confinement is a laser limit; a sensor takes --min-sensitivity")
    for name, value in (("--core-dn-dt", args.core_dn_dt), ("--wall-dn-dt", args.wall_dn_dt), ("--expansion", args.expansion)):
        if value is not None and not (math.isfinite(value) and abs(value) < 1e-2):
            raise InputError(f"{name} must be a coefficient in 1/K with |value| < 1e-2, got {value!r}")
    if not 0 < args.resolvable_fraction <= 1:
        raise InputError(f"--resolvable-fraction must be in (0, 1], got {args.resolvable_fraction:g}")
    pols = ("Ez", "Hz") if args.pol in (None, "both") else (args.pol,)
    problem = SensorProblem(
        args.wavelength, args.core, args.wall, args.outside, inner_diameter_um=bore, outer_diameter_um=outer,
        pols=pols, p=_p_range(args.p), region=args.region, extra_q=args.extra_q,
        resolvable_fraction=args.resolvable_fraction,
        thermal=thermal_of(args.core, args.wall, args.wavelength, args.core_dn_dt, args.wall_dn_dt, args.expansion),
    )
    limits = {"min_sensitivity": args.min_sensitivity, "min_q_rad": args.min_q_rad, "min_q_total": args.min_q,
              "min_fsr": args.min_fsr, "max_detection_limit": args.max_detection_limit, "max_drift": args.max_drift}
    if all(v is None for v in limits.values()):
        raise InputError("give at least one limit: --min-sensitivity, --min-q-rad, --min-q, --min-fsr, "
                         "--max-detection-limit or --max-drift")
    with staged_outputs({"--output": args.output, "--plot": args.plot}) as staged:  # all files or none
        try:
            design = design_sensor(problem, limits, args.wall_thickness or DEFAULT_WALL_RANGE_UM, args.points, progress)
        except SensorDesignError as exc:
            raise InputError(str(exc)) from None
        text = to_json(design.to_dict()) if args.format == "json" else sensor_table(design)
        if args.plot:
            _write_plot(design, staged[args.plot])
        if args.output:
            write_text(staged[args.output], text)
    if not args.output:
        sys.stdout.write(text)
    if design.best is None:
        sys.stderr.write(f"wgmfem: error: no wall thickness in {design.walls_um[0]:g}-{design.walls_um[-1]:g} um meets "
                         f"the limits ({_closest(design)})\n")
        return 2
    return 0


def _write_plot(design: SensorDesign, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plot_sensor import plot_sensor_design

    axes = plot_sensor_design(design)
    fig = axes[0].figure
    fig.tight_layout()
    fig.savefig(path, dpi=150)  # a staged file (see staged_outputs)
    plt.close(fig)


def _closest(design: SensorDesign) -> str:
    rows = [a for a in design.answers if a.closest is not None]
    if not rows:
        return "no mode of the asked families found near the target"
    best = max(rows, key=lambda a: min(a.margins.values()))
    worst = min(best.margins, key=lambda name: best.margins[name])
    pt = best.closest
    assert pt is not None  # rows have a closest point
    return (f"closest: {pt.pol} p={pt.p} at a {pt.wall_thickness_um:.2f} um wall, {worst.replace('_', ' ')} "
            f"{_ratio(best.margins[worst])} of its limit")


def _ratio(margin: float) -> str:
    return "far from" if not math.isfinite(margin) else f"x{math.exp(margin):.3g}"


def _num(value, fmt: str) -> str:
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else format(value, fmt)


def sensor_table(design: SensorDesign) -> str:
    pr = design.problem
    fixed = f"bore {pr.inner_diameter_um:g} um" if pr.inner_diameter_um is not None else f"outer diameter {pr.outer_diameter_um:g} um"
    limits = ", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in design.limits.items())
    lines = [
        f"wgmfem design --sensor: target {pr.target_nm:g} nm, {fixed}, region {pr.region}, limits: {limits}",
        f"scanned {len(design.walls_um)} wall thicknesses {design.walls_um[0]:g}-{design.walls_um[-1]:g} um; "
        f"detection limit at {pr.resolvable_fraction:g} of a linewidth"
        + (f", extra Q {pr.extra_q:g}" if pr.extra_q else "") + ("" if pr.thermal else "; drift: no dn/dT data (give --core-dn-dt ...)"),
        "",
    ]
    header = (f"{'pol':<3} {'p':>2} {'wall_um':>8} {'OD_um':>8} {'m':>5} {'lambda_nm':>10} {'S_nm/RIU':>10} {'Q_rad':>9} "
              f"{'Q_total':>9} {'FSR_nm':>7} {'DL_RIU':>9} {'nm/K':>9}  verdict")
    lines += [header, "-" * len(header)]
    if not pr.extra_q and all(pt.mode.Q_total == pt.mode.Q_rad for pt in design.scan):
        lines.insert(2, "note: Q_total = Q_rad (no absorption, no --extra-q): the detection limit assumes radiation is the only loss")
    best = design.best
    for a in design.answers:
        pt = a.point or a.closest
        if pt is None:
            lines.append(f"{a.pol:<3} {a.p:>2}  no mode of this family found near the target")
            continue
        md = pt.mode
        verdict = "thinnest wall meeting the limits" if a.feasible else "NO wall in range meets the limits (closest shown)"
        if a.limited_by:
            verdict += f" (thinner: {a.limited_by})"
        if a.at_range_start:
            verdict = "meets the limits at the thinnest wall scanned (a thinner one may too)"
        if best is a:
            verdict += "  <- best"
        lines.append(
            f"{a.pol:<3} {a.p:>2} {pt.wall_thickness_um:8.3f} {pt.outer_diameter_um:8.3f} {md.m:>5d} {md.wavelength_nm:10.4f} "
            f"{pt.sensitivity_nm_per_riu:10.4g} {md.Q_rad:9.3g} {md.Q_total:9.3g} {_num(md.fsr_nm, '7.4f'):>7} "
            f"{_num(pt.detection_limit_riu, '9.2e'):>9} {_num(pt.drift_nm_per_K, '9.2e'):>9}  {verdict}"
        )
    return "\n".join(lines) + "\n"
