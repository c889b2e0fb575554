"""Gmsh recipes of the standard cross-sections of the paper's capillary (see meshes/README.md).

    python meshes/make.py paper-sector          # periodic 2 pi/600 sector = `wgmfem mesh --m 600 --p 1 --pol Ez`
    python meshes/make.py paper-full-section    # full section, the graded mesh of docs/fem.md (Accuracy)
    python meshes/make.py perturbed-bore        # the same with the bore moved 0.5 um along x
    python meshes/make.py all --out /tmp/m      # every recipe, into another folder

Each recipe writes <name>.msh (Gmsh 4.1 binary, second-order triangles, physical groups named
after the regions) and <name>.json (every parameter of the mesh) into this folder or --out,
with the mesh builder of `wgmfem mesh` (wgmfem.fem.cross_section.cross_section_mesh), and
prints the paths, the node and element counts and the time. It builds afresh each time and
leaves wgmfem's run-time mesh cache alone. Lengths in um, wavelengths in nm.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import gmsh

import wgmfem
from wgmfem.fem.cross_section import cross_section_mesh
from wgmfem.fem.engine2d import CrossSectionSettings, solver_options
from wgmfem.fem.mesh import mesh_boundaries

HERE = Path(__file__).resolve().parent

# The capillary of Adv. Mater. 2015, 27, 169: a fused-silica tube (glass n = 1.47) of 54 um bore
# and 78 um outer diameter, filled with a quantum-dot toluene solution (n = 1.56), in air (n = 1).
PAPER = wgmfem.Capillary(inner_diameter_um=54, outer_diameter_um=78, core_index=1.56, wall_index=1.47)
# The mode every mesh is made for: the lasing whispering-gallery mode with Ez along the fibre axis,
# m = 600 field periods around the bore, one radial maximum (p = 1), in the core; 432.09 nm. Its
# wavelength sets the element size, m the inner cut (inside the caustic, where the field has
# died out), the PML or outer wall (beyond the outer turning point 41.3 um) and the sector angle.
POL, M, P = "Ez", 600, 1

# The graded P4 mesh of docs/fem.md, "Full cross-section of the paper capillary" (2.61 M unknowns,
# -7.9e-7 from the exact wavelength, ~7 GB to solve), also used there for the perturbed bores.
GRADED_FULL = dict(
    order=4,                     # Lagrange degree of the FE space the element size is chosen for
    points_per_wavelength=10,    # nodal points per local wavelength lambda/n in the core (the liquid)
    region_points_per_wavelength={"wall": 6, "outside": 3},  # coarser glass and air: only the tail lives there
    band_factor=0.7,             # elements 0.7 times smaller ...
    band_wavelengths=3,          # ... within 3 local wavelengths of the bore (core|wall), where the mode peaks
    cut_decay=1e-6,              # inner Dirichlet circle where the WKB field has decayed to 1e-6 (r ~ 24 um)
    outer_boundary="dirichlet",  # closed by a Dirichlet circle (real problem, no PML) ...
    r_end_um=43.0,               # ... at 43 um in the air, beyond the outer turning point m/k = 41.3 um
)
# --pml: the command line's open boundary instead: a radial PML 2 outside wavelengths wide, from
# one wavelength beyond the outer turning point (docs/fem.md, PML), meshed like the air (3 points
# per wavelength, as benchmarks/peers does; at the core's 10 it would hold 60 % of the triangles)
PML_CLOSURE = dict(outer_boundary="pml", r_end_um=None, pml={"width_wavelengths": 2.0},
                   region_points_per_wavelength={"wall": 6, "outside": 3, "pml": 3})


def target_mode():
    """The exact (Ez, m = 600, p = 1) core mode of the concentric capillary (the target of every mesh)."""
    return wgmfem.find_modes(PAPER, pol=POL, m=M, p=P, region="core", fsr=False)[0]


def paper_sector(args, target) -> tuple[dict, str | None]:
    # what `wgmfem modes --engine fem2d` and `wgmfem mesh` use for this mode: a 2 pi/600 sector
    # (periodic sides, Floquet phase 1), P6 at 8 points per wavelength, a PML 2 wavelengths wide
    kwargs = solver_options(target, CrossSectionSettings())
    return kwargs, f"wgmfem mesh --m {M} --p {P} --pol {POL}"


def paper_full_section(args, target) -> tuple[dict, str | None]:
    kwargs = dict(GRADED_FULL, m=M)
    if args.pml:
        kwargs.update(PML_CLOSURE)
    return kwargs, None  # region_points_per_wavelength & co. are not options of the command line


def perturbed_bore(args, target) -> tuple[dict, str | None]:
    kwargs, _ = paper_full_section(args, target)
    # the bore centre moved along x (um), and its ellipticity e = (a - b)/R: semi-axes R (1 + e/2)
    # along x and R (1 - e/2) along y; the same meaning as --bore-offset / --ellipticity of wgmfem
    kwargs.update(bore_offset_um=args.bore_offset, inner_ellipticity=args.ellipticity)
    return kwargs, None


RECIPES = {
    "paper-sector": ("periodic 2 pi/600 sector", paper_sector),
    "paper-full-section": ("full cross-section, graded mesh", paper_full_section),
    "perturbed-bore": ("full cross-section, perturbed bore, graded mesh", perturbed_bore),
}


def coarsened(kwargs: dict, factor: float) -> dict:
    """The recipe with every points-per-wavelength divided by ``factor`` (quick looks, tests)."""
    if factor == 1:
        return kwargs
    out = dict(kwargs, points_per_wavelength=kwargs["points_per_wavelength"] / factor)
    if kwargs.get("region_points_per_wavelength"):
        out["region_points_per_wavelength"] = {k: v / factor for k, v in kwargs["region_points_per_wavelength"].items()}
    return out


def make(name: str, args, target) -> Path:
    what, recipe = RECIPES[name]
    kwargs, command = recipe(args, target)
    if args.coarsen != 1:
        kwargs, command = coarsened(kwargs, args.coarsen), None  # no longer the command's mesh
    stem = name.replace("-", "_")
    with tempfile.TemporaryDirectory(dir=args.out) as tmp:  # a fresh build, never a cached file
        t0 = time.perf_counter()
        info, r_cut, pml = cross_section_mesh(PAPER, target.k, cache_dir=tmp, **kwargs)
        seconds = time.perf_counter() - t0
        msh = info.path.replace(args.out / f"{stem}.msh")
    meta = args.out / f"{stem}.json"
    meta.write_text(json.dumps({"recipe": name, "command": command, "num_nodes": info.num_nodes,
                                "num_elements": info.num_elements, "r_cut_um": r_cut, "params": info.params}, indent=1))
    bnds, regions = mesh_boundaries(info.params)
    curves = [b.name for b in bnds] + (["periodic_a", "periodic_b"] if info.params["sector"] else [])
    outer = f"PML {pml.r_start_um:.3f}-{pml.r_end_um:.3f} um" if pml else f"Dirichlet circle {info.params['r_end_um']:g} um"
    print(f"{name}: {what}, {target.label()} at {target.wavelength_nm:.4f} nm")
    print(f"  mesh   : {msh} ({msh.stat().st_size / 1e6:.2f} MB)")
    print(f"  params : {meta}")
    print(f"  size   : {info.num_nodes} nodes, {info.num_elements} second-order triangles (P{kwargs['order']} sizes)")
    bore = f"; bore offset {info.params['bore_offset_um']:g} um, ellipticity {info.params['inner_ellipticity']:g}"
    print(f"  domain : cut {r_cut:.3f} um to {outer}{bore if name == 'perturbed-bore' else ''}")
    print(f"  groups : regions {', '.join(regions)}; curves {', '.join(curves)}")
    print(f"  time   : {seconds:.2f} s meshing (Gmsh {gmsh.__version__})")
    if command:
        print(f"  same mesh as `{command}` (which caches it for the solver)")
    return msh


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe", choices=[*RECIPES, "all"])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the .msh/.json files (default: meshes/)")
    parser.add_argument("--pml", action="store_true", help="full sections: a PML instead of the Dirichlet circle at 43 um")
    parser.add_argument("--bore-offset", type=float, default=0.5, metavar="UM", help="perturbed-bore: bore centre shift along x (default 0.5)")
    parser.add_argument("--ellipticity", type=float, default=0.0, metavar="E", help="perturbed-bore: bore ellipticity (a - b)/R (default 0; 0.002 in docs/fem.md)")
    parser.add_argument("--coarsen", type=float, default=1.0, metavar="F", help="divide every points-per-wavelength by F (default 1)")
    args = parser.parse_args(argv)
    if not args.coarsen > 0:
        parser.error("--coarsen must be positive")
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    target = target_mode()
    print(f"target : {target.label()} at {target.wavelength_nm:.5f} nm (exact solver, {time.perf_counter() - t0:.2f} s)")
    for name in RECIPES if args.recipe == "all" else [args.recipe]:
        make(name, args, target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
