"""Parameter sweeps of a capillary: the census (or one tracked mode) at every point of a grid.

One of the inner diameter, outer diameter, wall thickness (inner diameter fixed), core index
or wall index runs over a grid; everything else is fixed. At each point either

* the *census*: every mode in a wavelength window that passes the filters of ``find_modes``
  (pol, p, region, q_min), with FSR and the per-mode quantities; the points are independent
  and run in parallel processes (or on a Dask cluster); or
* one *tracked* mode ``(pol, m, p)``, followed point after point by continuity (see
  :func:`track_point`); the points depend on each other and run in order.

The region ``auto`` (default) follows the fibre at each point: core modes where the liquid's
index is at least the wall's, wall modes where the liquid is below the glass (a ring-resonator
sensor, the liquid seeing the wall modes' evanescent tail). The sensor quantities (bulk
sensitivity, detection limit, thermal drift) are optional per-mode columns (:data:`EXTRAS`).
With ``ratio`` a swept diameter sets the other one (the whole fibre scaled).

Results are rows (plain dicts, one per mode and point; a point without modes gives one row
with ``n_modes = 0``) that :class:`SweepFile` appends to a CSV or JSON-lines file as each point
finishes, fsync'ed, so an interrupted sweep keeps every finished point and ``resume`` skips
them. Lengths in um, wavelengths in nm, sensitivities in nm/RIU, detection limits in RIU,
drift in nm/K.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import io
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import signal
import statistics
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

from .atomic import NO_LOCKS, ExclusiveLock, LockedError
from .geometry import (
    PAPER_CORE_INDEX,
    PAPER_INNER_DIAMETER_UM,
    PAPER_OUTER_DIAMETER_UM,
    PAPER_WALL_INDEX,
    MaterialStack,
    capillary_stack,
)
from .quantities import DEFAULT_RESOLVABLE_FRACTION, detection_limit_riu, sensitivity_nm_per_riu, thermal_drift_nm_per_K
from .report import finite_or_none, json_text, write_atomically
from .sensor import thermal_of
from .solve import (
    LOOKUP_Q_MIN,
    RegionWarning,
    SearchError,
    default_region,
    estimated_wavelength_nm,
    find_modes,
    guide_clause,
    region_notice,
)
from .sweep_columns import EXTRAS, GEOMETRY_COLUMNS, MODE_COLUMNS, PARAMETERS, TRACK_COLUMNS

MAX_POINTS = 100_000

SIGMA_FRACTION = 0.1  # scale of an energy-fraction change in the tracking cost
MIN_TRACK_WINDOW_NM = 0.5  # half-width of the candidate window around the predicted wavelength
MAX_THERMAL_COEFFICIENT_PER_K = 1e-2  # |dn/dT| and |expansion| beyond this are no coefficients in 1/K
#: The thermal data a drift needs: field of SweepSpec -> what it is.
THERMAL_FIELDS = {
    "core_dn_dT_per_K": "the core's dn/dT",
    "wall_dn_dT_per_K": "the wall's dn/dT",
    "expansion_per_K": "the wall's thermal expansion",
}


class SweepError(SearchError):
    """A sweep that cannot run as asked (one-line message)."""


# -- the question --------------------------------------------------------------------------


def grid(start: float, stop: float, step: float) -> tuple[float, ...]:
    """START, START + STEP, ... up to STOP inclusive (when STOP lies on the grid, within 1e-9 steps).

    Values are rounded to 12 decimals so that 1.50:1.60:0.01 gives 1.51, not 1.5100000000000002.
    """
    for value, name in ((start, "START"), (stop, "STOP"), (step, "STEP")):
        if not math.isfinite(value):
            raise SweepError(f"{name} must be a finite number, got {value}")
    if step == 0:
        raise SweepError("STEP must not be zero")
    span = (stop - start) / step
    if span < -1e-9:
        raise SweepError(f"STEP {step:g} goes away from STOP: give START:STOP:STEP with STEP of the sign of STOP - START")
    count = math.floor(span + 1e-9) + 1
    if count > MAX_POINTS:
        raise SweepError(f"{count} points is too many (at most {MAX_POINTS}); use a larger STEP")
    return tuple(round(start + i * step, 12) + 0.0 for i in range(count))


@dataclass(frozen=True)
class Track:
    """The mode followed across a tracked sweep: polarization, azimuthal number, radial order,
    and optionally the window (min, max) in nm that it starts in, at the first grid point
    (default: wherever the labelled mode lies)."""

    pol: str
    m: int
    p: int
    wavelength_nm: tuple[float, float] | None = None


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: which parameter runs over which values, the fixed fibre, and what to find.

    ``core``/``wall``/``outside`` are numbers or material names (``toluene``, a YAML path);
    the swept one must be a number. ``wall_thickness_um`` fixed (not None) makes the outer
    diameter inner + 2 * thickness; ``ratio`` (outer / inner diameter, > 1) with a swept
    diameter sets the other one from it. Defaults: the paper's capillary and the census of
    ``wgmfem modes`` (p = 1..2, 425-445 nm, both polarizations, region ``auto``: core modes
    where the liquid's index is at least the wall's, else wall modes, judged at each point;
    None = any region).

    Sensor quantities (``extras``): ``detection_limit`` is ``resolvable_fraction`` of the
    linewidth lambda / |Q_total| over the sensitivity, with ``extra_q`` (coupling, scattering)
    in Q_total; ``drift`` takes the thermo-optic coefficients and the glass's expansion (1/K)
    given here, else those of the materials (an error before any work when one is unknown).
    """

    parameter: str
    values: tuple[float, ...]
    inner_diameter_um: float = PAPER_INNER_DIAMETER_UM
    outer_diameter_um: float = PAPER_OUTER_DIAMETER_UM
    wall_thickness_um: float | None = None
    ratio: float | None = None
    core: object = PAPER_CORE_INDEX
    wall: object = PAPER_WALL_INDEX
    outside: object = 1.0
    pol: str = "both"
    wavelength_nm: tuple[float, float] | None = (425.0, 445.0)
    p: tuple[int, int] | None = (1, 2)
    region: str | None = "auto"
    q_min: float = 100.0
    fsr: bool = True
    extras: tuple[str, ...] = ()
    track: Track | None = None
    extra_q: float | None = None
    resolvable_fraction: float = DEFAULT_RESOLVABLE_FRACTION
    core_dn_dT_per_K: float | None = None
    wall_dn_dT_per_K: float | None = None
    expansion_per_K: float | None = None

    def __post_init__(self):
        if self.parameter not in PARAMETERS:
            raise SweepError(f"cannot sweep {self.parameter!r}: choose one of {', '.join(PARAMETERS)}")
        if not self.values:
            raise SweepError("the sweep has no points")
        if len(set(self.values)) != len(self.values):
            raise SweepError("the grid repeats a value")
        unknown = [e for e in self.extras if e not in EXTRAS]
        if unknown:
            raise SweepError(f"unknown quantity {unknown[0]!r}: choose from {', '.join(EXTRAS)}")
        if self.track is not None and (self.track.m < 0 or self.track.p < 1):
            raise SweepError(f"tracked mode needs m >= 0 and p >= 1, got m={self.track.m}, p={self.track.p}")
        if self.ratio is not None:
            if not (isinstance(self.ratio, (int, float)) and math.isfinite(self.ratio) and self.ratio > 1):
                raise SweepError(f"the outer/inner diameter ratio must be a number > 1, got {self.ratio!r}")
            if self.parameter not in ("inner_diameter", "outer_diameter") or self.wall_thickness_um is not None:
                raise SweepError("a fixed outer/inner diameter ratio needs a swept inner or outer diameter and no wall thickness")
        if self.extra_q is not None and not (isinstance(self.extra_q, (int, float)) and math.isfinite(self.extra_q) and self.extra_q > 0):
            raise SweepError(f"the extra Q must be a positive number, got {self.extra_q!r}")
        if not (isinstance(self.resolvable_fraction, (int, float)) and 0 < self.resolvable_fraction <= 1):
            raise SweepError(f"the resolvable fraction of a linewidth must be in (0, 1], got {self.resolvable_fraction!r}")
        for name in THERMAL_FIELDS:
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and abs(value) < MAX_THERMAL_COEFFICIENT_PER_K):
                raise SweepError(f"{name} must be a coefficient in 1/K with |value| < {MAX_THERMAL_COEFFICIENT_PER_K:g}, got {value!r}")
        for value in self.values:
            point_geometry(self, value)  # every point's fibre is checked before any work starts
        if "drift" in self.extras:
            missing = self.missing_thermal()
            if missing:
                raise SweepError(f"drift needs thermal data, unknown for this fibre: {', '.join(THERMAL_FIELDS[m] for m in missing)}; "
                                 f"give {', '.join(missing)}")

    @property
    def column(self) -> str:
        """The swept value's column, e.g. ``inner_diameter_um``."""
        return PARAMETERS[self.parameter]

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column of the table, the swept one first."""
        geometry = (self.column,) + tuple(c for c in GEOMETRY_COLUMNS if c != self.column)
        extras = tuple(EXTRAS[e] for e in self.extras)
        return geometry + ("n_modes",) + MODE_COLUMNS + extras + (TRACK_COLUMNS if self.track else ())

    def settings(self) -> dict:
        """Everything but the grid, as plain JSON (what must match to resume a file)."""
        record = asdict(self)
        del record["values"]
        swept_field = {"core": "core", "wall": "wall"}.get(self.parameter, self.column)
        record[swept_field] = None  # its fixed default does not apply
        if self.ratio is not None:  # nor that of the diameter set by the ratio
            record["outer_diameter_um" if self.parameter == "inner_diameter" else "inner_diameter_um"] = None
        for key in ("core", "wall", "outside"):
            value = record[key]
            record[key] = value if isinstance(value, (int, float, str)) else str(value)
        record["columns"] = list(self.columns)
        return json.loads(json_text(record))  # tuples -> lists, inf -> null, as they come back from a file

    def region_at(self, value: float) -> str | None:
        """The region whose modes are listed (census) or tracked at a grid point: ``region``
        itself, or for ``auto`` the one that guides light there (the tracked mode's region is
        that of the first grid point); None for any region."""
        if self.track is not None:
            value = self.values[0]
        region = self.region if self.region is not None or self.track is None else "auto"
        if region is None or region.lower() != "auto":
            return region
        cylinder = point_geometry(self, value)[0]
        return default_region(cylinder, self._judging_wavelength_nm(cylinder))

    def region_notice(self) -> str | None:
        """One line when the region needs explaining: ``auto`` choosing the wall (at some or all
        points), or the core asked for where the liquid cannot guide light. None otherwise."""
        if self.region is None and self.track is None:
            return None
        values = self.values[:1] if self.track is not None or self.parameter not in ("core", "wall") else self.values
        regions = [(value, self.region_at(value)) for value in values]
        first = point_geometry(self, values[0])[0]
        names = first.names
        if self.region is not None and self.region.lower() != "auto":
            for value, region in regions:
                cylinder = point_geometry(self, value)[0]
                notice = region_notice(cylinder, region, self._judging_wavelength_nm(cylinder))
                if notice:
                    return (f"at {self.column} = {value:g}: " if len(regions) > 1 else "") + notice
            return None
        walls = [value for value, region in regions if region != names[0]]
        if not walls:
            return None
        if self.track is not None:
            what, other = f"tracking a {names[1]} mode", f"--region {names[0]} tracks a {names[0]} mode"
        else:
            what, other = f"listing {names[1]} modes", "--region any lists every mode"
        if len(walls) < len(regions):
            where = f"{self.column} = {walls[0]:g}" if len(walls) == 1 else f"{self.column} {min(walls):g} to {max(walls):g}"
            return (f"the {names[0]}'s index is below the {names[1]}'s at {len(walls)} of {len(regions)} points "
                    f"({where}), where the {names[1]} guides the light: {what} there ({other})")
        if len(regions) > 1:  # a swept index
            return (f"the {names[0]}'s index is below the {names[1]}'s at every point, so the {names[1]} guides the light: "
                    f"{what} ({other})")
        cylinder = point_geometry(self, walls[0])[0]
        return f"{guide_clause(cylinder, names[1], self._judging_wavelength_nm(cylinder))}: {what} ({other})"

    def _judging_wavelength_nm(self, cylinder) -> float | None:
        """Where dispersive indices are compared: the window's middle (census, or a tracked mode's
        start window), else the tracked mode's estimated wavelength."""
        window = self.track.wavelength_nm if self.track is not None else self.wavelength_nm
        if window is not None:
            return 0.5 * (float(window[0]) + float(window[1]))
        if self.track is not None and isinstance(cylinder, MaterialStack):
            return estimated_wavelength_nm(cylinder, self.track.m, self.track.p, None)
        return None

    def missing_thermal(self) -> list[str]:
        """The thermal data (fields of :data:`THERMAL_FIELDS`) that neither this spec nor the
        materials give: a drift needs none missing."""
        _, _, core, wall = _fibre(self, self.values[0])
        lam = self._judging_wavelength_nm(point_geometry(self, self.values[0])[0]) or 1000.0
        return missing_thermal(core, wall, lam, **{name: getattr(self, name) for name in THERMAL_FIELDS})


def missing_thermal(core, wall, wavelength_nm: float, core_dn_dT_per_K: float | None = None,
                    wall_dn_dT_per_K: float | None = None, expansion_per_K: float | None = None) -> list[str]:
    """Which of :data:`THERMAL_FIELDS` are unknown for this core and wall (numbers or materials)
    when the given values (None: the material's) come first."""
    from .materials import thermal_data

    def of(material) -> tuple[float | None, float | None]:
        try:
            return thermal_data(material, wavelength_nm)
        except (TypeError, ValueError):  # a plain number, an unknown name
            return None, None

    known = {"core_dn_dT_per_K": of(core)[0], "wall_dn_dT_per_K": of(wall)[0], "expansion_per_K": of(wall)[1]}
    given = {"core_dn_dT_per_K": core_dn_dT_per_K, "wall_dn_dT_per_K": wall_dn_dT_per_K, "expansion_per_K": expansion_per_K}
    return [name for name in THERMAL_FIELDS if given[name] is None and known[name] is None]


def _describe_index(value):
    if isinstance(value, complex):
        return str(value)
    return value if isinstance(value, (int, float, str)) else getattr(value, "name", str(value))


def _fibre(spec: SweepSpec, value: float) -> tuple[float, float, object, object]:
    """(inner, outer, core, wall) at one grid point, lengths in um; checked."""
    inner, outer, core, wall = spec.inner_diameter_um, spec.outer_diameter_um, spec.core, spec.wall
    thickness = spec.wall_thickness_um
    if spec.parameter == "inner_diameter":
        inner = value
        if spec.ratio is not None:
            outer = value * spec.ratio
    elif spec.parameter == "outer_diameter":
        outer = value
        if spec.ratio is not None:
            inner = value / spec.ratio
    elif spec.parameter == "wall_thickness":
        thickness = value
    elif spec.parameter == "core":
        core = value
    else:
        wall = value
    if thickness is not None:
        if not thickness > 0:
            raise SweepError(f"wall thickness must be positive, got {thickness:g} um")
        outer = inner + 2 * thickness
    if not (inner > 0 and outer > inner):
        where = f" at {spec.column} = {value:g}" if spec.parameter in ("inner_diameter", "outer_diameter") else ""
        raise SweepError(f"inner diameter {inner:g} um must be positive and below the outer diameter {outer:g} um{where}")
    if spec.parameter in ("core", "wall") and not value > 0:
        raise SweepError(f"{spec.column} must be positive, got {value:g}")
    return inner, outer, core, wall


def point_geometry(spec: SweepSpec, value: float):
    """The fibre at one grid point and its geometry columns (um; indices or material names)."""
    inner, outer, core, wall = _fibre(spec, value)
    cylinder = capillary_stack(inner, outer, core, wall, spec.outside)
    columns = {
        "inner_diameter_um": inner,
        "outer_diameter_um": outer,
        "wall_thickness_um": round((outer - inner) / 2, 12),
        "core_index": _describe_index(core),
        "wall_index": _describe_index(wall),
    }
    return cylinder, columns


# -- one point -----------------------------------------------------------------------------


def mode_row(mode, extras: Iterable[str] = (), spec: SweepSpec | None = None, core=None, wall=None) -> dict:
    """The per-mode columns of one mode (non-finite numbers become None).

    The sensor extras take their settings from ``spec`` (resolvable fraction, thermal data;
    without it the defaults and no user thermal data) and, for the drift, the point's
    ``core`` and ``wall`` (numbers or materials) for the materials' thermal data.
    """
    lam_um = mode.wavelength_nm / 1000
    j = min(mode.cylinder.layer_of(mode.region), mode.cylinder.n_layers - 1)
    n_guide = complex(mode.cylinder.indices[j]).real
    row = {
        "pol": mode.pol, "m": mode.m, "p": mode.p, "region": mode.region,
        "wavelength_nm": mode.wavelength_nm, "Q_rad": mode.Q_rad, "Q_total": mode.Q_total,
        "fsr_nm": mode.fsr_nm, "group_index": mode.group_index,
        # the paper's estimate lambda^2 / (pi n D) with D the guiding layer's diameter
        "fsr_simple_nm": 1000 * lam_um**2 / (2 * math.pi * n_guide * mode.guiding_radius_um),
        "core_fraction": mode.energy_fractions.get("core", 0.0),
        "wall_fraction": mode.energy_fractions.get("wall", 0.0),
        "outside_fraction": mode.energy_fractions.get("outside", 0.0),
        "hybrid": mode.hybrid, "confinement_factor": mode.confinement_factor,
        "threshold_gain_per_cm": mode.threshold_gain_per_cm,
        "census_ok": mode.verification.get("census_ok", True),
    }
    for name in extras:
        row[EXTRAS[name]] = _extra(name, mode, spec, core, wall)
    return finite_or_none(row)


def _extra(name: str, mode, spec: SweepSpec | None, core, wall):
    """One optional per-mode quantity (:data:`EXTRAS`)."""
    if name == "sensitivity":
        return sensitivity_nm_per_riu(mode)
    if name == "detection_limit":
        fraction = spec.resolvable_fraction if spec is not None else DEFAULT_RESOLVABLE_FRACTION
        return detection_limit_riu(mode, fraction)
    if name == "drift":
        user = {k: getattr(spec, k) if spec is not None else None for k in THERMAL_FIELDS}
        thermal = thermal_of(core, wall, mode.wavelength_nm, user["core_dn_dT_per_K"], user["wall_dn_dT_per_K"], user["expansion_per_K"])
        if thermal is None:
            raise SweepError(f"drift needs thermal data: give {', '.join(THERMAL_FIELDS)} for this fibre")
        return thermal_drift_nm_per_K(mode, thermal.dn_dT_per_K, thermal.expansion_per_K)
    return getattr(mode, EXTRAS[name])


def _point_rows(spec: SweepSpec, columns: dict, rows: list[dict]) -> list[dict]:
    """Geometry columns + n_modes in front of each mode row (one empty row when there are none)."""
    lead = {spec.column: columns[spec.column], **columns, "n_modes": len(rows)}
    return [{**lead, **row} for row in rows] or [lead]


def census_point(spec: SweepSpec, value: float) -> tuple[float, list[dict]]:
    """The census at one grid point: (value, rows). Runs in a worker process or on a Dask worker."""
    cylinder, columns = point_geometry(spec, value)
    _, _, core, wall = _fibre(spec, value)
    with _quiet_regions():
        modes = find_modes(
            cylinder, pol=spec.pol, wavelength_nm=spec.wavelength_nm, p=spec.p, region=spec.region_at(value),
            q_min=spec.q_min, fsr=spec.fsr, extra_q=spec.extra_q,
        )
    return value, _point_rows(spec, columns, [mode_row(md, spec.extras, spec, core, wall) for md in modes])


@contextmanager
def _quiet_regions() -> Iterator[None]:
    """No :class:`~wgmfem.solve.RegionWarning` at each point (in each worker): the sweep's one
    notice is :meth:`SweepSpec.region_notice`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RegionWarning)
        yield


def _predict(history: list[dict], column: str, value: float) -> float | None:
    """Wavelength of the tracked mode at ``value``: the last point plus the median slope of the
    last (up to) three steps, so that one jump across an avoided crossing does not bend the line."""
    if len(history) < 2:
        return None
    recent = history[-4:]
    slopes = []
    for a, b in zip(recent, recent[1:]):
        dx = float(b[column]) - float(a[column])
        if dx:
            slopes.append((float(b["wavelength_nm"]) - float(a["wavelength_nm"])) / dx)
    last = history[-1]
    if not slopes:
        return float(last["wavelength_nm"])
    return float(last["wavelength_nm"]) + statistics.median(slopes) * (value - float(last[column]))


def track_point(spec: SweepSpec, value: float, history: list[dict]) -> tuple[float, list[dict]]:
    """The tracked mode at one grid point, given the rows where it was found before (in grid order).

    How the mode is followed: at the first point it is the labelled family member
    ``(pol, m, p)`` in the region of :meth:`SweepSpec.region_at` (``auto``: the wall when the
    liquid is below the glass there, else the core), wherever it lies or in the track's start
    window. At each later point every mode of the same
    pol and m (any region, any p, Q >= 2) is found in a window around the predicted wavelength
    (the median slope of the last three steps extrapolated; at the second point the labelled
    member's wavelength) and the candidate closest to the prediction in wavelength *and* to the
    mode's character (its energy fractions at the first point) is kept:

        cost = (dlambda / sigma)^2 + sum over core, wall, outside of (dfraction / 0.1)^2,
        sigma = max(|lambda_pred - lambda_last| / 2, 0.02 nm).

    So labels never decide. At an avoided crossing with a wall mode the tracked mode keeps its
    character: it changes branch where the other branch takes over most of it (the row then
    jumps by about the gap). When the mixing is so strong that no candidate keeps the character
    (core fraction ~0.5 everywhere), the wavelength term dominates and the mode follows the
    smoothest branch; the fraction columns show the hand-over.
    """
    cylinder, columns = point_geometry(spec, value)
    _, _, core, wall = _fibre(spec, value)
    track = spec.track
    assert track is not None  # only a tracked sweep tracks
    pol, m, p, start = track.pol, track.m, track.p, track.wavelength_nm
    region = spec.region_at(value)
    assert region is not None  # a tracked mode has a region (auto when none was given)
    with _quiet_regions():
        if not history and start is not None:  # a window the user gave: its errors are theirs
            labelled = find_modes(cylinder, pol=pol, wavelength_nm=start, m=m, p=p, region=region, q_min=LOOKUP_Q_MIN,
                                  fsr=spec.fsr, extra_q=spec.extra_q)
            labelled.sort(key=lambda md: -md.energy_fractions.get(region, 0.0))  # the clearest carrier first
        else:
            try:
                labelled = find_modes(cylinder, pol=pol, m=m, p=p, region=region, fsr=not history and spec.fsr, extra_q=spec.extra_q)
            except SearchError:
                labelled = []
    if not history:
        if not labelled:
            within = f" in {start[0]:g}-{start[1]:g} nm" if start is not None else ""
            raise SweepError(f"the tracked mode {pol} m={m} p={p} ({region}) was not found{within} at {spec.column} = {value:g}")
        row = mode_row(labelled[0], spec.extras, spec, core, wall)
        row.update(predicted_wavelength_nm=None, track_offset_nm=None)
        return value, _point_rows(spec, columns, [row])
    last = history[-1]
    last_nm = float(last["wavelength_nm"])
    predicted = _predict(history, spec.column, value)
    if predicted is None:
        predicted = labelled[0].wavelength_nm if labelled else last_nm
    sigma = max(abs(predicted - last_nm) / 2, 0.02)
    half = max(MIN_TRACK_WINDOW_NM, abs(predicted - last_nm) / 2)
    centres = [predicted] + [md.wavelength_nm for md in labelled]
    window = (min(centres) - half, max(centres) + half)
    candidates = find_modes(cylinder, pol=pol, wavelength_nm=window, m=m, region=None, p=None, q_min=min(spec.q_min, 2.0),
                            fsr=spec.fsr, extra_q=spec.extra_q)
    if not candidates:
        return value, _point_rows(spec, columns, [])

    character = history[0]  # the mode the user asked for, at the first point

    def cost(md) -> float:
        fractions = sum(
            ((md.energy_fractions.get(name, 0.0) - float(character[f"{name}_fraction"] or 0.0)) / SIGMA_FRACTION) ** 2
            for name in ("core", "wall", "outside")
        )
        return ((md.wavelength_nm - predicted) / sigma) ** 2 + fractions

    chosen = min(candidates, key=cost)
    row = mode_row(chosen, spec.extras, spec, core, wall)
    row.update(predicted_wavelength_nm=predicted, track_offset_nm=chosen.wavelength_nm - predicted)
    return value, _point_rows(spec, columns, [row])


# -- running the points --------------------------------------------------------------------


def run_points(
    spec: SweepSpec,
    values: Iterable[float],
    *,
    jobs: int | None = None,
    scheduler: str | None = None,
    history: list[dict] | None = None,
) -> Iterator[tuple[float, list[dict]]]:
    """Solve the given grid points; yields ``(value, rows)`` as each point finishes.

    Census points run in ``jobs`` worker processes (default: every core; 1 = in this
    process) or, with ``scheduler`` (a Dask scheduler address), on a Dask cluster; they
    come back in *completion* order. A tracked sweep runs in order in this process
    (``history``: rows of the tracked mode at earlier points, e.g. from a resumed file).
    """
    values = list(values)
    if spec.track is not None:
        history = [row for row in (history or []) if row.get("n_modes")]
        for value in values:
            value, rows = track_point(spec, value, history)
            if rows[0]["n_modes"]:
                history.append(rows[0])
            yield value, rows
        return
    if scheduler:
        yield from _run_on_dask(spec, values, scheduler)
        return
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or len(values) <= 1:
        for value in values:
            yield census_point(spec, value)
        return
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    with ProcessPoolExecutor(max_workers=min(jobs, len(values)), initializer=_start_worker) as pool:
        pending = {pool.submit(census_point, spec, value) for value in values}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:  # interrupted: do not start what is still queued
                future.cancel()


def _start_worker() -> None:
    """Worker initializer. Ctrl-C reaches the whole process group: the parent reports the
    interruption and keeps the finished points, and a worker ends at once and silently (one
    waiting in the pool's queue would otherwise print a traceback of its own)."""
    signal.signal(signal.SIGINT, lambda signum, frame: os._exit(130))
    _exit_with_parent()


def _exit_with_parent() -> None:
    """End this worker as soon as the process that started it is gone (say, killed), instead of
    computing queued points for no one while holding its stdout open."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])  # ready when the parent has ended
        os._exit(1)

    threading.Thread(target=watch, name="wgmfem-exit-with-parent", daemon=True).start()


def _run_on_dask(spec: SweepSpec, values: list[float], address: str):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise SweepError("--scheduler needs Dask distributed: pip install 'wgmfem[dask]'") from None
    try:
        client = Client(address)  # connect timeout: dask's distributed.comm.timeouts.connect
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"cannot reach the Dask scheduler at {address!r}: {str(exc).splitlines()[0]}") from None
    try:
        futures = client.map(census_point, [spec] * len(values), values, pure=False)
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.close()


# -- the table on disk ---------------------------------------------------------------------


def _csv_cell(text: str):
    """A CSV cell back to a Python value (what the writer wrote: repr of numbers, True/False, empty = None)."""
    if text == "":
        return None
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def encode_rows(columns: tuple[str, ...], fmt: str, rows: list[dict], header: bool = False) -> str:
    """Rows as CSV lines (``fmt='csv'``, with the header line if asked) or JSON lines (``'jsonl'``)."""
    if fmt == "jsonl":
        return "".join(json_text({c: row.get(c) for c in columns}, indent=None) + "\n" for row in rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(finite_or_none(row) for row in rows)  # inf/nan: empty cells
    return buffer.getvalue()


# -- reading a table back -------------------------------------------------------------------


class DamagedRow(ValueError):
    """A line that cannot have been written by this sweep (the message says why)."""


def _is_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond the range of a float
        return False


def _is_integer(value, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


#: What a field may hold: (test, description). Empty (None) stands for infinite or not computed.
_KINDS = {
    "number": (_is_number, "a finite number"),
    "number or empty": (lambda v: v is None or _is_number(v), "a number or empty"),
    "count": (lambda v: _is_integer(v, 0), "an integer >= 0"),
    "order": (lambda v: _is_integer(v, 1), "an integer >= 1"),
    "pol": (lambda v: v in ("Ez", "Hz"), "Ez or Hz"),
    "name": (lambda v: isinstance(v, str) and v != "", "a name"),
    "flag": (lambda v: isinstance(v, bool), "true or false"),
    "index": (lambda v: _is_number(v) or (isinstance(v, str) and v != ""), "an index or a material"),
}
#: The kind of the mode columns that are not "number or empty" (as every extra and track column).
_MODE_KINDS = {
    "pol": "pol", "m": "count", "p": "order", "region": "name", "wavelength_nm": "number",
    "hybrid": "flag", "census_ok": "flag",
}
_LEAD_COLUMNS = GEOMETRY_COLUMNS + ("n_modes",)


def _column_kind(spec: SweepSpec, column: str) -> str:
    if column in ("core_index", "wall_index") and column != spec.column:
        return "index"  # a fixed index may be a material name
    if column in GEOMETRY_COLUMNS:
        return "number"
    if column == "n_modes":
        return "count"
    return _MODE_KINDS.get(column, "number or empty")


def _check_field(spec: SweepSpec, row: dict, column: str) -> None:
    test, description = _KINDS[_column_kind(spec, column)]
    value = row[column]
    if not test(value):
        shown = "empty" if value is None else repr(value)
        raise DamagedRow(f"{column} is {shown}, not {description}")


def check_row(spec: SweepSpec, row: dict) -> None:
    """Raise :class:`DamagedRow` unless every field of ``row`` (a dict with the sweep's columns)
    is of its column's kind; in the row of a point without modes the mode columns are empty."""
    for column in _LEAD_COLUMNS:
        _check_field(spec, row, column)
    for column in spec.columns:
        if column in _LEAD_COLUMNS:
            continue
        if row["n_modes"] == 0 and row[column] is not None:
            raise DamagedRow(f"{column} is {row[column]!r} at a point without modes")
        if row["n_modes"] > 0:
            _check_field(spec, row, column)


def _geometry_mismatch(row: dict, expected: dict) -> str | None:
    """What differs between a row's geometry columns and those of its grid point, if anything."""
    for column, want in expected.items():
        got = row[column]
        if _is_number(got) and _is_number(want):
            same = math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
        else:
            same = got == want
        if not same:
            return f"{column} is {got!r}, but this sweep has {want!r} at that point"
    return None


def _is_text_start(data: bytes) -> bool:
    """Whether ``data`` can be a line of text cut anywhere (perhaps inside a UTF-8 character),
    perhaps followed by the NUL bytes a crash can leave at the end of a file."""
    data = data.rstrip(b"\0")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data)  # not final: a cut character is fine
    except UnicodeDecodeError:
        return False
    return b"\0" not in data


def _csv_cells(line: str) -> list[str] | None:
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return None


class _Grid:
    """Positions on a grid, a value matched to 1e-9 relative (as a table on disk holds it)."""

    def __init__(self, values: Iterable[float]):
        self._sorted = sorted((v, i) for i, v in enumerate(values))

    def index(self, value: float) -> int | None:
        """The position of ``value`` on the grid, or None when it is not on it."""
        k = bisect.bisect_left(self._sorted, (value, -1))
        for near, i in self._sorted[max(k - 1, 0) : k + 1]:
            if math.isclose(near, value, rel_tol=1e-9, abs_tol=1e-12):
                return i
        return None


@dataclass
class _Point:
    """The rows of one swept value as they stand together in a file, from line ``line`` on."""

    line: int
    value: float
    rows: list[dict]

    @property
    def unfinished(self) -> bool:
        """Fewer rows than their n_modes says: the last point of a file, cut short by a kill."""
        n = self.rows[0]["n_modes"]
        return all(row["n_modes"] == n for row in self.rows) and len(self.rows) < max(1, n)


def _points(column: str, rows: list[tuple[int, dict]]) -> list[_Point]:
    """Consecutive rows of one swept value, each point as appended (in one piece)."""
    points: list[_Point] = []
    for number, row in rows:
        if points and points[-1].value == row[column]:
            points[-1].rows.append(row)
        else:
            points.append(_Point(number, row[column], [row]))
    return points


# -- the table on disk ---------------------------------------------------------------------


@dataclass
class SweepFile:
    """The sweep's table on disk, appended one point at a time.

    ``format`` is ``csv`` (a header line, then rows) or ``jsonl`` (one JSON object per line).
    Each point's rows are written with one ``write``, flushed and fsync'ed, so the file is a
    valid table after every point; a kill can at worst leave a half-written last line or the
    first rows of the last point. The sweep's settings are kept beside it in
    ``<path>.settings.json`` so that a resume with different settings is refused instead of
    mixing two tables, and :meth:`locked` holds ``<path>.lock`` so that two sweeps never
    write one file.

    :meth:`resume` reads the file back strictly: every line must be a row of this sweep (each
    field of its column's kind, the geometry of its point), every point on the grid, once,
    with as many rows as its n_modes. What a kill leaves is dropped (and listed in
    ``repaired``) to be computed again; anything else is refused with a :class:`SweepError`
    naming the line, so that a damaged or foreign file never enters the table.
    """

    path: str
    spec: SweepSpec
    format: str = "csv"
    repaired: list[str] = field(default_factory=list)

    def __post_init__(self):
        if os.path.isdir(self.path):
            raise SweepError(f"{self.path} is a folder; give a file name")

    @property
    def settings_path(self) -> str:
        return self.path + ".settings.json"

    @property
    def lock_path(self) -> str:
        return self.path + ".lock"

    def settings(self) -> dict:
        return {**self.spec.settings(), "format": self.format}

    def encode(self, rows: list[dict], header: bool = False) -> str:
        return encode_rows(self.spec.columns, self.format, rows, header)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the file's lock for a ``with`` block; while another sweep holds it, SweepError.
        On a file system without locks: a warning, and the block runs unlocked."""
        lock = ExclusiveLock(self.lock_path)
        try:
            lock.acquire()
        except LockedError as exc:
            by = f" (process {exc.owner})" if exc.owner else ""
            raise SweepError(f"{self.path} is being written by another sweep{by}; wait for it to end or give another file") from None
        except OSError as exc:
            if exc.errno not in NO_LOCKS:
                raise
            warnings.warn(f"cannot lock {self.lock_path} ({exc.strerror}): make sure no other sweep writes {self.path}", stacklevel=2)
        try:
            yield
        finally:
            lock.release()

    def create(self) -> None:
        """Start a new table (header only) and its settings file, both written atomically."""
        write_atomically(self.settings_path, json_text(self.settings()) + "\n")
        write_atomically(self.path, self.encode([], header=True))

    def append(self, rows: list[dict]) -> None:
        """Append one point's rows and make them durable before returning."""
        with open(self.path, "a", encoding="utf-8", newline="") as handle:
            handle.write(self.encode(rows))
            handle.flush()
            os.fsync(handle.fileno())

    def read(self) -> list[dict]:
        """Every row in the file, each checked (a half-written last line is left out)."""
        return [row for _, row in self._rows(self._lines()[0])]

    def _refuse(self, reason: str) -> SweepError:
        return SweepError(f"cannot resume {self.path}: {reason}")

    def _lines(self) -> tuple[list[str], bool]:
        """The file's complete lines, and whether a half-written line followed them."""
        with open(self.path, "rb") as handle:
            data = handle.read()
        body, newline, tail = data.rpartition(b"\n")
        if not _is_text_start(tail):
            raise self._refuse("it ends in binary data, not text; not a sweep table?")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = body.count(b"\n", 0, exc.start) + 1
            raise self._refuse(f"line {line} is binary data, not text; not a sweep table?") from None
        return (text.split("\n") if newline else []), bool(tail)

    def _decode(self, line: str) -> dict:
        """One line as a row with exactly the sweep's columns (fields not yet checked)."""
        columns = self.spec.columns
        if self.format == "csv":
            cells = _csv_cells(line)
            if cells is None:
                raise DamagedRow("not a CSV row")
            if len(cells) != len(columns):
                raise DamagedRow(f"{len(cells)} cells, not the {len(columns)} columns of this sweep")
            return dict(zip(columns, (_csv_cell(cell) for cell in cells)))
        try:
            row = json.loads(line)
        except (ValueError, RecursionError):
            raise DamagedRow("not JSON") from None
        if not isinstance(row, dict):
            raise DamagedRow("not a JSON object")
        missing = [c for c in columns if c not in row]
        unknown = [k for k in row if k not in columns]
        if missing or unknown:
            raise DamagedRow(f"no {missing[0]}" if missing else f"{unknown[0]!r} is not a column of this sweep")
        return row

    def _rows(self, lines: list[str]) -> list[tuple[int, dict]]:
        """Every line after the header as (line number, row), each checked."""
        first = 1
        if self.format == "csv":
            if not lines or _csv_cells(lines[0]) != list(self.spec.columns):
                raise self._refuse("its columns are not those of this sweep (other settings or quantities?)")
            first = 2
        rows = []
        for number, line in enumerate(lines[first - 1 :], first):
            try:
                row = self._decode(line)
                check_row(self.spec, row)
            except DamagedRow as exc:
                raise self._refuse(f"line {number}: {exc}; fix or delete that line, or start again with --overwrite") from None
            rows.append((number, row))
        return rows

    def _check_settings(self) -> None:
        try:
            with open(self.settings_path, encoding="utf-8") as handle:
                saved = json.load(handle)
        except (OSError, ValueError, RecursionError):  # ValueError: not JSON, or not text
            saved = None
        if not isinstance(saved, dict):
            raise self._refuse(f"its settings file {self.settings_path} is missing or damaged")
        wanted = self.settings()
        if saved != wanted:
            changed = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
            raise self._refuse(f"it was made with other settings ({', '.join(changed)})")

    def _grid_value(self, point: _Point, grid: _Grid) -> float:
        """The grid value of a finished point, after checking that its rows belong there."""
        column = self.spec.column
        where = f"the point at line {point.line} ({column} = {point.value:g})"
        counts = sorted({row["n_modes"] for row in point.rows})
        if len(counts) > 1:
            raise self._refuse(f"{where}: its rows disagree on n_modes ({', '.join(map(str, counts))})")
        if len(point.rows) != max(1, counts[0]):
            raise self._refuse(f"{where} has {len(point.rows)} rows, but n_modes = {counts[0]}")
        index = grid.index(point.value)
        if index is None:
            raise self._refuse(f"{where} is not on the grid of this sweep; resume with a grid that holds it, or give another file")
        value = self.spec.values[index]
        expected = point_geometry(self.spec, value)[1]
        for number, row in enumerate(point.rows, point.line):
            problem = _geometry_mismatch(row, expected)
            if problem:
                raise self._refuse(f"line {number}: {problem}")
        return value

    def resume(self) -> dict[float, list[dict]]:
        """Check the file belongs to this sweep, drop what a kill left unfinished (rewriting the
        file atomically), and return the finished points: grid value -> rows."""
        if not os.path.exists(self.path):
            raise SweepError(f"nothing to resume: {self.path} does not exist (run without --resume)")
        self._check_settings()
        lines, half_line = self._lines()
        points = _points(self.spec.column, self._rows(lines))
        if half_line:
            self.repaired.append("a half-written last line")
        if points and points[-1].unfinished:
            cut = len(points.pop().rows)
            self.repaired.append(f"{cut} row{'s' * (cut > 1)} of an unfinished point")
        grid, done = _Grid(self.spec.values), {}
        for point in points:
            value = self._grid_value(point, grid)
            if value in done:
                raise self._refuse(f"the point {self.spec.column} = {value:g} is in it twice (the second at line {point.line})")
            done[value] = point.rows
        if self.repaired:  # keep the header and the finished points, which come first
            kept = (1 if self.format == "csv" else 0) + sum(len(rows) for rows in done.values())
            write_atomically(self.path, "".join(line + "\n" for line in lines[:kept]))
        return done

    def sort(self) -> None:
        """Rewrite the table (atomically) in grid order; rows of a point keep their order."""
        rows = self.read()
        grid = _Grid(self.spec.values)

        def position(row: dict) -> int:
            index = grid.index(row[self.spec.column])
            assert index is not None  # the rows are this sweep's own (resumed ones were checked)
            return index

        rows.sort(key=position)
        write_atomically(self.path, self.encode(rows, header=self.format == "csv"))


def remaining(spec: SweepSpec, done: Iterable[float]) -> list[float]:
    """Grid values not yet in ``done`` (matched to 1e-9 relative)."""
    grid = _Grid(spec.values)
    found = {grid.index(value) for value in done}
    return [value for i, value in enumerate(spec.values) if i not in found]


def run_sweep(
    spec: SweepSpec,
    output: SweepFile | None = None,
    *,
    resume: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    on_point: Callable[[float, list[dict], int, int], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """Run a sweep and return every row (grid order, resumed points included).

    With ``output`` each point is appended to the file as it finishes; at the end the
    file is rewritten in grid order. ``resume`` keeps the points already in the file.
    The file's lock is held from start to end: a second sweep on the same file is refused.
    ``on_point(value, rows, done, total)`` is called after each point (progress, streaming);
    ``on_start(done, total)`` once before the first point is started (``done``: resumed points).
    """
    if output is None:
        return _run(spec, None, {}, jobs, scheduler, on_point, on_start)
    with output.locked():
        if resume:
            done = output.resume()
        else:
            output.create()
            done = {}
        rows = _run(spec, output, done, jobs, scheduler, on_point, on_start)
        output.sort()
    return rows


def _run(
    spec: SweepSpec,
    output: SweepFile | None,
    done: dict[float, list[dict]],
    jobs: int | None,
    scheduler: str | None,
    on_point: Callable[[float, list[dict], int, int], None] | None,
    on_start: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """The points not in ``done`` (grid value -> rows), appended to ``output`` if any; every row in grid order."""
    todo = remaining(spec, done)
    history = None
    if spec.track is not None:  # the tracked mode at the finished points before the first one to do
        first = spec.values.index(todo[0]) if todo else len(spec.values)
        history = [done[v][0] for v in spec.values[:first] if v in done]
    results = dict(done)
    total, count = len(spec.values), len(spec.values) - len(todo)
    if on_start:
        on_start(count, total)
    for value, rows in run_points(spec, todo, jobs=jobs, scheduler=scheduler, history=history):
        if output is not None:
            output.append(rows)
        results[value] = rows
        count += 1
        if on_point:
            on_point(value, rows, count, total)
    order = {v: i for i, v in enumerate(spec.values)}
    return [row for v in sorted(results, key=order.__getitem__) for row in results[v]]
