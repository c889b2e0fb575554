"""``wgmfem axial``: the axial states of one cross-section family along a capillary whose radii
vary slowly with z (a bottle, a neck, a taper, a step: SNAP resonators), as a table, JSON or
CSV, and optionally the figure of the cutoff and the states."""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from typing import TYPE_CHECKING

from .. import __version__
from ..axial.profile import SPEC_HELP, AxialProfile, ProfileError, profile_from_spec, read_profile
from ..polarization import normalize_pol
from ..report import finite_or_none, to_json
from .axial_axisym import DEFAULT_FEM_POINTS, FEM_POINTS_RANGE, SHAPE_HELP, run_profile_axisym, run_shape
from .common import (
    InputError,
    add_geometry_options,
    build_geometry,
    command_progress,
    emit,
    figure_suffix_ok,
    progress_step,
    staged_outputs,
    write_text,
)

if TYPE_CHECKING:
    from ..axial.modes import AxialResult

HELP = "axial states of a capillary whose radii vary along z (bottle, neck, taper, step)"
SPEC_KINDS = ("parabolic", "gaussian", "taper", "step")
#: Largest |dr/dz| for which the adiabatic axial equation is trusted without a note.
ADIABATIC_SLOPE = 1e-2
#: Flat CSV columns: the records' fields, then the numbers of their verification.
CSV_COLUMNS = (
    "pol", "m", "p", "region", "q", "wavelength_nm", "k_real", "k_imag", "Q_total", "Q_axial", "Q_cross_section",
    "confined", "q_verified", "axial_spacing_nm", "error_estimate_nm", "adiabatic_shift_nm", "quartic_shift_nm", "curvature_shift_nm", "alpha_shift_nm",
    "axial_curvature",
    "axial_quartic_um2", "cutoff_min_nm", "cutoff_max_nm",
    "dlambda_c_dr_in_nm_per_um", "dlambda_c_dr_out_nm_per_um",
    "cutoff_points_solved", "dispersion_factor", "max_radius_slope", "shortest_axial_wavelength_um", "axial_unknowns",
    "curvature_johnson_check",
)

AXIAL_EPILOG = f"""\
--profile is a CSV file (header z_um,r_in_um,r_out_um[,core_index]; lengths in um) or a
built-in shape around the capillary of the geometry options (heights in nm, lengths in um):
  {SPEC_HELP}
The radii of the geometry options are the ends of a built-in shape; a CSV file gives the radii
itself (the geometry options then give the indices only).

The local cutoff lambda_c(z) is the exact beta = 0 resonance of the family at every profile
point; the states solve alpha Psi'' + (k^2 - k_c(z)^2) Psi = 0 (adiabatic: |dr/dz| << 1e-2).
q = 0 is the state nearest the longest cutoff wavelength (the centre of a bottle).

examples:
  wgmfem axial --profile gaussian:50:30 --m 600 --count 4
  wgmfem axial --profile parabolic:20:100 --pol Hz --m 600 --p 1 --format json
  wgmfem axial --profile step:10:60:inner=0 --region wall --m 600 --plot axial.png   (outer radius only)
  wgmfem axial --profile profile.csv --core 1.56 --wall 1.47 --m 600 --format csv --output states.csv

--shape solves a body of revolution by the full-vector axisymmetric FEM instead (fields
E(r, z) exp(i m phi), Nedelec/Lagrange elements, PML): the modes of azimuthal order --m
near the exact (l = m, --p, --pol) resonance, labelled (pol, p, q; l = m + q) from their
fields, each beside the exact resonance of its label. For a sphere TE/TM take the sphere
literature's sense (TE: no radial E, Ez-like).
  wgmfem axial --shape sphere:10:1.45 --engine axisym --m 50 --p 1 --pol TE --format json
  wgmfem axial --shape shell:7:10:1.33:1.45 --engine axisym --m 50 --region wall --pol TM
"""


def _points_per_wavelength(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--fem-points {text!r}: expected a number") from None
    low, high = FEM_POINTS_RANGE
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"--fem-points {text!r}: must lie in {low:g}..{high:g} points per wavelength")
    return value


def _int_at_least(name: str, lowest: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"{name} must be >= {lowest}, got {value}")
        return value

    return parse


def add_parser(sub) -> None:
    axial = sub.add_parser(
        "axial", help=HELP,
        description="The axial states (q = 0, 1, ...) of one whispering-gallery family (pol, m, p, region) along a "
        "capillary whose radii vary slowly with z: wavelength, spacing, Q (cross-section and axial leakage), "
        "from the exact cutoff at every profile point and the adiabatic axial equation.",
        epilog=AXIAL_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_geometry_options(axial)
    s = axial.add_argument_group("what to find")
    body = s.add_mutually_exclusive_group(required=True)
    body.add_argument("--profile", metavar="FILE|SPEC",
                      help="radii along z: a CSV file or a built-in shape (see below)")
    body.add_argument("--shape", metavar="SPEC", help=f"a body of revolution for the axisymmetric FEM: {SHAPE_HELP}")
    s.add_argument("--engine", choices=("adiabatic", "axisym"),
                   help="adiabatic axial equation (default for --profile) or the axisymmetric vector FEM (--shape, or --profile)")
    s.add_argument("--pol", default="Ez",
                   help="Ez or Hz (TM = Ez, TE = Hz) (default Ez); for --shape sphere: TE (Ez-like) or TM (Hz-like)")
    s.add_argument("--m", type=_int_at_least("--m", 0), required=True, metavar="M", help="azimuthal number")
    s.add_argument("--p", type=_int_at_least("--p", 1), default=1, metavar="P", help="radial order (default 1)")
    s.add_argument("--region", metavar="NAME", help="core, wall or 'auto' (default auto: the region that guides)")
    s.add_argument("--count", type=_int_at_least("--count", 1), default=5, metavar="N",
                   help="how many axial states, lowest first (default 5)")
    f = axial.add_argument_group("axisymmetric FEM")
    f.add_argument("--fem-points", type=_points_per_wavelength, metavar="N",
                   help=f"elements sized for N points per local wavelength across (degree 3; default "
                        f"{DEFAULT_FEM_POINTS:g}); fewer: less memory and time, larger discretization error "
                        "(docs/performance.md)")
    o = axial.add_argument_group("output")
    o.add_argument("--format", choices=("table", "json", "csv"), default="table")
    o.add_argument("--output", metavar="FILE", help="write to FILE (atomically) instead of standard output")
    o.add_argument("--plot", metavar="FILE", help="figure of the radii, the cutoff and the states (.png, .svg, .pdf)")
    o.add_argument("--vtu", metavar="FILE", help="--engine axisym: the modes' fields on the (r, z) mesh as VTU (ParaView)")
    o.add_argument("--quiet", action="store_true", help="no progress or summary on stderr")
    axial.set_defaults(run=run)


def load_profile(text: str, cylinder, args) -> tuple[AxialProfile, str]:
    """The profile named by --profile and a one-line description of where it came from."""
    kind = text.strip().split(":", 1)[0].lower()
    if kind in SPEC_KINDS and not os.path.isfile(text):
        r_in, r_out = cylinder.radii_um
        return profile_from_spec(text, r_in, r_out), f"{text.strip()} around r_in {r_in:g} um, r_out {r_out:g} um"
    given = [o for o in ("inner_diameter", "outer_diameter") if getattr(args, o) is not None]
    if given:
        raise InputError(f"--profile {text!r} is a file that gives the radii: drop --{given[0].replace('_', '-')}")
    if not os.path.exists(text):
        raise ProfileError(f"no profile file {text!r}; --profile is a CSV file or a built-in shape: {SPEC_HELP}")
    return read_profile(text), f"file {text}"


def run(args) -> int:
    if args.shape:
        return run_shape(args)
    if args.vtu and args.engine != "axisym":
        raise InputError("--vtu writes the fields of the axisymmetric FEM: add --engine axisym")
    if args.fem_points is not None and args.engine != "axisym":
        raise InputError("--fem-points sets the axisymmetric FEM's mesh: add --engine axisym")
    try:
        args.pol = normalize_pol(args.pol)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if args.plot:
        figure_suffix_ok(args.plot)
    cyl = build_geometry(args)
    if cyl.n_layers != 2:
        raise InputError(f"an axial profile describes a capillary (core and wall): --layers gave {cyl.n_layers} layers")
    profile, source = load_profile(args.profile, cyl, args)
    if args.engine == "axisym":
        return run_profile_axisym(args, profile, cyl, source)
    from ..axial.modes import find_axial_modes  # imported here: keeps `wgmfem modes` from loading the axial solver

    progress = command_progress(args)
    t0 = time.perf_counter()
    with progress_step(progress, "axial modes"):
        result = find_axial_modes(profile, cyl, pol=args.pol, m=args.m, p=args.p, region=args.region, count=args.count)
    elapsed = time.perf_counter() - t0
    if args.format == "json":
        text = to_json(result.records())
    elif args.format == "csv":
        text = axial_csv(result)
    else:
        text = table_header(result, source, elapsed) + axial_table(result)
    with staged_outputs({"--output": args.output, "--plot": args.plot}) as staged:
        if args.plot:
            with progress_step(progress, "figure"):
                _write_figure(result, staged[args.plot])
        if args.output:
            write_text(staged[args.output], text)
    if not args.output:
        emit(text, None)
    if not args.quiet and (args.output or args.format != "table"):
        sys.stderr.write(f"wgmfem: {len(result.modes)} axial states in {elapsed:.2f} s\n")
    return 0


def _write_figure(result: AxialResult, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    from ..plot_axial import plot_axial

    top, _ = plot_axial(result)
    fig = top.figure
    try:
        fig.savefig(path, dpi=150)
    finally:
        plt.close(fig)


def csv_rows(result: AxialResult) -> list[dict]:
    """The records with their verification numbers as columns of their own (its text dropped)."""
    rows = []
    for record in result.records():
        verification = record.pop("verification")
        record.update({k: v for k, v in verification.items() if k in CSV_COLUMNS})
        rows.append(finite_or_none(record))
    return rows


def axial_csv(result: AxialResult) -> str:
    """One CSV row per axial state (:data:`CSV_COLUMNS`; an empty cell: infinite or not computed)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(result))
    return buffer.getvalue()


def _range(values, unit: str, digits: int = 6) -> str:
    lo, hi = float(min(values)), float(max(values))
    return f"{lo:.{digits}g} {unit}" if lo == hi else f"{lo:.{digits}g} .. {hi:.{digits}g} {unit}"


def table_header(result: AxialResult, source: str, elapsed: float) -> str:
    """The fibre, the profile, the reference mode, the cutoff's slopes and the adiabatic check."""
    ref, profile, check = result.reference, result.profile, result.verification
    slopes = result.cutoff_slopes_nm_per_um
    slope = check.get("max_radius_slope", float("nan"))
    note = (f"  NOTE: |dr/dz| > {ADIABATIC_SLOPE:g}: the adiabatic axial equation is questionable"
            if slope > ADIABATIC_SLOPE else "")
    lines = [
        f"wgmfem {__version__}, axial states: exact cutoff at every profile point, adiabatic axial equation",
        f"fibre    : {ref.cylinder.describe()} (at z = {result.reference_z_um:g} um)",
        f"profile  : {source}; {profile.num_points} points, z {_range(profile.z_um, 'um')}, "
        f"r_in {_range(profile.r_in_um, 'um', 7)}, r_out {_range(profile.r_out_um, 'um', 7)}",
        f"reference: {ref.label()} at z = {result.reference_z_um:g} um: lambda {ref.wavelength_nm:.5f} nm, Q {ref.Q_total:.3g}",
        f"cutoff   : lambda_c {_range(result.cutoff_wavelength_nm, 'nm', 9)}; alpha {result.alpha:.5g}; "
        f"d lambda_c/d r_in {slopes['r_in']:.4g} nm/um, d lambda_c/d r_out {slopes['r_out']:.4g} nm/um",
        f"adiabatic: max |dr/dz| {slope:.2g}, shortest axial wavelength "
        f"{check.get('shortest_axial_wavelength_um', float('nan')):.3g} um{note}",
        f"found    : {len(result.modes)} axial states in {elapsed:.2f} s",
    ]
    unverified = [md.q for md in result.modes if not md.q_verified]
    if unverified:
        lines.append(f"NOTE     : q = {', '.join(map(str, unverified))}: the nodes of psi differ from the state's place "
                     "in the ordering by wavelength (a rough or noisy profile?): axial orders not verified")
    for name, key in (("quartic", "axial_quartic"), ("curvature", "interface_curvature"), ("alpha", "alpha_along_z")):
        if str(check.get(key, "")).startswith("not applied"):
            lines.append(f"NOTE     : the {name} term is {check[key]}")
    return "\n".join(lines) + "\n\n"


def axial_table(result: AxialResult) -> str:
    """One line per axial state: q, wavelength, spacing to the next, Q, confinement, the numerical
    error estimate, the first-order shift by the term the adiabatic equation drops, and the shifts
    by the quartic axial dispersion, the interfaces' curvature and the change of alpha along z
    (included in the wavelength)."""
    header = (f"{'q':>3} {'lambda_nm':>12} {'spacing_nm':>11} {'Q_total':>9} {'Q_axial':>9} {'confined':>8} {'err_nm':>8} "
              f"{'adiab_nm':>9} {'quart_nm':>9} {'curv_nm':>9} {'alpha_nm':>9}")
    lines = [header, "-" * len(header)]
    for md in result.modes:
        spacing = f"{md.spacing_nm:11.6f}" if md.spacing_nm == md.spacing_nm else f"{'-':>11}"
        q_axial = f"{md.Q_axial:9.3g}" if md.Q_axial != float("inf") else f"{'inf':>9}"
        lines.append(
            f"{md.q:>3d} {md.wavelength_nm:12.6f} {spacing} {md.Q_total:9.3g} {q_axial} "
            f"{'yes' if md.confined else 'no':>8} {md.error_estimate_nm:8.1e} {md.adiabatic_shift_nm:9.1e} {md.quartic_shift_nm:9.1e} {md.curvature_shift_nm:9.1e} {md.alpha_shift_nm:9.1e}"
            + ("" if md.q_verified else "  q UNVERIFIED")
        )
    return "\n".join(lines) + "\n"
