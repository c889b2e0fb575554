"""Benchmark of the 2-D cross-section FEM against the exact solver.

Run: ``python benchmarks/bench_fem_cross_section.py [--quick] [--cases sector,rod,small,ellipse,full,cap20,open]``

Every configuration runs in its own subprocess so that its peak memory (max RSS,
including MKL/SuperLU factors) is its own. Printed per run: element order, points per
wavelength, unknowns, wall time (mesh from the cache after the first run of a
geometry, so meshing is listed apart), peak RSS, relative wavelength error and
relative Q error against ``wgmfem.find_modes``, the identification (m, p, region,
purity) and the linear solver.

Cases
-----
sector  : paper capillary (radii 27 / 39 um, n 1.56 / 1.47, air), sector 2 pi/600,
          Ez and Hz (p = 1, m = 600). Reference point: NGSolve P5, 14k unknowns,
          1.8 s, 7e-8..1.1e-7 on this machine.
rod     : rod r = 3 um, n = 1.56 in air, m = 20 / 30 (Q 1e3 / 1e5), sector 2 pi/m and full.
small   : full cross-section of a small capillary (radii 3 / 4 um, m = 40, Q ~ 90).
ellipse : closed capillary 3 / 4 um (Dirichlet at 4 um), elliptical bore e = 0.02,
          Ez m = 2 (7.5 um): splitting of the +-m pair as the elements per circle grow
          (the 2-D k of the unperturbed pair agrees with the 1-D radial FEM to 1e-8).
full    : paper cross-section at m = 600 closed by a Dirichlet wall at 30 um in the glass
          (sector 1/12, half, full: 2.4 M unknowns, ~7.4 GB, ~2 min; stretch goal). The
          closure itself moves the mode by up to a few 1e-6 depending on where it is put
          (sector runs: r_end 29/30/31/33 um -> -4.9e-7/-2.5e-7/-3.8e-6/+2.1e-7 at P4 12).
cap20   : full cross-section of a 20 um capillary (bore 20 um, wall 2 um, n 1.56 / 1.47, air) at
          m = 200, Ez and Hz, closed by a Dirichlet wall at 13 um in the air (Q ~ 2e19: the
          closure moves the mode by 3e-11), P4 with 12 points per wavelength in core and glass
          and 20 in the air (the evanescent air field decays in ~0.1 um): first the 2 pi/20
          sector with the same settings (the predictor), then the full section (0.69 M unknowns).
open    : the paper's full cross-section as an OPEN domain (the NGSolve reference problem:
          Dirichlet cuts at ~24 um, field decay 1e-6, and 43 um in the air beyond the outer
          turning point 41.3 um; real), graded P4 mesh: 10 points per wavelength in the core
          (0.7 of that size within 3 local wavelengths of the bore), 6 in the glass, 3 in
          the air. First a 2 pi/60 sector with the same settings (its mesh statistics match
          the full mesh), then the full section concentric, with a 0.2 % elliptical bore and
          with a 0.5 um bore offset (2.6 M unknowns, ~7 GB each: run alone). Without --quick
          also the elliptical bore on the finer meshes 12 points per wavelength in the core
          (3.2 M unknowns, 8.5 GB) and 12 / 8 in core / glass (4.1 M, ~11 GB): the refinement
          sequence of docs/fem.md.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _cylinders():
    import wgmfem

    return {
        "paper": wgmfem.Capillary(),
        "rod": wgmfem.Rod(3.0, 1.56),
        "small": wgmfem.LayeredCylinder((3.0, 4.0), (1.56, 1.47)),
        "cap20": wgmfem.LayeredCylinder((10.0, 12.0), (1.56, 1.47)),
    }


def run_one(spec: dict) -> dict:
    """Solve one configuration in this process and return the measurements."""
    import wgmfem
    from wgmfem.fem import solve_radial
    from wgmfem.fem.study2d import find_modes_2d

    cyl = _cylinders()[spec["cylinder"]]
    pol, m = spec["pol"], spec["m"]
    kwargs = dict(spec.get("kwargs", {}))
    if spec.get("closed"):
        rad = solve_radial(cyl, pol, m, 2 * math.pi / spec["guess_um"], outer_boundary="dirichlet",
                           num_modes=3, points_per_wavelength=200)
        ref_k, ref_src = complex(rad.k[0]), "fem1d"
        kwargs.update(outer_boundary="dirichlet", k_target=ref_k.real)
    else:
        ref = wgmfem.find_modes(cyl, pol=pol, m=m, p=1, region="core")[0]
        ref_k, ref_src = complex(ref.k), "exact"
        if spec.get("exact_target"):  # closed far outside: a real shift at the exact wavelength
            kwargs["k_target"] = ref_k.real
    t0 = time.perf_counter()
    modes, res = find_modes_2d(cyl, pol, m, order=spec["order"], points_per_wavelength=spec["ppw"],
                               return_result=True, **kwargs)
    wall = time.perf_counter() - t0
    hits = [md for md in modes if md.m == m and md.p == 1]
    out = dict(spec, unknowns=res.num_unknowns, wall_s=wall, timings=res.timings_s,
               peak_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
               solver=res.linear_solver, ref_source=ref_src, found=bool(hits))
    if hits:
        md = hits[0]
        lam_ref = 2e3 * math.pi / ref_k.real
        out.update(rel_err=(md.wavelength_nm - lam_ref) / lam_ref, region=md.region,
                   purity=md.verification["purity"], splitting_nm=md.verification["splitting_pm"] * 1e-3,
                   pair=md.verification["pair_found"])
        open_structure = kwargs.get("outer_boundary", "pml") == "pml"
        if ref_k.imag != 0 and open_structure:
            q_ref = ref_k.real / (2 * abs(ref_k.imag))
            out["q_rel_err"] = (md.Q_rad - q_ref) / q_ref
    return out


def specs(cases, quick):
    out = []
    if "sector" in cases:
        grid = [(3, 16), (4, 12), (4, 16)] if quick else [(3, 12), (3, 16), (3, 24), (4, 12), (4, 14), (4, 16), (4, 20), (4, 24)]
        for pol in ("Ez", "Hz"):
            for order, ppw in grid:
                out.append(dict(case="sector", cylinder="paper", pol=pol, m=600, order=order, ppw=ppw,
                                kwargs=dict(sector=[1, 600], num_modes=6)))
    if "rod" in cases:
        for m in (20, 30):
            out.append(dict(case="rod-sector", cylinder="rod", pol="Ez", m=m, order=3, ppw=12,
                            kwargs=dict(sector=[1, m], num_modes=6)))
            if not quick:
                out.append(dict(case="rod-full", cylinder="rod", pol="Ez", m=m, order=3, ppw=12,
                                kwargs=dict(num_modes=6)))
    if "small" in cases:
        grid = [(3, 12), (4, 12)] if quick else [(3, 12), (3, 16), (4, 12), (4, 14)]
        for order, ppw in grid:
            out.append(dict(case="small-full", cylinder="small", pol="Ez", m=40, order=order, ppw=ppw,
                            kwargs=dict(num_modes=6, cut_decay=1e-8)))
    if "ellipse" in cases:
        # the size is set by the curvature here (lambda = 7.5 um on a 3 um bore)
        for epc in (16, 24, 32, 64):
            out.append(dict(case="ellipse-split", cylinder="small", pol="Ez", m=2, order=4, ppw=8,
                            closed=True, guess_um=7.5,
                            kwargs=dict(inner_ellipticity=0.02, elements_per_circle=epc, num_modes=8)))
    if "full" in cases:
        # the whole paper cross-section: annulus from the cut (~23.8 um) to a Dirichlet wall at
        # 30 um inside the glass (real problem); sectors 1/12 and 1/2 first to see the growth
        for sector in ([1, 12], [1, 2], None):
            out.append(dict(case="paper-full" if sector is None else f"paper-1/{sector[1]}", cylinder="paper",
                            pol="Ez", m=600, order=4, ppw=12,
                            kwargs=dict(num_modes=6, cut_decay=1e-8, outer_boundary="dirichlet", r_end_um=30.0,
                                        sector=sector)))
    if "cap20" in cases:
        graded = dict(region_points_per_wavelength={"wall": 12, "outside": 20}, outer_boundary="dirichlet",
                      r_end_um=13.0, cut_decay=1e-6)
        for pol in ("Ez", "Hz"):
            for case, extra in (("cap20-1/20", dict(sector=[1, 20], num_modes=8)), ("cap20-full", dict(num_modes=12))):
                out.append(dict(case=case, cylinder="cap20", pol=pol, m=200, order=4, ppw=12,
                                kwargs=dict(graded, **extra), exact_target=True))
    if "open" in cases:
        graded = dict(region_points_per_wavelength={"wall": 6, "outside": 3}, band_factor=0.7, band_wavelengths=3,
                      outer_boundary="dirichlet", r_end_um=43.0, cut_decay=1e-6)
        variants = [("open-1/60", dict(sector=[1, 60], num_modes=8)), ("open-full", dict(num_modes=12)),
                    ("open-ellipse", dict(num_modes=12, inner_ellipticity=0.002)),
                    ("open-offset", dict(num_modes=12, bore_offset_um=0.5))]
        for case, extra in variants[: 2 if quick else 4]:
            out.append(dict(case=case, cylinder="paper", pol="Ez", m=600, order=4, ppw=10,
                            kwargs=dict(graded, **extra), exact_target=True))
        if not quick:  # the elliptical bore refined: core 12, then glass 8 points per wavelength
            for glass in (6, 8):
                fine = dict(graded, region_points_per_wavelength={"wall": glass, "outside": 3})
                out.append(dict(case="open-ellipse", cylinder="paper", pol="Ez", m=600, order=4, ppw=12,
                                kwargs=dict(fine, num_modes=12, inner_ellipticity=0.002), exact_target=True))
    return out


def fmt(r):
    err = f"{r['rel_err']:+.2e}" if "rel_err" in r else "   -    "
    if r["case"] == "ellipse-split":
        err = "(shift)"  # against the unperturbed 1-D radial FEM: the perturbation's own shift
    qerr = f"{r['q_rel_err']:+.1e}" if "q_rel_err" in r else "   -   "
    mesh_s = r["timings"].get("mesh", 0.0)
    epc = r["kwargs"].get("elements_per_circle")
    extra = f"epc={epc} split {r['splitting_nm']:.7f} nm" if r["case"] == "ellipse-split" else f"{r.get('region', '-')} purity {r.get('purity', 0):.4f}"
    if r["case"].startswith(("open", "cap20")) and "splitting_nm" in r:
        extra += f" pair {r['pair']} split {1e3 * r['splitting_nm']:.3f} pm"
    if r["kwargs"].get("region_points_per_wavelength"):
        extra += f" region ppw {r['kwargs']['region_points_per_wavelength']}"
    return (f"{r['case']:14s} {r['pol']:2s} m={r['m']:<4d} P{r['order']} ppw={r['ppw']:<4g} N={r['unknowns']:>8d} "
            f"t={r['wall_s']:6.2f}s (mesh {mesh_s:5.2f}s, factor {r['timings'].get('factorize', 0):5.2f}s, "
            f"{r['timings'].get('solves', 0)} solves) RSS={r['peak_rss_gb']:5.2f}GB err={err} Qerr={qerr} {extra} [{r['solver']}]")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer resolutions")
    parser.add_argument("--cases", default="sector,rod,small,ellipse", help="comma list: sector,rod,small,ellipse,full,cap20,open")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(json.loads(args.one)), default=str))
        return
    for spec in specs(set(args.cases.split(",")), args.quick):
        proc = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{spec['case']} {spec['pol']} P{spec['order']} ppw={spec['ppw']}: FAILED\n{proc.stderr[-2000:]}", flush=True)
            continue
        print(fmt(json.loads(proc.stdout.strip().splitlines()[-1])), flush=True)


if __name__ == "__main__":
    main()
