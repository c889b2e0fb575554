"""2-D cross-section FEM: Gmsh meshes (wgmfem.fem.mesh), scikit-fem solver
(wgmfem.fem.cross_section) and mode identification (wgmfem.fem.identify).

References: the exact solver ``wgmfem.find_modes`` (open structures), the 1-D radial
FEM ``solve_radial`` (closed cavities) and Bessel zeros (closed disk). Default-run
tests take ~15 s with PARDISO (pypardiso installed), ~25 s with SuperLU; the rest is
``@pytest.mark.slow``. Measured numbers are quoted next to each tolerance.
"""

from __future__ import annotations

import math

import meshio
import numpy as np
import pytest
from scipy.special import jn_zeros

import wgmfem
from wgmfem.fem import solve_radial
from wgmfem.fem.cross_section import dof_locations, load_mesh, solve_cross_section
from wgmfem.fem.engine2d import modes_from_result
from wgmfem.fem.identify import count_maxima, identify
from wgmfem.fem.mesh import build_mesh
from wgmfem.fem.study2d import find_modes_2d
from wgmfem.geometry import Capillary, LayeredCylinder, Rod

PAPER = Capillary()  # radii 27 / 39 um, n 1.56 / 1.47, air
ROD = Rod(3.0, 1.56)
SMALL = LayeredCylinder((3.0, 4.0), (1.56, 1.47))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("meshes")


def rel(a, b):
    return abs(a - b) / abs(b)


def exact(cyl, pol, m, p=1):
    return wgmfem.find_modes(cyl, pol=pol, m=m, p=p, region="core")[0]


def the_mode(modes, m, p=1, region="core"):
    hits = [md for md in modes if (md.m, md.p, md.region) == (m, p, region)]
    assert hits, f"no m={m} p={p} {region} mode among {modes}"
    return hits[0]


# --------------------------------------------------------------------------
# meshes
# --------------------------------------------------------------------------
def test_sector_mesh_groups_cache_and_periodic_nodes(cache):
    info = build_mesh(PAPER, 432.0, sector=(1, 600), r_cut_um=24.0, r_end_um=30.0, cache_dir=cache)
    assert info.num_elements > 100 and info.path.suffix == ".msh" and not info.cached
    again = build_mesh(PAPER, 432.0, sector=(1, 600), r_cut_um=24.0, r_end_um=30.0, cache_dir=cache)
    assert again.cached and again.path == info.path and again.num_nodes == info.num_nodes
    msh = meshio.read(info.path)  # v4.1 readable by meshio, second-order cells
    groups = set(msh.cell_sets_dict)
    # the domain ends at 30 um inside the wall (a truncated, closed cavity)
    assert {"core", "wall", "cut", "end", "core|wall", "periodic_a", "periodic_b"} <= groups
    assert "outside" not in groups
    assert "triangle6" in msh.cells_dict and "line3" in msh.cells_dict
    # gmsh made side b the rotated copy of side a: every node has its image
    pts = msh.points[:, :2]
    a = pts[np.unique(msh.cells_dict["line3"][msh.cell_sets_dict["periodic_a"]["line3"]])]
    b = pts[np.unique(msh.cells_dict["line3"][msh.cell_sets_dict["periodic_b"]["line3"]])]
    t = 2 * math.pi / 600
    rot = a @ np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    assert len(a) == len(b)
    assert np.max(np.min(np.hypot(*(rot[:, None, :] - b[None, :, :]).T), axis=0)) < 1e-9


def test_perturbed_mesh_is_curved_on_the_ellipse(cache):
    info = build_mesh(SMALL, 600.0, r_cut_um=1.5, bore_offset_um=0.1, inner_ellipticity=0.04,
                      outer_ellipticity=-0.02, points_per_wavelength=6, cache_dir=cache)
    msh = meshio.read(info.path)
    lines = msh.cells_dict["line3"][msh.cell_sets_dict["core|wall"]["line3"]]
    x, y = msh.points[lines, 0], msh.points[lines, 1]
    a, b = 3.0 * 1.02, 3.0 * 0.98  # semi-axes R(1 +- e/2)
    on_ellipse = ((x - 0.1) / a) ** 2 + (y / b) ** 2
    assert np.max(np.abs(on_ellipse - 1)) < 1e-9  # vertices AND mid-edge nodes (curved)
    outer = msh.cells_dict["line3"][msh.cell_sets_dict["end"]["line3"]]
    xo, yo = msh.points[outer, 0], msh.points[outer, 1]
    assert np.max(np.abs((xo / (4 * 0.99)) ** 2 + (yo / (4 * 1.01)) ** 2 - 1)) < 1e-9


def test_sector_refuses_a_perturbation():
    with pytest.raises(ValueError, match="rotationally symmetric"):
        build_mesh(PAPER, 432.0, sector=(1, 600), r_cut_um=24.0, inner_ellipticity=0.01)


def test_loaded_mesh_has_consistent_p3_edge_dofs(cache):
    """Vertex-sorted elements: both neighbours put their P3 edge dofs at the same points."""
    info = build_mesh(SMALL, 600.0, r_cut_um=1.5, inner_ellipticity=0.04, points_per_wavelength=6, cache_dir=cache)
    loaded = load_mesh(info.path)
    from skfem import ElementTriP2, ElementTriP3
    from skfem.assembly import Dofs
    from skfem.mapping import MappingIsoparametric

    mesh, elem = loaded.mesh, ElementTriP3()
    dofs = Dofs(mesh, elem)
    locs = MappingIsoparametric(mesh, ElementTriP2()).F(elem.doflocs.T)  # (2, nelem, 10)
    glob = dof_locations(mesh, elem, dofs)
    for j in range(10):  # every element's own view of its dofs equals the global location
        assert np.max(np.abs(locs[:, :, j] - glob[:, dofs.element_dofs[j]])) < 1e-12
    assert set(loaded.boundaries) >= {"cut", "end", "core|wall"}
    assert set(np.unique(loaded.element_group)) == {"core", "wall"}


def test_count_maxima_ignores_shallow_ripples():
    r = np.linspace(0, 1, 2000)
    two = np.abs(np.sin(2 * np.pi * r)) + 0.01 * np.sin(80 * np.pi * r) ** 2
    assert count_maxima(two) == 2
    assert count_maxima(np.exp(-((r - 0.7) / 0.1) ** 2)) == 1


# --------------------------------------------------------------------------
# closed disk: Bessel zeros
# --------------------------------------------------------------------------
def _disk_error(order, ppw, cache):
    disk = Rod(1.0, 1.0)  # Ez, n = 1, Dirichlet at r = 1 um: k = j_{m,p} (1/um)
    j32 = jn_zeros(3, 2)[1]
    res = solve_cross_section(disk, "Ez", j32, r_cut_um=0.0, outer_boundary="dirichlet", order=order,
                              points_per_wavelength=ppw, band_factor=1.0, elements_per_circle=4,
                              num_modes=6, cache_dir=cache)  # sizes from the wavelength only
    md = the_mode(modes_from_result(res), 3, p=2)
    return rel(md.k.real, j32), md


def test_closed_disk_converges_to_bessel_zero_at_the_p3_rate(cache):
    """Curved (quadratic) geometry: P3 eigenvalues converge like h^6 (straight edges stall at h^2)."""
    coarse, _ = _disk_error(3, 12, cache)
    fine, md = _disk_error(3, 24, cache)
    assert fine < 1e-6  # measured 4.2e-7 (5k unknowns)
    assert coarse / fine > 30  # measured 55 (h^6: 64)
    assert md.verification["pair_found"] and md.verification["purity"] > 0.999
    assert md.verification["splitting_pm"] * 1e-3 / md.wavelength_nm < 1e-7  # measured ~1e-9: degenerate
    assert md.engine == "fem2d" and md.verification["element_order"] == 3


# --------------------------------------------------------------------------
# paper capillary: sector 2 pi / 600, curved P4
# --------------------------------------------------------------------------
@pytest.mark.parametrize("pol", ["Ez", "Hz"])
def test_paper_sector_p1_m600_within_1e7(pol, cache):
    ref = exact(PAPER, pol, 600)
    modes = find_modes_2d(PAPER, pol, 600, sector=(1, 600), order=4, points_per_wavelength=18,
                          num_modes=6, cache_dir=cache)
    md = the_mode(modes, 600)
    # measured: Ez -3.2e-8, Hz -4.2e-8 (50k unknowns, ~2.5 s with PARDISO)
    assert rel(md.wavelength_nm, ref.wavelength_nm) <= 1e-7
    assert md.verification["purity"] > 0.999 and md.verification["pml_fraction"] < 1e-6
    assert md.verification["pair_found"]  # exp(+-i 600 phi) both live on the sector
    assert md.energy_fractions["core"] == pytest.approx(ref.energy_fractions["core"], abs=1e-3)
    assert modes[0] is md  # the nearest mode to the exact seed is the one asked for


@pytest.mark.slow
@pytest.mark.parametrize("pol", ["Ez", "Hz"])
@pytest.mark.parametrize("order,ppw,tol", [(3, 24, 1e-6), (4, 20, 1e-7), (4, 24, 2e-8)])
def test_paper_sector_converges(pol, order, ppw, tol, cache):
    # measured (Ez / Hz): P3 24: -2.3e-7 / -2.6e-7; P4 20: -1.8e-8 / -1.6e-8; P4 24: -3.4e-9 / -4.2e-9
    ref = exact(PAPER, pol, 600)
    modes = find_modes_2d(PAPER, pol, 600, sector=(1, 600), order=order, points_per_wavelength=ppw,
                          num_modes=6, cache_dir=cache)
    assert rel(the_mode(modes, 600).wavelength_nm, ref.wavelength_nm) <= tol


# --------------------------------------------------------------------------
# low-Q rod: Q from the PML
# --------------------------------------------------------------------------
@pytest.mark.parametrize("pol,m", [("Ez", 14), ("Hz", 20), ("Ez", 30)])
def test_rod_sector_q_within_5_percent(pol, m, cache):
    ref = exact(ROD, pol, m)  # Q: Ez 14 -> 196, Hz 20 -> 1.1e3, Ez 30 -> 9.6e4
    modes = find_modes_2d(ROD, pol, m, sector=(1, m), order=3, points_per_wavelength=12, num_modes=6, cache_dir=cache)
    md = the_mode(modes, m)
    assert rel(md.Q_rad, ref.Q_rad) < 0.05  # measured <= 1.3e-4
    assert rel(md.wavelength_nm, ref.wavelength_nm) < 2e-5  # measured <= 6e-6


def test_sector_with_complex_floquet_phase(cache):
    """Sector 2 pi/20 searched for m = 21: side b = exp(i 21 * 2 pi/20) side a (Hermitian branch)."""
    ref = exact(ROD, "Ez", 21)
    modes = find_modes_2d(ROD, "Ez", 21, sector=(1, 20), order=3, points_per_wavelength=12, num_modes=4,
                          cache_dir=cache)
    md = the_mode(modes, 21)
    assert rel(md.wavelength_nm, ref.wavelength_nm) < 2e-5 and rel(md.Q_rad, ref.Q_rad) < 0.05
    assert not md.verification["pair_found"]  # only exp(+i 21 phi) satisfies the phase


def test_exact_circles_converge_where_quadratic_arcs_stall(cache):
    """3 um rod, Ez (p = 1, m = 20), P6 on the sector 2 pi/20 with a PML, 16 elements per
    circle at most: with the exact-circle map the wavelength error falls like the P6
    space (measured -4.7e-9 at 10 points per wavelength, -6e-12 at 16); the quadratic
    arcs of the 6-node mesh stall it (-1.3e-7, -1.6e-8). The default picks exact circles."""
    ref = exact(ROD, "Ez", 20)

    def error(ppw, exact_circles):
        modes, res = find_modes_2d(ROD, "Ez", 20, sector=(1, 20), order=6, points_per_wavelength=ppw, num_modes=4,
                                   elements_per_circle=16, exact_circles=exact_circles, cache_dir=cache,
                                   return_result=True)
        return rel(the_mode(modes, 20).wavelength_nm, ref.wavelength_nm), res

    exact_10, res = error(10, None)
    assert res.exact_circles and exact_10 < 2e-8
    exact_16, _ = error(16, True)
    quadratic_16, res = error(16, False)
    assert not res.exact_circles
    assert exact_16 < 1e-10 and quadratic_16 > 100 * exact_16


@pytest.mark.slow
@pytest.mark.parametrize("pol,m", [("Ez", 20), ("Hz", 30)])
def test_rod_full_cross_section_q(pol, m, cache):
    ref = exact(ROD, pol, m)
    modes = find_modes_2d(ROD, pol, m, order=3, points_per_wavelength=12, num_modes=6, cache_dir=cache)
    md = the_mode(modes, m)
    assert rel(md.Q_rad, ref.Q_rad) < 0.05  # measured 1.1e-4 / 5e-5
    assert rel(md.wavelength_nm, ref.wavelength_nm) < 1e-5  # measured 4.8e-6 / 5.9e-6
    assert md.verification["pair_found"]


# --------------------------------------------------------------------------
# full cross-section of a small capillary
# --------------------------------------------------------------------------
@pytest.mark.slow
def test_small_capillary_full_cross_section_within_1e6(cache):
    ref = exact(SMALL, "Ez", 40)  # 603.357 nm, Q 94, hybrid core/wall
    modes = find_modes_2d(SMALL, "Ez", 40, order=4, points_per_wavelength=14, num_modes=6, cut_decay=1e-8,
                          cache_dir=cache)
    md = the_mode(modes, 40)
    assert rel(md.wavelength_nm, ref.wavelength_nm) <= 1e-6  # measured -2.1e-7 (230k unknowns, ~15 s)
    assert rel(md.Q_rad, ref.Q_rad) < 0.05


# --------------------------------------------------------------------------
# full cross-section of a 20 um capillary at m = 200 (closed, real)
# --------------------------------------------------------------------------
#: bore 20 um, wall 2 um (outer diameter 24 um), the paper's indices 1.56 / 1.47 in air.
#: At m = 200 the Ez / Hz (p = 1) core modes carry 69 / 67 % of their energy in the core
#: (no thinner or thicker wall gives more than ~75 % at this m with these indices) and a
#: field peak of ~3 % of the maximum at the outer wall surface, so the whole wall and the
#: evanescent air (decay length ~0.1 um) need the fine mesh. Q ~ 2e19: a Dirichlet wall
#: at 13 um in the air (|u|^2 ~ 6e-10 there) moves the mode by 3e-11 (1-D radial FEM).
CAP20 = LayeredCylinder((10.0, 12.0), (1.56, 1.47))
#: P4, 12 points per wavelength in core and glass, 20 in the air; cut at field decay 1e-6
CAP20_MESH = dict(order=4, points_per_wavelength=12, region_points_per_wavelength={"wall": 12, "outside": 20},
                  outer_boundary="dirichlet", r_end_um=13.0, cut_decay=1e-6)


def _cap20(pol, cache, **kwargs):
    ref = exact(CAP20, pol, 200)
    modes = find_modes_2d(CAP20, pol, 200, k_target=ref.k.real, cache_dir=cache, **CAP20_MESH, **kwargs)
    return the_mode(modes, 200), ref


@pytest.mark.parametrize("pol", ["Ez", "Hz"])
def test_cap20_sector_predicts_the_full_section(pol, cache):
    """The 2 pi/20 sector (phase 1) with the full-section mesh settings: ~35k unknowns, ~3 s."""
    md, ref = _cap20(pol, cache, sector=(1, 20), num_modes=8)
    assert rel(md.wavelength_nm, ref.wavelength_nm) <= 1e-6  # measured Ez -4.7e-7, Hz -4.9e-7
    assert md.verification["pair_found"] and md.verification["purity"] > 0.999


@pytest.mark.slow
@pytest.mark.parametrize("pol", ["Ez", "Hz"])
def test_cap20_full_cross_section_within_1e6(pol, cache):
    """No symmetry: the (p=1, m=200) core pair of the 20/24 um capillary within 1e-6 of the
    exact solver (measured Ez -5.0e-7, Hz -5.4e-7; 0.69 M unknowns, 1.9 GB, ~1 min)."""
    if _mem_available_gb() < 4:
        pytest.skip("needs ~2 GB of free memory")
    md, ref = _cap20(pol, cache, num_modes=12)
    assert (md.m, md.p, md.region) == (200, 1, "core")
    assert rel(md.wavelength_nm, ref.wavelength_nm) <= 1e-6
    assert md.verification["pair_found"] and md.verification["purity"] > 0.999  # measured 1.0000
    assert md.verification["splitting_pm"] * 1e-3 / md.wavelength_nm < 1e-8  # measured <= 4e-9: degenerate
    assert md.energy_fractions["core"] == pytest.approx(ref.energy_fractions["core"], abs=2e-3)


# --------------------------------------------------------------------------
# perturbation: elliptical bore splits the +-m pair
# --------------------------------------------------------------------------
def _closed_pair(ellipticity, elements_per_circle, cache):
    """Ez m = 2, p = 1 of the capillary 3/4 um closed by a Dirichlet wall at 4 um (P4)."""
    rad = solve_radial(SMALL, "Ez", 2, 2 * math.pi / 7.5, outer_boundary="dirichlet", num_modes=3,
                       points_per_wavelength=200)
    modes = find_modes_2d(SMALL, "Ez", 2, k_target=rad.k[0].real, outer_boundary="dirichlet",
                          inner_ellipticity=ellipticity, order=4, points_per_wavelength=8,
                          elements_per_circle=elements_per_circle, num_modes=8, cache_dir=cache)
    return the_mode(modes, 2), rad


def test_elliptical_bore_splits_the_pair_and_converges(cache):
    """An elliptical bore (e = 0.02) splits the +-2 pair (second order in e); the size here is
    set by the curvature (elements per circle), the wavelength (7.5 um) being long."""
    splits = []
    for epc in (24, 32, 64):
        md, rad = _closed_pair(0.02, epc, cache)
        assert md.verification["pair_found"] and md.verification["purity"] > 0.99
        splits.append(md.verification["splitting_pm"] * 1e-3)
    # measured 0.0271941, 0.0272002, 0.0272028 nm at lambda = 7546.83 nm
    assert abs(splits[2] - splits[1]) < 1e-3 * splits[2]
    assert abs(splits[2] - splits[1]) < abs(splits[1] - splits[0])
    unperturbed, rad = _closed_pair(0.0, 64, cache)
    assert unperturbed.verification["splitting_pm"] * 1e-3 < 1e-6 * splits[2]  # measured 4e-11 nm
    assert rel(unperturbed.k.real, rad.k[0].real) < 1e-7  # 2-D vs 1-D radial FEM: measured 1.1e-8


def test_offset_bore_mode_is_still_identified(cache):
    """Rays follow the offset bore: the m = 2, p = 1 core mode keeps its labels."""
    md, rad = _closed_pair(0.0, 32, cache)
    modes = find_modes_2d(SMALL, "Ez", 2, k_target=rad.k[0].real, outer_boundary="dirichlet", bore_offset_um=0.1,
                          order=4, points_per_wavelength=8, elements_per_circle=32, num_modes=8, cache_dir=cache)
    shifted = the_mode(modes, 2)
    assert shifted.verification["purity"] > 0.9  # measured 0.997
    assert 0 < rel(shifted.k.real, md.k.real) < 1e-2  # measured 9.5e-5 (0.1 um offset)


def test_identify_flags_pml_modes(cache):
    res = solve_cross_section(ROD, "Ez", 2 * math.pi / 1.5, m=16, sector=(1, 16), order=3, points_per_wavelength=10,
                              num_modes=12, cache_dir=cache)
    labels = identify(res, max_pml_fraction=0.5)
    assert all(lb.spurious == (lb.pml_fraction > 0.5) for lb in labels)
    assert np.allclose(res.layer_fractions.sum(axis=1) + res.pml_fraction, 1.0)


# --------------------------------------------------------------------------
# the paper's full cross-section, open domain, no symmetry (slow: ~7 GB, 5-10 min each)
# --------------------------------------------------------------------------
#: graded P4 mesh of docs/fem.md: 10 points per wavelength in the core (0.7 of that size
#: within 3 local wavelengths of the bore), 6 in the glass, 3 in the air; real problem with
#: Dirichlet cuts at ~24 um (field decay 1e-6) and 43 um (air, beyond the turning point 41.3 um)
PAPER_FULL = dict(order=4, points_per_wavelength=10, region_points_per_wavelength={"wall": 6, "outside": 3},
                  band_factor=0.7, band_wavelengths=3, outer_boundary="dirichlet", r_end_um=43.0, cut_decay=1e-6,
                  num_modes=12)


def _mem_available_gb() -> float:
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1e6
    return 0.0


@pytest.mark.slow
def test_paper_full_cross_section_open_domain(cache):
    """Concentric: the (p=1, m=600) pair within 1e-6 of the exact solver (measured -7.9e-7,
    2.61 M unknowns, 6.9 GB)."""
    if _mem_available_gb() < 9:
        pytest.skip("needs ~7 GB of free memory")
    ref = exact(PAPER, "Ez", 600)
    modes = find_modes_2d(PAPER, "Ez", 600, k_target=ref.k.real, cache_dir=cache, **PAPER_FULL)
    md = the_mode(modes, 600)
    assert md.verification["pair_found"] and md.verification["purity"] > 0.9  # measured 1.0000
    assert md.energy_fractions["core"] == pytest.approx(ref.energy_fractions["core"], abs=2e-3)
    assert md.verification["splitting_pm"] * 1e-3 / md.wavelength_nm < 1e-8
    assert rel(md.wavelength_nm, ref.wavelength_nm) <= 1e-6


@pytest.mark.slow
def test_paper_elliptical_bore_converges_under_refinement(cache):
    """A 0.2 % elliptical bore, full section, two graded meshes (core 10 then 12 points per
    wavelength: 2.61 M / 3.22 M unknowns, 6.9 / 8.5 GB, 7 min together). On both the pair is
    found and identified and stays degenerate (+-600 couple only through the 1200th boundary
    harmonic; measured split <= 2e-9); the wavelength changes by <= 1e-6 between the two
    meshes (measured +4.3e-7) and lies within 1e-6 of the exact concentric root (the shift
    is second order in e: measured +3e-7 against the concentric FEM)."""
    if _mem_available_gb() < 11:
        pytest.skip("needs ~9 GB of free memory")
    ref = exact(PAPER, "Ez", 600)
    wavelengths = []
    for core_ppw in (10, 12):
        mesh = dict(PAPER_FULL, points_per_wavelength=core_ppw)
        modes = find_modes_2d(PAPER, "Ez", 600, k_target=ref.k.real, inner_ellipticity=0.002, cache_dir=cache,
                              **mesh)
        md = the_mode(modes, 600)
        assert md.verification["pair_found"] and md.verification["purity"] > 0.9  # measured 0.955
        assert md.energy_fractions["core"] == pytest.approx(ref.energy_fractions["core"], abs=2e-3)
        assert md.verification["splitting_pm"] * 1e-3 / md.wavelength_nm < 1e-8
        assert rel(md.wavelength_nm, ref.wavelength_nm) <= 1e-6
        wavelengths.append(md.wavelength_nm)
    assert rel(wavelengths[1], wavelengths[0]) <= 1e-6
