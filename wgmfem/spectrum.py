"""Whispering-gallery spectra: read a measured one, find and fit its peaks, and simulate one.

Wavelengths in nm everywhere.

* :func:`read_spectrum` reads a two-column text file (wavelength_nm, intensity).
* :func:`find_spectrum_peaks` finds the peaks (``scipy.signal.find_peaks``) and fits each one
  with a Lorentzian on a constant background, for a sub-sample centre, a linewidth (loaded Q)
  and the centre's standard error.
* :func:`simulate_spectrum` draws a synthetic spectrum of a fibre's exact modes: each mode a
  Lorentzian of width lambda / Q_total, with optional position and intensity noise, missing
  modes and spurious peaks, and records the truth (which mode is where) beside the samples.
  :func:`write_spectrum` writes it as a CSV whose ``#`` header holds that truth, so that an
  assignment of its peaks can be checked.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .atomic import write_text_atomically
from .polarization import normalize_pols

#: Fewest numeric rows of a spectrum file (and samples of a spectrum given to the peak finder).
MIN_SAMPLES = 5
#: Most samples :func:`simulate_spectrum` draws (about 50 MB of CSV).
MAX_SAMPLES = 2_000_000
#: Most spurious peaks, and most evaluations of a line at a sample (lines x samples, ~5 s).
MAX_SPURIOUS = 10_000
MAX_LINE_EVALUATIONS = 1e9
#: Largest position noise (nm) and intensity noise (relative): beyond them a spectrum is noise only.
MAX_NOISE = 1e6
#: Default sampling: this many samples across the narrowest line's FWHM ...
SAMPLES_PER_FWHM = 10
#: ... and at least this many across the window.
MIN_WINDOW_SAMPLES = 1000
#: Half-width of the samples fitted around a peak, in FWHM.
FIT_HALF_WIDTH_FWHM = 1.5
#: Fewest samples a Lorentzian is fitted to (4 parameters, and one degree of freedom for the covariance).
MIN_FIT_SAMPLES = 5
#: A fitted FWHM beyond this many times the span of the samples fitted is a failed fit.
MAX_FIT_WIDTH_SPANS = 20
#: Passes over the peaks: each refits every peak with the others' fitted Lorentzians subtracted.
MAX_FIT_PASSES = 8
#: Random weights of the lines (and of every spurious peak) are uniform in this range.
RANDOM_WEIGHTS = (0.3, 1.0)


class SpectrumError(ValueError):
    """A spectrum, or a setting of a simulated one, that cannot be used (one line of message)."""


# -- reading -----------------------------------------------------------------------------------

def _fields(text: str) -> list[str]:
    """The fields of one data line. Semicolons or tabs separate fields when present, and a field
    may then use a decimal comma (``436,25;0,8``: a spreadsheet export); otherwise commas and
    spaces separate fields."""
    if ";" in text or "\t" in text:
        parts = [part.strip() for part in text.replace("\t", ";").split(";")]
        parts = [part for part in parts if part]
        return [part.replace(",", ".") if part.count(",") == 1 and "." not in part else part for part in parts]
    return text.replace(",", " ").split()


def read_spectrum(path: str) -> tuple[np.ndarray, np.ndarray]:
    """A measured spectrum: (wavelength_nm, intensity) arrays sorted by wavelength.

    The file holds two columns, wavelength in nm and intensity, separated by commas,
    semicolons, tabs or spaces (with semicolons or tabs a decimal comma is read too); further
    columns are ignored. ``#`` starts a comment; header lines before the first numeric row are
    skipped. Raises :class:`SpectrumError` (one line) for a file that cannot be read or is not
    text, fewer than 5 numeric rows, a row that is not two numbers once the data have started,
    non-finite numbers, wavelengths that are not positive, or a wavelength given twice.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise SpectrumError(f"cannot read spectrum {path!r}: {exc.strerror or exc}") from None
    try:
        if b"\x00" in raw:
            raise UnicodeDecodeError("utf-8", raw, 0, 1, "NUL byte")
        lines = raw.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise SpectrumError(f"spectrum {path!r} is not a text file") from None
    rows: list[list[float]] = []
    for number, line in enumerate(lines, 1):
        text = _fields(line.split("#", 1)[0])
        if not text:
            continue
        try:
            if len(text) < 2:
                raise ValueError
            values = [float(v) for v in text[:2]]
        except ValueError:
            if rows:
                raise SpectrumError(
                    f"{path}, line {number}: expected two numbers (wavelength_nm, intensity), got {line.strip()[:80]!r}"
                ) from None
            continue  # a header line
        if not all(math.isfinite(v) for v in values):
            raise SpectrumError(f"{path}, line {number}: non-finite number in {line.strip()[:80]!r}")
        if values[0] <= 0:
            raise SpectrumError(f"{path}, line {number}: wavelengths must be positive (nm), got {values[0]:g}")
        rows.append(values)
    if len(rows) < MIN_SAMPLES:
        raise SpectrumError(f"spectrum {path!r} has {len(rows)} numeric rows; need at least {MIN_SAMPLES} (wavelength_nm, intensity)")
    data = np.array(rows, dtype=float)
    order = np.argsort(data[:, 0], kind="stable")
    x, y = data[order, 0], data[order, 1]
    same = np.flatnonzero(np.diff(x) == 0)
    if same.size:
        raise SpectrumError(f"spectrum {path!r}: wavelength {x[same[0]]:.12g} nm appears more than once")
    return x, y


def _as_spectrum(wavelength_nm, intensity) -> tuple[np.ndarray, np.ndarray]:
    """Checked float arrays sorted by wavelength."""
    try:
        x = np.asarray(wavelength_nm, dtype=float)
        y = np.asarray(intensity, dtype=float)
    except (TypeError, ValueError):
        raise SpectrumError("wavelength_nm and intensity must be arrays of numbers") from None
    if x.ndim != 1 or x.shape != y.shape:
        raise SpectrumError(f"wavelength_nm and intensity must be 1-D arrays of one length, got shapes {x.shape} and {y.shape}")
    if x.size < MIN_SAMPLES:
        raise SpectrumError(f"a spectrum needs at least {MIN_SAMPLES} samples, got {x.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise SpectrumError("the spectrum contains non-finite numbers")
    if np.any(x <= 0):
        raise SpectrumError("wavelengths must be positive (nm)")
    if np.any(np.diff(x) <= 0):
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
        same = np.flatnonzero(np.diff(x) == 0)
        if same.size:
            raise SpectrumError(f"wavelength {x[same[0]]:.12g} nm appears more than once")
    return x, y


# -- peaks -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Peak:
    """One peak of a spectrum.

    ``wavelength_nm``: the centre, of the fitted Lorentzian (``method`` ``'lorentzian'``) or,
    where that fit failed, of the parabola through the highest sample and its neighbours
    (``'parabola'``). ``fwhm_nm``: full width at half maximum, of the fitted Lorentzian or, for a
    parabola, the width at half the peak's prominence (``scipy.signal.peak_widths``); None
    when it is unknown. ``centre_sigma_nm``: the 1-sigma standard error of the centre from the
    fit's covariance (scaled by the residual scatter), None without a Lorentzian fit.
    ``height``: the intensity at the centre (the fitted Lorentzian's peak plus its
    background; the parabola's vertex).
    """

    wavelength_nm: float
    fwhm_nm: float | None
    centre_sigma_nm: float | None
    height: float
    method: str = "lorentzian"

    @property
    def q_loaded(self) -> float | None:
        """The loaded quality factor wavelength / FWHM (None without a width)."""
        if not self.fwhm_nm:
            return None
        return self.wavelength_nm / self.fwhm_nm

    def to_dict(self) -> dict:
        return {
            "wavelength_nm": self.wavelength_nm, "fwhm_nm": self.fwhm_nm, "centre_sigma_nm": self.centre_sigma_nm,
            "height": self.height, "q_loaded": self.q_loaded, "method": self.method,
        }


def lorentzian(x, centre_nm: float, fwhm_nm: float, height: float = 1.0):
    """``height`` / (1 + (2 (x - centre) / fwhm)^2): a Lorentzian line of peak ``height``."""
    return height / (1.0 + (2.0 * (np.asarray(x, dtype=float) - centre_nm) / fwhm_nm) ** 2)


@dataclass
class _Fit:
    amplitude: float
    centre: float
    fwhm: float
    background: float
    centre_sigma: float | None


def _fit_lorentzian(x, y, x0: float, w0: float, lo: float, hi: float) -> _Fit | None:
    """Least-squares Lorentzian plus constant on the samples (x, y), started at centre ``x0``
    and width ``w0``; None when the fit fails or its centre leaves [lo, hi]."""
    from scipy.optimize import OptimizeWarning, curve_fit

    b0 = float(np.min(y))
    a0 = float(np.max(y)) - b0
    if not (a0 > 0 and w0 > 0):
        return None
    u = (x - x0) / w0  # the fit in units of the width and the amplitude: well conditioned
    v = (y - b0) / a0

    def model(t, a, c, w, b):
        return a / (1.0 + (2.0 * (t - c) / w) ** 2) + b

    def jacobian(t, a, c, w, b):  # analytic: finite differences degrade at c = b = 0, the start
        s = 2.0 * (t - c) / w
        q = 1.0 / (1.0 + s * s)
        return np.column_stack((q, 4.0 * a * s * q * q / w, 2.0 * a * s * s * q * q / w, np.ones_like(t)))

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)  # covariance not estimated: checked below
            params, cov = curve_fit(model, u, v, p0=(1.0, 0.0, 1.0, 0.0), jac=jacobian, maxfev=2000)
    except (RuntimeError, ValueError, np.linalg.LinAlgError):
        return None
    a, c, w, b = (float(p) for p in params)
    w = abs(w)
    centre = x0 + c * w0
    if not (all(math.isfinite(p) for p in (a, c, w, b)) and a > 0 and w > 0 and lo <= centre <= hi):
        return None
    if w * w0 > MAX_FIT_WIDTH_SPANS * (x[-1] - x[0]):  # a line this wide is not what the samples show
        return None
    var = float(cov[1, 1]) if np.all(np.isfinite(cov)) else math.nan
    sigma = float(math.sqrt(var) * w0) if math.isfinite(var) and var >= 0 else None
    return _Fit(float(a * a0), float(centre), float(w * w0), float(b0 + b * a0), sigma)


def _parabola_peak(x, y, i: int) -> tuple[float, float]:
    """Centre and height of the parabola through samples i - 1, i, i + 1 (the sample itself at an end)."""
    if not 0 < i < len(x) - 1:
        return float(x[i]), float(y[i])
    a, b, c = np.polyfit(x[i - 1:i + 2] - x[i], y[i - 1:i + 2], 2)
    shift = -b / (2 * a) if a < 0 else 0.0
    shift = float(np.clip(shift, x[i - 1] - x[i], x[i + 1] - x[i]))
    return float(x[i] + shift), float(a * shift**2 + b * shift + c)


def _window(x, i: int, centre: float, fwhm: float, lo_bound: float, hi_bound: float) -> tuple[np.ndarray, float, float]:
    """Indices of the samples fitted for the peak at sample ``i``: within FIT_HALF_WIDTH_FWHM
    FWHM of ``centre`` and inside (lo_bound, hi_bound), the midpoints to the neighbouring
    peaks; widened to the MIN_FIT_SAMPLES nearest samples inside those bounds when fewer."""
    half = FIT_HALF_WIDTH_FWHM * fwhm
    lo, hi = max(centre - half, lo_bound), min(centre + half, hi_bound)
    first, last = int(np.searchsorted(x, lo, "left")), int(np.searchsorted(x, hi, "right"))
    if last - first < MIN_FIT_SAMPLES:
        first_allowed = int(np.searchsorted(x, lo_bound, "right")) if math.isfinite(lo_bound) else 0
        last_allowed = int(np.searchsorted(x, hi_bound, "left")) if math.isfinite(hi_bound) else len(x)
        first = max(first_allowed, min(i - MIN_FIT_SAMPLES // 2, last_allowed - MIN_FIT_SAMPLES))
        last = min(last_allowed, first + MIN_FIT_SAMPLES)
        lo, hi = x[first], x[last - 1] if last > first else x[first]
    return np.arange(first, last), float(lo), float(hi)


def find_spectrum_peaks(wavelength_nm, intensity, prominence: float = 0.1) -> list[Peak]:
    """The peaks of a spectrum, sorted by wavelength, each fitted by a Lorentzian.

    Peaks are those of ``scipy.signal.find_peaks`` with a prominence of at least
    ``prominence`` times the intensity range (max - min). Each is fitted by least squares
    with a Lorentzian plus a constant background on the samples within 1.5 FWHM of its centre
    (the width first estimated by ``scipy.signal.peak_widths``, then the fitted one), the
    window cut at the midpoints to the neighbouring peaks and holding at least 5 samples.
    Overlapping peaks: every peak is refitted with the other peaks' fitted Lorentzians
    subtracted from the samples, pass after pass, until the centres settle. The centre is
    then accurate to a small fraction of the sample step; its standard error comes from the
    fit's covariance scaled by the residual scatter (so it reflects the noise of the samples).
    Where a fit fails, or its centre leaves its window, the peak falls back to the parabola
    through its highest sample and the two neighbours (``method`` ``'parabola'``, width from
    ``peak_widths``, no standard error). A flat spectrum has no peaks.
    """
    from scipy.signal import find_peaks, peak_widths

    x, y = _as_spectrum(wavelength_nm, intensity)
    if isinstance(prominence, bool) or not isinstance(prominence, numbers.Real) or not 0 < prominence < 1:
        raise SpectrumError(f"peak prominence must be a fraction between 0 and 1, got {prominence!r}")
    span = float(y.max() - y.min())
    if span <= 0:
        return []
    index, props = find_peaks(y, prominence=prominence * span)
    if index.size == 0:
        return []
    _, _, left, right = peak_widths(y, index, rel_height=0.5,
                                    prominence_data=(props["prominences"], props["left_bases"], props["right_bases"]))
    samples = np.arange(len(x))
    estimated = np.interp(right, samples, x) - np.interp(left, samples, x)
    step = np.diff(x)
    for k, i in enumerate(index):  # a width below a sample step is not resolved: start from one step
        estimated[k] = max(estimated[k], float(step[min(i, len(step) - 1)]))
    mids = 0.5 * (x[index][1:] + x[index][:-1])
    lo_bounds = np.r_[-math.inf, mids]
    hi_bounds = np.r_[mids, math.inf]

    fits: list[_Fit | None] = [None] * len(index)
    centre = x[index].astype(float)
    width = estimated.copy()
    amplitude = np.zeros(len(index))  # of the fitted Lorentzians (0: not fitted, nothing to subtract)
    for sweep in range(MAX_FIT_PASSES):
        before = centre.copy()
        for k, i in enumerate(index):
            sel, lo, hi = _window(x, i, centre[k], width[k], lo_bounds[k], hi_bounds[k])
            if sel.size < MIN_FIT_SAMPLES:
                continue
            others = amplitude.copy()
            others[k] = 0.0
            # the samples less every other peak's fitted Lorentzian
            target = y[sel] - lorentzian(x[sel][:, None], centre[None, :], width[None, :], others[None, :]).sum(axis=1)
            fit = _fit_lorentzian(x[sel], target, centre[k], width[k], lo, hi)
            if fit is not None:  # a later pass that fails keeps the earlier fit
                fits[k] = fit
                centre[k], width[k], amplitude[k] = fit.centre, fit.fwhm, fit.amplitude
        # at least two passes: the second fits each peak on the window of its fitted width
        if sweep >= 1 and np.all(np.abs(centre - before) <= 1e-7 * width):
            break

    peaks = []
    for k, i in enumerate(index):
        fit = fits[k]
        if fit is None:
            lam, height = _parabola_peak(x, y, i)
            fwhm = float(estimated[k]) if estimated[k] > 0 else None
            peaks.append(Peak(lam, fwhm, None, height, method="parabola"))
        else:
            peaks.append(Peak(fit.centre, fit.fwhm, fit.centre_sigma, fit.amplitude + fit.background))
    return sorted(peaks, key=lambda pk: pk.wavelength_nm)


# -- synthetic spectra -------------------------------------------------------------------------

@dataclass
class SyntheticSpectrum:
    """A simulated spectrum and its truth.

    ``wavelength_nm``, ``intensity``: the samples. ``lines``: one dict per mode drawn, with
    ``pol``, ``m``, ``p``, ``region``, ``wavelength_nm`` (the exact mode), ``shown_nm`` (the
    centre drawn, after position noise), ``Q_rad``, ``Q_total``, ``fwhm_nm``, ``weight`` (the
    line's peak height). ``dropped``: the same dicts for the modes left out (``shown_nm``
    None). ``spurious_nm``, ``spurious_weights``: centres and heights of the spurious peaks.
    ``settings``: everything the spectrum was made with.
    """

    wavelength_nm: np.ndarray
    intensity: np.ndarray
    lines: list[dict]
    dropped: list[dict]
    spurious_nm: list[float]
    settings: dict
    spurious_weights: list[float] = field(default_factory=list)

    def peaks_nm(self) -> np.ndarray:
        """The centres an ideal peak finder returns: the drawn lines' shown centres and the
        spurious peaks, sorted."""
        return np.sort(np.array([ln["shown_nm"] for ln in self.lines] + list(self.spurious_nm), dtype=float))

    def to_dict(self) -> dict:
        """Settings and truth (not the samples), for JSON."""
        return {
            "settings": dict(self.settings),
            "lines": [dict(ln) for ln in self.lines],
            "dropped": [dict(ln) for ln in self.dropped],
            "spurious_nm": list(self.spurious_nm),
            "spurious_weights": list(self.spurious_weights),
            "peaks_nm": self.peaks_nm().tolist(),
        }


def _number(value, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise SpectrumError(f"{name} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise SpectrumError(f"{name} must be positive, got {value!r}")
    if not positive and value < 0:
        raise SpectrumError(f"{name} must be >= 0, got {value!r}")
    return float(value)


def _count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise SpectrumError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


def _window_nm(value) -> tuple[float, float]:
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise SpectrumError(f"wavelength_nm must be a window (min, max) in nm, got {value!r}") from None
    lo = _number(lo, "the window's lower wavelength (nm)", positive=True)
    hi = _number(hi, "the window's upper wavelength (nm)", positive=True)
    if hi <= lo:
        raise SpectrumError(f"the wavelength window {lo:g}:{hi:g} nm is empty: give MIN:MAX with MIN < MAX")
    return lo, hi


def _p_range(p) -> tuple[int, int] | None:
    if p is None:
        return None
    if isinstance(p, numbers.Integral) and not isinstance(p, bool):
        p = (p, p)
    try:
        p1, p2 = p
    except (TypeError, ValueError):
        raise SpectrumError(f"p must be a radial order, a range (p1, p2) or None, got {p!r}") from None
    for value in (p1, p2):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise SpectrumError(f"radial orders p must be whole numbers >= 1, got {p!r}")
    if p2 < p1:
        raise SpectrumError(f"the p range {p1}:{p2} is empty: give P1:P2 with P1 <= P2")
    return int(p1), int(p2)


def _region(cylinder, region, window_nm) -> str | None:
    """The region filter given to find_modes (:func:`wgmfem.solve.resolve_region`), the name
    checked before any search."""
    from .solve import resolve_region

    if not isinstance(region, str):
        raise SpectrumError(f"region must be a region name, 'auto' or 'any', got {region!r}")
    if region.lower() not in ("auto", "any") and region not in cylinder.region_names:
        raise SpectrumError(f"no region called {region!r}; regions are {', '.join(cylinder.region_names)}, auto or any")
    return resolve_region(cylinder, region, window_nm, None, None)


def _weights(weights, n: int, rng) -> np.ndarray:
    if isinstance(weights, str):
        if weights == "random":
            return rng.uniform(*RANDOM_WEIGHTS, n)
        if weights == "equal":
            return np.ones(n)
        raise SpectrumError(f"weights must be 'random', 'equal' or one positive number per mode, got {weights!r}")
    try:
        values = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        raise SpectrumError("weights must be 'random', 'equal' or one positive number per mode") from None
    if values.ndim != 1 or values.size != n:
        raise SpectrumError(f"weights: {values.size} values given for {n} modes (one per mode, in the order of find_modes)")
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise SpectrumError("weights must be positive finite numbers")
    return values


def simulate_spectrum(
    cylinder=None,
    *,
    wavelength_nm: tuple[float, float],
    pol: str = "both",
    p: int | tuple[int, int] | None = (1, 1),
    region: str = "auto",
    q_extra: float = 2e4,
    step_nm: float | None = None,
    position_noise_nm: float = 0.0,
    intensity_noise: float = 0.0,
    drop: int = 0,
    spurious: int = 0,
    weights: str | Sequence[float] = "random",
    seed: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> SyntheticSpectrum:
    """A synthetic spectrum of the fibre's modes in a window, with its truth.

    The modes are those of ``wgmfem.solve.find_modes(cylinder, pol=pol, wavelength_nm=window,
    p=p, region=region, fsr=False)`` (``region`` ``'auto'``: the fibre's guiding region,
    :func:`wgmfem.solve.default_region`; ``'any'``: every mode; ``p`` None: every order).
    Each mode is a Lorentzian of peak height ``weight`` and FWHM = lambda / Q_total, with
    1/Q_total = 1/Q_mode + 1/q_extra: Q_mode is the mode's own loss budget (its radiation Q,
    and absorption when a layer absorbs) and ``q_extra`` stands for every loss the fibre model
    leaves out (absorption and scattering of the real fibre, the spectrometer's resolution).
    The intensity is the sum of the lines on a zero background.

    weights : ``'random'`` (uniform in 0.3-1), ``'equal'`` (all 1) or one positive number per
        mode, in the order of find_modes (by polarization, then wavelength).
    drop : this many modes, chosen at random, are left out (listed in ``dropped``).
    spurious : this many extra Lorentzians at uniform random positions in the window, of the
        median drawn line's width and a random weight (0.3-1).
    position_noise_nm : 1-sigma Gaussian jitter of each line's centre.
    intensity_noise : 1-sigma Gaussian noise added to every sample, as a fraction of the
        highest line's peak height.
    step_nm : sampling step (the samples run from the window's lower end in equal steps up to
        its upper end). Default: the narrowest line's FWHM / 10, or the window / 1000 if
        smaller; at most 2e6 samples (:data:`MAX_SAMPLES`).
    seed : seed of ``numpy.random.default_rng``: the same seed gives the same spectrum. Without
        one a seed is drawn at random; ``settings['seed']`` records it either way.

    Raises :class:`SpectrumError` (one line) for a bad setting, a window without modes, more
    modes to drop than found, a mode with net gain (no linewidth), or too many samples;
    the search itself raises :class:`wgmfem.solve.SearchError`.
    """
    from .geometry import Capillary
    from .solve import find_modes

    lo, hi = _window_nm(wavelength_nm)
    try:
        pols = normalize_pols(pol)
    except (TypeError, ValueError) as exc:
        raise SpectrumError(str(exc)) from None
    p_range = _p_range(p)
    q_extra = _number(q_extra, "q_extra", positive=True)
    if step_nm is not None:
        step_nm = _number(step_nm, "step_nm", positive=True)
    position_noise_nm = _number(position_noise_nm, "position_noise_nm")
    intensity_noise = _number(intensity_noise, "intensity_noise")
    for value, name in ((position_noise_nm, "position_noise_nm"), (intensity_noise, "intensity_noise")):
        if value > MAX_NOISE:
            raise SpectrumError(f"{name} must be at most {MAX_NOISE:g}, got {value:g}")
    drop = _count(drop, "drop")
    spurious = _count(spurious, "spurious")
    if spurious > MAX_SPURIOUS:
        raise SpectrumError(f"spurious must be at most {MAX_SPURIOUS}, got {spurious}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise SpectrumError(f"seed must be a whole number >= 0 or None, got {seed!r}")
    if isinstance(weights, str) and weights not in ("random", "equal"):
        raise SpectrumError(f"weights must be 'random', 'equal' or one positive number per mode, got {weights!r}")
    cyl = cylinder if cylinder is not None else Capillary()
    region_used = _region(cyl, region, (lo, hi))

    modes = find_modes(cyl, pol="both" if len(pols) == 2 else pols[0], wavelength_nm=(lo, hi), p=p_range,
                       region=region_used if region_used is not None else "any", fsr=False, progress=progress)
    what = f"pol {pol}, p {'any' if p_range is None else f'{p_range[0]}-{p_range[1]}'}, region {region_used or 'any'}"
    if not modes:
        raise SpectrumError(f"no modes ({what}) in {lo:g}-{hi:g} nm: widen the window or change p, pol or region")
    n = len(modes)
    if drop > n:
        raise SpectrumError(f"cannot drop {drop} modes: the window holds {n}")

    records: list[dict[str, Any]] = []
    for md in modes:
        inverse = 1.0 / md.Q_total + 1.0 / q_extra
        if inverse <= 0:
            raise SpectrumError(f"{md.pol} m={md.m} p={md.p} has net gain (Q_total {md.Q_total:.3g} with q_extra): no linewidth to draw")
        q_total = 1.0 / inverse
        records.append({
            "pol": md.pol, "m": int(md.m), "p": int(md.p), "region": md.region,
            "wavelength_nm": float(md.wavelength_nm), "shown_nm": None,
            "Q_rad": float(md.Q_rad), "Q_total": q_total, "fwhm_nm": float(md.wavelength_nm) / q_total, "weight": None,
        })

    if seed is None:  # draw one and record it, so that every spectrum can be made again
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    rng = np.random.default_rng(seed)
    weight = _weights(weights, n, rng)
    gone = set(rng.choice(n, size=drop, replace=False).tolist()) if drop else set()
    jitter = rng.normal(0.0, position_noise_nm, n) if position_noise_nm > 0 else np.zeros(n)
    for k, rec in enumerate(records):
        rec["weight"] = float(weight[k])
        if k not in gone:
            rec["shown_nm"] = float(rec["wavelength_nm"] + jitter[k])
    lines = [rec for k, rec in enumerate(records) if k not in gone]
    dropped = [rec for k, rec in enumerate(records) if k in gone]

    spurious_fwhm = float(np.median([rec["fwhm_nm"] for rec in (lines or records)]))
    spurious_nm = rng.uniform(lo, hi, spurious).tolist() if spurious else []
    spurious_weights = rng.uniform(*RANDOM_WEIGHTS, spurious).tolist() if spurious else []

    widths = [rec["fwhm_nm"] for rec in lines] + ([spurious_fwhm] if spurious else [])
    step_given = step_nm is not None
    if step_nm is None:
        step_nm = min((min(widths) / SAMPLES_PER_FWHM) if widths else math.inf, (hi - lo) / MIN_WINDOW_SAMPLES)
    count = math.floor((hi - lo) / step_nm * (1 + 1e-12)) + 1
    if count > MAX_SAMPLES:
        advice = "a larger step_nm or a narrower window" if step_given else \
            "a narrower window, a smaller q_extra (wider lines) or a larger step_nm"
        raise SpectrumError(f"the spectrum would have {count:.3g} samples (step {step_nm:.3g} nm over {hi - lo:g} nm), "
                            f"more than {MAX_SAMPLES:.0e}: give {advice}")
    if count < MIN_SAMPLES:
        raise SpectrumError(f"step_nm {step_nm:g} leaves {count} samples in {lo:g}-{hi:g} nm; need at least {MIN_SAMPLES}")

    if (len(lines) + spurious) * count > MAX_LINE_EVALUATIONS:
        raise SpectrumError(f"{len(lines) + spurious} lines at {count} samples is more than {MAX_LINE_EVALUATIONS:.0e} "
                            "line evaluations: give a narrower window, fewer modes (p, pol, region) or a larger step_nm")

    x = lo + step_nm * np.arange(count)
    y = np.zeros(count)
    with np.errstate(over="ignore"):  # a far line's (x - centre)^2 may overflow: its share is 0
        for rec in lines:
            y += lorentzian(x, rec["shown_nm"], rec["fwhm_nm"], rec["weight"])
        for centre, height in zip(spurious_nm, spurious_weights):
            y += lorentzian(x, centre, spurious_fwhm, height)
    top = max([rec["weight"] for rec in lines] + spurious_weights, default=1.0)
    noise_sigma = intensity_noise * top
    if noise_sigma > 0:
        y += rng.normal(0.0, noise_sigma, count)
    if not np.all(np.isfinite(y)):
        raise SpectrumError("the intensities overflow the double range: give smaller weights or intensity noise")

    settings = {
        "fibre": cyl.describe(),
        "wavelength_nm": [lo, hi],
        "pol": pol,
        "p": list(p_range) if p_range else None,
        "region": region,
        "region_used": region_used,
        "q_extra": q_extra,
        "step_nm": step_nm,
        "samples": count,
        "position_noise_nm": position_noise_nm,
        "intensity_noise": intensity_noise,
        "intensity_noise_sigma": noise_sigma,
        "drop": drop,
        "spurious": spurious,
        "spurious_fwhm_nm": spurious_fwhm if spurious else None,
        "weights": weights if isinstance(weights, str) else "given",
        "seed": seed,
        "modes_found": n,
    }
    return SyntheticSpectrum(x, y, lines, dropped, spurious_nm, settings, spurious_weights)


# -- writing -----------------------------------------------------------------------------------

def _line_row(kind: str, rec: dict) -> str:
    shown = "-" if rec["shown_nm"] is None else f"{rec['shown_nm']:.8f}"
    q_rad = "inf" if not math.isfinite(rec["Q_rad"]) else f"{rec['Q_rad']:.3e}"
    return (f"# {kind:<8} {rec['pol']:<3} {rec['m']:>6d} {rec['p']:>2d} {rec['region']:<8} {rec['wavelength_nm']:>14.8f} "
            f"{shown:>14} {q_rad:>10} {rec['Q_total']:>10.3e} {rec['fwhm_nm']:>10.3e} {rec['weight']:>7.3f}")


def spectrum_header(spectrum: SyntheticSpectrum) -> str:
    """The ``#`` header of :func:`write_spectrum`: fibre, settings (as JSON) and the truth."""
    from . import __version__
    from .report import json_text

    s = spectrum.settings
    lo, hi = s["wavelength_nm"]
    p = "any" if s["p"] is None else (f"{s['p'][0]}" if s["p"][0] == s["p"][1] else f"{s['p'][0]}-{s['p'][1]}")
    out = [
        f"# wgmfem {__version__} synthetic whispering-gallery spectrum",
        f"# fibre    : {s['fibre']}",
        f"# modes    : {lo:g}-{hi:g} nm, pol {s['pol']}, p {p}, region {s['region_used'] or 'any'} ({s['region']}); "
        f"{s['modes_found']} found, {len(spectrum.lines)} drawn, {len(spectrum.dropped)} dropped, "
        f"{len(spectrum.spurious_nm)} spurious",
        f"# model    : each mode a Lorentzian of FWHM lambda/Q_total, 1/Q_total = 1/Q_mode + 1/q_extra, "
        f"q_extra {s['q_extra']:g}; zero background",
        f"# sampling : {s['samples']} samples, step {s['step_nm']:.6g} nm; position noise {s['position_noise_nm']:g} nm, "
        f"intensity noise {s['intensity_noise']:g} of the highest line; weights {s['weights']}; seed {s['seed']}",
        f"# settings : {json_text(s, indent=None)}",
        "# truth (shown_nm: the centre drawn; dropped modes are not in the spectrum):",
        f"# {'kind':<8} {'pol':<3} {'m':>6} {'p':>2} {'region':<8} {'wavelength_nm':>14} {'shown_nm':>14} "
        f"{'Q_rad':>10} {'Q_total':>10} {'fwhm_nm':>10} {'weight':>7}",
    ]
    truth = [("line", rec) for rec in spectrum.lines] + [("dropped", rec) for rec in spectrum.dropped]
    out += [_line_row(kind, rec) for kind, rec in sorted(truth, key=lambda kr: kr[1]["wavelength_nm"])]
    width = s.get("spurious_fwhm_nm")
    for centre, height in sorted(zip(spectrum.spurious_nm, spectrum.spurious_weights)):
        out.append(f"# {'spurious':<8} {'-':<3} {'-':>6} {'-':>2} {'-':<8} {'-':>14} {centre:>14.8f} "
                   f"{'-':>10} {'-':>10} {width:>10.3e} {height:>7.3f}")
    return "\n".join(out) + "\n"


def spectrum_csv(spectrum: SyntheticSpectrum) -> str:
    """The text :func:`write_spectrum` writes: the header, then ``wavelength_nm,intensity`` rows."""
    x, y = spectrum.wavelength_nm, spectrum.intensity
    rows = "\n".join(f"{a:.12g},{b:.9g}" for a, b in zip(x.tolist(), y.tolist()))
    return spectrum_header(spectrum) + "wavelength_nm,intensity\n" + rows + "\n"


def write_spectrum(path: str, spectrum: SyntheticSpectrum) -> None:
    """Write ``spectrum`` to ``path`` as CSV (two columns ``wavelength_nm,intensity``) under a
    ``#`` header holding the fibre, the settings and the truth (every line's pol, m, p, exact
    and shown wavelength, Q and width; the dropped modes; the spurious peaks), atomically: the
    file appears whole or not at all. :func:`read_spectrum` reads it back."""
    write_text_atomically(path, spectrum_csv(spectrum))
