"""The figure of an axial-mode result (:class:`wgmfem.axial.modes.AxialResult`), in the style of
SNAP (surface nanoscale axial photonics) papers: the radius variation along the fibre on top,
the cutoff wavelength lambda_c(z) below with each axial state as a horizontal line at its
wavelength across its classically allowed region (lambda_c(z) >= lambda) and its |psi|^2 on it.

Lengths z in um, radius changes and wavelengths in nm.
"""

from __future__ import annotations

import math

import numpy as np

NM_PER_UM = 1e3
#: Height of each |psi|^2 drawn on its line, as a fraction of the smallest spacing between states.
PSI_HEIGHT_OF_SPACING = 0.8
#: Height of |psi|^2 when there is no spacing to scale by (one state), as a fraction of the cutoff's range.
PSI_HEIGHT_OF_CUTOFF_RANGE = 0.15
#: |psi|^2 is drawn on a grid this many times finer than the profile's samples.
SMOOTH_FACTOR = 8


def axial_axes():
    """A new figure with a short top panel (radius change along the whole profile) over the main
    one (cutoff and states, zoomed onto the states)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(8.0, 6.4), gridspec_kw={"height_ratios": [1, 2.6]}, layout="constrained")
    return axes


def psi_height_nm(result) -> float:
    """The height (nm of wavelength) that a peak |psi|^2 = 1 is drawn with."""
    spacings = [md.spacing_nm for md in result.modes if math.isfinite(md.spacing_nm) and md.spacing_nm > 0]
    if spacings:
        return PSI_HEIGHT_OF_SPACING * min(spacings)
    cutoff = result.cutoff_wavelength_nm
    span = float(cutoff.max() - cutoff.min())
    return PSI_HEIGHT_OF_CUTOFF_RANGE * span if span > 0 else 1e-3


def plot_radius_change(result, ax) -> None:
    """r_out(z) - r_out(z_min) and r_in(z) - r_in(z_min) in nm against z (um)."""
    profile = result.profile
    z = profile.z_um
    ax.plot(z, (profile.r_out_um - profile.r_out_um[0]) * NM_PER_UM, color="C3", lw=1.6, label="r_out - r_out(z_min)")
    ax.plot(z, (profile.r_in_um - profile.r_in_um[0]) * NM_PER_UM, color="C0", lw=1.6, ls="--", label="r_in - r_in(z_min)")
    ax.axhline(0.0, color="0.7", lw=0.7, zorder=0)
    ax.set_xlim(z[0], z[-1])
    ax.set_xlabel(f"z (um); z_min = {z[0]:g} um")
    ax.set_ylabel("radius change (nm)")
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ax.grid(alpha=0.3)


def smooth_intensity(z_um: np.ndarray, psi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|psi|^2 (peak 1) on a grid SMOOTH_FACTOR times finer than the profile's, from cubic
    splines of Re psi and Im psi (the profile's samples alone draw a polygon)."""
    from scipy.interpolate import CubicSpline

    z_fine = np.linspace(z_um[0], z_um[-1], SMOOTH_FACTOR * (len(z_um) - 1) + 1)
    values = CubicSpline(z_um, psi.real)(z_fine) + 1j * CubicSpline(z_um, psi.imag)(z_fine)
    intensity = np.abs(values) ** 2
    peak = intensity.max()
    return z_fine, intensity / peak if peak > 0 else intensity


def states_window_um(result) -> tuple[float, float]:
    """The z range (um) the main panel shows: where the states live (|psi|^2 above 1e-3 of its
    peak, or lambda_c(z) at least the lowest state's wavelength), padded by half its width; the
    whole profile when there are no states."""
    z = result.profile.z_um
    inside = np.zeros(len(z), bool)
    for md in result.modes:
        intensity = np.abs(md.psi) ** 2
        if intensity.max() > 0:
            inside |= intensity > 1e-3 * intensity.max()
        inside |= result.cutoff_wavelength_nm >= md.wavelength_nm
    if not inside.any():
        return float(z[0]), float(z[-1])
    lo, hi = float(z[inside].min()), float(z[inside].max())
    pad = 0.5 * max(hi - lo, 1e-6 * (z[-1] - z[0]))
    return max(float(z[0]), lo - pad), min(float(z[-1]), hi + pad)


def plot_cutoff_and_states(result, ax) -> None:
    """lambda_c(z) (nm) against z (um); each state q a line at its wavelength over lambda_c(z) >= lambda,
    with |psi|^2 (peak :func:`psi_height_nm`) drawn downward from it, towards the next state, and
    labelled q at the right edge. The view is zoomed onto the states (:func:`states_window_um`)."""
    from matplotlib.transforms import blended_transform_factory

    z = result.profile.z_um
    cutoff = result.cutoff_wavelength_nm
    ax.plot(z, cutoff, color="k", lw=1.8, label="cutoff wavelength lambda_c(z)")
    height = psi_height_nm(result)
    edge = blended_transform_factory(ax.transAxes, ax.transData)
    for i, md in enumerate(result.modes):
        color = f"C{i % 10}"
        lam = md.wavelength_nm
        allowed = cutoff >= lam
        kind = "" if md.confined else ", leaky"
        ax.plot(z, np.where(allowed, lam, np.nan), color=color, lw=1.2, label=f"q = {md.q}: {lam:.4f} nm{kind}")
        z_fine, intensity = smooth_intensity(z, md.psi)
        if intensity.max() > 0:
            shown = np.nonzero(intensity > 1e-3)[0]  # the tails beyond are flat on the line: not drawn
            part = slice(shown[0], shown[-1] + 1)
            curve = lam - height * intensity[part]
            ax.fill_between(z_fine[part], lam, curve, color=color, alpha=0.3, lw=0)
            ax.plot(z_fine[part], curve, color=color, lw=0.8)
        ax.text(0.99, lam, f"q = {md.q}", transform=edge, va="center", ha="right", fontsize="small", color=color)
    ax.set_xlabel("z (um)")
    ax.set_ylabel("wavelength (nm)")
    ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    ax.set_xlim(*states_window_um(result))
    top = float(cutoff.max())
    if result.modes:
        bottom = min(md.wavelength_nm for md in result.modes) - 1.5 * height
    else:
        bottom = float(cutoff.min())
    pad = 0.06 * (top - bottom) or 1e-3
    ax.set_ylim(max(bottom, float(cutoff.min())) - pad, top + pad)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def plot_axial(result, axes=None):
    """The whole figure: radius change on ``axes[0]``, cutoff and states on ``axes[1]`` (made if
    not given: :func:`axial_axes`). Returns the two axes."""
    top, main = axial_axes() if axes is None else axes
    plot_radius_change(result, top)
    plot_cutoff_and_states(result, main)
    z = result.profile.z_um
    if main.get_xlim() != (z[0], z[-1]):  # the main panel is zoomed: where it looks
        top.axvspan(*main.get_xlim(), color="0.85", zorder=0, label="shown below")
        top.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    ref = result.reference
    top.set_title(f"axial states of {ref.label()} (alpha = {result.alpha:.4g})", fontsize="medium")
    return top, main
