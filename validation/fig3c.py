"""Paper Fig. 3c: the field map of the (p = 1, m = 600) mode of the 54 um fibre.

The paper shows a COMSOL (2-D FEM) map of the electric field. Here: wgmfem's 2-D FEM on
a periodic sector (see ``validation/fem_field.py``), the exact solution beside it (the
same standing wave, phase and scale fitted) and their difference, over the radial window
where the mode lives. The map is drawn unrolled: radius across, arc length along the
core/glass interface down (the sector is ~0.3 um of arc per period; its curvature over
that arc is a few nm and not visible).

Outputs ``fig3c.png`` and ``fig3c.csv`` (the three maps on the grid). Units: um, nm.
"""

from __future__ import annotations

import sys

import numpy as np

from .common import new_figure, output_dir, save_figure, write_csv
from .fem_field import POL, M, solve

R_WINDOW_UM = (24.5, 29.0)  # the core/glass interface is at 27 um


def maps(field, radial_samples: int = 181, angular_samples: int = 91):
    """FEM, fitted exact and difference on a polar grid over the whole sector."""
    r = np.linspace(*R_WINDOW_UM, radial_samples)
    phi = np.linspace(0.0, field.sector_angle, angular_samples)
    rr, pp = np.meshgrid(r, phi, indexing="ij")
    fem = np.real(field.fem_values(rr, pp))
    exact, coef = field.exact_fit(rr, pp, fem)
    scale = np.nanmax(np.abs(exact))
    return r, phi, fem / scale, exact / scale, (fem - exact) / scale, coef


def run(fast: bool = False, out=None) -> dict:
    folder = output_dir(out, fast)
    field = solve(fast)
    r, phi, fem, exact, diff, coef = maps(field)
    interface = field.exact.cylinder.radii_um[0]
    arc = interface * phi
    rows = [[float(r[i]), float(arc[j]), float(fem[i, j]), float(exact[i, j]), float(diff[i, j])]
            for i in range(0, len(r), 4) for j in range(0, len(phi), 3)]  # every 4th / 3rd point: a small file
    write_csv(folder / "fig3c.csv", ["r_um", "arc_um", "fem", "exact", "difference"], rows)
    results = {
        "fem_wavelength_nm": field.fem.wavelength_nm,
        "exact_wavelength_nm": field.exact.wavelength_nm,
        "relative_wavelength_difference": field.fem.wavelength_nm / field.exact.wavelength_nm - 1,
        "fem_Q": field.fem.Q_rad,
        "exact_Q": field.exact.Q_rad,
        "max_abs_difference": float(np.nanmax(np.abs(diff))),
        "rms_difference": float(np.sqrt(np.nanmean(diff**2))),
        "purity": field.fem.verification["purity"],
        "pml_fraction": field.fem.verification["pml_fraction"],
        "unknowns": field.fem.verification["unknowns"],
        "element_order": field.fem.verification["element_order"],
        "periods": field.periods,
        "fem_seconds": field.seconds,
        "pair": field.fem.verification["pair_found"],
        "splitting_nm": field.fem.verification["splitting_pm"] * 1e-3,
    }
    _plot(field, r, arc, fem, exact, diff, results, folder / "fig3c.png")
    return results


def _plot(field, r, arc, fem, exact, diff, results, path):
    fig, axes = new_figure(3, 1, figsize=(9, 1.7 + 1.6 * 3 * min(1.0, field.periods / 3)), sharex=True)
    extent = (r[0], r[-1], arc[0], arc[-1])
    worst = results["max_abs_difference"]
    panels = [
        (fem, f"2-D FEM (P{results['element_order']}, {results['unknowns'] / 1e3:.0f}k unknowns, sector of "
              f"{field.periods} period{'s' if field.periods > 1 else ''}): {results['fem_wavelength_nm']:.5f} nm", 1.0),
        (exact, f"exact (Bessel/Hankel): {results['exact_wavelength_nm']:.5f} nm", 1.0),
        (diff, f"FEM - exact (max |difference| {worst:.1e} of the peak)", worst),
    ]
    for ax, (values, title, limit) in zip(axes, panels):
        image = ax.imshow(values.T, origin="lower", extent=extent, cmap="RdBu_r", vmin=-limit, vmax=limit,
                          aspect="equal", interpolation="bilinear")
        ax.axvline(field.exact.cylinder.radii_um[0], color="k", lw=0.8)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel("arc (um)")
        fig.colorbar(image, ax=ax, pad=0.01, fraction=0.03)
    axes[-1].set_xlabel("r (um)   (core | glass interface at 27 um)")
    fig.suptitle(f"Fig. 3c: Re {POL}, p = 1, m = {M}, 54/78 um capillary (1.56 / 1.47)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def main(argv=None) -> int:
    fast = "--fast" in (sys.argv[1:] if argv is None else argv)
    res = run(fast=fast)
    print(f"fig3c: FEM {res['fem_wavelength_nm']:.6f} nm vs exact {res['exact_wavelength_nm']:.6f} nm "
          f"({res['relative_wavelength_difference']:.1e}); max field difference {res['max_abs_difference']:.1e}; "
          f"FEM {res['fem_seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
