"""The benchmark problems and the grid of settings each solver is run with.

Lengths in um, wavenumbers in 1/um. A *spec* is a JSON-ready dict that fully describes one
run (problem, solver, element order, points per wavelength, ...); :mod:`.worker` solves it
in a fresh process. The reference k of every problem comes from the exact solver
(``wgmfem.find_modes``); the domains are chosen so that their truncation moves the mode by
far less than the accuracies compared (1e-6, 1e-7):

* ``paper-sector``: paper capillary (radii 27 / 39 um, n 1.56 / 1.47, air), (p = 1, m = 600),
  Ez and Hz, sector 2 pi / 600 with periodic sides, Dirichlet walls at 24 um (deep inside the
  inner caustic) and 43 um (in air beyond the outer turning point 41.3 um; Q ~ 1e12, so the
  closure shifts Re k by ~1/Q) - the set-up of the NGSolve reference figures in docs/performance.md.
* ``rod-full``: rod r = 3 um, n = 1.56 in air, Ez (p = 1, m = 20, Q ~ 1.8e3), the full
  cross-section (no symmetry used) with the radial PML of wgmfem's defaults (the same profile
  in both codes), so Q is compared too.
* ``paper-full``: the paper capillary's full annulus 24-43 um (Dirichlet), Ez (p = 1, m = 600):
  what a user without the symmetry reduction would write.
"""

from __future__ import annotations

import math

MEMORY_CAP_GB = 8.0


def _exact(cylinder, pol, m, p):
    import wgmfem

    md = wgmfem.find_modes(cylinder, pol=pol, m=m, p=p, region="core", q_min=1, fsr=False)[0]
    return complex(md.k)


def paper_problem(pol: str, full: bool = False) -> dict:
    """Problem part of a spec for the paper capillary, sector 2 pi/600 (or the full annulus)."""
    import wgmfem

    k = _exact(wgmfem.Capillary(), pol, 600, 1)
    return dict(
        case="paper-full" if full else "paper-sector", cylinder="paper", pol=pol, m=600, p=1,
        k_ref=[k.real, k.imag], sector=None if full else [1, 600], boundary="dirichlet",
        r_cut_um=24.0, r_end_um=43.0, pml=None,
        regions=["core", "wall", "outside"], region_index=[1.56, 1.47, 1.0],
        bounds_um=[24.0, 27.0, 39.0, 43.0], guide_radius_um=27.0,
    )


def rod_problem(pol: str = "Ez", m: int = 20) -> dict:
    """Problem part of a spec for the 3 um rod (full cross-section, wgmfem's default PML and cut)."""
    import wgmfem
    from wgmfem.fem.pml import make_pml
    from wgmfem.fem.radial import inner_cut_radius_um

    rod = wgmfem.LayeredCylinder((3.0,), (1.56,), 1.0)
    k = _exact(rod, pol, m, 1)
    pml = make_pml(rod.outer_radius_um, k.real, rod.outside_index, m)
    r_cut = inner_cut_radius_um(rod, m, k.real)
    return dict(
        case="rod-full", cylinder="rod", pol=pol, m=m, p=1, k_ref=[k.real, k.imag], sector=None,
        boundary="pml", r_cut_um=r_cut, r_end_um=pml.r_end_um,
        pml=[pml.r_start_um, pml.width_um, pml.sigma0, pml.power],
        regions=["core", "outside", "pml"], region_index=[1.56, 1.0, 1.0],
        bounds_um=[r_cut, 3.0, pml.r_start_um, pml.r_end_um], guide_radius_um=3.0,
    )


def grids(quick: bool) -> dict:
    """(order, points per wavelength) per case and solver (wgmfem has P1-P6, NGSolve any order)."""
    if quick:
        return {
            "paper-sector": {"wgmfem": [(4, 12), (4, 16), (6, 6), (6, 8)],
                             "ngsolve": [(4, 16), (5, 12), (5, 16), (6, 12)]},
            "rod-full": {"wgmfem": [(4, 12), (6, 8), (6, 8, 4)], "ngsolve": [(5, 3), (6, 4)]},
            "paper-full": {"wgmfem": [], "ngsolve": []},
        }
    return {
        "paper-sector": {"wgmfem": [(3, 12), (3, 16), (3, 24), (4, 10), (4, 12), (4, 14), (4, 16), (4, 20), (4, 24),
                                    (5, 8), (5, 9), (5, 12), (6, 5), (6, 6), (6, 8), (6, 10)],
                         "ngsolve": [(4, 12), (4, 16), (4, 20), (4, 24), (5, 8), (5, 11), (5, 12), (5, 14), (5, 16),
                                     (6, 8), (6, 10), (6, 11), (6, 12), (6, 14)]},
        # (order, ppw[, outer ppw]): the third entry coarsens the air and the PML, where the
        # field is evanescent; NGSolve's core is pinned by 64 elements per circle (h = 0.29 um)
        # whatever ppw, so its low ppw coarsen only the outer regions too
        "rod-full": {"wgmfem": [(3, 10), (4, 8), (4, 12), (4, 16), (5, 8), (5, 10), (6, 6), (6, 7), (6, 8), (6, 10),
                                (5, 8, 3), (5, 10, 3), (5, 10, 4), (6, 7, 4), (6, 8, 3), (6, 8, 4), (6, 10, 4)],
                     "ngsolve": [(4, 8), (4, 12), (5, 3), (5, 4), (5, 5), (5, 7), (5, 8), (5, 10), (5, 14),
                                 (6, 3), (6, 4), (6, 5), (6, 7), (6, 8), (6, 10), (6, 14)]},
        # ~3.0 M unknowns, ~5 GB: the largest full annulus that fits the 8 GB cap
        "paper-full": {"wgmfem": [], "ngsolve": [(5, 8)]},
    }


#: Solver set-ups: (variant name, options). The first of each list is run on the whole grid
#: (one thread each: on this shared, loaded 2-core machine both codes ran faster with one
#: thread, measured); the others on two settings per case (full run, Ez) to find each code's
#: best set-up (and wgmfem's PARDISO on the whole sector grid beside auto, which picks SuperLU there).
NGSOLVE_VARIANTS = [
    ("Arnoldi+cholesky", dict(eig="arnoldi", inverse="sparsecholesky", threads=1)),
    ("condense+cholesky+ARPACK", dict(eig="arpack", inverse="sparsecholesky", threads=1)),
    ("Arnoldi+pardiso", dict(eig="arnoldi", inverse="pardiso", threads=1)),
    ("Arnoldi+cholesky", dict(eig="arnoldi", inverse="sparsecholesky", threads=2)),
]
WGMFEM_VARIANTS = [
    ("auto", dict(linear_solver="auto", threads=1)),  # PARDISO above 30k real / 8k complex unknowns
    ("pardiso", dict(linear_solver="pardiso", threads=1)),
    ("auto", dict(linear_solver="auto", threads=2)),
]
#: the full annulus: condensation halves the factored unknowns (memory), two threads
FULL_VARIANT = ("condense+cholesky+ARPACK", dict(eig="arpack", inverse="sparsecholesky", threads=2))


def build_specs(quick: bool) -> list[dict]:
    """Every run of the benchmark, in order."""
    g = grids(quick)
    problems = [paper_problem("Ez"), paper_problem("Hz"), rod_problem("Ez", 20)]
    if g["paper-full"]["ngsolve"]:
        problems.append(paper_problem("Ez", full=True))
    specs = []
    for prob in problems:
        for solver, variants in (("wgmfem", WGMFEM_VARIANTS), ("ngsolve", NGSOLVE_VARIANTS)):
            grid = g[prob["case"]][solver]
            for i, (order, ppw, *outer) in enumerate(grid):
                chosen = variants[:1]
                if solver == "wgmfem" and prob["case"] == "paper-sector" and not quick:
                    chosen = variants[:2]  # auto (SuperLU on these small real sectors) against PARDISO
                if prob["case"] == "paper-full":
                    chosen = [FULL_VARIANT]
                elif not quick and prob["pol"] == "Ez" and i in (len(grid) // 2, len(grid) - 1):
                    chosen = variants
                for name, opts in chosen:
                    specs.append(dict(prob, solver=solver, variant=name, order=order, ppw=ppw,
                                      outer_ppw=outer[0] if outer else None,
                                      num_modes=12 if prob["case"] == "paper-full" else 6, **opts))
    return specs


def estimated_full_unknowns(order: int, ppw: float) -> float:
    """Rough unknown count of the NGSolve full annulus 24-43 um (scaled from the sector runs)."""
    # a P-order triangle carries ~order^2/2 dofs; elements ~ area / (0.43 h^2) per region
    lam = 0.432
    areas = {1.56: math.pi * (27**2 - 24**2), 1.47: math.pi * (39**2 - 27**2), 1.0: math.pi * (43**2 - 39**2)}
    total = 0.0
    for n, area in areas.items():
        h = order * lam / (n * ppw)
        total += area / (0.43 * h * h) * order * order / 2
    return total
