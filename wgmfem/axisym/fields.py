"""Fields of axisymmetric FEM eigenvectors at arbitrary (r, z) points, and node counting for labels."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.spatial import cKDTree
from skfem import BilinearForm, ElementTriP2

from .solver import AxisymSolution

#: nearest element centres searched for the element holding a point (more where none holds it)
CANDIDATES = (16, 128)
#: a point this far outside every candidate triangle (in reference coordinates) is outside the mesh
OUTSIDE_MARGIN = 1e-6


def _locate(basis, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cells, reference points (2, n, 1)) of ``points`` (2, n).

    The straight triangles of the mesh's vertices find the cell and the reference point (curved
    meshes have no element finder; the value is then that of a point displaced by at most the
    curved edge's sagitta, h^2 / 8R, harmless for labels and figures). Each point is tested
    against the triangles with the nearest centres only, so time and memory grow with the
    number of points, not with points times elements; a point within round-off of the mesh's edge
    takes the candidate it is nearest to, one further out is a ValueError.
    """
    p, t = basis.mesh.p, basis.mesh.t[:3]
    tree = cKDTree(p[:, t].mean(axis=1).T)
    cells = np.zeros(points.shape[1], dtype=np.int64)
    ref = np.zeros((2, points.shape[1]))
    todo = np.arange(points.shape[1])
    for count in CANDIDATES:
        _, cand = tree.query(points[:, todo].T, k=min(count, t.shape[1]))
        cand = cand.reshape(len(todo), -1)
        p0 = p[:, t[0, cand]]
        e1, e2 = p[:, t[1, cand]] - p0, p[:, t[2, cand]] - p0
        d = points[:, todo, None] - p0
        det = e1[0] * e2[1] - e1[1] * e2[0]
        x0 = (d[0] * e2[1] - d[1] * e2[0]) / det
        x1 = (e1[0] * d[1] - e1[1] * d[0]) / det
        margin = np.minimum(np.minimum(x0, x1), 1.0 - x0 - x1)  # >= 0 inside the triangle
        best = np.argmax(margin, axis=1)
        rows = np.arange(len(todo))
        cells[todo], ref[0, todo], ref[1, todo] = cand[rows, best], x0[rows, best], x1[rows, best]
        todo = todo[margin[rows, best] < -OUTSIDE_MARGIN]
        if not todo.size:
            return cells, ref[:, :, None]
    r, z = points[:, todo[0]]
    raise ValueError(f"the point (r, z) = ({r:.6g}, {z:.6g}) um lies outside the mesh")


def _probe_matrix(basis, points: np.ndarray, comp: int, located=None) -> sp.csr_matrix:
    """Values at ``points`` (2, n) as a matrix on the dofs of ``basis`` (``comp`` components
    stacked); ``located``: their (cells, reference points) when known (:func:`_locate`)."""
    cells, ref = _locate(basis, points) if located is None else located
    rows, cols, vals = [], [], []
    for i in range(basis.Nbfun):
        phi = np.asarray(basis.elem.gbasis(basis.mapping, ref, i, tind=cells)[0]).reshape(comp, -1)
        for c in range(comp):
            rows.append(c * points.shape[1] + np.arange(points.shape[1]))
            cols.append(basis.element_dofs[i, cells])
            vals.append(phi[c])
    shape = (comp * points.shape[1], basis.N)
    return sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape).tocsr()


class FieldSampler:
    """(E_r, E_z, E_phi) of the eigenvectors of a solution at any points of the window.

    The Nedelec components are L2-projected onto the Lagrange space of the same degree, which
    scikit-fem can evaluate at points: one mixed mass matrix per component and one factorized
    Lagrange mass matrix serve every mode, and the projected coefficients of each mode and the
    point-evaluation matrices of repeated point sets are kept.
    """

    def __init__(self, sol: AxisymSolution):
        basis = sol.system.basis
        (self._nedelec, self._lagrange), (self._i_n, self._i_l) = basis.split_bases(), basis.split_indices()
        mass = BilinearForm(lambda u, v, _: u * v).assemble(self._lagrange)
        self._solve = spla.factorized(mass.tocsc().astype(complex))
        self._mixed = [BilinearForm(lambda u, v, _, c=c: u[c] * v).assemble(self._nedelec, self._lagrange)
                       for c in (0, 1)]
        self._vectors = sol.vectors
        self.mesh = basis.mesh  # the curved (6-node) triangles, um
        self.element_group = sol.system.element_group  # region name of every triangle
        self._coefficients: dict[int, np.ndarray] = {}
        self._probes: dict[bytes, sp.csr_matrix] = {}
        self._probes_at: dict[str, tuple[sp.csr_matrix, np.ndarray]] = {}

    def _meridional(self, j: int) -> np.ndarray:
        if j not in self._coefficients:
            x = self._vectors[self._i_n, j]
            self._coefficients[j] = np.array([self._solve(mixed @ x) for mixed in self._mixed])
        return self._coefficients[j]

    def _probe(self, points: np.ndarray) -> sp.csr_matrix:
        key = points.tobytes()
        if key not in self._probes:
            if len(self._probes) >= 8:  # the grid recurs for every mode; lines through a peak rarely do
                self._probes.clear()
            self._probes[key] = _probe_matrix(self._lagrange, points, 1)
        return self._probes[key]

    @property
    def num_modes(self) -> int:
        return self._vectors.shape[1]

    def at_nodes(self, j: int) -> np.ndarray:
        """(E_r, E_z, E_phi) of mode j at the mesh's nodes ``mesh.doflocs`` (vertices and mid-edge
        nodes), each from an element it belongs to (no search: nodes on the window's edge too)."""
        nodes = self.mesh.dofs.element_dofs  # (6, T) node indices of every element
        if "nodes" not in self._probes_at:
            ref6 = ElementTriP2().doflocs.T  # reference positions of the six nodes
            cells = np.repeat(np.arange(nodes.shape[1]), 6)
            ref = np.tile(ref6, nodes.shape[1])[:, :, None]
            self._probes_at["nodes"] = (_probe_matrix(self._lagrange, np.zeros((2, cells.size)), 1, (cells, ref)),
                                        nodes.T.ravel())
        probe, order = self._probes_at["nodes"]
        er, ez = (probe @ c for c in self._meridional(j))
        v = probe @ self._vectors[self._i_l, j]
        r = self.mesh.doflocs[0, order]
        out = np.zeros((3, self.mesh.doflocs.shape[1]), dtype=complex)
        out[:, order] = np.vstack((er, ez, 1j * v / r))
        return out

    def components(self, j: int, points: np.ndarray) -> np.ndarray:
        """(E_r, E_z, E_phi) of mode j at points (2, n) in um."""
        probe = self._probe(points)
        er, ez = (probe @ c for c in self._meridional(j))
        v = probe @ self._vectors[self._i_l, j]
        return np.vstack((er, ez, 1j * v / points[0]))


def axial_share_and_peak(sampler: FieldSampler, j: int, grid: np.ndarray) -> tuple[float, float, float]:
    """(share of E_z in the E_r + E_z energy, r and z of the largest |E|^2) of mode j over the
    points ``grid`` (2, n) inside the resonator (um); the share tells the families apart (E_z
    dominant: TE / Ez, else TM / Hz), and the peak is where the lines that count p and q pass."""
    e = sampler.components(j, grid)
    energy_r, energy_z = (float(np.sum(np.abs(e[c]) ** 2 * grid[0])) for c in (0, 1))
    r_peak, z_peak = grid[:, int(np.argmax(np.sum(np.abs(e) ** 2, axis=0)))]
    return energy_z / (energy_r + energy_z), float(r_peak), float(z_peak)


def real_sign_changes(values: np.ndarray, floor: float = 1e-3) -> int:
    """Sign changes of a complex field sampled along a line, after removing its phase at the
    largest sample; samples below ``floor`` times the largest are skipped (noise, decayed tails)."""
    y = (values * np.exp(-1j * np.angle(values[np.argmax(np.abs(values))]))).real
    s = np.sign(y[np.abs(y) > floor * np.abs(values).max()])
    return int(np.count_nonzero(s[1:] != s[:-1]))
