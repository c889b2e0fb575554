"""The inverse question: which capillary (inner and outer diameter) puts a p = 1 core mode at a
target wavelength with a free spectral range, Q and confinement that meet given limits.

Lengths in um, wavelengths in nm.

Why a scan and not a formula: FSR ~ lambda^2 / (pi n_g D) bounds the bore from above, but the
radiation Q of a core mode depends on the wall thickness (measured here, 1.56 core, 1.47 wall,
air, 440 nm: a *thick* wall leaks once the outer surface lies beyond the radius m / k where the
mode can propagate in air - Q ~ 2e4 at D = 39.5 um with a 20 um wall - while a 1 um wall
gave Q ~ 1e18 at D = 14 um; which way it goes depends on the indices) and jumps
by orders of magnitude where it crosses a wall mode (the two mix: docs/theory.md section 6), and the confinement drops
near those crossings. So every point of a grid of bores x wall thicknesses is solved exactly
(the p = 1 core mode nearest the target, its FSR from m +- 1), the best are then *tuned*: the
bore is scaled (wall thickness kept) until that same mode sits on the target wavelength, and
re-solved there; a design is reported only if it still meets every limit after tuning.

Margins are ln(value / limit) for each given limit (about the fractional margin: 0.1 = 10 %
above). A design's score is its smallest margin; designs are ranked by score, best first (the
one furthest from failing its tightest limit). Wall thickness and bore ranges are hard limits of
the search; their margins (distance to the range ends, um) are reported, not scored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .geometry import GeometryError, capillary_stack
from .mode import Mode
from .polarization import normalize_pols
from .solve import SearchError, find_modes

DEFAULT_WALL_UM = (2.0, 20.0)
DEFAULT_GRID = (16, 5)  # bores x wall thicknesses
TUNE_ROUNDS = 3


class DesignError(ValueError):
    """The design question is malformed (the message is one line)."""


@dataclass
class Design:
    """One candidate capillary and its design mode (the p = 1 core mode nearest the target)."""

    inner_diameter_um: float
    wall_thickness_um: float
    mode: Mode | None
    margins: dict[str, float] = field(default_factory=dict)  # ln(value / limit) per scored limit
    range_margins_um: dict[str, float] = field(default_factory=dict)
    tuned: bool = False
    note: str = ""

    @property
    def outer_diameter_um(self) -> float:
        return self.inner_diameter_um + 2 * self.wall_thickness_um

    @property
    def score(self) -> float:
        return min(self.margins.values()) if self.margins else -math.inf

    @property
    def feasible(self) -> bool:
        return self.mode is not None and all(v >= 0 for v in self.margins.values())

    def to_dict(self) -> dict:
        md = self.mode
        record = {
            "inner_diameter_um": self.inner_diameter_um,
            "outer_diameter_um": self.outer_diameter_um,
            "wall_thickness_um": self.wall_thickness_um,
            "feasible": self.feasible,
            "score": self.score if self.margins else None,
            "margins": dict(self.margins),
            "range_margins_um": dict(self.range_margins_um),
            "tuned_to_target": self.tuned,
            "note": self.note,
        }
        if md is not None:
            record.update(
                pol=md.pol, m=md.m, p=md.p, region=md.region, wavelength_nm=md.wavelength_nm,
                fsr_nm=md.fsr_nm, group_index=md.group_index, Q_rad=md.Q_rad, Q_total=md.Q_total,
                confinement_factor=md.confinement_factor, hybrid=md.hybrid,
            )
        return record


@dataclass
class DesignResult:
    target_nm: float
    limits: dict[str, float]
    designs: list[Design]  # feasible, tuned, best first
    closest: list[Design]  # when nothing is feasible: the best scores found (negative margins)
    scanned: int
    grid: dict

    @property
    def feasible(self) -> bool:
        return bool(self.designs)

    def to_dict(self) -> dict:
        return {
            "target_nm": self.target_nm,
            "limits": self.limits,
            "feasible": self.feasible,
            "designs": [d.to_dict() for d in self.designs],
            "closest": [d.to_dict() for d in self.closest],
            "geometries_scanned": self.scanned,
            "grid": self.grid,
            "ranking": "by score = the smallest margin ln(value / limit) over the given limits, best first",
        }


def design_capillaries(
    target_nm: float,
    *,
    pol: str = "Ez",
    core=1.56,
    wall=1.47,
    outside=1.0,
    min_fsr_nm: float | None = None,
    min_q: float | None = None,
    min_confinement: float | None = None,
    wall_thickness_um: tuple[float, float] = DEFAULT_WALL_UM,
    inner_diameter_um: tuple[float, float] | None = None,
    grid: tuple[int, int] = DEFAULT_GRID,
    top: int = 5,
    progress: Callable[[str, int, int], None] | None = None,
) -> DesignResult:
    """Capillaries whose p = 1 core mode nearest ``target_nm`` meets the limits, best first.

    Parameters
    ----------
    target_nm : the wavelength the design mode should sit on (nm).
    pol : ``'Ez'`` or ``'Hz'``.
    core, wall, outside : indices or material names (e.g. ``'toluene'``, ``'fused-silica'``).
    min_fsr_nm : smallest free spectral range of the design mode's family (nm).
    min_q : smallest Q_total (radiation and, with a complex index, absorption).
    min_confinement : smallest fraction of the electric energy in the core (0-1).
    wall_thickness_um : (min, max) wall thickness scanned, um.
    inner_diameter_um : (min, max) bore scanned, um; default up to the largest bore the FSR
        allows (lambda^2 / (pi n_core FSR): the phase index, so an upper bound) or 150 um,
        down to a fifth of that (at least 5 um).
    grid : number of bores (geometric spacing) and wall thicknesses (linear) scanned.
    top : how many designs are tuned and returned.
    """
    limits = _check(target_nm, min_fsr_nm, min_q, min_confinement, wall_thickness_um, inner_diameter_um, grid, top)
    try:
        (pol,) = normalize_pols(pol)
    except ValueError:
        raise DesignError(f"give one polarization, Ez or Hz (TM = Ez, TE = Hz), got {pol!r}") from None
    n_core = _index_near(core, target_nm)
    if inner_diameter_um is None:
        d_hi = target_nm**2 / (math.pi * n_core * min_fsr_nm * 1e3) if min_fsr_nm else 150.0
        inner_diameter_um = (max(5.0, d_hi / 5), d_hi)
    d_lo, d_hi = inner_diameter_um
    if d_hi <= 2 * target_nm / 1e3:
        raise DesignError(f"the FSR limit allows no bore above {d_hi:.2g} um: no whispering-gallery mode fits")
    bores = np.geomspace(d_lo, d_hi, grid[0]) if grid[0] > 1 else np.array([d_hi])
    walls = np.linspace(*wall_thickness_um, grid[1]) if grid[1] > 1 else np.array([np.mean(wall_thickness_um)])

    scanned = []
    total = bores.size * walls.size
    for i, (d, t) in enumerate(((d, t) for d in bores for t in walls), 1):
        scanned.append(_evaluate(float(d), float(t), target_nm, pol, core, wall, outside, limits, wall_thickness_um, inner_diameter_um))
        if progress:
            progress("scan", i, total)
    scanned.sort(key=lambda x: x.score, reverse=True)

    designs = []
    for i, cand in enumerate([c for c in scanned if c.feasible][: 2 * top], 1):
        tuned = _tune(cand, target_nm, pol, core, wall, outside, limits, wall_thickness_um, inner_diameter_um)
        if tuned.feasible:
            designs.append(tuned)
        if progress:
            progress("tune", i, min(2 * top, sum(c.feasible for c in scanned)))
        if len(designs) == top:
            break
    designs.sort(key=lambda x: x.score, reverse=True)
    closest = [] if designs else [c for c in scanned if c.mode is not None][:3]
    grid_info = {"inner_diameter_um": [float(bores[0]), float(bores[-1]), int(bores.size)],
                 "wall_thickness_um": [float(walls[0]), float(walls[-1]), int(walls.size)]}
    return DesignResult(target_nm, limits, designs, closest, total, grid_info)


def _check(target_nm, min_fsr_nm, min_q, min_confinement, wall_um, bore_um, grid, top) -> dict:
    if not (isinstance(target_nm, (int, float)) and math.isfinite(target_nm) and target_nm > 0):
        raise DesignError(f"target wavelength must be a positive number of nm, got {target_nm!r}")
    limits = {}
    for name, value in (("fsr_nm", min_fsr_nm), ("Q", min_q), ("confinement", min_confinement)):
        if value is None:
            continue
        if not (math.isfinite(value) and value > 0):
            raise DesignError(f"the {name} limit must be a positive number, got {value!r}")
        limits[name] = float(value)
    if not limits:
        raise DesignError("give at least one limit: minimum FSR, minimum Q or minimum confinement")
    if limits.get("confinement", 0) >= 1:
        raise DesignError(f"minimum confinement is a fraction below 1, got {min_confinement}")
    for what, rng in (("wall thickness", wall_um), ("inner diameter", bore_um)):
        if rng is None:
            continue
        lo, hi = rng
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
            raise DesignError(f"{what} range must be MIN:MAX um with 0 < MIN <= MAX, got {lo}:{hi}")
    if not (grid[0] >= 1 and grid[1] >= 1 and grid[0] * grid[1] <= 5000):
        raise DesignError(f"grid must be at least 1 x 1 and at most 5000 points, got {grid[0]} x {grid[1]}")
    if top < 1:
        raise DesignError("ask for at least one design")
    return limits


def _index_near(material, wavelength_nm) -> float:
    from .materials import get_material

    if isinstance(material, (int, float, complex)):
        return complex(material).real
    try:
        return complex(get_material(material).index(wavelength_nm)).real
    except ValueError as exc:
        raise DesignError(str(exc).splitlines()[0]) from None


def design_mode(cyl, target_nm: float, pol: str) -> Mode | None:
    """The p = 1 core mode nearest ``target_nm`` (within about half an FSR of it), or None."""
    n = _index_near(cyl.materials[0], target_nm) if hasattr(cyl, "materials") else complex(cyl.indices[0]).real
    fsr = target_nm**2 / (math.pi * n * 2e3 * cyl.radii_um[0])
    window = (target_nm - 0.6 * fsr, target_nm + 0.6 * fsr)
    modes = find_modes(cyl, pol=pol, wavelength_nm=window, p=1, region="core", q_min=2.0, fsr=True)
    return min(modes, key=lambda md: abs(md.wavelength_nm - target_nm)) if modes else None


def _evaluate(d, t, target_nm, pol, core, wall, outside, limits, wall_um, bore_um) -> Design:
    try:
        cyl = capillary_stack(d, d + 2 * t, core, wall, outside)
        md = design_mode(cyl, target_nm, pol)
    except (SearchError, GeometryError) as exc:
        return Design(d, t, None, note=f"not solved: {exc}")
    if md is None:
        return Design(d, t, None, note="no p = 1 core mode with Q >= 2 near the target")
    return _evaluate_mode(d, t, md, limits, wall_um, bore_um)


def _tune(cand: Design, target_nm, pol, core, wall, outside, limits, wall_um, bore_um) -> Design:
    """Scale the bore (wall thickness kept) until the same (m, p = 1) core mode sits on the target."""
    assert cand.mode is not None  # a feasible design has its mode
    d, t, m = cand.inner_diameter_um, cand.wall_thickness_um, cand.mode.m
    lam = cand.mode.wavelength_nm
    best = cand
    for _ in range(TUNE_ROUNDS):
        d = d * target_nm / lam  # core-mode wavelengths scale with the bore
        try:
            cyl = capillary_stack(d, d + 2 * t, core, wall, outside)
            md = find_modes(cyl, pol=pol, m=m, p=1, region="core", fsr=True)[0]
        except (SearchError, GeometryError, IndexError):
            break
        lam = md.wavelength_nm
        best = _evaluate_mode(d, t, md, limits, wall_um, bore_um)
        if abs(lam - target_nm) < 1e-6 * target_nm:
            break
    assert best.mode is not None  # cand or a design evaluated on a mode
    best.tuned = best is not cand and abs(best.mode.wavelength_nm - target_nm) < 1e-4 * target_nm
    if not best.tuned:
        best.note = "could not tune the mode onto the target; reported as scanned"
    return best


def _evaluate_mode(d, t, md, limits, wall_um, bore_um) -> Design:
    """Margins ln(value / limit) of the mode against each limit, and the distances to the range ends."""
    design = Design(d, t, md)
    values = {"fsr_nm": md.fsr_nm, "Q": md.Q_total, "confinement": md.confinement_factor}
    for name, limit in limits.items():
        value = values[name]
        design.margins[name] = math.log(value / limit) if value and value > 0 else -math.inf
    design.range_margins_um = {"wall_thickness": min(t - wall_um[0], wall_um[1] - t),
                               "inner_diameter": min(d - bore_um[0], bore_um[1] - d)}
    return design
