"""Full-vector finite elements for fields E(r, z) exp(i m phi) of a body of revolution.

Unknowns (lengths in um, k in 1/um):

* the meridional field E_t = (E_r, E_z) in Nedelec elements (scikit-fem ``ElementTriN{k}``),
* v = -i r E_phi in Lagrange elements of the same degree (``ElementTriP{k}``).

With the substitution r E_phi = i v, and testing with the field of order -m (the
transpose, reciprocal form), every coefficient of the curl-curl equation
curl(mu^-1 curl E) = k^2 eps E is real and the weak form reads

    A = int [ (m E_z - d_z v)(m F_z - d_z w) / (L_r r) + (d_r v - m E_r)(d_r w - m F_r) / (L_z r)
              + r curl_t(E) curl_t(F) / L_phi ] dr dz,
    B = int n^2 [ L_r E_r F_r + L_z E_z F_z + L_phi v w / r^2 ] r dr dz,
    A x = k^2 B x,

where curl_t(E) = d_r E_z - d_z E_r and (L_r, L_phi, L_z) = (r~/(r s), r s/r~, s r~/r) is
the radial PML written as an anisotropic material (1 outside the layer; see
:mod:`wgmfem.fem.pml`); an axial PML stretching z by s_z multiplies L_r and L_phi by s_z and
divides L_z by it. The two bracketed meridional terms are the r- and z-components
of curl E times r: they vanish together with curl_t for E = grad(phi exp(i m phi)), i.e.
E_t = grad phi, v = m phi. Because grad P_k lies in N_k, this gradient space is
represented exactly: it is the eigenvalue k^2 = 0, far from the shift, and no spurious
eigenvalue appears next to the physical ones (Nedelec's discrete de Rham property; the
tests count eigenvalues in a window against the exact resonances).

The axis r = 0 is never meshed: a mode of order m decays like r^m inside its caustic,
and the window starts where it has decayed by e^-decay (a Dirichlet wall). Curved
boundaries are exact circles through a degree-k isoparametric map.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from skfem import Basis, BilinearForm, ElementTriN1, ElementTriN2, ElementTriN3, ElementTriP1, ElementTriP2, ElementTriP3

from ..fem.cross_section import LoadedMesh
from ..fem.eigensolvers import shift_invert
from ..fem.elements import circle_mapping, concentric_circles
from ..fem.pml import AxialPML, RadialPML

NEDELEC = {1: ElementTriN1, 2: ElementTriN2, 3: ElementTriN3}
LAGRANGE = {1: ElementTriP1, 2: ElementTriP2, 3: ElementTriP3}


@BilinearForm(dtype=np.complex128)
def _stiffness(E, v, F, w, p):
    r = p.x[0]
    lr, lphi, lz = p.lam_r, p.lam_phi, p.lam_z
    m = p.m
    cr_e, cr_f = m * E[1] - v.grad[1], m * F[1] - w.grad[1]
    cz_e, cz_f = v.grad[0] - m * E[0], w.grad[0] - m * F[0]
    return cr_e * cr_f / (lr * r) + cz_e * cz_f / (lz * r) + r * E.curl * F.curl / lphi


@BilinearForm(dtype=np.complex128)
def _mass(E, v, F, w, p):
    r = p.x[0]
    return p.eps * r * (p.lam_r * E[0] * F[0] + p.lam_z * E[1] * F[1]
                        + p.lam_phi * v * w / r**2)


@BilinearForm
def _energy(E, v, F, w, p):
    r = p.x[0]
    return p.weight * r * (E[0] * F[0] + E[1] * F[1] + v * w / r**2)


def element_centres(mesh) -> np.ndarray:
    """(r, z) of every element's vertex centroid (2, T), um."""
    return mesh.p[:, mesh.t[:3]].mean(axis=1)


@dataclass
class AxisymSystem:
    """The assembled eigenproblem A x = k^2 B x on the free unknowns."""

    basis: Basis
    A: sp.csr_matrix
    B: sp.csr_matrix
    free: np.ndarray
    m: int
    eps_elem: np.ndarray
    element_group: np.ndarray
    absorbing: np.ndarray  # per element: inside a PML (radial or axial)
    _grams: dict = field(default_factory=dict, repr=False)  # energy Gram matrices by element mask

    @property
    def num_unknowns(self) -> int:
        return len(self.free)

    def energy_share(self, vectors: np.ndarray, regions: tuple[str, ...], where: np.ndarray | None = None) -> np.ndarray:
        """Electric energy n^2 |E|^2 in ``regions`` (and in the elements ``where``, a boolean per
        element, if given) over the whole electric energy, both counted outside the PMLs (radial
        and axial), per column of ``vectors``."""
        numerator = np.isin(self.element_group, regions) & ~self.absorbing & (True if where is None else where)
        return self._energy(vectors, numerator) / self._energy(vectors, ~self.absorbing)

    def _energy(self, vectors: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Electric energy in the elements ``mask`` per column; the Gram matrix of a mask is kept
        (the whole window's serves every share)."""
        key = mask.tobytes()
        if key not in self._grams:
            if len(self._grams) >= 4:
                self._grams.clear()
            r = np.asarray(self.basis.global_coordinates())[0]  # (elements, quadrature points)
            real_eps = self.eps_elem.real[:, None] * np.ones_like(r)
            self._grams[key] = _energy.assemble(self.basis, weight=np.where(mask[:, None], real_eps, 0.0))
        return np.einsum("ij,ij->j", vectors.conj(), self._grams[key] @ vectors).real

    def element_centres(self) -> np.ndarray:
        """(r, z) of every element's vertex centroid (2, T), um."""
        return element_centres(self.basis.mesh)


#: boundary conditions on the mirror plane z = 0 of a half window
MIRRORS = ("electric", "magnetic")


def _basis(loaded: LoadedMesh, order: int, elements: np.ndarray | None = None) -> Basis:
    """Nedelec x Lagrange basis of degree ``order`` on ``loaded`` (or on its ``elements`` only, with
    the global numbering), circles (outer surface, bore) exact through the isoparametric map."""
    mesh = loaded.mesh
    circles = concentric_circles(mesh, {name: loaded.boundaries[name] for name in ("surface", "bore")
                                        if name in loaded.boundaries})
    mapping = circle_mapping(mesh, max(order, 2), circles) if circles else None
    element = NEDELEC[order]() * LAGRANGE[order]()
    if elements is None:
        return Basis(mesh, element, mapping=mapping, intorder=2 * order)
    return Basis(mesh, element, mapping=mapping, intorder=2 * order, elements=elements)


def _matrices(basis: Basis, loaded: LoadedMesh, indices: dict[str, complex], m: int, pml: RadialPML,
              axial_pml: AxialPML | None) -> tuple[sp.csr_matrix, sp.csr_matrix, np.ndarray]:
    """A, B on the elements of ``basis`` and n^2 of every element of the mesh."""
    r, z = np.asarray(basis.global_coordinates())
    lam_r, lam_phi, lam_z = pml.tensor_2d(r)  # (L_r, L_phi, L_z) at the quadrature points
    if axial_pml is not None:
        s_z = axial_pml.s(z)
        lam_r, lam_phi, lam_z = lam_r * s_z, lam_phi * s_z, lam_z / s_z
    eps_elem = np.array([complex(indices[g]) ** 2 for g in loaded.element_group])
    on = slice(None) if basis.tind is None else basis.tind  # the elements of the basis
    eps = eps_elem[on][:, None] * np.ones(r.shape)
    coeffs = {"lam_r": lam_r, "lam_phi": lam_phi, "lam_z": lam_z, "m": float(m)}
    return _stiffness.assemble(basis, **coeffs).tocsr(), _mass.assemble(basis, eps=eps, **coeffs).tocsr(), eps_elem


def axial_pml_change(system: AxisymSystem, loaded: LoadedMesh, indices: dict[str, complex], pml: RadialPML,
                     order: int, axial_pml: AxialPML, other: AxialPML) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(dA, dB): the matrices with the axial layers ``other`` minus those with ``axial_pml`` (the
    same layers' extent), assembled only on the elements the layers reach."""
    z = np.asarray(system.basis.global_coordinates())[1]  # the quadrature points of every element
    low = min(axial_pml.z_low_um, other.z_low_um)
    high = max(axial_pml.z_high_um, other.z_high_um)
    reached = np.nonzero(((z < low) | (z > high)).any(axis=1))[0]
    basis = _basis(loaded, order, reached)
    A0, B0, _ = _matrices(basis, loaded, indices, system.m, pml, axial_pml)
    A1, B1, _ = _matrices(basis, loaded, indices, system.m, pml, other)
    return A1 - A0, B1 - B0


def assemble(loaded: LoadedMesh, indices: dict[str, complex], m: int, pml: RadialPML, order: int = 3,
             mirror: str | None = None, axial_pml: AxialPML | None = None) -> AxisymSystem:
    """Assemble the (r, z) problem of azimuthal order ``m`` on ``loaded`` (regions ``indices``: name -> n).

    mirror : on a half window, ``"electric"`` (tangential E = 0: E_r, E_phi odd in z) or
    ``"magnetic"`` (E_z odd, the natural condition) on the curve ``mirror``.
    axial_pml : layers at the window's ends that stretch z too: with s_z = dz~/dz the material
    becomes (L_r s_z, L_phi s_z, L_z / s_z).
    """
    if ("mirror" in loaded.boundaries) != (mirror is not None):
        raise ValueError("a half window needs mirror='electric' or 'magnetic', a full window none")
    if mirror is not None and mirror not in MIRRORS:
        raise ValueError(f"mirror must be one of {MIRRORS}, got {mirror!r}")
    if order not in NEDELEC:
        raise ValueError(f"element order must be one of {sorted(NEDELEC)}, got {order}")
    missing = set(np.unique(loaded.element_group)) - set(indices)
    if missing:
        raise ValueError(f"no refractive index for the mesh regions {sorted(missing)}")
    basis = _basis(loaded, order)
    A, B, eps_elem = _matrices(basis, loaded, indices, m, pml, axial_pml)
    absorbing = loaded.element_group == "pml"
    if axial_pml is not None:
        absorbing = absorbing | axial_pml.inside(element_centres(loaded.mesh)[1])
    free = np.setdiff1d(np.arange(basis.N), basis.get_dofs(loaded.boundaries["end"]).all())
    system = AxisymSystem(basis, A, B, free, m, eps_elem, loaded.element_group, absorbing)
    return with_electric_mirror(system, loaded) if mirror == "electric" else system


def with_electric_mirror(system: AxisymSystem, loaded: LoadedMesh) -> AxisymSystem:
    """The same problem with an electric wall on the curve ``mirror`` (its tangential unknowns
    fixed) instead of the natural magnetic one: one assembly serves both parities."""
    mirror_dofs = system.basis.get_dofs(loaded.boundaries["mirror"]).all()
    return replace(system, free=np.setdiff1d(system.free, mirror_dofs))


@dataclass
class AxisymSolution:
    """Eigenpairs near the shift: k (1/um, complex), full-length vectors (basis.N, n)."""

    system: AxisymSystem
    k: np.ndarray
    vectors: np.ndarray
    stats: dict = field(default_factory=dict)


def solve(system: AxisymSystem, k_target: complex, num_modes: int = 6, **solver_options) -> AxisymSolution:
    """The ``num_modes`` eigenpairs with k^2 nearest k_target^2 (shift-invert)."""
    f = system.free
    A = system.A[f][:, f]
    B = system.B[f][:, f]
    stats: dict = {}
    lam, vecs, _ = shift_invert(A, B, complex(k_target) ** 2, num_modes, stats=stats, **solver_options)
    k = np.sqrt(lam.astype(complex))  # principal root: Re k >= 0
    order = np.argsort(np.abs(k - k_target))
    full = np.zeros((system.basis.N, len(k)), dtype=complex)
    full[f] = vecs[:, order]
    return AxisymSolution(system, k[order], full, stats)
