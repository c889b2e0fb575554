"""``wgmfem assign``: which modes are the peaks of a measured spectrum, and which inner diameter
and/or core index reproduce them (with uncertainties and an ambiguity verdict)."""

from __future__ import annotations

import argparse
import math
import sys

from ..assign import DEFAULT_CANDIDATES, DEFAULT_SEARCH, AssignError, Assignment, assign_peaks, pick_peaks, read_spectrum
from ..geometry import LayeredCylinder
from ..report import to_json
from .common import (
    InputError, add_geometry_options, build_geometry, figure_suffix_ok, int_range, positive_float, progress_printer,
    staged_outputs, write_text,
)

HELP = "assign (pol, m, p) to measured peaks and fit the inner diameter and/or core index"

EPILOG = """\
The peaks are matched to exact core modes of the given families (--pol, --p) while the
fitted quantities move within --search of the starting values; every m-offset of the
plausible family patterns is fitted on exact solves (diameter and m are nearly degenerate:
what tells them apart is the FSR and the relative positions of the Ez/Hz families), the
best --candidates are refined to convergence. Fitting diameter and index together fits
every offset with the exact Jacobian (slower: ~10 s for 8 peaks).

Verdict: sigma is --sigma, or the rms residual of the best fit (sqrt(SSR/(N - n_fit)));
another labelling whose chi^2 = SSR/sigma^2 is below the 99th percentile of chi^2 with
N - n_fit degrees of freedom also fits within the noise: the assignment is "ambiguous".
Uncertainties: sigma * sqrt(diag((J^T J)^-1)), J = d lambda / d(D, n) from exact solves.
The outer diameter, wall and outside indices are held at the given values.

Spectrum file: two columns wavelength_nm, intensity (comma/space separated, '#' comments,
a header line allowed); peaks are picked with scipy.signal.find_peaks at a prominence of
--prominence times the intensity range, refined by a parabola through the top 3 samples.

examples:
  wgmfem assign --peaks 436.2128,436.405,436.9385,437.1306,437.6673,437.86 --inner-diameter 53.9 --search 1
  wgmfem assign --spectrum spectrum.csv --fit inner-diameter,core --sigma 0.002 --plot assigned.png
  wgmfem assign --peaks 440.06,440.80,441.55 --format json
"""


def peak_list(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated wavelengths in nm, got {text!r}") from None
    if not values or not all(math.isfinite(v) and v > 0 for v in values):
        raise argparse.ArgumentTypeError(f"peak wavelengths must be positive numbers of nm, got {text!r}")
    return values


def fit_list(text: str) -> tuple[str, ...]:
    names = tuple(v.strip() for v in text.split(",") if v.strip())
    bad = [n for n in names if n not in ("inner-diameter", "core")]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"--fit takes inner-diameter, core or inner-diameter,core, got {text!r}")
    return names


#: A peak uncertainty (nm) outside this range is not a measurement (and squares beyond the doubles).
SIGMA_RANGE_NM = (1e-9, 100.0)


def peak_sigma(text: str) -> float:
    value = positive_float(text)
    if not SIGMA_RANGE_NM[0] <= value <= SIGMA_RANGE_NM[1]:
        raise argparse.ArgumentTypeError(f"must lie between {SIGMA_RANGE_NM[0]:g} and {SIGMA_RANGE_NM[1]:g} nm, got {text!r}")
    return value


def fraction(text: str) -> float:
    value = positive_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be a fraction between 0 and 1, got {text!r}")
    return value


def add_parser(sub) -> None:
    ap = sub.add_parser(
        "assign", help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Assign polarization, azimuthal number m and radial order p to measured peak wavelengths "
        "(nm) and fit the inner diameter (um) and/or the core index, with residuals, uncertainties and a "
        "verdict on whether another assignment fits as well; beside it, the m that m*lambda = pi*n*D gives.",
    )
    src = ap.add_argument_group("measured peaks (one of)")
    one = src.add_mutually_exclusive_group(required=True)
    one.add_argument("--peaks", type=peak_list, metavar="L1,L2,...", help="peak wavelengths in nm")
    one.add_argument("--spectrum", metavar="FILE", help="two-column file: wavelength_nm, intensity")
    src.add_argument("--prominence", type=fraction, default=0.1, metavar="FRAC",
                     help="smallest peak prominence, as a fraction of the intensity range (default 0.1)")
    add_geometry_options(ap)
    f = ap.add_argument_group("fit")
    f.add_argument("--fit", type=fit_list, default=("inner-diameter",), metavar="WHAT",
                   help="inner-diameter, core or inner-diameter,core (default inner-diameter)")
    f.add_argument("--pol", default="both", help="families the peaks may belong to: Ez, Hz or both (TM = Ez, TE = Hz) (default both)")
    f.add_argument("--p", type=int_range("--p"), default=(1, 1), metavar="P|P1:P2", help="radial orders of those families (default 1)")
    f.add_argument("--sigma", type=peak_sigma, metavar="NM",
                   help=f"peak uncertainty, 1 sigma in nm, {SIGMA_RANGE_NM[0]:g} to {SIGMA_RANGE_NM[1]:g} (default: from the residual scatter)")
    f.add_argument("--search", type=positive_float, default=100 * DEFAULT_SEARCH, metavar="PERCENT",
                   help=f"how far the fitted diameter (or index) may move from the given value, %% (default {100 * DEFAULT_SEARCH:g})")
    f.add_argument("--candidates", type=int, default=DEFAULT_CANDIDATES, metavar="N",
                   help=f"best labellings refined to convergence and listed (default {DEFAULT_CANDIDATES})")
    o = ap.add_argument_group("output")
    o.add_argument("--format", choices=("table", "json"), default="table")
    o.add_argument("--output", metavar="FILE", help="write to FILE (atomically) instead of standard output")
    o.add_argument("--plot", metavar="FILE", help="spectrum (or peak sticks) with the labelled modes, .png/.svg/.pdf")
    o.add_argument("--quiet", action="store_true", help="no progress on stderr")
    ap.set_defaults(run=run)


def run(args) -> int:
    if args.layers is not None:
        raise InputError("assign works on a capillary: use --inner-diameter/--outer-diameter/--core/--wall, not --layers")
    if args.plot:
        figure_suffix_ok(args.plot)
    if args.p == "any":
        raise InputError("--p takes P or P1:P2 here, not 'any'")
    cyl = build_geometry(args)
    if not isinstance(cyl, LayeredCylinder) or not cyl.is_lossless:
        raise InputError("assign needs constant real indices (numbers) for --core/--wall/--outside; "
                         "evaluate a material at your wavelength with 'wgmfem materials NAME'")
    with staged_outputs({"--output": args.output, "--plot": args.plot}) as staged:  # all files or none
        result, spectrum = _assign(args, cyl)
        text = to_json(result.to_dict()) if args.format == "json" else table(result)
        if args.plot:
            _plot(result, spectrum, staged[args.plot])
        if args.output:
            write_text(staged[args.output], text)
    if not args.output:
        sys.stdout.write(text)
    return 0


def _assign(args, cyl) -> tuple[Assignment, tuple | None]:
    """The assignment of the peaks (given, or picked from the spectrum file) and the spectrum."""
    spectrum = None
    try:
        if args.spectrum:
            spectrum = read_spectrum(args.spectrum)
            peaks, _ = pick_peaks(*spectrum, prominence=args.prominence)
            if peaks.size < 2:
                raise AssignError(f"found {peaks.size} peak(s) in {args.spectrum} at prominence {args.prominence:g}; need at least 2 (lower --prominence?)")
        else:
            peaks = args.peaks
        progress = progress_printer(sys.stderr.isatty() and not args.quiet)
        result = assign_peaks(
            peaks, cyl, fit=args.fit, pol=args.pol, p=args.p, search=args.search / 100, sigma_nm=args.sigma,
            candidates=args.candidates, progress=progress,
        )
    except AssignError as exc:
        raise InputError(str(exc)) from None
    return result, spectrum


def _fmt_value(result: Assignment, name: str, unit: str) -> str:
    value = result.value(name)
    if name not in result.fit:
        return f"{value:g}{unit} (fixed)"
    u = result.uncertainty[result.fit.index(name)]
    if not math.isfinite(u):
        return f"{value:.6g}{unit} (uncertainty unknown)"
    digits = max(0, -int(math.floor(math.log10(u))) + 1) if u > 0 else 6
    return f"{value:.{digits}f} +- {u:.2g}{unit}"


def table(result: Assignment) -> str:
    d = result.to_dict()
    fit = d["fit"]
    best = result.best
    simple = result.simple_formula_m()
    offsets = sorted({int(s - lab.m) for s, lab in zip(simple, best.labels)})
    lines = [
        f"wgmfem assign: {len(result.peaks_nm)} peaks; outer diameter {fit['outer_diameter_um']:g} um, "
        f"wall {fit['wall_index']:g}, outside {fit['outside_index']:g} held fixed",
        f"inner diameter : {_fmt_value(result, 'inner-diameter', ' um')}",
        f"core index     : {_fmt_value(result, 'core', '')}",
    ]
    if result.correlation is not None:
        lines.append(f"correlation    : {result.correlation:+.6f} (diameter and index trade off)")
    chi2 = f"chi2 {best.chi2:.3g} for {result.dof} dof" if best.chi2 is not None else "chi2 unknown"
    sigma = f"sigma {result.sigma_nm:.2g} nm ({result.sigma_source})" if result.sigma_nm else f"sigma {result.sigma_source}"
    lines.append(f"fit quality    : {chi2}, {sigma}, rms residual {fit['rms_residual_nm']:.2g} nm")
    lines.append(f"assignment     : {'AMBIGUOUS' if result.ambiguous else 'unique'} - {result.verdict}")
    lines.append(f"m*lambda=pi*n*D: would assign m larger by {', '.join(f'{o:+d}' for o in offsets)} (with the fitted D and n)")
    lines.append(f"searched       : {result.screened} labellings screened, {result.offsets_fitted} m-offsets fitted on exact solves, "
                 f"best {len(result.alternatives) + 1} refined; {result.evaluations} exact evaluations")
    lines.append("")
    header = f"{'peak_nm':>11} {'pol':<3} {'m':>5} {'p':>2} {'region':<7} {'model_nm':>11} {'resid_nm':>9} {'core%':>6} {'m_simple':>8}"
    lines += [header, "-" * len(header)]
    for pk in d["peaks"]:
        lines.append(
            f"{pk['wavelength_nm']:11.4f} {pk['pol']:<3} {pk['m']:>5d} {pk['p']:>2d} {pk['region']:<7} "
            f"{pk['model_wavelength_nm']:11.4f} {pk['residual_nm']:+9.4f} {100 * (pk['core_fraction'] or 0):6.1f} {pk['m_simple_formula']:>8d}"
        )
    if d["alternatives"]:
        lines += ["", "other labellings (exact fits):",
                  f"{'m_offset':>8} {'chi2':>10} {'rms_nm':>8}  {'within noise':<12} labels"]
        for alt in d["alternatives"]:
            chi2 = f"{alt['chi2']:10.3g}" if alt["chi2"] is not None else f"{'-':>10}"
            lines.append(f"{alt['m_offset']:>+8d} {chi2} {alt['rms_residual_nm']:8.4f}  {'yes' if alt['fits_within_noise'] else 'no':<12} {alt['labels']}")
    return "\n".join(lines) + "\n"


def _plot(result: Assignment, spectrum, path: str) -> None:
    """The labelled spectrum as a figure in ``path`` (a staged file)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plot import plot_assigned_spectrum

    labels = [f"{lab.pol} {lab.m}/{lab.p}" for lab in result.best.labels]
    d = result.to_dict()["fit"]
    title = f"D = {d['inner_diameter_um']:.4f} um, n = {d['core_index']:.5f}" + ("  (AMBIGUOUS)" if result.ambiguous else "")
    fig, ax = plt.subplots(figsize=(9, 4))
    try:
        plot_assigned_spectrum(result.peaks_nm, labels, ax, spectrum=spectrum, model_nm=result.best.model_nm, title=title)
        fig.tight_layout()
        fig.savefig(path, dpi=150)
    finally:
        plt.close(fig)
