"""``wgmfem field``: one mode's field map over a few azimuthal periods and its radial profile
across the guiding interface (the paper's Fig. 3c-d), as a figure, plus the profile as CSV."""

from __future__ import annotations

import argparse
import sys

from ..report import write_atomically
from ..solve import find_modes
from .common import InputError, add_geometry_options, build_geometry, figure_suffix_ok, positive_float, save_figure_atomically

HELP = "plot one mode: field map of the cross-section and radial profile"


def add_parser(sub) -> None:
    fld = sub.add_parser(
        "field", help=HELP,
        description="A zoomed map of Re(u) (u = Ez or Hz) over a few azimuthal periods and the normalized "
        "radial profile |u|^2 across the guiding interface (the paper's Fig. 3c-d), as PNG, SVG or PDF, "
        "plus the profile as CSV.",
        epilog="examples:\n  wgmfem field --pol Ez --m 600 --p 1 --output field.png --csv profile.csv",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_geometry_options(fld)
    fld.add_argument("--pol", default="Ez", help="Ez or Hz (TM = Ez, TE = Hz) (default Ez)")
    fld.add_argument("--m", type=int, required=True, help="azimuthal number")
    fld.add_argument("--p", type=int, default=1, help="radial order (default 1)")
    fld.add_argument("--region", default="core", help="region of the mode (default core)")
    fld.add_argument("--periods", type=positive_float, default=3.0, help="azimuthal periods shown in the map (default 3)")
    fld.add_argument("--output", metavar="FILE", help="figure file, .png/.svg/.pdf (default field_<pol>_m<m>_p<p>.png)")
    fld.add_argument("--csv", metavar="FILE", help="also write the radial profile (r_um, intensity) as CSV")
    fld.set_defaults(run=run)


def run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    from ..plot import plot_field_map, plot_radial_profile, radial_profile

    cyl = build_geometry(args)
    if args.m < 0 or args.p < 1:
        raise InputError("--m must be >= 0 and --p >= 1")
    output = args.output or f"field_{args.pol}_m{args.m}_p{args.p}.png"
    figure_suffix_ok(output)
    modes = find_modes(cyl, pol=args.pol, m=args.m, p=args.p, region=args.region, fsr=False)
    if len(modes) != 1:
        raise InputError(f"expected one mode, found {len(modes)}; give a single --pol")
    mode = modes[0]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.2, 1]})
    try:
        plot_field_map(mode, left, periods=args.periods)
        plot_radial_profile(mode, right)
        fig.tight_layout()
        save_figure_atomically(fig, output)
    finally:
        plt.close(fig)
    if args.csv:
        r, intensity = radial_profile(mode)
        rows = "r_um,intensity\n" + "".join(f"{a:.6f},{b:.6e}\n" for a, b in zip(r, intensity))
        write_atomically(args.csv, rows)
    sys.stdout.write(f"{mode!r}\nwrote {output}" + (f" and {args.csv}" if args.csv else "") + "\n")
    return 0
