"""``wgmfem simulate``: a synthetic spectrum of a fibre's modes (Lorentzians of width lambda / Q_total,
with noise, missing and spurious peaks), as a two-column CSV whose header holds the truth."""

from __future__ import annotations

import argparse
import re
import sys

from ..report import to_json
from ..spectrum import MAX_SAMPLES, SpectrumError, simulate_spectrum, spectrum_csv
from .common import (
    InputError,
    add_geometry_options,
    build_geometry,
    figure_suffix_ok,
    float_range,
    int_range,
    positive_float,
    progress_printer,
    region_filter,
    staged_outputs,
    write_text,
)

HELP = "a synthetic spectrum of the fibre's modes, with its truth (for testing an assignment)"

EPILOG = f"""\
Model: the modes of the fibre in the window (as 'wgmfem modes --no-fsr' lists them, with the
same --pol, --p and --region) are Lorentzians of peak height 'weight' and full width at half
maximum lambda / Q_total, 1/Q_total = 1/Q_mode + 1/Q_extra: Q_mode is the mode's radiation Q
(and absorption, for a complex index), --q-extra stands for the losses the model leaves out
(absorption and scattering of the real fibre, the spectrometer's resolution). The intensity is
their sum on a zero background, plus the noise asked for.

Output: CSV 'wavelength_nm,intensity' under a '#' header with the fibre, the settings and the
truth (every line's pol, m, p, exact and drawn wavelength, Q and width; the dropped modes; the
spurious peaks); 'wgmfem assign --spectrum FILE' and wgmfem.spectrum.read_spectrum read it.
--format json gives the settings and the truth without the samples. Sampling: the narrowest
line's FWHM / 10, or the window / 1000 if smaller (at most {MAX_SAMPLES:.0e} samples); --seed
makes the random parts (weights, dropped modes, noise, spurious peaks) reproducible.

examples:
  wgmfem simulate --wavelength 436:440 --position-noise 0.005 --spurious 1 --drop 1 --seed 3 --output spectrum.csv --plot spectrum.png
  wgmfem simulate --wavelength 436:440 --weights equal --intensity-noise 0.02 --seed 1 --format json
"""


#: The library's argument names, as the options that set them.
OPTION_NAMES = {"step_nm": "--step", "q_extra": "--q-extra", "position_noise_nm": "--position-noise",
                "intensity_noise": "--intensity-noise"}


def _option_names(message: str) -> str:
    """A SpectrumError's message in the words of the command line."""
    return re.sub(r"\b(" + "|".join(OPTION_NAMES) + r")\b", lambda match: OPTION_NAMES[match.group(1)], message)


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return value


def add_parser(sub) -> None:
    sp = sub.add_parser(
        "simulate", help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="A synthetic whispering-gallery spectrum of the fibre's exact modes in a window: each mode a "
        "Lorentzian of width lambda/Q_total, optionally with position and intensity noise, dropped modes and "
        "spurious peaks; the file's header records which mode is where.",
    )
    add_geometry_options(sp)
    s = sp.add_argument_group("modes")
    s.add_argument("--wavelength", type=float_range, required=True, metavar="MIN:MAX", help="vacuum wavelength window in nm (required)")
    s.add_argument("--pol", default="both", help="Ez, Hz or both (TM = Ez, TE = Hz) (default both)")
    s.add_argument("--p", type=int_range("--p"), default=(1, 1), metavar="P|P1:P2", help="radial order(s), or 'any' (default 1)")
    s.add_argument("--region", metavar="NAME", help="core, wall, ..., 'auto' or 'any' (default auto: the layer of highest index)")
    m = sp.add_argument_group("spectrum")
    m.add_argument("--q-extra", type=positive_float, default=2e4, metavar="Q",
                   help="Q of the losses outside the model (fibre, spectrometer): 1/Q_total = 1/Q_mode + 1/Q (default 2e4)")
    m.add_argument("--step", type=positive_float, metavar="NM", help="sampling step, nm (default: narrowest FWHM / 10, at most window / 1000)")
    m.add_argument("--position-noise", type=non_negative_float, default=0.0, metavar="NM", help="1-sigma jitter of each line's centre, nm (default 0)")
    m.add_argument("--intensity-noise", type=non_negative_float, default=0.0, metavar="FRAC",
                   help="1-sigma noise of every sample, as a fraction of the highest line (default 0)")
    m.add_argument("--drop", type=non_negative_int, default=0, metavar="N", help="leave out N modes chosen at random (default 0)")
    m.add_argument("--spurious", type=non_negative_int, default=0, metavar="N", help="add N peaks at random positions (default 0)")
    m.add_argument("--weights", choices=("random", "equal"), default="random", help="line heights: uniform 0.3-1, or all 1 (default random)")
    m.add_argument("--seed", type=non_negative_int, metavar="N", help="random seed (default: drawn at random; the header records it)")
    o = sp.add_argument_group("output")
    o.add_argument("--format", choices=("csv", "json"), default="csv", help="csv: the samples under the truth header; json: settings and truth only (default csv)")
    o.add_argument("--output", metavar="FILE", help="write to FILE (atomically) instead of standard output")
    o.add_argument("--plot", metavar="FILE", help="the spectrum with every line labelled, .png/.svg/.pdf")
    o.add_argument("--quiet", action="store_true", help="no notice or summary on stderr")
    sp.set_defaults(run=run)


def run(args) -> int:
    if args.plot:
        figure_suffix_ok(args.plot)
    cyl = build_geometry(args)
    lo, hi = args.wavelength
    if not (lo > 0 and hi > lo):
        raise InputError(f"--wavelength {lo:g}:{hi:g} is empty: give MIN:MAX with 0 < MIN < MAX")
    p_range = None if args.p == "any" else args.p
    region, notice = region_filter(cyl, args.region, (lo, hi), None, p_range)
    if notice and not args.quiet:
        sys.stderr.write(f"wgmfem: {notice}\n")
    progress = progress_printer(sys.stderr.isatty() and not args.quiet)
    try:
        spectrum = simulate_spectrum(
            cyl, wavelength_nm=(lo, hi), pol=args.pol, p=p_range, region=args.region or "auto", q_extra=args.q_extra,
            step_nm=args.step, position_noise_nm=args.position_noise, intensity_noise=args.intensity_noise,
            drop=args.drop, spurious=args.spurious, weights=args.weights, seed=args.seed, progress=progress,
        )
    except SpectrumError as exc:
        raise InputError(_option_names(str(exc))) from None
    text = to_json(spectrum.to_dict()) if args.format == "json" else spectrum_csv(spectrum)
    with staged_outputs({"--output": args.output, "--plot": args.plot}) as staged:  # all files or none
        if args.plot:
            _plot(spectrum, staged[args.plot])
        if args.output:
            write_text(staged[args.output], text)
    if not args.output:
        sys.stdout.write(text)
    if not args.quiet:
        s = spectrum.settings
        where = f" -> {args.output}" if args.output else ""
        sys.stderr.write(
            f"wgmfem: {s['modes_found']} modes, {len(spectrum.lines)} drawn, {len(spectrum.dropped)} dropped, "
            f"{len(spectrum.spurious_nm)} spurious; {s['samples']} samples, step {s['step_nm']:.3g} nm{where}\n"
        )
    return 0


def _plot(spectrum, path: str) -> None:
    """The figure of the spectrum in ``path`` (a staged file)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plot_spectrum import plot_synthetic_spectrum

    s = spectrum.settings
    title = (f"{s['fibre']}\nQ_extra {s['q_extra']:g}, position noise {s['position_noise_nm']:g} nm, "
             f"intensity noise {s['intensity_noise']:g}, seed {s['seed']}")
    fig, ax = plt.subplots(figsize=(10, 4.5))
    try:
        plot_synthetic_spectrum(spectrum, ax, title=title)
        fig.tight_layout()
        fig.savefig(path, dpi=150)
    finally:
        plt.close(fig)

