"""The figure of a synthetic spectrum (:class:`wgmfem.spectrum.SyntheticSpectrum`): the samples,
each drawn line labelled by its mode, spurious peaks and dropped modes marked apart.

Draws into a matplotlib ``ax`` (made if not given) and returns it. Wavelengths in nm.
"""

from __future__ import annotations

import numpy as np

from .plot import axes_or_new
from .spectrum import SyntheticSpectrum

COLOURS = {"Ez": "C0", "Hz": "C3"}


def plot_synthetic_spectrum(spectrum: SyntheticSpectrum, ax=None, title: str | None = None):
    """The spectrum normalized to its highest sample; every drawn line marked at its shown centre
    and labelled ``pol m/p`` (Ez blue, Hz red), each spurious peak marked by a cross and labelled
    ``spurious``, each dropped mode by a grey tick below the baseline labelled ``(pol m/p)``."""
    ax = axes_or_new(ax)
    x, y = np.asarray(spectrum.wavelength_nm, float), np.asarray(spectrum.intensity, float)
    scale = float(np.max(np.abs(y))) or 1.0
    ax.plot(x, y / scale, color="0.3", lw=0.9, label="spectrum")

    def peak(centre: float) -> float:  # the normalized intensity drawn at a centre
        return float(np.interp(centre, x, y)) / scale

    for ln in spectrum.lines:
        colour = COLOURS.get(ln["pol"], "k")
        h = peak(ln["shown_nm"])
        ax.plot([ln["shown_nm"]], [h], "v", color=colour, ms=4)
        ax.annotate(f"{ln['pol']} {ln['m']}/{ln['p']}", (ln["shown_nm"], h), xytext=(0, 5), textcoords="offset points",
                    rotation=90, ha="center", va="bottom", fontsize=7, color=colour)
    for n, centre in enumerate(spectrum.spurious_nm):
        h = peak(centre)
        ax.plot([centre], [h], "x", color="C2", ms=6, mew=1.5, label="spurious" if n == 0 else None)
        ax.annotate("spurious", (centre, h), xytext=(0, 6), textcoords="offset points", rotation=90,
                    ha="center", va="bottom", fontsize=7, color="C2")
    for n, ln in enumerate(spectrum.dropped):
        ax.plot([ln["wavelength_nm"]], [-0.05], "|", color="0.55", ms=10, mew=1.2, label="dropped mode" if n == 0 else None)
        ax.annotate(f"({ln['pol']} {ln['m']}/{ln['p']})", (ln["wavelength_nm"], -0.05), xytext=(0, -4),
                    textcoords="offset points", rotation=90, ha="center", va="top", fontsize=6, color="0.45")
    for pol, colour in COLOURS.items():  # legend entries of the two polarizations that are present
        if any(ln["pol"] == pol for ln in spectrum.lines):
            ax.plot([], [], "v", color=colour, ms=4, label=f"{pol} mode (m/p)")
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(-0.45 if spectrum.dropped else -0.08, 1.5)
    ax.set_xlabel("wavelength (nm)")
    ax.set_ylabel("intensity (normalized)")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=7)
    return ax
