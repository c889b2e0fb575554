"""Sparse matrices of the cross-section forms, every element matrix of a chunk in one product.

The forms (docs/theory.md section 11, lengths in um):

* stiffness  ``int a (Lambda grad u) . grad v``  (Lambda = identity outside a PML),
* mass       ``int w u v``.

On the reference triangle the basis values phi_i(X_q) and gradients d_c phi_i(X_q) are
the same for every element; only the map changes. With J^-1 the inverse Jacobian of the
(curved, isoparametric) map and dx_q = w_q |det J| the element matrices are

    M_e[i, j] = sum_q (w dx)_eq                       phi_i(q) phi_j(q)
    K_e[i, j] = sum_q sum_cd (a dx J^-1 Lambda J^-T)_eq,cd  d_c phi_i(q) d_d phi_j(q)

i.e. one matrix product (elements x quadrature data) @ (quadrature data x nb^2) per
form for all elements at once, a single BLAS call. scikit-fem's ``BilinearForm`` calls
the form once per basis pair (784 calls per form for P6) on physical gradients it
first builds for every element; at a few thousand unknowns that Python overhead was
most of the assembly, and at 78k unknowns the per-element products were 0.5 s of it.
The map, the quadrature rule and the dof numbering stay scikit-fem's; the matrices equal
its ``BilinearForm.assemble`` to rounding (tests/test_fem_assembly.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from skfem.quadrature import get_quadrature
from skfem.refdom import RefTri


@dataclass
class ChunkQuadrature:
    """Quadrature data of a set of elements of one mesh.

    phi : (nb, nq) reference basis values; dphi : (nb, 2, nq) reference gradients;
    inv_jacobian : (2, 2, nel, nq) dX_c/dx_k (1/um); dx : (nel, nq) weights times |det J|
    (um^2); x : (2, nel, nq) physical points (um); element_dofs : (nb, nel); num_dofs : N.
    """

    phi: np.ndarray
    dphi: np.ndarray
    inv_jacobian: np.ndarray
    dx: np.ndarray
    x: np.ndarray
    element_dofs: np.ndarray
    num_dofs: int

    @classmethod
    def build(cls, mapping, element, dofs, intorder: int, elements: np.ndarray) -> ChunkQuadrature:
        """Quadrature of degree ``intorder`` on ``elements`` through the skfem ``mapping``."""
        X, w = get_quadrature(RefTri, intorder)
        pairs = [element.lbasis(X, i) for i in range(dofs.element_dofs.shape[0])]
        phi = np.array([p for p, _ in pairs])
        dphi = np.array([np.asarray(d) for _, d in pairs])
        inv_j = mapping.invDF(X, tind=elements)
        dx = np.abs(mapping.detDF(X, tind=elements)) * w
        x = mapping.F(X, tind=elements)
        return cls(phi, dphi, inv_j, dx, x, dofs.element_dofs[:, elements], dofs.N)

    def replace_map(self, rows: np.ndarray, mapping, elements: np.ndarray, intorder: int) -> None:
        """Recompute the map data of chunk rows ``rows`` (mesh elements ``elements``) through
        another ``mapping`` of the same mesh topology (an exact-circle geometry)."""
        X, w = get_quadrature(RefTri, intorder)
        self.inv_jacobian[:, :, rows] = mapping.invDF(X, tind=elements)
        self.dx[rows] = np.abs(mapping.detDF(X, tind=elements)) * w
        self.x[:, rows] = mapping.F(X, tind=elements)

    @property
    def num_points(self) -> int:
        return self.phi.shape[1]

    def subset(self, elements: np.ndarray) -> ChunkQuadrature:
        """The data of some of the elements (indices into this set)."""
        return ChunkQuadrature(self.phi, self.dphi, self.inv_jacobian[:, :, elements], self.dx[elements],
                               self.x[:, elements], self.element_dofs[:, elements], self.num_dofs)


def _contract(coef: np.ndarray, table: np.ndarray) -> np.ndarray:
    """(nel, K) @ (K, nb^2) for a real table: a complex coefficient as two real products
    (numpy multiplies complex by real arrays without BLAS, several times slower)."""
    if np.iscomplexobj(coef):
        return (coef.real @ table) + 1j * (coef.imag @ table)
    return coef @ table


def mass_blocks(q: ChunkQuadrature, weight) -> np.ndarray:
    """Element matrices (nel, nb, nb) of ``int weight u v``; weight (nel, nq), real or complex."""
    nb = q.phi.shape[0]
    table = (q.phi[:, None, :] * q.phi[None, :, :]).reshape(nb * nb, -1).T  # (nq, nb^2)
    return _contract(weight * q.dx, table).reshape(-1, nb, nb)


def stiffness_blocks(q: ChunkQuadrature, a, tensor=None) -> np.ndarray:
    """Element matrices (nel, nb, nb) of ``int a (Lambda grad u) . grad v``.

    a : (nel, nq); tensor : None (Lambda = identity) or (lxx, lxy, lyy), each (nel, nq),
    the symmetric 2x2 Lambda of a PML at the quadrature points.
    """
    g = q.inv_jacobian  # g[c, k] = dX_c / dx_k
    if tensor is None:
        lxx, lxy, lyy = 1.0, 0.0, 1.0
    else:
        lxx, lxy, lyy = tensor
    w = a * q.dx

    def c(i, j):  # (J^-1 Lambda J^-T)_ij at every element and point, times a dx
        return w * (g[i, 0] * (lxx * g[j, 0] + lxy * g[j, 1]) + g[i, 1] * (lxy * g[j, 0] + lyy * g[j, 1]))

    coef = np.concatenate((c(0, 0), c(1, 1), c(0, 1)), axis=1)  # (nel, 3 nq); C is symmetric
    nb = q.dphi.shape[0]
    d0, d1 = q.dphi[:, 0], q.dphi[:, 1]  # (nb, nq)

    def outer(u, v):  # (nq, nb^2) table of u_i(q) v_j(q)
        return (u[:, None, :] * v[None, :, :]).reshape(nb * nb, -1).T

    table = np.concatenate((outer(d0, d0), outer(d1, d1), outer(d0, d1) + outer(d1, d0)), axis=0)
    return _contract(coef, table).reshape(-1, nb, nb)


def to_sparse(q: ChunkQuadrature, blocks: np.ndarray) -> sp.csr_matrix:
    """Sum the element matrices ``blocks[e, i, j]`` (row i, column j) into the global CSR matrix."""
    edofs = q.element_dofs  # (nb, nel)
    nb = edofs.shape[0]
    rows = np.repeat(edofs.T, nb, axis=1).ravel()  # row i repeated for every column j
    cols = np.tile(edofs.T, (1, nb)).ravel()
    n = q.num_dofs
    return sp.csr_matrix((blocks.ravel(), (rows, cols)), shape=(n, n))
