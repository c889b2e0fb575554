"""Parameter sweeps of a capillary: the census (or one tracked mode) at every point of a grid.

One of the inner diameter, outer diameter, wall thickness (inner diameter fixed), core index
or wall index runs over a grid; everything else is fixed. At each point either

* the *census*: every mode in a wavelength window that passes the filters of ``find_modes``
  (pol, p, region, q_min), with FSR and the per-mode quantities; the points are independent
  and run in parallel processes (or on a Dask cluster); or
* one *tracked* mode ``(pol, m, p)``, followed point after point by continuity (see
  :func:`track_point`); the points depend on each other and run in order.

Results are rows (plain dicts, one per mode and point; a point without modes gives one row
with ``n_modes = 0``) that :class:`SweepFile` appends to a CSV or JSON-lines file as each point
finishes, fsync'ed, so an interrupted sweep keeps every finished point and ``resume`` skips
them. Lengths in um, wavelengths in nm.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import statistics
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field

from .geometry import PAPER_CORE_INDEX, PAPER_INNER_DIAMETER_UM, PAPER_OUTER_DIAMETER_UM, PAPER_WALL_INDEX, capillary_stack
from .report import finite_or_none, json_text, write_atomically
from .solve import SearchError, find_modes

MAX_POINTS = 100_000

#: Swept parameter -> its column in the table.
PARAMETERS = {
    "inner_diameter": "inner_diameter_um",
    "outer_diameter": "outer_diameter_um",
    "wall_thickness": "wall_thickness_um",
    "core": "core_index",
    "wall": "wall_index",
}
GEOMETRY_COLUMNS = ("inner_diameter_um", "outer_diameter_um", "wall_thickness_um", "core_index", "wall_index")
MODE_COLUMNS = (
    "pol", "m", "p", "region", "wavelength_nm", "Q_rad", "Q_total", "fsr_nm", "group_index", "fsr_simple_nm",
    "core_fraction", "wall_fraction", "outside_fraction", "hybrid", "confinement_factor", "threshold_gain_per_cm",
    "census_ok",
)
#: Optional per-mode quantities (each costs extra solves) -> column.
EXTRAS = {
    "sensitivity": "sensitivity_nm_per_riu",  # ~1 ms a mode
    "lasing_gain": "lasing_gain_per_cm",  # ~15 ms a mode
    "effective_area": "effective_area_um2",  # ~120 ms a mode
}
TRACK_COLUMNS = ("predicted_wavelength_nm", "track_offset_nm")
SIGMA_FRACTION = 0.1  # scale of an energy-fraction change in the tracking cost
MIN_TRACK_WINDOW_NM = 0.5  # half-width of the candidate window around the predicted wavelength


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
    """The mode followed across a tracked sweep: polarization, azimuthal number, radial order."""

    pol: str
    m: int
    p: int


@dataclass(frozen=True)
class SweepSpec:
    """A sweep: which parameter runs over which values, the fixed fibre, and what to find.

    ``core``/``wall``/``outside`` are numbers or material names (``toluene``, a YAML path);
    the swept one must be a number. ``wall_thickness_um`` fixed (not None) makes the outer
    diameter inner + 2 * thickness. Defaults: the paper's capillary and the census of
    ``wgmfem modes`` (core modes, p = 1..2, 425-445 nm, both polarizations).
    """

    parameter: str
    values: tuple[float, ...]
    inner_diameter_um: float = PAPER_INNER_DIAMETER_UM
    outer_diameter_um: float = PAPER_OUTER_DIAMETER_UM
    wall_thickness_um: float | None = None
    core: object = PAPER_CORE_INDEX
    wall: object = PAPER_WALL_INDEX
    outside: object = 1.0
    pol: str = "both"
    wavelength_nm: tuple[float, float] | None = (425.0, 445.0)
    p: tuple[int, int] | None = (1, 2)
    region: str | None = "core"
    q_min: float = 100.0
    fsr: bool = True
    extras: tuple[str, ...] = ()
    track: Track | None = None

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
        for value in self.values:
            point_geometry(self, value)  # every point's fibre is checked before any work starts

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
        for key in ("core", "wall", "outside"):
            value = record[key]
            record[key] = value if isinstance(value, (int, float, str)) else str(value)
        record["columns"] = list(self.columns)
        return json.loads(json_text(record))  # tuples -> lists, inf -> null, as they come back from a file


def _describe_index(value):
    if isinstance(value, complex):
        return str(value)
    return value if isinstance(value, (int, float, str)) else getattr(value, "name", str(value))


def point_geometry(spec: SweepSpec, value: float):
    """The fibre at one grid point and its geometry columns (um; indices or material names)."""
    inner, outer, core, wall = spec.inner_diameter_um, spec.outer_diameter_um, spec.core, spec.wall
    thickness = spec.wall_thickness_um
    if spec.parameter == "inner_diameter":
        inner = value
    elif spec.parameter == "outer_diameter":
        outer = value
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


def mode_row(mode, extras: Iterable[str] = ()) -> dict:
    """The per-mode columns of one mode (non-finite numbers become None)."""
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
        row[EXTRAS[name]] = getattr(mode, EXTRAS[name])
    return finite_or_none(row)


def _point_rows(spec: SweepSpec, columns: dict, rows: list[dict]) -> list[dict]:
    """Geometry columns + n_modes in front of each mode row (one empty row when there are none)."""
    lead = {spec.column: columns[spec.column], **columns, "n_modes": len(rows)}
    return [{**lead, **row} for row in rows] or [lead]


def census_point(spec: SweepSpec, value: float) -> tuple[float, list[dict]]:
    """The census at one grid point: (value, rows). Runs in a worker process or on a Dask worker."""
    cylinder, columns = point_geometry(spec, value)
    modes = find_modes(
        cylinder, pol=spec.pol, wavelength_nm=spec.wavelength_nm, p=spec.p, region=spec.region,
        q_min=spec.q_min, fsr=spec.fsr,
    )
    return value, _point_rows(spec, columns, [mode_row(md, spec.extras) for md in modes])


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
    ``(pol, m, p)`` in ``spec.region`` (default core). At each later point every mode of the same
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
    pol, m, p = spec.track.pol, spec.track.m, spec.track.p
    region = spec.region or "core"
    try:
        labelled = find_modes(cylinder, pol=pol, m=m, p=p, region=region, fsr=not history and spec.fsr)
    except SearchError:
        labelled = []
    if not history:
        if not labelled:
            raise SweepError(f"the tracked mode {pol} m={m} p={p} ({region}) was not found at {spec.column} = {value:g}")
        row = mode_row(labelled[0], spec.extras)
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
    candidates = find_modes(cylinder, pol=pol, wavelength_nm=window, m=m, region=None, p=None, q_min=min(spec.q_min, 2.0), fsr=spec.fsr)
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
    row = mode_row(chosen, spec.extras)
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

    with ProcessPoolExecutor(max_workers=min(jobs, len(values))) as pool:
        pending = {pool.submit(census_point, spec, value) for value in values}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:  # interrupted: do not start what is still queued
                future.cancel()


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


@dataclass
class SweepFile:
    """The sweep's table on disk, appended one point at a time.

    ``format`` is ``csv`` (a header line, then rows) or ``jsonl`` (one JSON object per line).
    Each point's rows are written with one ``write``, flushed and fsync'ed, so the file is a
    valid table after every point; a kill can at worst leave a half-written last line, which
    :meth:`resume` drops. The sweep's settings are kept beside it in ``<path>.settings.json``
    so that a resume with different settings is refused instead of mixing two tables.
    """

    path: str
    spec: SweepSpec
    format: str = "csv"
    repaired: list[str] = field(default_factory=list)

    @property
    def settings_path(self) -> str:
        return self.path + ".settings.json"

    def settings(self) -> dict:
        return {**self.spec.settings(), "format": self.format}

    def encode(self, rows: list[dict], header: bool = False) -> str:
        return encode_rows(self.spec.columns, self.format, rows, header)

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
        """Every complete row in the file (a half-written last line is left out)."""
        return self._parse(self._lines())[0]

    def _lines(self) -> list[str]:
        with open(self.path, encoding="utf-8", newline="") as handle:
            text = handle.read()
        lines = text.split("\n")
        if lines[-1]:
            self.repaired.append("a half-written last line")
        return lines[:-1]  # the piece after the last newline is empty or half-written

    def _parse(self, lines: list[str]) -> tuple[list[dict], list[str]]:
        if self.format == "jsonl":
            rows = []
            for line in lines:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    raise SweepError(f"{self.path}: a line in the middle is not JSON; not a sweep file?") from None
            return rows, lines
        if not lines or next(csv.reader([lines[0]])) != list(self.spec.columns):
            raise SweepError(f"{self.path}: its columns are not those of this sweep (other settings or quantities?)")
        rows = [dict(zip(self.spec.columns, (_csv_cell(c) for c in cells))) for cells in csv.reader(lines[1:])]
        return rows, lines[1:]

    def resume(self) -> dict[float, list[dict]]:
        """Check the file belongs to this sweep, drop an unfinished last point or half line
        (rewriting the file atomically), and return the finished points: value -> rows."""
        if not os.path.exists(self.path):
            raise SweepError(f"nothing to resume: {self.path} does not exist (run without --resume)")
        try:
            with open(self.settings_path, encoding="utf-8") as handle:
                saved = json.load(handle)
        except (OSError, json.JSONDecodeError):
            raise SweepError(f"cannot resume {self.path}: its settings file {self.settings_path} is missing or damaged") from None
        wanted = self.settings()
        if saved != wanted:
            changed = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
            raise SweepError(f"cannot resume {self.path}: it was made with other settings ({', '.join(changed)})")
        lines = self._lines()
        rows, data_lines = self._parse(lines)
        points: dict[float, list[dict]] = {}
        for row in rows:
            points.setdefault(float(row[self.spec.column]), []).append(row)
        complete = {v for v, rs in points.items() if len(rs) == max(1, int(rs[0]["n_modes"] or 0))}
        if len(complete) < len(points):
            self.repaired.append(f"{sum(len(points[v]) for v in points if v not in complete)} rows of an unfinished point")
        if self.repaired:
            kept = [line for line, row in zip(data_lines, rows) if float(row[self.spec.column]) in complete]
            header = [lines[0]] if self.format == "csv" else []
            write_atomically(self.path, "".join(line + "\n" for line in header + kept))
        return {v: points[v] for v in complete}

    def sort(self) -> None:
        """Rewrite the table (atomically) in grid order; rows of a point keep their order."""
        rows = self.read()
        order = {v: i for i, v in enumerate(self.spec.values)}
        rows.sort(key=lambda row: order.get(float(row[self.spec.column]), len(order)))
        write_atomically(self.path, self.encode(rows, header=self.format == "csv"))


def _lookup(points: dict[float, list[dict]], value: float) -> list[dict] | None:
    for key, rows in points.items():
        if math.isclose(key, value, rel_tol=1e-9, abs_tol=1e-12):
            return rows
    return None


def remaining(spec: SweepSpec, done: Iterable[float]) -> list[float]:
    """Grid values not yet in ``done`` (matched to 1e-9 relative)."""
    done = list(done)
    points = dict.fromkeys(done, [])
    return [v for v in spec.values if _lookup(points, v) is None]


def run_sweep(
    spec: SweepSpec,
    output: SweepFile | None = None,
    *,
    resume: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    on_point: Callable[[float, list[dict], int, int], None] | None = None,
) -> list[dict]:
    """Run a sweep and return every row (grid order, resumed points included).

    With ``output`` each point is appended to the file as it finishes; at the end the
    file is rewritten in grid order. ``resume`` keeps the points already in the file.
    ``on_point(value, rows, done, total)`` is called after each point (progress, streaming).
    """
    done: dict[float, list[dict]] = {}
    if output is not None:
        if resume:
            done = output.resume()
        else:
            output.create()
    todo = remaining(spec, done)
    history = None
    if spec.track is not None:  # the tracked mode at the finished points before the first one to do
        first = spec.values.index(todo[0]) if todo else len(spec.values)
        history = [rows[0] for rows in (_lookup(done, v) for v in spec.values[:first]) if rows]
    results = dict(done)
    total, count = len(spec.values), len(spec.values) - len(todo)
    for value, rows in run_points(spec, todo, jobs=jobs, scheduler=scheduler, history=history):
        if output is not None:
            output.append(rows)
        results[value] = rows
        count += 1
        if on_point:
            on_point(value, rows, count, total)
    if output is not None:
        output.sort()
    order = {v: i for i, v in enumerate(spec.values)}
    return [row for v in sorted(results, key=lambda v: order.get(v, len(order))) for row in results[v]]
