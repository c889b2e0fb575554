"""``wgmfem mesh``: write the Gmsh mesh the 2-D FEM would use for one mode (cached .msh) and
print its path and size."""

from __future__ import annotations

import argparse

from ..polarization import normalize_pol
from ..report import json_text
from ..solve import MAX_SIZE_PARAMETER, MAX_WAVELENGTH_NM, MIN_WAVELENGTH_NM, find_modes
from ..units import k_from_wavelength_nm
from .common import (
    InputError,
    add_geometry_options,
    build_geometry,
    command_progress,
    emit,
    positive_float,
    progress_step,
    single_mode,
)
from .fem_options import add_fem2d_options, add_mesh_options, fem2d_settings

HELP = "write the 2-D FEM mesh (Gmsh .msh, cached) for one mode"

EPILOG = """\
The mesh is the one `wgmfem modes --engine fem2d` builds for the same options, so a later
solve reuses it: curved second-order triangles, a Dirichlet cut inside the inner caustic of
the target m (radius and field decay printed), a finer band at the guiding interface and an
outer PML. The target wavelength comes from the exact solver of the concentric fibre
(--pol/--m/--p/--region) or from --wavelength. Files: <cache>/<key>.msh (Gmsh 4.1,
readable by meshio and the Gmsh GUI) with <key>.json holding the parameters; the key is a
hash of every parameter. <cache> is $WGMFEM_MESH_CACHE if set, else meshes/cache/ of a
source checkout (editable install), else ~/.cache/wgmfem/meshes/.

examples:
  wgmfem mesh --m 600 --p 1 --pol Ez                      (the 2 pi/600 sector)
  wgmfem mesh --layers 3:1.56 --m 20 --ellipticity 0.02   (full section of a perturbed rod)
  wgmfem mesh --m 600 --wavelength 432.09 --format json
"""


def add_parser(sub) -> None:
    msh = sub.add_parser("mesh", help=HELP, description="Write (or find in the cache) the Gmsh mesh of the "
                         "cross-section that the 2-D FEM uses for one mode, and print its path and size.",
                         epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_geometry_options(msh)
    t = msh.add_argument_group("target mode")
    t.add_argument("--m", type=int, required=True, help="azimuthal number (sets the cut, the PML and the sector)")
    t.add_argument("--p", type=int, default=1, help="radial order used to find the target wavelength (default 1)")
    t.add_argument("--pol", default="Ez", help="Ez or Hz, for the target wavelength (default Ez)")
    t.add_argument("--region", default="core", help="region of the target mode (default core)")
    t.add_argument("--wavelength", type=positive_float, metavar="NM", help="target vacuum wavelength in nm instead of the exact mode's")
    e = msh.add_argument_group("mesh")
    add_mesh_options(e, fem1d=False)
    add_fem2d_options(e)
    o = msh.add_argument_group("output")
    o.add_argument("--format", choices=("table", "json"), default="table")
    o.add_argument("--output", metavar="FILE", help="write the report to FILE (atomically) instead of standard output")
    o.add_argument("--quiet", action="store_true", help="no progress on stderr")
    msh.set_defaults(run=run)


def run(args) -> int:
    from ..fem.engine2d import check_before_meshing, mesh_like, solver_options
    from ..fem.mesh import check_bore_inside
    from ..fem.radial import wkb_decay

    cyl = build_geometry(args)
    if args.m < 0 or args.p < 1:
        raise InputError("--m must be >= 0 and --p >= 1")
    settings = fem2d_settings(args, quiet=True)
    try:
        settings.check()
        check_bore_inside(cyl, settings.bore_offset_um, settings.inner_ellipticity, settings.outer_ellipticity)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    progress = command_progress(args)  # a bar per step: the target mode, the mesh (Gmsh: minutes for a large full section)
    with progress_step(progress, "target mode"):
        target = _target(args, cyl)
    try:  # the size is estimated before Gmsh starts, as for `modes --engine fem2d`
        check_before_meshing(target, settings, solver_options(target, settings))
        with progress_step(progress, "mesh"):
            info, r_cut, pml, sector = mesh_like(target, settings)
    except ValueError as exc:
        raise InputError(str(exc).splitlines()[0]) from None
    record = {
        "path": str(info.path),
        "cached": info.cached,
        "num_nodes": info.num_nodes,
        "num_elements": info.num_elements,
        "file_bytes": info.path.stat().st_size,
        "target_wavelength_nm": target.wavelength_nm,
        "m": args.m,
        "domain": f"sector 2 pi/{sector[1]}" if sector else "full cross-section",
        "r_cut_um": r_cut,
        "field_decay_at_cut": wkb_decay(target.cylinder, args.m, target.k.real, r_cut) if r_cut > 0 else None,
        "pml_um": None if pml is None else [pml.r_start_um, pml.r_end_um],
        "params": info.params,
    }
    if args.format == "json":
        text = json_text(record, indent=1) + "\n"
    else:
        decay = record["field_decay_at_cut"]
        cut_text = (f"Dirichlet circle r = {r_cut:.3f} um inside the inner caustic of m = {args.m} "
                    f"(WKB field decay there {decay:.1e})" if r_cut > 0 else "none (full disk)")
        pml_text = "none" if pml is None else f"{pml.r_start_um:.3f}-{pml.r_end_um:.3f} um (sigma0 {pml.sigma0:.3g})"
        text = (
            f"mesh    : {info.path}{' (cached)' if info.cached else ''}\n"
            f"size    : {info.num_nodes} nodes, {info.num_elements} curved triangles, "
            f"{record['file_bytes'] / 1e6:.2f} MB\n"
            f"target  : {target.label()} at {target.wavelength_nm:.4f} nm; {record['domain']}\n"
            f"cut     : {cut_text}\n"
            f"PML     : {pml_text}\n"
        )
    emit(text, args.output)
    return 0


def _target(args, cyl):
    """The mode the mesh is for: at --wavelength, or the exact mode (pol, m, p, region)."""
    from ..mode import Mode

    if args.wavelength is None:
        return single_mode(find_modes(cyl, pol=args.pol, m=args.m, p=args.p, region=args.region, fsr=False))
    if not MIN_WAVELENGTH_NM <= args.wavelength <= MAX_WAVELENGTH_NM:
        raise InputError(f"--wavelength must lie between {MIN_WAVELENGTH_NM:g} and {MAX_WAVELENGTH_NM:g} nm")
    if args.m > MAX_SIZE_PARAMETER:
        raise InputError(f"--m must be at most {MAX_SIZE_PARAMETER:g}")
    try:
        pol = normalize_pol(args.pol)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if hasattr(cyl, "at"):  # dispersive stack: indices at the given wavelength
        cyl = cyl.at(args.wavelength)
    cyl.layer_of(args.region)  # a GeometryError for an unknown region
    return Mode(pol=pol, m=args.m, p=args.p, region=args.region, k=complex(k_from_wavelength_nm(args.wavelength)),
                cylinder=cyl, energy_fractions={})
