"""Finite-element fields at arbitrary points of the curved cross-section mesh.

A point (x, y) in um is located in two steps, both vectorized over all points:

1. candidates: the mesh elements are binned on a uniform grid by the bounding box of
   their curved outline (vertices and the Bezier control points of the quadratic
   edges, whose convex hull contains the element); every element of the point's
   bin whose straight triangle contains it, within a margin for the curved edges,
   is a candidate;
2. the 6-node (quadratic) map of each candidate is inverted by Newton's method; the
   point belongs to the candidate whose reference coordinates fall in the reference
   triangle.

The field is then the sum of the element's basis functions at those reference
coordinates. Points off the mesh get NaN.

Geometry: points are located through the 6-node (quadratic) map even where the solve used
the exact-circle map (:mod:`wgmfem.fem.cross_section`, ``exact_circles``); the two differ
by O(h^3) along the circles (<= 4e-6 um on the 3 um rod at P6, measured), so values there
are those of a point displaced by as much, and a point between the quadratic arc and the
exact outer circle is off the mesh (NaN).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .elements import lagrange_values

#: Straight-triangle margins (barycentric units) for the curved edges, tried in turn for
#: the points not found yet: a point between an arc and its chord lies outside the straight
#: triangle by ~h/(8 R) (0.1 for h = 0.8 R, 8 elements on a circle; the meshes have >= 16);
#: the last pass (inf) tries every element of the point's bin (their Bezier hulls cover it).
MARGINS = (0.1, np.inf)
#: reference coordinates this far outside the triangle still count as inside (rounding)
INSIDE_TOLERANCE = 1e-9
NEWTON_ITERATIONS = 12
#: Newton stops when the step in reference coordinates is below this; a point whose last
#: step is above CONVERGED_STEP is not located in that element (the map does not reach it)
NEWTON_TOLERANCE = 1e-13
CONVERGED_STEP = 1e-9
#: points evaluated per batch (memory ~1 KB per point for P6)
EVALUATION_BATCH = 50_000


def _p2_nodes(mesh) -> np.ndarray:
    """Nodes (2, 6, nel) of the 6-node elements: vertices, then mid-edge (0,1), (1,2), (0,2)."""
    return mesh.doflocs[:, mesh.dofs.element_dofs]


def _p2_basis(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quadratic basis (6, n) and its reference derivatives d/dX0, d/dX1 at X (2, n), in
    skfem's ``ElementTriP2`` order (vertices 0, 1, 2, mid-edges (0,1), (1,2), (0,2))."""
    x, y = X
    l0 = 1.0 - x - y
    phi = np.array([l0 * (2 * l0 - 1), x * (2 * x - 1), y * (2 * y - 1), 4 * l0 * x, 4 * x * y, 4 * l0 * y])
    zero = np.zeros_like(x)
    dx = np.array([1 - 4 * l0, 4 * x - 1, zero, 4 * (l0 - x), 4 * y, -4 * y])
    dy = np.array([1 - 4 * l0, zero, 4 * y - 1, -4 * x, 4 * x, 4 * (l0 - y)])
    return phi, dx, dy


def p2_map(nodes: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x = F(X) (2, n) and the Jacobian dF/dX (2, 2, n) of elements with nodes (2, 6, n) at X (2, n)."""
    phi, dx, dy = _p2_basis(X)
    x = np.einsum("cin,in->cn", nodes, phi)
    J = np.stack((np.einsum("cin,in->cn", nodes, dx), np.einsum("cin,in->cn", nodes, dy)), axis=1)
    return x, J


def invert_p2_map(nodes: np.ndarray, x: np.ndarray, X0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference coordinates X (2, n) with F(X) = x for elements with nodes (2, 6, n), and
    whether Newton converged for each point.

    Newton's method from ``X0`` (the straight-triangle coordinates); a point converges in 2-4
    steps when it lies in (or near) its element; points that do not converge keep their last
    iterate (they are candidates of a neighbouring element).
    """
    X = np.array(X0, dtype=float)
    last_step = np.full(x.shape[1], np.inf)
    active = np.arange(x.shape[1])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(NEWTON_ITERATIONS):
            F, J = p2_map(nodes[:, :, active], X[:, active])
            res = x[:, active] - F
            detJ = J[0, 0] * J[1, 1] - J[0, 1] * J[1, 0]
            step = np.array([J[1, 1] * res[0] - J[0, 1] * res[1], -J[1, 0] * res[0] + J[0, 0] * res[1]]) / detJ
            X[:, active] += step
            last_step[active] = np.abs(step).max(axis=0)
            active = active[~(last_step[active] <= NEWTON_TOLERANCE)]
            if active.size == 0:
                break
    # rounding keeps some steps above NEWTON_TOLERANCE (x ~ 40 um, elements ~0.1 um)
    return X, last_step <= CONVERGED_STEP


def inside(X: np.ndarray, tol: float = INSIDE_TOLERANCE) -> np.ndarray:
    """Reference points X (2, n) in the reference triangle (within ``tol``)."""
    return (X[0] >= -tol) & (X[1] >= -tol) & (X[0] + X[1] <= 1 + tol)


class PointLocator:
    """Element and reference coordinates of points of a ``MeshTri2`` (curved 6-node triangles)."""

    def __init__(self, mesh):
        nodes = _p2_nodes(mesh)
        self.nodes = nodes
        vert = nodes[:, :3]
        # Bezier control point of each quadratic edge: 2 mid - (a + b) / 2
        ctrl = np.stack([2 * nodes[:, 3 + e] - 0.5 * (vert[:, a] + vert[:, b]) for e, (a, b) in enumerate(((0, 1), (1, 2), (0, 2)))], axis=1)
        hull = np.concatenate((vert, ctrl), axis=1)  # (2, 6, nel)
        lo, hi = hull.min(axis=1), hull.max(axis=1)
        self.cell = float(np.median(np.max(hi - lo, axis=0)))
        self.origin = lo.min(axis=1)
        self.shape = (np.floor((hi.max(axis=1) - self.origin) / self.cell).astype(int) + 1)
        i0 = np.floor((lo - self.origin[:, None]) / self.cell).astype(int)
        i1 = np.floor((hi - self.origin[:, None]) / self.cell).astype(int)
        span = i1 - i0 + 1
        count = span[0] * span[1]
        elem = np.repeat(np.arange(mesh.nelements), count)
        k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)  # index within the element's cells
        ix = i0[0, elem] + k % span[0, elem]
        iy = i0[1, elem] + k // span[0, elem]
        cell_id = ix * self.shape[1] + iy
        order = np.argsort(cell_id, kind="stable")
        self.cell_elements = elem[order]
        self.cell_start = np.searchsorted(cell_id[order], np.arange(self.shape[0] * self.shape[1] + 1))
        # straight triangles for the candidate test: x = v0 + X0 d1 + X1 d2
        self.v0 = vert[:, 0]
        d1, d2 = vert[:, 1] - vert[:, 0], vert[:, 2] - vert[:, 0]
        det = d1[0] * d2[1] - d1[1] * d2[0]
        self.inv = np.array([[d2[1], -d2[0]], [-d1[1], d1[0]]]) / det  # (2, 2, nel)

    def _candidates(self, x: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point index, element, straight-triangle reference coordinates) of the pairs whose
        straight triangle holds the point within ``margin``."""
        idx = np.floor((x - self.origin[:, None]) / self.cell).astype(int)
        ok = np.all((idx >= 0) & (idx < self.shape[:, None]), axis=0)
        cid = np.where(ok, idx[0] * self.shape[1] + idx[1], 0)
        start, stop = self.cell_start[cid], self.cell_start[cid + 1]
        n = np.where(ok, stop - start, 0)
        point = np.repeat(np.arange(x.shape[1]), n)
        offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        elem = self.cell_elements[np.repeat(start, n) + offset]
        r = x[:, point] - self.v0[:, elem]
        X = np.einsum("ijn,jn->in", self.inv[:, :, elem], r)
        near = (X[0] >= -margin) & (X[1] >= -margin) & (X[0] + X[1] <= 1 + margin)
        return point[near], elem[near], X[:, near]

    def locate(self, x_um: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Element index (-1 off the mesh) and reference coordinates (2, n) of points (2, n) in um.

        A point on an edge shared by two elements gets one of them (the first candidate).
        """
        x = np.asarray(x_um, dtype=float)
        tind = np.full(x.shape[1], -1)
        X = np.full(x.shape, np.nan)
        todo = np.arange(x.shape[1])
        for margin in MARGINS:
            point, elem, X_straight = self._candidates(x[:, todo], margin)
            Xc, converged = invert_p2_map(self.nodes[:, :, elem], x[:, todo[point]], X_straight)
            hit = np.flatnonzero(inside(Xc) & converged)
            first = hit[np.unique(point[hit], return_index=True)[1]]  # one element per point
            tind[todo[point[first]]] = elem[first]
            X[:, todo[point[first]]] = Xc[:, first]
            todo = todo[tind[todo] < 0]
            if todo.size == 0:
                break
        return tind, X


def evaluate(result, x_um, y_um, vectors=None) -> np.ndarray:
    """Values of ``vectors`` (default all modes of ``result``, a :class:`CrossSectionResult`)
    at the points (x, y) um: shape (npts, nvec), NaN off the mesh (in batches of
    :data:`EVALUATION_BATCH` points)."""
    x = np.vstack((np.ravel(np.asarray(x_um, dtype=float)), np.ravel(np.asarray(y_um, dtype=float))))
    vecs = result.vectors if vectors is None else vectors
    if getattr(result, "_locator", None) is None:
        result._locator = PointLocator(result.mesh)
    out = np.full((x.shape[1], vecs.shape[1]), np.nan, dtype=complex)
    for start in range(0, x.shape[1], EVALUATION_BATCH):
        part = slice(start, start + EVALUATION_BATCH)
        tind, X = result._locator.locate(x[:, part])
        ok = np.flatnonzero(tind >= 0)
        edofs = result.dofs.element_dofs[:, tind[ok]]  # (nbfun, npts)
        phi = lagrange_values(result.element.maxdeg, X[:, ok])  # every order shares the nodal layout
        # interpolation matrix (points x dofs): one sparse product for every vector
        rows = np.broadcast_to(np.arange(edofs.shape[1]), edofs.shape)
        interp = sp.csr_matrix((phi.ravel(), (rows.ravel(), edofs.ravel())), shape=(edofs.shape[1], vecs.shape[0]))
        out[start + ok] = interp @ vecs
    return out
