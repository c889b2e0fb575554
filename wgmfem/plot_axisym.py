"""Field maps of axisymmetric FEM modes on the (r, z) half-plane, with the resonator's boundaries.

Lengths in um. The map shows the electric energy density |E|^2 = |E_r|^2 + |E_z|^2 + |E_phi|^2
of one mode (peak 1; or log10 of it), the interfaces of the body, and the start of the PML.
"""

from __future__ import annotations

import numpy as np

from .axisym.mesh import ProfileWindow
from .plot import axes_or_new

#: log maps are clipped this far below the peak
LOG_FLOOR = 1e-8


def field_density(study, index: int, samples: tuple[int, int] = (300, 300)):
    """(r, z, |E|^2 / max) of mode ``index`` of ``study`` on a grid of the window (lengths in um).

    A profile solved on half a window is shown whole: every component of a state of definite
    parity is even or odd about the mirror plane, so |E|^2 is even."""
    w = study.window
    r = np.linspace(w.r_min_um, w.r_end_um, samples[0])[1:-1]
    z = np.linspace(w.z_min_um, w.z_max_um, samples[1])[1:-1]
    rr, zz = np.meshgrid(r, z)
    e = study.fields.components(index, np.vstack((rr.ravel(), zz.ravel())))
    density = np.sum(np.abs(e) ** 2, axis=0).reshape(rr.shape)
    if isinstance(w, ProfileWindow) and w.half:
        rr = np.vstack((rr[::-1], rr))
        zz = np.vstack((2 * w.z_min_um - zz[::-1], zz))
        density = np.vstack((density[::-1], density))
    return rr, zz, density / density.max()


def plot_axisym_mode(study, index: int = 0, ax=None, log: bool = False):
    """The map of mode ``index`` of a sphere or profile study (:mod:`wgmfem.axisym`) at equal aspect."""
    from matplotlib.ticker import MaxNLocator

    ax = axes_or_new(ax)
    rr, zz, density = field_density(study, index)
    if log:
        shown = np.log10(np.maximum(density, LOG_FLOOR))
        mesh = ax.pcolormesh(rr, zz, shown, cmap="magma", vmin=np.log10(LOG_FLOOR), vmax=0, shading="auto")
        label = "log10 |E|^2 (peak 0)"
    else:
        mesh = ax.pcolormesh(rr, zz, density, cmap="magma", vmin=0, vmax=1, shading="auto")
        label = "|E|^2 (peak 1)"
    w = study.window
    z = zz[:, 0]
    for radius in w.interfaces(z):
        ax.plot(radius, z, color="white", lw=0.8)
    ax.axvline(w.pml.r_start_um, color="0.7", lw=0.8, ls="--")
    ax.text(w.pml.r_start_um, z[-1], " PML", color="0.8", va="top", fontsize=8)
    ax.set_xlim(rr.min(), rr.max())
    ax.set_ylim(zz.min(), zz.max())
    ax.set_aspect("equal")
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.yaxis.set_major_locator(MaxNLocator(6))
    ax.set_xlabel("r (um)")
    ax.set_ylabel("z (um)")
    md = study.modes[index]
    mirror = getattr(study, "mirror", None)
    half = f" (z >= 0, {mirror} wall at z = 0)" if mirror else ""
    region = f" {md.region}" if hasattr(md, "region") else ""  # a shell's or a capillary's mode
    ax.set_title(f"{md.pol}{region} m={md.m} p={md.p} q={md.q}: {md.wavelength_nm:.4f} nm{half}", fontsize=10)
    bar = ax.figure.colorbar(mesh, ax=ax, shrink=0.85)
    bar.set_label(label)
    return ax
