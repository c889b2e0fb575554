"""Gmsh meshes of the (r, z) half-plane window around a whispering-gallery mode of a body of revolution.

A mode of azimuthal order m lives in a small part of the (r, z) half-plane: it decays
exponentially inside its caustic and away from the equatorial belt. The mesh covers
the rectangle r_min <= r <= r_end, |z| <= z_max with a Dirichlet wall all round
(``end``), placed where the field has decayed by e^-decay inside the resonator
(:func:`wgmfem.axisym.sphere.sphere_window`; outside it the decay at the same height is
weaker), and a radial PML on r >= r_pml. With ``half`` the window is z >= 0 and the equatorial
plane is the curve ``mirror`` (an electric or magnetic wall, by the mode's parity). Regions (physical surfaces): ``body`` (inside the
resonator), ``outside``, ``pml``; the resonator's surface inside the window is the
physical curve ``surface``.

Elements are second-order (6-node) triangles; curved edges are then put on the exact
circle by the solver's degree-k isoparametric map. The element size is
``order * lambda / (n * points_per_wavelength)`` per region, divided by |s(r)| in the
PML. Lengths in um, wavelengths in nm. Meshes are cached like the cross-section meshes.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..fem.mesh import cached_mesh, mesh_and_write
from ..fem.pml import RadialPML
from .defaults import MAX_UNKNOWNS, UNKNOWNS_PER_CELL

#: bump when the layout changes, so old cache files are not reused
AXISYM_LAYOUT_VERSION = 2
#: the longest elements along z, relative to the sizes in r (anisotropic meshes of slowly varying fields)
MAX_Z_STRETCH = 8.0
#: the most a profile's elements are stretched by default: on the 8 / 9.8 um capillary's bottles
#: (m = 50) stretch 2, 4 and 8 were 3e-8, 6e-8 and 4e-7 (relative) off a finer mesh
AUTO_Z_STRETCH_MAX = 4.0


def check_z_stretch(z_stretch: float) -> None:
    """ValueError (one line) unless 1 <= z_stretch <= MAX_Z_STRETCH."""
    if not 1.0 <= z_stretch <= MAX_Z_STRETCH:
        raise ValueError(f"z_stretch must lie in [1, {MAX_Z_STRETCH:g}], got {z_stretch!r}")


def check_window_size(area_um2: float, element_um: float) -> None:
    """ValueError (one line) when a window of ``area_um2`` meshed at ``element_um`` would need more
    than :data:`MAX_UNKNOWNS` unknowns."""
    estimate = UNKNOWNS_PER_CELL * area_um2 / element_um**2
    if estimate > MAX_UNKNOWNS:
        raise ValueError(f"the (r, z) window would need ~{estimate:.2g} unknowns (more than {MAX_UNKNOWNS:.2g}, "
                         "beyond this machine's memory): choose a smaller order m or fewer points per wavelength")


@dataclass(frozen=True)
class SphereWindow:
    """The meshed window around the equator of a sphere, or of a shell (a spherical core of
    radius ``core_radius_um`` inside it; 0: a solid sphere), in um."""

    radius_um: float
    r_min_um: float
    r_end_um: float
    z_max_um: float
    pml: RadialPML
    half: bool = False  # only z >= 0, with the mirror plane z = 0 as the curve ``mirror``
    core_radius_um: float = 0.0

    @property
    def z_min_um(self) -> float:
        return 0.0 if self.half else -self.z_max_um

    def interfaces(self, z_um: np.ndarray) -> list[np.ndarray]:
        """Radius (um) of the outer surface (and of the core's) at heights z (NaN above it), for figures."""
        z = np.asarray(z_um, dtype=float)
        radii = [self.radius_um] + ([self.core_radius_um] if self.core_radius_um > 0 else [])
        with np.errstate(invalid="ignore"):
            return [np.sqrt(radius**2 - z**2) for radius in radii]

    def check(self) -> None:
        if not 0 < self.r_min_um < self.radius_um < self.pml.r_start_um < self.r_end_um:
            raise ValueError("the window must run from inside the sphere (r_min) past its surface into the PML")
        if not 0 < self.z_max_um < self.radius_um:
            raise ValueError("the window's half-height z_max must be positive and below the sphere's radius")
        if not 0 <= self.core_radius_um < self.radius_um:
            raise ValueError("a shell's core radius must lie between 0 and its outer radius")


@dataclass(frozen=True)
class AxisymMesh:
    """A cached (r, z) mesh file and its size."""

    path: Path
    num_nodes: int
    num_elements: int
    cached: bool


def _region_expressions(pml: RadialPML, sizes: dict[str, float]) -> dict[str, str]:
    """Gmsh size expressions per region: constants, divided by |s(r)| in the PML (x is r)."""
    xi = f"Max(0,(x-{pml.r_start_um})/{pml.width_um})"
    out = {name: f"{h}" for name, h in sizes.items()}
    out["pml"] = f"{sizes['pml']}/Sqrt(1+({pml.sigma0}*{xi}^{pml.power})^2)"
    return out


def _set_sizes(regions: dict[str, list[int]], expressions: dict[str, str]) -> None:
    import gmsh

    fld = gmsh.model.mesh.field
    ids = []
    for name, tags in regions.items():
        f = fld.add("MathEval")
        fld.setString(f, "F", expressions[name])
        r = fld.add("Restrict")
        fld.setNumber(r, "InField", f)
        fld.setNumbers(r, "SurfacesList", tags)
        ids.append(r)
    mn = fld.add("Min")
    fld.setNumbers(mn, "FieldsList", ids)
    fld.setAsBackgroundMesh(mn)


def _outer_curves(r0: float, r2: float, z0: float, z1: float) -> list[int]:
    """Curves of the current model on the window's rectangle r0..r2 x z0..z1 (its electric walls)."""
    import gmsh

    out = []
    for _, c in gmsh.model.getEntities(1):
        x, y, _ = gmsh.model.occ.getCenterOfMass(1, c)
        if min(abs(x - r0), abs(x - r2), abs(y - z0), abs(y - z1)) < 1e-9 * r2:
            out.append(c)
    return out


def _finish(regions: dict[str, list[int]], curves: dict[str, list[int]], pml: RadialPML, sizes: dict[str, float],
            path: Path, z_stretch: float = 1.0) -> tuple[int, int]:
    """Name the regions and curves, set the element sizes, mesh and write (``z_stretch``: the model
    was drawn with z / z_stretch, see :func:`~wgmfem.fem.mesh.mesh_and_write`)."""
    import gmsh

    for dim, groups in ((2, regions), (1, curves)):
        for name, tags in groups.items():
            if tags:
                gmsh.model.setPhysicalName(dim, gmsh.model.addPhysicalGroup(dim, tags), name)
    _set_sizes({name: tags for name, tags in regions.items() if tags}, _region_expressions(pml, sizes))
    return mesh_and_write(path, y_scale=z_stretch)


def _inside_point(tag: int) -> tuple[float, float]:
    """A point inside the surface ``tag`` of the current model: its centre of mass, unless that lies
    outside it (an arch of glass left by the window's inner edge, a crescent), else the first of a
    grid over its bounding box, from the middle row outwards, that lies inside."""
    import gmsh

    x, y, _ = gmsh.model.occ.getCenterOfMass(2, tag)
    if gmsh.model.isInside(2, tag, [x, y, 0.0]):
        return x, y
    x0, y0, _, x1, y1, _ = gmsh.model.getBoundingBox(2, tag)
    fractions = 0.5 + np.concatenate(([0.0], *[[d, -d] for d in np.arange(1, 41) / 82]))
    for fy in fractions:
        for fx in fractions:
            point = [x0 + fx * (x1 - x0), y0 + fy * (y1 - y0), 0.0]
            if gmsh.model.isInside(2, tag, point):
                return point[0], point[1]
    raise RuntimeError(f"no point found inside mesh surface {tag} (a region too thin for its bounding box)")


def _cached(shape: str, window, sizes: dict[str, float], generate, cache_dir, force: bool,
            z_stretch: float = 1.0) -> AxisymMesh:
    if any(not h > 0 for h in sizes.values()):
        raise ValueError("element sizes must be positive")
    check_z_stretch(z_stretch)
    params = {"layout": AXISYM_LAYOUT_VERSION, "shape": shape, "window": asdict(window), "sizes": sizes}
    if z_stretch != 1.0:
        params["z_stretch"] = z_stretch
    params = json.loads(json.dumps(params, default=str))
    build = (lambda p: generate(window, sizes, p)) if z_stretch == 1.0 else (
        lambda p: generate(window, sizes, p, z_stretch))  # the sphere's generator takes no stretch
    path, nodes, elements, cached = cached_mesh(params, build, prefix="axisym-", cache_dir=cache_dir, force=force)
    return AxisymMesh(path, nodes, elements, cached)


def _generate_sphere(window: SphereWindow, sizes: dict[str, float], path: Path) -> tuple[int, int]:
    import gmsh

    a, r0, r1, r2 = window.radius_um, window.r_min_um, window.pml.r_start_um, window.r_end_um
    z0, zm = window.z_min_um, window.z_max_um
    gmsh.model.add(path.stem)
    try:
        occ = gmsh.model.occ
        inner = occ.addRectangle(r0, z0, 0, r1 - r0, zm - z0)
        layer = occ.addRectangle(r1, z0, 0, r2 - r1, zm - z0)
        core = window.core_radius_um
        disks = [(2, occ.addDisk(0, 0, 0, a, a))] + ([(2, occ.addDisk(0, 0, 0, core, core))] if core > 0 else [])
        out, _ = occ.fragment([(2, inner), (2, layer)], disks)
        occ.synchronize()
        window_box = (r0 - 1e-9, z0 - 1e-9, r2 + 1e-9, zm + 1e-9)
        regions: dict[str, list[int]] = {"core": [], "body": [], "outside": [], "pml": []}
        for dim, tag in out:
            x, y, _ = occ.getCenterOfMass(dim, tag)
            if not (window_box[0] <= x <= window_box[2] and window_box[1] <= y <= window_box[3]):
                occ.remove([(dim, tag)], recursive=True)
                continue
            x, y = _inside_point(tag)
            rho = math.hypot(x, y)
            name = "core" if rho < core else "body" if rho < a else ("pml" if x > r1 else "outside")
            regions[name].append(tag)
        occ.synchronize()
        curves: dict[str, list[int]] = {"surface": [], "bore": [], "end": [], "mirror": []}
        for _, c in gmsh.model.getEntities(1):
            x, y, _ = occ.getCenterOfMass(1, c)
            if window.half and abs(y) < 1e-7 * r2:
                curves["mirror"].append(c)
                continue
            if min(abs(x - r0), abs(x - r2), abs(y - zm), abs(y - z0)) < 1e-7 * r2:
                curves["end"].append(c)
                continue
            ends = [gmsh.model.getValue(0, p[1], []) for p in gmsh.model.getBoundary([(1, c)], oriented=False)]
            for name, radius in (("surface", a), ("bore", core)):
                if radius > 0 and all(abs(math.hypot(p[0], p[1]) - radius) < 1e-6 * radius for p in ends):
                    curves[name].append(c)
        return _finish(regions, curves, window.pml, sizes, path)
    finally:
        gmsh.model.remove()


@dataclass(frozen=True)
class SegmentWindow:
    """A length of uniform layered cylinder between electric walls at z = 0 and z = length (um)."""

    radii_um: tuple[float, ...]  # outer radius of every layer, inside out
    region_names: tuple[str, ...]  # one per layer
    r_min_um: float
    length_um: float
    pml: RadialPML

    @property
    def r_end_um(self) -> float:
        return self.pml.r_end_um

    def check(self) -> None:
        if not 0 < self.r_min_um < self.radii_um[-1] < self.pml.r_start_um:
            raise ValueError("the window must run from inside the cylinder (r_min) past its surface into the PML")
        if not self.length_um > 0:
            raise ValueError("the segment length must be positive")


def _generate_segment(window: SegmentWindow, sizes: dict[str, float], path: Path,
                      z_stretch: float = 1.0) -> tuple[int, int]:
    import gmsh

    length = window.length_um / z_stretch  # drawn compressed along z, stretched after meshing
    edges = [window.r_min_um] + [r for r in window.radii_um if r > window.r_min_um] + [window.pml.r_start_um,
                                                                                        window.r_end_um]
    names = list(window.region_names[len(window.radii_um) - (len(edges) - 3):]) + ["outside", "pml"]
    gmsh.model.add(path.stem)
    try:
        occ = gmsh.model.occ
        boxes = [occ.addRectangle(a, 0, 0, b - a, length) for a, b in zip(edges[:-1], edges[1:])]
        occ.fragment([(2, b) for b in boxes], [])
        occ.synchronize()
        regions: dict[str, list[int]] = {}
        for _, tag in gmsh.model.getEntities(2):
            x, _, _ = occ.getCenterOfMass(2, tag)
            regions.setdefault(names[int(np.searchsorted(edges, x)) - 1], []).append(tag)
        end = _outer_curves(edges[0], edges[-1], 0.0, length)
        return _finish(regions, {"end": end}, window.pml, sizes, path, z_stretch)
    finally:
        gmsh.model.remove()


def build_segment_mesh(window: SegmentWindow, sizes: dict[str, float], *, z_stretch: float = 1.0,
                       cache_dir: str | Path | None = None, force: bool = False) -> AxisymMesh:
    """Mesh a uniform segment (``sizes``: um per region name, ``pml`` included; elements ``z_stretch``
    times longer along z); cached by parameters."""
    window.check()
    return _cached("segment", window, sizes, _generate_segment, cache_dir, force, z_stretch)


@dataclass(frozen=True)
class ProfileWindow:
    """A capillary whose inner and outer radius vary with z, in the window z_min..z_max (um).

    The interfaces are splines through (r_in(z), z) and (r_out(z), z) at the sample heights
    ``z_um``, which must cover the window; the window ends at z_min, z_max (where the axial
    states of interest have decayed), followed by axial PML layers ``z_pml_um`` thick and
    electric walls, and at r_min inside the caustic. With ``half`` the profile is symmetric about
    z_min, which is the curve ``mirror`` (no layer below it).
    """

    z_um: tuple[float, ...]
    r_in_um: tuple[float, ...]
    r_out_um: tuple[float, ...]
    r_min_um: float
    z_min_um: float
    z_max_um: float
    pml: RadialPML
    z_pml_um: float = 0.0  # axial PML layers this thick below z_min and above z_max (meshed too)
    half: bool = False  # z_min is a mirror plane of the profile

    @property
    def r_end_um(self) -> float:
        return self.pml.r_end_um

    @property
    def mesh_z_range_um(self) -> tuple[float, float]:
        """Heights (um) where the mesh ends: the window plus its axial PML layers (none below a mirror)."""
        return self.z_min_um - (0.0 if self.half else self.z_pml_um), self.z_max_um + self.z_pml_um

    def check(self) -> None:
        z = np.asarray(self.z_um)
        low, high = self.mesh_z_range_um
        if not (self.z_pml_um >= 0 and z[0] <= low and self.z_min_um < self.z_max_um and high <= z[-1]):
            raise ValueError(f"the window and its axial PML (z {low:.3g}..{high:.3g} um) must lie within the "
                             f"profile's z range ({z[0]:g}..{z[-1]:g} um): extend the profile")
        r_in, r_out = self.radii_at(np.linspace(low, high, 801))
        if not (0 < self.r_min_um < r_out.max() < self.pml.r_start_um):
            raise ValueError("the window must run from inside the glass (r_min) past the outer wall into the PML")

    def radii_at(self, z_um):
        """(r_in, r_out) at heights z (linear between the samples, as the splines nearly are)."""
        return np.interp(z_um, self.z_um, self.r_in_um), np.interp(z_um, self.z_um, self.r_out_um)

    def interfaces(self, z_um: np.ndarray) -> list[np.ndarray]:
        """Radii (um) of the bore and of the outer surface at heights z, for figures."""
        return list(self.radii_at(z_um))


def _interface_runs(heights: np.ndarray, r_in: np.ndarray, r_min: float) -> list[list[tuple[float, float]]]:
    """(r, z) points of an interface (the bore's or the outer surface's, radii ``r_in`` at
    ``heights``) inside the window (r > r_min), one list per stretch where it is there; a stretch
    that meets the window's inner edge (a bore closing below r_min at a sealed end, the surface of
    a strongly curved body) starts or ends on it, at the linearly interpolated height."""
    above = r_in > r_min * (1 + 1e-9)
    runs = []
    i = 0
    while i < len(heights):
        if not above[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(heights) and above[j + 1]:
            j += 1
        def crossing(outside: int, inside: int) -> tuple[float, float]:
            t = (r_min - r_in[outside]) / (r_in[inside] - r_in[outside])
            return r_min, float(heights[outside] + t * (heights[inside] - heights[outside]))

        run = [(float(r_in[n]), float(heights[n])) for n in range(i, j + 1)]
        if i > 0:
            run.insert(0, crossing(i - 1, i))
        if j + 1 < len(heights):
            run.append(crossing(j + 1, j))
        if len(run) >= 2:
            runs.append(run)
        i = j + 1
    return runs


def _generate_profile(window: ProfileWindow, sizes: dict[str, float], path: Path,
                      z_stretch: float = 1.0) -> tuple[int, int]:
    import gmsh

    z0, z1 = window.mesh_z_range_um
    r0, r1, r2 = window.r_min_um, window.pml.r_start_um, window.r_end_um
    z_all = np.asarray(window.z_um)
    gap = 1e-6 * (z1 - z0)  # a sample this close to an end would be a duplicate spline point
    heights = np.concatenate(([z0], z_all[(z_all > z0 + gap) & (z_all < z1 - gap)], [z1]))
    r_in, r_out = window.radii_at(heights)
    y0, y1 = z0 / z_stretch, z1 / z_stretch  # drawn compressed along z, stretched after meshing
    gmsh.model.add(path.stem)
    try:
        occ = gmsh.model.occ
        inner = occ.addRectangle(r0, y0, 0, r1 - r0, y1 - y0)
        layer = occ.addRectangle(r1, y0, 0, r2 - r1, y1 - y0)
        curves = [occ.addSpline([occ.addPoint(float(r), float(z) / z_stretch, 0) for r, z in run])
                  for radii in (r_in, r_out) for run in _interface_runs(heights, radii, r0)]
        occ.fragment([(2, inner), (2, layer)], [(1, c) for c in curves])
        occ.synchronize()
        regions: dict[str, list[int]] = {"core": [], "wall": [], "outside": [], "pml": []}
        for _, tag in gmsh.model.getEntities(2):
            x, y = _inside_point(tag)
            a, b = window.radii_at(y * z_stretch)
            name = "core" if x < a else "wall" if x < b else "outside" if x < r1 else "pml"
            regions[name].append(tag)
        walls = _outer_curves(r0, r2, y0, y1)
        boundary: dict[str, list[int]] = {"end": walls, "mirror": []}
        if window.half:  # the bottom edge is the mirror plane
            boundary["mirror"] = [c for c in walls if abs(occ.getCenterOfMass(1, c)[1] - y0) < 1e-9 * r2]
            boundary["end"] = [c for c in walls if c not in boundary["mirror"]]
        return _finish(regions, boundary, window.pml, sizes, path, z_stretch)
    finally:
        gmsh.model.remove()


def build_profile_mesh(window: ProfileWindow, sizes: dict[str, float], *, z_stretch: float = 1.0,
                       cache_dir: str | Path | None = None, force: bool = False) -> AxisymMesh:
    """Mesh a capillary profile window (``sizes``: um per region: core, wall, outside, pml; elements
    ``z_stretch`` times longer along z); cached."""
    window.check()
    return _cached("profile", window, sizes, _generate_profile, cache_dir, force, z_stretch)


def region_sizes_um(wavelength_nm: float, index: float, outside_index: float, order: int,
                    points_per_wavelength: float) -> dict[str, float]:
    """Element edge (um) per region: order * lambda / (n * points_per_wavelength)."""
    lam_um = wavelength_nm / 1000.0
    h_out = order * lam_um / (outside_index * points_per_wavelength)
    return {"body": order * lam_um / (index * points_per_wavelength), "outside": h_out, "pml": h_out}


def build_sphere_mesh(window: SphereWindow, sizes: dict[str, float], *, cache_dir: str | Path | None = None,
                      force: bool = False) -> AxisymMesh:
    """Mesh ``window`` with the element sizes ``sizes`` (um, per region); cached by parameters."""
    window.check()
    return _cached("sphere", window, sizes, _generate_sphere, cache_dir, force)
