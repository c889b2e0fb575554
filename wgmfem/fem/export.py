"""Fields of the 2-D cross-section FEM out of Python: VTU (ParaView), NumPy ``.npz`` and
samples on a polar grid (for plots).

Lengths in um. A field is the complex eigenvector of :class:`CrossSectionResult`
(u = Ez or Hz, largest |dof| = 1) evaluated at the 6 nodes of every curved
(second-order) triangle, so the files hold the geometry exactly as meshed and the field
at its nodes (a degree-4 field is sampled, not stored, by a quadratic triangle).
On a periodic sector only the sector is written; :func:`sample_polar` unfolds it with
the Floquet phase.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from skfem import ElementTriP2

from ..atomic import atomic_path
from .cross_section import CrossSectionResult
from .evaluate import evaluate


def nodal_values(result: CrossSectionResult, modes=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(nodes (N, 2) um, triangles (T, 6) node indices in VTK/meshio ``triangle6`` order,
    values (N, len(modes)) complex) of the modes ``modes`` (default all)."""
    modes = list(range(result.num_modes)) if modes is None else list(modes)
    mesh = result.mesh
    tri6 = mesh.dofs.element_dofs  # (6, T): vertices, then edges (0,1), (1,2), (0,2) as VTK
    ref = ElementTriP2().doflocs.T  # reference coordinates of those 6 nodes
    edofs = result.dofs.element_dofs  # (nbfun, T)
    values = np.zeros((mesh.doflocs.shape[1], len(modes)), dtype=complex)
    vecs = result.vectors[:, modes]
    for j in range(6):  # node j of every element, from the element's own basis
        acc = np.zeros((tri6.shape[1], len(modes)), dtype=complex)
        for i in range(edofs.shape[0]):
            phi, _ = result.element.lbasis(ref[:, [j]], i)
            acc += float(np.ravel(phi)[0]) * vecs[edofs[i]]
        values[tri6[j]] = acc
    return mesh.doflocs.T.copy(), tri6.T.copy(), values


def _atomic(path, write):
    """Run ``write(tmp_path)`` and rename onto ``path`` (never a half-written file)."""
    with atomic_path(path) as tmp:
        write(tmp)


def _names(result, modes):
    return [f"mode{i}_{result.wavelength_nm[i]:.4f}nm" for i in modes]


def write_vtu(result: CrossSectionResult, path, modes=None) -> Path:
    """VTU file (meshio, quadratic triangles) with Re, Im and |u| of each mode as point data
    and the region index (``region``: position in ``result.region_names``; ``pml``) as cell data."""
    import meshio

    modes = list(range(result.num_modes)) if modes is None else list(modes)
    nodes, tri, values = nodal_values(result, modes)
    point_data = {}
    for name, col in zip(_names(result, modes), values.T):
        point_data[f"{name}_re"] = col.real
        point_data[f"{name}_im"] = col.imag
        point_data[f"{name}_abs"] = np.abs(col)
    cell_data = {"region": [result.element_region.astype(np.int32)], "pml": [result.element_in_pml.astype(np.int32)]}
    points = np.column_stack((nodes, np.zeros(len(nodes))))
    out = meshio.Mesh(points, [("triangle6", tri)], point_data=point_data, cell_data=cell_data)
    _atomic(path, lambda tmp: meshio.write(tmp, out, file_format="vtu"))
    return Path(path)


def write_npz(result: CrossSectionResult, path, modes=None) -> Path:
    """NumPy archive: ``nodes`` (N, 2) um, ``triangles`` (T, 6), ``values`` (N, M) complex,
    ``k`` (M,) 1/um, ``wavelength_nm``, ``Q``, ``region`` (T,) index into ``region_names``,
    ``pol``, ``sector_angle_rad`` (nan: full section), ``floquet_phase``."""
    modes = list(range(result.num_modes)) if modes is None else list(modes)
    nodes, tri, values = nodal_values(result, modes)

    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez_compressed(
                fh, nodes=nodes, triangles=tri, values=values, k=result.k[modes],
                wavelength_nm=result.wavelength_nm[modes], Q=result.Q[modes], region=result.element_region,
                region_names=np.array(result.region_names), pol=result.pol,
                sector_angle_rad=np.nan if result.sector_angle is None else result.sector_angle,
                floquet_phase=complex(result.floquet_phase),
            )

    _atomic(path, write)
    return Path(path)


def sample_polar(result: CrossSectionResult, r_um, phi_rad, i: int = 0, center=(0.0, 0.0)) -> np.ndarray:
    """Mode ``i`` on the polar grid r x phi (um, rad) about ``center``: complex array
    (len(r), len(phi)), NaN off the mesh. On a sector, angles outside it are folded back
    with the Floquet condition u(phi + alpha) = phase * u(phi)."""
    r = np.asarray(r_um, dtype=float)
    phi = np.asarray(phi_rad, dtype=float)
    rr, pp = np.meshgrid(r, phi, indexing="ij")
    factor = np.ones_like(pp, dtype=complex)
    if result.sector_angle is not None:
        alpha = result.sector_angle
        turns = np.floor(pp / alpha)
        pp = pp - turns * alpha
        factor = complex(result.floquet_phase) ** turns
    x, y = center[0] + rr * np.cos(pp), center[1] + rr * np.sin(pp)
    vals = evaluate(result, x.ravel(), y.ravel(), result.vectors[:, [i]])[:, 0].reshape(rr.shape)
    return vals * factor


def polar_window(result: CrossSectionResult, i: int, periods: float = 3.0, m: int | None = None):
    """Radii and angles (um, rad) for a map of ``periods`` azimuthal periods (2 pi/m) of mode
    ``i``, centred on +y, radially from the inner cut to the outer radius of the cylinder."""
    m = m or result.m or 0
    span = 2 * math.pi if not m else min(2 * math.pi, periods * 2 * math.pi / m)
    r = np.linspace(max(result.r_cut_um, 1e-6), result.cylinder.outer_radius_um, 400)
    phi = math.pi / 2 + np.linspace(-span / 2, span / 2, 600)
    return r, phi
