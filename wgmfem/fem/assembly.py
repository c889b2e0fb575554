"""Sparse matrices of the cross-section forms, all element matrices of a chunk at once.

The forms (PHYSICS.md section 2, lengths in um):

* stiffness  ``int a (Lambda grad u) . grad v``  (Lambda = identity outside a PML),
* mass       ``int w u v``.

scikit-fem's ``BilinearForm.assemble`` calls the form once per pair of basis functions
(784 calls per form for a P6 triangle), each call a handful of numpy operations on
(elements x quadrature points) arrays; at the few thousand unknowns of a sector the
Python overhead of those calls was most of the assembly time. Here the basis values
that skfem's ``CellBasis`` precomputes (the curved isoparametric map, the quadrature
and the dof numbering all stay skfem's) are stacked once, and every element matrix of
the chunk comes from one batched matrix product ``(nb x q) @ (q x nb)`` per element.
The result equals skfem's assembly to rounding (tests/test_fem_assembly.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class ElementArrays:
    """Basis values of a set of elements, stacked for batched products.

    values : (nel, nb, nq) basis values at the quadrature points; grads : (nel, 2, nb, nq)
    physical gradients (1/um); dx : (nel, nq) quadrature weights times |det J| (um^2);
    element_dofs : (nb, nel) global dof of each local function; num_dofs : N.
    """

    values: np.ndarray
    grads: np.ndarray
    dx: np.ndarray
    element_dofs: np.ndarray
    num_dofs: int

    @classmethod
    def from_basis(cls, basis) -> ElementArrays:
        """The arrays of a scikit-fem ``CellBasis`` (its elements, quadrature and mapping)."""
        fields = [basis.basis[i][0] for i in range(basis.Nbfun)]
        values = np.stack([np.asarray(f) for f in fields], axis=1)
        grads = np.stack([f.grad for f in fields], axis=2).transpose(1, 0, 2, 3)
        return cls(values, grads, np.asarray(basis.dx), basis.element_dofs, basis.N)

    def subset(self, elements: np.ndarray) -> ElementArrays:
        """The arrays of some of the elements (indices into this set)."""
        return ElementArrays(self.values[elements], self.grads[elements], self.dx[elements],
                             self.element_dofs[:, elements], self.num_dofs)


def mass_blocks(arrays: ElementArrays, weight) -> np.ndarray:
    """Element matrices (nel, nb, nb) of ``int weight u v``; weight (nel, nq), real or complex."""
    v = arrays.values
    return np.matmul(v * (weight * arrays.dx)[:, None, :], v.transpose(0, 2, 1))


def stiffness_blocks(arrays: ElementArrays, a, tensor=None) -> np.ndarray:
    """Element matrices (nel, nb, nb) of ``int a (Lambda grad u) . grad v``.

    a : (nel, nq); tensor : None (Lambda = identity) or (lxx, lxy, lyy), each (nel, nq),
    the symmetric 2x2 Lambda of a PML at the quadrature points.
    """
    g = arrays.grads  # (nel, 2, nb, nq)
    w = (a * arrays.dx)[:, None, :]
    if tensor is None:
        gx, gy = g[:, 0], g[:, 1]
        return np.matmul(gx * w, gx.transpose(0, 2, 1)) + np.matmul(gy * w, gy.transpose(0, 2, 1))
    lxx, lxy, lyy = (c[:, None, :] for c in tensor)
    gx, gy = g[:, 0], g[:, 1]
    # (Lambda grad u) . grad v = grad v . (Lambda grad u): the test-function side carries Lambda
    lgx, lgy = lxx * gx + lxy * gy, lxy * gx + lyy * gy
    return np.matmul(lgx * w, gx.transpose(0, 2, 1)) + np.matmul(lgy * w, gy.transpose(0, 2, 1))


def to_sparse(arrays: ElementArrays, blocks: np.ndarray) -> sp.csr_matrix:
    """Sum the element matrices ``blocks[e, i, j]`` into the global (N x N) CSR matrix."""
    edofs = arrays.element_dofs  # (nb, nel)
    nb = edofs.shape[0]
    rows = np.repeat(edofs.T, nb, axis=1).ravel()  # row i repeated for every column j
    cols = np.tile(edofs.T, (1, nb)).ravel()
    n = arrays.num_dofs
    # blocks[e, i, j] couples test function i (row) and trial function j (column)
    return sp.csr_matrix((blocks.ravel(), (rows, cols)), shape=(n, n))
