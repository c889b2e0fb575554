"""The Gmsh recipes of meshes/make.py (meshes/README.md): each writes a .msh that meshio reads,
with the physical groups of the builder (regions core, wall, outside, pml; curves such as cut,
core|wall, end). The full sections run 4x coarser than documented by default (~2 s each);
the documented sizes are the slow test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import meshio
import numpy as np
import pytest

MAKE = Path(__file__).resolve().parents[1] / "meshes" / "make.py"


def run_recipe(tmp_path: Path, *args: str) -> str:
    """Run ``python meshes/make.py ARGS --out tmp_path`` in tmp_path, the run-time cache moved there too."""
    env = {**os.environ, "WGMFEM_MESH_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, str(MAKE), *args, "--out", str(tmp_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def load(tmp_path: Path, stem: str, regions: set[str], curves: set[str]):
    """The mesh written as <stem>.msh: loads with meshio, holds exactly ``regions`` as 2-D physical
    groups (second-order triangles) and at least ``curves`` as 1-D ones; its <stem>.json agrees."""
    path = tmp_path / f"{stem}.msh"
    assert path.is_file() and path.stat().st_size > 0
    mesh = meshio.read(path)
    groups = {name: int(dim) for name, (_, dim) in mesh.field_data.items()}
    assert {name for name, dim in groups.items() if dim == 2} == regions
    assert curves <= {name for name, dim in groups.items() if dim == 1}
    assert {c.type for c in mesh.cells} == {"triangle6", "line3"}
    for name in regions:
        assert sum(len(ids) for ids in mesh.cell_sets_dict[name].values()) > 0
    meta = json.loads((tmp_path / f"{stem}.json").read_text())
    assert meta["num_nodes"] == len(mesh.points)
    assert meta["num_elements"] == sum(len(c.data) for c in mesh.cells if c.type == "triangle6")
    return mesh, meta


def group_points(mesh, name: str) -> np.ndarray:
    """The (x, y) of the nodes of physical group ``name``."""
    cells = mesh.cell_sets_dict[name]
    blocks = {kind: np.concatenate([c.data for c in mesh.cells if c.type == kind]) for kind in cells}
    nodes = np.unique(np.concatenate([blocks[kind][ids].ravel() for kind, ids in cells.items()]))
    return mesh.points[nodes, :2]


def fit_circle(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Centre and radius of the circle through the points (least squares on x^2 + y^2 = 2 a x + 2 b y + c)."""
    (a, b, c), *_ = np.linalg.lstsq(np.column_stack([2 * x, 2 * y, np.ones_like(x)]), x * x + y * y, rcond=None)
    return a, b, float(np.sqrt(c + a * a + b * b))


def test_paper_sector(tmp_path):
    """The mesh of `wgmfem mesh --m 600 --p 1 --pol Ez`: a 2 pi/600 sector with periodic sides and a PML."""
    out = run_recipe(tmp_path, "paper-sector")
    assert "paper_sector.msh" in out and "wgmfem mesh --m 600 --p 1 --pol Ez" in out
    mesh, meta = load(tmp_path, "paper_sector", {"core", "wall", "outside", "pml"},
                      {"cut", "core|wall", "wall|outside", "outside|pml", "end", "periodic_a", "periodic_b"})
    params = meta["params"]
    assert params["sector"] == [1, 600] and params["element_order"] == 6 and params["points_per_wavelength"] == 8
    assert params["wavelength_nm"] == pytest.approx(432.0877, abs=1e-4)
    phi = np.arctan2(mesh.points[:, 1], mesh.points[:, 0])
    assert phi.min() > -1e-9 and phi.max() < 2 * np.pi / 600 + 1e-9
    r = np.hypot(*group_points(mesh, "core|wall").T)
    assert np.allclose(r, 27.0, rtol=1e-9)  # the bore, 54 um across
    assert params["pml"][0] > 39.0 and np.hypot(*mesh.points[:, :2].T).max() == pytest.approx(params["r_end_um"])


def test_paper_full_section_coarse(tmp_path):
    """The graded full section of docs/fem.md, closed by a Dirichlet circle at 43 um (no PML)."""
    run_recipe(tmp_path, "paper-full-section", "--coarsen", "4")
    mesh, meta = load(tmp_path, "paper_full_section", {"core", "wall", "outside"},
                      {"cut", "core|wall", "wall|outside", "end"})
    assert meta["params"]["sector"] is None and meta["params"]["region_points_per_wavelength"] == {"wall": 1.5, "outside": 0.75}
    r = np.hypot(*mesh.points[:, :2].T)
    assert r.max() == pytest.approx(43.0) and r.min() == pytest.approx(meta["r_cut_um"])
    xc, yc, radius = fit_circle(*group_points(mesh, "wall|outside").T)  # the whole circle, 78 um across
    assert (xc, yc, radius) == pytest.approx((0.0, 0.0, 39.0), abs=1e-9)


def test_perturbed_bore_coarse_with_pml(tmp_path):
    """An offset bore on the full section, with the PML of the command line: the bore circle is
    centred at x = 0.5 um, the outer surface and the PML at the origin."""
    run_recipe(tmp_path, "perturbed-bore", "--bore-offset", "0.5", "--pml", "--coarsen", "4")
    mesh, meta = load(tmp_path, "perturbed_bore", {"core", "wall", "outside", "pml"},
                      {"cut", "core|wall", "wall|outside", "outside|pml", "end"})
    assert meta["params"]["bore_offset_um"] == 0.5
    assert fit_circle(*group_points(mesh, "core|wall").T) == pytest.approx((0.5, 0.0, 27.0), abs=1e-9)
    assert fit_circle(*group_points(mesh, "wall|outside").T) == pytest.approx((0.0, 0.0, 39.0), abs=1e-9)
    assert fit_circle(*group_points(mesh, "outside|pml").T) == pytest.approx((0.0, 0.0, meta["params"]["pml"][0]), abs=1e-9)


def test_elliptical_bore_coarse(tmp_path):
    """An elliptical bore, e = 0.02: semi-axes 27 (1 + e/2) along x and 27 (1 - e/2) along y."""
    run_recipe(tmp_path, "perturbed-bore", "--bore-offset", "0", "--ellipticity", "0.02", "--coarsen", "6")
    mesh, _ = load(tmp_path, "perturbed_bore", {"core", "wall", "outside"}, {"cut", "core|wall", "end"})
    x, y = group_points(mesh, "core|wall").T
    assert np.allclose((x / 27.27) ** 2 + (y / 26.73) ** 2, 1.0, atol=1e-9)
    assert x.max() == pytest.approx(27.27) and y.max() == pytest.approx(26.73, abs=0.01)


@pytest.mark.slow
def test_every_recipe_at_documented_settings(tmp_path):
    """`make.py all` as documented (~40 s): the full sections hold the 2.61 M-unknown P4 mesh of
    docs/fem.md (~326k triangles, ~39 MB each)."""
    run_recipe(tmp_path, "all")
    load(tmp_path, "paper_sector", {"core", "wall", "outside", "pml"}, {"periodic_a", "periodic_b"})
    for stem in ("paper_full_section", "perturbed_bore"):
        _, meta = load(tmp_path, stem, {"core", "wall", "outside"}, {"cut", "core|wall", "end"})
        assert 3.0e5 < meta["num_elements"] < 3.6e5
