"""Solve one benchmark spec in this process and print the measurements as one JSON line.

Run by :mod:`benchmarks.peers.runner` as ``python -m benchmarks.peers.worker '<spec json>'`` so
that every run starts cold and its peak memory (max RSS) is its own. Times (s): ``solve_s``
from the problem data to the identified mode (mesh, assembly, factorization, eigen-solve,
identification), imports excluded; the parent adds the whole process time.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: two eigenvectors with the same labels this close (relative) are a +-m pair (wgmfem's default)
PAIR_TOLERANCE = 1e-3


def _cylinder(name):
    import wgmfem

    return wgmfem.Capillary() if name == "paper" else wgmfem.LayeredCylinder((3.0,), (1.56,), 1.0)


def run_wgmfem(spec: dict) -> dict:
    """wgmfem's 2-D cross-section FEM (find_modes_2d: mesh, solve, identification)."""
    import gmsh  # noqa: F401  (imports before the clock: the process time has them)
    import meshio  # noqa: F401

    from wgmfem.fem.pml import RadialPML
    from wgmfem.fem.study2d import find_modes_2d

    t0 = time.perf_counter()
    k_ref = complex(*spec["k_ref"])
    kwargs = dict(order=spec["order"], points_per_wavelength=spec["ppw"], sector=spec["sector"],
                  r_cut_um=spec["r_cut_um"], num_modes=spec["num_modes"],
                  linear_solver=spec.get("linear_solver", "auto"))
    if spec.get("outer_ppw"):
        kwargs.update(region_points_per_wavelength={nm: spec["outer_ppw"] for nm in ("outside", "pml")
                                                    if nm in spec["regions"]})
    if spec["boundary"] == "pml":
        kwargs.update(pml=RadialPML(*spec["pml"][:3], power=int(spec["pml"][3])))
        target = k_ref
    else:
        kwargs.update(outer_boundary="dirichlet", r_end_um=spec["r_end_um"])
        target = complex(k_ref.real)
    modes, res = find_modes_2d(_cylinder(spec["cylinder"]), spec["pol"], spec["m"], p=spec["p"],
                               k_target=target, return_result=True, **kwargs)
    wall = time.perf_counter() - t0
    hit = next((md for md in modes if (md.m, md.p, md.region) == (spec["m"], spec["p"], "core")), None)
    out = dict(solve_s=wall, unknowns=int(res.num_unknowns), factored=int(res.num_unknowns),
               timings={k: float(v) for k, v in res.timings_s.items()}, linear_solver=res.linear_solver)
    if hit is not None:
        out.update(k=[hit.k.real, hit.k.imag], purity=float(hit.verification["purity"]),
                   pair=bool(hit.verification["pair_found"]))
    return out


def run_ngsolve(spec: dict) -> dict:
    """The NGSolve model of :mod:`.ngsolve_model`; the mode = the mean of the nearest +-m pair
    of eigenvectors identified as (m, p, core), as wgmfem reports it."""
    import netgen.occ  # noqa: F401  (imports before the clock: the process time has them)
    import ngsolve  # noqa: F401

    from . import ngsolve_model

    t0 = time.perf_counter()
    res = ngsolve_model.solve(spec)
    t1 = time.perf_counter()
    # identify the eigenvectors nearest the shift first; like wgmfem, report the mean k of the
    # +-m pair (cos/sin: both survive a sector with phase 1; the mesh splits them slightly)
    k_ref = complex(*spec["k_ref"])
    hits = []
    for i in sorted(range(len(res["k"])), key=lambda i: abs(res["k"][i] - k_ref)):
        label = ngsolve_model.identify(spec, res, [i])[0]
        if (label["m"], label["p"], label["region"]) == (spec["m"], spec["p"], "core"):
            hits.append(label)
            if len(hits) == 2:
                break
    if len(hits) == 2 and abs(hits[1]["k"] - hits[0]["k"]) > PAIR_TOLERANCE * abs(hits[0]["k"]):
        hits = hits[:1]
    hit = None
    if hits:
        hit = dict(hits[0], k=sum(h["k"] for h in hits) / len(hits), purity=min(h["purity"] for h in hits))
    timings = dict(res["timings"], identify=time.perf_counter() - t1)
    wall = time.perf_counter() - t0
    out = dict(solve_s=wall, unknowns=res["ndof"], factored=res["n_factored"],
               timings={k: float(v) for k, v in timings.items()}, linear_solver=spec["inverse"])
    if hit is not None:
        out.update(k=[hit["k"].real, hit["k"].imag], purity=hit["purity"], pair=len(hits) == 2)
    return out


def errors(spec: dict, out: dict) -> dict:
    """Relative wavelength error (signed) and, for an open (PML) problem, relative Q error."""
    if "k" not in out:
        return {}
    k, k_ref = complex(*out["k"]), complex(*spec["k_ref"])
    res = dict(rel_err=k_ref.real / k.real - 1)  # lambda / lambda_ref - 1
    if spec["boundary"] == "pml" and k.imag != 0:
        q, q_ref = k.real / (2 * abs(k.imag)), k_ref.real / (2 * abs(k_ref.imag))
        res.update(Q=q, q_rel_err=q / q_ref - 1)
    return res


def main(argv=None) -> int:
    spec = json.loads((argv or sys.argv[1:])[0])
    # the same thread count for both codes (MKL PARDISO, BLAS, NGSolve's TaskManager), set
    # before numpy/MKL load
    threads = str(spec.get("threads", 2))
    for var in ("MKL_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = threads
    os.environ.setdefault("WGMFEM_MESH_CACHE", str(Path(spec.get("mesh_cache", ROOT / "meshes" / "cache"))))
    import scipy.signal  # noqa: F401  (both codes' identification uses it; ~1 s to import)
    import scipy.sparse.linalg  # noqa: F401

    out = run_wgmfem(spec) if spec["solver"] == "wgmfem" else run_ngsolve(spec)
    out.update(errors(spec, out))
    out["found"] = "k" in out
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps(out, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
