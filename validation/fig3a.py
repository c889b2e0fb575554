"""Paper Fig. 3a: which mode numbers m do the p = 1 modes in 435-445 nm really have?

The paper indexes its lasing peaks as m = 597-603 from m lambda = pi n D (n = 1.56,
D = 54 um). Here the exact solver labels every p = 1 core mode of the 54/78 um
capillary in the paper's band for three liquid models:

* ``stated``: the indices the paper states, 1.56 (liquid) / 1.47 (glass), constant;
* ``qd``: the same liquid with toluene's dispersion (Kozma, offset to 1.56 at 440 nm) and
  fused silica (Malitson);
* ``toluene``: pure toluene (1.513 at 440 nm) and fused silica: strong core/wall mixing.

Outputs ``fig3a.png`` and ``fig3a.csv``. Units: nm, um.
"""

from __future__ import annotations

import math
import sys
import time

import wgmfem

from .common import (
    PAPER_BAND_NM,
    PAPER_CORE_INDEX,
    PAPER_INNER_D_UM,
    PAPER_M_RANGE,
    dispersive_capillary,
    new_figure,
    output_dir,
    paper_capillary,
    save_figure,
    simple_m,
    simple_wavelength_nm,
    write_csv,
)

AIRY_ZERO_1 = 2.338107410459767  # first zero of Ai(-x)

MODELS = {
    "stated": "1.56 / 1.47 (constant, as stated)",
    "qd": "QD-toluene / fused silica (dispersive)",
    "toluene": "pure toluene / fused silica (dispersive)",
}


def airy_offset(m: int, pol: str, n_rel: float) -> float:
    """n k a - m from the first two terms of the Airy expansion (Lam, Leung & Young 1992):
    2^(-1/3) t1 m^(1/3) - P / sqrt(n_rel^2 - 1), P = n_rel (Ez) or 1/n_rel (Hz). Only an
    explanation of the size of the offset, not good enough to seed a search (a seed from it can
    land on a wall mode; docs/theory.md section 5)."""
    P = n_rel if pol == "Ez" else 1 / n_rel
    return 2 ** (-1 / 3) * AIRY_ZERO_1 * m ** (1 / 3) - P / math.sqrt(n_rel**2 - 1)


def core_index_at(mode) -> float:
    return complex(mode.cylinder.indices[0]).real


def equivalent_core_index(target_nm: float, pol: str = "Ez", m: int = 600) -> float:
    """The constant core index that puts the exact (pol, m, p=1) mode of the 54/78 um fibre
    at ``target_nm`` (secant; lambda is nearly linear in n)."""

    def lam(n):
        cap = wgmfem.Capillary(core_index=n, wall_index=1.47)
        return wgmfem.find_modes(cap, pol=pol, m=m, p=1, region="core", fsr=False)[0].wavelength_nm

    n0, n1 = PAPER_CORE_INDEX, PAPER_CORE_INDEX + 0.03
    f0, f1 = lam(n0) - target_nm, lam(n1) - target_nm
    for _ in range(8):
        n0, n1, f0 = n1, n1 - f1 * (n1 - n0) / (f1 - f0), f1
        f1 = lam(n1) - target_nm
        if abs(f1) < 1e-9:
            break
    return n1


def run(fast: bool = False, out=None) -> dict:
    """Label the p = 1 modes in 435-445 nm; write fig3a.png/.csv; return the key numbers."""
    folder = output_dir(out, fast)
    t0 = time.perf_counter()
    cases = [("stated", "Ez"), ("stated", "Hz"), ("qd", "Ez")]
    if not fast:
        cases += [("qd", "Hz"), ("toluene", "Ez")]
    fibres = {"stated": paper_capillary(), "qd": dispersive_capillary(core="qd"), "toluene": dispersive_capillary(core="toluene")}
    found = {}
    for model, pol in cases:
        modes = wgmfem.find_modes(fibres[model], pol=pol, wavelength_nm=PAPER_BAND_NM, p=1, region="core")
        found[(model, pol)] = sorted(modes, key=lambda md: md.m)

    rows = []
    for (model, pol), modes in found.items():
        for md in modes:
            n_core = core_index_at(md)
            rows.append([model, pol, md.m, md.wavelength_nm, md.Q_rad, md.core_fraction, str(md.hybrid),
                         md.fsr_nm or math.nan, n_core, simple_m(md.wavelength_nm), simple_m(md.wavelength_nm) - md.m])
    write_csv(folder / "fig3a.csv",
              ["model", "pol", "m", "wavelength_nm", "Q_rad", "core_fraction", "hybrid", "fsr_nm", "core_index",
               "m_simple_n1.56", "m_simple_minus_m"], rows)

    # the paper's peaks: where m lambda = pi n D puts m = 597..603 (its peak wavelengths are not given)
    paper_nm = [simple_wavelength_nm(m) for m in range(PAPER_M_RANGE[0], PAPER_M_RANGE[1] + 1)]
    lo, hi = min(paper_nm), max(paper_nm)

    def labels_in_paper_window(modes):
        """The exact label of the mode nearest each of the paper's peaks (597..603 in order)."""
        if not modes:
            return None
        return [min(modes, key=lambda md: abs(md.wavelength_nm - x)).m for x in paper_nm]

    m600 = wgmfem.find_modes(paper_capillary(), pol="Ez", m=600, p=1, region="core", fsr=False)[0]
    n_rel = PAPER_CORE_INDEX / 1.47
    results = {
        "paper_m_range": PAPER_M_RANGE,
        "paper_window_nm": (lo, hi),
        "simple_m600_nm": simple_wavelength_nm(600),
        "exact_m600_nm": m600.wavelength_nm,
        "exact_m600_Q": m600.Q_rad,
        "offset_m600": simple_m(m600.wavelength_nm) - 600,  # = n k a - m
        "airy_offset_ez": airy_offset(600, "Ez", n_rel),
        "airy_offset_hz": airy_offset(600, "Hz", n_rel),
        "labels": {f"{model}/{pol}": labels_in_paper_window(modes) for (model, pol), modes in found.items()},
        "offsets": {f"{model}/{pol}": [simple_m(md.wavelength_nm) - md.m for md in modes]
                    for (model, pol), modes in found.items()},
        "counts": {f"{model}/{pol}": len(modes) for (model, pol), modes in found.items()},
        "hybrids": {f"{model}/{pol}": sum(md.hybrid for md in modes) for (model, pol), modes in found.items()},
        # scale invariance: with constant indices lambda scales with the whole cross-section
        "equivalent_inner_d_um": PAPER_INNER_D_UM * simple_wavelength_nm(600) / m600.wavelength_nm,
    }
    if not fast:
        results["equivalent_core_index"] = equivalent_core_index(simple_wavelength_nm(600))
    results["seconds"] = time.perf_counter() - t0
    _plot(found, paper_nm, results, folder / "fig3a.png")
    return results


def _plot(found, paper_nm, results, path):
    import numpy as np

    fig, (ax, bx) = new_figure(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1.5, 1]})
    lam = np.linspace(*PAPER_BAND_NM, 200)
    ax.plot(lam, [simple_m(x) for x in lam], "k--", lw=1, label="m = pi n D / lambda (n = 1.56)")
    ax.plot(paper_nm, range(PAPER_M_RANGE[0], PAPER_M_RANGE[1] + 1), "ks", mfc="none", ms=7,
            label="paper's indexing 597-603")
    style = {("stated", "Ez"): ("C0", "o"), ("stated", "Hz"): ("C1", "^"), ("qd", "Ez"): ("C2", "x"),
             ("qd", "Hz"): ("C4", "+"), ("toluene", "Ez"): ("C3", "D")}
    for key, modes in found.items():
        colour, marker = style[key]
        label = f"exact {key[1]}, {MODELS[key[0]]}"
        ax.plot([md.wavelength_nm for md in modes], [md.m for md in modes], marker, color=colour, ms=5,
                mfc="none" if marker in "^D" else colour, label=label, ls="none")
        bx.plot([md.m for md in modes], [simple_m(md.wavelength_nm) - md.m for md in modes], marker, color=colour,
                ms=5, mfc="none" if marker in "^D" else colour, ls="none", label=f"{key[1]} {key[0]}")
    ax.axvspan(min(paper_nm), max(paper_nm), color="0.9", zorder=0)
    ax.set_xlabel("vacuum wavelength (nm)")
    ax.set_ylabel("azimuthal mode number m")
    ax.set_title("Fig. 3a: p = 1 core modes of the 54/78 um capillary")
    ax.legend(fontsize=7, loc="upper right")
    for pol, value in (("Ez", results["airy_offset_ez"]), ("Hz", results["airy_offset_hz"])):
        bx.axhline(value, ls=":", color="C0" if pol == "Ez" else "C1", lw=1)
    bx.set_xlabel("m (exact label)")
    bx.set_ylabel("pi n D / lambda - m   (n = 1.56)")
    bx.set_title("offset of the simple formula (dotted: Airy terms)")
    bx.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def main(argv=None) -> int:
    fast = "--fast" in (sys.argv[1:] if argv is None else argv)
    res = run(fast=fast)
    print(f"fig3a: exact Ez labels of the paper's peaks 597..603: {res['labels']['stated/Ez']}; "
          f"m=600 at {res['exact_m600_nm']:.4f} nm vs {res['simple_m600_nm']:.2f} nm; {res['seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
