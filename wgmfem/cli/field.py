"""``wgmfem field``: one mode's field map over a few azimuthal periods and its radial profile
across the guiding interface (the paper's Fig. 3c-d), as a figure, plus the profile as CSV."""

from __future__ import annotations

import argparse
import math
import sys

from ..solve import SearchError, find_modes
from .common import (
    InputError,
    add_geometry_options,
    build_geometry,
    command_progress,
    figure_suffix_ok,
    positive_float,
    progress_step,
    single_mode,
    staged_outputs,
    warning_line,
    write_text,
)
from .fem_options import (
    add_fem2d_options,
    add_mesh_options,
    add_verification_options,
    check_fem_options,
    enforce_fem_checks,
    fem2d_settings,
    refuse_fem2d_options,
)

HELP = "plot one mode: field map of the cross-section and radial profile"
#: Most azimuthal periods in a map: its ~500 angular samples keep at least 16 per period.
MAX_PERIODS = 30


def periods(text: str) -> float:
    value = positive_float(text)
    if value > MAX_PERIODS:
        raise argparse.ArgumentTypeError(f"at most {MAX_PERIODS} periods, got {text!r}")
    return value


def add_parser(sub) -> None:
    fld = sub.add_parser(
        "field", help=HELP,
        description="A zoomed map of Re(u) (u = Ez or Hz) over a few azimuthal periods and the normalized "
        "radial profile |u|^2 across the guiding interface (the paper's Fig. 3c-d), as PNG, SVG or PDF, "
        "plus the profile as CSV.",
        epilog="examples:\n  wgmfem field --pol Ez --m 600 --p 1 --output field.png --csv profile.csv\n"
        "  wgmfem field --engine fem2d --pol Ez --m 600 --p 1 --output fem.png --vtu fem.vtu --npz fem.npz\n\n"
        "With --engine fem2d the map is the 2-D FEM field (a 2 pi/m sector unfolded by its Floquet\n"
        "phase when the fibre is concentric), the profile its angle-averaged |u|^2 with the exact\n"
        "profile dashed; --vtu writes it for ParaView (quadratic triangles, Re/Im/|u| at the nodes),\n"
        "--npz as NumPy arrays (nodes (N,2) um, triangles (T,6), values (N,M) complex, k, ...).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_geometry_options(fld)
    fld.add_argument("--pol", default="Ez", help="Ez or Hz (TM = Ez, TE = Hz) (default Ez)")
    fld.add_argument("--m", type=int, required=True, help="azimuthal number")
    fld.add_argument("--p", type=int, default=1, help="radial order (default 1)")
    fld.add_argument("--region", default="auto", help="region of the mode: core, wall, ... or auto (default auto: the core when the liquid's index is at least the wall's, else the wall)")
    fld.add_argument("--periods", type=periods, default=None,
                     help=f"azimuthal periods shown in the map, at most {MAX_PERIODS} (m of them: the whole circle) "
                     "(default: a map about as wide as it is deep; 3 for --engine fem2d)")
    fld.add_argument("--log", action="store_true",
                     help="exact map and profile as log10 |field|^2 (shows the tails: tunnelling, the wall, radiation)")
    fld.add_argument("--output", metavar="FILE", help="figure file, .png/.svg/.pdf (default field_<pol>_m<m>_p<p>.png)")
    fld.add_argument("--csv", metavar="FILE", help="also write the radial profile (r_um, intensity) as CSV")
    e = fld.add_argument_group("engine")
    e.add_argument("--engine", choices=("exact", "fem2d"), default="exact",
                   help="exact Bessel/Hankel field (default) or the 2-D cross-section FEM")
    e.add_argument("--vtu", metavar="FILE", help="fem2d: write the FEM field as VTU (ParaView)")
    e.add_argument("--npz", metavar="FILE", help="fem2d: write the FEM field as NumPy arrays (.npz)")
    e.add_argument("--quiet", action="store_true", help="no progress or solver stages on stderr")
    add_mesh_options(e, fem1d=False)
    add_fem2d_options(e)
    add_verification_options(e)
    fld.set_defaults(run=run)


def run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed

    cyl = build_geometry(args)
    if args.m < 0 or args.p < 1:
        raise InputError("--m must be >= 0 and --p >= 1")
    output = args.output or f"field_{args.pol}_m{args.m}_p{args.p}.png"
    figure_suffix_ok(output)
    refuse_fem2d_options(args, args.engine)
    check_fem_options(args, args.engine)
    if args.engine != "fem2d" and (args.vtu or args.npz):
        raise InputError("--vtu and --npz need --engine fem2d")
    for path, suffix in ((args.vtu, ".vtu"), (args.npz, ".npz")):
        if path and not path.lower().endswith(suffix):
            raise InputError(f"{path!r} must end in {suffix}")
    files = {"--output": output, "--csv": args.csv, "--vtu": args.vtu, "--npz": args.npz}
    progress = command_progress(args)  # a bar per step: the exact mode, [the 2-D FEM,] the figure
    with staged_outputs(files) as staged:  # every file checked now, written only if all succeed
        with progress_step(progress, "exact mode"):
            mode = single_mode(find_modes(cyl, pol=args.pol, m=args.m, p=args.p, region=args.region, fsr=False))
        write = _write_fem2d if args.engine == "fem2d" else _write_exact
        shown = write(args, mode, output, staged, progress)
    sys.stdout.write(shown + f"wrote {', '.join(p for p in files.values() if p)}\n")
    return 0


def _write_exact(args, mode, output, staged, progress=None) -> str:
    """The exact field: figure and profile CSV into their staged files; returns the mode's line."""
    import matplotlib.pyplot as plt

    from ..plot import plot_field_map, plot_radial_profile, radial_profile

    with progress_step(progress, "figure"):
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6), gridspec_kw={"width_ratios": [1, 1.15]})
        try:
            plot_field_map(mode, left, periods=args.periods, log=args.log)
            plot_radial_profile(mode, right, log=args.log)
            fig.tight_layout()
            fig.savefig(staged[output], dpi=150)
        finally:
            plt.close(fig)
        if args.csv:
            r, intensity = radial_profile(mode)
            rows = "r_um,intensity\n" + "".join(f"{a:.6f},{_cell(b)}\n" for a, b in zip(r, intensity))
            write_text(staged[args.csv], rows)
    return f"{mode!r}\n"


def _write_fem2d(args, exact, output, staged, progress=None) -> str:
    """The 2-D FEM field of the mode seeded by ``exact``: figure, CSV, VTU, NPZ into their staged
    files; returns the FEM modes' lines."""
    import matplotlib.pyplot as plt
    import numpy as np

    from ..fem.engine2d import counterparts
    from ..fem.export import sample_polar, write_npz, write_vtu
    from ..plot import plot_fem_field, profile_window_um

    settings = fem2d_settings(args, quiet=args.quiet)
    try:
        settings.check()
        with progress_step(progress, "2-D FEM"):
            fem_modes, res = counterparts(exact, settings)  # checked against the exact root: exit 3 unless --unverified
    except SearchError:  # FEMVerificationError: exit 3
        raise
    except ValueError as exc:  # the geometry or size refused before meshing or assembling
        raise InputError(str(exc).splitlines()[0]) from None
    enforce_fem_checks(args, fem_modes)
    for md in fem_modes:
        if md.verification.get("verified") is False:
            warning_line(f"UNVERIFIED: {md.verification['unverified_reason']}")
    with progress_step(progress, "figure"):  # sampling the field, the figure and the files
        fem = fem_modes[0]
        column = fem.verification["eigen_indices"][0]
        center = (settings.bore_offset_um, 0.0) if fem.region == exact.cylinder.region_names[0] else (0.0, 0.0)
        lo, hi = profile_window_um(exact)
        r = np.linspace(max(lo, res.r_cut_um), hi, 300)
        periods = 3.0 if args.periods is None else args.periods
        span = 2 * np.pi if exact.m == 0 else min(2 * np.pi, periods * 2 * np.pi / exact.m)
        phi = np.pi / 2 + np.linspace(-span / 2, span / 2, 480)
        u = sample_polar(res, r, phi, column, center=center)
        u = u / u.flat[np.nanargmax(np.abs(u))]  # peak = 1, real there
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.2, 1]})
        try:
            interfaces = [(b.xc, b.yc, b.a, b.b) for b in res.interfaces]  # as meshed: offset, elliptical
            img, intensity, ref = plot_fem_field(r, phi, u, fem, exact, left, right, center=center, interfaces=interfaces)
            fig.colorbar(img, ax=left, shrink=0.8)
            fig.tight_layout()
            fig.savefig(staged[output], dpi=150)
        finally:
            plt.close(fig)
        if args.csv:
            rows = "r_um,intensity_fem2d,intensity_exact\n" + "".join(
                f"{a:.6f},{_cell(b)},{_cell(c)}\n" for a, b, c in zip(r, intensity, ref)
            )
            write_text(staged[args.csv], rows)
        columns = fem.verification["eigen_indices"]
        if args.vtu:
            write_vtu(res, staged[args.vtu], columns)
        if args.npz:
            write_npz(res, staged[args.npz], columns)
    return "".join(f"{md!r}\n" for md in fem_modes)


def _cell(value: float) -> str:
    """A CSV number; empty where there is none (a radius outside the sampled FEM domain)."""
    return f"{value:.6e}" if math.isfinite(value) else ""
