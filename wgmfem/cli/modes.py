"""``wgmfem modes``: every resonance of a fibre in a window (or one family), labelled and verified,
as a table, JSON or CSV."""

from __future__ import annotations

import argparse
import sys
import time
import warnings

from .. import __version__
from ..report import modes_to_csv, modes_to_json, modes_to_table
from ..solve import (
    DEFAULT_Q_MIN,
    LOOKUP_Q_MIN,
    CensusWarning,
    find_modes,
)
from .common import (
    InputError,
    add_geometry_options,
    build_geometry,
    emit,
    float_range,
    int_range,
    non_negative_float,
    positive_float,
    progress_printer,
    region_filter,
)
from .fem_options import (
    add_fem2d_options,
    add_mesh_options,
    add_verification_options,
    check_fem_options,
    enforce_fem_checks,
    fem1d_settings,
    fem2d_settings,
    fem_checks,
    refuse_fem2d_options,
)

HELP = "list the resonances of a fibre (exact solver or FEM)"
DEFAULT_WINDOW_NM = (425.0, 445.0)
DEFAULT_P = (1, 2)
ENGINE_NAMES = {
    "exact": "exact Bessel/Hankel solver",
    "fem1d": "1-D radial FEM (seeded by the exact census)",
    "fem2d": "2-D cross-section FEM (sector when concentric, full section when perturbed; seeded by the exact census)",
}

MODES_EPILOG = """\
defaults: the paper's capillary (54/78 um, core 1.56, wall 1.47, air), core modes
with p = 1..2 in 425-445 nm, both polarizations. --region any / --p any lift a filter.
The default region follows the fibre: core modes when the liquid's index is at least the
wall's; wall modes (with a notice on stderr) when the liquid is below the glass, as in a
water-filled ring-resonator sensor.
With --m and --p but no --wavelength each mode is found wherever it lies.

FEM engines: every mode is checked against the exact root that seeded it (labels m, p,
region; relative wavelength difference <= --fem-tolerance, default 1e-7 fem1d / 1e-6 fem2d;
Q within --fem-q-tolerance where the exact Q <= 1e9). A mode that fails is an error with
exit code 3, unless --unverified prints it flagged.

polarizations: Ez = E along the fibre axis, Hz = H along the axis; aliases in the
2-D photonics sense: TM = Ez, TE = Hz.

examples:
  wgmfem modes
  wgmfem modes --pol Ez --m 600 --p 1 --region core --format json
  wgmfem modes --inner-diameter 30 --outer-diameter 50 --core 1.51 --wavelength 430:450
  wgmfem modes --layers 3:1.56 --outside 1 --pol Hz --m 30 --p 2
  wgmfem modes --wavelength 431.9:432.3 --m 590:610 --region any --p any --format csv --output modes.csv
  wgmfem modes --engine fem1d --m 600 --p 1:2 --pol Ez
  wgmfem modes --engine fem2d --m 600 --p 1 --pol Ez            (2 pi/600 sector, P6, ~1 s)
  wgmfem modes --engine fem2d --layers 3:1.56 --pol Ez --m 20 --p 1 --ellipticity 0.02   (full section)
"""




def add_parser(sub) -> None:
    modes = sub.add_parser(
        "modes", help=HELP,
        description="Every whispering-gallery mode of a layered cylinder in a window, labelled (pol, m, p, region), "
        "with wavelength, radiation Q, FSR, group index and energy fractions; each one verified.",
        epilog=MODES_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_geometry_options(modes)
    s = modes.add_argument_group("what to find")
    s.add_argument("--pol", default="both", help="Ez, Hz or both (TM = Ez, TE = Hz) (default both)")
    s.add_argument("--wavelength", type=float_range, metavar="MIN:MAX", help="vacuum wavelength window in nm (default 425:445)")
    s.add_argument("--m", type=int_range("--m"), metavar="M|M1:M2", help="azimuthal number(s)")
    s.add_argument("--p", type=int_range("--p"), metavar="P|P1:P2", help="radial order(s), or 'any' (default 1:2)")
    s.add_argument("--region", metavar="NAME", help="core, wall, ..., 'auto' or 'any' (default auto: the core when the liquid's "
                   "index is at least the wall's, else the wall)")
    s.add_argument("--q-min", type=positive_float, default=None, metavar="Q",
                   help="smallest radiation Q listed (default 100 in a window, 2 for --m/--p without --wavelength)")
    s.add_argument("--beta", type=non_negative_float, metavar="PER_UM",
                   help="axial wavevector beta in 1/um: skew modes exp(i m phi + i beta z), each continued from beta = 0 "
                   "(quasi-Ez / quasi-Hz labels), with the axial curvature alpha = d(k^2)/d(beta^2) and group velocity; "
                   "exact engine only")
    s.add_argument("--no-fsr", action="store_true", help="skip FSR and group index (saves solving m +- 1)")
    s.add_argument("--extra-q", type=positive_float, metavar="Q", help="extra loss (scattering, coupling) as a Q, added to every mode's Q_total")
    s.add_argument("--extra-loss", type=positive_float, metavar="DB_PER_CM", help="extra loss as propagation loss along the circumference, dB/cm")
    e = modes.add_argument_group("engine")
    e.add_argument(
        "--engine", choices=(*ENGINE_NAMES, "axisym"), default="exact",
        help="exact Bessel/Hankel solution (default), 1-D radial FEM or 2-D cross-section FEM "
        "(both FEMs seeded by the exact census of the concentric fibre); the axisymmetric FEM of "
        "bodies of revolution is 'wgmfem axial --engine axisym'",
    )
    add_mesh_options(e)
    add_fem2d_options(e)
    add_verification_options(e)
    o = modes.add_argument_group("output")
    o.add_argument("--format", choices=("table", "json", "csv"), default="table")
    o.add_argument("--lasing-gain", action="store_true",
                   help="json/csv: also the exact lasing gain lasing_gain_per_cm (~0.1 s a mode; threshold_gain_per_cm is always there)")
    o.add_argument("--output", metavar="FILE", help="write to FILE (atomically) instead of standard output")
    o.add_argument("--quiet", action="store_true", help="no progress or summary on stderr")
    modes.set_defaults(run=run)


def run(args) -> int:
    if args.engine == "axisym":
        raise InputError("the axisymmetric FEM solves bodies of revolution, not a cross-section: use "
                         "'wgmfem axial --profile SPEC --engine axisym' (a capillary whose radii vary along z, "
                         "a microbubble) or 'wgmfem axial --shape sphere:RADIUS_UM:INDEX --engine axisym'")
    cyl = build_geometry(args)
    m_range = None if args.m in (None, "any") else args.m
    if args.p == "any":
        p_range = None
    else:
        p_range = args.p if args.p is not None else (None if (m_range and args.wavelength is None) else DEFAULT_P)
    family = args.wavelength is None and m_range is not None and args.p not in (None, "any")
    window = None if family else (args.wavelength or DEFAULT_WINDOW_NM)
    region, notice = region_filter(cyl, args.region, window, m_range, p_range)
    if window is None and p_range is None:
        raise InputError("without --wavelength, give both --m and --p")
    if notice and not args.quiet:
        sys.stderr.write(f"wgmfem: {notice}\n")
    progress = progress_printer(sys.stderr.isatty() and not args.quiet)
    t0 = time.perf_counter()
    refuse_fem2d_options(args, args.engine)
    check_fem_options(args, args.engine)
    with fem_checks(args, args.engine), warnings.catch_warnings(record=True) as caught:
        # FEM modes come back with their check (exit 3 below unless --unverified); a census box
        # whose count disagreed is reported in the header and on stderr
        warnings.simplefilter("always", CensusWarning)
        modes = find_modes(
            cyl, pol=args.pol, wavelength_nm=window, m=m_range, p=p_range, region=region,
            q_min=args.q_min, fsr=not args.no_fsr, progress=progress, engine=args.engine,
            fem1d=fem1d_settings(args) if args.engine == "fem1d" else None,
            extra_q=args.extra_q, extra_loss_db_per_cm=args.extra_loss,
            fem2d=fem2d_settings(args, quiet=args.quiet) if args.engine == "fem2d" else None,
            beta_per_um=args.beta,
        )
    incomplete = _replay_warnings(caught)
    if args.engine != "exact":
        enforce_fem_checks(args, modes)
    elapsed = time.perf_counter() - t0
    if args.format == "json":
        text = modes_to_json(modes, args.lasing_gain)
    elif args.format == "csv":
        text = modes_to_csv(modes, args.lasing_gain)
    else:
        text = _table_header(cyl, args, window, p_range, region, modes, elapsed, incomplete) + modes_to_table(modes)
    emit(text, args.output)
    if not args.quiet and (args.output or args.format != "table"):
        unverified = sum(1 for md in modes if not md.verification.get("census_ok", True))
        flags = (f", {unverified} UNVERIFIED" if unverified else "") + (", INCOMPLETE (see the warning)" if incomplete else "")
        sys.stderr.write(f"wgmfem: {len(modes)} modes in {elapsed:.2f} s{flags}\n")
    return 0


def _replay_warnings(caught) -> str | None:
    """Re-issue the caught warnings (the command line shows each once); return the census
    warning's text, if any, for the table header."""
    incomplete = None
    for w in caught:
        if issubclass(w.category, CensusWarning):
            incomplete = str(w.message)
            sys.stderr.write(f"wgmfem: warning: {w.message}\n")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return incomplete


def _table_header(cyl, args, window, p_range, region, modes, elapsed, incomplete=None) -> str:
    q_min = args.q_min if args.q_min is not None else (DEFAULT_Q_MIN if window else LOOKUP_Q_MIN)
    what = f"{window[0]:g}-{window[1]:g} nm" if window else "each (m, p) wherever it lies"
    auto = " (auto)" if region and (args.region or "auto").lower() == "auto" else ""
    filters = [f"region {region or 'any'}{auto}", f"p {p_range[0]}-{p_range[1]}" if p_range else "any p"]
    if args.m not in (None, "any"):
        filters.append(f"m {args.m[0]}-{args.m[1]}")
    if args.beta is not None:
        filters.append(f"beta {args.beta:g}/um (continued from beta = 0)")
    unverified = sum(1 for md in modes if not md.verification.get("census_ok", True))
    status = "every search box verified by an independent argument-principle count" if not unverified else f"{unverified} modes UNVERIFIED (see note)"
    if incomplete:
        status = "INCOMPLETE: " + incomplete
    return (
        f"wgmfem {__version__}, {ENGINE_NAMES[args.engine]}\n"
        f"fibre : {cyl.describe()}\n"
        f"search: {what}, {', '.join(filters)}, Q_rad >= {q_min:g}, pol {args.pol}\n"
        f"found : {len(modes)} modes in {elapsed:.2f} s; {status}\n\n"
    )
