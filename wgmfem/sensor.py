"""Designing a capillary ring-resonator sensor: the wall thickness that trades sensitivity
against Q.

A liquid below the glass index (water, ethanol, serum) guides no light; the wall does, and the
liquid sees the evanescent tail of the wall modes. Thinning the wall pulls the mode into the
liquid: the bulk sensitivity S = d lambda / d n_liquid grows steeply (from ~1e-4 to ~100 nm/RIU
between a 6 um and a 2 um wall near 1550 nm) while the radiation Q falls. The design variable
is the wall thickness at a fixed bore (or a fixed outer diameter).

:func:`scan_wall_thickness` solves every (pol, p) family of the chosen region on a grid of wall
thicknesses: at each point, the mode of the family nearest the target wavelength, with S, Q_rad,
Q_total, FSR, the detection limit and the thermal drift (:mod:`wgmfem.quantities`).
:func:`thinnest_walls` answers the design question "the thinnest wall that meets these limits"
per family: the grid brackets the thinnest feasible wall, bisection refines it.

Lengths in um, wavelengths in nm, sensitivities in nm/RIU, detection limits in RIU, drift in nm/K.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .geometry import GeometryError, capillary_stack
from .mode import Mode
from .quantities import DEFAULT_RESOLVABLE_FRACTION, detection_limit_riu, sensitivity_nm_per_riu, thermal_drift_nm_per_K
from .solve import SearchError, default_region, find_modes

DEFAULT_WALL_RANGE_UM = (1.0, 8.0)
DEFAULT_POINTS = 15
BISECTION_STEPS = 6  # the grid step shrinks 64-fold
MAX_POINTS = 400
# a thinner wall pulls the family's mode into the liquid (or pushes it out into the outer
# medium) until no region holds 80 % of its energy (a hybrid, not reported as a member of
# the family), or it leaks below the census floor
FAMILY_ENDS = "the family ends (no mode of it holds 80 % of its energy in the region with Q_rad >= 100)"
SENSOR_Q_MIN = 100.0  # radiation Q below which a resonance is no sensor (the census stays shallow)

#: limit name -> (the quantity it bounds, "min" or "max")
LIMITS = {
    "min_sensitivity": ("sensitivity_nm_per_riu", "min"),
    "min_q_rad": ("Q_rad", "min"),
    "min_q_total": ("Q_total", "min"),
    "min_fsr": ("fsr_nm", "min"),
    "max_detection_limit": ("detection_limit_riu", "max"),
    "max_drift": ("abs_drift_nm_per_K", "max"),
}


class SensorDesignError(ValueError):
    """The sensor design question is malformed or cannot be answered (one-line message)."""


@dataclass
class Thermal:
    """Thermo-optic coefficients (1/K) by layer name and the glass's linear expansion (1/K)."""

    dn_dT_per_K: dict[str, float]
    expansion_per_K: float


@dataclass
class SensorPoint:
    """One (pol, p) family's mode nearest the target at one wall thickness."""

    wall_thickness_um: float
    inner_diameter_um: float
    pol: str
    p: int
    mode: Mode
    sensitivity_nm_per_riu: float
    detection_limit_riu: float | None
    drift_nm_per_K: float | None

    @property
    def outer_diameter_um(self) -> float:
        return self.inner_diameter_um + 2 * self.wall_thickness_um

    def value(self, quantity: str) -> float | None:
        if quantity == "abs_drift_nm_per_K":
            return None if self.drift_nm_per_K is None else abs(self.drift_nm_per_K)
        if quantity in ("sensitivity_nm_per_riu", "detection_limit_riu"):
            return getattr(self, quantity)
        return getattr(self.mode, quantity)

    def margins(self, limits: dict[str, float]) -> dict[str, float]:
        """ln(value / limit) for a minimum, ln(limit / value) for a maximum: >= 0 meets it."""
        out = {}
        for name, limit in limits.items():
            quantity, kind = LIMITS[name]
            value = self.value(quantity)
            if value is None or not value > 0:
                out[name] = -math.inf if kind == "min" or value is None else math.inf
            else:
                out[name] = math.log(value / limit) if kind == "min" else math.log(limit / value)
        return out

    def feasible(self, limits: dict[str, float]) -> bool:
        return all(v >= 0 for v in self.margins(limits).values())

    def to_dict(self) -> dict:
        md = self.mode
        return {
            "wall_thickness_um": self.wall_thickness_um, "inner_diameter_um": self.inner_diameter_um,
            "outer_diameter_um": self.outer_diameter_um, "pol": self.pol, "p": self.p, "m": md.m,
            "region": md.region, "wavelength_nm": md.wavelength_nm, "Q_rad": md.Q_rad, "Q_total": md.Q_total,
            "fsr_nm": md.fsr_nm, "core_fraction": md.core_fraction,
            "sensitivity_nm_per_riu": self.sensitivity_nm_per_riu,
            "detection_limit_riu": self.detection_limit_riu, "drift_nm_per_K": self.drift_nm_per_K,
        }


@dataclass
class SensorProblem:
    """The fixed part of a sensor design: fibre, target and what each point reports."""

    target_nm: float
    core: object
    wall: object
    outside: object = 1.0
    inner_diameter_um: float | None = None  # fixed bore ...
    outer_diameter_um: float | None = None  # ... or fixed outer diameter
    pols: tuple[str, ...] = ("Ez", "Hz")
    p: tuple[int, int] = (1, 2)
    region: str = "auto"
    extra_q: float | None = None
    resolvable_fraction: float = DEFAULT_RESOLVABLE_FRACTION
    thermal: Thermal | None = None

    def geometry(self, wall_um: float):
        if self.inner_diameter_um is not None:
            bore = self.inner_diameter_um
        else:
            assert self.outer_diameter_um is not None  # one of the two diameters is fixed (_wall_grid)
            bore = self.outer_diameter_um - 2 * wall_um
        if not bore > 0:
            raise SensorDesignError(f"a {wall_um:g} um wall leaves no bore in a {self.outer_diameter_um:g} um fibre")
        return bore, capillary_stack(bore, bore + 2 * wall_um, self.core, self.wall, self.outside)

    def points_at(self, wall_um: float, pols=None, ps=None) -> list[SensorPoint]:
        """Every (pol, p) family's mode nearest the target at this wall thickness."""
        bore, cyl = self.geometry(wall_um)
        region = self.resolved_region(cyl)
        outer_um = bore + 2 * wall_um
        n_wall = _real_index(self.wall, self.target_nm)
        fsr_nm = self.target_nm**2 / (math.pi * outer_um * 1e3 * n_wall)
        window = (self.target_nm - 0.6 * fsr_nm, self.target_nm + 0.6 * fsr_nm)
        p_range = ps or self.p
        points = []
        for pol in pols or self.pols:
            modes = find_modes(cyl, pol=pol, wavelength_nm=window, p=p_range, region=region, q_min=SENSOR_Q_MIN,
                               fsr=True, extra_q=self.extra_q)
            for p in range(p_range[0], p_range[1] + 1):
                family = [md for md in modes if md.p == p and not md.hybrid]
                if family:
                    md = min(family, key=lambda x: abs(x.wavelength_nm - self.target_nm))
                    points.append(self._point(wall_um, bore, md))
        return points

    def resolved_region(self, cyl) -> str:
        return default_region(cyl, self.target_nm) if self.region == "auto" else self.region

    def _point(self, wall_um, bore, md: Mode) -> SensorPoint:
        s = sensitivity_nm_per_riu(md)
        dl = detection_limit_riu(md, self.resolvable_fraction)
        drift = None
        if self.thermal is not None:
            drift = thermal_drift_nm_per_K(md, self.thermal.dn_dT_per_K, self.thermal.expansion_per_K)
        return SensorPoint(wall_um, bore, md.pol, md.p, md, s, dl, drift)


def thermal_of(core, wall, wavelength_nm: float, core_dn_dT=None, wall_dn_dT=None, expansion=None) -> Thermal | None:
    """Thermal data from the materials (built-ins carry it) with the user's values first;
    None when a coefficient is unknown."""
    from .materials import thermal_data

    def of(material):
        try:
            return thermal_data(material, wavelength_nm)
        except (TypeError, ValueError):
            return None, None

    core_known, _ = of(core)
    wall_known, wall_expansion = of(wall)
    values = (
        core_dn_dT if core_dn_dT is not None else core_known,
        wall_dn_dT if wall_dn_dT is not None else wall_known,
        expansion if expansion is not None else wall_expansion,
    )
    if any(v is None for v in values):
        return None
    return Thermal({"core": values[0], "wall": values[1]}, values[2])


def _real_index(material, wavelength_nm: float) -> float:
    from .materials import get_material

    return float(np.real(get_material(material).index(wavelength_nm)))


@dataclass
class WallAnswer:
    """The thinnest wall of one (pol, p) family that meets the limits (or the closest point)."""

    pol: str
    p: int
    point: SensorPoint | None  # at the thinnest feasible wall; None if no point meets the limits
    closest: SensorPoint | None  # when none does: the scanned point with the best smallest margin
    margins: dict[str, float] = field(default_factory=dict)
    at_range_start: bool = False  # the thinnest wall scanned meets the limits: thinner ones may too
    limited_by: str = ""  # what a slightly thinner wall fails (limit names, or FAMILY_ENDS)

    @property
    def feasible(self) -> bool:
        return self.point is not None

    def to_dict(self) -> dict:
        best = self.point or self.closest
        return {
            "pol": self.pol, "p": self.p, "feasible": self.feasible,
            "thinnest_wall_um": self.point.wall_thickness_um if self.point else None,
            "at_range_start": self.at_range_start, "limited_by": self.limited_by or None,
            "point": best.to_dict() if best else None, "margins": self.margins,
        }


@dataclass
class SensorDesign:
    problem: SensorProblem
    limits: dict[str, float]
    scan: list[SensorPoint]
    answers: list[WallAnswer]
    walls_um: list[float]

    @property
    def best(self) -> WallAnswer | None:
        """The thinnest wall over all families meeting the limits."""
        ok = [(a.point.wall_thickness_um, a) for a in self.answers if a.point is not None]  # the feasible ones
        return min(ok, key=lambda pair: pair[0])[1] if ok else None

    def to_dict(self) -> dict:
        pr = self.problem
        best = self.best
        return {
            "target_nm": pr.target_nm, "limits": self.limits, "region": pr.region,
            "fixed": {"inner_diameter_um": pr.inner_diameter_um} if pr.inner_diameter_um is not None
            else {"outer_diameter_um": pr.outer_diameter_um},
            "resolvable_fraction": pr.resolvable_fraction, "extra_q": pr.extra_q,
            "thermal": None if pr.thermal is None else {"dn_dT_per_K": pr.thermal.dn_dT_per_K,
                                                        "expansion_per_K": pr.thermal.expansion_per_K},
            "feasible": best is not None,
            "best": best.to_dict() if best else None,
            "families": [a.to_dict() for a in self.answers],
            "scan": [pt.to_dict() for pt in self.scan],
        }


def check_limits(limits: dict[str, float | None]) -> dict[str, float]:
    given = {}
    for name, value in limits.items():
        if value is None:
            continue
        if name not in LIMITS:
            raise SensorDesignError(f"unknown limit {name!r}; limits are {', '.join(LIMITS)}")
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise SensorDesignError(f"the {name.replace('_', ' ')} limit must be a positive number, got {value!r}")
        given[name] = float(value)
    return given


def scan_wall_thickness(problem: SensorProblem, walls_um, progress: Callable[[str, int, int], None] | None = None) -> list[SensorPoint]:
    """Every family's point at every wall thickness of the grid."""
    scan = []
    for i, wall_um in enumerate(walls_um, 1):
        try:
            scan.extend(problem.points_at(float(wall_um)))
        except (SearchError, GeometryError) as exc:
            raise SensorDesignError(f"at a {wall_um:g} um wall: {str(exc).splitlines()[0]}") from None
        if progress:
            progress("wall scan", i, len(walls_um))
    return scan


def design_sensor(problem: SensorProblem, limits: dict[str, float | None], wall_range_um=DEFAULT_WALL_RANGE_UM,
                  points: int = DEFAULT_POINTS, progress=None) -> SensorDesign:
    """The thinnest wall per (pol, p) family that meets ``limits`` (see :data:`LIMITS`)."""
    checked = check_limits(limits)
    if problem.region not in ("auto", "core", "wall"):
        raise SensorDesignError(f"a sensor's modes live in the core or the wall: region core, wall or auto, got {problem.region!r}")
    walls = _wall_grid(problem, wall_range_um, points)
    if problem.thermal is None and "max_drift" in checked:
        raise SensorDesignError("a drift limit needs dn/dT of the liquid and the glass and the glass's expansion "
                                "(built-in materials carry them; or give them as numbers)")
    scan = scan_wall_thickness(problem, walls, progress)
    answers = [_thinnest(problem, checked, pol, p, scan, [float(w) for w in walls])
               for pol in problem.pols for p in range(problem.p[0], problem.p[1] + 1)]
    return SensorDesign(problem, checked, scan, answers, [float(w) for w in walls])


def _wall_grid(problem: SensorProblem, wall_range_um, points: int) -> np.ndarray:
    lo, hi = (float(v) for v in wall_range_um)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise SensorDesignError(f"wall thickness range must be MIN:MAX um with 0 < MIN < MAX, got {lo:g}:{hi:g}")
    if not (2 <= points <= MAX_POINTS):
        raise SensorDesignError(f"give 2 to {MAX_POINTS} wall thicknesses, got {points}")
    if (problem.inner_diameter_um is None) == (problem.outer_diameter_um is None):
        raise SensorDesignError("fix either the inner or the outer diameter")
    fixed = problem.inner_diameter_um if problem.inner_diameter_um is not None else problem.outer_diameter_um
    assert fixed is not None  # exactly one is fixed (checked just above)
    if not (math.isfinite(fixed) and fixed > 0):
        raise SensorDesignError(f"the fixed diameter must be a positive number of um, got {fixed!r}")
    if problem.outer_diameter_um is not None and 2 * hi >= problem.outer_diameter_um:
        raise SensorDesignError(f"walls up to {hi:g} um leave no bore in a {problem.outer_diameter_um:g} um fibre: "
                                "give a wall-thickness range below half the outer diameter")
    return np.linspace(lo, hi, points)


def _thinnest(problem, limits, pol, p, scan, walls: list[float]) -> WallAnswer:
    """The thinnest feasible wall of one family: the grid brackets it, bisection refines it.

    A family can vanish at the thin end of the range (its mode merges into the liquid's leaky
    resonances); then the wall where it appears is bracketed first, so that a feasible band
    narrower than the grid step next to that edge is not missed.
    """
    family = {pt.wall_thickness_um: pt for pt in scan if pt.pol == pol and pt.p == p}

    def probe(wall_um):
        found = [pt for pt in problem.points_at(wall_um, pols=(pol,), ps=(p, p)) if pt.p == p]
        return found[0] if found else None

    present = [w for w in walls if w in family]
    if present and present[0] > walls[0] and not family[present[0]].feasible(limits):
        absent = max(w for w in walls if w < present[0])
        thin, thick = absent, present[0]
        for _ in range(BISECTION_STEPS):
            mid = 0.5 * (thin + thick)
            point = probe(mid)
            if point is None:
                thin = mid
            else:
                thick = mid
                family[mid] = point
    ordered = [family[w] for w in sorted(family)]
    ok = [pt for pt in ordered if pt.feasible(limits)]
    if not ok:  # a feasible band may fit between two grid points failing opposite limits
        bands = (_band_between(a, b, limits, probe) for a, b in zip(ordered, ordered[1:]))
        found = next((pt for pt in bands if pt is not None), None)  # stops at the first band
        ok = [found] if found is not None else []
    if not ok:
        closest = max(ordered, key=lambda pt: min(pt.margins(limits).values(), default=0.0), default=None)
        return WallAnswer(pol, p, None, closest, closest.margins(limits) if closest else {})
    best = ok[0]
    thinner = [w for w in set(walls) | set(family) if w < best.wall_thickness_um]
    limited_by = ""
    if thinner:  # the thinner neighbour fails, or the family is absent there: bisect between the two
        thin, thick = max(thinner), best.wall_thickness_um
        limited_by = _why_not(family.get(thin), limits)
        for _ in range(BISECTION_STEPS):
            mid = 0.5 * (thin + thick)
            point = probe(mid)
            if point is not None and point.feasible(limits):
                thick, best = mid, point
            else:
                thin, limited_by = mid, _why_not(point, limits)
    return WallAnswer(pol, p, best, None, best.margins(limits), at_range_start=best.wall_thickness_um == walls[0],
                      limited_by=limited_by)


def _why_not(point: SensorPoint | None, limits) -> str:
    """What a thinner wall fails: the limits by name, or the family's end as a wall mode."""
    if point is None:
        return FAMILY_ENDS
    return ", ".join(sorted(_failing(point, limits)))


def _failing(point: SensorPoint, limits) -> set[str]:
    return {name for name, margin in point.margins(limits).items() if margin < 0}


def _band_between(thin: SensorPoint, thick: SensorPoint, limits, probe) -> SensorPoint | None:
    """A feasible point between two walls that fail disjoint sets of limits (e.g. Q too low
    at the thin one, S too low at the thick one), by bisection on which side's limits fail;
    None if there is none at the bisection's resolution."""
    fail_thin, fail_thick = _failing(thin, limits), _failing(thick, limits)
    if not fail_thin or not fail_thick or fail_thin & fail_thick:
        return None
    a, b = thin.wall_thickness_um, thick.wall_thickness_um
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (a + b)
        point = probe(mid)
        if point is None:
            return None
        failing = _failing(point, limits)
        if not failing:
            return point
        if failing <= fail_thin:
            a = mid
        elif failing <= fail_thick:
            b = mid
        else:
            return None
    return None
