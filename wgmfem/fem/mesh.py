"""Gmsh meshes of a layered cross-section (full disk/annulus or a periodic sector).

Lengths in um, wavelengths in nm (vacuum). The domain runs from an inner
Dirichlet cut circle of radius ``r_cut_um`` (0 = the full disk) through every
layer of the cylinder, optionally the outer medium, a PML annulus, and ends at
``r_end_um``. Each region is a physical surface group named after its layer
(``core``, ``wall``, ..., ``outside``, ``pml``); the boundaries are physical
curve groups:

* ``cut`` - the inner circle (absent when r_cut = 0),
* ``end`` - the outer circle,
* ``<inner>|<outer>`` - an interface between two regions, e.g. ``core|wall``,
* ``periodic_a`` / ``periodic_b`` - the sector sides at phi = 0 and phi = angle
  (b is the Gmsh periodic image of a, rotated by the sector angle).

Elements are second-order (curved, 6-node) triangles so that circles and
ellipses are not polygons (docs/theory.md section 11). The size is set from the local
wavelength lambda/n through Gmsh size fields (MathEval/Restrict/Threshold; a
Python size callback is ~5x slower, measured): element edge
``h = element_order * lambda / (n * points_per_wavelength)``, times
``band_factor`` within ``band_wavelengths`` local wavelengths of the guiding
interface, divided by |s(r)| in the PML (the field varies on 1/(k n |s|) there).

Perturbations (full cross-section only): the inner boundary of the wall (the
bore, the first interface) may be offset along x by ``bore_offset_um`` and made
elliptical; the outermost layer boundary may be elliptical. Ellipticity e
means semi-axes R (1 + e/2) along x and R (1 - e/2) along y (e < 0: the long
axis along y), so e = (a - b)/R. The cut circle follows the bore centre.

Meshes are cached as ``<key>.msh`` in ``$WGMFEM_MESH_CACHE``, else ``meshes/cache/`` of a source
checkout, else ``~/.cache/wgmfem/meshes/`` (:func:`default_cache_dir`; Gmsh v4.1, binary, readable
by meshio and the Gmsh GUI), key = hash of every parameter and the Gmsh version.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from ..geometry import LayeredCylinder, MaterialStack
from .pml import RadialPML

#: bump when the mesh layout changes, so old cache files are not reused
MESH_LAYOUT_VERSION = 1


def default_cache_dir() -> Path:
    """``$WGMFEM_MESH_CACHE``, else ``meshes/cache`` of the source tree, else ~/.cache/wgmfem/meshes."""
    env = os.environ.get("WGMFEM_MESH_CACHE")
    if env:
        return Path(env)
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").exists():
        return root / "meshes" / "cache"
    return Path.home() / ".cache" / "wgmfem" / "meshes"


DEFAULT_BAND_FACTOR = 0.75
DEFAULT_BAND_WAVELENGTHS = 1.0
#: At most 2 pi R / this element size along a boundary of radius R: the quadratic geometry
#: error in an eigenvalue goes like (h/R)^4 (unit disk, P4: 5.7e-5 at 13 elements per
#: circle, 1.4e-7 at 38, measured), which wavelength-based sizes ignore on small cylinders.
DEFAULT_ELEMENTS_PER_CIRCLE = 64
#: Largest mesh Gmsh is asked for, in triangles as :func:`estimated_elements` counts them (Gmsh
#: makes 2-3 times more): minutes and ~10 GB. The FEM's own limit (``max_unknowns``) is lower.
MAX_ELEMENTS = 10_000_000
#: Thinnest wall an offset or elliptical bore may leave, as a fraction of the concentric wall.
MIN_WALL_FRACTION = 0.05


@dataclass(frozen=True)
class MeshInfo:
    """A cross-section mesh on disk.

    path : the ``.msh`` file; num_nodes / num_elements : counts of nodes and
    second-order triangles; params : every parameter that defines the mesh
    (JSON-ready, radii in um, wavelength in nm); cached : True if the file was reused.
    """

    path: Path
    num_nodes: int
    num_elements: int
    params: dict
    cached: bool


# --------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------
def _sector_angle(sector) -> float | None:
    """Angle (rad) of a sector given as (j, N) = 2 pi j / N, or None for the full circle."""
    if sector is None:
        return None
    j, n = (int(v) for v in sector)
    if not (0 < j < n):
        raise ValueError(f"sector (j, N) must satisfy 0 < j < N, got {sector}")
    return 2.0 * math.pi * j / n


def check_bore_inside(cylinder: LayeredCylinder | MaterialStack, bore_offset_um: float = 0.0, inner_ellipticity: float = 0.0,
                      outer_ellipticity: float = 0.0) -> None:
    """ValueError (one line) unless an offset or elliptical bore lies inside the next surface with
    a wall of at least MIN_WALL_FRACTION of the concentric one everywhere: the bore's farthest
    reach, |offset| + a (1 + |e_in|/2), against that surface's nearest point, b (1 - |e_out|/2)."""
    if cylinder.n_layers < 2 or not (bore_offset_um or inner_ellipticity):
        return
    a, b = cylinder.radii_um[0], cylinder.radii_um[1]
    e_out = outer_ellipticity if cylinder.n_layers == 2 else 0.0
    gap = b * (1 - abs(e_out) / 2) - (abs(bore_offset_um) + a * (1 + abs(inner_ellipticity) / 2))
    least = MIN_WALL_FRACTION * (b - a)
    if gap < least:
        raise ValueError(
            f"the bore (radius {a:g} um, offset {bore_offset_um:g} um, ellipticity {inner_ellipticity:g}) reaches the "
            f"outer surface (radius {b:g} um) or leaves a wall thinner than {least:.3g} um "
            f"({100 * MIN_WALL_FRACTION:g} % of its {b - a:g} um)"
        )


def mesh_params(
    cylinder: LayeredCylinder,
    wavelength_nm: float,
    *,
    element_order: int = 3,
    points_per_wavelength: float = 12.0,
    r_cut_um: float = 0.0,
    r_end_um: float | None = None,
    pml: RadialPML | None = None,
    sector: tuple[int, int] | None = None,
    guide_layer: str = "core",
    band_factor: float = DEFAULT_BAND_FACTOR,
    band_wavelengths: float = DEFAULT_BAND_WAVELENGTHS,
    elements_per_circle: float = DEFAULT_ELEMENTS_PER_CIRCLE,
    bore_offset_um: float = 0.0,
    inner_ellipticity: float = 0.0,
    outer_ellipticity: float = 0.0,
    region_points_per_wavelength: dict | None = None,
) -> dict:
    """Check and collect the mesh parameters (see :func:`build_mesh`) into a JSON-ready dict."""
    if not wavelength_nm > 0:
        raise ValueError(f"wavelength must be a positive number of nm, got {wavelength_nm}")
    if pml is not None:
        r_end = pml.r_end_um
    else:
        r_end = cylinder.outer_radius_um if r_end_um is None else float(r_end_um)
    perturbed = bore_offset_um != 0 or inner_ellipticity != 0 or outer_ellipticity != 0
    if sector is not None and perturbed:
        raise ValueError("a sector needs a rotationally symmetric cross-section: no bore offset or ellipticity")
    if (bore_offset_um != 0 or inner_ellipticity != 0) and cylinder.n_layers < 2:
        raise ValueError("bore offset / inner ellipticity need a bore: at least two layers")
    if not 0 <= r_cut_um < cylinder.radii_um[0]:
        raise ValueError(f"r_cut_um = {r_cut_um} must lie in [0, {cylinder.radii_um[0]}) um (inside the first layer)")
    if not r_end > max(r_cut_um, 0.0):
        raise ValueError(f"the domain end {r_end} um must lie outside the cut {r_cut_um} um")
    if r_end < cylinder.outer_radius_um and perturbed:
        raise ValueError("a domain ending inside the cylinder (r_end_um < outer radius) must be unperturbed")
    check_bore_inside(cylinder, bore_offset_um, inner_ellipticity, outer_ellipticity)
    cylinder.layer_of(guide_layer)
    region_ppw = {str(k): float(v) for k, v in sorted((region_points_per_wavelength or {}).items())}
    unknown = set(region_ppw) - set(cylinder.region_names) - {"pml"}
    if unknown or not all(v > 0 for v in region_ppw.values()):
        raise ValueError(f"region_points_per_wavelength: regions {sorted(region_ppw)} must be layers, 'outside' or 'pml' with positive values")
    return dict(
        layout=MESH_LAYOUT_VERSION,
        radii_um=list(cylinder.radii_um),
        indices=[[complex(n).real, complex(n).imag] for n in cylinder.indices],
        outside_index=cylinder.outside_index,
        names=list(cylinder.names),
        wavelength_nm=float(wavelength_nm),
        element_order=int(element_order),
        points_per_wavelength=float(points_per_wavelength),
        r_cut_um=float(r_cut_um),
        r_end_um=float(r_end),
        pml=None if pml is None else [pml.r_start_um, pml.width_um, pml.sigma0, pml.power],
        sector=None if sector is None else [int(sector[0]), int(sector[1])],
        guide_layer=guide_layer,
        band_factor=float(band_factor),
        band_wavelengths=float(band_wavelengths),
        elements_per_circle=float(elements_per_circle),
        bore_offset_um=float(bore_offset_um),
        inner_ellipticity=float(inner_ellipticity),
        outer_ellipticity=float(outer_ellipticity),
        **({"region_points_per_wavelength": region_ppw} if region_ppw else {}),
    )


def mesh_key(params: dict) -> str:
    """Cache key: hash of the parameters and the Gmsh version."""
    import gmsh

    text = json.dumps({"params": params, "gmsh": gmsh.__version__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


# --------------------------------------------------------------------------
# geometry: nested closed boundaries from the inside out
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Boundary:
    name: str  # physical name of the curve group
    xc: float  # centre, um
    yc: float
    a: float  # semi-axis along x, um
    b: float  # semi-axis along y, um

    @property
    def mean_radius(self) -> float:
        return math.sqrt(self.a * self.b)

    def distance_expr(self) -> str:
        """Gmsh MathEval expression ~ distance (um) from the curve (exact for a circle)."""
        return (
            f"Abs(Sqrt(((x-({self.xc}))/{self.a})^2+((y-({self.yc}))/{self.b})^2)-1)*{self.mean_radius}"
        )


def _ellipse(name, xc, radius, ellipticity) -> Boundary:
    return Boundary(name, xc, 0.0, radius * (1 + ellipticity / 2), radius * (1 - ellipticity / 2))


def mesh_boundaries(params) -> tuple[list[Boundary], list[str]]:
    """Closed boundaries (inner first) and the region names between consecutive ones."""
    radii, names = params["radii_um"], params["names"]
    off = params["bore_offset_um"]
    bnds, regions = [], []
    if params["r_cut_um"] > 0:
        bnds.append(Boundary("cut", off, 0.0, params["r_cut_um"], params["r_cut_um"]))
    last = len(radii) - 1
    r_end = params["r_end_um"]
    for j, r in enumerate(radii):
        if r_end < r * (1 - 1e-12):  # the domain ends inside layer j (a closed, truncated cavity)
            regions.append(names[j])
            bnds.append(Boundary("end", 0.0, 0.0, r_end, r_end))
            return bnds, regions
        e, xc = 0.0, 0.0
        if j == 0 and last > 0:
            e, xc = params["inner_ellipticity"], off
        if j == last:
            e = params["outer_ellipticity"]
        nxt = names[j + 1] if j < last else "outside"
        bnds.append(_ellipse(f"{names[j]}|{nxt}", xc, r, e))
        regions.append(names[j])
    pml = params["pml"]
    outer_extent = max(bnds[-1].a, bnds[-1].b) + abs(bnds[-1].xc)
    if pml is not None:
        if pml[0] <= outer_extent:
            raise ValueError(f"the PML must start outside the cylinder ({pml[0]} um <= {outer_extent} um)")
        bnds.append(Boundary("outside|pml", 0.0, 0.0, pml[0], pml[0]))
        regions.append("outside")
        regions.append("pml")
    elif r_end > outer_extent * (1 + 1e-12):
        regions.append("outside")
    else:
        # the domain ends on the last layer boundary: it is the "end" curve
        regions_end = bnds.pop()
        bnds.append(Boundary("end", regions_end.xc, regions_end.yc, regions_end.a, regions_end.b))
        return bnds, regions
    bnds.append(Boundary("end", 0.0, 0.0, r_end, r_end))
    return bnds, regions


def _local_sizes(params, regions, bnds) -> dict[str, float]:
    """Element size (um) per region: order * (lambda / Re n) / points_per_wavelength, and
    at most 2 pi R / elements_per_circle for the smallest boundary radius R of the region."""
    lam_um = params["wavelength_nm"] / 1000.0
    n_of = {nm: complex(*ri).real for nm, ri in zip(params["names"], params["indices"])}
    n_of["outside"] = n_of["pml"] = params["outside_index"]
    region_ppw = params.get("region_points_per_wavelength", {})
    has_cut = bnds[0].name == "cut"
    sizes = {}
    for i, reg in enumerate(regions):
        # boundaries of region i: bnds[i], bnds[i+1] with a cut; bnds[i-1], bnds[i] without
        around = bnds[i : i + 2] if has_cut else bnds[max(i - 1, 0) : i + 1]
        radius = min(min(b.a, b.b) for b in around)
        scale = params["element_order"] / region_ppw.get(reg, params["points_per_wavelength"])
        sizes[reg] = min(scale * lam_um / n_of[reg], 2 * math.pi * radius / params["elements_per_circle"])
    return sizes


def estimated_elements(params) -> float:
    """Triangles of the mesh of ``params``, a lower bound from the geometry alone: each region's
    area over the area sqrt(3)/4 h^2 of an equilateral triangle of its element size h (the band
    at the guide interface and the PML grading add more), times the sector's share of the circle."""
    bnds, regions = mesh_boundaries(params)
    h = _local_sizes(params, regions, bnds)
    has_cut = bnds[0].name == "cut"
    inside = math.pi * bnds[0].a * bnds[0].b if has_cut else 0.0
    count = 0.0
    for reg, bnd in zip(regions, bnds[1:] if has_cut else bnds):
        area = math.pi * bnd.a * bnd.b
        count += (area - inside) / (math.sqrt(3) / 4 * h[reg] ** 2)
        inside = area
    angle = _sector_angle(params["sector"])
    return count if angle is None else count * angle / (2 * math.pi)


def check_mesh_size(params, max_elements: float = MAX_ELEMENTS) -> None:
    """ValueError (one line) before Gmsh starts on a mesh of surely more than ``max_elements`` triangles."""
    count = estimated_elements(params)
    if count > max_elements:
        raise ValueError(
            f"this mesh would have more than {count:.3g} triangles (limit {max_elements:.3g}): "
            "fewer points per wavelength (--mesh-size), a lower order or a longer wavelength"
        )


# --------------------------------------------------------------------------
# gmsh model
# --------------------------------------------------------------------------
def _occ_disk(occ, bnd: Boundary) -> int:
    if bnd.a >= bnd.b:
        return occ.addDisk(bnd.xc, bnd.yc, 0.0, bnd.a, bnd.b)
    # OCC wants rx >= ry: put the long axis along y through the local x axis
    return occ.addDisk(bnd.xc, bnd.yc, 0.0, bnd.b, bnd.a, zAxis=[0.0, 0.0, 1.0], xAxis=[0.0, 1.0, 0.0])


def _occ_wedge(occ, angle: float, radius: float) -> int:
    """Polygon with apex at the origin containing the sector 0 <= phi <= angle up to ``radius``."""
    nseg = max(1, math.ceil(angle / (math.pi / 4)))
    reach = 1.05 * radius / math.cos(angle / (2 * nseg))
    pts = [occ.addPoint(0.0, 0.0, 0.0)]
    for i in range(nseg + 1):
        phi = angle * i / nseg
        pts.append(occ.addPoint(reach * math.cos(phi), reach * math.sin(phi), 0.0))
    lines = [occ.addLine(pts[i], pts[(i + 1) % len(pts)]) for i in range(len(pts))]
    return occ.addPlaneSurface([occ.addCurveLoop(lines)])


def _build_surfaces(bnds, regions, angle):
    """Fragment nested disks (and the sector wedge); return {region: [surface tags]}."""
    import gmsh

    occ = gmsh.model.occ
    disks = [_occ_disk(occ, b) for b in bnds]
    tools = [(2, d) for d in disks[1:]]
    if angle is not None:
        tools.append((2, _occ_wedge(occ, angle, bnds[-1].a)))
    if tools:
        _, pieces = occ.fragment([(2, disks[0])], tools)
    else:  # a single disk: nothing to fragment
        pieces = [[(2, disks[0])]]
    # fragment maps every input disk to all pieces covering it: nested sets
    inside = [{t for _, t in pcs} for pcs in pieces[: len(disks)]]
    keep = inside[-1] & ({t for _, t in pieces[-1]} if angle is not None else inside[-1])
    shells, prev = [], set()
    for pcs in inside:
        shells.append(pcs - prev)
        prev = pcs
    if bnds[0].name == "cut":
        shells = shells[1:]  # the disk inside the cut is not meshed
    surfaces = {reg: sorted(shell & keep) for reg, shell in zip(regions, shells)}
    drop = {t for _, t in occ.getEntities(2)} - set().union(*surfaces.values())
    occ.remove([(2, t) for t in sorted(drop)], recursive=True)
    occ.synchronize()
    return surfaces


def _classify_curves(surfaces, bnds, angle) -> dict[str, list[int]]:
    """Physical curve groups: interfaces, cut, end, periodic sides (a at phi=0, b at phi=angle)."""
    import gmsh

    region_of = {s: reg for reg, tags in surfaces.items() for s in tags}
    order = list(surfaces)
    groups: dict[str, list[int]] = {}
    for _, c in gmsh.model.getEntities(1):
        up, _ = gmsh.model.getAdjacencies(1, c)
        regs = sorted({region_of[s] for s in up if s in region_of}, key=order.index)
        if not regs:
            continue
        if len(regs) == 2:
            name = f"{regs[0]}|{regs[1]}"
        else:
            name = _single_sided_curve(c, angle, bnds[0])
        groups.setdefault(name, []).append(c)
    return groups


def _curve_midpoint(c) -> tuple[float, float]:
    import gmsh

    lo, hi = gmsh.model.getParametrizationBounds(1, c)
    x, y, _ = gmsh.model.getValue(1, c, [0.5 * (lo[0] + hi[0])])
    return x, y


def _single_sided_curve(c, angle, innermost: Boundary) -> str:
    """A curve on one region only: a sector side, the inner cut or the outer end."""
    x, y = _curve_midpoint(c)
    if angle is not None:
        phi = math.atan2(y, x)
        if abs(phi) < 1e-9:
            return "periodic_a"
        if abs(math.remainder(phi - angle, 2 * math.pi)) < 1e-9:
            return "periodic_b"
    r = math.hypot(x - innermost.xc, y - innermost.yc)
    if innermost.name == "cut" and abs(r - innermost.a) < 1e-6 * innermost.a:
        return "cut"
    return "end"


def _set_periodic(groups, angle):
    """Make every periodic_b curve the rotation (by ``angle``) of its periodic_a partner."""
    import gmsh

    def key(c):
        x, y, _ = gmsh.model.occ.getCenterOfMass(1, c)
        return math.hypot(x, y)

    a = sorted(groups.get("periodic_a", []), key=key)
    b = sorted(groups.get("periodic_b", []), key=key)
    if len(a) != len(b) or not a:
        raise RuntimeError(f"sector sides do not match: {len(a)} / {len(b)} curves")
    c, s = math.cos(angle), math.sin(angle)
    affine = [c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    gmsh.model.mesh.setPeriodic(1, b, a, affine)


def _size_fields(params, surfaces, bnds):
    """Background size field: per-region constants, finer band at the guide interface, PML grading."""
    import gmsh

    fld = gmsh.model.mesh.field
    h = _local_sizes(params, list(surfaces), bnds)
    ids = []
    pml = params["pml"]
    for reg, tags in surfaces.items():
        expr = f"{h[reg]}"
        if reg == "pml":
            r0, d, sigma0, q = pml
            xi = f"Abs((Sqrt(x^2+y^2)-{r0})/{d})"
            expr = f"{h[reg]}/Sqrt(1+({sigma0}*{xi}^{q})^2)"
        f = fld.add("MathEval")
        fld.setString(f, "F", expr)
        r = fld.add("Restrict")
        fld.setNumber(r, "InField", f)
        fld.setNumbers(r, "SurfacesList", tags)
        ids.append(r)
    guide = _guide_boundary(params, bnds)
    if guide is not None and params["band_factor"] < 1:
        reg = params["guide_layer"]
        h_band = params["band_factor"] * min(h[reg], h.get(_next_region(params, reg), h[reg]))
        width = params["band_wavelengths"] * params["wavelength_nm"] / 1000.0 / _index(params, reg)
        dist = fld.add("MathEval")
        fld.setString(dist, "F", guide.distance_expr())
        th = fld.add("Threshold")
        fld.setNumber(th, "InField", dist)
        fld.setNumber(th, "SizeMin", h_band)
        fld.setNumber(th, "SizeMax", max(h.values()))
        fld.setNumber(th, "DistMin", width)
        fld.setNumber(th, "DistMax", 2 * width)
        ids.append(th)
    mn = fld.add("Min")
    fld.setNumbers(mn, "FieldsList", ids)
    fld.setAsBackgroundMesh(mn)
    return h


def _index(params, reg):
    if reg in params["names"]:
        return complex(*params["indices"][params["names"].index(reg)]).real
    return params["outside_index"]


def _next_region(params, reg):
    names = params["names"] + ["outside"]
    return names[names.index(reg) + 1] if reg in params["names"] else reg


def _guide_boundary(params, bnds):
    """The outer boundary of the guide layer (e.g. core|wall), None if it is not meshed."""
    nxt = _next_region(params, params["guide_layer"])
    want = f"{params['guide_layer']}|{nxt}"
    for b in bnds:
        if b.name == want or (b.name == "end" and params["guide_layer"] == params["names"][-1]):
            return b
    return None


def _generate(params, path: Path) -> tuple[int, int]:
    import gmsh

    bnds, regions = mesh_boundaries(params)
    angle = _sector_angle(params["sector"])
    gmsh.model.add(path.stem)
    try:
        surfaces = _build_surfaces(bnds, regions, angle)
        groups = _classify_curves(surfaces, bnds, angle)
        if angle is not None:
            _set_periodic(groups, angle)
        for reg, tags in surfaces.items():
            gmsh.model.setPhysicalName(2, gmsh.model.addPhysicalGroup(2, tags), reg)
        for name, tags in groups.items():
            gmsh.model.setPhysicalName(1, gmsh.model.addPhysicalGroup(1, tags), name)
        _size_fields(params, surfaces, bnds)
        return mesh_and_write(path)
    finally:
        gmsh.model.remove()


def mesh_and_write(path: Path, y_scale: float = 1.0) -> tuple[int, int]:
    """Mesh the current Gmsh model with second-order (curved) triangles, their mid-edge nodes on
    the true curves, and write it to ``path`` atomically; (nodes, triangles).

    ``y_scale`` stretches the finished mesh along y: a model drawn with y / y_scale becomes the
    true geometry with elements y_scale times longer along y (mid-edge nodes stay on the curves,
    whose images under the linear map are the true curves)."""
    import gmsh

    gmsh.model.mesh.generate(2)
    gmsh.model.mesh.setOrder(2)
    if y_scale != 1.0:
        gmsh.model.mesh.affineTransform([1, 0, 0, 0, 0, y_scale, 0, 0, 0, 0, 1, 0])
    tmp = path.with_suffix(f".tmp{os.getpid()}.msh")
    gmsh.write(str(tmp))
    tmp.replace(path)  # atomic: a concurrent reader never sees half a file
    nodes = len(gmsh.model.mesh.getNodes()[0])
    _, tags, _ = gmsh.model.mesh.getElements(2)
    return nodes, sum(len(t) for t in tags)


def cached_mesh(params: dict, generate, *, prefix: str = "", cache_dir: str | Path | None = None,
                force: bool = False) -> tuple[Path, int, int, bool]:
    """(path, nodes, triangles, cached) of the mesh keyed by ``params`` (:func:`mesh_key`) in the
    cache folder; ``generate(path)`` -> (nodes, triangles) builds it when it is missing (Gmsh is
    started first) and a ``.json`` beside it records the counts and the parameters."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{prefix}{mesh_key(params)}.msh"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists() and not force:
        counts = json.loads(meta.read_text())
        return path, counts["num_nodes"], counts["num_elements"], True
    start_gmsh()
    nodes, elements = generate(path)
    meta.write_text(json.dumps({"num_nodes": nodes, "num_elements": elements, "params": params}, indent=1, default=str))
    return path, nodes, elements, False


def start_gmsh():
    """Initialize Gmsh once per process with the options every wgmfem mesh uses (quiet, one thread, msh 4.1 binary)."""
    import gmsh

    if not gmsh.isInitialized():
        gmsh.initialize(interruptible=False)
    opts = {
        "General.Terminal": 0,
        "General.NumThreads": 1,
        "Mesh.MshFileVersion": 4.1,
        "Mesh.Binary": 1,
        "Mesh.SaveAll": 0,
        "Mesh.Algorithm": 6,
        "Mesh.MeshSizeFromPoints": 0,
        "Mesh.MeshSizeFromCurvature": 0,
        "Mesh.MeshSizeExtendFromBoundary": 0,
        "Mesh.HighOrderOptimize": 0,
        "Mesh.SecondOrderLinear": 0,
    }
    for name, value in opts.items():
        gmsh.option.setNumber(name, value)


def build_mesh(
    cylinder: LayeredCylinder,
    wavelength_nm: float,
    *,
    cache_dir: str | Path | None = None,
    force: bool = False,
    **kwargs,
) -> MeshInfo:
    """Mesh the cross-section of ``cylinder`` for vacuum wavelength ``wavelength_nm`` (cached).

    Keywords (see the module docstring): ``element_order`` (degree of the FE space the
    size is chosen for, default 3), ``points_per_wavelength`` (dofs per local wavelength
    lambda/n, default 12), ``r_cut_um`` (inner Dirichlet cut, 0 = full disk), ``r_end_um``
    (outer end without PML; default the cylinder's outer radius), ``pml``
    (:class:`RadialPML`; the domain then ends at its end), ``sector`` ((j, N): angle
    2 pi j / N with periodic sides), ``guide_layer`` (layer whose outer interface gets the
    finer band), ``band_factor``, ``band_wavelengths``, ``elements_per_circle`` (at most
    2 pi R / this element size next to a boundary of radius R), ``bore_offset_um``,
    ``inner_ellipticity``, ``outer_ellipticity``, ``region_points_per_wavelength``
    ({region: points per wavelength} overriding ``points_per_wavelength`` there, e.g. a
    coarser outer wall where only the small tunnelled field lives).

    A mesh of surely more than :data:`MAX_ELEMENTS` triangles (:func:`check_mesh_size`) is a
    ValueError before Gmsh starts.
    """
    params = mesh_params(cylinder, wavelength_nm, **kwargs)

    def generate(path: Path) -> tuple[int, int]:
        check_mesh_size(params)
        return _generate(params, path)

    path, nodes, elements, cached = cached_mesh(params, generate, cache_dir=cache_dir, force=force)
    return MeshInfo(path, nodes, elements, params, cached=cached)
