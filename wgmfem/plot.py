"""Plots of one mode: the radial profile and a map of the field in the cross-section.

Every function draws into a matplotlib ``ax`` (made if not given) and returns it, so
figures compose; nothing here needs a display (the CLI uses the Agg backend).
Lengths in um.
"""

from __future__ import annotations

import numpy as np

from .mode import Mode


def axes_or_new(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    return ax


def profile_window_um(mode: Mode, threshold: float = 1e-3) -> tuple[float, float]:
    """A radial window around the mode: where |u|^2 exceeds ``threshold`` of its peak,
    padded by half that width (at least 0.5 um) on each side."""
    r = np.linspace(0, mode.cylinder.outer_radius_um * 1.05, 6001)
    intensity = np.abs(mode.field(r)) ** 2
    significant = r[intensity > threshold * intensity.max()]
    lo, hi = significant.min(), significant.max()
    pad = max(0.5 * (hi - lo), 0.5)
    return max(0.0, lo - pad), hi + pad


def radial_profile(mode: Mode, r_um=None, samples: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """(r in um, |u|^2 normalized to 1 at its peak) with u = Ez or Hz."""
    if r_um is None:
        lo, hi = profile_window_um(mode)
        r_um = np.linspace(lo, hi, samples)
    r_um = np.asarray(r_um, dtype=float)
    intensity = np.abs(mode.field(r_um)) ** 2
    return r_um, intensity / intensity.max()


def mark_interfaces(ax, cylinder, r_um, ls: str = "--") -> None:
    """Vertical lines at the layer interfaces that fall inside the plotted radii."""
    for radius in cylinder.radii_um:
        if np.min(r_um) <= radius <= np.max(r_um):
            ax.axvline(radius, color="0.4", ls=ls, lw=0.8)


def draw_interfaces(ax, curves, x, y) -> None:
    """The layer interfaces across a map: each curve (xc, yc, a, b), an ellipse of semi-axes a
    along x and b along y centred on (xc, yc) (a circle when a = b), drawn as a thin black line
    where it crosses the box of the map's points ``x``, ``y`` (um); the axes keep that box."""
    x0, x1, y0, y1 = float(np.min(x)), float(np.max(x)), float(np.min(y)), float(np.max(y))
    size = max(x1 - x0, y1 - y0)
    pad = 0.02 * size
    for xc, yc, a, b in curves:
        # samples ~size/500 apart along the curve, however small the map is next to it
        t = np.linspace(0, 2 * np.pi, int(np.clip(2 * np.pi * max(a, b) / (size / 500), 400, 400_000)))
        px, py = xc + a * np.cos(t), yc + b * np.sin(t)
        if not np.any((px > x0) & (px < x1) & (py > y0) & (py < y1)):
            continue  # not in the map
        inside = (px >= x0 - pad) & (px <= x1 + pad) & (py >= y0 - pad) & (py <= y1 + pad)
        keep = inside | np.roll(inside, 1)  # the first point after each run: a NaN that breaks the line
        ax.plot(np.where(inside, px, np.nan)[keep], np.where(inside, py, np.nan)[keep], color="k", lw=0.8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


def circles(cylinder) -> list[tuple[float, float, float, float]]:
    """The concentric interfaces of ``cylinder`` as curves for :func:`draw_interfaces`."""
    return [(0.0, 0.0, r, r) for r in cylinder.radii_um]


def plot_fem_field(r_um, phi, u, fem: Mode, exact: Mode, left, right, center=(0.0, 0.0), interfaces=None):
    """A 2-D FEM field sampled on a polar grid (``u`` of shape (len(r_um), len(phi)), peak 1):
    Re u as a map on ``left`` with the layer interfaces; on ``right`` its angle-averaged |u|^2
    beside the exact concentric profile. ``interfaces``: the meshed interfaces as curves
    (xc, yc, a, b) (see :func:`draw_interfaces`; None: the concentric circles of ``exact``).
    Returns the map's image (for a colorbar), the averaged and the exact profile."""
    rr, pp = np.meshgrid(r_um, phi, indexing="ij")
    x, y = center[0] + rr * np.cos(pp), center[1] + rr * np.sin(pp)
    img = left.pcolormesh(x, y, u.real, cmap="RdBu_r", vmin=-1, vmax=1, shading="auto")
    draw_interfaces(left, circles(exact.cylinder) if interfaces is None else interfaces, x, y)
    left.set_aspect("equal")
    # a narrow sector (m ~ 600: a few um wide, ~40 um out) leaves room for few x labels
    from matplotlib.ticker import MaxNLocator

    left.xaxis.set_major_locator(MaxNLocator(2))
    left.yaxis.set_major_locator(MaxNLocator(6, steps=[1, 2, 2.5, 5, 10]))
    left.set_xlabel("x (um)")
    left.set_ylabel("y (um)")
    left.set_title(f"Re {fem.pol} (2-D FEM): {fem.label()}")
    intensity = np.nanmean(np.abs(u) ** 2, axis=1)
    intensity /= np.nanmax(intensity)
    ref = np.abs(exact.field(r_um)) ** 2
    ref /= ref.max()
    right.plot(r_um, intensity, color="C0", lw=1.5, label="2-D FEM (angle average)")
    right.plot(r_um, ref, color="k", ls="--", lw=1, label="exact, concentric")
    mark_interfaces(right, exact.cylinder, r_um, ls=":")
    right.set_xlabel("r (um)")
    right.set_ylabel(f"|{fem.pol}|^2 (normalized)")
    right.set_title(f"{fem.wavelength_nm:.4f} nm (exact {exact.wavelength_nm:.4f} nm)")
    right.legend(fontsize=8)
    return img, intensity, ref


def plot_radial_profile(mode: Mode, ax=None, r_um=None, log: bool = False):
    """Normalized |Ez|^2 or |Hz|^2 against r (``log``: on a log scale), interfaces dashed.
    Default r: the field map's radial window."""
    ax = axes_or_new(ax)
    if r_um is None:
        r_um = np.linspace(*profile_window_um(mode, threshold=LOG_FLOOR if log else MAP_THRESHOLD), 2000)
    r, intensity = radial_profile(mode, r_um)
    if log:
        ax.semilogy(r, np.maximum(intensity, LOG_FLOOR / 10), color="C0", lw=1.2)
    else:
        ax.plot(r, intensity, color="C0", lw=1.5)
    mark_interfaces(ax, mode.cylinder, r)
    ax.set_xlabel("r (um)")
    ax.set_ylabel(f"|{mode.pol}|^2 (normalized)")
    ax.set_title(f"{mode.label()}, {mode.wavelength_nm:.4f} nm")
    ax.set_xlim(r.min(), r.max())
    ax.set_ylim(*((LOG_FLOOR / 10, 2) if log else (0, 1.05)))
    return ax


MAP_THRESHOLD = 5e-2  # the linear map shows where |u|^2 exceeds this fraction of its peak (--log: the tails)
LOG_FLOOR = 1e-6  # the log map shows |u|^2 down to this fraction of its peak
MAX_MAP_PERIODS = 30


def map_periods(mode: Mode, window_um: tuple[float, float]) -> float:
    """Azimuthal periods that make the map about as wide (along the arc) as it is deep."""
    if mode.m == 0:
        return 1.0
    lo, hi = window_um
    radius = 0.5 * (lo + hi)
    period_um = 2 * np.pi * radius / mode.m
    return float(np.clip((hi - lo) / period_um, 1.0, min(MAX_MAP_PERIODS, mode.m)))


def field_map(mode: Mode, periods: float | None = None, log: bool = False, radial_samples: int = 400,
              angular_samples: int = 600):
    """The field on a polar grid: Re[u(r) exp(i m phi)] (peak 1), or with ``log`` log10 of
    |u|^2 / max (down to ``LOG_FLOOR``). The radial window holds |u|^2 above ``MAP_THRESHOLD``
    (``LOG_FLOOR`` with ``log``) of its peak; ``periods`` azimuthal periods (2 pi / m each; default:
    a map about as wide as deep), the sector centred on the +y axis; m = 0: the whole disk.

    Returns (x_um, y_um, value) arrays for ``pcolormesh``.
    """
    lo, hi = profile_window_um(mode, threshold=LOG_FLOOR if log else MAP_THRESHOLD)
    periods = map_periods(mode, (lo, hi)) if periods is None else periods
    r = np.linspace(lo, hi, radial_samples)
    span = 2 * np.pi if mode.m == 0 else min(2 * np.pi, periods * 2 * np.pi / mode.m)
    phi = np.pi / 2 + np.linspace(-span / 2, span / 2, angular_samples)
    radial = mode.field(r)
    rr, pp = np.meshgrid(r, phi, indexing="ij")
    if log:
        intensity = np.abs(radial) ** 2
        value = np.log10(np.maximum(intensity / intensity.max(), LOG_FLOOR))[:, None] * np.ones_like(pp)
    else:
        value = np.real(radial[:, None] * np.exp(1j * mode.m * (phi[None, :] - np.pi / 2)))
        value = value / np.abs(value).max()
    return rr * np.cos(pp), rr * np.sin(pp), value


def plot_field_map(mode: Mode, ax=None, periods: float | None = None, log: bool = False):
    """A sector of the cross-section at equal aspect with the field and the interfaces (the
    COMSOL-style map): Re u, or log10 |u|^2 with ``log``."""
    from matplotlib.ticker import MaxNLocator

    ax = axes_or_new(ax)
    x, y, value = field_map(mode, periods, log)
    if log:
        mesh = ax.pcolormesh(x, y, value, cmap="magma", vmin=np.log10(LOG_FLOOR), vmax=0, shading="auto")
        label = f"log10 |{mode.pol}|^2 (peak 0)"
    else:
        mesh = ax.pcolormesh(x, y, value, cmap="RdBu_r", vmin=-1, vmax=1, shading="auto")
        label = f"Re {mode.pol} (peak 1)"
    draw_interfaces(ax, circles(mode.cylinder), x, y)
    ax.set_aspect("equal")
    ax.xaxis.set_major_locator(MaxNLocator(4))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    ax.set_xlabel("x (um)")
    ax.set_ylabel("y (um)")
    ax.set_title(f"{mode.label()}: {'log ' if log else ''}field map", fontsize=10)
    bar = ax.figure.colorbar(mesh, ax=ax, shrink=0.85)
    bar.set_label(label)
    return ax


def plot_assigned_spectrum(peaks_nm, labels, ax=None, spectrum=None, model_nm=None, title=None):
    """A measured spectrum (or, without one, the peaks as unit sticks) with each peak's mode label
    (e.g. ``Ez 589/1`` = pol, m / p) and, when given, the fitted model wavelengths as ticks.

    ``spectrum`` is (wavelength_nm, intensity); ``labels`` one string per peak. Wavelengths in nm.
    """
    ax = axes_or_new(ax)
    peaks_nm = np.asarray(peaks_nm, dtype=float)
    if spectrum is not None:
        x, y = (np.asarray(v, dtype=float) for v in spectrum)
        scale = y.max() if y.max() > 0 else 1.0
        ax.plot(x, y / scale, color="0.3", lw=0.9, label="spectrum")
        heights = np.interp(peaks_nm, x, y / scale)
    else:
        heights = np.ones_like(peaks_nm)
        ax.vlines(peaks_nm, 0, heights, color="0.3", lw=1.2, label="peaks")
    colours = {"Ez": "C0", "Hz": "C3"}
    for lam, h, text in zip(peaks_nm, heights, labels):
        ax.annotate(text, (lam, h), xytext=(0, 4), textcoords="offset points", rotation=90,
                    ha="center", va="bottom", fontsize=7, color=colours.get(text.split()[0], "k"))
    if model_nm is not None:
        ax.plot(model_nm, np.zeros_like(np.asarray(model_nm, dtype=float)), "|", color="C2", ms=14, mew=1.5,
                label="fitted modes")
    ax.set_xlabel("wavelength (nm)")
    ax.set_ylabel("intensity (normalized)")
    ax.set_ylim(-0.08, 1.45)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=8)
    return ax
