"""Random spectra for the mode assignment: exact modes of a capillary whose bore is unknown to
within +-2 %, position noise, missing modes and spurious peaks; each trial records whether the
assignment got the bore, every label and every spurious peak right, and what its verdict said.

The truth comes from the census (``find_modes`` in a window), not from the assignment's own
mode comb. Used by ``benchmarks/bench_assign.py`` and the slow test ``tests/test_assign_random.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from wgmfem.assign import AMBIGUITY_ODDS, AssignError, assign_peaks
from wgmfem.geometry import Capillary
from wgmfem.solve import find_modes

NOMINAL_UM = 54.0  # the diameter the user believes in; the truth is within +-1.9 % of it
FSR_NM = 0.73  # one family's mode spacing near 440 nm in this fibre (sets the window for a peak count)


@dataclass
class Trial:
    seed: int
    true_diameter_um: float
    pols: str
    p: tuple[int, int]
    noise_nm: float
    sigma_given: bool
    peaks: int
    missing: int
    spurious: int
    diameter_um: float = float("nan")
    sigma_um: float = float("nan")
    sigma_with_labelling_um: float = float("nan")
    bore_ok: bool = False  # within 3 sigma (with the labelling ambiguity) of the truth
    bore_ok_strict: bool = False  # within 3 sigma of the best labelling alone
    labels_ok: bool = False
    spurious_ok: bool = False
    truth_plausible: bool = False  # the true labelling is the best or fits within the noise (odds >= 1:100)
    verdict: str = ""
    error: str = ""
    seconds: float = 0.0

    @property
    def success(self) -> bool:
        return self.bore_ok and self.labels_ok and self.spurious_ok

    @property
    def silently_wrong(self) -> bool:
        """Wrong, and the verdict claimed a unique answer."""
        return not self.success and self.verdict == "unique"


def draw(seed: int, noise_nm: float | None = None) -> tuple[Trial, np.ndarray, dict]:
    """A random spectrum: (trial record, peaks nm, truth {rounded peak: label or 'spurious'})."""
    rng = np.random.default_rng(seed)
    true_d = NOMINAL_UM * (1 + rng.uniform(-0.019, 0.019))
    pols = ["Ez", "Hz", "both"][rng.integers(3)]
    p = [(1, 1), (1, 2)][rng.integers(2)]
    noise = float(rng.uniform(0.002, 0.02)) if noise_nm is None else noise_nm
    families = (2 if pols == "both" else 1) * (p[1] - p[0] + 1)
    n_peaks = int(rng.integers(6, 13))
    n_spurious, n_missing = int(rng.integers(0, 3)), int(rng.integers(0, 3))
    n_modes = max(n_peaks - n_spurious + n_missing, 4)
    width = n_modes * FSR_NM / families
    start = float(rng.uniform(432, 445 - width))
    cap = Capillary(true_d)
    modes = find_modes(cap, pol=pols, wavelength_nm=(start, start + width), p=p, region="core", fsr=False, q_min=10.0)
    keep = sorted(rng.choice(len(modes), size=max(len(modes) - n_missing, 3), replace=False))
    shown = [modes[i] for i in keep]
    peaks = np.array([md.wavelength_nm for md in shown]) + rng.normal(0, noise, len(shown))
    truth = {round(float(y), 9): (md.pol, md.m, md.p) for y, md in zip(peaks, shown)}
    spurious = rng.uniform(start, start + width, n_spurious)
    for y in spurious:
        truth[round(float(y), 9)] = "spurious"
    trial = Trial(seed, true_d, pols, p, noise, bool(rng.random() < 0.8), len(peaks) + n_spurious,
                  len(modes) - len(shown), n_spurious)
    return trial, np.concatenate([peaks, spurious]), truth


def run(seed: int, noise_nm: float | None = None) -> Trial:
    trial, peaks, truth = draw(seed, noise_nm)
    start = time.perf_counter()
    try:
        result = assign_peaks(peaks, Capillary(NOMINAL_UM), pol=trial.pols, p=trial.p,
                              sigma_nm=trial.noise_nm if trial.sigma_given else None)
    except AssignError as exc:
        trial.error = str(exc)
        trial.seconds = time.perf_counter() - start
        return trial
    trial.seconds = time.perf_counter() - start
    d = result.to_dict()
    fit = d["fit"]["inner_diameter_um"]
    trial.diameter_um, trial.sigma_um = fit["value"], fit["sigma"] or float("nan")
    trial.sigma_with_labelling_um = fit["sigma_with_labelling"] or float("nan")
    off = abs(trial.diameter_um - trial.true_diameter_um)
    trial.bore_ok = bool(off <= 3 * trial.sigma_with_labelling_um)
    trial.bore_ok_strict = bool(off <= 3 * trial.sigma_um)
    labels_ok = spurious_ok = True
    for pk in d["peaks"]:
        true = truth[round(pk["wavelength_nm"], 9)]
        if true == "spurious":
            spurious_ok &= not pk["assigned"]
        else:
            labels_ok &= pk["assigned"] and (pk["pol"], pk["m"], pk["p"]) == true
    trial.labels_ok, trial.spurious_ok = bool(labels_ok), bool(spurious_ok)
    true_member = [truth[round(float(y), 9)] for y in result.peaks_nm]
    for h in result.candidates:
        labels = [None if j < 0 else (result.comb.labels[j].pol, result.comb.labels[j].m, result.comb.labels[j].p) for j in h.member]
        if labels == [None if t == "spurious" else t for t in true_member]:
            trial.truth_plausible = h.probability * AMBIGUITY_ODDS >= result.best.probability
            break
    trial.verdict = "poor fit" if d["verdict"].startswith("poor fit") else ("ambiguous" if d["ambiguous"] else "unique")
    return trial


def summary(trials: list[Trial]) -> str:
    """Rates by noise, and the failures' pattern."""
    lines = []
    for name, pick in (("noise <= 0.01 nm", lambda t: t.noise_nm <= 0.01), ("noise > 0.01 nm", lambda t: t.noise_nm > 0.01),
                       ("all", lambda t: True)):
        group = [t for t in trials if pick(t)]
        if not group:
            continue
        n = len(group)

        def rate(f):
            return f"{100 * sum(map(f, group)) / n:5.1f} %"  # noqa: B023 - called within this iteration

        lines.append(
            f"{name:>17}: {n:4d} trials; all right {rate(lambda t: t.success)}; bore within 3 sigma "
            f"{rate(lambda t: t.bore_ok)} (best labelling's sigma alone {rate(lambda t: t.bore_ok_strict)}); labels "
            f"{rate(lambda t: t.labels_ok)}; spurious unassigned {rate(lambda t: t.spurious_ok)}; verdict unique "
            f"{rate(lambda t: t.verdict == 'unique')}; truth the best or within the noise {rate(lambda t: t.truth_plausible)}; "
            f"wrong yet 'unique' {rate(lambda t: t.silently_wrong)}; "
            f"errors {rate(lambda t: bool(t.error))}"
        )
    failures = [t for t in trials if not t.success]
    for t in failures:
        what = [w for w, ok in (("bore", t.bore_ok), ("labels", t.labels_ok), ("spurious", t.spurious_ok)) if not ok]
        lines.append(f"  seed {t.seed}: {t.pols} p={t.p[0]}:{t.p[1]} noise {t.noise_nm:.4f} peaks {t.peaks} "
                     f"(missing {t.missing}, spurious {t.spurious}) sigma {'given' if t.sigma_given else 'estimated'}: "
                     f"wrong {'+'.join(what) or '-'}; verdict {t.verdict or t.error}; truth within the noise: "
                     f"{'yes' if t.truth_plausible else 'no'}")
    return "\n".join(lines)
