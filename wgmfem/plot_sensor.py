"""The sensor-design figure: sensitivity, Q and detection limit against the wall thickness,
one curve per (pol, p) family, the limits as dashed lines and each family's thinnest wall
that meets them as a ring. Lengths in um."""

from __future__ import annotations

import math

from .sensor import LIMITS, SensorDesign

PANELS = (
    ("sensitivity_nm_per_riu", "S (nm/RIU)"),
    ("Q", "Q"),
    ("detection_limit_riu", "detection limit (RIU)"),
)


def _family_points(design: SensorDesign, pol: str, p: int):
    return sorted((pt for pt in design.scan if pt.pol == pol and pt.p == p), key=lambda pt: pt.wall_thickness_um)


def _positive(values):
    return [(x, y) for x, y in values if y is not None and math.isfinite(y) and y > 0]


def plot_sensor_design(design: SensorDesign, axes=None):
    """Three stacked log-scale panels (S, Q_rad with Q_total dotted, detection limit) against
    the wall thickness. ``axes``: three matplotlib axes, made if not given. Returns them."""
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(3, 1, figsize=(6.5, 8.5), sharex=True)
    families = [(a.pol, a.p) for a in design.answers]
    for i, (pol, p) in enumerate(families):
        color = f"C{i % 10}"
        pts = _family_points(design, pol, p)
        walls = [pt.wall_thickness_um for pt in pts]
        series = {
            "sensitivity_nm_per_riu": [pt.sensitivity_nm_per_riu for pt in pts],
            "Q": [pt.mode.Q_rad for pt in pts],
            "detection_limit_riu": [pt.detection_limit_riu for pt in pts],
        }
        for ax, (key, _) in zip(axes, PANELS):
            xy = _positive(zip(walls, series[key]))
            if xy:
                ax.plot(*zip(*xy), "o-", ms=3, lw=1, color=color, label=f"{pol} p={p}")
        q_total = _positive(zip(walls, [pt.mode.Q_total for pt in pts]))
        if q_total and any(abs(pt.mode.Q_total - pt.mode.Q_rad) > 1e-6 * pt.mode.Q_rad for pt in pts):
            axes[1].plot(*zip(*q_total), ":", lw=1, color=color)
        answer = next(a for a in design.answers if (a.pol, a.p) == (pol, p))
        if answer.point is not None:
            best = answer.point
            for ax, key in zip(axes, ("sensitivity_nm_per_riu", "Q", "detection_limit_riu")):
                value = best.mode.Q_rad if key == "Q" else getattr(best, key)
                if value and value > 0:
                    ax.plot([best.wall_thickness_um], [value], "o", ms=9, mfc="none", color=color)
    _draw_limits(design, axes)
    for ax, (_, label) in zip(axes, PANELS):
        ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].legend(fontsize="small", ncol=2)
    axes[-1].set_xlabel("wall thickness (um)")
    pr = design.problem
    fixed = (f"bore {pr.inner_diameter_um:g} um" if pr.inner_diameter_um is not None
             else f"outer diameter {pr.outer_diameter_um:g} um")
    axes[0].set_title(f"sensor design near {pr.target_nm:g} nm, {fixed} (rings: thinnest wall meeting the limits)",
                      fontsize="medium")
    return axes


def _draw_limits(design: SensorDesign, axes) -> None:
    panel_of = {"sensitivity_nm_per_riu": 0, "Q_rad": 1, "Q_total": 1, "detection_limit_riu": 2}
    for name, value in design.limits.items():
        quantity, _ = LIMITS[name]
        if quantity in panel_of:
            axes[panel_of[quantity]].axhline(value, ls="--", lw=1, color="k", alpha=0.6)
