"""The core modes of a capillary's allowed families near measured peaks, as functions of the
inner diameter D and the core index n: exact at the starting geometry, a cheap surrogate for
the search, exact re-solves for the fits.

Wavelengths in nm, lengths in um.

* Exact modes. Each family (pol, p) is anchored by a census label lookup (argument
  principle); its other members are re-found from seeds that follow the family's smooth
  dependence on m, by a secant with the census's own labels (:mod:`wgmfem.exact.track`).
  A member whose root does not carry the label (pol, m, p, core) is looked up by the census
  instead; where the census has no core mode of that label the family has no member there.
  This is the same definition of "the mode (pol, m, p) of the core" as ``wgmfem modes``.
* Surrogate. Core-mode wavelengths scale with the bore (exact when the outer diameter scales
  too; with it held, the wall-thickness change moves them by ~1e-6 relative, up to ~1e-4 where
  a wall mode crosses). With the core index: a quadratic per mode through exact combs at
  n0 (1 - s), n0, n0 (1 + s). The surrogate's error is measured at the ends of the search range
  and carried, per family, into the search as an extra uncertainty.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .exact.search import airy_zero, run_boxes
from .exact.track import track_roots
from .geometry import Capillary, GeometryError, LayeredCylinder
from .solve import SearchError, find_modes
from .units import k_from_wavelength_nm, wavelength_nm_from_k

Q_MIN = 10.0  # smallest radiation Q of a mode that can be a measured peak
CONTINUATION_STEPS = 8  # index nodes are reached in this many tracked steps (first order is off by ~10 % of a step)
BOX_HALF_WIDTH = 5e-4  # a member lost by the tracked secant is looked for this far (relative) from its prediction
REUSE_REL = 2e-6  # a census lookup is reused within this relative change of (D, n) (moves ~1e-9 relative: << noise)
UNTRACKED_ERROR = 3e-4  # relative surrogate error assumed for a member that could not be tracked to the range ends


@dataclass(frozen=True, order=True)
class Label:
    """A mode of the core: polarization, azimuthal number, radial order."""

    pol: str
    m: int
    p: int

    def __str__(self) -> str:
        return f"{self.pol} m={self.m} p={self.p}"


@dataclass
class ExactModes:
    """Exact modes of some comb members at one (D, n) (arrays over the members asked for)."""

    wavelength_nm: np.ndarray  # nan: the family has no core mode of that label there
    core_fraction: np.ndarray
    q_rad: np.ndarray
    census: np.ndarray  # True where the census (not a tracked secant) gave the mode


class ModeComb:
    """Core modes of the families ``families`` ((pol, p) pairs) of a capillary near a window.

    ``fit`` names the quantities that move ('inner-diameter', 'core'); ``search`` is how far
    (a fraction of each starting value). Members are sorted by wavelength at the start.
    """

    def __init__(self, base: LayeredCylinder, fit: Sequence[str], families: Sequence[tuple[str, int]],
                 window_nm: tuple[float, float], search: float,
                 progress: Callable[[str, int, int], None] | None = None):
        self.base = base
        self.fit = tuple(fit)
        self.search = search
        self.solves = 0  # exact re-solves (members)
        self.census_lookups = 0
        self._lookups: dict[int, list] = {}
        labels: list[Label] = []
        lam: list[float] = []
        present: list[bool] = []
        for count, (pol, p) in enumerate(families, 1):
            for m, wavelength, exact in _family(base, pol, p, window_nm):
                labels.append(Label(pol, m, p))
                lam.append(wavelength)
                present.append(exact)
            if progress:
                progress("reference modes", count, len(families))
        order = np.argsort(lam)
        self.labels = [labels[i] for i in order]
        self.lam0 = np.asarray(lam, dtype=float)[order]
        # members with no core mode at the start (a p >= 2 mode hybridized with the wall there)
        # keep the family's smooth estimate: at another bore they may be core modes again
        self.present0 = np.asarray(present, dtype=bool)[order]
        self.family = [(lab.pol, lab.p) for lab in self.labels]
        self.theta0 = self.start()
        self.n_nodes = np.array([self.core_index0])
        self.lam_nodes = self.lam0[None, :]
        self.surrogate_error_nm: dict[tuple[str, int], float] = {}
        self.surrogate_error_nm = self._bore_nodes()
        if "core" in self.fit:
            self._index_nodes()

    # -- parameters ------------------------------------------------------------------------

    @property
    def inner_diameter0(self) -> float:
        return 2 * self.base.radii_um[0]

    @property
    def core_index0(self) -> float:
        return float(self.base.indices[0].real)  # real: assign takes lossless capillaries only

    def start(self) -> np.ndarray:
        values = {"inner-diameter": self.inner_diameter0, "core": self.core_index0}
        return np.array([values[name] for name in self.fit])

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The search window: each fitted quantity within +-search of its start (a hard bound)."""
        t0 = self.start()
        return t0 * (1 - self.search), t0 * (1 + self.search)

    def values(self, theta) -> tuple[float, float]:
        """(D, n) at ``theta``."""
        v = dict(zip(self.fit, (float(t) for t in theta)))
        return v.get("inner-diameter", self.inner_diameter0), v.get("core", self.core_index0)

    def cylinder(self, theta) -> LayeredCylinder:
        d, n = self.values(theta)
        b = self.base
        return Capillary(d, 2 * b.radii_um[1], n, b.indices[1], b.outside_index)

    # -- surrogate -------------------------------------------------------------------------

    def _in_index(self, n: float) -> tuple[np.ndarray, np.ndarray]:
        """Wavelengths and d lambda / dn of every member at core index n (starting bore)."""
        if len(self.n_nodes) == 1:
            return self.lam0, np.zeros_like(self.lam0)
        x0, x1, x2 = self.n_nodes
        y0, y1, y2 = self.lam_nodes
        d01, d12 = (y1 - y0) / (x1 - x0), (y2 - y1) / (x2 - x1)
        curv = (d12 - d01) / (x2 - x0)
        return y1 + (n - x1) * (d01 + curv * (n - x0)), d01 + curv * (2 * n - x0 - x1)

    def _bore_factor(self, d: float) -> tuple[np.ndarray, np.ndarray]:
        """Per member, lambda(D) / (lambda(D0) D / D0) and its derivative in D: the family's
        smooth departure from bore scaling (the wall thins as the bore grows)."""
        x = d / self.inner_diameter0 - 1
        a, b, c = self._bore_quadratic.T  # per member: a x^2 + b x + c (the search's hot path)
        return (a * x + b) * x + c, (2 * a * x + b) / self.inner_diameter0

    def predict(self, theta) -> np.ndarray:
        """Surrogate wavelengths (nm) of every member at ``theta``."""
        d, n = self.values(theta)
        lam, _ = self._in_index(n)
        factor, _ = self._bore_factor(d)
        return lam * d / self.inner_diameter0 * factor

    def jacobian(self, theta) -> np.ndarray:
        """Surrogate d lambda / d theta of every member, (members, fitted)."""
        d, n = self.values(theta)
        lam, slope = self._in_index(n)
        factor, factor_slope = self._bore_factor(d)
        scale = d / self.inner_diameter0
        columns = {"inner-diameter": lam / self.inner_diameter0 * factor + lam * scale * factor_slope,
                   "core": slope * scale * factor}
        return np.column_stack([columns[name] for name in self.fit])

    def _index_nodes(self) -> None:
        """Exact combs at the ends of the index range, reached by continuation."""
        n0, s = self.core_index0, self.search
        everyone = np.arange(self.lam0.size)
        gamma = self.solve(self.theta0, everyone, self.lam0).core_fraction
        rows = {}
        for side in (-1, 1):
            previous, lam = None, self.lam0.copy()
            for step in range(1, CONTINUATION_STEPS + 1):
                # seeds: first order (d lambda / lambda = Gamma dn / n) for the first step, then
                # linear extrapolation of the last two nodes (error ~ curvature x step^2)
                h = side * s / CONTINUATION_STEPS
                seed = lam * (1 + gamma * h) if previous is None else 2 * lam - previous
                theta = self.theta0.copy()
                theta[self.fit.index("core")] = n0 * (1 + h * step)
                found = self.solve(theta, everyone, seed).wavelength_nm
                previous, lam = lam, np.where(np.isfinite(found), found, seed)
            rows[side] = lam
        self.n_nodes = np.array([n0 * (1 - s), n0, n0 * (1 + s)])
        self.lam_nodes = np.vstack([rows[-1], self.lam0, rows[1]])

    def _bore_nodes(self) -> dict[tuple[str, int], float]:
        """Fit each family's departure from bore scaling and measure what is left.

        The comb is followed by continuation to bores D0 (1 + t), t in +-search/2, +-search
        (tracked secant, seeds from the previous node); at each node the family's median of
        lambda / (lambda0 D / D0) over its members gives one point of a quadratic in t (the
        median ignores members at a wall-mode crossing). Returns, per family, the 90th
        percentile of |exact - surrogate| (nm) over the members and nodes: what the search must
        allow on top of the peaks' own noise."""
        self._family_rows = {fam: np.array([i for i, f in enumerate(self.family) if f == fam]) for fam in set(self.family)}
        self._bore_quadratic = np.tile([0.0, 0.0, 1.0], (len(self.labels), 1))
        if "inner-diameter" not in self.fit:
            return {fam: 0.0 for fam in self._family_rows}
        s = self.search
        steps = [0.5 * s, s]
        exact_at: dict[float, np.ndarray] = {0.0: np.where(self.present0, self.lam0, np.nan)}
        for side in (-1, 1):
            previous, lam = 0.0, self.lam0.copy()
            for t in (side * x for x in steps):
                seed = lam * (1 + t) / (1 + previous)
                found = self.solve(self._at_bore(t), np.arange(seed.size), seed, census=False).wavelength_nm
                exact_at[t] = found
                lam = np.where(np.isfinite(found), found, seed)
                previous = t
        nodes = sorted(exact_at)
        ratios = np.array([exact_at[t] / (self.lam0 * (1 + t)) for t in nodes])  # (nodes, members)
        for rows in self._family_rows.values():
            median = np.array([np.nanmedian(r[rows]) if np.any(np.isfinite(r[rows])) else np.nan for r in ratios])
            ok = np.isfinite(median)
            if ok.sum() >= 3:
                self._bore_quadratic[rows] = np.polyfit(np.array(nodes)[ok], median[ok], 2)
        errors = []
        for t in nodes:
            predicted = self.predict(self._at_bore(t))
            errors.append(np.where(np.isfinite(exact_at[t]), np.abs(exact_at[t] - predicted), UNTRACKED_ERROR * predicted))
        err = np.max(errors, axis=0)
        return {fam: float(np.quantile(err[rows], 0.9)) for fam, rows in self._family_rows.items()}

    def _at_bore(self, t: float) -> np.ndarray:
        theta = self.theta0.copy()
        theta[0] *= 1 + t
        return theta

    # -- exact -----------------------------------------------------------------------------

    def solve(self, theta, members, seed_nm, census: bool = True) -> ExactModes:
        """Exact wavelengths of the members ``members`` (indices) at ``theta``, from seeds
        (nm, one per member) good to ~1e-4. A member the tracked secant does not find with its
        labels is looked up by the census, or (``census=False``) left absent (nan)."""
        members = np.asarray(members, dtype=int)
        seed_nm = np.asarray(seed_nm, dtype=float)
        try:
            cyl = self.cylinder(theta)
        except (GeometryError, ValueError) as exc:
            raise AssignModelError(f"the fit left the physical range: {exc}") from None
        n = members.size
        out = ExactModes(np.full(n, np.nan), np.zeros(n), np.full(n, np.inf), np.zeros(n, bool))
        for pol in sorted({self.labels[i].pol for i in members}):
            rows = np.array([r for r, i in enumerate(members) if self.labels[i].pol == pol])
            labs = [self.labels[members[r]] for r in rows]
            tracked = track_roots(cyl, pol, [lab.m for lab in labs], k_from_wavelength_nm(seed_nm[rows]))
            self.solves += rows.size
            good = tracked.matches([lab.p for lab in labs], 0)
            k = tracked.k
            q = np.where(k.imag != 0, k.real / (2 * np.abs(k.imag) + 1e-300), np.inf)
            good &= q >= Q_MIN
            out.wavelength_nm[rows[good]] = wavelength_nm_from_k(k.real[good])
            out.core_fraction[rows[good]] = tracked.fractions[0][good]
            out.q_rad[rows[good]] = q[good]
            for r in rows[~good] if census else ():
                found = self._looked_up(theta, cyl, int(members[r]), seed_nm[r])
                out.census[r] = True
                if found is not None:
                    out.wavelength_nm[r], out.core_fraction[r], out.q_rad[r] = found
        return out

    def _looked_up(self, theta, cyl, member: int, seed_nm: float):
        """The census lookup of one member at theta; a lookup at a theta within ``REUSE_REL``
        is reused, moved as the surrogate says (a fit revisits nearly the same point often)."""
        theta = np.asarray(theta, dtype=float)
        for near, found in self._lookups.get(member, []):
            if np.all(np.abs(theta / near - 1) < REUSE_REL):
                if found is None:
                    return None
                moved = found[0] * self.predict(theta)[member] / self.predict(near)[member]
                return (moved,) + tuple(found[1:])
        lab = self.labels[member]
        half = max(BOX_HALF_WIDTH, 3 * self.surrogate_error_nm.get((lab.pol, lab.p), 0.0) / seed_nm)
        found = _box_lookup(cyl, lab, seed_nm, half)
        self.census_lookups += 1
        self._lookups.setdefault(member, []).append((theta.copy(), found))
        return found


class AssignModelError(ValueError):
    """The model cannot be evaluated where the fit went (the message is one line)."""


def _census_lookup(cyl: LayeredCylinder, lab: Label, seed_nm: float):
    """(wavelength, core fraction, Q_rad) of the census's core mode (pol, m, p) nearest the
    seed, or None where the family has no such mode."""
    try:
        modes = find_modes(cyl, pol=lab.pol, m=lab.m, p=lab.p, region="core", fsr=False, q_min=Q_MIN)
    except SearchError:
        return None
    md = min(modes, key=lambda md: abs(md.wavelength_nm - seed_nm))
    return md.wavelength_nm, md.core_fraction, md.Q_rad


def _box_lookup(cyl: LayeredCylinder, lab: Label, seed_nm: float, half_width: float):
    """(wavelength, core fraction, Q_rad) of the core root (pol, m, p) nearest the seed in a
    census box of relative half-width ``half_width`` around it (argument-principle counted), or
    None when the box holds none."""
    k = k_from_wavelength_nm(seed_nm)
    res = run_boxes(cyl, lab.pol, [lab.m], [k * (1 - half_width)], [k * (1 + half_width)], q_min=Q_MIN)
    roots = [r for r in res.roots if r.p == lab.p and r.region_index == 0]
    if not roots:
        return None
    r = min(roots, key=lambda r: abs(r.k.real - k))
    assert r.fractions is not None  # the census labels every root
    q = math.inf if r.k.imag == 0 else r.k.real / (2 * abs(r.k.imag))
    return wavelength_nm_from_k(r.k.real), float(r.fractions[0]), q


def _family(cyl: LayeredCylinder, pol: str, p: int, window_nm: tuple[float, float]) -> list[tuple[int, float, bool]]:
    """(m, wavelength nm, True) of every core mode (pol, m, p) of ``cyl`` inside the window, and
    (m, the family's smooth estimate, False) for each m in between that has no core mode of that
    label here (hybridized with a wall mode at this geometry)."""
    lo, hi = window_nm
    n_core, radius = float(cyl.indices[0].real), cyl.radii_um[0]  # real: a lossless capillary
    size_parameter = n_core * radius * k_from_wavelength_nm(0.5 * (lo + hi))
    m_c = _airy_m(size_parameter, p)
    anchor = None
    # the anchor: a tracked root from the Airy estimate if it carries the label, else the census
    candidates = [m for m in (m_c, m_c + 1, m_c - 1, m_c + 2, m_c - 2) if m >= 1]
    tracked = track_roots(cyl, pol, candidates, [_airy_x(m, p) / (n_core * radius) for m in candidates])
    q = tracked.k.real / (2 * np.abs(tracked.k.imag) + 1e-300)
    good = tracked.matches(p, 0) & (q >= Q_MIN)
    if np.any(good):
        first = int(np.argmax(good))
        anchor = (candidates[first], float(wavelength_nm_from_k(tracked.k.real[first])))
    for m in candidates if anchor is None else ():
        found = _census_lookup(cyl, Label(pol, m, p), wavelength_nm_from_k(_airy_x(m, p) / (n_core * radius)))
        if found is not None:
            anchor = (m, found[0])
            break
    if anchor is None:
        return []
    m_a, lam_a = anchor
    # the family's size parameter x(m) = n k R is smooth in m: seeds from the Airy estimate
    # calibrated at the anchor, then from a quadratic through the members already found
    known = {m_a: lam_a}
    m_lo = max(_airy_m(n_core * radius * k_from_wavelength_nm(hi), p) - 3, 1)
    m_hi = _airy_m(n_core * radius * k_from_wavelength_nm(lo), p) + 3
    ratio = k_from_wavelength_nm(lam_a) / _airy_x(m_a, p)
    near = [m for m in range(m_a - 4, m_a + 5) if m != m_a and m_lo <= m <= m_hi]
    _track_members(cyl, pol, p, near, [ratio * _airy_x(m, p) for m in near], known)
    todo = [m for m in range(m_lo, m_hi + 1) if m not in known]
    if todo and len(known) >= 3:
        ms = np.array(sorted(known))
        coef = np.polyfit(ms - m_a, k_from_wavelength_nm(np.array([known[m] for m in ms])), 2)
        _track_members(cyl, pol, p, todo, np.polyval(coef, np.array(todo) - m_a), known)
    spacing = abs(lam_a - wavelength_nm_from_k(k_from_wavelength_nm(lam_a) * _airy_x(m_a + 1, p) / _airy_x(m_a, p)))
    for m in range(m_lo, m_hi + 1):
        seed = wavelength_nm_from_k(k_from_wavelength_nm(lam_a) * _airy_x(m, p) / _airy_x(m_a, p))
        if m not in known and lo - spacing <= seed <= hi + spacing:  # a crossing (or a seed too far): the census decides
            found = _census_lookup(cyl, Label(pol, m, p), seed)
            if found is not None:
                known[m] = found[0]
    ms = np.array(sorted(known))
    smooth = np.polyfit(ms - m_a, k_from_wavelength_nm(np.array([known[m] for m in ms])), min(2, ms.size - 1))
    out = [(m, lam, True) for m, lam in known.items() if lo <= lam <= hi]
    inside = [m for m, lam in known.items() if lo <= lam <= hi]
    if inside:
        for m in range(min(inside), max(inside) + 1):
            if m not in known:
                out.append((m, float(wavelength_nm_from_k(np.polyval(smooth, m - m_a))), False))
    return sorted(out)


def _track_members(cyl, pol, p, ms, k_seed, known: dict) -> None:
    if not ms:
        return
    tracked = track_roots(cyl, pol, ms, k_seed)
    q = tracked.k.real / (2 * np.abs(tracked.k.imag) + 1e-300)
    good = tracked.matches(p, 0) & (q >= Q_MIN) & (np.abs(tracked.k.real / np.asarray(k_seed) - 1) < 2e-3)
    for m, k, ok in zip(ms, tracked.k.real, good):
        if ok:
            known[int(m)] = float(wavelength_nm_from_k(k))


def _airy_x(m: int, p: int) -> float:
    """Leading Airy estimate of n k R for the core mode (m, p)."""
    return m + airy_zero(p) * (max(m, 1) / 2) ** (1 / 3)


def _airy_m(size_parameter: float, p: int) -> int:
    """The m whose Airy estimate of n k R is nearest ``size_parameter``."""
    m = size_parameter
    for _ in range(30):
        m = size_parameter - airy_zero(p) * (max(m, 1) / 2) ** (1 / 3)
    return max(int(round(m)), 0)


def nearest_members(lam_nm: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Indices of the members whose wavelengths lie in [lo, hi]."""
    return np.nonzero((lam_nm >= lo) & (lam_nm <= hi))[0]


def wavelength_window(peaks_nm: np.ndarray, core_index: float, inner_diameter_um: float, search: float) -> tuple[float, float]:
    """Every wavelength a member near the peaks can have at the start, for a bore (or index)
    within +-search: the peaks' span stretched by the search and two FSRs either side."""
    fsr = float(np.mean(peaks_nm)) ** 2 / (math.pi * core_index * 1e3 * inner_diameter_um)
    return peaks_nm.min() / (1 + search) - 2 * fsr, peaks_nm.max() / (1 - search) + 2 * fsr
