"""Fields of axisymmetric FEM modes as VTU (ParaView): the (r, z) window as meshed (6-node curved
triangles; x = r, y = z in um) with, for every mode j, |E|^2 (peak 1) and the field components
at the nodes after the mode's phase is removed at its peak (Re E_r, Re E_z, Im E_phi are then
the large parts), and the region of every triangle (cell data ``region``: the index into the
``regions`` list written in the file's field data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import atomic_path


def write_vtu(study, path) -> Path:
    """Write every mode of ``study`` (:mod:`wgmfem.axisym` sphere or profile study) to ``path`` (.vtu)."""
    import meshio

    fields = study.fields
    mesh = fields.mesh
    nodes = mesh.doflocs  # (2, N): vertices and mid-edge nodes on the curves
    point_data = {}
    for j in range(fields.num_modes):
        e = fields.at_nodes(j)
        energy = np.sum(np.abs(e) ** 2, axis=0)
        peak = int(np.argmax(energy))
        dominant = int(np.argmax(np.abs(e[:, peak])))
        e = e * np.exp(-1j * np.angle(e[dominant, peak])) / np.sqrt(energy[peak])
        point_data[f"E_abs2_{j}"] = energy / energy[peak]
        point_data[f"Re_Er_{j}"] = e[0].real
        point_data[f"Re_Ez_{j}"] = e[1].real
        point_data[f"Im_Ephi_{j}"] = e[2].imag
    names = sorted(set(fields.element_group))
    region = np.array([names.index(g) for g in fields.element_group], dtype=np.int32)
    points = np.column_stack((nodes[0], nodes[1], np.zeros(nodes.shape[1])))
    out = meshio.Mesh(points, [("triangle6", mesh.dofs.element_dofs.T.copy())], point_data=point_data,
                      cell_data={"region": [region]})
    out.field_data = {name: np.array([i, 2]) for i, name in enumerate(names)}
    path = Path(path)
    with atomic_path(str(path)) as tmp:
        meshio.write(tmp, out, file_format="vtu")
    return path
