"""Lagrange triangle elements of any degree for scikit-fem (P5 and P6 beyond skfem's P4).

scikit-fem 12 ships triangle Lagrange elements up to ``ElementTriP4``. Higher
degrees cut the unknowns needed for a given accuracy on the smooth whispering-gallery
fields, so :class:`ElementTriPk` builds the degree-k element from the closed-form
product of barycentric factors on the equispaced lattice (Silvester's formula): the
node with barycentric lattice indices (a, b, c), a + b + c = k, at reference
point (b/k, c/k) has

    phi = P_a(l0) P_b(l1) P_c(l2),   P_n(l) = prod_{j<n} (k l - j) / (j + 1),

with l0 = 1 - x - y, l1 = x, l2 = y. It is 1 at its own node and 0 at every other
node of the lattice, so the set is the nodal basis of the polynomials of degree k.

Degree-of-freedom layout follows skfem's P3/P4 exactly, so skfem's ``Dofs`` numbering,
facet dofs (Dirichlet, periodic sides) and the isoparametric mapping all work:

* vertices (0, 0), (1, 0), (0, 1);
* k - 1 nodes on each edge, edges in skfem's order (0, 1), (1, 2), (0, 2), each
  listed from its first local vertex to its second. skfem does not re-orient
  facet dofs, so two neighbours agree on a shared edge only if they traverse it
  in the same direction: the element vertices must be sorted by global index
  (``MeshTri1`` does so itself; :func:`wgmfem.fem.cross_section.load_mesh` does it
  for the curved ``MeshTri2``). With the sorted vertices the local direction
  is from the lower to the higher global vertex in both elements;
* (k - 1)(k - 2)/2 interior nodes (i/k, j/k), i, j >= 1, row by row in j then i
  (private to the element, so any order would do; this one matches P4).

Reference coordinates are dimensionless; the element is geometry-agnostic (lengths
come from the mesh, um in wgmfem).

Curved geometry of degree k (:func:`circle_geometry`, :func:`circle_mapping`): the 6-node
mesh describes a circle by quadratic arcs, an O(h^4) eigenvalue error that P3-P6 cannot
beat on the same mesh (unit disk: +4.9e-5 at 64 elements for every order >= 3). The
degree-k isoparametric map puts the Pk nodes of each element on its exact arcs, blending
the edge correction into the element (Lenoir-type); the geometry error then falls like
the Pk-interpolated arc (h^8 for P6: -6.7e-10 on the same disk mesh). Measured on the
3 um rod (full section, m = 20) it turns P6's h^4 stall into 1e-7 at 40k unknowns; on
the 27 um paper capillary sector it changes nothing measurable (same error to 3 digits
down to 2e-10).
"""

from __future__ import annotations

import numpy as np
from skfem import ElementTriP2, MeshTri2
from skfem.assembly import Dofs
from skfem.element.element_h1 import ElementH1
from skfem.mapping import MappingIsoparametric
from skfem.refdom import RefTri


def lattice_points(k: int) -> np.ndarray:
    """Reference nodes ((k+1)(k+2)/2, 2) of the degree-k element in skfem's dof order (skfem's ``doflocs``)."""
    if k < 1:
        raise ValueError(f"Lagrange degree must be >= 1, got {k}")
    pts = [(0, 0), (k, 0), (0, k)]
    pts += [(j, 0) for j in range(1, k)]  # edge (0, 1): from vertex 0 to vertex 1
    pts += [(k - j, j) for j in range(1, k)]  # edge (1, 2): from vertex 1 to vertex 2
    pts += [(0, j) for j in range(1, k)]  # edge (0, 2): from vertex 0 to vertex 2
    pts += [(i, j) for j in range(1, k - 1) for i in range(1, k - j)]  # interior
    return np.array(pts, dtype=float) / k


#: reference point sets up to this size (2 x points) keep their factor tables
CACHED_POINTS = 10_000


def _factor_tables(k: int, X) -> list:
    """[P_n(l) for n = 0..k] and [dP_n/dl] for each barycentric l0 = 1 - x - y, l1 = x,
    l2 = y at reference points X (2, ...): P_n = P_{n-1} (k l - n + 1)/n."""
    x, y = np.asarray(X, dtype=float)
    tables = []
    for lam in (1.0 - x - y, x, y):
        f, df = [np.ones_like(lam)], [np.zeros_like(lam)]
        for n in range(1, k + 1):
            g = (k * lam - (n - 1)) / n
            df.append(df[-1] * g + f[-1] * (k / n))
            f.append(f[-1] * g)
        tables.append((f, df))
    return tables


class ElementTriPk(ElementH1):
    """Lagrange element of degree ``k`` on triangles (conforming H1, nodal dofs ``u``).

    ``ElementTriPk(4)`` spans the same space with the same dof layout as skfem's
    ``ElementTriP4``; use it for k = 5, 6 (or any k >= 1).
    """

    refdom = RefTri
    nodal_dofs = 1

    def __init__(self, k: int = 5):
        self.k = int(k)
        self.doflocs = lattice_points(self.k)
        self.facet_dofs = self.k - 1
        self.interior_dofs = (self.k - 1) * (self.k - 2) // 2
        self.maxdeg = self.k
        self.dofnames = ["u"] * (self.nodal_dofs + self.facet_dofs + self.interior_dofs)
        # barycentric lattice indices (a, b, c) of every node
        bc = np.rint(self.doflocs.T * self.k).astype(int)
        self._abc = np.vstack((self.k - bc.sum(axis=0), bc)).T

    def __repr__(self):
        return f"ElementTriPk({self.k})"

    def _tables(self, X):
        """:func:`_factor_tables` at X; scikit-fem asks for one basis function at a time,
        all at the same points (a map's Jacobian asks 4 times per function), so the
        tables of the last X are kept."""
        X = np.asarray(X)
        last = self.__dict__.get("_last_tables")
        if last is not None and last[0].shape == X.shape and np.array_equal(last[0], X):
            return last[1]
        tables = _factor_tables(self.k, X)
        if X.size <= CACHED_POINTS:  # quadrature / node sets, not a large batch of points
            self._last_tables = (X.copy(), tables)
        return tables

    def lbasis(self, X, i):
        """Value and reference gradient of basis function ``i`` at reference points X (2, ...)."""
        if not 0 <= i < len(self._abc):
            self._index_error()
        a, b, c = self._abc[i]
        (f0, d0), (f1, d1), (f2, d2) = ((f[n], d[n]) for (f, d), n in zip(self._tables(X), (a, b, c)))
        phi = f0 * f1 * f2
        dphi = np.array([(d1 * f0 - d0 * f1) * f2, (d2 * f0 - d0 * f2) * f1])
        return phi, dphi


def lagrange_values(k: int, X: np.ndarray) -> np.ndarray:
    """All degree-k nodal basis functions (nb, npts) at reference points X (2, npts), in the
    dof order of :func:`lattice_points` (the order of skfem's ``ElementTriP1``-``P4`` too).

    Values only, for point evaluation: the factors P_n(l) of the three barycentrics are
    built once (P_n = P_{n-1} (k l - n + 1)/n) and multiplied per node.
    """
    (f0, _), (f1, _), (f2, _) = _factor_tables(k, X)
    k_index = np.rint(lattice_points(k) * k).astype(int)  # (nb, 2): b, c
    return np.array([f0[k - b - c] * f1[b] * f2[c] for b, c in k_index])


class ElementTriP5(ElementTriPk):
    """Piecewise quintic Lagrange element (21 dofs: 3 vertex, 4 per edge, 6 interior)."""

    def __init__(self):
        super().__init__(5)


class ElementTriP6(ElementTriPk):
    """Piecewise sextic Lagrange element (28 dofs: 3 vertex, 5 per edge, 10 interior)."""

    def __init__(self):
        super().__init__(6)


def element_class(k: int) -> type:
    """A no-argument element class of degree k (skfem meshes instantiate ``mesh.elem()``)."""
    if k == 5:
        return ElementTriP5
    if k == 6:
        return ElementTriP6
    return type(f"ElementTriP{k}Lagrange", (ElementTriPk,), {"__init__": lambda self: ElementTriPk.__init__(self, k)})


#: local vertex pairs of the three edges of a triangle (skfem's RefTri.facets)
_EDGES = ((0, 1), (1, 2), (0, 2))


def _p2_positions(mesh: MeshTri2, tind: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Physical points (2, len(tind), npts) of the 6-node elements ``tind`` at reference points X (2, len, npts)."""
    e2 = ElementTriP2()
    nodes = mesh.doflocs[:, mesh.dofs.element_dofs[:, tind]]  # (2, 6, nel)
    out = np.zeros((2,) + X.shape[1:])
    for i in range(6):
        phi, _ = e2.lbasis(X, i)
        out += nodes[:, i, :, None] * phi
    return out


def circle_mapping(mesh: MeshTri2, k: int, circles) -> MappingIsoparametric:
    """The isoparametric map of :func:`circle_geometry` (it caches its Jacobians: build one
    per set of elements assembled, as :func:`wgmfem.fem.cross_section` does for the P2 map)."""
    geometry = circle_geometry(mesh, k, circles)
    return MappingIsoparametric(geometry, geometry.elem())


def circle_geometry(mesh: MeshTri2, k: int, circles) -> MeshTri2:
    """Geometry mesh of degree k (``elem`` = Pk, same topology as ``mesh``) whose curved
    edges lie on exact circles; ``MappingIsoparametric(geom, geom.elem())`` is its map.

    mesh : 6-node triangles with vertices sorted per element (as :func:`wgmfem.fem.
    cross_section.load_mesh` returns them). circles : iterable of (facet indices,
    (x0, y0) centre in um, radius in um): the mesh edges that belong to each circle.
    Every other node keeps its place on the quadratic map. For an element with a curved
    edge (a, b) the nodes move by (l_a + l_b)^2 d(s), s = l_b / (l_a + l_b), where d(s)
    takes the quadratic edge point at s radially onto the circle: exact on the edge,
    zero on the two other edges (so neighbours still agree), smooth inside.
    """
    cls = element_class(k)
    element = cls()
    dofs = Dofs(mesh, element)
    ref = element.doflocs.T  # (2, nb)
    lam = np.vstack((1.0 - ref[0] - ref[1], ref))  # barycentrics of the nodes (3, nb)
    nel = mesh.nelements
    base = _p2_positions(mesh, np.arange(nel), np.broadcast_to(ref[:, None, :], (2, nel, ref.shape[1])))
    shift = np.zeros_like(base)
    corners = RefTri.p  # reference vertices (2, 3)
    for facets, centre, radius in circles:
        facets = np.asarray(facets)
        c = np.asarray(centre, dtype=float)[:, None, None]
        for side in (0, 1):  # an interface edge is curved for both its elements
            tind = mesh.f2t[side, facets]
            tind = tind[tind >= 0]
            fac = facets[mesh.f2t[side, facets] >= 0]
            local = np.argmax(mesh.t2f[:, tind] == fac, axis=0)  # which local edge
            for e, (a, b) in enumerate(_EDGES):
                sel = tind[local == e]
                if len(sel) == 0:
                    continue
                w = lam[a] + lam[b]
                s = np.divide(lam[b], w, out=np.zeros_like(w), where=w > 1e-14)
                Xe = corners[:, [a]] * (1 - s) + corners[:, [b]] * s  # edge point at s (2, nb)
                x2 = _p2_positions(mesh, sel, np.broadcast_to(Xe[:, None, :], (2, len(sel), len(s))))
                rel = x2 - c
                d = c + radius * rel / np.hypot(rel[0], rel[1]) - x2
                shift[:, sel] += w**2 * d
    pos = base + shift
    locs = np.zeros((2, dofs.N))
    for j in range(ref.shape[1]):
        locs[:, dofs.element_dofs[j]] = pos[:, :, j]
    return MeshTri2(locs, mesh.t.copy(), elem=cls)


def concentric_circles(mesh: MeshTri2, boundaries: dict, rtol: float = 1e-9) -> list:
    """(facets, (0, 0), radius) for every named boundary whose vertices lie on one circle
    about the origin (cut, interfaces, end of a concentric cross-section); straight sides,
    ellipses and offset circles are left out (they keep the quadratic geometry)."""
    out = []
    for _name, facets in boundaries.items():
        facets = np.asarray(facets)
        if len(facets) == 0:
            continue
        r = np.hypot(*mesh.p[:, mesh.facets[:, facets].ravel()])
        if np.ptp(r) <= rtol * r.max() and r.max() > 0:
            out.append((facets, (0.0, 0.0), float(np.mean(r))))
    return out
