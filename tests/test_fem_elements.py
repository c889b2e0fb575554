"""Lagrange triangle elements of degree 5 and 6 (wgmfem.fem.elements) for scikit-fem.

Checked against independent references: scikit-fem's own P3/P4 (a separate, hand-written
implementation), exact polynomials, the closed-form solution and eigenvalue of the
Laplacian on the unit square, the Bessel zero of the unit disk (curved P2 mesh), and the
exact solver on the paper capillary sector.
"""

import numpy as np
import pytest
from scipy.sparse.linalg import eigsh
from scipy.special import jn_zeros
from skfem import (
    Basis,
    ElementTriP1,
    ElementTriP2,
    ElementTriP3,
    ElementTriP4,
    Functional,
    InteriorFacetBasis,
    LinearForm,
    MeshTri,
    MeshTri2,
    condense,
    solve,
)
from skfem.models.poisson import laplace, mass

import wgmfem
from wgmfem.fem.cross_section import cross_section_mesh, load_mesh
from wgmfem.fem.elements import (
    ElementTriP5,
    ElementTriP6,
    ElementTriPk,
    circle_mapping,
    concentric_circles,
    lagrange_values,
    lattice_points,
)
from wgmfem.fem.study2d import find_modes_2d

HIGH = [5, 6]


def element(k):
    return {5: ElementTriP5, 6: ElementTriP6}.get(k, lambda: ElementTriPk(k))()


def perturbed_square(nref=2, seed=0):
    """Unit square with jittered interior vertices: elements of every shape and orientation."""
    m = MeshTri.init_symmetric().refined(nref)
    rng = np.random.default_rng(seed)
    p = m.p.copy()
    inner = np.all((p > 1e-12) & (p < 1 - 1e-12), axis=0)
    p[:, inner] += rng.uniform(-0.2, 0.2, (2, inner.sum())) / 2**nref
    return MeshTri(p, m.t)


# --------------------------------------------------------------------------
# the reference element
# --------------------------------------------------------------------------
@pytest.mark.parametrize("k,skfem_element", [(3, ElementTriP3), (4, ElementTriP4)])
def test_generic_element_equals_skfem_p3_p4(k, skfem_element):
    """Same nodes, same order, same functions as scikit-fem's hand-written P3/P4."""
    ref, ours = skfem_element(), ElementTriPk(k)
    np.testing.assert_array_equal(ours.doflocs, ref.doflocs)
    assert (ours.facet_dofs, ours.interior_dofs) == (ref.facet_dofs, ref.interior_dofs)
    X = np.random.default_rng(1).dirichlet((1, 1, 1), 40).T[:2]
    for i in range(len(ref.doflocs)):
        phi, dphi = ref.lbasis(X, i)
        phi_k, dphi_k = ours.lbasis(X, i)
        np.testing.assert_allclose(phi_k, phi, atol=1e-12)
        np.testing.assert_allclose(dphi_k, np.asarray(dphi), atol=1e-11)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6])
def test_value_table_equals_each_elements_own_basis(k):
    """lagrange_values (used for point evaluation) against each element's lbasis: skfem's
    own P1-P4, ours for P5/P6."""
    element = {1: ElementTriP1, 2: ElementTriP2, 3: ElementTriP3, 4: ElementTriP4}.get(k, lambda: ElementTriPk(k))()
    X = np.random.default_rng(2).dirichlet((1, 1, 1), 30).T[:2]
    table = lagrange_values(k, X)
    assert table.shape == (len(element.doflocs), 30)
    for i in range(len(element.doflocs)):
        np.testing.assert_allclose(table[i], element.lbasis(X, i)[0], atol=1e-12)
    # and, independently of the elements' own code, the nodal property phi_i(node_j) = delta_ij
    np.testing.assert_allclose(lagrange_values(k, lattice_points(k).T), np.eye(len(element.doflocs)), atol=1e-12)


@pytest.mark.parametrize("k", HIGH)
def test_nodal_basis_and_layout(k):
    e = element(k)
    n = (k + 1) * (k + 2) // 2
    assert e.doflocs.shape == (n, 2) and len(e.dofnames) == 1 + (k - 1) + (k - 1) * (k - 2) // 2
    # edge nodes run from the first to the second vertex of edges (0,1), (1,2), (0,2)
    edges = e.doflocs[3:3 + 3 * (k - 1)].reshape(3, k - 1, 2)
    s = np.arange(1, k) / k
    np.testing.assert_allclose(edges[0], np.c_[s, 0 * s])
    np.testing.assert_allclose(edges[1], np.c_[1 - s, s])
    np.testing.assert_allclose(edges[2], np.c_[0 * s, s])
    V = np.array([e.lbasis(e.doflocs.T, i)[0] for i in range(n)])  # phi_i(node_j)
    np.testing.assert_allclose(V, np.eye(n), atol=1e-12)
    X = np.random.default_rng(2).dirichlet((1, 1, 1), 30).T[:2]
    total = sum(e.lbasis(X, i)[0] for i in range(n))
    grad_total = sum(e.lbasis(X, i)[1] for i in range(n))
    np.testing.assert_allclose(total, 1.0, atol=1e-12)  # partition of unity
    np.testing.assert_allclose(grad_total, 0.0, atol=1e-10)
    with pytest.raises(ValueError):
        e.lbasis(X, n)
    with pytest.raises(ValueError):
        lattice_points(0)


# --------------------------------------------------------------------------
# global space: polynomial reproduction, continuity
# --------------------------------------------------------------------------
@pytest.mark.parametrize("k", HIGH)
def test_interpolant_reproduces_degree_k_polynomials(k):
    """Nodal interpolation of a full degree-k polynomial is exact (values and gradients);
    a degree k+1 monomial is not (so the degree is exactly k)."""
    basis = Basis(perturbed_square(), element(k), intorder=2 * k)
    x, y = basis.doflocs
    rng = np.random.default_rng(k)
    terms = [(a, d - a) for d in range(k + 1) for a in range(d + 1)]
    c = rng.normal(size=len(terms))

    def poly(x, y):
        return sum(ci * x**a * y**b for ci, (a, b) in zip(c, terms))

    def poly_grad(x, y):
        gx = sum(ci * a * x ** max(a - 1, 0) * y**b for ci, (a, b) in zip(c, terms))
        gy = sum(ci * b * x**a * y ** max(b - 1, 0) for ci, (a, b) in zip(c, terms))
        return gx, gy

    u = basis.interpolate(poly(x, y))
    X, Y = basis.global_coordinates()
    np.testing.assert_allclose(np.asarray(u), poly(X, Y), atol=1e-11 * np.abs(c).sum())
    gx, gy = poly_grad(X, Y)
    np.testing.assert_allclose(u.grad[0], gx, atol=1e-9 * np.abs(c).sum())
    np.testing.assert_allclose(u.grad[1], gy, atol=1e-9 * np.abs(c).sum())
    coarse = Basis(MeshTri(), element(k), intorder=2 * k)  # two elements: h = 1
    v = coarse.interpolate(coarse.doflocs[0] ** (k + 1))
    assert np.max(np.abs(np.asarray(v) - coarse.global_coordinates()[0] ** (k + 1))) > 1e-4


@pytest.mark.parametrize("k", HIGH)
@pytest.mark.parametrize("curved", [False, True])
def test_random_global_field_is_continuous_across_edges(k, curved):
    """Any global dof vector gives the same trace from both sides of every interior edge:
    the neighbours agree on the order of the k-1 shared edge dofs. Curved: the 6-node
    disk mesh with the isoparametric map, as the cross-section solver uses."""
    mesh = MeshTri2.init_circle(2) if curved else perturbed_square()
    e = element(k)
    basis = Basis(mesh, e)
    u = np.random.default_rng(3).normal(size=basis.N)
    sides = [InteriorFacetBasis(mesh, e, side=s, intorder=2 * k) for s in (0, 1)]
    np.testing.assert_allclose(*(np.asarray(fb.global_coordinates()) for fb in sides), atol=1e-13)
    v0, v1 = (np.asarray(fb.interpolate(u)) for fb in sides)
    assert np.max(np.abs(v0)) > 0.1
    np.testing.assert_allclose(v0, v1, atol=1e-10)


# --------------------------------------------------------------------------
# convergence
# --------------------------------------------------------------------------
def _square_problem(k, nref):
    """-Laplace u = 2 pi^2 sin(pi x) sin(pi y), u = 0 on the unit square: (L2 error, lambda_1 error)."""
    mesh = MeshTri.init_symmetric().refined(nref)
    basis = Basis(mesh, element(k), intorder=2 * k + 2)
    A, M = laplace.assemble(basis), mass.assemble(basis)
    inner = basis.complement_dofs(basis.get_dofs())

    @LinearForm
    def load(v, w):
        return 2 * np.pi**2 * np.sin(np.pi * w.x[0]) * np.sin(np.pi * w.x[1]) * v

    @Functional
    def sq_error(w):
        return (w["u"] - np.sin(np.pi * w.x[0]) * np.sin(np.pi * w.x[1])) ** 2

    u = solve(*condense(A, load.assemble(basis), I=inner))
    l2 = np.sqrt(sq_error.assemble(Basis(mesh, element(k), intorder=2 * k + 4), u=u))
    lam = eigsh(A[inner][:, inner], 1, M[inner][:, inner], sigma=15.0, return_eigenvectors=False)[0]
    return l2, lam / (2 * np.pi**2) - 1


@pytest.mark.parametrize("k", HIGH)
def test_square_poisson_and_eigenvalue_converge_at_optimal_rates(k):
    """L2 error ~ h^(k+1), first Dirichlet eigenvalue error ~ h^(2k) (exact 2 pi^2)."""
    (l2_a, lam_a), (l2_b, lam_b) = _square_problem(k, 1), _square_problem(k, 2)
    # measured: P5 L2 4.2e-6 -> 6.8e-8 (rate 5.95), lambda 6.6e-9 -> 7.2e-12 (9.9)
    #           P6 L2 2.4e-7 -> 1.9e-9 (6.98), lambda 3.1e-11 -> ~1e-15 (round-off)
    assert np.log2(l2_a / l2_b) > k + 1 - 0.2
    assert 0 < lam_a < 1e-7 and abs(lam_b) < lam_a / 2 ** (2 * k - 1)  # rate >= 2k - 1


def test_curved_disk_eigenvalue_limited_by_quadratic_geometry():
    """Unit disk, Dirichlet: lambda_1 -> j_{0,1}^2. On the 6-node (P2) geometry every order
    >= 3 converges as h^4, the error of the quadratic boundary, not h^(2k): P6 is no
    better than P4 on the same curved mesh (measured +7.8e-4, 4.9e-5, rate 4.0)."""
    exact = jn_zeros(0, 1)[0] ** 2
    err = {}
    for k in (4, 6):
        for nref in (1, 2):
            basis = Basis(MeshTri2.init_circle(nref), element(k), intorder=2 * k + 2)
            A, M = laplace.assemble(basis), mass.assemble(basis)
            inner = basis.complement_dofs(basis.get_dofs())
            lam = eigsh(A[inner][:, inner], 1, M[inner][:, inner], sigma=5.0, return_eigenvectors=False)[0]
            err[k, nref] = lam / exact - 1
    for k in (4, 6):
        assert 0 < err[k, 2] < 1e-4 and 3.7 < np.log2(err[k, 1] / err[k, 2]) < 4.3
    assert err[6, 2] == pytest.approx(err[4, 2], rel=0.05)


def _disk_eigenvalue_error(k, nref, exact_geometry):
    mesh = MeshTri2.init_circle(nref)
    mapping = circle_mapping(mesh, k, [(mesh.boundary_facets(), (0.0, 0.0), 1.0)]) if exact_geometry else None
    basis = Basis(mesh, element(k), intorder=2 * k + 2, mapping=mapping)
    A, M = laplace.assemble(basis), mass.assemble(basis)
    inner = basis.complement_dofs(basis.get_dofs())
    lam = eigsh(A[inner][:, inner], 1, M[inner][:, inner], sigma=5.0, return_eigenvectors=False)[0]
    return lam / jn_zeros(0, 1)[0] ** 2 - 1


def test_circle_mapping_lifts_the_geometry_limit_on_the_disk():
    """With the degree-6 map onto the exact circle the disk eigenvalue converges as h^8
    (the P6 interpolated arc) instead of h^4: measured -1.6e-7, -6.7e-10 (rate 7.9) vs
    +4.9e-5 with the quadratic geometry on the same mesh."""
    e1, e2 = _disk_eigenvalue_error(6, 1, True), _disk_eigenvalue_error(6, 2, True)
    assert abs(e2) < 1e-9 and np.log2(abs(e1 / e2)) > 7.5
    assert abs(e2) < 1e-4 * abs(_disk_eigenvalue_error(6, 2, False))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("meshes")


def test_circle_mapping_on_a_layered_mesh_is_conforming_and_exact(cache):
    """Gmsh cross-section of a two-layer cylinder (cut, two interfaces, PML end): the
    circles are found, the map agrees from both sides of every edge (interfaces are
    curved for both neighbours) and the region areas are those of the exact annuli."""
    cyl = wgmfem.LayeredCylinder((3.0, 4.0), (1.56, 1.47))
    k = wgmfem.find_modes(cyl, pol="Ez", m=20, p=1, region="core")[0].k
    info, r_cut, pml = cross_section_mesh(cyl, k, m=20, order=6, points_per_wavelength=6, cache_dir=cache)
    loaded = load_mesh(info.path)
    mesh = loaded.mesh
    circles = concentric_circles(mesh, loaded.boundaries)
    radii = sorted(round(r, 9) for _, _, r in circles)
    expected = [r_cut] * (r_cut > 0) + [3.0, 4.0, pml.r_start_um, pml.r_end_um]  # no cut circle when r_cut = 0
    assert radii == sorted(round(r, 9) for r in expected)
    e = element(6)
    mapping = circle_mapping(mesh, 6, circles)
    # the same points of every interior edge mapped through either neighbour (sorted vertices:
    # both run along the edge in the same direction)
    inner = np.flatnonzero(mesh.f2t[1] >= 0)
    s = np.linspace(0.05, 0.95, 7)
    corners = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    edges = ((0, 1), (1, 2), (0, 2))
    mapped = []
    for side in (0, 1):
        tind = mesh.f2t[side, inner]
        local = np.argmax(mesh.t2f[:, tind] == inner, axis=0)
        pts = np.zeros((2, len(inner), len(s)))
        for j, (a, b) in enumerate(edges):
            sel = local == j
            X = corners[:, [a]] * (1 - s) + corners[:, [b]] * s
            pts[:, sel] = mapping.F(np.broadcast_to(X[:, None, :], (2, sel.sum(), len(s))), tind=tind[sel])
        mapped.append(pts)
    np.testing.assert_allclose(mapped[0], mapped[1], atol=1e-12)

    @Functional
    def area(w):
        return 1.0 + 0.0 * w.x[0]

    bounds = {"core": (r_cut, 3.0), "wall": (3.0, 4.0)}
    for name, (r0, r1) in bounds.items():
        sel = np.flatnonzero(loaded.element_group == name)
        exact_area = np.pi * (r1**2 - r0**2)
        curved = area.assemble(Basis(mesh, e, mapping=mapping, elements=sel, intorder=12))
        quadratic = area.assemble(Basis(mesh, e, elements=sel, intorder=12))
        assert abs(curved / exact_area - 1) < 1e-10 < abs(quadratic / exact_area - 1)


# --------------------------------------------------------------------------
# the cross-section solver with P5 / P6
# --------------------------------------------------------------------------


@pytest.mark.parametrize("order,ppw", [(5, 12), (6, 8)])
def test_paper_sector_p5_p6_within_1e7(order, ppw, cache):
    """Paper capillary Ez (p=1, m=600) on the 2 pi/600 periodic sector vs the exact solver.
    Measured: P5 ppw 12 -3.1e-8 (13.2k unknowns), P6 ppw 8 -4.6e-8 (6.3k unknowns);
    P4 needs ppw 16 (22k unknowns) for -6.7e-8."""
    cap = wgmfem.Capillary()
    ref = wgmfem.find_modes(cap, pol="Ez", m=600, p=1, region="core")[0]
    modes, res = find_modes_2d(cap, "Ez", 600, sector=(1, 600), order=order, points_per_wavelength=ppw,
                               num_modes=6, cache_dir=cache, return_result=True)
    md = next(md for md in modes if (md.m, md.p, md.region) == (600, 1, "core"))
    assert abs(md.wavelength_nm / ref.wavelength_nm - 1) <= 1e-7
    assert md.verification["purity"] > 0.999 and md.verification["pair_found"]
    assert res.order == order and res.element.maxdeg == order
