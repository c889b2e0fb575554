"""2-D cross-section finite elements (scikit-fem on curved Gmsh meshes).

Units: lengths in um, wavenumbers in 1/um, wavelengths in nm.

Problems (docs/theory.md sections 1 and 11; u = Ez or Hz on the cross-section):

* ``Ez``: A = int (Lambda grad u) . grad v,        B = int n^2 m_s u v
* ``Hz``: A = int n^-2 (Lambda grad u) . grad v,   B = int m_s u v

and A x = k^2 B x. Lambda and m_s are the PML factors of
:meth:`wgmfem.fem.pml.RadialPML.tensor_2d` (identity and 1 outside the PML). The
index is a P0 field from the physical groups of the mesh (never a by-radius
test: quadrature points of the curved elements between chord and arc would be
mislabelled). Interface conditions are natural.

Boundaries: the inner cut and the outer end are Dirichlet (the end may be
Neumann for a closed cavity without PML). A sector (j, N) of angle
alpha = 2 pi j / N has its sides identified with the Floquet phase
exp(i m alpha): dofs of side b are phase * dofs of side a, through a matrix P
from reduced to full dofs (A_r = P^H A P). For m alpha a multiple of 2 pi the
phase is 1 and a lossless problem without PML stays real symmetric.

Elements: Lagrange P1-P4 of scikit-fem and P5/P6 of :mod:`wgmfem.fem.elements`
on ``MeshTri2`` (6-node curved triangles). Both number the edge dofs of P3-P6
along the local edge direction, so the vertices of every element are sorted
by global index on loading (as ``MeshTri1`` does itself); otherwise
neighbouring elements would disagree on their shared edge dofs. On a concentric
section the elements along small circles use the exact-circle map of degree k
(``exact_circles``). Matrices: :mod:`wgmfem.fem.assembly` (one product per form);
field values at points: :mod:`wgmfem.fem.evaluate`.

Eigen-solve: shift-invert around k_target^2 through :mod:`wgmfem.fem.eigensolvers`
(``eigensolver="scipy"``: ARPACK with MKL PARDISO when pypardiso is installed, else
SuperLU; ``"slepc"``: SLEPc/PETSc, MPI-capable); every eigenpair's relative residual
is kept (``CrossSectionResult.residuals``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from skfem import CellBasis, Element, ElementTriP1, ElementTriP2, ElementTriP3, ElementTriP4, MeshTri2
from skfem.assembly import Dofs
from skfem.mapping import MappingIsoparametric

from ..geometry import LayeredCylinder
from ..polarization import normalize_pol
from ..units import wavelength_nm_from_k
from .assembly import ChunkQuadrature, mass_blocks, stiffness_blocks, to_sparse
from .eigensolvers import relative_residuals, shift_invert
from .elements import ElementTriP5, ElementTriP6, circle_geometry, concentric_circles
from .evaluate import evaluate
from .mesh import Boundary, MeshInfo, build_mesh, mesh_boundaries
from .pml import RadialPML, make_pml
from .radial import DEFAULT_CUT_DECAY, DEFAULT_MAX_PML_FRACTION, inner_cut_radius_um, wkb_decay
from .results import EigenvaluesMixin

#: Default dofs per local wavelength lambda/n (element edge = order * lambda / (n * ppw)).
DEFAULT_POINTS_PER_WAVELENGTH = 12.0
#: Elements per assembly chunk: bounds the memory of the precomputed basis values.
CHUNK_ELEMENTS = 20000
OUTER_BOUNDARIES = ("pml", "dirichlet", "neumann")
#: With exact circles the geometry no longer asks for small elements along a circle; this
#: many per circle keeps each arc well inside its straight triangle (point location) and
#: meshes well (3 um rod, P6 8 ppw: -7.1e-8 with 16 per circle, -6.7e-8 with 24).
EXACT_CIRCLE_ELEMENTS_PER_CIRCLE = 16
#: Circles meshed with at least this many edges per turn keep the quadratic arcs: their
#: O((h/R)^4) error is below ~1e-9 there (3 um rod, P6: -1.6e-8 at h/R = 0.1; the 27 um
#: paper sector, ~600 per turn: the same wavelength to 4 digits with either map).
QUADRATIC_ARCS_PER_TURN = 128
ELEMENTS = {1: ElementTriP1, 2: ElementTriP2, 3: ElementTriP3, 4: ElementTriP4, 5: ElementTriP5, 6: ElementTriP6}


# --------------------------------------------------------------------------
# mesh loading
# --------------------------------------------------------------------------
@dataclass
class LoadedMesh:
    """A Gmsh cross-section mesh in scikit-fem form.

    mesh : ``MeshTri2`` with vertex-sorted elements; element_group : physical surface
    name of every element; boundaries : physical curve name -> facet indices of ``mesh``.
    """

    mesh: MeshTri2
    element_group: np.ndarray
    boundaries: dict[str, np.ndarray]


# gmsh 6-node triangle: vertices 0, 1, 2, then mid-edge nodes of (0,1), (1,2), (2,0)
_EDGE_NODE = {frozenset((0, 1)): 3, frozenset((1, 2)): 4, frozenset((0, 2)): 5}


def _sort_vertices(t6: np.ndarray) -> np.ndarray:
    """Permute the local nodes of every 6-node triangle so its vertex indices increase."""
    perm = np.argsort(t6[:3], axis=0)  # (3, nelem): old local index of new vertex i
    cols = np.arange(t6.shape[1])
    out = np.empty_like(t6)
    for i in range(3):
        out[i] = t6[perm[i], cols]
    # new edge (a, b) takes the mid node of old edge (perm[a], perm[b])
    for new_slot, (a, b) in zip((3, 4, 5), ((0, 1), (1, 2), (0, 2))):
        pa, pb = perm[a], perm[b]
        slot = np.full(t6.shape[1], -1)
        for pair, old_slot in _EDGE_NODE.items():
            i, j = tuple(pair)
            slot[((pa == i) & (pb == j)) | ((pa == j) & (pb == i))] = old_slot
        out[new_slot] = t6[slot, cols]
    return out


def _facet_lookup(mesh, v0, v1) -> np.ndarray:
    """Facet indices of the edges (v0, v1) (vertex indices of ``mesh``)."""
    n = mesh.p.shape[1]
    f = np.sort(mesh.facets, axis=0)
    keys = f[0].astype(np.int64) * n + f[1]
    order = np.argsort(keys)
    lo, hi = np.minimum(v0, v1).astype(np.int64), np.maximum(v0, v1)
    pos = np.searchsorted(keys, lo * n + hi, sorter=order)
    found = order[np.clip(pos, 0, len(order) - 1)]
    if not np.all(keys[found] == lo * n + hi):
        raise ValueError("a boundary edge of the .msh file is not an edge of the triangle mesh")
    return found


def load_mesh(path: str | Path) -> LoadedMesh:
    """Read a second-order Gmsh cross-section (see :mod:`wgmfem.fem.mesh`) into scikit-fem."""
    import meshio

    msh = meshio.read(path)
    tri = msh.cells_dict["triangle6"].T.astype(np.int64)
    sets = msh.cell_sets_dict
    group = np.full(tri.shape[1], "", dtype=object)
    for name, blocks in sets.items():
        if "triangle6" in blocks and not name.startswith("gmsh:"):
            group[blocks["triangle6"]] = name
    t6 = _sort_vertices(tri)
    # MeshTri2 renumbers the vertices as np.unique(t[:3]) (see skfem Mesh.__post_init__)
    uniq = np.unique(t6[:3])
    mesh = MeshTri2(msh.points[:, :2].T.copy(), t6)
    lines = msh.cells_dict.get("line3")
    boundaries = {}
    for name, blocks in sets.items():
        if "line3" in blocks and not name.startswith("gmsh:"):
            ends = lines[blocks["line3"], :2].T
            boundaries[name] = _facet_lookup(mesh, np.searchsorted(uniq, ends[0]), np.searchsorted(uniq, ends[1]))
    return LoadedMesh(mesh, group.astype(str), boundaries)


def _element_index(cylinder, element_group) -> tuple[np.ndarray, np.ndarray]:
    """(region index into cylinder.region_names, in-PML mask) per element; the PML is 'outside'."""
    names = list(cylinder.region_names)
    in_pml = element_group == "pml"
    group = np.where(in_pml, "outside", element_group)
    unknown = set(np.unique(group)) - set(names)
    if unknown:
        raise ValueError(f"mesh regions {sorted(unknown)} are not layers of the cylinder {names}")
    lookup = {nm: i for i, nm in enumerate(names)}
    return np.array([lookup[g] for g in group]), in_pml


def _coefficients(q, pol, n_elem, in_pml_elem, pml):
    """Form coefficients at the quadrature points of one chunk (arrays (nel, nqp))."""
    nqp = q.num_points
    n2 = np.repeat((n_elem * n_elem)[:, None], nqp, axis=1)
    a, b = (np.ones_like(n2), n2) if pol == "Ez" else (1.0 / n2, np.ones_like(n2))
    coef = dict(a=a, b=b)
    if pml is not None:
        x, y = q.x
        r = np.hypot(x, y)
        l_rr, l_pp, ms = (np.ones_like(r, dtype=complex) for _ in range(3))
        sel = np.repeat(in_pml_elem[:, None], nqp, axis=1)
        l_rr[sel], l_pp[sel], ms[sel] = pml.tensor_2d(r[sel])
        c, s = x / r, y / r
        # Lambda = Rot(phi) diag(l_rr, l_pp) Rot(phi)^T
        coef.update(lxx=l_rr * c * c + l_pp * s * s, lxy=(l_rr - l_pp) * c * s, lyy=l_rr * s * s + l_pp * c * c, ms=ms)
    return coef


def _chunk_basis(mesh, element, dofs, intorder, elements):
    # a fresh mapping per chunk: the isoparametric mapping caches its Jacobians
    mapping = MappingIsoparametric(mesh, ElementTriP2())
    return CellBasis(
        mesh, element, mapping=mapping, intorder=intorder, elements=elements, dofs=dofs, disable_doflocs=True
    )


def _elements_per_turn(mesh, facets, centre, radius) -> float:
    """Mesh edges a full turn of this circle would have (2 pi R / mean edge length)."""
    ends = mesh.p[:, mesh.facets[:, np.asarray(facets)]]  # (2, 2, nfacets)
    return 2 * math.pi * radius / float(np.mean(np.hypot(*(ends[:, 0] - ends[:, 1]))))


class _Geometry:
    """Quadrature data of chunks of elements through the mesh geometry: the 6-node
    (quadratic) map everywhere, or with ``exact_circles`` the degree-``order`` map of
    :func:`circle_geometry` on the elements with an edge on a concentric circle of fewer
    than :data:`QUADRATIC_ARCS_PER_TURN` edges per turn (elsewhere that map equals the
    quadratic one, so only those elements pay for it)."""

    def __init__(self, mesh, boundaries, order, exact_circles):
        self.mesh = mesh
        self.exact = None
        self.curved = np.zeros(mesh.nelements, dtype=bool)
        circles = concentric_circles(mesh, boundaries) if exact_circles and order > 2 else []
        self.circles = [c for c in circles if _elements_per_turn(mesh, *c) < QUADRATIC_ARCS_PER_TURN]
        if self.circles:
            self.exact = circle_geometry(mesh, order, self.circles)
            for facets, _, _ in self.circles:
                owners = mesh.f2t[:, np.asarray(facets)].ravel()
                self.curved[owners[owners >= 0]] = True

    def quadrature(self, element, dofs, intorder, elements) -> ChunkQuadrature:
        # a fresh mapping per chunk: the isoparametric mapping caches its Jacobians
        q = ChunkQuadrature.build(MappingIsoparametric(self.mesh, ElementTriP2()), element, dofs, intorder, elements)
        on_circle = np.flatnonzero(self.curved[elements])
        if self.exact is not None and on_circle.size:
            mapping = MappingIsoparametric(self.exact, self.exact.elem())
            q.replace_map(on_circle, mapping, elements[on_circle], intorder)
        return q


def _energy_weight(pol, n_chunk, nqp):
    """Weight of the electric energy u^H E u in a chunk: Ez Re(n^2) (on |u|^2),
    Hz Re(n^2)/|n^2|^2 (on |grad u|^2), per element and quadrature point."""
    n2 = n_chunk * n_chunk
    wt = n2.real if pol == "Ez" else n2.real / np.abs(n2) ** 2
    return np.repeat(wt[:, None], nqp, axis=1)


def _assemble(mesh, element, dofs, intorder, pol, n_elem, groups, pml, kind, geometry):
    """Stiffness A, mass B (full dofs) and the real energy matrix of every element group.

    Assembled in chunks of at most :data:`CHUNK_ELEMENTS` elements to bound the memory
    of the precomputed basis values. The energy matrix of a group is its part of B (Ez)
    or A (Hz) where the index is real and there is no PML.
    """
    A = B = None
    energy = {}
    for start in range(0, mesh.nelements, CHUNK_ELEMENTS):
        chunk = np.arange(start, min(start + CHUNK_ELEMENTS, mesh.nelements))
        q = geometry.quadrature(element, dofs, intorder, chunk)
        n_chunk, group = n_elem[chunk], groups[chunk]
        coef = _coefficients(q, pol, n_chunk, group == "pml", pml if kind == "pml" else None)
        if kind == "real":
            coef = {key: val.real for key, val in coef.items()}
        tensor = (coef["lxx"], coef["lxy"], coef["lyy"]) if kind == "pml" else None
        a_blocks = stiffness_blocks(q, coef["a"], tensor)
        b_blocks = mass_blocks(q, coef["b"] * coef["ms"] if kind == "pml" else coef["b"])
        a, b = to_sparse(q, a_blocks), to_sparse(q, b_blocks)
        A, B = (a, b) if A is None else (A + a, B + b)
        for g in np.unique(group):
            sel = np.flatnonzero(group == g)
            sub = q.subset(sel)
            if g != "pml" and np.all(n_chunk[sel].imag == 0):
                e = to_sparse(sub, (b_blocks if pol == "Ez" else a_blocks)[sel].real)
            else:
                wt = _energy_weight(pol, n_chunk[sel], q.num_points)
                e = to_sparse(sub, mass_blocks(sub, wt) if pol == "Ez" else stiffness_blocks(sub, wt))
            energy[g] = e if g not in energy else energy[g] + e
    return A.tocsr(), B.tocsr(), {g: e.tocsr() for g, e in energy.items()}


# --------------------------------------------------------------------------
# constraints: Dirichlet and periodic sides
# --------------------------------------------------------------------------
def _facet_dofs(dofs, facets) -> np.ndarray:
    """All dofs (vertex, edge) on the given facets."""
    return np.unique(np.asarray(dofs.get_facet_dofs(facets).flatten()))


def dof_locations(mesh, element, dofs) -> np.ndarray:
    """Physical (x, y) in um of every dof, shape (2, N) (mapped through the curved geometry)."""
    mapping = MappingIsoparametric(mesh, ElementTriP2())
    locs = mapping.F(element.doflocs.T)  # (2, nelem, nbfun)
    out = np.zeros((2, dofs.N))
    for j in range(dofs.element_dofs.shape[0]):
        out[:, dofs.element_dofs[j]] = locs[:, :, j]
    return out


def _periodic_pairs(locs, dofs_a, dofs_b, angle, tol_um):
    """Match every dof of side b with the dof of side a that the rotation by ``angle`` maps onto it."""
    from scipy.spatial import cKDTree

    c, s = math.cos(angle), math.sin(angle)
    xa, ya = locs[:, dofs_a]
    rotated = np.vstack((c * xa - s * ya, s * xa + c * ya)).T
    dist, idx = cKDTree(rotated).query(locs[:, dofs_b].T)
    if len(dofs_a) != len(dofs_b) or np.max(dist, initial=0.0) > tol_um:
        raise RuntimeError(
            f"periodic sides do not match: {len(dofs_a)} / {len(dofs_b)} dofs, worst distance {np.max(dist):.2e} um"
        )
    return dofs_a[idx], dofs_b


def _reduction(n_dofs, fixed, slaves, masters, phase) -> sp.csr_matrix:
    """P (full x reduced): free dofs map to themselves, slaves to phase * master, fixed to 0."""
    is_free = np.ones(n_dofs, dtype=bool)
    is_free[fixed] = False
    is_free[slaves] = False
    free = np.flatnonzero(is_free)
    col = np.full(n_dofs, -1)
    col[free] = np.arange(len(free))
    keep = col[masters] >= 0  # a slave whose master is fixed is itself fixed
    rows = np.concatenate((free, slaves[keep]))
    cols = np.concatenate((col[free], col[masters[keep]]))
    vals = np.concatenate((np.ones(len(free)), np.full(keep.sum(), phase)))
    dtype = float if phase == 1 else complex
    return sp.csr_matrix((vals.astype(dtype), (rows, cols)), shape=(n_dofs, len(free)))


# --------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------
@dataclass
class CrossSectionResult(EigenvaluesMixin):
    """Eigenmodes of the 2-D cross-section near ``k_target``.

    k : complex eigen-wavenumbers (1/um), sorted by distance to k_target (Im k < 0: leaky).
    vectors : full-space eigenvectors (basis.N, num_modes), largest |dof| = 1.
    mesh, element, dofs, intorder : the scikit-fem discretization (:meth:`basis` builds a
    CellBasis on all elements). element_region : index into ``region_names``
    (cylinder layers + ``outside``) per element; element_in_pml : PML elements (region
    ``outside``). layer_fractions (num_modes, n_regions) and pml_fraction (num_modes,):
    electric energy per region (Ez: Re(n^2)|u|^2; Hz: Re(n^2)/|n^2|^2 |grad u|^2), summing to 1.
    sector_angle : None (full cross-section) or the sector angle in rad; floquet_phase :
    side b = phase * side a. num_unknowns : size of the reduced eigenproblem.
    timings_s : wall times of the steps; linear_solver : ``superlu`` or ``pardiso``;
    exact_circles : the elements along circles used the exact-circle map (else quadratic arcs);
    residuals : ||A x - k^2 B x|| / ||A x|| of every eigenpair of the reduced problem.
    """

    cylinder: LayeredCylinder
    pol: str
    m: int | None
    k_target: complex
    order: int
    k: np.ndarray
    vectors: np.ndarray
    mesh: MeshTri2
    element: Element
    dofs: Dofs
    intorder: int
    mesh_info: MeshInfo
    region_names: tuple[str, ...]
    element_region: np.ndarray
    element_in_pml: np.ndarray
    layer_fractions: np.ndarray
    pml_fraction: np.ndarray
    num_unknowns: int
    r_cut_um: float
    cut_decay: float
    pml: RadialPML | None
    outer_boundary: str
    sector_angle: float | None
    floquet_phase: complex
    linear_solver: str
    timings_s: dict = field(default_factory=dict)
    exact_circles: bool = False
    residuals: np.ndarray | None = None

    @property
    def mesh_params(self) -> dict:
        return self.mesh_info.params

    def basis(self, intorder: int | None = None) -> CellBasis:
        """A CellBasis on the whole mesh (memory ~ elements x quadrature points x basis size)."""
        return _chunk_basis(self.mesh, self.element, self.dofs, intorder or self.intorder, None)

    @property
    def interfaces(self) -> list[Boundary]:
        """The layer interfaces as meshed (circles, or the offset and elliptical bore and outer
        surface of a perturbed fibre), inner first; no cut, PML or domain-end curves."""
        return [b for b in mesh_boundaries(self.mesh_params)[0] if b.name.split("|")[0] in self.cylinder.names]

    @property
    def geometry_label(self) -> str:
        """How the curved boundaries were represented, for verification records."""
        return "exact circles" if self.exact_circles else "curved P2 geometry"

    def max_residual(self, indices) -> float | None:
        """The largest eigen-residual of the eigenvectors ``indices`` (None if not computed)."""
        return None if self.residuals is None else float(max(self.residuals[i] for i in indices))

    def is_pml_mode(self, max_pml_fraction: float = DEFAULT_MAX_PML_FRACTION) -> np.ndarray:
        return self.pml_fraction > max_pml_fraction

    def field(self, x_um, y_um, i: int = 0) -> np.ndarray:
        """Field of mode ``i`` at points (x, y) in um (NaN outside the mesh)."""
        return evaluate(self, x_um, y_um, self.vectors[:, [i]])[:, 0]


# --------------------------------------------------------------------------
# energies
# --------------------------------------------------------------------------
def _energy_fractions(energy, vectors, region_names):
    """Energy fraction per region (layers + outside, PML excluded) and in the PML, per vector."""
    per_group = {g: np.real(np.sum(vectors.conj() * (E @ vectors), axis=0)) for g, E in energy.items()}
    total = sum(per_group.values())
    layers = np.array([per_group.get(nm, 0 * total) / total for nm in region_names]).T
    return layers, per_group.get("pml", 0 * total) / total


# --------------------------------------------------------------------------
# solver
# --------------------------------------------------------------------------
def _pml_for(pml, cylinder, k_re, m, outer_extent_um):
    if isinstance(pml, RadialPML):
        return pml
    return make_pml(outer_extent_um, k_re, cylinder.outside_index, m or 0, **dict(pml or {}))


def _outer_extent_um(cylinder, outer_ellipticity, bore_offset_um, inner_ellipticity):
    r = cylinder.outer_radius_um * (1 + abs(outer_ellipticity) / 2)
    if cylinder.n_layers == 1:
        return r
    r0 = cylinder.radii_um[0]
    return max(r, abs(bore_offset_um) + r0 * (1 + abs(inner_ellipticity) / 2))


def _default_cut(cylinder, m, k_re, cut_decay, bore_offset_um, inner_ellipticity):
    """Inner cut (um) for order m; shrunk by the bore perturbation so it stays inside the caustic."""
    if not m:
        return 0.0
    r = inner_cut_radius_um(cylinder, m, k_re, cut_decay)
    if r > 0:
        r -= abs(inner_ellipticity) / 2 * cylinder.radii_um[0]
    return max(r, 0.0)


def _floquet_phase(m, angle) -> complex:
    if angle is None or m is None:
        return 1.0
    phase = complex(np.exp(1j * m * angle))
    return 1.0 if abs(phase - 1) < 1e-12 else phase


def uses_exact_circles(exact_circles, order, bore_offset_um=0.0, inner_ellipticity=0.0, outer_ellipticity=0.0) -> bool:
    """Whether the exact-circle geometry is used (``exact_circles`` of :func:`solve_cross_section`):
    by default (None) for a concentric cross-section and order >= 3; never for P1/P2 (the
    quadratic map is already their geometry's degree), even when asked."""
    concentric = bore_offset_um == 0 and inner_ellipticity == 0 and outer_ellipticity == 0
    if exact_circles is None:
        return concentric and order >= 3
    if exact_circles and not concentric:
        raise ValueError("exact_circles needs a concentric cross-section (no bore offset, no ellipticity)")
    return bool(exact_circles) and order >= 3


def cross_section_mesh(
    cylinder: LayeredCylinder,
    k_target: complex,
    *,
    m: int | None = None,
    order: int = 3,
    points_per_wavelength: float = DEFAULT_POINTS_PER_WAVELENGTH,
    sector: tuple[int, int] | None = None,
    r_cut_um: float | None = None,
    cut_decay: float = DEFAULT_CUT_DECAY,
    outer_boundary: str = "pml",
    r_end_um: float | None = None,
    pml: RadialPML | dict | None = None,
    guide_layer: str = "core",
    band_factor: float | None = None,
    elements_per_circle: float | None = None,
    bore_offset_um: float = 0.0,
    inner_ellipticity: float = 0.0,
    outer_ellipticity: float = 0.0,
    region_points_per_wavelength: dict | None = None,
    band_wavelengths: float | None = None,
    cache_dir: str | Path | None = None,
    exact_circles: bool | None = None,
) -> tuple[MeshInfo, float, RadialPML | None]:
    """The (cached) mesh :func:`solve_cross_section` uses for these keywords (same meaning):
    (MeshInfo, inner cut radius in um, the PML or None)."""
    k_re = complex(k_target).real
    m = None if m is None else abs(int(m))
    exact = uses_exact_circles(exact_circles, order, bore_offset_um, inner_ellipticity, outer_ellipticity)
    if elements_per_circle is None and exact:
        elements_per_circle = EXACT_CIRCLE_ELEMENTS_PER_CIRCLE
    if r_cut_um is None:
        r_cut = _default_cut(cylinder, m, k_re, cut_decay, bore_offset_um, inner_ellipticity)
    else:
        r_cut = float(r_cut_um)
    extent = _outer_extent_um(cylinder, outer_ellipticity, bore_offset_um, inner_ellipticity)
    the_pml = _pml_for(pml, cylinder, k_re, m, extent) if outer_boundary == "pml" else None
    mesh_kwargs = dict(
        element_order=order,
        points_per_wavelength=points_per_wavelength,
        r_cut_um=r_cut,
        r_end_um=r_end_um,
        pml=the_pml,
        sector=sector,
        guide_layer=guide_layer,
        bore_offset_um=bore_offset_um,
        inner_ellipticity=inner_ellipticity,
        outer_ellipticity=outer_ellipticity,
    )
    if band_factor is not None:
        mesh_kwargs["band_factor"] = band_factor
    if elements_per_circle is not None:
        mesh_kwargs["elements_per_circle"] = elements_per_circle
    if band_wavelengths is not None:
        mesh_kwargs["band_wavelengths"] = band_wavelengths
    if region_points_per_wavelength:
        mesh_kwargs["region_points_per_wavelength"] = region_points_per_wavelength
    info = build_mesh(cylinder, wavelength_nm_from_k(k_re), cache_dir=cache_dir, **mesh_kwargs)
    return info, r_cut, the_pml


def solve_cross_section(
    cylinder: LayeredCylinder,
    pol: str,
    k_target: complex,
    *,
    m: int | None = None,
    num_modes: int = 12,
    order: int = 3,
    points_per_wavelength: float = DEFAULT_POINTS_PER_WAVELENGTH,
    sector: tuple[int, int] | None = None,
    r_cut_um: float | None = None,
    cut_decay: float = DEFAULT_CUT_DECAY,
    outer_boundary: str = "pml",
    r_end_um: float | None = None,
    pml: RadialPML | dict | None = None,
    guide_layer: str = "core",
    band_factor: float | None = None,
    elements_per_circle: float | None = None,
    bore_offset_um: float = 0.0,
    inner_ellipticity: float = 0.0,
    outer_ellipticity: float = 0.0,
    intorder: int | None = None,
    linear_solver: str = "auto",
    eigensolver: str = "scipy",
    region_points_per_wavelength: dict | None = None,
    band_wavelengths: float | None = None,
    cache_dir: str | Path | None = None,
    progress: Callable[[str, float], None] | None = None,
    max_unknowns: int | None = None,
    exact_circles: bool | None = None,
) -> CrossSectionResult:
    """Modes of the cross-section of ``cylinder`` with wavenumber near ``k_target`` (1/um).

    Parameters
    ----------
    pol : ``"Ez"`` or ``"Hz"`` (aliases TM = Ez, TE = Hz).
    k_target : target vacuum wavenumber (1/um), e.g. from the exact solver; shift k_target^2.
    m : azimuthal order the search is for: sets the inner cut, the PML (turning point)
        and the Floquet phase exp(i m alpha) of a sector (None: no cut, phase 1).
    order : Lagrange degree 1-6 (P4-P6 recommended; see ``exact_circles`` for the geometry).
    points_per_wavelength : dofs per local wavelength lambda/n.
    sector : (j, N) for a sector of angle 2 pi j / N with Floquet-periodic sides;
        None = the full cross-section.
    r_cut_um : inner Dirichlet cut (None: :func:`inner_cut_radius_um` for m, 0 = no hole).
    outer_boundary : ``pml`` (default), or ``dirichlet`` / ``neumann`` at ``r_end_um``
        (default the outer radius) for a closed cavity.
    pml : :class:`RadialPML` or a dict of :func:`make_pml` keywords.
    guide_layer, band_factor : the outer interface of ``guide_layer`` gets elements
        ``band_factor`` times smaller (default :data:`wgmfem.fem.mesh.DEFAULT_BAND_FACTOR`).
    elements_per_circle : element size at most 2 pi R / this next to a boundary of radius R
        (default :data:`wgmfem.fem.mesh.DEFAULT_ELEMENTS_PER_CIRCLE` with the quadratic
        geometry, :data:`EXACT_CIRCLE_ELEMENTS_PER_CIRCLE` with exact circles; matters on
        small cylinders).
    exact_circles : map the elements along the circles of a concentric cross-section onto
        the exact circles with a degree-``order`` map (:func:`wgmfem.fem.elements.circle_geometry`)
        instead of quadratic arcs, whose O(h^4) error stalls P5/P6 on small radii. Default
        (None): on for a concentric cross-section (no bore offset, no ellipticity) and
        order >= 3; perturbed boundaries keep the quadratic geometry.
    bore_offset_um, inner_ellipticity, outer_ellipticity : perturbations (full cross-section).
    intorder : quadrature degree (default 2 * order + 2).
    linear_solver : ``auto`` (MKL PARDISO if pypardiso is installed, else SuperLU),
        ``superlu`` or ``pardiso`` (scipy eigensolver only).
    eigensolver : ``scipy`` (ARPACK) or ``slepc`` (see :mod:`wgmfem.fem.eigensolvers`).
    region_points_per_wavelength : {region: points per wavelength} overriding
        ``points_per_wavelength`` in some regions (e.g. a coarser outer wall).
    band_wavelengths : half-width of the finer band at the guide interface, in local
        wavelengths (default :data:`wgmfem.fem.mesh.DEFAULT_BAND_WAVELENGTHS`).
    progress : optional ``progress(stage, seconds)`` called after each stage
        (``mesh``, ``assemble``, ``factorize``, ``eigensolve``) with its wall time.
    max_unknowns : refuse (ValueError) before assembling when the space would have more
        unknowns (a guard against running out of memory: ~2.7 GB per million real
        unknowns of P4, about twice that for a complex problem, measured).
    """
    pol = normalize_pol(pol)
    k_target = complex(k_target)
    k_re = k_target.real
    if not k_re > 0:
        raise ValueError(f"k_target must have a positive real part (1/um), got {k_target}")
    if order not in ELEMENTS:
        raise ValueError(f"element order must be one of {sorted(ELEMENTS)}, got {order}")
    if outer_boundary not in OUTER_BOUNDARIES:
        raise ValueError(f"outer_boundary must be one of {OUTER_BOUNDARIES}, got {outer_boundary!r}")
    m = None if m is None else abs(int(m))
    exact_circles = uses_exact_circles(exact_circles, order, bore_offset_um, inner_ellipticity, outer_ellipticity)
    timings = {}
    report = progress or (lambda stage, seconds: None)
    t0 = time.perf_counter()

    info, r_cut, the_pml = cross_section_mesh(
        cylinder, k_target, m=m, order=order, points_per_wavelength=points_per_wavelength, sector=sector,
        r_cut_um=r_cut_um, cut_decay=cut_decay, outer_boundary=outer_boundary, r_end_um=r_end_um, pml=pml,
        guide_layer=guide_layer, band_factor=band_factor, elements_per_circle=elements_per_circle,
        bore_offset_um=bore_offset_um, inner_ellipticity=inner_ellipticity, outer_ellipticity=outer_ellipticity,
        region_points_per_wavelength=region_points_per_wavelength, band_wavelengths=band_wavelengths,
        cache_dir=cache_dir, exact_circles=exact_circles,
    )
    timings["mesh"] = time.perf_counter() - t0
    report("mesh" + (" (cached)" if info.cached else ""), timings["mesh"])

    t0 = time.perf_counter()
    if max_unknowns is not None:
        # Lagrange Pk on triangles has ~(k/2)^2 times the nodes of the 6-node mesh
        estimate = info.num_nodes * (order / 2) ** 2
        if estimate > max_unknowns:
            raise ValueError(
                f"this 2-D problem would have ~{estimate:.3g} unknowns (limit {max_unknowns:.3g}): "
                "coarsen the mesh, lower the order, or raise the limit if the memory allows (~3-6 GB per M)"
            )
    loaded = load_mesh(info.path)
    mesh = loaded.mesh
    element = ELEMENTS[order]()
    dofs = Dofs(mesh, element)
    region, in_pml = _element_index(cylinder, loaded.element_group)
    n_elem = np.array(cylinder.all_indices, dtype=complex)[region]
    kind = "pml" if the_pml is not None else ("real" if np.all(n_elem.imag == 0) else "complex")
    intorder = intorder or 2 * order + 2
    geometry = _Geometry(mesh, loaded.boundaries, order, exact_circles)
    A, B, energy = _assemble(mesh, element, dofs, intorder, pol, n_elem, loaded.element_group, the_pml, kind,
                             geometry)
    timings["load_assemble"] = time.perf_counter() - t0
    report("assemble", timings["load_assemble"])

    t0 = time.perf_counter()
    fixed_names = ["cut"] + (["end"] if outer_boundary != "neumann" else [])
    fixed = np.concatenate([_facet_dofs(dofs, loaded.boundaries[nm]) for nm in fixed_names if nm in loaded.boundaries])
    fixed = np.unique(fixed.astype(np.int64))
    angle = None if sector is None else 2 * math.pi * sector[0] / sector[1]
    phase = _floquet_phase(m, angle)
    slaves = masters = np.zeros(0, dtype=np.int64)
    if angle is not None:
        locs = dof_locations(mesh, element, dofs)
        da = np.setdiff1d(_facet_dofs(dofs, loaded.boundaries["periodic_a"]), fixed)
        db = np.setdiff1d(_facet_dofs(dofs, loaded.boundaries["periodic_b"]), fixed)
        masters, slaves = _periodic_pairs(locs, da, db, angle, tol_um=1e-6 * cylinder.outer_radius_um)
    P = _reduction(dofs.N, fixed, slaves, masters, phase)
    PH = P.conj().T.tocsr()
    A_r, B_r = (PH @ A @ P).tocsr(), (PH @ B @ P).tocsr()
    del A, B  # the full-space copies: ~1 GB each at 2 M unknowns of P4
    stats: dict[str, Any] = {"on_factorized": lambda seconds: report("factorize", seconds)}
    lam, vecs_r, solver_name = shift_invert(
        A_r, B_r, k_target**2, num_modes, eigensolver=eigensolver, linear_solver=linear_solver,
        symmetric=phase == 1, stats=stats,
    )
    timings["eigensolve"] = time.perf_counter() - t0
    report("eigensolve", timings["eigensolve"] - stats["factorize_s"])
    timings["factorize"] = stats["factorize_s"]
    timings["solves"] = stats["solves"]

    residuals = stats.get("residuals")
    if residuals is None:  # SLEPc: checked here
        residuals = relative_residuals(A_r, B_r, lam, vecs_r)
    k = np.sqrt(lam.astype(complex))
    idx = np.argsort(np.abs(k - k_target))
    k, residuals = k[idx], residuals[idx]
    vectors = np.asarray(P @ vecs_r[:, idx]).astype(complex)
    peak = vectors[np.argmax(np.abs(vectors), axis=0), np.arange(vectors.shape[1])]
    vectors = vectors / peak

    t0 = time.perf_counter()
    layers, pml_frac = _energy_fractions(energy, vectors, cylinder.region_names)
    timings["energies"] = time.perf_counter() - t0

    return CrossSectionResult(
        cylinder=cylinder,
        pol=pol,
        m=m,
        k_target=k_target,
        order=order,
        k=k,
        vectors=vectors,
        mesh=mesh,
        element=element,
        dofs=dofs,
        intorder=intorder,
        mesh_info=info,
        region_names=cylinder.region_names,
        element_region=region,
        element_in_pml=in_pml,
        layer_fractions=layers,
        pml_fraction=pml_frac,
        num_unknowns=P.shape[1],
        r_cut_um=r_cut,
        cut_decay=wkb_decay(cylinder, m, k_re, r_cut) if (m and r_cut > 0) else 0.0,
        pml=the_pml,
        outer_boundary=outer_boundary,
        sector_angle=angle,
        floquet_phase=phase,
        linear_solver=solver_name,
        timings_s=timings,
        exact_circles=geometry.exact is not None,
        residuals=residuals,
    )
