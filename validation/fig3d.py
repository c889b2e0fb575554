"""Paper Fig. 3d: the normalised radial profile of the (p = 1, m = 600) mode across the
core/glass interface, 2-D FEM against exact, and the energy outside the interface.

The paper says "only a small fraction of evanescent wave coupling outside the QD-glass
interface". Here that fraction is a number: the electric energy in the glass and the air,
from the exact solution (closed-form Lommel integrals) and from the FEM (integrals over
the mesh), for Ez and, from the exact solver, Hz. The FEM profile is the amplitude of
the sector's standing wave taken from two rays a quarter period apart.

Outputs ``fig3d.png`` and ``fig3d.csv`` (r, FEM and exact |Ez| normalised). Units: um.
"""

from __future__ import annotations

import math
import sys

import numpy as np

import wgmfem

from .common import new_figure, output_dir, paper_capillary, save_figure, write_csv
from .fem_field import POL, M, solve


def penetration_depth_um(mode, samples: int = 20001) -> float:
    """Distance beyond the core/glass interface over which |field| falls by 1/e (exact field)."""
    a = mode.cylinder.radii_um[0]
    r = np.linspace(a, a + 3.0, samples)
    amp = np.abs(mode.field(r))
    below = np.flatnonzero(amp <= amp[0] / math.e)
    return float(r[below[0]] - a)


def run(fast: bool = False, out=None) -> dict:
    folder = output_dir(out, fast)
    field = solve(fast)
    exact = field.exact
    lo = field.result.r_cut_um + 0.05
    hi = min(field.result.pml.r_start_um, exact.cylinder.outer_radius_um + 2.0)
    r = np.linspace(lo, hi, 1500 if fast else 4000)
    exact_amp = np.abs(exact.field(r))
    fem_amp = field.radial_amplitude(r)
    # same normalisation: both to 1 at the exact profile's peak (FEM scaled by least squares there)
    peak = exact_amp > 0.5
    fem_amp = fem_amp * (exact_amp[peak] @ fem_amp[peak]) / (fem_amp[peak] @ fem_amp[peak])
    write_csv(folder / "fig3d.csv", ["r_um", "fem_abs_Ez", "exact_abs_Ez"],
              [[float(a), float(b), float(c)] for a, b, c in zip(r[::4], fem_amp[::4], exact_amp[::4])])
    hz = wgmfem.find_modes(paper_capillary(), pol="Hz", m=M, p=1, region="core", fsr=False)[0]
    fem_core = field.fem.energy_fractions["core"]
    results = {
        "exact_outside_fraction": 1 - exact.core_fraction,
        "fem_outside_fraction": 1 - fem_core,
        "exact_air_fraction": exact.energy_fractions["outside"],
        "fem_air_fraction": field.fem.energy_fractions["outside"],
        "hz_outside_fraction": 1 - hz.core_fraction,
        "penetration_depth_um": penetration_depth_um(exact),
        "peak_radius_um": float(r[np.argmax(exact_amp)]),
        "max_profile_difference": float(np.max(np.abs(fem_amp - exact_amp))),
        "interface_um": exact.cylinder.radii_um[0],
    }
    _plot(r, fem_amp, exact_amp, results, folder / "fig3d.png")
    return results


def _plot(r, fem_amp, exact_amp, results, path):
    fig, (ax, bx) = new_figure(1, 2, figsize=(11, 4.2))
    a = results["interface_um"]
    zoom = (r > a - 3) & (r < a + 2)
    ax.plot(r[zoom], exact_amp[zoom], "k-", lw=2.2, label="exact")
    ax.plot(r[zoom], fem_amp[zoom], "C1--", lw=1.4, label="2-D FEM (sector)")
    ax.axvline(a, color="0.4", ls=":", lw=1)
    ax.axvspan(a, r[zoom][-1], color="C0", alpha=0.08)
    ax.text(a + 0.1, 0.9, f"glass: {100 * results['exact_outside_fraction']:.1f} % of the\nelectric energy (exact)\n"
            f"{100 * results['fem_outside_fraction']:.1f} % (FEM)", fontsize=8, va="top")
    ax.set_xlabel("r (um)")
    ax.set_ylabel(f"|{POL}| (normalised)")
    ax.set_title(f"Fig. 3d: p = 1, m = {M} across the core/glass interface")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_ylim(0, 1.05)
    bx.semilogy(r, exact_amp**2, "k-", lw=2, label="exact |Ez|^2")
    bx.semilogy(r, fem_amp**2, "C1--", lw=1.2, label="FEM |Ez|^2")
    bx.semilogy(r, np.abs(fem_amp - exact_amp) + 1e-30, "C3-", lw=0.8, label="| FEM - exact | (amplitude)")
    bx.axvline(a, color="0.4", ls=":", lw=1)
    bx.axvline(a * 78 / 54, color="0.4", ls=":", lw=1)
    bx.set_ylim(1e-14, 2)
    bx.set_xlabel("r (um)   (dotted: core/glass 27 um, glass/air 39 um)")
    bx.set_title("whole radial range of the FEM domain")
    bx.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    save_figure(fig, path)


def main(argv=None) -> int:
    fast = "--fast" in (sys.argv[1:] if argv is None else argv)
    res = run(fast=fast)
    print(f"fig3d: energy outside the interface {100 * res['exact_outside_fraction']:.2f} % (exact), "
          f"{100 * res['fem_outside_fraction']:.2f} % (FEM); 1/e depth in the glass {res['penetration_depth_um']:.3f} um")
    return 0


if __name__ == "__main__":
    sys.exit(main())
