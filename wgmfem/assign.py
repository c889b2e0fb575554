"""Mode assignment of measured peaks: which (pol, m, p) each peak is, which peaks are not
modes of the allowed families at all, and which inner diameter and/or core index fit.

Wavelengths in nm, lengths in um.

The statistical model (docs/theory.md, "Assigning measured peaks"). Peak i at y_i with
uncertainty s_i is either

* a mode j of the allowed core families, seen at most once: Gaussian error,
  -2 ln L_i = (y_i - lambda_j)^2 / s_i^2 + ln(2 pi s_i^2) - 2 ln(1 - eps), or
* an outlier (not a mode of these families): uniform over the spectral window W,
  -2 ln L_i = 2 ln(W / eps);

with eps the prior probability that a peak is an outlier. Modes may be missing (nothing is
charged for a mode without a peak). The fit minimizes the total cost C = sum_i -2 ln L_i over
the bore (and index) within the search window and over the labellings; for given (D, n) the
best labelling is a linear assignment problem (``scipy.optimize.linear_sum_assignment``). A
peak is thus assigned when it lies within tau_i s_i of a free mode,
tau_i^2 = 2 ln((1 - eps) W / (eps sqrt(2 pi) s_i)) (~4-4.5 sigma).

Labellings are compared by their posterior probability, exp(-C/2) normalized over the
refined candidates (flat priors on D and n inside the window). Another labelling, or
another label for one peak (or two peaks swapping theirs), whose odds against the best exceed 1:``AMBIGUITY_ODDS`` fits
within the noise: the verdict says so and the diameter's uncertainty with the labelling
ambiguity is the posterior mixture's spread.

The search: the surrogate (:mod:`wgmfem.assign_comb`) is scanned over the bore's range;
every labelling met is iterated to self-consistency (fit, relabel); the best candidates are
refitted on exact modes, relabelled with the exact wavelengths, and ranked by their exact
cost; the winner's modes are verified by an argument-principle count.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from .assign_comb import AssignModelError, ExactModes, Label, ModeComb, wavelength_window
from .assign_defaults import DEFAULT_SEARCH, OUTLIER_PRIOR
from .exact.search import run_boxes
from .geometry import Capillary, LayeredCylinder
from .polarization import normalize_pols
from .units import k_from_wavelength_nm

FIT_NAMES = {"inner-diameter": "inner_diameter_um", "core": "core_index"}
AMBIGUITY_ODDS = 100.0  # an alternative with odds above 1:100 against the best fits within the noise
GOOD_FIT_P_VALUE = 1e-3  # below this chi^2 p-value the best fit is worse than the stated noise
MAX_RESCREEN = 60  # screen candidates (within SCREEN_ODDS of its best) re-ranked after one exact step each
SCREEN_ODDS = 1e6
EXACT_CANDIDATES = 8  # re-ranked candidates refitted to convergence (more if within EXACT_ODDS of the best)
MAX_EXACT_CANDIDATES = 16
EXACT_ODDS = 1e4
MAX_ITERATIONS = 8  # fit-relabel rounds per candidate
SIGMA_ROUNDS = 4  # rounds of the search when sigma is estimated from the residuals
SIGMA_FLOOR_REL = 1e-8  # an estimated sigma is at least this fraction of the wavelength
SCREEN_STEP_GAPS = 10  # screen steps per median mode spacing
_ESTIMATED = "estimated from the residuals of the best labelling (its chi2 equals its dof by construction)"


class AssignError(ValueError):
    """The peaks cannot be assigned as given (the message is one line)."""


def describe_labels(labels: Sequence[Label | None]) -> str:
    """'Ez p=1 m=588-596; Hz p=1 m=589-590; 1 unassigned' (the m range of each family)."""
    families: dict[tuple, list[int]] = {}
    for lab in labels:
        if lab is not None:
            families.setdefault((lab.pol, lab.p), []).append(lab.m)
    text = "; ".join(f"{pol} p={p} m={min(ms)}-{max(ms)}" if len(ms) > 1 else f"{pol} p={p} m={ms[0]}"
                     for (pol, p), ms in sorted(families.items()))
    out = sum(lab is None for lab in labels)
    return text + (f"; {out} unassigned" if out else "")


# -- the likelihood ---------------------------------------------------------------------------

@dataclass
class NoiseModel:
    """Per-peak uncertainty s_i (nm) and the outlier density."""

    sigma_nm: np.ndarray
    window_nm: float  # W: where an outlier may fall
    outlier_prior: float = OUTLIER_PRIOR

    @property
    def outlier_cost(self) -> float:
        return 2 * math.log(self.window_nm / self.outlier_prior)

    def mode_cost(self, residual_nm, extra_nm=0.0) -> np.ndarray:
        """-2 ln L of a peak (rows) seen as a mode; ``extra_nm`` adds model uncertainty."""
        s2 = self.sigma_nm[:, None] ** 2 + np.asarray(extra_nm) ** 2
        return residual_nm**2 / s2 + np.log(2 * math.pi * s2) - 2 * math.log(1 - self.outlier_prior)

    def threshold_sigmas(self) -> np.ndarray:
        """tau_i: a peak further than tau_i s_i from every free mode is an outlier."""
        tau2 = self.outlier_cost - np.log(2 * math.pi * self.sigma_nm**2) + 2 * math.log(1 - self.outlier_prior)
        return np.sqrt(np.maximum(tau2, 0.0))


def best_labelling(peaks, lam, noise: NoiseModel, extra_nm=0.0) -> tuple[np.ndarray, float]:
    """The labelling of the peaks by the modes at wavelengths ``lam`` (nan: absent) with the
    lowest cost: (member index per peak, -1 for an outlier; total cost)."""
    n = peaks.size
    with np.errstate(invalid="ignore"):
        cost = noise.mode_cost(peaks[:, None] - lam[None, :], extra_nm)
    cost = np.where(np.isfinite(cost), cost, np.inf)
    big = 1e30
    outlier = np.full((n, n), big)
    np.fill_diagonal(outlier, noise.outlier_cost)
    full = np.hstack([np.minimum(cost, big), outlier])
    rows, cols = linear_sum_assignment(full)
    member = np.where(cols < lam.size, cols, -1)
    order = np.argsort(rows)
    return member[order], float(full[rows, cols].sum())


def labelling_cost(peaks, lam, member, noise: NoiseModel, extra_nm=0.0) -> float:
    """Total cost of a given labelling (member per peak, -1 outlier) with wavelengths ``lam``."""
    total = 0.0
    extra = np.broadcast_to(np.asarray(extra_nm, dtype=float), lam.shape)
    for i, j in enumerate(member):
        if j < 0 or not np.isfinite(lam[j]):
            total += noise.outlier_cost
        else:
            s2 = noise.sigma_nm[i] ** 2 + extra[j] ** 2
            total += (peaks[i] - lam[j]) ** 2 / s2 + math.log(2 * math.pi * s2) - 2 * math.log(1 - noise.outlier_prior)
    return total


# -- results ----------------------------------------------------------------------------------

@dataclass(eq=False)
class Hypothesis:
    """One labelling of the peaks (member per peak, -1 = outlier) and its fit."""

    member: np.ndarray
    theta: np.ndarray
    model_nm: np.ndarray  # per peak (nan for outliers)
    cost: float
    at_edge: bool = False
    exact: bool = False
    core_fraction: np.ndarray | None = None
    q_rad: np.ndarray | None = None
    probability: float = 0.0
    origin: str = "search"  # or "peak i[, k]": a local variant of the best (one label changed, or two swapped)

    def key(self) -> tuple:
        return tuple(int(j) for j in self.member)


@dataclass
class PeakAlternative:
    """Another explanation of one peak that fits within the noise."""

    label: Label | None  # None: the peak as an outlier
    model_nm: float | None
    odds: float  # posterior odds of the whole labelling with this change, against the best
    theta: np.ndarray


@dataclass
class Assignment:
    """The answer: labels, outliers, fitted values with and without the labelling ambiguity."""

    peaks_nm: np.ndarray
    sigma_nm: np.ndarray  # per peak
    sigma_source: str
    fit: tuple[str, ...]
    comb: ModeComb
    best: Hypothesis
    candidates: list[Hypothesis]  # refined, best first (the best included)
    uncertainty: np.ndarray  # per fitted quantity, for the best labelling
    uncertainty_with_labelling: np.ndarray
    correlation: float | None
    chi2: float | None
    dof: int
    p_value: float | None
    peak_alternatives: list[list[PeakAlternative]]
    census_ok: np.ndarray  # per peak: the assigned mode's narrow box counted as found
    verdict: str
    ambiguous: bool
    flags: list[str] = field(default_factory=list)
    outlier_why: dict[int, str] = field(default_factory=dict)
    noise: NoiseModel | None = None

    @property
    def base(self) -> LayeredCylinder:
        return self.comb.base

    def label(self, i: int) -> Label | None:
        j = self.best.member[i]
        return self.comb.labels[j] if j >= 0 else None

    def value(self, name: str) -> float:
        d, n = self.comb.values(self.best.theta)
        return d if name == "inner-diameter" else n

    def predicted_modes(self, window_nm: tuple[float, float]) -> list[tuple[Label, float]]:
        """Every mode of the allowed families in ``window_nm`` at the fitted (D, n), exact:
        (label, wavelength nm), sorted by wavelength."""
        lo, hi = window_nm
        seed = self.comb.predict(self.best.theta)
        members = np.nonzero((seed >= lo - 0.01 * (hi - lo)) & (seed <= hi + 0.01 * (hi - lo)))[0]
        exact = self.comb.solve(self.best.theta, members, seed[members]).wavelength_nm
        out = [(self.comb.labels[j], float(lam)) for j, lam in zip(members, exact) if np.isfinite(lam) and lo <= lam <= hi]
        return sorted(out, key=lambda item: item[1])

    def simple_formula_m(self) -> np.ndarray:
        """m = pi n D / lambda (the paper's procedure) with the fitted D and n, rounded."""
        d, n = self.comb.values(self.best.theta)
        return np.rint(math.pi * n * d * 1e3 / self.peaks_nm).astype(int)

    def to_dict(self) -> dict:
        fit: dict = {}
        for k, name in enumerate(self.fit):
            fit[FIT_NAMES[name]] = {
                "value": float(self.best.theta[k]),
                "sigma": _finite(self.uncertainty[k]),
                "sigma_with_labelling": _finite(self.uncertainty_with_labelling[k]),
            }
        lo, hi = self.comb.bounds()
        fit.update(
            search_window={FIT_NAMES[name]: [float(a), float(b)] for name, a, b in zip(self.fit, lo, hi)},
            at_search_edge=self.best.at_edge,
            fixed={
                **({} if "inner-diameter" in self.fit else {"inner_diameter_um": self.comb.inner_diameter0}),
                **({} if "core" in self.fit else {"core_index": self.comb.core_index0}),
                "outer_diameter_um": 2 * self.base.radii_um[1],
                "wall_index": float(self.base.indices[1].real),  # real: a lossless capillary
                "outside_index": self.base.outside_index,
            },
            correlation=self.correlation,
            chi2=self.chi2,
            dof=self.dof,
            p_value=self.p_value,
            sigma_nm=float(np.median(self.sigma_nm)),
            sigma_source=self.sigma_source,
            outlier_prior=self.noise.outlier_prior if self.noise else OUTLIER_PRIOR,
            outlier_window_nm=self.noise.window_nm if self.noise else None,
        )
        simple = self.simple_formula_m()
        peaks = []
        for i, y in enumerate(self.peaks_nm):
            lab = self.label(i)
            model = self.best.model_nm[i]
            record: dict[str, Any] = {
                "wavelength_nm": float(y),
                "sigma_nm": float(self.sigma_nm[i]),
                "assigned": lab is not None,
                "pol": lab.pol if lab else None,
                "m": lab.m if lab else None,
                "p": lab.p if lab else None,
                "region": "core" if lab else None,
                "model_nm": float(model) if lab else None,
                "residual_nm": float(y - model) if lab else None,
                "core_fraction": float(self.best.core_fraction[i]) if lab and self.best.core_fraction is not None else None,
                "Q_rad": _finite(self.best.q_rad[i]) if lab and self.best.q_rad is not None else None,
                "census_ok": bool(self.census_ok[i]) if lab else None,
                "m_simple_formula": int(simple[i]),
            }
            if not lab:
                record["why"] = self.outlier_why.get(i, "")
            record["alternatives"] = [
                {
                    "pol": a.label.pol if a.label else None,
                    "m": a.label.m if a.label else None,
                    "p": a.label.p if a.label else None,
                    "outlier": a.label is None,
                    "model_nm": a.model_nm,
                    "residual_nm": float(y - a.model_nm) if a.model_nm is not None else None,
                    "odds": a.odds,
                    **{FIT_NAMES[name]: float(v) for name, v in zip(self.fit, a.theta)},
                }
                for a in self.peak_alternatives[i]
            ]
            peaks.append(record)
        best_m = next((lab.m for lab in map(self.label, range(len(self.peaks_nm))) if lab), None)
        candidates = []
        for h in self.candidates:
            labs = [self.comb.labels[j] if j >= 0 else None for j in h.member]
            first = next((lab.m for lab in labs if lab), None)
            candidates.append({
                "labels": describe_labels(labs),
                "m_offset": int(first - best_m) if first is not None and best_m is not None else None,
                "outliers": int(np.sum(h.member < 0)),
                **{FIT_NAMES[name]: float(v) for name, v in zip(self.fit, h.theta)},
                "cost": h.cost,
                "probability": h.probability,
                "at_search_edge": h.at_edge,
                "best": h is self.best,
                "origin": "search" if h.origin == "search" else "local variant of the best (" + h.origin + ")",
            })
        return {"peaks": peaks, "fit": fit, "verdict": self.verdict, "ambiguous": self.ambiguous,
                "flags": self.flags, "candidates": candidates,
                "search": {"members": len(self.comb.labels), "exact_solves": self.comb.solves,
                           "census_lookups": self.comb.census_lookups}}


def _finite(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


# -- the search --------------------------------------------------------------------------------

def assign_peaks(
    peaks_nm: Sequence[float],
    cylinder: LayeredCylinder | None = None,
    *,
    fit: Sequence[str] = ("inner-diameter",),
    pol: str = "both",
    p: tuple[int, int] = (1, 1),
    search: float = DEFAULT_SEARCH,
    sigma_nm: float | Sequence[float] | None = None,
    sigma_source: str | None = None,
    window_nm: tuple[float, float] | None = None,
    outlier_prior: float = OUTLIER_PRIOR,
    progress: Callable[[str, int, int], None] | None = None,
) -> Assignment:
    """Assign (pol, m, p) or "outlier" to measured peaks and fit the inner diameter and/or core index.

    Parameters
    ----------
    peaks_nm : measured peak wavelengths, nm (distinct; at least one more than fitted quantities).
    cylinder : the starting capillary (two layers, real constant indices); default the paper's.
    fit : any of ``'inner-diameter'``, ``'core'``.
    pol, p : the families a peak may belong to (core modes of these polarizations and radial orders).
    search : each fitted quantity stays within +-search (a fraction) of its starting value.
    sigma_nm : the peaks' 1-sigma uncertainty, nm: one number or one per peak. None: estimated
        from the residuals of the best labelling (reported as such).
    sigma_source : how the given sigma was obtained (e.g. 'linewidth'); default 'stated'.
    window_nm : the spectral range where an outlier may fall (default: the peaks' span plus
        one mean mode spacing either side).
    outlier_prior : prior probability that a peak is not a mode of the allowed families.
    """
    cyl = cylinder if cylinder is not None else Capillary()
    peaks = np.asarray(peaks_nm, dtype=float)
    order = np.argsort(peaks)
    peaks = peaks[order]
    fit = tuple(name for name in FIT_NAMES if name in fit)  # the diameter first: it is the one scanned
    _check_inputs(peaks, cyl, fit, p, search, outlier_prior)
    try:
        pols = normalize_pols(pol)
    except ValueError as exc:
        raise AssignError(str(exc)) from None
    stated = _stated_sigma(sigma_nm, order, peaks.size)

    families = [(pl, pp) for pl in pols for pp in range(p[0], p[1] + 1)]
    reach = wavelength_window(peaks, float(cyl.indices[0].real), 2 * cyl.radii_um[0], search)  # real: lossless
    comb = ModeComb(cyl, fit, families, reach, search, progress)
    if len(comb.labels) == 0:
        raise AssignError("no core mode of the given families lies near the peaks; check the geometry and --pol/--p")
    gaps = np.diff(comb.lam0)
    spacing = float(np.median(gaps[gaps > 0])) if np.any(gaps > 0) else 1.0
    if window_nm is None:
        per_family = spacing * len(families)
        window_nm = (peaks.min() - per_family, peaks.max() + per_family)
    width = float(window_nm[1] - window_nm[0])
    if not width > 0:
        raise AssignError("the spectral window must have a positive width")

    if stated is not None:
        noise = NoiseModel(stated, width, outlier_prior)
    else:  # a first, rough sigma: robust scatter of the screen's best after one exact fit
        rough_noise = NoiseModel(np.full(peaks.size, spacing / 20), width, outlier_prior)
        screened = _screen(comb, peaks, rough_noise, spacing)
        if not screened:
            raise AssignError("no labelling of the peaks was found in the search range; widen --search or check --pol/--p")
        try:
            rough = _fit_exact(comb, peaks, rough_noise, screened[0])
        except AssignModelError as exc:
            raise AssignError(str(exc)) from None
        noise = NoiseModel(np.full(peaks.size, _sigma_or_fail(peaks, rough, len(fit), robust=True)), width, outlier_prior)
    refined = _search(comb, peaks, noise, spacing, progress)
    for _ in range(SIGMA_ROUNDS if stated is None else 0):
        estimate = _sigma_or_fail(peaks, refined[0], len(fit), robust=False)
        if abs(estimate / noise.sigma_nm[0] - 1) < 0.1:
            break
        noise = NoiseModel(np.full(peaks.size, estimate), width, outlier_prior)
        refined = sorted((_fit_exact(comb, peaks, noise, h) for h in refined), key=lambda h: h.cost)
    refined, variants = _settle(comb, peaks, noise, refined)
    if np.sum(refined[0].member >= 0) < len(fit) + 1:
        raise AssignError(f"only {int(np.sum(refined[0].member >= 0))} peak(s) match a mode of the allowed families inside the "
                          f"search window; at least {len(fit) + 1} must (check the geometry, --pol/--p, --search)")
    source = sigma_source or ("stated" if stated is not None else _ESTIMATED)
    return _conclude(comb, peaks, noise, refined, variants, source)


def _settle(comb: ModeComb, peaks, noise: NoiseModel, refined: list[Hypothesis]) -> tuple[list[Hypothesis], list[Hypothesis]]:
    """Refit from any local variant of the best that costs less, until none does. Returns the
    refined hypotheses (best first) and the local variants of the best."""
    for _ in range(3):
        best = refined[0]
        variants = _local_variants(comb, peaks, noise, best)
        better = [v for v in variants if v.cost < best.cost - 1e-9]
        if not better:
            return refined, variants
        exact = _fit_exact(comb, peaks, noise, min(better, key=lambda v: v.cost))
        if exact.cost >= best.cost - 1e-9:
            return refined, variants
        refined = sorted([exact] + [h for h in refined if h.key() != exact.key()], key=lambda h: h.cost)
    return refined, _local_variants(comb, peaks, noise, refined[0])


def _check_inputs(peaks, cyl, fit, p, search, outlier_prior):
    if peaks.ndim != 1 or peaks.size < 2:
        raise AssignError("give at least two peak wavelengths")
    if not np.all(np.isfinite(peaks)) or np.any(peaks <= 0):
        raise AssignError("peak wavelengths must be positive numbers of nm")
    if np.unique(peaks).size != peaks.size:
        raise AssignError("peak wavelengths must be distinct")
    if not isinstance(cyl, LayeredCylinder) or cyl.n_layers != 2 or not cyl.is_lossless:
        raise AssignError("assign needs a capillary (core and wall) with real, constant indices")
    if not fit:
        raise AssignError(f"fit must be one or both of {', '.join(FIT_NAMES)}")
    if peaks.size < len(fit) + 1:
        raise AssignError(f"{peaks.size} peak(s) cannot fit {len(fit)} parameter(s) and be checked: give at least {len(fit) + 1}")
    if not (1 <= p[0] <= p[1] <= 4):
        raise AssignError(f"radial orders must satisfy 1 <= P1 <= P2 <= 4, got {p[0]}:{p[1]}")
    if not 0 < search < 0.2:
        raise AssignError(f"search range must be between 0 and 20 %, got {100 * search:g} %")
    if not 0 < outlier_prior < 0.5:
        raise AssignError(f"the outlier prior must be between 0 and 0.5, got {outlier_prior}")


def _stated_sigma(sigma_nm, order, n) -> np.ndarray | None:
    """One uncertainty per peak (in the sorted peaks' order), or None."""
    if sigma_nm is None:
        return None
    if np.ndim(sigma_nm) == 0:
        s = np.full(n, float(sigma_nm))
    else:
        s = np.asarray(sigma_nm, dtype=float)
        if s.shape != (n,):
            raise AssignError(f"give one peak uncertainty or one per peak ({n}), got {s.size}")
        s = s[order]
    if not np.all(np.isfinite(s) & (s > 0)):
        raise AssignError("peak uncertainties must be positive numbers of nm")
    return s


def _sigma_or_fail(peaks, best: Hypothesis, n_fit: int, robust: bool) -> float:
    estimate = _estimated_sigma(peaks, best, n_fit, robust)
    if estimate is None:
        raise AssignError(f"{int(np.sum(best.member >= 0))} assigned peak(s) cannot both fit {n_fit} "
                          "parameter(s) and measure their own scatter; give --sigma")
    return estimate


def _estimated_sigma(peaks, best: Hypothesis, n_fit: int, robust: bool) -> float | None:
    assigned = best.member >= 0
    r = (peaks - best.model_nm)[assigned]
    dof = r.size - n_fit
    if dof < 1:
        return None
    if robust:  # the first round may still hold a spurious peak among the assigned
        scale = 1.4826 * float(np.median(np.abs(r))) * math.sqrt(r.size / dof)
    else:
        scale = math.sqrt(float(np.sum(r**2)) / dof)
    return max(scale, SIGMA_FLOOR_REL * float(peaks.mean()))


def _search(comb: ModeComb, peaks, noise: NoiseModel, spacing, progress) -> list[Hypothesis]:
    """Screen on the surrogate; re-rank the screen's candidates after one exact fit-relabel
    step each (the surrogate cannot rank labellings of families it models poorly); refit the
    best to convergence on exact modes. Best first."""
    screened = _screen(comb, peaks, noise, spacing)
    if not screened:
        raise AssignError("no labelling of the peaks was found in the search range; widen --search or check --pol/--p")
    floor = screened[0].cost + 2 * math.log(SCREEN_ODDS)
    # where the surrogate is good to a fraction of the noise its ranking holds: fewer re-ranked
    poor = max(comb.surrogate_error_nm.values()) > 2 * float(np.median(noise.sigma_nm))
    first = [h for h in screened if h.cost <= floor][:MAX_RESCREEN if poor else MAX_RESCREEN // 3] or screened[:1]
    stepped: dict[tuple, Hypothesis] = {}
    for count, h in enumerate(first, 1):
        try:
            one = _fit_exact(comb, peaks, noise, h, max_iterations=1)
        except AssignModelError:
            continue
        if one.key() not in stepped or one.cost < stepped[one.key()].cost:
            stepped[one.key()] = one
        if progress:
            progress("exact screen", count, len(first))
    ranked = sorted(stepped.values(), key=lambda h: h.cost)
    if not ranked:
        raise AssignError("no labelling could be followed on exact modes inside the search window")
    floor = ranked[0].cost + 2 * math.log(EXACT_ODDS)
    todo = [h for h in ranked if h.cost <= floor][:MAX_EXACT_CANDIDATES]
    todo = todo if len(todo) >= EXACT_CANDIDATES else ranked[:EXACT_CANDIDATES]
    refined: dict[tuple, Hypothesis] = {}
    for count, h in enumerate(todo, 1):
        try:
            exact = _fit_exact(comb, peaks, noise, h)
        except AssignModelError:
            continue
        if exact.key() not in refined or exact.cost < refined[exact.key()].cost:
            refined[exact.key()] = exact
        if progress:
            progress("exact fits", count, len(todo))
    if not refined:
        raise AssignError("no labelling could be followed on exact modes inside the search window")
    return sorted(refined.values(), key=lambda h: h.cost)


def _extra(comb: ModeComb) -> np.ndarray:
    """Per member, the surrogate's own uncertainty (nm)."""
    return np.array([comb.surrogate_error_nm[f] for f in comb.family])


def _screen(comb: ModeComb, peaks, noise: NoiseModel, spacing) -> list[Hypothesis]:
    """Every labelling met while the first fitted quantity scans its range on the surrogate,
    each iterated to self-consistency (fit, relabel). Sorted by surrogate cost."""
    lo, hi = comb.bounds()
    extra = _extra(comb)
    lam_mid = float(np.median(peaks))
    step_rel = spacing / SCREEN_STEP_GAPS / lam_mid
    steps = int(min(40000, max(50, (hi[0] - lo[0]) / comb.theta0[0] / step_rel)))
    # labels on the grid with a sigma no smaller than the step, so that no labelling is stepped over
    step_nm = (hi[0] - lo[0]) / steps / comb.theta0[0] * lam_mid
    coarse = NoiseModel(np.sqrt(noise.sigma_nm**2 + step_nm**2), noise.window_nm, noise.outlier_prior)
    starts: dict[tuple, np.ndarray] = {}
    for value in np.linspace(lo[0], hi[0], steps + 1):
        theta = comb.theta0.copy()
        theta[0] = value
        member, _ = best_labelling(peaks, comb.predict(theta), coarse, extra)
        starts.setdefault(tuple(member), theta)
    found: dict[tuple, Hypothesis] = {}
    for start_member, theta in starts.items():
        h = _iterate_surrogate(comb, peaks, noise, np.array(start_member), theta, extra)
        if h is not None and (h.key() not in found or h.cost < found[h.key()].cost):
            found[h.key()] = h
    return sorted(found.values(), key=lambda h: h.cost)


def _weighted_step(jac, residual, sigma):
    """Least-squares step of theta for residuals (nm) with uncertainties ``sigma``."""
    step, *_ = np.linalg.lstsq(jac / sigma[:, None], residual / sigma, rcond=None)
    return step


def _clip(comb: ModeComb, theta) -> tuple[np.ndarray, bool]:
    lo, hi = comb.bounds()
    clipped = np.clip(theta, lo, hi)
    return clipped, bool(np.any(clipped != theta))


def _iterate_surrogate(comb, peaks, noise, member, theta, extra) -> Hypothesis | None:
    edge = False
    for _ in range(MAX_ITERATIONS):
        assigned = member >= 0
        if np.sum(assigned) < len(comb.fit):
            return None
        lam = comb.predict(theta)
        jac = comb.jacobian(theta)[member[assigned]]
        if len(comb.fit) > 1:
            jac = jac[:, :1]  # D and n together are nearly degenerate on the surrogate: the exact fit frees n
        sigma = np.sqrt(noise.sigma_nm[assigned] ** 2 + extra[member[assigned]] ** 2)
        step = _weighted_step(jac, peaks[assigned] - lam[member[assigned]], sigma)
        new = theta.copy()
        new[: step.size] += step
        new, edge = _clip(comb, new)
        new_member, _ = best_labelling(peaks, comb.predict(new), noise, extra)
        theta = new
        if np.array_equal(new_member, member):
            break
        member = new_member
    lam = comb.predict(theta)
    cost = labelling_cost(peaks, lam, member, noise, extra)
    model = np.where(member >= 0, lam[np.maximum(member, 0)], np.nan)
    return Hypothesis(member, theta, model, cost, at_edge=edge)


def _near_members(comb: ModeComb, peaks, lam, noise: NoiseModel) -> np.ndarray:
    """Members that can matter for these peaks: within the outlier reach of some peak."""
    reach = float(np.max(noise.threshold_sigmas() * noise.sigma_nm)) + 2 * float(max(comb.surrogate_error_nm.values()))
    return np.nonzero((lam >= peaks.min() - reach) & (lam <= peaks.max() + reach))[0]


def _exact_at(comb: ModeComb, theta, members, seed) -> tuple[np.ndarray, ExactModes]:
    """Exact wavelengths of all members (nan where not evaluated or absent)."""
    exact = comb.solve(theta, members, seed[members])
    lam = np.full(len(comb.labels), np.nan)
    lam[members] = exact.wavelength_nm
    return lam, exact


def _fit_exact(comb: ModeComb, peaks, noise: NoiseModel, start: Hypothesis, max_iterations: int = MAX_ITERATIONS) -> Hypothesis:
    """Fit and relabel on exact modes until the labelling no longer changes (at most
    ``max_iterations`` fit-relabel rounds)."""
    theta, member = start.theta.copy(), start.member.copy()
    seed = comb.predict(theta)
    edge = False
    for _ in range(max_iterations):
        members = _near_members(comb, peaks, seed, noise)
        lam, exact = _exact_at(comb, theta, members, seed)
        new_member, _ = best_labelling(peaks, lam, noise)
        assigned = new_member >= 0
        if np.sum(assigned) < len(comb.fit):
            member = new_member
            break
        jac = comb.jacobian(theta)[new_member[assigned]]
        step = _weighted_step(jac, peaks[assigned] - lam[new_member[assigned]], noise.sigma_nm[assigned])
        new, edge = _clip(comb, theta + step)
        moved = np.abs(jac @ (new - theta))
        done = np.array_equal(new_member, member) and np.all(moved < 1e-3 * noise.sigma_nm[assigned])
        member = new_member
        if done:
            break
        # seeds at the new point: the exact wavelengths moved as the surrogate says
        ratio = comb.predict(new) / comb.predict(theta)
        seed = np.where(np.isfinite(lam), lam, comb.predict(theta)) * ratio
        theta = new
    members = _near_members(comb, peaks, seed, noise)
    lam, exact = _exact_at(comb, theta, members, seed)
    member, cost = best_labelling(peaks, lam, noise)
    where = {int(j): r for r, j in enumerate(members)}
    model = np.array([lam[j] if j >= 0 else np.nan for j in member])
    fraction = np.array([exact.core_fraction[where[j]] if j >= 0 else np.nan for j in member])
    q = np.array([exact.q_rad[where[j]] if j >= 0 else np.nan for j in member])
    return Hypothesis(member, theta, model, cost, at_edge=edge, exact=True, core_fraction=fraction, q_rad=q)


# -- the verdict --------------------------------------------------------------------------------

def _exact_jacobian(comb: ModeComb, h: Hypothesis) -> np.ndarray:
    """d lambda / d theta of the assigned peaks' modes by central differences of exact solves."""
    assigned = h.member >= 0
    members = h.member[assigned]
    columns = []
    for k in range(len(comb.fit)):
        step = 1e-6 * h.theta[k]
        values = []
        for sign in (1, -1):
            theta = h.theta.copy()
            theta[k] += sign * step
            seed = h.model_nm[assigned] * comb.predict(theta)[members] / comb.predict(h.theta)[members]
            values.append(comb.solve(theta, members, seed).wavelength_nm)
        columns.append((values[0] - values[1]) / (2 * step))
    return np.column_stack(columns)


def _conclude(comb: ModeComb, peaks, noise: NoiseModel, refined: list[Hypothesis], variants: list[Hypothesis],
              source: str) -> Assignment:
    from scipy.stats import binom
    from scipy.stats import chi2 as chi2_dist

    best = refined[0]
    n_fit = len(comb.fit)
    assigned = best.member >= 0
    residual = (peaks - best.model_nm)[assigned]
    chi2 = float(np.sum(residual**2 / noise.sigma_nm[assigned] ** 2))
    dof = int(assigned.sum()) - n_fit
    p_value = float(chi2_dist.sf(chi2, dof)) if dof > 0 and source != _ESTIMATED else None

    flags = []
    jac = _exact_jacobian(comb, best)
    uncertainty = np.full(n_fit, np.nan)
    correlation = None
    if np.all(np.isfinite(jac)):
        try:
            cov = np.linalg.inv((jac / noise.sigma_nm[assigned, None]).T @ (jac / noise.sigma_nm[assigned, None]))
            uncertainty = np.sqrt(np.diag(cov))
            if n_fit == 2:
                correlation = float(cov[0, 1] / (uncertainty[0] * uncertainty[1]))
        except np.linalg.LinAlgError:
            flags.append("degenerate: the fitted quantities cannot be told apart by these peaks (singular Jacobian)")

    pool = {h.key(): h for h in refined}
    for v in variants:
        if v.key() not in pool:
            pool[v.key()] = v
    # the settled best first: a linearized variant never displaces it
    candidates = [best] + sorted((h for h in pool.values() if h is not best), key=lambda h: h.cost)
    weights = np.exp(-0.5 * (np.array([h.cost for h in candidates]) - best.cost))
    weights /= weights.sum()
    for h, w in zip(candidates, weights):
        h.probability = float(w)

    spread = np.zeros(n_fit)
    for h, w in zip(candidates, weights):
        spread += w * (h.theta - best.theta) ** 2
    with_labelling = np.sqrt(np.where(np.isfinite(uncertainty), uncertainty, 0.0) ** 2 + spread)

    peak_alts: list[list[PeakAlternative]] = [[] for _ in peaks]
    for v in variants:
        odds = math.exp(-0.5 * (v.cost - best.cost))
        if odds < 1 / AMBIGUITY_ODDS or v.key() == best.key():
            continue
        changed = np.nonzero(v.member != best.member)[0]
        for i in changed:
            j = v.member[i]
            peak_alts[i].append(PeakAlternative(comb.labels[j] if j >= 0 else None,
                                                float(v.model_nm[i]) if j >= 0 else None, odds, v.theta))
    rivals = [h for h in candidates if h is not best and h.probability * AMBIGUITY_ODDS >= best.probability
              and not _is_local_variant(h, best)]

    census_ok = _verify(comb, best)
    outlier_why = _why_outliers(comb, peaks, noise, best)

    n_out = int(np.sum(best.member < 0))
    too_many = float(binom.sf(n_out - 1, peaks.size, noise.outlier_prior)) if n_out else 1.0
    poor = []
    if too_many < GOOD_FIT_P_VALUE:
        poor.append(f"{n_out} of {peaks.size} peaks are unassigned, more than an outlier prior of "
                    f"{noise.outlier_prior:g} makes plausible (p = {too_many:.1e})")
    if p_value is not None and p_value < GOOD_FIT_P_VALUE:
        poor.append(f"chi2 {chi2:.3g} for {dof} dof (p = {p_value:.1e}) is worse than the peaks' uncertainty allows")
    if poor:
        flags.append("poor fit: " + "; ".join(poor) + ": the families, the fixed geometry or the search window "
                     "may not describe these peaks")
    if best.at_edge:
        flags.append("at the edge of the search window: the fit wants to go further; widen --search")
    if not np.all(census_ok[assigned]):
        flags.append("unverified: the argument-principle count disagrees for some assigned mode (census_ok false)")
    if source == _ESTIMATED:
        flags.append("sigma estimated from the residuals: the fit's quality cannot be judged; give --sigma")

    uncertain_peaks = [i for i, alts in enumerate(peak_alts) if alts]
    ambiguous = bool(rivals or uncertain_peaks or poor)
    if poor:
        verdict = "poor fit: " + "; ".join(poor)
    elif rivals:
        r = rivals[0]
        verdict = (f"ambiguous: {len(rivals)} other labelling(s) fit within the noise, e.g. "
                   f"{describe_labels([comb.labels[j] if j >= 0 else None for j in r.member])} "
                   f"(probability {r.probability:.2g} against {best.probability:.2g})")
    elif uncertain_peaks:
        verdict = (f"ambiguous: {len(uncertain_peaks)} peak(s) have another explanation within the noise "
                   f"(peaks at {', '.join(f'{peaks[i]:.4f}' for i in uncertain_peaks)} nm)")
    else:
        others = [h for h in candidates if h is not best]
        verdict = f"unique: probability {best.probability:.4g}"
        if others:
            verdict += f"; next best {describe_labels([comb.labels[j] if j >= 0 else None for j in others[0].member])} " \
                       f"at odds 1:{best.probability / max(others[0].probability, 1e-300):.3g}"
    if n_out:
        verdict += f"; {n_out} peak(s) unassigned (not modes of the allowed families)"
    return Assignment(peaks, noise.sigma_nm, source, comb.fit, comb, best, candidates, uncertainty, with_labelling,
                      correlation, chi2, dof, p_value, peak_alts, census_ok, verdict, ambiguous, flags, outlier_why, noise)


def _is_local_variant(h: Hypothesis, best: Hypothesis) -> bool:
    """Differs from the best in one peak's label, or by two peaks swapping theirs (these are
    reported per peak)."""
    return h.origin != "search" or int(np.sum(h.member != best.member)) <= 1


def _local_variants(comb, peaks, noise, best: Hypothesis) -> list[Hypothesis]:
    """The best labelling with one peak relabelled (another free mode within its reach, or
    outlier; or an outlier given to a free mode), with two peaks swapping their modes, or with an
    outlier taking an assigned peak's mode (that peak then the outlier); each refitted by one
    linearized step."""
    members = _near_members(comb, peaks, comb.predict(best.theta), noise)
    seed = comb.predict(best.theta)
    lam, _ = _exact_at(comb, best.theta, members, seed)
    reach = noise.threshold_sigmas() * noise.sigma_nm
    used = set(int(j) for j in best.member if j >= 0)
    full_jac = comb.jacobian(best.theta)
    changes = []
    for i, y in enumerate(peaks):
        options = [-1] if best.member[i] >= 0 else []
        options += [int(j) for j in members if int(j) not in used and np.isfinite(lam[j]) and abs(y - lam[j]) <= reach[i]]
        changes += [{i: j} for j in options]
    for i in range(peaks.size):
        for k in range(peaks.size):
            a, b = best.member[i], best.member[k]
            if i < k and a >= 0 and b >= 0 and abs(peaks[i] - lam[b]) <= reach[i] and abs(peaks[k] - lam[a]) <= reach[k]:
                changes.append({i: int(b), k: int(a)})  # two peaks swap their modes
            if a < 0 and b >= 0 and abs(peaks[i] - lam[b]) <= reach[i]:
                changes.append({i: int(b), k: -1})  # an outlier takes a peak's mode, that peak becomes the outlier
    out = []
    for change in changes:
        member = best.member.copy()
        for i, j in change.items():
            member[i] = j
        assigned = member >= 0
        if assigned.sum() < len(comb.fit):
            continue
        theta = best.theta.copy()
        model = lam[np.maximum(member, 0)]
        if assigned.sum() > len(comb.fit):
            step = _weighted_step(full_jac[member[assigned]], peaks[assigned] - model[assigned], noise.sigma_nm[assigned])
            theta, _ = _clip(comb, theta + step)
            model = model + full_jac[np.maximum(member, 0)] @ (theta - best.theta)
        cost = labelling_cost(peaks, _with(lam, member, model), member, noise)
        origin = "peak " + ", ".join(str(i) for i in change)
        out.append(Hypothesis(member, theta, np.where(assigned, model, np.nan), cost, exact=True, origin=origin))
    return out


def _with(lam, member, model) -> np.ndarray:
    """Wavelengths of all members with the peaks' labelled ones replaced by ``model``."""
    out = lam.copy()
    for j, value in zip(member, model):
        if j >= 0:
            out[j] = value
    return out


def _verify(comb: ModeComb, best: Hypothesis) -> np.ndarray:
    """Per peak: the assigned mode's narrow box counted by the argument principle."""
    ok = np.zeros(best.member.size, bool)
    cyl = comb.cylinder(best.theta)
    for pol in sorted({comb.labels[j].pol for j in best.member if j >= 0}):
        rows = [i for i, j in enumerate(best.member) if j >= 0 and comb.labels[j].pol == pol]
        k = k_from_wavelength_nm(best.model_nm[rows])
        res = run_boxes(cyl, pol, [comb.labels[best.member[i]].m for i in rows], k * (1 - 2e-6), k * (1 + 2e-6), q_min=2.0)
        for box, i in enumerate(rows):
            lab = comb.labels[best.member[i]]
            hit = [r for r in res.roots if r.box == box and r.p == lab.p and r.region_index == 0]
            ok[i] = bool(hit) and res.checks[box].ok
    return ok


def _why_outliers(comb, peaks, noise, best: Hypothesis) -> dict[int, str]:
    """Per unassigned peak: how far the nearest mode is, and whether a closer peak holds it."""
    lam = comb.predict(best.theta)
    holder = {int(j): i for i, j in enumerate(best.member) if j >= 0}
    tau = noise.threshold_sigmas()
    out = {}
    for i in np.nonzero(best.member < 0)[0]:
        j = int(np.nanargmin(np.abs(peaks[i] - lam)))
        d = abs(peaks[i] - lam[j])
        text = f"{d:.4f} nm = {d / noise.sigma_nm[i]:.1f} sigma from the nearest mode, {comb.labels[j]}"
        if j in holder:
            text += f", which the peak at {peaks[holder[j]]:.4f} nm fits better"
        out[int(i)] = text + f" (a mode is accepted within {tau[i]:.1f} sigma)"
    return out
