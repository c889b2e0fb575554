"""The ``wgmfem`` command line: argument parsing and printing only; the physics is elsewhere.

Lengths in um, wavelengths in nm. Errors in the input give one line on stderr and
exit code 2.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
import warnings

from . import __version__
from .geometry import (
    PAPER_CORE_INDEX,
    PAPER_INNER_DIAMETER_UM,
    PAPER_OUTER_DIAMETER_UM,
    PAPER_WALL_INDEX,
    GeometryError,
    LayeredCylinder,
    MaterialStack,
    capillary_stack,
)
from .materials import BUILTIN_MATERIALS, MaterialRangeError, get_material, strict_range
from .report import modes_to_csv, modes_to_json, modes_to_table, write_atomically
from .solve import SearchError, find_modes

DEFAULT_WINDOW_NM = (425.0, 445.0)
DEFAULT_P = (1, 2)
ENGINE_NAMES = {"exact": "exact Bessel/Hankel solver", "fem1d": "1-D radial FEM (seeded by the exact census)"}

MODES_EPILOG = """\
defaults: the paper's capillary (54/78 um, core 1.56, wall 1.47, air), core modes
with p = 1..2 in 425-445 nm, both polarizations. --region any / --p any lift a filter.
With --m and --p but no --wavelength each mode is found wherever it lies.

polarizations: Ez = E along the fibre axis, Hz = H along the axis; aliases in the
2-D photonics sense: TM = Ez, TE = Hz.

examples:
  wgmfem modes
  wgmfem modes --pol Ez --m 600 --p 1 --region core --format json
  wgmfem modes --inner-diameter 30 --outer-diameter 50 --core 1.51 --wavelength 430:450
  wgmfem modes --layers 3:1.56 --outside 1 --pol Hz --m 30 --p 2
  wgmfem modes --wavelength 431.9:432.3 --m 590:610 --region any --p any --format csv --output modes.csv
  wgmfem modes --engine fem1d --m 600 --p 1:2 --pol Ez
"""


class InputError(Exception):
    """Bad command-line input (one line of message)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse would print the usage block too)
        raise InputError(f"{message} (see '{self.prog} --help')")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _index(text: str):
    """A refractive index: a number, a complex number (n+kj, k > 0 absorbs) or a material
    (built-in name, refractiveindex.info YAML file)."""
    for kind in (float, complex):
        try:
            value = kind(text.replace("i", "j") if kind is complex else text)
        except ValueError:
            continue
        if not (math.isfinite(value.real) and math.isfinite(value.imag)) or value.real <= 0:
            raise argparse.ArgumentTypeError(f"refractive index must have a positive real part, got {text!r}")
        return value
    try:
        return get_material(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).splitlines()[0]) from None


def _float_range(text: str) -> tuple[float, float]:
    parts = text.split(":")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected MIN:MAX, got {text!r}")
    try:
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two numbers MIN:MAX, got {text!r}") from None
    return lo, hi


def _int_range(name: str):
    def parse(text: str):
        if text.strip().lower() == "any":
            return "any"
        parts = text.split(":")
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer N or a range N1:N2, got {text!r}") from None
        if len(values) == 1:
            return values[0], values[0]
        if len(values) == 2:
            return values[0], values[1]
        raise argparse.ArgumentTypeError(f"{name} must be N or N1:N2, got {text!r}")

    return parse


def _layers(text: str) -> list[tuple[float, float]]:
    layers = []
    for item in text.split(","):
        parts = item.split(":")
        if len(parts) != 2:
            raise argparse.ArgumentTypeError(f"each layer is RADIUS_UM:INDEX, got {item!r}")
        try:
            radius = float(parts[0])
        except ValueError:
            raise argparse.ArgumentTypeError(f"each layer is RADIUS_UM:INDEX, got a radius of {parts[0]!r}") from None
        layers.append((radius, _index(parts[1])))
    return layers


def _geometry_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("geometry (lengths in um)")
    g.add_argument("--inner-diameter", type=_positive_float, metavar="UM", help=f"bore diameter (default {PAPER_INNER_DIAMETER_UM:g})")
    g.add_argument("--outer-diameter", type=_positive_float, metavar="UM", help=f"fibre diameter (default {PAPER_OUTER_DIAMETER_UM:g})")
    g.add_argument("--core", type=_index, metavar="N", help=f"liquid core: index (1.56, 1.56+1e-4j) or material (toluene, file.yml) (default {PAPER_CORE_INDEX:g})")
    g.add_argument("--wall", type=_index, metavar="N", help=f"glass wall: index or material (fused-silica, ...) (default {PAPER_WALL_INDEX:g})")
    g.add_argument("--outside", type=_index, metavar="N", default=1.0, help="surrounding medium: index or material (default 1)")
    g.add_argument("--strict", action="store_true", help="a material used outside its validity range is an error (default: a warning)")
    g.add_argument(
        "--layers", type=_layers, metavar="R1:N1,R2:N2,...",
        help="any other stack: outer radius (um) and index of each layer from the centre out, "
        "e.g. '3:1.56' for a rod; replaces the capillary options",
    )


def build_geometry(args) -> LayeredCylinder | MaterialStack:
    """A LayeredCylinder when every index is a number, else a MaterialStack (dispersive)."""
    if args.layers is not None:
        clash = [o for o in ("inner_diameter", "outer_diameter", "core", "wall") if getattr(args, o) is not None]
        if clash:
            raise InputError(f"--layers replaces --{clash[0].replace('_', '-')}; give one or the other")
        radii = tuple(r for r, _ in args.layers)
        indices = tuple(n for _, n in args.layers)
        if all(isinstance(n, (float, complex)) for n in indices + (args.outside,)):
            return LayeredCylinder(radii, indices, args.outside)
        return MaterialStack(radii, indices, args.outside)
    return capillary_stack(
        args.inner_diameter or PAPER_INNER_DIAMETER_UM,
        args.outer_diameter or PAPER_OUTER_DIAMETER_UM,
        args.core if args.core is not None else PAPER_CORE_INDEX,
        args.wall if args.wall is not None else PAPER_WALL_INDEX,
        args.outside,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="wgmfem", description="Whispering-gallery modes of liquid-filled capillaries and layered cylinders.")
    parser.add_argument("--version", action="version", version=f"wgmfem {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    modes = sub.add_parser(
        "modes", help="list the resonances of a fibre (exact solver)",
        description="Every whispering-gallery mode of a layered cylinder in a window, labelled (pol, m, p, region), "
        "with wavelength, radiation Q, FSR, group index and energy fractions; each one verified.",
        epilog=MODES_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _geometry_options(modes)
    fld = sub.add_parser(
        "field", help="plot one mode: field map of the cross-section and radial profile",
        description="A zoomed map of Re(u) (u = Ez or Hz) over a few azimuthal periods and the normalized "
        "radial profile |u|^2 across the guiding interface (the paper's Fig. 3c-d), as PNG, SVG or PDF, "
        "plus the profile as CSV.",
        epilog="examples:\n  wgmfem field --pol Ez --m 600 --p 1 --output field.png --csv profile.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _geometry_options(fld)
    fld.add_argument("--pol", default="Ez", help="Ez or Hz (TM = Ez, TE = Hz) (default Ez)")
    fld.add_argument("--m", type=int, required=True, help="azimuthal number")
    fld.add_argument("--p", type=int, default=1, help="radial order (default 1)")
    fld.add_argument("--region", default="core", help="region of the mode (default core)")
    fld.add_argument("--periods", type=_positive_float, default=3.0, help="azimuthal periods shown in the map (default 3)")
    fld.add_argument("--output", metavar="FILE", help="figure file, .png/.svg/.pdf (default field_<pol>_m<m>_p<p>.png)")
    fld.add_argument("--csv", metavar="FILE", help="also write the radial profile (r_um, intensity) as CSV")
    mats = sub.add_parser(
        "materials", help="list the built-in materials, or print n(lambda) of one",
        description="Built-in refractive-index models (PHYSICS.md section 4), or the index of one material "
        "(built-in name, number, or refractiveindex.info YAML file) over a wavelength range.",
        epilog="examples:\n  wgmfem materials\n  wgmfem materials toluene --wavelength 400:500:20",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mats.add_argument("material", nargs="?", type=_index, help="built-in name, number or YAML file")
    mats.add_argument("--wavelength", default="400:500:10", metavar="MIN:MAX[:STEP]", help="in nm (default 400:500:10)")
    mats.add_argument("--strict", action="store_true", help="outside the validity range is an error")
    s = modes.add_argument_group("what to find")
    s.add_argument("--pol", default="both", help="Ez, Hz or both (TM = Ez, TE = Hz) (default both)")
    s.add_argument("--wavelength", type=_float_range, metavar="MIN:MAX", help="vacuum wavelength window in nm (default 425:445)")
    s.add_argument("--m", type=_int_range("--m"), metavar="M|M1:M2", help="azimuthal number(s)")
    s.add_argument("--p", type=_int_range("--p"), metavar="P|P1:P2", help="radial order(s), or 'any' (default 1:2)")
    s.add_argument("--region", metavar="NAME", help="core, wall, ... or 'any' (default core)")
    s.add_argument("--q-min", type=_positive_float, default=100.0, metavar="Q", help="smallest radiation Q listed in a window (default 100)")
    s.add_argument("--no-fsr", action="store_true", help="skip FSR and group index (saves solving m +- 1)")
    s.add_argument("--extra-q", type=_positive_float, metavar="Q", help="extra loss (scattering, coupling) as a Q, added to every mode's Q_total")
    s.add_argument("--extra-loss", type=_positive_float, metavar="DB_PER_CM", help="extra loss as propagation loss along the circumference, dB/cm")
    e = modes.add_argument_group("engine")
    e.add_argument(
        "--engine", choices=("exact", "fem1d"), default="exact",
        help="exact Bessel/Hankel solution (default) or the 1-D radial FEM (seeded by the exact census)",
    )
    e.add_argument("--order", type=int, default=4, metavar="P", help="FEM element degree (default 4)")
    e.add_argument("--points-per-wavelength", type=_positive_float, default=40.0, metavar="N", help="FEM nodal points per local wavelength (default 40)")
    e.add_argument("--pml-width", type=_positive_float, default=2.0, metavar="W", help="FEM PML width in outside wavelengths (default 2)")
    o = modes.add_argument_group("output")
    o.add_argument("--format", choices=("table", "json", "csv"), default="table")
    o.add_argument("--output", metavar="FILE", help="write to FILE (atomically) instead of standard output")
    o.add_argument("--quiet", action="store_true", help="no progress or summary on stderr")
    return parser


def _progress_printer(enabled: bool):
    if not enabled:
        return None
    start = time.perf_counter()

    def show(stage: str, done: int, total: int) -> None:
        sys.stderr.write(f"\r{stage}: {done}/{total} boxes, {time.perf_counter() - start:.1f} s ")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def run_materials(args) -> int:
    if args.material is None:
        for name, factory in BUILTIN_MATERIALS.items():
            sys.stdout.write(f"{name:<18} {factory().describe()}\n")
        return 0
    material = args.material if not isinstance(args.material, (float, complex)) else get_material(args.material)
    try:
        parts = [float(v) for v in args.wavelength.split(":")]
    except ValueError:
        raise InputError(f"--wavelength takes MIN:MAX[:STEP] in nm, got {args.wavelength!r}") from None
    if len(parts) == 2:
        parts.append((parts[1] - parts[0]) / 10)
    if len(parts) != 3 or parts[0] <= 0 or parts[1] < parts[0] or parts[2] <= 0:
        raise InputError(f"--wavelength takes MIN:MAX[:STEP] with 0 < MIN <= MAX and STEP > 0, got {args.wavelength!r}")
    lams = [parts[0] + i * parts[2] for i in range(int(round((parts[1] - parts[0]) / parts[2])) + 1)]
    values = [complex(material.index(lam, strict=args.strict or None)) for lam in lams]  # errors before output
    lines = [f"# {material.describe()}", "# wavelength_nm  n  kappa"]
    lines += [f"{lam:10.3f}  {n.real:.6f}  {n.imag:.3e}" for lam, n in zip(lams, values)]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def run_field(args) -> int:
    import os

    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    from .plot import plot_field_map, plot_radial_profile, radial_profile

    cyl = build_geometry(args)
    if args.m < 0 or args.p < 1:
        raise InputError("--m must be >= 0 and --p >= 1")
    output = args.output or f"field_{args.pol}_m{args.m}_p{args.p}.png"
    suffix = os.path.splitext(output)[1].lower()
    if suffix not in (".png", ".svg", ".pdf"):
        raise InputError(f"--output must end in .png, .svg or .pdf, got {output!r}")
    modes = find_modes(cyl, pol=args.pol, m=args.m, p=args.p, region=args.region, fsr=False)
    if len(modes) != 1:
        raise InputError(f"expected one mode, found {len(modes)}; give a single --pol")
    mode = modes[0]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.2, 1]})
    plot_field_map(mode, left, periods=args.periods)
    plot_radial_profile(mode, right)
    fig.tight_layout()
    folder = os.path.dirname(os.path.abspath(output))
    fd, tmp = tempfile.mkstemp(prefix=".wgmfem-", suffix=suffix, dir=folder)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=150)
        os.replace(tmp, output)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    if args.csv:
        r, intensity = radial_profile(mode)
        rows = "r_um,intensity\n" + "".join(f"{a:.6f},{b:.6e}\n" for a, b in zip(r, intensity))
        write_atomically(args.csv, rows)
    sys.stdout.write(f"{mode!r}\nwrote {output}" + (f" and {args.csv}" if args.csv else "") + "\n")
    return 0


def run_modes(args) -> int:
    cyl = build_geometry(args)
    m_range = None if args.m in (None, "any") else args.m
    if args.p == "any":
        p_range = None
    else:
        p_range = args.p if args.p is not None else (None if (m_range and args.wavelength is None) else DEFAULT_P)
    region = None if (args.region or "").lower() == "any" else (args.region or "core")
    family = args.wavelength is None and m_range is not None and args.p not in (None, "any")
    window = None if family else (args.wavelength or DEFAULT_WINDOW_NM)
    if window is None and p_range is None:
        raise InputError("without --wavelength, give both --m and --p")
    progress = _progress_printer(sys.stderr.isatty() and not args.quiet)
    t0 = time.perf_counter()
    modes = find_modes(
        cyl, pol=args.pol, wavelength_nm=window, m=m_range, p=p_range, region=region,
        q_min=args.q_min, fsr=not args.no_fsr, progress=progress, engine=args.engine,
        fem_order=args.order, fem_points_per_wavelength=args.points_per_wavelength, fem_pml_width_wavelengths=args.pml_width,
        extra_q=args.extra_q, extra_loss_db_per_cm=args.extra_loss,
    )
    elapsed = time.perf_counter() - t0
    if args.format == "json":
        text = modes_to_json(modes)
    elif args.format == "csv":
        text = modes_to_csv(modes)
    else:
        text = _table_header(cyl, args, window, p_range, region, modes, elapsed) + modes_to_table(modes)
    if args.output:
        write_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    if not args.quiet and (args.output or args.format != "table"):
        unverified = sum(1 for md in modes if not md.verification.get("census_ok", True))
        sys.stderr.write(f"wgmfem: {len(modes)} modes in {elapsed:.2f} s" + (f", {unverified} UNVERIFIED" if unverified else "") + "\n")
    return 0


def _table_header(cyl, args, window, p_range, region, modes, elapsed) -> str:
    what = f"{window[0]:g}-{window[1]:g} nm" if window else "each (m, p) wherever it lies"
    filters = [f"region {region or 'any'}", f"p {p_range[0]}-{p_range[1]}" if p_range else "any p"]
    if args.m not in (None, "any"):
        filters.append(f"m {args.m[0]}-{args.m[1]}")
    unverified = sum(1 for md in modes if not md.verification.get("census_ok", True))
    status = "every search box verified by an independent argument-principle count" if not unverified else f"{unverified} modes UNVERIFIED (see note)"
    return (
        f"wgmfem {__version__}, {ENGINE_NAMES[args.engine]}\n"
        f"fibre : {cyl.describe()}\n"
        f"search: {what}, {', '.join(filters)}, Q_rad >= {args.q_min:g}, pol {args.pol}\n"
        f"found : {len(modes)} modes in {elapsed:.2f} s; {status}\n\n"
    )


def _one_line_warnings() -> None:
    """Warnings (e.g. a material outside its validity range) as one line each, once."""
    seen = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = f"wgmfem: warning: {message}"
        if text not in seen:
            seen.add(text)
            sys.stderr.write(text + "\n")

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        _one_line_warnings()
        with strict_range(bool(getattr(args, "strict", False))):
            runner = {"materials": run_materials, "field": run_field, "modes": run_modes}[args.command]
            return runner(args)
    except (InputError, GeometryError, SearchError, MaterialRangeError) as exc:
        sys.stderr.write(f"wgmfem: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("wgmfem: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
