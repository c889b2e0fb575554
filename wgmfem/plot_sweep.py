"""Plots of a sweep table (rows as written by :mod:`wgmfem.sweep`): wavelength, FSR, Q,
confinement and the sensor quantities (sensitivity, detection limit, thermal drift) against
the swept parameter.

Every function draws into a matplotlib ``ax`` (made if not given) and returns it; modes are
grouped by family (pol, p, region), one colour each. Lengths in um, wavelengths in nm.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict

from .plot import axes_or_new

LABELS = {
    "inner_diameter_um": "inner diameter D (um)",
    "outer_diameter_um": "outer diameter (um)",
    "wall_thickness_um": "wall thickness (um)",
    "core_index": "core index",
    "wall_index": "wall index",
}


def _number(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def families(rows: list[dict]) -> dict[tuple, list[dict]]:
    """Mode rows grouped by (pol, p, region), in a stable order; empty points left out."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        if row.get("n_modes"):
            groups[(row["pol"], row["p"], row["region"])].append(row)
    return dict(sorted(groups.items(), key=lambda item: tuple(str(x) for x in item[0])))


def _scatter(rows, column, key, ax, transform=None, connect=False):
    """One colour per (pol, p, region) family; with ``connect``, lines join points of the same
    azimuthal number m only (a line across m would look like one mode moving)."""
    for i, ((pol, p, region), group) in enumerate(families(rows).items()):
        by_m: dict = defaultdict(list)
        for r in group:
            x, y = _number(r[column]), _number(r.get(key))
            if x is not None and y is not None:
                by_m[r.get("m")].append((transform(x, r) if transform else x, y))
        if not by_m:
            continue
        style = dict(color=f"C{i % 10}", label=f"{pol} p={p} {region}")
        for pairs in by_m.values():
            xs, ys = zip(*sorted(pairs))
            if connect:
                ax.plot(xs, ys, "o-", ms=3, lw=1, **style)
            else:
                ax.plot(xs, ys, "o", ms=2.5, alpha=0.7, **style)
            style.pop("label", None)  # one legend entry per family
    if ax.lines:
        ax.legend(fontsize="small", markerscale=2)
    return ax


def _tracked(rows) -> bool:
    return any("track_offset_nm" in row for row in rows)


def plot_wavelength(rows: list[dict], column: str, ax=None):
    """Resonance wavelength against the swept parameter."""
    ax = axes_or_new(ax)
    _scatter(rows, column, "wavelength_nm", ax, connect=_tracked(rows))
    ax.set_xlabel(LABELS.get(column, column))
    ax.set_ylabel("wavelength (nm)")
    ax.set_title("resonance wavelength")
    return ax


def plot_fsr(rows: list[dict], column: str, ax=None):
    """FSR from the exact m +- 1 neighbours, and the simple lambda^2 / (pi n D) beside it.

    For a diameter or wall sweep the abscissa is 1/D, D the diameter of each mode's guiding
    layer (the inner diameter for core modes), where the simple formula is a line through 0;
    for an index sweep it is the swept index.
    """
    ax = axes_or_new(ax)
    by_length = column.endswith("_um")

    def inverse_d(x, row):
        d = _number(row["outer_diameter_um"] if row["region"] == "wall" else row["inner_diameter_um"])
        return 1 / d

    transform = inverse_d if by_length else None
    _scatter(rows, column, "fsr_nm", ax, transform=transform, connect=_tracked(rows))
    simple = defaultdict(list)  # the simple formula at each point, over that point's modes
    for row in rows:
        x, y = _number(row.get(column)), _number(row.get("fsr_simple_nm"))
        if row.get("n_modes") and x is not None and y is not None:
            simple[transform(x, row) if transform else x].append(y)
    if simple:
        xs = sorted(simple)
        ax.plot(xs, [statistics.median(simple[x]) for x in xs], "k--", lw=1.2, label="lambda^2 / (pi n D), median of each point")
        ax.legend(fontsize="small", markerscale=2)
    ax.set_xlabel("1 / D (1/um)" if by_length else LABELS.get(column, column))
    ax.set_ylabel("FSR (nm)")
    ax.set_title("free spectral range: exact (m +- 1) and simple formula")
    return ax


def plot_q(rows: list[dict], column: str, ax=None):
    """Radiation Q against the swept parameter (log scale)."""
    ax = axes_or_new(ax)
    _scatter(rows, column, "Q_rad", ax, connect=_tracked(rows))
    if ax.lines:
        ax.set_yscale("log")
    ax.set_xlabel(LABELS.get(column, column))
    ax.set_ylabel("Q_rad")
    ax.set_title("radiation Q")
    return ax


def plot_confinement(rows: list[dict], column: str, ax=None):
    """Confinement factor (energy fraction in the core) against the swept parameter."""
    ax = axes_or_new(ax)
    _scatter(rows, column, "confinement_factor", ax, connect=_tracked(rows))
    ax.set_xlabel(LABELS.get(column, column))
    ax.set_ylabel("confinement factor (core energy fraction)")
    ax.set_ylim(0, 1.02)
    ax.set_title("confinement in the core")
    return ax


def _log_if_positive(ax, rows: list[dict], key: str) -> None:
    """A log y axis when every value of ``key`` drawn is positive (they span decades)."""
    values = [_number(row.get(key)) for row in rows if row.get("n_modes")]
    drawn = [v for v in values if v is not None]
    if drawn and ax.lines and all(v > 0 for v in drawn):
        ax.set_yscale("log")


def _plot_quantity(rows: list[dict], column: str, key: str, ylabel: str, title: str, ax=None):
    """One per-mode quantity against the swept parameter, log y when every value is positive."""
    ax = axes_or_new(ax)
    _scatter(rows, column, key, ax, connect=_tracked(rows))
    _log_if_positive(ax, rows, key)
    ax.set_xlabel(LABELS.get(column, column))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def plot_sensitivity(rows: list[dict], column: str, ax=None):
    """Bulk sensitivity d lambda / d n_core (nm/RIU) against the swept parameter."""
    return _plot_quantity(rows, column, "sensitivity_nm_per_riu", "sensitivity (nm / RIU)",
                          "bulk sensitivity d lambda / d n_core", ax)


def plot_detection_limit(rows: list[dict], column: str, ax=None):
    """Detection limit (RIU): the smallest change of the core's index that moves the resonance
    by the resolved fraction of its linewidth."""
    return _plot_quantity(rows, column, "detection_limit_riu", "detection limit (RIU)",
                          "detection limit: fraction of a linewidth / (Q S)", ax)


def plot_drift(rows: list[dict], column: str, ax=None):
    """Thermal drift d lambda / dT (nm/K) against the swept parameter."""
    ax = axes_or_new(ax)
    _scatter(rows, column, "drift_nm_per_K", ax, connect=_tracked(rows))
    values = [v for v in (_number(row.get("drift_nm_per_K")) for row in rows if row.get("n_modes")) if v is not None]
    if values and min(values) < 0 < max(values):  # the drift changes sign: mark zero
        ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_xlabel(LABELS.get(column, column))
    ax.set_ylabel("thermal drift (nm / K)")
    ax.set_title("thermal drift d lambda / dT")
    return ax


#: figure name -> plot function.
PLOTS = {
    "wavelength": plot_wavelength,
    "fsr": plot_fsr,
    "q": plot_q,
    "confinement": plot_confinement,
    "sensitivity": plot_sensitivity,
    "detection_limit": plot_detection_limit,
    "drift": plot_drift,
}
#: figures drawn only when their column has values -> the column.
OPTIONAL_PLOTS = {
    "sensitivity": "sensitivity_nm_per_riu",
    "detection_limit": "detection_limit_riu",
    "drift": "drift_nm_per_K",
}


def available_plots(rows: list[dict]) -> list[str]:
    """The plots a table can fill (a sensor quantity only when it was computed)."""
    return [
        name for name in PLOTS
        if name not in OPTIONAL_PLOTS or any(_number(row.get(OPTIONAL_PLOTS[name])) is not None for row in rows)
    ]
