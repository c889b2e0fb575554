"""``wgmfem assign``: which modes are the peaks of a measured spectrum, and which inner diameter
and/or core index reproduce them (with uncertainties and an ambiguity verdict)."""

from __future__ import annotations

import argparse
import math
import sys
from typing import TYPE_CHECKING

import numpy as np

from ..assign_defaults import DEFAULT_SEARCH, OUTLIER_PRIOR
from ..geometry import LayeredCylinder
from ..report import to_json
from ..spectrum import SpectrumError, find_spectrum_peaks, read_spectrum
from .common import (
    InputError,
    add_geometry_options,
    build_geometry,
    end_progress,
    figure_suffix_ok,
    int_range,
    positive_float,
    progress_printer,
    staged_outputs,
    write_text,
)

if TYPE_CHECKING:
    from ..assign import Assignment

HELP = "assign (pol, m, p) to measured peaks, find spurious ones, and fit the inner diameter and/or core index"

EPILOG = """\
Model: each peak is a mode of the allowed core families (--pol, --p; each mode seen at most
once, modes may be missing) with a Gaussian error of sigma, or an outlier (not such a mode)
uniform over the spectral window. The fit minimizes -2 ln(likelihood) over the diameter
(and index), which stay within --search of the given values (a hard bound), and over the
labellings. A peak is assigned when it lies within ~4 sigma of a free mode (the exact reach
is printed for each outlier). Labellings are weighed by exp(-cost/2): another labelling,
or another label for one peak, with odds above 1:100 against the best fits within the
noise and the verdict is AMBIGUOUS; the diameter's uncertainty is then given both for the
best labelling and with the labelling ambiguity (the posterior mixture's spread).

sigma: --sigma; else, with --spectrum, half of each peak's fitted linewidth (FWHM / 2); else
estimated from the best labelling's residuals (reported as such: the fit's quality cannot
then be judged).

Spectrum file: two columns wavelength_nm, intensity (comma/space separated, '#' comments,
a header line allowed); peaks are picked with scipy.signal.find_peaks at a prominence of
--prominence times the intensity range, each fitted by a Lorentzian (centre and linewidth).
`wgmfem simulate` writes such files with a known truth.

examples:
  wgmfem assign --peaks 436.4557,436.6458,437.1801,437.3702,437.9175,438.0965 --inner-diameter 53.9 --sigma 0.002
  wgmfem simulate --wavelength 436:439 --position-noise 0.003 --spurious 1 --seed 2 --output spectrum.csv
  wgmfem assign --spectrum spectrum.csv --inner-diameter 53.9 --sigma 0.003 --plot assigned.png
  wgmfem assign --spectrum spectrum.csv --fit inner-diameter,core --format json
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
        "(nm), leave peaks that are not modes of the allowed families unassigned, and fit the inner diameter "
        "(um) and/or the core index, with residuals, uncertainties and a verdict on what the data cannot "
        "decide; beside each peak, the m that m*lambda = pi*n*D gives.",
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
                   help=f"peak uncertainty, 1 sigma in nm, {SIGMA_RANGE_NM[0]:g} to {SIGMA_RANGE_NM[1]:g} "
                   "(default: half the fitted linewidth with --spectrum, else estimated from the residuals)")
    f.add_argument("--search", type=positive_float, default=100 * DEFAULT_SEARCH, metavar="PERCENT",
                   help=f"how far each fitted quantity may move from the given value, %%, a hard bound (default {100 * DEFAULT_SEARCH:g})")
    f.add_argument("--outlier-prior", type=fraction, default=OUTLIER_PRIOR, metavar="FRAC",
                   help=f"prior probability that a peak is not a mode of the allowed families (default {OUTLIER_PRIOR:g})")
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


def assign_peaks(*args, **kwargs) -> Assignment:
    """:func:`wgmfem.assign.assign_peaks`, imported on the first call: building the parser (every
    `wgmfem` command) does not load the fit."""
    from ..assign import assign_peaks as fit

    return fit(*args, **kwargs)


def _assign(args, cyl) -> tuple[Assignment, tuple | None]:
    """The assignment of the peaks (given, or picked from the spectrum file) and the spectrum."""
    from ..assign import AssignError

    spectrum = None
    sigma, source, window = args.sigma, None, None
    try:
        if args.spectrum:
            spectrum = read_spectrum(args.spectrum)
            found = find_spectrum_peaks(*spectrum, prominence=args.prominence)
            if len(found) < 2:
                raise AssignError(f"found {len(found)} peak(s) in {args.spectrum} at prominence {args.prominence:g}; "
                                  "need at least 2 (lower --prominence?)")
            peaks = [pk.wavelength_nm for pk in found]
            window = (float(spectrum[0][0]), float(spectrum[0][-1]))
            if sigma is None:
                widths = [pk.fwhm_nm for pk in found if pk.fwhm_nm]
                if widths:
                    # a noise spike fits a collapsed Lorentzian: no peak is located better than a sample step
                    step = float(np.median(np.diff(spectrum[0])))
                    sigma = [max(0.5 * (pk.fwhm_nm or float(np.median(widths))), step) for pk in found]
                    source = "half the fitted linewidth (FWHM / 2, at least one sample step) of each peak"
        else:
            peaks = args.peaks
        progress = progress_printer(sys.stderr.isatty() and not args.quiet)
        result = assign_peaks(
            peaks, cyl, fit=args.fit, pol=args.pol, p=args.p, search=args.search / 100, sigma_nm=sigma,
            sigma_source=source, window_nm=window, outlier_prior=args.outlier_prior, progress=progress,
        )
        end_progress()  # the last stage may stop short of its count (a candidate that could not be followed)
    except (AssignError, SpectrumError) as exc:
        raise InputError(str(exc)) from None
    return result, spectrum


def _fmt(value: float, sigma: float | None) -> tuple[str, str]:
    """(value, sigma) printed to the sigma's second significant digit."""
    if sigma is None or not math.isfinite(sigma) or sigma <= 0:
        return f"{value:.6g}", "?"
    digits = max(0, -int(math.floor(math.log10(sigma))) + 1)
    return f"{value:.{digits}f}", f"{sigma:.2g}"


def _fit_line(d: dict, key: str, unit: str) -> str:
    fit = d["fit"]
    if key not in fit:
        return f"{fit['fixed'][key]:g}{unit} (fixed)"
    entry = fit[key]
    value, sigma = _fmt(entry["value"], entry["sigma"])
    lo, hi = fit["search_window"][key]
    text = f"{value} +- {sigma}{unit}"
    with_lab = entry["sigma_with_labelling"]
    if with_lab is not None and entry["sigma"] is not None and with_lab > 1.5 * entry["sigma"]:
        text += f" (+- {with_lab:.2g}{unit} with the labelling ambiguity)"
    return text + f"; search window {lo:.6g}-{hi:.6g}{unit}"


def table(result: Assignment) -> str:
    d = result.to_dict()
    fit = d["fit"]
    n_out = sum(not pk["assigned"] for pk in d["peaks"])
    fixed = fit["fixed"]
    lines = [
        f"wgmfem assign: {len(d['peaks'])} peaks ({n_out} unassigned); outer diameter {fixed['outer_diameter_um']:g} um, "
        f"wall {fixed['wall_index']:g}, outside {fixed['outside_index']:g} held fixed",
        f"inner diameter : {_fit_line(d, 'inner_diameter_um', ' um')}",
        f"core index     : {_fit_line(d, 'core_index', '')}",
    ]
    if fit["correlation"] is not None:
        lines.append(f"correlation    : {fit['correlation']:+.6f} (diameter and index trade off)")
    quality = f"chi2 {fit['chi2']:.3g} for {fit['dof']} dof" + (f" (p = {fit['p_value']:.2g})" if fit["p_value"] is not None else "")
    lines.append(f"noise          : sigma {fit['sigma_nm']:.2g} nm ({fit['sigma_source']}); {quality}")
    verdict = d["verdict"].split(": ", 1)[1] if d["verdict"].startswith(("unique: ", "ambiguous: ")) else d["verdict"]
    lines.append(f"assignment     : {'AMBIGUOUS' if d['ambiguous'] else 'unique'} - {verdict}")
    for flag in d["flags"]:
        lines.append(f"WARNING        : {flag}")
    offsets = sorted({pk["m_simple_formula"] - pk["m"] for pk in d["peaks"] if pk["assigned"]})
    if offsets:
        lines.append(f"m*lambda=pi*n*D: would assign m larger by {', '.join(f'{o:+d}' for o in offsets)} (with the fitted D and n)")
    lines.append("")
    header = (f"{'peak_nm':>11} {'sigma':>7} {'pol':<3} {'m':>5} {'p':>2} {'model_nm':>11} {'resid_nm':>9} "
              f"{'r/sigma':>7} {'core%':>6} {'m_simple':>8}  note")
    lines += [header, "-" * len(header)]
    for pk in d["peaks"]:
        if pk["assigned"]:
            alts = ", ".join("outlier" if a["outlier"] else f"{a['pol']} {a['m']}/{a['p']}" for a in pk["alternatives"])
            note = (f"or {alts} (within the noise)" if alts else "") + ("" if pk["census_ok"] else " UNVERIFIED")
            lines.append(
                f"{pk['wavelength_nm']:11.4f} {pk['sigma_nm']:7.2g} {pk['pol']:<3} {pk['m']:>5d} {pk['p']:>2d} "
                f"{pk['model_nm']:11.4f} {pk['residual_nm']:+9.4f} {pk['residual_nm'] / pk['sigma_nm']:+7.2f} "
                f"{100 * (pk['core_fraction'] or 0):6.1f} {pk['m_simple_formula']:>8d}  {note.strip()}"
            )
        else:
            alts = ", ".join(f"{a['pol']} {a['m']}/{a['p']}" for a in pk["alternatives"] if not a["outlier"])
            lines.append(f"{pk['wavelength_nm']:11.4f} {pk['sigma_nm']:7.2g} {'-':<3} {'-':>5} {'-':>2} {'':>11} {'':>9} "
                         f"{'':>7} {'':>6} {'':>8}  UNASSIGNED: {pk['why']}" + (f"; or {alts}" if alts else ""))
    cands = [c for c in d["candidates"] if c["best"] or c["origin"] == "search"]  # local variants: per peak above
    if len(cands) > 1:
        lines += ["", "labellings fitted on exact modes (most probable first; one-peak changes are in the note column):",
                  f"{'probability':>11} {'m_offset':>8} {'outliers':>8} {'D_um':>10}  labels"]
        for c in cands[:8]:
            offset = f"{c['m_offset']:+d}" if c["m_offset"] is not None else "-"
            lines.append(f"{c['probability']:11.3g} {offset:>8} {c['outliers']:>8d} {c.get('inner_diameter_um', fit['fixed'].get('inner_diameter_um')):10.4f}  {c['labels']}")
        if len(cands) > 8:
            lines.append(f"... and {len(cands) - 8} less probable (all in the JSON output)")
    return "\n".join(lines) + "\n"


def _plot(result: Assignment, spectrum, path: str) -> None:
    """The labelled spectrum and residuals as a figure in ``path`` (a staged file)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plot_assign import plot_assignment

    fig = plot_assignment(result, spectrum=spectrum)
    try:
        fig.savefig(path, dpi=150)
    finally:
        plt.close(fig)
