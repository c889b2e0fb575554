"""Mode lists as a table, JSON or CSV, and atomic file output."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence

import numpy as np

from .atomic import write_text_atomically
from .exact.census import UNCERTAIN_LOSS, UNRESOLVED_LOSS
from .mode import Mode

CSV_COLUMNS = (
    "pol", "m", "p", "region", "nodes", "sibling", "wavelength_nm", "k_real", "k_imag", "Q_rad", "Q_abs", "Q_extra", "Q_total", "net_gain",
    "fsr_nm", "group_index", "core_fraction", "wall_fraction", "hybrid", "confinement_factor",
    "sensitivity_nm_per_riu", "detection_limit_riu", "threshold_gain_per_cm", "lasing_gain_per_cm", "effective_area_um2",
    "beta_per_um", "axial_curvature", "axial_group_velocity_c",
    "engine", "method", "residual", "census_ok",
)


def finite_or_none(value):
    """A record made safe for strict JSON and CSV: every non-finite float (the Q of a bound or
    lossless mode is +inf) becomes None, in nested dicts, lists and tuples; numpy scalars and
    arrays become plain Python numbers and lists.

    This is the one output convention of every JSON and CSV writer of the command line:
    JSON ``null`` / an empty CSV cell stands for an infinite value (a Q with no loss of
    that kind, or a Q beyond the double range ~1.8e308) or a quantity that was not computed.
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def json_text(record, indent: int | None = 2) -> str:
    """Strict JSON text of a plain record (dicts, lists, numbers, strings), after
    :func:`finite_or_none`: never ``NaN`` or ``Infinity`` (``allow_nan=False`` would raise)."""
    return json.dumps(finite_or_none(record), indent=indent, allow_nan=False)


def to_json(record) -> str:
    """JSON text of plain records (dicts, lists, numbers) with a final newline; non-finite
    numbers (e.g. the Q of a bound state) become null, which strict JSON readers accept."""
    return json_text(record) + "\n"


def modes_to_json(modes: Sequence[Mode], lasing_gain: bool = False) -> str:
    """A JSON list of mode records (with ``lasing_gain_per_cm`` if ``lasing_gain``)."""
    return to_json([md.to_dict(lasing_gain) for md in modes])


def modes_to_csv(modes: Sequence[Mode], lasing_gain: bool = False) -> str:
    """One CSV row per mode (with ``lasing_gain_per_cm`` if ``lasing_gain``)."""
    buffer = io.StringIO()
    columns = [c for c in CSV_COLUMNS if lasing_gain or c != "lasing_gain_per_cm"]
    extra = sorted({f"{name}_fraction" for md in modes for name in md.energy_fractions} - set(columns))
    writer = csv.DictWriter(buffer, fieldnames=columns + extra, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for md in modes:
        row = md.to_dict(lasing_gain)
        row.update(
            method=md.verification.get("method"),
            residual=md.verification.get("residual"),
            census_ok=md.verification.get("census_ok"),
        )
        writer.writerow(finite_or_none(row))
    return buffer.getvalue()


def modes_to_table(modes: Sequence[Mode]) -> str:
    """A fixed-width table for a terminal, one mode per line. A Q_total column appears when a
    loss budget is present (absorbing or gain layers, an extra loss), an S_nm/RIU column
    (bulk sensitivity to the liquid's index) when wall modes of a liquid-filled fibre are listed."""
    budget = any(math.isfinite(md.Q_abs) or math.isfinite(md.Q_extra) for md in modes)
    q_total_head = f" {'Q_total':>9}" if budget else ""
    # a sensor's question: how far the liquid moves the wall modes (~1 ms a mode)
    sensing = any(md.region != "core" and "core" in md.cylinder.names for md in modes)
    s_head = f" {'S_nm/RIU':>9}" if sensing else ""
    skew = any(md.beta_per_um for md in modes)  # axial curvature and group velocity of skew modes
    skew_head = f" {'beta/um':>7} {'alpha':>7} {'v_z/c':>8}" if skew else ""
    header = (
        f"{'pol':<3} {'m':>5} {'p':>2} {'region':<7} {'nodes':>5} {'lambda_nm':>11} {'Q_rad':>9}{q_total_head} "
        f"{'FSR_nm':>8} {'n_g':>6} {'core%':>6} {'wall%':>6}{s_head}{skew_head}  note"
    )
    lines = [header, "-" * len(header)]
    for md in modes:
        fsr = f"{md.fsr_nm:8.4f}" if md.fsr_nm else f"{'-':>8}"
        ng = f"{md.group_index:6.3f}" if md.group_index else f"{'-':>6}"
        nodes = f"{md.nodes}" + (f"/{md.sibling}" if md.sibling else "") if md.nodes is not None else "-"
        nodes = f"{nodes:>5}"
        q_total = f" {md.Q_total:9.3g}" if budget else ""
        s = f" {_sensitivity_text(md):>9}" if sensing else ""
        if skew:
            s += f" {md.beta_per_um:7.3g} {md.axial_curvature:7.4f} {md.axial_group_velocity_c:8.5f}"
        lines.append(
            f"{md.pol:<3} {md.m:>5d} {md.p:>2d} {md.region:<7} {nodes} {md.wavelength_nm:11.5f} {md.Q_rad:9.3g}{q_total} "
            f"{fsr} {ng} {100 * md.core_fraction:6.1f} {100 * md.wall_fraction:6.1f}{s}  {', '.join(mode_notes(md))}"
        )
    return "\n".join(lines) + "\n"


def _sensitivity_text(md: Mode) -> str:
    s = md.sensitivity_nm_per_riu
    return "-" if s is None else f"{s:9.3g}"


def mode_notes(md: Mode) -> list[str]:
    """Short flags of a mode for the table's note column."""
    notes = []
    if md.hybrid:
        notes.append("hybrid")
    if not md.verification.get("census_ok", True):
        notes.append("UNVERIFIED: " + str(md.verification.get("census_count")))
    if "not converged" in str(md.verification.get("method", "")):
        notes.append("root not converged")
    if UNRESOLVED_LOSS in str(md.verification.get("method", "")):
        notes.append("Q_rad a lower bound (Im k at rounding noise)")
    if UNCERTAIN_LOSS in str(md.verification.get("method", "")):
        notes.append("Q_rad uncertain (Im k near rounding noise)")
    if md.verification.get("label_unique") is False:
        notes.append("LABEL NOT UNIQUE")
    if md.verification.get("label_shared_with_nm"):
        notes.append("(m, p, region) shared: see nodes")
    if md.Q_total < 0:
        notes.append("net gain")
    if md.verification.get("region_at_beta_0"):
        notes.append(f"{md.verification['region_at_beta_0']} mode at beta = 0")
    partner = str(md.verification.get("lossless_partner", ""))
    if "ambiguous" in partner or partner.startswith("no lossless partner"):
        notes.append("labels by continuity uncertain")
    if md.engine != "exact" and md.verification.get("relative_difference_to_exact") is not None:
        notes.append(f"vs exact {md.verification['relative_difference_to_exact']:.1e}")
    if md.verification.get("spurious_pml_mode"):
        notes.append("PML mode?")
    return notes


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename,
    so a reader never sees a half-written file."""
    write_text_atomically(path, text)
