"""Benchmark of the axisymmetric vector FEM (wgmfem.axisym) against the exact resonances.

Run: ``python benchmarks/bench_axisym.py [--quick] [--cases sphere,segment,profile,bubble]``

Every case runs in its own subprocess, so that its peak memory (max RSS, SuperLU factors
included) is its own. Printed per run: unknowns, wall time split into mesh/assembly/solve/labels,
peak RSS, the relative wavelength error and the relative Q error of the FEM mode against the
exact resonance of the label read from its field, and the exact solver's own time.

Cases
-----
sphere  : silica sphere (n = 1.45, radius 10 um) in air, l = m = 50, 100, 200, TE and TM, half
          window with the mirror of the mode's parity; in air Q reaches 1e14 (l = 100) and 4e29
          (l = 200), beyond what a double-precision eigensolver resolves, so l = 100 and 200 run
          in an outside index 1.2 too (Q 1e5, 3e10).
segment : the small capillary of the skew tests (radii 4 / 4.9 um, n 1.50 / 1.45), m = 50, between
          electric walls pi / beta apart, against the exact skew mode at beta.
profile : the same capillary with nm-scale bulges (a 20 nm x 20 um parabolic bottle, Ez and Hz;
          Gaussians 50 and 25 nm high, 5 um wide, Ez), wall family m = 50: the FEM's axial states
          against the adiabatic axial equation (wgmfem axial), which they test.
bubble  : the paper's capillary (27 / 39 um, n 1.56 / 1.47, air) blown into a Gaussian microbubble
          2 um high and 15 um wide, core modes m = 600, Ez and Hz, q = 0 and 1: no exact solution
          and no adiabatic one (the family meets wall modes on the flanks), so the default FEM
          (12 points per wavelength across, elements 4 times longer along z, axial PML) is compared
          with a coarser one (8 points) and with the local harmonic estimate they are shifted to.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

SPHERE = [(50, 1.0, "TE"), (50, 1.0, "TM"), (100, 1.0, "TE"), (100, 1.0, "TM"), (100, 1.2, "TE"),
          (200, 1.2, "TE"), (200, 1.2, "TM"), (200, 1.0, "TE")]
SEGMENT = [("Ez", "wall", 1.0), ("Hz", "wall", 1.0), ("Ez", "core", 1.0), ("Hz", "core", 1.0)]


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6


def run_sphere(l: int, outside: float, pol: str) -> dict:  # noqa: E741
    from wgmfem.axisym.sphere import sphere_modes_fem
    from wgmfem.exact.sphere import sphere_resonance

    t0 = time.perf_counter()
    exact = sphere_resonance(10.0, 1.45, l, 1, pol, outside)
    exact_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    study = sphere_modes_fem(10.0, 1.45, l, pol=pol, outside_index=outside, num_modes=2)
    wall = time.perf_counter() - t0
    md = study.modes[0]
    return dict(case=f"sphere l={l} n_out={outside} {pol}", label=f"{md.pol} p={md.p} q={md.q}",
                unknowns=study.num_unknowns, wall_s=wall, parts=study.seconds, rss_gb=_rss_gb(),
                wavelength_error=md.wavelength_error, Q_exact=exact.Q,
                Q_error=md.q_error if md.q_resolved else None, exact_s=exact_s)


def run_segment(pol: str, region: str, beta: float) -> dict:
    import wgmfem
    from wgmfem.axisym.segment import segment_modes_fem

    t0 = time.perf_counter()
    study = segment_modes_fem(wgmfem.Capillary(8.0, 9.8, 1.50, 1.45), 50, beta, pol=pol, region=region, num_modes=2)
    wall = time.perf_counter() - t0
    k = study.nearest
    return dict(case=f"segment m=50 {pol} {region} beta={beta}", label=study.exact.label(),
                unknowns=study.num_unknowns, wall_s=wall, parts={}, rss_gb=_rss_gb(),
                wavelength_error=study.wavelength_error, Q_exact=study.exact.Q_rad,
                Q_error=abs(k.real / (-2 * k.imag) / study.exact.Q_rad - 1), exact_s=None)


#: nm-scale bulges on the small capillary: (spec, pol); the parabola's window needs |z| <= 35 um,
#: beyond the built-in spec's 1.5 L, so it is built over 3 L here
PROFILES = [("parabolic:20:20", "Ez"), ("parabolic:20:20", "Hz"), ("gaussian:50:5", "Ez"), ("gaussian:25:5", "Ez")]
PROFILE_POINTS_PER_WAVELENGTH = 20.0  # spacings within ~3e-6 nm of 16 points with elements 2x (not 4x) longer along z


def _bulge(spec: str):
    import numpy as np

    from wgmfem.axial.profile import AxialProfile, profile_from_spec

    kind, height_nm, length_um = spec.split(":")
    if kind != "parabolic":
        return profile_from_spec(spec, 4.0, 4.9)
    half = float(length_um)
    z = np.linspace(-3 * half, 3 * half, 1201)
    raised = float(height_nm) / 1e3 * np.clip(1 - (z / half) ** 2, 0.0, None)
    return AxialProfile(z, 4.0 + raised, 4.9 + raised)


def run_profile(spec: str, pol: str) -> dict:
    import wgmfem
    from wgmfem.axisym.profile import profile_modes_fem

    t0 = time.perf_counter()
    study = profile_modes_fem(_bulge(spec), wgmfem.Capillary(8.0, 9.8, 1.50, 1.45), pol=pol, m=50, region="wall",
                              count=3, points_per_wavelength=PROFILE_POINTS_PER_WAVELENGTH)
    wall = time.perf_counter() - t0
    rows = [dict(q=md.q, fem_nm=md.wavelength_nm, adiabatic_nm=md.adiabatic.wavelength_nm,
                 shift_nm=md.shift_from_adiabatic_nm, adiabatic_estimate_nm=md.adiabatic.adiabatic_shift_nm,
                 quartic_nm=md.adiabatic.quartic_shift_nm)
            for md in study.modes if md.adiabatic is not None and md.is_resonator_mode]
    spacings = [(a["fem_nm"] - b["fem_nm"], a["adiabatic_nm"] - b["adiabatic_nm"],
                 a["adiabatic_estimate_nm"] - b["adiabatic_estimate_nm"]) for a, b in zip(rows, rows[1:])]
    return dict(case=f"profile {spec} {pol} wall m=50", label="q = 0..2", unknowns=study.num_unknowns,
                wall_s=wall, parts=study.seconds, rss_gb=_rss_gb(), states=rows, spacings_nm=spacings)


def run_bubble(pol: str, points_per_wavelength: float) -> dict:
    import wgmfem
    from wgmfem.axial.profile import profile_from_spec
    from wgmfem.axisym.profile import profile_modes_fem

    t0 = time.perf_counter()
    study = profile_modes_fem(profile_from_spec("gaussian:2000:15", 27.0, 39.0), wgmfem.Capillary(), pol=pol, m=600,
                              count=2, points_per_wavelength=points_per_wavelength)
    wall = time.perf_counter() - t0
    rows = [dict(q=md.q, fem_nm=md.wavelength_nm, harmonic_nm=md.harmonic_nm, end_share=md.axial_end_share)
            for md in study.modes if md.harmonic_nm is not None]
    walls = [md.axial_end_share for md in study.modes if md.reaches_window_ends]
    return dict(case=f"bubble m=600 {pol} core ppw={points_per_wavelength:g}", label="q = 0, 1",
                unknowns=study.num_unknowns, wall_s=wall, parts=study.seconds, rss_gb=_rss_gb(), bubble=rows,
                z_stretch=study.z_stretch, eigenpairs=len(study.modes), at_walls=len(walls),
                min_wall_share=min(walls, default=float("nan")))


def child(kind: str, args: list) -> None:
    fn = {"sphere": run_sphere, "segment": run_segment, "profile": run_profile, "bubble": run_bubble}[kind]
    print(json.dumps(fn(*args)))


def spawn(kind: str, args: list) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, json.dumps(args)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def show(res: dict) -> None:
    parts = " ".join(f"{k} {v:.1f}" for k, v in res.get("parts", {}).items())
    line = f"{res['case']:<36} {res['label']:<18} N {res['unknowns']:>7} {res['wall_s']:6.1f} s ({parts}) {res['rss_gb']:.2f} GB"
    if "wavelength_error" in res:
        q_err = "Q unresolved" if res["Q_error"] is None else f"Q err {res['Q_error']:.1e}"
        exact = f", exact {1e3 * res['exact_s']:.1f} ms" if res.get("exact_s") is not None else ""
        line += f"  lambda err {res['wavelength_error']:.1e}  {q_err} (Q {res['Q_exact']:.3g}){exact}"
    print(line, flush=True)
    for row in res.get("states", []):
        print(f"    q={row['q']}: FEM {row['fem_nm']:.7f} nm, adiabatic {row['adiabatic_nm']:.7f} nm, "
              f"FEM - adiabatic {row['shift_nm']:+.2e} nm (quartic term in it {row['quartic_nm']:+.2e} nm, "
              f"dropped diagonal term {row['adiabatic_estimate_nm']:+.2e} nm)")
    if "bubble" in res:
        print(f"    z_stretch {res['z_stretch']:.2f}; {res['eigenpairs']} eigenpairs, {res['at_walls']} of them waves "
              f"reaching the window's ends (end share >= {res['min_wall_share']:.1e})")
    for row in res.get("bubble", []):
        print(f"    q={row['q']}: FEM {row['fem_nm']:.7f} nm, harmonic estimate {row['harmonic_nm']:.7f} nm, "
              f"FEM / estimate - 1 = {row['fem_nm'] / row['harmonic_nm'] - 1:+.2e}, end share {row['end_share']:.1e}")
    for fem, adi, dropped in res.get("spacings_nm", []):
        print(f"    spacing: FEM {fem:.7f} nm, adiabatic {adi:.7f} nm, difference {fem - adi:+.2e} nm "
              f"(the dropped diagonal term's change {dropped:+.2e} nm)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="l = 50 and 100 only, one segment case")
    ap.add_argument("--cases", default="sphere,segment,profile,bubble")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], json.loads(args.child[1]))
        return
    cases = args.cases.split(",")
    if "sphere" in cases:
        for spec in SPHERE:
            if args.quick and spec[0] > 100:
                continue
            show(spawn("sphere", list(spec)))
    if "segment" in cases:
        for spec in SEGMENT[: 1 if args.quick else None]:
            show(spawn("segment", list(spec)))
    if "profile" in cases and not args.quick:
        for spec, pol in PROFILES:
            show(spawn("profile", [spec, pol]))
    if "bubble" in cases and not args.quick:
        for pol in ("Ez", "Hz"):
            first, second = spawn("bubble", [pol, 12.0]), spawn("bubble", [pol, 8.0])
            show(first)
            show(second)
            other = {row["q"]: row for row in second["bubble"]}
            for a in first["bubble"]:
                if a["q"] in other:
                    print(f"    q={a['q']}: default and coarse differ by "
                          f"{abs(a['fem_nm'] / other[a['q']]['fem_nm'] - 1):.1e} relative")


if __name__ == "__main__":
    main()
