"""The figure of a mode assignment (:class:`wgmfem.assign.Assignment`): the labelled peaks over
the spectrum with every predicted mode of the allowed families as a tick row per family, and
the residuals of the assigned peaks below.

Draws into a matplotlib ``Figure`` (made if not given) and returns it; nothing here chooses
a backend. Wavelengths in nm, lengths in um.

Artists carry ``gid``s so that the figure can be inspected: ``peak <i>`` (an assigned peak),
``outlier <i>`` (an unassigned peak), ``label <i>`` (a peak's label), ``modes <pol> p=<p>``
(a family's tick row), ``residuals <pol>`` (the residual points of one polarization),
``sigma band``, ``spectrum``, ``legend``.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np

from .assign import Assignment

COLOURS = {"Ez": "C0", "Hz": "C3"}
OUTLIER_COLOUR = "0.45"
LABEL_Y = 1.04  # the band of peak labels starts here, above the normalized data (<= 1)
ROW_Y0, ROW_STEP, ROW_HALF = -0.16, 0.15, 0.045  # tick rows below the spectrum (data units)
LABEL_GAP_PT = 9.0  # rotated labels closer than this (points) are spread apart
LABEL_FONT = 7


def _colour(pol: str) -> str:
    return COLOURS.get(pol, "k")


def _peak_text(label) -> str:
    return f"{label.pol} {label.m}/{label.p}"


def _mode_spacing(a: Assignment) -> float:
    """Mode spacing (nm) near the peaks: lambda / m of the assigned peaks (d lambda / dm of a
    whispering-gallery family), else lambda^2 / (pi n D)."""
    ratios = [a.best.model_nm[i] / lab.m for i in range(len(a.peaks_nm))
              if (lab := a.label(i)) is not None and lab.m > 0 and np.isfinite(a.best.model_nm[i])]
    if ratios:
        return float(np.median(ratios))
    fit = a.to_dict()["fit"]
    d = fit["inner_diameter_um"]["value"] if "inner_diameter_um" in fit else fit["fixed"]["inner_diameter_um"]
    n = fit["core_index"]["value"] if "core_index" in fit else fit["fixed"]["core_index"]
    lam = float(np.median(a.peaks_nm))
    return lam**2 / (math.pi * n * d * 1e3)


def plot_window_nm(a: Assignment) -> tuple[float, float]:
    """The wavelengths (nm) whose predicted modes are drawn: the peaks' span plus one mode
    spacing on each side (the axes add 3 % of it on each side)."""
    spacing = _mode_spacing(a)
    return float(np.min(a.peaks_nm)) - spacing, float(np.max(a.peaks_nm)) + spacing


def _with_sigma(name: str, entry: dict, unit: str = "") -> str:
    """'D = 54.30013 +- 0.00023 um (+- 0.11 with labelling)'."""
    value, sigma, total = entry["value"], entry.get("sigma"), entry.get("sigma_with_labelling")
    if sigma is None or sigma <= 0:
        return f"{name} = {value:.6g}{unit}"
    decimals = max(0, 1 - math.floor(math.log10(sigma)))
    text = f"{name} = {value:.{decimals}f} +- {sigma:.2g}{unit}"
    if total is not None and total > 1.05 * sigma:
        text += f" (+- {total:.2g} with labelling)"
    return text


def default_title(a: Assignment) -> str:
    """Fitted D (and n when fitted) with their uncertainties, AMBIGUOUS when the labelling is
    not unique; second line: peaks assigned and the fit's chi^2."""
    d = a.to_dict()
    fit = d["fit"]
    parts = []
    if "inner_diameter_um" in fit:
        parts.append(_with_sigma("D", fit["inner_diameter_um"], " um"))
    else:
        parts.append(f"D = {fit['fixed']['inner_diameter_um']:g} um (fixed)")
    if "core_index" in fit:
        parts.append(_with_sigma("n", fit["core_index"]))
    first = ";  ".join(parts) + ("   AMBIGUOUS" if a.ambiguous else "")
    n_peaks = len(a.peaks_nm)
    n_out = sum(a.label(i) is None for i in range(n_peaks))
    second = f"{n_peaks} peaks: {n_peaks - n_out} assigned" + (f", {n_out} unassigned" if n_out else "")
    if fit.get("chi2") is not None:
        second += f";  chi2 {fit['chi2']:.3g} for {fit['dof']} dof"
        if fit.get("p_value") is not None:
            second += f" (p = {fit['p_value']:.2g})"
    if a.flags:
        second += ";  " + "; ".join(flag.split(":")[0] for flag in a.flags)
    lines = [first, second]
    if a.ambiguous:
        verdict = a.verdict.split(f"; {n_out} peak(s) unassigned")[0] if n_out else a.verdict
        lines.append(textwrap.fill(verdict, 110))
    return "\n".join(lines)


def _spread(x_pt: np.ndarray, gap: float) -> np.ndarray:
    """Positions (points, sorted input) moved apart to at least ``gap``, each cluster centred
    on its members' mean."""
    blocks: list[list[float]] = []  # [start, count, sum of the originals]
    for x in x_pt:
        blocks.append([x, 1, x])
        while len(blocks) > 1 and blocks[-2][0] + blocks[-2][1] * gap > blocks[-1][0]:
            start, count, total = blocks.pop()
            prev = blocks[-1]
            prev[1] += count
            prev[2] += total
            prev[0] = prev[2] / prev[1] - (prev[1] - 1) * gap / 2
    return np.concatenate([b[0] + gap * np.arange(b[1]) for b in blocks]) if blocks else np.array([])


def _axes_width_pt(fig, ax) -> float:
    return ax.get_position().width * fig.get_figwidth() * 72.0


def plot_assignment(assignment: Assignment, fig=None, spectrum=None, title: str | None = None):
    """The assignment's figure: two panels sharing the wavelength axis (nm).

    Top: the measured ``spectrum`` = (wavelength_nm, intensity), scaled to 0-1 over the plotted
    range, or without one the peaks as unit sticks. Each assigned peak is labelled ``pol m/p``
    (Ez blue, Hz red), ``?`` after the label when another explanation fits within the noise;
    each unassigned peak is a grey dashed stick with a cross, labelled ``outlier``. Below the
    spectrum one row of ticks per family (pol, p): every mode of the allowed families at the
    fitted geometry, full colour where a peak is assigned to it, pale and numbered (m) where
    none is. The range is the peaks' span plus one mode spacing on each side.

    Bottom: measured - model (nm) of the assigned peaks with +-1 sigma bars, the zero line and
    the +-sigma band when sigma is the same for all peaks; outliers are left out (noted).

    ``fig``: an empty matplotlib Figure to draw into (made if None). ``title``: default the
    fitted values (:func:`default_title`). Returns the figure.
    """
    from matplotlib.colors import to_rgba
    from matplotlib.lines import Line2D

    a = assignment
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(10, 6.8), layout="constrained")
    elif fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3.3, 1.0]})

    peaks = np.asarray(a.peaks_nm, dtype=float)
    n_peaks = peaks.size
    labels = [a.label(i) for i in range(n_peaks)]
    lo_nm, hi_nm = plot_window_nm(a)
    predicted = a.predicted_modes((lo_nm, hi_nm))
    pad = 0.03 * (hi_nm - lo_nm)  # a mode at the window's edge stays inside the axes
    x0, x1 = lo_nm - pad, hi_nm + pad

    # -- top: spectrum or sticks ------------------------------------------------------------
    if spectrum is not None:
        x, y = (np.asarray(v, dtype=float) for v in spectrum)
        order = np.argsort(x)
        x, y = x[order], y[order]
        inside = (x >= x0) & (x <= x1)
        ref = y[inside] if inside.any() else y
        lo, span = float(np.min(ref)), float(np.ptp(ref)) or 1.0
        yn = (y - lo) / span
        top.plot(x, yn, color="0.3", lw=0.9, gid="spectrum", label="spectrum (scaled to 0-1)")
        heights = np.clip(np.interp(peaks, x, yn), 0.0, 1.0)
    else:
        heights = np.ones(n_peaks)

    for i, (lam, h, lab) in enumerate(zip(peaks, heights, labels)):
        if lab is None:
            top.vlines(lam, 0, h, color=OUTLIER_COLOUR, ls="--", lw=1.1, gid=f"outlier {i}")
            top.plot([lam], [h], "x", color=OUTLIER_COLOUR, ms=6, mew=1.5)
        elif spectrum is None:
            top.vlines(lam, 0, h, color=_colour(lab.pol), lw=1.4, gid=f"peak {i}")
        else:
            top.plot([lam], [h], "v", color=_colour(lab.pol), ms=4, gid=f"peak {i}")

    # labels in a band above the data, spread apart where they would overlap
    texts = []
    for i, lab in enumerate(labels):
        doubt = "?" if a.peak_alternatives[i] else ""
        texts.append((f"{_peak_text(lab)}{doubt}", _colour(lab.pol)) if lab else (f"outlier{doubt}", OUTLIER_COLOUR))
    scale = _axes_width_pt(fig, top) * 0.85 / (x1 - x0)  # points per nm (the legend takes some width)
    order = np.argsort(peaks)
    placed = np.empty(n_peaks)
    placed[order] = _spread((peaks[order] - x0) * scale, LABEL_GAP_PT) / scale + x0
    for i in range(n_peaks):
        text, colour = texts[i]
        moved = abs(placed[i] - peaks[i]) * scale > 0.5
        top.annotate(text, (peaks[i], LABEL_Y - 0.02), xytext=(placed[i], LABEL_Y + 0.06), textcoords="data",
                     rotation=90, ha="center", va="bottom", fontsize=LABEL_FONT, color=colour, gid=f"label {i}",
                     arrowprops=dict(arrowstyle="-", lw=0.5, color=colour, shrinkA=0, shrinkB=0) if moved else None)

    # tick rows: every predicted mode, one row per family
    families = sorted({(lab.pol, lab.p) for lab, _ in predicted})
    taken = {lab for lab in labels if lab is not None}
    row_y = {fam: ROW_Y0 - k * ROW_STEP for k, fam in enumerate(families)}
    for fam in families:
        yk = row_y[fam]
        members = [(lab, lam) for lab, lam in predicted if (lab.pol, lab.p) == fam]
        colour = _colour(fam[0])
        colours = [to_rgba(colour, 1.0 if lab in taken else 0.35) for lab, _ in members]
        top.vlines([lam for _, lam in members], yk - ROW_HALF, yk + ROW_HALF, colors=colours, lw=1.6,
                   gid=f"modes {fam[0]} p={fam[1]}")
        gaps = np.diff([lam for _, lam in members])
        if not gaps.size or gaps.min() * scale > 22:  # room for the azimuthal number beside the tick
            for lab, lam in members:
                if lab not in taken:
                    top.annotate(str(lab.m), (lam, yk), xytext=(2, 0), textcoords="offset points", ha="left",
                                 va="center", fontsize=6, color=to_rgba(colour, 0.6))
    if families:
        top.axhline(ROW_Y0 + ROW_STEP / 2, color="0.85", lw=0.6)
    bottom_y = ROW_Y0 - (len(families) - 1) * ROW_STEP - 2 * ROW_HALF if families else -0.08
    # the top leaves room for the longest label (estimated from the axes' height before layout)
    text_pt = max(len(text) for text, _ in texts) * LABEL_FONT * 0.62 + 8
    ratio = min(0.6, 1.1 * text_pt / (top.get_position().height * fig.get_figheight() * 72.0))
    y_top = max(1.3, (LABEL_Y + 0.06 - bottom_y * ratio) / (1 - ratio))
    top.set_ylim(bottom_y, y_top)
    ticks = [0.0, 0.5, 1.0] + [row_y[f] for f in families]
    top.set_yticks(ticks, ["0", "0.5", "1"] + [f"{pol} p={p}" for pol, p in families])
    for tick_label, fam in zip(top.get_yticklabels()[3:], families):
        tick_label.set_color(_colour(fam[0]))
        tick_label.set_fontsize(8)
    top.set_ylabel("intensity (normalized)")
    top.set_xlim(x0, x1)

    # legend outside the axes, on the right
    handles = [h for h in top.get_lines() if h.get_gid() == "spectrum"]
    pols = sorted({lab.pol for lab in labels if lab is not None})
    for pol in pols:
        handles.append(Line2D([], [], color=_colour(pol), lw=1.4, marker="v" if spectrum is not None else None,
                              ls="none" if spectrum is not None else "-", ms=4, label=f"{pol} peak (m/p)"))
    if any(lab is None for lab in labels):
        handles.append(Line2D([], [], color=OUTLIER_COLOUR, ls="--", marker="x", ms=6, mew=1.5,
                              label="outlier (not a mode of\nthe allowed families)"))
    if any(a.peak_alternatives[i] for i in range(n_peaks)):
        handles.append(Line2D([], [], ls="none", marker="$?$", color="k", ms=6,
                              label="another explanation fits\nwithin the noise"))
    if families:
        handles.append(Line2D([], [], ls="none", marker="|", ms=9, mew=1.6, color="0.2", label="predicted mode"))
        handles.append(Line2D([], [], ls="none", marker="|", ms=9, mew=1.6, color=to_rgba("0.2", 0.35),
                              label="predicted, no peak (m)"))
    legend = top.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                        fontsize=7, frameon=False)
    legend.set_gid("legend")

    # -- bottom: residuals --------------------------------------------------------------------
    sigma = np.asarray(a.sigma_nm, dtype=float) * np.ones(n_peaks)
    assigned = np.array([lab is not None for lab in labels])
    residual = peaks - np.asarray(a.best.model_nm, dtype=float)
    for pol in pols:
        rows = np.array([lab is not None and lab.pol == pol for lab in labels])
        container = bottom.errorbar(peaks[rows], residual[rows], yerr=sigma[rows], fmt="o", ms=3.5, capsize=2,
                                    lw=1, color=_colour(pol))
        container.lines[0].set_gid(f"residuals {pol}")
    bottom.axhline(0.0, color="0.3", lw=0.8)
    uniform = bool(np.any(assigned)) and np.allclose(sigma[assigned], sigma[assigned][0], rtol=1e-9, atol=0)
    if uniform:
        s = float(sigma[assigned][0])
        bottom.axhspan(-s, s, color="0.85", alpha=0.6, lw=0, zorder=0, gid="sigma band")
    reach = np.abs(residual[assigned]) + sigma[assigned] if assigned.any() else np.array([1e-3])
    limit = max(1.25 * float(np.max(reach)), 2.0 * float(np.median(sigma)))
    bottom.set_ylim(-limit, limit)
    bottom.set_ylabel("measured - model\n(nm)", fontsize=9)
    bottom.set_xlabel("wavelength (nm)")
    note = "residuals of the assigned peaks, +-1 sigma" + (" (band: +-sigma)" if uniform else "")
    outliers = peaks[~assigned]
    if outliers.size:
        note += f";  not shown: {outliers.size} outlier(s) at " + ", ".join(f"{x:.4f}" for x in outliers) + " nm"
    bottom.set_title(note, loc="left", fontsize=7.5, color="0.3")

    fig.suptitle(default_title(a) if title is None else title, fontsize=9.5)
    return fig
