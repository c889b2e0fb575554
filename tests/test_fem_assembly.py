"""Batched assembly (wgmfem.fem.assembly) and point evaluation (wgmfem.fem.evaluate).

References: scikit-fem's own ``BilinearForm.assemble`` of the same forms on the same
curved basis (an independent implementation: one call per pair of basis functions),
and the Lagrange property of a nodal basis (a field evaluated at a dof's location is
that dof's value; a polynomial of the element's degree is reproduced exactly).
"""

from __future__ import annotations

import numpy as np
import pytest
from skfem import BilinearForm

import wgmfem
from skfem import ElementTriP2
from skfem.mapping import MappingIsoparametric

from wgmfem.fem.assembly import ChunkQuadrature, mass_blocks, stiffness_blocks, to_sparse
from wgmfem.fem.cross_section import ELEMENTS, _chunk_basis, dof_locations, load_mesh
from wgmfem.fem.evaluate import PointLocator, evaluate
from wgmfem.fem.mesh import build_mesh
from wgmfem.fem.pml import make_pml

ROD = wgmfem.LayeredCylinder((3.0,), (1.56,), 1.0)


@BilinearForm(dtype=np.complex128)
def skfem_stiffness(u, v, w):
    gu, gv = u.grad, v.grad
    return w.a * (w.lxx * gu[0] * gv[0] + w.lxy * (gu[0] * gv[1] + gu[1] * gv[0]) + w.lyy * gu[1] * gv[1])


@BilinearForm(dtype=np.complex128)
def skfem_mass(u, v, w):
    return w.b * u * v


@pytest.fixture(scope="module")
def rod_mesh(tmp_path_factory):
    """The 3 um rod with a PML, full cross-section (curved 6-node triangles)."""
    k = 2 * np.pi / 0.9
    pml = make_pml(3.0, k, 1.0, 20)
    info = build_mesh(ROD, 2e3 * np.pi / k, element_order=3, points_per_wavelength=4, pml=pml,
                      cache_dir=tmp_path_factory.mktemp("meshes"))
    return load_mesh(info.path), pml


def _quadrature(mesh, element, basis, intorder):
    all_elements = np.arange(mesh.nelements)
    return ChunkQuadrature.build(MappingIsoparametric(mesh, ElementTriP2()), element, basis.dofs, intorder, all_elements)


@pytest.mark.parametrize("order", [2, 4, 6])
def test_batched_matrices_equal_skfem_assembly_with_pml_tensor(rod_mesh, order):
    loaded, pml = rod_mesh
    element = ELEMENTS[order]()
    basis = _chunk_basis(loaded.mesh, element, None, 2 * order + 2, None)
    q = _quadrature(loaded.mesh, element, basis, 2 * order + 2)
    x, y = np.asarray(basis.global_coordinates())
    np.testing.assert_allclose(q.x, np.array([x, y]), atol=1e-12)
    r = np.hypot(x, y)
    # a complex, anisotropic, point-dependent tensor and weights: the PML's own
    l_rr, l_pp, ms = pml.tensor_2d(r)
    c, s = x / r, y / r
    coef = dict(a=1.0 + 0.3 * x * y, b=(1.56**2) * ms, lxx=l_rr * c * c + l_pp * s * s,
                lxy=(l_rr - l_pp) * c * s, lyy=l_rr * s * s + l_pp * c * c)
    A = to_sparse(q, stiffness_blocks(q, coef["a"], (coef["lxx"], coef["lxy"], coef["lyy"])))
    B = to_sparse(q, mass_blocks(q, coef["b"]))
    A_ref, B_ref = skfem_stiffness.assemble(basis, **coef), skfem_mass.assemble(basis, **coef)
    for mine, ref in ((A, A_ref), (B, B_ref)):
        assert mine.shape == ref.shape
        assert abs(mine - ref).max() <= 1e-12 * abs(ref).max()  # measured ~1e-16


def test_isotropic_stiffness_equals_the_identity_tensor(rod_mesh):
    loaded, _ = rod_mesh
    element = ELEMENTS[3]()
    basis = _chunk_basis(loaded.mesh, element, None, 8, None)
    q = _quadrature(loaded.mesh, element, basis, 8)
    a = np.ones_like(q.dx)
    plain = to_sparse(q, stiffness_blocks(q, a))
    tensor = to_sparse(q, stiffness_blocks(q, a, (a, 0 * a, a)))
    assert abs(plain - tensor).max() <= 1e-13 * abs(plain).max()
    # the constant function is in the kernel of the stiffness matrix (no Dirichlet rows)
    assert np.abs(plain @ np.ones(plain.shape[0])).max() <= 1e-10 * abs(plain).max()


class _Field:
    """The minimal result that :func:`evaluate` needs: mesh, dofs, element, vectors."""

    def __init__(self, mesh, element, basis, vectors):
        self.mesh, self.element, self.dofs, self.vectors = mesh, element, basis.dofs, vectors


@pytest.mark.parametrize("order", [3, 6])
def test_evaluation_reproduces_dofs_and_polynomials(rod_mesh, order):
    loaded, _ = rod_mesh
    mesh = loaded.mesh
    element = ELEMENTS[order]()
    basis = _chunk_basis(mesh, element, None, 2 * order, None)
    locs = dof_locations(mesh, element, basis.dofs)
    rng = np.random.default_rng(1)
    random_field = rng.standard_normal(basis.N) + 1j * rng.standard_normal(basis.N)
    # a polynomial of degree `order` in the reference coordinates is not one in x, y on a
    # curved element, so reproduction is checked with a degree-1 polynomial of x, y only on
    # the interpolation nodes, and everywhere with the dof values themselves
    vectors = np.column_stack((random_field, locs[0] - 2 * locs[1] + 0.5))
    field = _Field(mesh, element, basis, vectors)
    # every dof location (vertices, edge and interior nodes, curved edges included)
    vals = evaluate(field, locs[0], locs[1])
    assert np.all(np.isfinite(vals))
    assert np.abs(vals - vectors).max() <= 1e-9 * np.abs(vectors).max()  # measured ~1e-13
    # points off the mesh are NaN, not an extrapolation
    off = evaluate(field, np.array([0.0, 100.0]), np.array([50.0, 0.0]))
    assert np.all(np.isnan(off))


def test_every_point_of_the_domain_is_found_once(rod_mesh):
    """Points on a fine polar grid inside the curved outer boundary: all located, the
    reference coordinates map back onto the point (through the curved map)."""
    loaded, pml = rod_mesh
    locator = PointLocator(loaded.mesh)
    r_end = pml.r_end_um
    r, phi = np.meshgrid(np.linspace(0, r_end * (1 - 1e-9), 160), np.linspace(0, 2 * np.pi, 361))
    x = np.vstack((np.ravel(r * np.cos(phi)), np.ravel(r * np.sin(phi))))
    tind, X = locator.locate(x)
    assert np.all(tind >= 0)
    from wgmfem.fem.evaluate import p2_map

    back, _ = p2_map(locator.nodes[:, :, tind], X)
    assert np.abs(back - x).max() <= 1e-10 * r_end
