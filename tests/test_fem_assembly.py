"""Batched assembly (wgmfem.fem.assembly) and point evaluation (wgmfem.fem.evaluate).

References: scikit-fem's own ``BilinearForm.assemble`` of the same forms on the same
curved basis (an independent implementation: one call per pair of basis functions),
and the Lagrange property of a nodal basis (a field evaluated at a dof's location is
that dof's value; a polynomial of the element's degree is reproduced exactly).
"""

from __future__ import annotations

import numpy as np
import pytest
from skfem import BilinearForm, ElementTriP2
from skfem.mapping import MappingIsoparametric

import wgmfem
import wgmfem.fem.evaluate as evaluate_module
from wgmfem.fem.assembly import ChunkQuadrature, mass_blocks, stiffness_blocks, to_sparse
from wgmfem.fem.cross_section import CHUNK_ELEMENTS, ELEMENTS, _assemble, _chunk_basis, _Geometry, dof_locations, load_mesh
from wgmfem.fem.elements import circle_mapping, concentric_circles
from wgmfem.fem.evaluate import PointLocator, evaluate, p2_map
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


@pytest.mark.parametrize("order", [2, 3, 6])
def test_evaluation_reproduces_dofs_and_linear_fields(rod_mesh, order, monkeypatch):
    """At every dof location the field is that dof's value (nodal basis); at random points a
    linear function of x, y is reproduced exactly (degree 2 in the reference coordinates of
    a 6-node element, so in the space for order >= 2). Points off the mesh are NaN."""
    loaded, _ = rod_mesh
    mesh = loaded.mesh
    element = ELEMENTS[order]()
    basis = _chunk_basis(mesh, element, None, 2 * order, None)
    locs = dof_locations(mesh, element, basis.dofs)
    rng = np.random.default_rng(1)
    random_field = rng.standard_normal(basis.N) + 1j * rng.standard_normal(basis.N)
    vectors = np.column_stack((random_field, locs[0] - 2 * locs[1] + 0.5))
    field = _Field(mesh, element, basis, vectors)
    vals = evaluate(field, locs[0], locs[1])
    assert np.all(np.isfinite(vals))
    assert np.abs(vals - vectors).max() <= 1e-9 * np.abs(vectors).max()  # measured ~1e-13
    # random points strictly inside the mesh (its outer boundary is the circle r_end)
    r_end = np.hypot(*mesh.p).max()
    r, phi = 0.999 * r_end * np.sqrt(rng.random(5000)), 2 * np.pi * rng.random(5000)
    x, y = r * np.cos(phi), r * np.sin(phi)
    linear = evaluate(field, x, y)[:, 1]
    assert np.abs(linear - (x - 2 * y + 0.5)).max() <= 1e-10 * r_end  # measured ~3e-14
    monkeypatch.setattr(evaluate_module, "EVALUATION_BATCH", 777)  # the same in uneven batches
    np.testing.assert_array_equal(evaluate(field, x, y)[:, 1], linear)
    off = evaluate(field, np.array([0.0, 100.0]), np.array([50.0, 0.0]))
    assert np.all(np.isnan(off))


def test_every_point_of_the_domain_is_located(rod_mesh):
    """Points on a fine polar grid inside the curved outer boundary: all located (in an
    element whose curved map sends the reference coordinates back onto the point), also
    with a wide margin needed for none of them."""
    loaded, pml = rod_mesh
    locator = PointLocator(loaded.mesh)
    r_end = pml.r_end_um
    r, phi = np.meshgrid(np.linspace(0, r_end * (1 - 1e-9), 160), np.linspace(0, 2 * np.pi, 361))
    x = np.vstack((np.ravel(r * np.cos(phi)), np.ravel(r * np.sin(phi))))
    tind, X = locator.locate(x)
    assert np.all(tind >= 0)
    back, _ = p2_map(locator.nodes[:, :, tind], X)
    assert np.abs(back - x).max() <= 1e-10 * r_end


def test_exact_circle_map_on_curved_elements_equals_skfem_with_the_full_map(rod_mesh):
    """_Geometry recomputes the map only on the elements along the circles; the matrices
    equal skfem's assembly with the exact-circle map on every element."""
    loaded, pml = rod_mesh
    mesh, element = loaded.mesh, ELEMENTS[6]()
    geometry = _Geometry(mesh, loaded.boundaries, 6, True)
    assert geometry.exact is not None and 0 < geometry.curved.sum() < mesh.nelements
    q = geometry.quadrature(element, _chunk_basis(mesh, element, None, 14, None).dofs, 14, np.arange(mesh.nelements))
    ones = np.ones_like(q.dx)
    A, B = to_sparse(q, stiffness_blocks(q, ones)), to_sparse(q, mass_blocks(q, ones))
    from skfem import CellBasis

    kept = geometry.circles  # the circles with < 128 edges per turn
    assert 0 < len(kept) < len(concentric_circles(mesh, loaded.boundaries))
    full = CellBasis(mesh, element, mapping=circle_mapping(mesh, 6, kept), intorder=14)
    A_ref = skfem_stiffness.assemble(full, a=1.0, lxx=1.0, lxy=0.0, lyy=1.0)
    B_ref = skfem_mass.assemble(full, b=1.0)
    assert abs(A - A_ref).max() <= 1e-12 * abs(A_ref).max()  # measured ~5e-14
    assert abs(B - B_ref).max() <= 1e-12 * abs(B_ref).max()


def test_assembly_does_not_depend_on_the_chunks(rod_mesh, monkeypatch):
    """Chunks that cut through element groups give the same A, B and group energies."""
    from wgmfem.fem import cross_section

    loaded, pml = rod_mesh
    mesh, element = loaded.mesh, ELEMENTS[3]()
    dofs = _chunk_basis(mesh, element, None, 8, None).dofs
    n_elem = np.where(loaded.element_group == "core", 1.56, 1.0).astype(complex)
    geometry = _Geometry(mesh, loaded.boundaries, 3, False)

    def run():
        return _assemble(mesh, element, dofs, 8, "Ez", n_elem, loaded.element_group, pml, "pml", geometry)

    A1, B1, E1 = run()
    monkeypatch.setattr(cross_section, "CHUNK_ELEMENTS", 97)
    assert mesh.nelements > 3 * 97 and CHUNK_ELEMENTS > mesh.nelements
    A2, B2, E2 = run()
    for one, many in [(A1, A2), (B1, B2)] + [(E1[g], E2[g]) for g in E1]:
        assert abs(one - many).max() <= 1e-13 * abs(one).max()
    assert set(E1) == set(E2) == {"core", "outside", "pml"}
