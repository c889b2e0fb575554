"""Mode assignment of a measured spectrum: which (pol, m, p) is each peak, and which inner
diameter and/or core index reproduce the peaks best.

Wavelengths in nm, lengths in um.

Why it is a search and not a formula: for a comb of p = 1 core modes the diameter and the
mode number are nearly degenerate (scaling D by (m+1)/m moves mode m + 1 onto mode m), so
"fit D" has one good minimum per m-offset. What separates them is the free spectral range
(group index, the Airy term of the mode equation) and the relative positions of the Ez/Hz
and p = 1/2 families. So:

1. *Screen.* The exact core modes of the given families are computed once at the
   starting geometry over a window wide enough for the whole search range. Core-mode
   wavelengths scale with the bore (lambda ~ D at fixed indices); with the core index they
   follow a quadratic through exact combs at three indices (see :class:`_Comb`), so the
   comb at any trial value is cheap. Scanning the fitted quantity over its range and giving
   each peak the nearest mode enumerates the labellings (hypotheses); each gets a linear
   least-squares fit and a chi^2.
2. *Every m-offset.* The screen's model is good to ~1e-5 (wall-mode crossings move the core
   modes by up to ~0.05 nm as D or n change), less than what separates neighbouring
   m-offsets, so for the best few family patterns (labellings up to a common shift of m)
   every offset within the search range is fitted by a few Gauss-Newton steps on exact solves
   (with the comb's smooth Jacobian) and ranked by its exact residual.
3. *Exact refinement.* The best few are refitted by Gauss-Newton with the exact solver (each
   evaluation re-solves the labelled modes in narrow, argument-principle-counted boxes around
   their predicted wavelengths, a few ms a mode; the Jacobian comes from finite differences of
   exact solves). Where a core mode is split between core/wall hybrids (a crossing), the
   hybrid with >= 30 % core energy nearest the prediction stands for it.
4. *Verdict.* The noise sigma is the stated peak uncertainty or, failing that (or if the
   best fit is worse than it: Birge ratio), the residual scatter of the best hypothesis,
   sqrt(SSR / (N - n_fit)). Any other refined hypothesis whose chi^2 = SSR / sigma^2 is
   below the 99th percentile of the chi^2 distribution with N - n_fit degrees of freedom
   also fits the peaks within their noise: the assignment is then *ambiguous*. So is any
   assignment with fewer peaks than fitted parameters + 1 and no stated sigma.

Uncertainties are sigma * sqrt(diag((J^T J)^-1)) with J the exact Jacobian at the solution.
The outer diameter and the wall/outside indices are held at the given values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .exact.search import run_boxes
from .geometry import Capillary, LayeredCylinder
from .polarization import normalize_pols
from .solve import SearchError, find_modes

FIT_NAMES = {"inner-diameter": "inner_diameter_um", "core": "core_index"}
ACCEPT_PERCENTILE = 0.99  # a hypothesis with chi^2 below this quantile fits within the noise
DEFAULT_SEARCH = 0.02  # +-2 % around the given diameter (or index): about +-12 m at m = 600
DEFAULT_CANDIDATES = 6
PATTERNS = 3  # family patterns (labellings up to an m-offset) from the screen whose every offset is tried
PATTERN_RMS_NM = 0.1  # ... if their screen fit is within this rms of the best (the screen model is good to ~0.05 nm)
SCAN_STEPS = 3  # Gauss-Newton steps per offset in the scan
SCAN_BOX = 3e-5  # relative half-width of the first box around a comb prediction (good to ~1e-5; widened if empty)
MAX_STEPS = 6  # Gauss-Newton steps per hypothesis
HYBRID_CORE_FRACTION = 0.3  # a hybrid with this much energy in the core stands for the core mode


class AssignError(ValueError):
    """The peaks or the spectrum cannot be assigned as given (the message is one line)."""


# -- reading and picking peaks ---------------------------------------------------------------

def read_spectrum(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Two columns, wavelength (nm) and intensity, separated by commas, semicolons, tabs or
    spaces; '#' starts a comment; header lines before the first numeric row are skipped.
    Returns the arrays sorted by wavelength."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise AssignError(f"cannot read spectrum {path!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise AssignError(f"spectrum {path!r} is not a text file") from None
    rows = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].replace(",", " ").replace(";", " ").split()
        if not text:
            continue
        try:
            values = [float(v) for v in text[:2]]
            if len(values) < 2:
                raise ValueError
        except ValueError:
            if rows:
                raise AssignError(f"{path}, line {number}: expected two numbers (wavelength_nm, intensity), got {line.strip()!r}") from None
            continue  # a header
        rows.append(values)
    data = np.array(rows, dtype=float).reshape(-1, 2)
    if len(data) < 5:
        raise AssignError(f"spectrum {path!r} has {len(data)} numeric rows; need at least 5 (wavelength_nm, intensity)")
    if not np.all(np.isfinite(data)):
        raise AssignError(f"spectrum {path!r} contains non-finite numbers")
    if np.any(data[:, 0] <= 0):
        raise AssignError(f"spectrum {path!r}: wavelengths must be positive (nm)")
    order = np.argsort(data[:, 0])
    return data[order, 0], data[order, 1]


def pick_peaks(wavelength_nm, intensity, prominence: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Peaks of a spectrum: ``scipy.signal.find_peaks`` with a prominence of at least
    ``prominence`` times the intensity range (max - min); each position refined by the vertex
    of the parabola through the highest sample and its two neighbours. Returns (nm, height)."""
    from scipy.signal import find_peaks

    x, y = np.asarray(wavelength_nm, float), np.asarray(intensity, float)
    if not 0 < prominence < 1:
        raise AssignError(f"peak prominence must be a fraction between 0 and 1, got {prominence}")
    span = y.max() - y.min()
    if span <= 0:
        raise AssignError("the spectrum is flat: no peaks")
    index, _ = find_peaks(y, prominence=prominence * span)
    positions, heights = [], []
    for i in index:
        if 0 < i < len(x) - 1:
            a, b, c = np.polyfit(x[i - 1:i + 2] - x[i], y[i - 1:i + 2], 2)
            shift = -b / (2 * a) if a < 0 else 0.0
            shift = float(np.clip(shift, x[i - 1] - x[i], x[i + 1] - x[i]))
            positions.append(x[i] + shift)
            heights.append(a * shift**2 + b * shift + c)
        else:
            positions.append(x[i])
            heights.append(y[i])
    return np.array(positions), np.array(heights)


# -- the model: labelled core modes as a function of (D, n) ----------------------------------

@dataclass(frozen=True)
class Label:
    pol: str
    m: int
    p: int

    def __str__(self) -> str:
        return f"{self.pol} m={self.m} p={self.p}"


@dataclass
class Solved:
    """The exact modes behind a hypothesis at one parameter point."""

    wavelength_nm: np.ndarray
    region: list[str]
    core_fraction: np.ndarray
    q_rad: np.ndarray
    census_ok: list[bool]


class _Model:
    """Exact wavelengths of labelled modes of a capillary whose bore and/or core index vary."""

    def __init__(self, base: LayeredCylinder, fit: Sequence[str]):
        self.base = base
        self.fit = tuple(fit)
        self.evaluations = 0

    def start(self) -> np.ndarray:
        values = {"inner-diameter": 2 * self.base.radii_um[0], "core": float(self.base.indices[0])}
        return np.array([values[name] for name in self.fit])

    def cylinder(self, theta) -> LayeredCylinder:
        values = dict(zip(self.fit, (float(t) for t in theta)))
        d = values.get("inner-diameter", 2 * self.base.radii_um[0])
        n = values.get("core", self.base.indices[0])
        return Capillary(d, 2 * self.base.radii_um[1], n, self.base.indices[1], self.base.outside_index)

    def solve(self, theta, labels: Sequence[Label], predicted_nm, rel_half_width, verify=False) -> Solved:
        """Each labelled mode in a box of +-rel_half_width around its predicted wavelength,
        widened until a root of the right radial order is found."""
        self.evaluations += 1
        try:
            cyl = self.cylinder(theta)
        except ValueError as exc:
            raise AssignError(f"the fit left the physical range: {exc}") from None
        n = len(labels)
        out = Solved(np.full(n, np.nan), ["?"] * n, np.zeros(n), np.zeros(n), [False] * n)
        todo = list(range(n))
        half = np.full(n, float(rel_half_width))
        for _ in range(5):
            for pol in sorted({labels[i].pol for i in todo}):
                idx = [i for i in todo if labels[i].pol == pol]
                k = 2e3 * math.pi / np.asarray(predicted_nm)[idx]
                res = run_boxes(cyl, pol, [labels[i].m for i in idx], k * (1 - half[idx]), k * (1 + half[idx]), q_min=2.0, verify=verify)
                for box, i in enumerate(idx):
                    roots = [r for r in res.roots if r.box == box]
                    good = [r for r in roots if r.p == labels[i].p and r.region_index == 0]
                    # at a wall-mode crossing the core mode is shared by core/wall hybrids
                    good = good or [r for r in roots if r.fractions[0] >= HYBRID_CORE_FRACTION]
                    if good:
                        root = min(good, key=lambda r: abs(r.k.real - k[box]))
                        out.wavelength_nm[i] = 2e3 * math.pi / root.k.real
                        out.region[i] = cyl.region_names[root.region_index]
                        out.core_fraction[i] = root.fractions[0]
                        out.q_rad[i] = math.inf if root.k.imag == 0 else root.k.real / (2 * abs(root.k.imag))
                        out.census_ok[i] = res.checks[box].ok if verify else True
            todo = [i for i in todo if not np.isfinite(out.wavelength_nm[i])]
            if not todo:
                return out
            half[todo] *= 8
        for i in todo:  # near a wall-mode crossing: the family member wherever it lies
            try:
                md = find_modes(cyl, pol=labels[i].pol, m=labels[i].m, p=labels[i].p, region="core", fsr=False)[0]
            except SearchError:
                raise AssignError(f"lost the mode {labels[i]} while fitting") from None
            out.wavelength_nm[i] = md.wavelength_nm
            out.region[i], out.core_fraction[i], out.q_rad[i] = md.region, md.core_fraction, md.Q_rad
            out.census_ok[i] = bool(md.verification.get("census_ok"))
        return out


# -- hypotheses ------------------------------------------------------------------------------

@dataclass
class Hypothesis:
    """One labelling of the peaks and its fit."""

    labels: list[Label]
    theta: np.ndarray  # fitted values, in the order of ``fit``
    observed_nm: np.ndarray
    model_nm: np.ndarray
    ssr_nm2: float  # sum of squared residuals, nm^2
    linear_ssr_nm2: float  # from the screen (linearized model)
    jacobian: np.ndarray | None = None  # d lambda / d theta at the solution, nm per unit
    solved: Solved | None = None
    chi2: float | None = None
    acceptable: bool | None = None

    @property
    def residual_nm(self) -> np.ndarray:
        return self.observed_nm - self.model_nm

    def key(self) -> tuple:
        return tuple(self.labels)


@dataclass
class Assignment:
    """The answer: best hypothesis, its fit and uncertainties, the alternatives and the verdict."""

    peaks_nm: np.ndarray
    fit: tuple[str, ...]
    base: LayeredCylinder
    best: Hypothesis
    alternatives: list[Hypothesis]  # the other refined hypotheses, best first
    sigma_nm: float | None
    sigma_source: str
    uncertainty: np.ndarray  # one per fitted parameter (nan if unknown)
    correlation: float | None
    ambiguous: bool
    verdict: str
    screened: int  # hypotheses found by the screen
    evaluations: int  # exact model evaluations
    dof: int = 0
    offsets_fitted: int = 0  # labellings (pattern x m-offset) fitted on exact solves

    def value(self, name: str) -> float:
        if name in self.fit:
            return float(self.best.theta[self.fit.index(name)])
        return 2 * self.base.radii_um[0] if name == "inner-diameter" else float(self.base.indices[0])

    def simple_formula_m(self) -> np.ndarray:
        """m = pi n D / lambda (the paper's procedure) with the fitted D and n, rounded."""
        d, n = self.value("inner-diameter"), self.value("core")
        return np.rint(math.pi * n * d * 1e3 / self.peaks_nm).astype(int)

    def to_dict(self) -> dict:
        fit = {}
        for name in ("inner-diameter", "core"):
            key = FIT_NAMES[name]
            fit[key] = self.value(name)
            fit[f"{key}_uncertainty"] = float(self.uncertainty[self.fit.index(name)]) if name in self.fit else None
        fit.update(
            fitted=[FIT_NAMES[n] for n in self.fit],
            outer_diameter_um=2 * self.base.radii_um[1],
            wall_index=float(self.base.indices[1]),
            outside_index=self.base.outside_index,
            correlation=self.correlation,
            chi2=self.best.chi2,
            dof=self.dof,
            rms_residual_nm=float(np.sqrt(np.mean(self.best.residual_nm**2))),
            sigma_nm=self.sigma_nm,
            sigma_source=self.sigma_source,
        )
        simple = self.simple_formula_m()
        peaks = []
        for i, lab in enumerate(self.best.labels):
            s = self.best.solved
            peaks.append({
                "wavelength_nm": float(self.peaks_nm[i]),
                "pol": lab.pol, "m": lab.m, "p": lab.p,
                "region": s.region[i] if s else "core",
                "model_wavelength_nm": float(self.best.model_nm[i]),
                "residual_nm": float(self.best.residual_nm[i]),
                "core_fraction": float(s.core_fraction[i]) if s else None,
                "Q_rad": float(s.q_rad[i]) if s and math.isfinite(s.q_rad[i]) else None,
                "census_ok": bool(s.census_ok[i]) if s else None,
                "m_simple_formula": int(simple[i]),
            })
        alternatives = [
            {
                "labels": describe_labels(h.labels),
                "m_offset": int(h.labels[0].m - self.best.labels[0].m),
                **{FIT_NAMES[name]: float(v) for name, v in zip(self.fit, h.theta)},
                "chi2": h.chi2, "rms_residual_nm": float(np.sqrt(np.mean(h.residual_nm**2))),
                "fits_within_noise": h.acceptable,
            }
            for h in self.alternatives
        ]
        return {
            "fit": fit,
            "ambiguous": self.ambiguous,
            "verdict": self.verdict,
            "peaks": peaks,
            "alternatives": alternatives,
            "hypotheses_screened": self.screened,
            "offsets_fitted": self.offsets_fitted,
            "exact_evaluations": self.evaluations,
        }


def describe_labels(labels: Sequence[Label]) -> str:
    """'Ez p=1 m=588-596; Hz p=1 m=589-590' (the m range of each family)."""
    families: dict[tuple, list[int]] = {}
    for lab in labels:
        families.setdefault((lab.pol, lab.p), []).append(lab.m)
    return "; ".join(f"{pol} p={p} m={min(ms)}-{max(ms)}" if len(ms) > 1 else f"{pol} p={p} m={ms[0]}"
                     for (pol, p), ms in sorted(families.items()))


# -- the search ------------------------------------------------------------------------------

def assign_peaks(
    peaks_nm: Sequence[float],
    cylinder: LayeredCylinder | None = None,
    *,
    fit: Sequence[str] = ("inner-diameter",),
    pol: str = "both",
    p: tuple[int, int] = (1, 1),
    search: float = DEFAULT_SEARCH,
    sigma_nm: float | None = None,
    candidates: int = DEFAULT_CANDIDATES,
    progress: Callable[[str, int, int], None] | None = None,
) -> Assignment:
    """Assign (pol, m, p) to measured peaks and fit the inner diameter and/or core index.

    Parameters
    ----------
    peaks_nm : measured peak wavelengths, nm (at least 2, distinct).
    cylinder : the starting capillary (two layers, real indices); default the paper's.
    fit : any of ``'inner-diameter'``, ``'core'``.
    pol, p : the families a peak may belong to (core modes of these polarizations and radial orders).
    search : how far the fitted quantity may move, as a fraction of its starting value
        (the diameter's when both are fitted).
    sigma_nm : the peaks' uncertainty (1 sigma, nm); None: estimated from the residual scatter.
    candidates : how many of the best screened hypotheses are refined with the exact solver.
    """
    cyl = cylinder if cylinder is not None else Capillary()
    peaks = np.sort(np.asarray(peaks_nm, dtype=float))
    _check_inputs(peaks, cyl, fit, p, search, sigma_nm, candidates)
    try:
        pols = normalize_pols(pol)
    except ValueError as exc:
        raise AssignError(str(exc)) from None
    fit = tuple(name for name in FIT_NAMES if name in fit)  # the diameter first: it is the one scanned
    model = _Model(cyl, fit)
    theta0 = model.start()

    comb = _reference_comb(cyl, pols, p, peaks, search, fit, progress)
    hypotheses = _screen(peaks, comb, theta0, fit, search)
    if not hypotheses:
        raise AssignError("no labelling of the peaks by distinct modes was found in the search range; widen --search or check --pol/--p")
    screened = len(hypotheses)
    ranked = _offset_scan(model, peaks, comb, hypotheses, fit, search, progress)
    refined: list[Hypothesis] = []
    todo = ranked[:candidates]
    for count, (labels, theta_lin, model_lin, ssr_lin) in enumerate(todo, 1):
        try:
            hyp = _refine(model, peaks, labels, theta_lin, model_lin, ssr_lin)
        except AssignError:
            continue  # a hypothesis whose modes cannot be followed is dropped
        if np.all(np.abs(hyp.theta / theta0 - 1) <= 1.5 * search):  # else it left the allowed range
            refined.append(hyp)
        if progress:
            progress("exact fits", count, len(todo))
    if not refined:
        raise AssignError(f"no labelling fits with the parameters within +-{150 * search:g} % of the given values "
                          "(too few peaks for the fitted parameters, or modes lost near wall-mode crossings)")
    refined.sort(key=lambda h: h.ssr_nm2)
    best = refined[0]
    best.jacobian = _exact_jacobian(model, best.theta, best.labels, best.model_nm)  # for the uncertainties
    best.solved = model.solve(best.theta, best.labels, best.model_nm, 2e-6, verify=True)
    result = _verdict(peaks, cyl, fit, refined, sigma_nm, screened, model.evaluations)
    result.offsets_fitted = len(ranked)
    return result


def _check_inputs(peaks, cyl, fit, p, search, sigma_nm, candidates):
    if peaks.ndim != 1 or peaks.size < 2:
        raise AssignError("give at least two peak wavelengths")
    if not np.all(np.isfinite(peaks)) or np.any(peaks <= 0):
        raise AssignError("peak wavelengths must be positive numbers of nm")
    if np.unique(peaks).size != peaks.size:
        raise AssignError("peak wavelengths must be distinct")
    if not isinstance(cyl, LayeredCylinder) or cyl.n_layers != 2 or not cyl.is_lossless:
        raise AssignError("assign needs a capillary (core and wall) with real, constant indices")
    if not fit or any(name not in FIT_NAMES for name in fit):
        raise AssignError(f"fit must be one or both of {', '.join(FIT_NAMES)}, got {','.join(fit) or 'nothing'}")
    if not (1 <= p[0] <= p[1] <= 4):
        raise AssignError(f"radial orders must satisfy 1 <= P1 <= P2 <= 4, got {p[0]}:{p[1]}")
    if not 0 < search < 0.2:
        raise AssignError(f"search range must be between 0 and 20 %, got {100 * search:g} %")
    if sigma_nm is not None and not (math.isfinite(sigma_nm) and sigma_nm > 0):
        raise AssignError(f"peak uncertainty must be a positive number of nm, got {sigma_nm}")
    if candidates < 1:
        raise AssignError("refine at least one candidate")


@dataclass
class _Comb:
    """Exact core modes at the starting geometry, and a cheap model of how they move.

    lambda ~ D (bore scaling at fixed indices, exact but for the fixed outer wall). With the
    core index: exact combs at n0 (1 - s), n0, n0 (1 + s) and a quadratic through them per mode
    (the first-order d lambda / lambda = Gamma dn / n misses ~7 % over 1 % of index: Gamma
    grows with the contrast); a single comb with the first-order slope when n is not fitted.
    """

    labels: list[Label]
    n_nodes: np.ndarray  # core indices of the combs
    lam_nodes: np.ndarray  # (len(n_nodes), modes) wavelengths in nm
    core_fraction: np.ndarray
    inner_diameter_um: float

    @property
    def core_index(self) -> float:
        return float(self.n_nodes[len(self.n_nodes) // 2])

    @property
    def wavelength_nm(self) -> np.ndarray:
        return self.lam_nodes[len(self.n_nodes) // 2]

    def _in_n(self, n) -> tuple[np.ndarray, np.ndarray]:
        """Wavelengths and d lambda / dn at core index n (at the starting diameter)."""
        if len(self.n_nodes) == 1:
            slope = self.wavelength_nm * self.core_fraction / self.core_index
            return self.wavelength_nm + slope * (n - self.core_index), slope
        x0, x1, x2 = self.n_nodes
        y0, y1, y2 = self.lam_nodes
        d01, d12 = (y1 - y0) / (x1 - x0), (y2 - y1) / (x2 - x1)
        curv = (d12 - d01) / (x2 - x0)
        value = y1 + (n - x1) * (d01 + curv * (n - x0))
        slope = d01 + curv * (2 * n - x0 - x1)
        return value, slope

    def at(self, theta, fit) -> np.ndarray:
        values = self._values(theta, fit)
        lam, _ = self._in_n(values["core"])
        return lam * values["inner-diameter"] / self.inner_diameter_um

    def _values(self, theta, fit) -> dict:
        values = {"inner-diameter": self.inner_diameter_um, "core": self.core_index}
        values.update(zip(fit, (float(t) for t in theta)))
        return values

    def start(self, fit) -> np.ndarray:
        return np.array([self._values((), ())[name] for name in fit])

    def jacobian(self, fit, theta=None) -> np.ndarray:
        values = self._values(self.start(fit) if theta is None else theta, fit)
        scale = values["inner-diameter"] / self.inner_diameter_um
        lam, slope = self._in_n(values["core"])
        columns = {"inner-diameter": lam / self.inner_diameter_um, "core": slope * scale}
        return np.column_stack([columns[name] for name in fit])


def _reference_comb(cyl, pols, p, peaks, search, fit, progress) -> _Comb:
    """Exact core modes at the starting geometry over every wavelength the search can reach
    (and the same modes at the ends of the index range when the index alone is scanned)."""
    fsr = peaks.mean() ** 2 / (math.pi * cyl.indices[0] * 2e3 * cyl.radii_um[0])
    window = (peaks.min() / (1 + search) - 2 * fsr, peaks.max() / (1 - search) + 2 * fsr)
    modes = []
    for count, pl in enumerate(pols, 1):
        modes += find_modes(cyl, pol=pl, wavelength_nm=window, p=p, region="core", fsr=False, q_min=10.0)
        if progress:
            progress("reference modes", count, len(pols))
    if len(modes) < peaks.size:
        raise AssignError(f"only {len(modes)} core modes of the given families lie near the peaks; check the geometry and --pol/--p")
    modes.sort(key=lambda md: md.wavelength_nm)
    labels = [Label(md.pol, md.m, md.p) for md in modes]
    lam = np.array([md.wavelength_nm for md in modes])
    gamma = np.array([md.core_fraction for md in modes])
    n0 = float(cyl.indices[0])
    nodes, rows = [n0], [lam]
    if fit[0] == "core":
        model = _Model(cyl, ("core",))
        nodes = [n0 * (1 - search), n0, n0 * (1 + search)]
        guess = [lam * (1 + gamma * (n / n0 - 1)) for n in nodes]  # first order; off by ~10 % of the shift
        rows = [model.solve([n], labels, g, 2 * search * search + 1e-5).wavelength_nm if n != n0 else lam
                for n, g in zip(nodes, guess)]
    return _Comb(labels, np.array(nodes), np.array(rows), gamma, 2 * cyl.radii_um[0])


def _screen(peaks, comb: _Comb, theta0, fit, search):
    """Every labelling met while the first fitted quantity scans +-search; each with its linear fit.
    Returns (labels, theta, model_nm, ssr) sorted by ssr."""
    gaps = np.diff(comb.wavelength_nm)
    step_nm = max(np.median(gaps[gaps > 0]) / 8 if np.any(gaps > 0) else 1e-3, 1e-4)
    jac0 = comb.jacobian(fit[:1])[:, 0]
    span_nm = search * abs(theta0[0]) * np.median(jac0)
    steps = int(min(20000, max(50, 2 * span_nm / step_nm)))
    seen: dict[tuple, None] = {}
    for t in np.linspace(-search, search, steps + 1):
        theta = np.array(theta0, dtype=float)
        theta[0] *= 1 + t
        lam = comb.at(theta, fit)
        order = np.argsort(lam)
        lam_sorted = lam[order]
        pos = np.clip(np.searchsorted(lam_sorted, peaks), 1, lam.size - 1)
        left, right = lam_sorted[pos - 1], lam_sorted[pos]
        nearest = np.where(np.abs(peaks - left) <= np.abs(peaks - right), pos - 1, pos)
        chosen = tuple(order[nearest])
        if len(set(chosen)) == len(chosen):
            seen.setdefault(chosen, None)
    out = [h for h in (_linear_fit(peaks, comb, np.array(chosen), fit, search) for chosen in seen) if h]
    out.sort(key=lambda h: h[3])
    return out


def _linear_fit(peaks, comb: _Comb, idx, fit, search):
    """Least squares of the comb members ``idx`` to the peaks on the cheap comb model:
    (labels, theta, model_nm, ssr), or None when the fit leaves the search range."""
    # only the first quantity moves here: with both D and n the model's valley is too flat
    # (correlation ~ -1) for a model good to ~1e-5; the exact fit frees the rest
    theta = comb.start(fit)
    start = theta[0]
    for _ in range(4):  # Newton on the (nearly linear) model
        jac = comb.jacobian(fit, theta)[idx, :1]
        delta, *_ = np.linalg.lstsq(jac, peaks - comb.at(theta, fit)[idx], rcond=None)
        theta[0] += delta[0]
        if abs(theta[0] / start - 1) > 1.5 * search:
            return None
    model_nm = comb.at(theta, fit)[idx]
    return [comb.labels[i] for i in idx], theta, model_nm, float(np.sum((peaks - model_nm) ** 2))


def _pattern(labels: Sequence[Label]) -> tuple:
    """A labelling up to a common shift of m (the nearly degenerate direction)."""
    return tuple((lab.pol, lab.m - labels[0].m, lab.p) for lab in labels)


def _offset_scan(model: _Model, peaks, comb: _Comb, hypotheses, fit, search, progress):
    """Every m-offset (within the search range) of the screen's plausible family patterns, each
    fitted by a few Gauss-Newton steps on exact solves with the comb's smooth Jacobian: the
    cheap model is not accurate enough to rank the offsets (their chi^2 differ by less than its
    error), and a single exact solve at the screen fit may sit on a wall-mode crossing that the
    right (D, n) avoids. Returns the screen-style tuples (labels, theta, model_nm, ssr), best first."""
    best_ssr = {}
    for h in hypotheses:
        best_ssr.setdefault(_pattern(h[0]), (h[3], h[0][0].m))
    floor = hypotheses[0][3] + peaks.size * PATTERN_RMS_NM**2
    patterns = [pat for pat, (ssr, _) in best_ssr.items() if ssr <= floor][:PATTERNS]
    where = {lab: i for i, lab in enumerate(comb.labels)}
    reach = int(math.ceil(1.2 * search * hypotheses[0][0][0].m)) + 2
    todo = []
    for pattern in patterns:
        base = best_ssr[pattern][1]
        for m0 in range(base - reach, base + reach + 1):
            labels = [Label(pol, m0 + dm, pp) for pol, dm, pp in pattern]
            if all(lab in where for lab in labels):
                fitted = _linear_fit(peaks, comb, np.array([where[lab] for lab in labels]), fit, search)
                if fitted:
                    todo.append(fitted)
    ranked = []
    for count, (labels, theta, model_nm, ssr_lin) in enumerate(todo, 1):
        idx = np.array([where[lab] for lab in labels])
        if len(fit) > 1:
            # D and n together: the valley lambda ~ n D is so flat (correlation ~ -1) that only
            # the exact Jacobian points along it; each offset gets the full exact fit
            try:
                hyp = _refine(model, peaks, labels, theta, model_nm, ssr_lin)
            except AssignError:
                continue
            ranked.append((labels, hyp.theta, hyp.model_nm, hyp.ssr_nm2))
            if progress:
                progress("m-offset scan", count, len(todo))
            continue
        try:
            exact = model.solve(theta, labels, model_nm, SCAN_BOX).wavelength_nm
            ssr = float(np.sum((peaks - exact) ** 2))
            for _ in range(SCAN_STEPS):
                jac = comb.jacobian(fit, theta)[idx]
                step, *_ = np.linalg.lstsq(jac, peaks - exact, rcond=None)
                change = jac @ step
                trial = model.solve(theta + step, labels, exact + change, max(2e-6, 20 * np.max(np.abs(change) / exact))).wavelength_nm
                trial_ssr = float(np.sum((peaks - trial) ** 2))
                if trial_ssr >= ssr:
                    break
                theta, exact, ssr = theta + step, trial, trial_ssr
                if np.max(np.abs(change)) < 1e-4:  # enough to rank; the best are refined fully
                    break
        except AssignError:
            continue
        ranked.append((labels, theta, exact, ssr))
        if progress:
            progress("m-offset scan", count, len(todo))
    ranked.sort(key=lambda item: item[3])
    return ranked


def _refine(model: _Model, peaks, labels, theta_lin, model_lin, ssr_lin) -> Hypothesis:
    """Gauss-Newton with the exact solver from the screen's linear fit. The Jacobian (finite
    differences of exact solves) is taken once at the start: near the solution the wavelengths
    are linear in (D, n) to far better than the noise, so 2-3 steps converge."""
    first = model.solve(theta_lin, labels, model_lin, 1e-4)
    jac = _exact_jacobian(model, theta_lin, labels, first.wavelength_nm)
    theta, model_nm = np.array(theta_lin, dtype=float), first.wavelength_nm
    ssr = float(np.sum((peaks - model_nm) ** 2))
    for _ in range(MAX_STEPS):
        step, *_ = np.linalg.lstsq(jac, peaks - model_nm, rcond=None)
        for _ in range(4):  # halve a step that does not lower the residual (a crossing in the way)
            change = jac @ step
            trial = model.solve(theta + step, labels, model_nm + change, max(2e-6, 20 * np.max(np.abs(change) / model_nm)))
            trial_ssr = float(np.sum((peaks - trial.wavelength_nm) ** 2))
            if trial_ssr <= ssr:
                break
            step = step / 2
        else:
            break
        theta, model_nm, ssr = theta + step, trial.wavelength_nm, trial_ssr
        if np.max(np.abs(change)) < 1e-7 or np.any(np.abs(theta / theta_lin - 1) > 0.1):
            break  # converged, or running away (a wrong labelling)
    return Hypothesis(list(labels), theta, peaks, model_nm, ssr, ssr_lin, jac)


def _exact_jacobian(model: _Model, theta, labels, at_nm) -> np.ndarray:
    """d lambda / d theta (nm per um, nm per RIU) by forward differences of exact solves."""
    columns = []
    for j in range(len(model.fit)):
        h = 1e-6 * theta[j]
        shifted = np.array(theta, dtype=float)
        shifted[j] += h
        columns.append((model.solve(shifted, labels, at_nm, 1e-5).wavelength_nm - at_nm) / h)
    return np.column_stack(columns)


def _verdict(peaks, cyl, fit, refined, sigma_nm, screened, evaluations) -> Assignment:
    from scipy.stats import chi2 as chi2_dist

    best = refined[0]
    n_fit = len(fit)
    dof = peaks.size - n_fit
    scatter = math.sqrt(best.ssr_nm2 / dof) if dof > 0 else None
    if sigma_nm is not None:
        sigma, source = sigma_nm, "stated"
        if scatter is not None and scatter > sigma_nm:
            limit = chi2_dist.ppf(ACCEPT_PERCENTILE, dof)
            if best.ssr_nm2 / sigma_nm**2 > limit:
                sigma, source = scatter, f"residual scatter: the stated {sigma_nm:.2g} nm is too small for the best fit"
    elif scatter is not None and scatter > 0:
        sigma, source = scatter, "residual scatter of the best hypothesis"
    else:
        sigma, source = None, "unknown (too few peaks to estimate; give --sigma)"

    limit = chi2_dist.ppf(ACCEPT_PERCENTILE, max(dof, 1))
    for h in refined:
        h.chi2 = h.ssr_nm2 / sigma**2 if sigma else None
        h.acceptable = bool(h.chi2 <= limit) if sigma else True
    rivals = [h for h in refined[1:] if h.key() != best.key() and h.acceptable]

    if sigma is None:
        ambiguous = True
        verdict = f"ambiguous: {peaks.size} peaks cannot both fit {n_fit} parameter(s) and measure their own scatter; give --sigma"
    elif rivals:
        ambiguous = True
        rival = rivals[0]
        verdict = (
            f"ambiguous: {len(rivals)} other labelling(s) also fit within the noise, e.g. "
            f"{describe_labels(rival.labels)} with chi2 {rival.chi2:.3g} (best {best.chi2:.3g}, "
            f"99th percentile for {max(dof, 1)} dof {limit:.3g})"
        )
    else:
        ambiguous = False
        second = next((h for h in refined[1:] if h.key() != best.key()), None)
        verdict = "unique within the noise"
        if second is not None:
            verdict += f": next best labelling {describe_labels(second.labels)} has chi2 {second.chi2:.3g} > {limit:.3g}"
        else:
            verdict += " (no other labelling reached the exact fit)"

    uncertainty = np.full(n_fit, np.nan)
    correlation = None
    if sigma is not None and best.jacobian is not None:
        try:
            cov = sigma**2 * np.linalg.inv(best.jacobian.T @ best.jacobian)
            uncertainty = np.sqrt(np.diag(cov))
            if n_fit == 2:
                correlation = float(cov[0, 1] / (uncertainty[0] * uncertainty[1]))
        except np.linalg.LinAlgError:
            verdict = "ambiguous: the fitted parameters are degenerate (singular Jacobian); " + verdict
            ambiguous = True
    return Assignment(peaks, fit, cyl, best, refined[1:], sigma, source, uncertainty, correlation,
                      ambiguous, verdict, screened, evaluations, dof)
