"""Radii (and optionally the core index) of a capillary along its axis z.

A profile comes from a CSV file (:func:`read_profile`) or from a built-in shape
around a uniform capillary (:func:`profile_from_spec`). Lengths in um; the
heights of the built-in shapes are given in nm because they are small (a bottle
resonator is a few nm of radius variation over ~100 um).
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..geometry import MIN_LENGTH_UM

#: Fewest samples along z.
MIN_POINTS = 3
#: Samples of a built-in shape (the step gets more when its edges need them).
SPEC_POINTS = 401
#: Width w (um) of the step's edges, radius change ~ tanh(z / w): 12% to 88% over 2.2 w.
STEP_EDGE_UM = 2.0
#: Largest sample spacing across a step edge, in edge widths.
STEP_EDGE_SAMPLING = 0.25
NM_PER_UM = 1e3

REQUIRED_COLUMNS = ("z_um", "r_in_um", "r_out_um")
OPTIONAL_COLUMNS = ("core_index",)
SPEC_FORMS = (
    "parabolic:HEIGHT_NM:HALF_LENGTH_UM",
    "gaussian:HEIGHT_NM:WIDTH_UM",
    "taper:DELTA_NM:LENGTH_UM",
    "step:HEIGHT_NM:LENGTH_UM",
)
SPEC_HELP = ", ".join(SPEC_FORMS) + " (optionally followed by :inner=NM)"


class ProfileError(ValueError):
    """The axial profile is malformed (the message is one line)."""


@dataclass(frozen=True)
class AxialProfile:
    """Inner and outer radius (um) along z (um); core_index (real or complex) if it varies."""

    z_um: np.ndarray
    r_in_um: np.ndarray
    r_out_um: np.ndarray
    core_index: np.ndarray | None = None

    def __post_init__(self):
        # frozen: the arrays are normalized through object.__setattr__
        for name in ("z_um", "r_in_um", "r_out_um"):
            object.__setattr__(self, name, _float_column(getattr(self, name), name))
        if self.core_index is not None:
            index = np.asarray(self.core_index, dtype=complex)
            object.__setattr__(self, "core_index", index.real if np.all(index.imag == 0) else index)
        _validate(self)

    @property
    def num_points(self) -> int:
        return len(self.z_um)


def _float_column(values, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"{name} must be numbers: {exc}") from None
    if arr.ndim != 1:
        raise ProfileError(f"{name} must be a 1-D array, got shape {arr.shape}")
    return arr


#: the narrowest open bore (um; the shortest length a fibre takes): a radius below it is a rounding
#: of 0 (write 0 where the bore is closed)
MIN_BORE_UM = MIN_LENGTH_UM


def _validate(profile: AxialProfile) -> None:
    z, r_in, r_out, index = profile.z_um, profile.r_in_um, profile.r_out_um, profile.core_index
    columns = {"z_um": z, "r_in_um": r_in, "r_out_um": r_out}
    if index is not None:
        columns["core_index"] = index
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise ProfileError(f"{', '.join(columns)} must have the same length, got {[len(v) for v in columns.values()]}")
    if len(z) < MIN_POINTS:
        raise ProfileError(f"a profile needs at least {MIN_POINTS} points along z, got {len(z)}")
    for name, values in columns.items():
        if not np.all(np.isfinite(values)):
            raise ProfileError(f"{name} contains NaN or inf (row {int(np.argmin(np.isfinite(values)))})")
    steps = np.diff(z)
    if not np.all(steps > 0):
        i = int(np.argmin(steps > 0))
        raise ProfileError(f"z_um must be strictly increasing (row {i + 1}: {z[i + 1]} after {z[i]})")
    if not np.all(r_out > 0):
        i = int(np.argmin(r_out > 0))
        raise ProfileError(f"r_out_um must be positive (z = {z[i]} um: {r_out[i]})")
    open_or_closed = (r_in == 0) | (r_in >= MIN_BORE_UM)
    if not np.all(open_or_closed):
        i = int(np.argmin(open_or_closed))
        raise ProfileError(f"r_in_um must be positive (at least {MIN_BORE_UM:g} um), or 0 where the bore is closed "
                           f"(z = {z[i]} um: {r_in[i]})")
    if not np.all(r_in < r_out):
        i = int(np.argmin(r_in < r_out))
        raise ProfileError(f"r_in_um must be smaller than r_out_um everywhere (z = {z[i]} um: {r_in[i]} >= {r_out[i]})")
    if index is not None and not np.all(np.real(index) > 0):
        i = int(np.argmin(np.real(index) > 0))
        raise ProfileError(f"core_index must have a positive real part (z = {z[i]} um: {index[i]})")


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------
def _data_lines(path: Path):
    """(line number, text) of the lines that are neither blank nor # comments."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ProfileError(f"cannot read profile {path}: {exc.strerror or exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def _header(fields: list[str], where: str) -> list[str]:
    names = [f.strip() for f in fields]
    unknown = [n for n in names if n not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ProfileError(
            f"{where}: unknown column(s) {', '.join(unknown)}; the header names are "
            f"{', '.join(REQUIRED_COLUMNS)}[, {', '.join(OPTIONAL_COLUMNS)}]"
        )
    missing = [n for n in REQUIRED_COLUMNS if n not in names]
    if missing:
        raise ProfileError(f"{where}: the header lacks {', '.join(missing)} (a header line naming the columns is required)")
    if len(set(names)) != len(names):
        raise ProfileError(f"{where}: a column is named twice in the header")
    return names


def _parse_value(text: str, column: str, where: str):
    try:
        return complex(text.replace(" ", "")) if column == "core_index" else float(text)
    except ValueError:
        raise ProfileError(f"{where}: {column} = {text.strip()!r} is not a number") from None


def read_profile(path) -> AxialProfile:
    """Read a CSV profile: a header naming z_um, r_in_um, r_out_um[, core_index] (any order).

    Blank lines and lines starting with # are skipped. core_index may be complex
    (Python notation, 1.56+1e-8j).
    """
    path = Path(path)
    lines = list(_data_lines(path))
    if not lines:
        raise ProfileError(f"{path}: no header and no data")
    header_number, header_text = lines[0]
    names = _header(next(csv.reader([header_text])), f"{path}:{header_number}")
    columns: dict[str, list] = {n: [] for n in names}
    for number, text in lines[1:]:
        where = f"{path}:{number}"
        fields = next(csv.reader([text]))
        if len(fields) != len(names):
            raise ProfileError(f"{where}: {len(fields)} values for {len(names)} columns")
        for name, field in zip(names, fields):
            columns[name].append(_parse_value(field, name, where))
    try:
        return AxialProfile(
            z_um=np.array(columns["z_um"]),
            r_in_um=np.array(columns["r_in_um"]),
            r_out_um=np.array(columns["r_out_um"]),
            core_index=np.array(columns["core_index"]) if "core_index" in columns else None,
        )
    except ProfileError as exc:
        raise ProfileError(f"{path}: {exc}") from None


# --------------------------------------------------------------------------
# built-in shapes
# --------------------------------------------------------------------------
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_SPEC = re.compile(rf"^(parabolic|gaussian|taper|step):({_NUMBER}):({_NUMBER})(?::inner=({_NUMBER}))?$")


def _shape(kind: str, length_um: float) -> tuple[np.ndarray, np.ndarray]:
    """Sample positions z (um) and the shape (0..1 times the height) of a built-in profile."""
    if kind == "parabolic":  # half-length L: 1 - (z/L)^2 inside |z| <= L
        z = np.linspace(-1.5 * length_um, 1.5 * length_um, SPEC_POINTS)
        return z, np.clip(1.0 - (z / length_um) ** 2, 0.0, None)
    if kind == "gaussian":  # width W: exp(-z^2 / (2 W^2))
        z = np.linspace(-6.0 * length_um, 6.0 * length_um, SPEC_POINTS)
        return z, np.exp(-0.5 * (z / length_um) ** 2)
    if kind == "taper":  # linear from 0 at z = -L/2 to 1 at z = L/2
        z = np.linspace(-length_um, length_um, SPEC_POINTS)
        return z, np.clip(z / length_um + 0.5, 0.0, 1.0)
    # step: a section |z| <= L/2 with tanh edges; uniform stretches of max(L/2, 10 w) beyond
    half_span = 0.5 * length_um + max(0.5 * length_um, 10.0 * STEP_EDGE_UM)
    points = max(SPEC_POINTS, math.ceil(2.0 * half_span / (STEP_EDGE_SAMPLING * STEP_EDGE_UM)) + 1)
    z = np.linspace(-half_span, half_span, points)
    edges = np.tanh((z + 0.5 * length_um) / STEP_EDGE_UM) - np.tanh((z - 0.5 * length_um) / STEP_EDGE_UM)
    return z, 0.5 * edges


def profile_from_spec(spec: str, inner_radius_um: float, outer_radius_um: float) -> AxialProfile:
    """A built-in profile around the uniform capillary (inner_radius_um, outer_radius_um).

    Forms (heights in nm, lengths in um, negative heights make a neck):

    * ``parabolic:HEIGHT_NM:HALF_LENGTH_UM``: raised by HEIGHT (1 - (z/L)^2) for |z| <= L,
      uniform beyond; z in [-1.5 L, 1.5 L].
    * ``gaussian:HEIGHT_NM:WIDTH_UM``: raised by HEIGHT exp(-z^2 / (2 W^2)); z in [-6 W, 6 W].
    * ``taper:DELTA_NM:LENGTH_UM``: changes linearly by DELTA from z = -L/2 to L/2,
      uniform beyond; z in [-L, L].
    * ``step:HEIGHT_NM:LENGTH_UM``: the section |z| <= L/2 raised by HEIGHT, edges
      tanh(z / STEP_EDGE_UM) (2 um); z over the section and max(L/2, 10 edge widths) each side.

    ``:inner=NM`` at the end raises the inner radius by NM instead of HEIGHT (same shape).
    SPEC_POINTS (401) samples; the step gets more if its edges would have fewer than
    4 samples per edge width.
    """
    match = _SPEC.match(spec.strip().lower())
    if match is None:
        raise ProfileError(f"bad profile spec {spec!r}; accepted forms: {SPEC_HELP}")
    kind, height_text, length_text, inner_text = match.groups()
    height_nm, length_um = float(height_text), float(length_text)
    inner_nm = height_nm if inner_text is None else float(inner_text)
    if not (math.isfinite(length_um) and length_um > 0):
        raise ProfileError(f"bad profile spec {spec!r}: the length must be positive um; accepted forms: {SPEC_HELP}")
    if not (math.isfinite(height_nm) and math.isfinite(inner_nm)):
        raise ProfileError(f"bad profile spec {spec!r}: heights must be finite nm; accepted forms: {SPEC_HELP}")
    z, shape = _shape(kind, length_um)
    return AxialProfile(
        z_um=z,
        r_in_um=inner_radius_um + inner_nm / NM_PER_UM * shape,
        r_out_um=outer_radius_um + height_nm / NM_PER_UM * shape,
    )
