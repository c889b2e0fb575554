"""1-D radial finite elements for the modes of a layered cylinder (scikit-fem).

For one azimuthal order m the field is u(r, phi) = R(r) exp(i m phi) and R solves
(wavenumber k in 1/um, radii in um)

* ``Ez``: (1/r)(r R')' - m^2/r^2 R + k^2 n^2 R = 0        (R, R' continuous)
* ``Hz``: (1/r)(r R'/n^2)' - m^2/(n^2 r^2) R + k^2 R = 0  (R, R'/n^2 continuous)

Weak form (r-weighted, stretched in the PML, see :mod:`wgmfem.fem.pml`):

    A = int a ((r~/s) R' v' + m^2 (s/r~) R v) dr,   B = int b r~ s R v dr,
    Ez: a = 1, b = n^2;   Hz: a = 1/n^2, b = 1;     A x = k^2 B x.

Interface conditions are natural, so mesh nodes sit exactly on every interface.
Domain: [r_min, r_end]. r_min is a Dirichlet cut inside the inner caustic
(:func:`inner_cut_radius_um`) or the centre r = 0 (natural condition R'(0) = 0
for m = 0, R(0) = 0 for m != 0). Outside the last layer the outer medium
continues through the outer turning point into a PML with a Dirichlet end
(or the domain stops at the last layer with a Dirichlet/Neumann wall, for
closed cavities). Elements are hierarchical Legendre elements of degree
``order`` (``ElementLinePp``), sized from the local wavelength lambda/n.
The generalized eigenproblem is solved by shift-invert ARPACK around
sigma = k_target^2 with our own LU of (A - sigma B): B is complex symmetric,
not Hermitian, so ARPACK's M-inner-product mode must not be used.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from skfem import Basis, BilinearForm, ElementLineP1, ElementLineP2, ElementLinePp, MeshLine

from ..geometry import LayeredCylinder
from ..polarization import normalize_pol
from .pml import RadialPML, make_pml
from .results import EigenvaluesMixin

#: Default nodal points (degrees of freedom) per local wavelength lambda/n.
DEFAULT_POINTS_PER_WAVELENGTH = 40.0
#: Default field decay (WKB estimate) at the inner Dirichlet cut.
DEFAULT_CUT_DECAY = 1e-16
#: Default PML energy fraction above which a mode is flagged as a PML mode. Measured
#: (rod r = 3 um, n = 1.56, m = 3-50): PML modes >= 0.84; resonances <= 0.4 for Q >= 9,
#: but ~0.66 at Q ~ 4.5 (their outgoing wave grows with r), which this flags too.
DEFAULT_MAX_PML_FRACTION = 0.5
OUTER_BOUNDARIES = ("pml", "dirichlet", "neumann")


# --------------------------------------------------------------------------
# inner cut
# --------------------------------------------------------------------------
def _segments(cylinder: LayeredCylinder):
    """(inner um, outer um, real index) of every layer and of the outer medium."""
    out = []
    for j, n in enumerate(cylinder.all_indices):
        lo, hi = cylinder.layer_bounds_um(j)
        out.append((lo, hi, complex(n).real))
    return out


def inner_turning_point_um(cylinder: LayeredCylinder, m: int, k_per_um: float) -> float:
    """Smallest radius (um) where an order-m wave of wavenumber k can propagate (n k r >= m)."""
    for lo, hi, n in _segments(cylinder):
        r_t = max(lo, abs(m) / (n * k_per_um))
        if r_t < hi:
            return r_t
    raise AssertionError("the outer medium always has a turning point")


def _decay_antiderivative(r: float, m: int, a: float) -> float:
    """G with dG/dr = sqrt(m^2/r^2 - a^2) for r <= m/a (a = n k)."""
    w = math.sqrt(max(m * m - (a * r) ** 2, 0.0))
    return w - m * math.log((m + w) / r)


def decay_exponent(cylinder: LayeredCylinder, m: int, k_per_um: float, r_um: float) -> float:
    """int_r^{r_t} kappa dr with kappa = sqrt(m^2/r^2 - n^2 k^2), r_t the inner turning point (0 if r >= r_t)."""
    m = abs(int(m))
    if m == 0:
        return 0.0
    if r_um <= 0:
        return math.inf
    r_t = inner_turning_point_um(cylinder, m, k_per_um)
    total = 0.0
    for lo, hi, n in _segments(cylinder):
        a, b = max(lo, r_um), min(hi, r_t)
        if a < b:
            total += _decay_antiderivative(b, m, n * k_per_um) - _decay_antiderivative(a, m, n * k_per_um)
    return total


def wkb_decay(cylinder: LayeredCylinder, m: int, k_per_um: float, r_um: float) -> float:
    """WKB estimate exp(-decay_exponent) of |R(r)| / |R(inner turning point)|.

    For a Bessel function this overestimates the true ratio (m = 600, estimate
    1e-16: true ratio to the maximum ~3 times smaller). The cruder (r/r_c)^m is
    *not* a bound: where (r/r_c)^600 = 1e-16, J_600 has only fallen to ~7e-5 of
    its maximum.
    """
    return math.exp(-decay_exponent(cylinder, m, k_per_um, r_um))


def inner_cut_radius_um(cylinder: LayeredCylinder, m: int, k_per_um: float, decay: float = DEFAULT_CUT_DECAY) -> float:
    """Radius (um) inside the inner caustic where the WKB field factor is ``decay``.

    Returns 0 (solve down to the centre) for m = 0 and when the cut would lie
    within the inner quarter of the turning radius (low m: little to gain).
    Never beyond 0.9 of the outer radius (a k so low that the whole cylinder is
    evanescent holds no whispering-gallery mode; keep the domain meaningful).
    """
    m = abs(int(m))
    if m == 0:
        return 0.0
    r_t = inner_turning_point_um(cylinder, m, k_per_um)
    target = math.log(1.0 / decay)
    lo, hi = 0.25 * r_t, r_t
    if decay_exponent(cylinder, m, k_per_um, lo) < target:
        return 0.0
    # the exponent decreases monotonically from lo to r_t: bisect
    while hi - lo > 1e-12 * r_t:
        mid = 0.5 * (lo + hi)
        if decay_exponent(cylinder, m, k_per_um, mid) > target:
            lo = mid
        else:
            hi = mid
    return min(lo, 0.9 * cylinder.outer_radius_um)


# --------------------------------------------------------------------------
# mesh
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Segment:
    lo: float  # um
    hi: float  # um
    region: int  # index into cylinder.region_names
    wavelength_um: float  # local wavelength lambda/n
    pml: RadialPML | None = None  # grade the elements with |s(r)| inside a PML


def _mesh_segments(cylinder, k_per_um, r_min, r_outer_end, pml):
    """Segments between r_min, interfaces, PML start and the domain end."""
    lam0 = 2.0 * math.pi / k_per_um
    segs = []
    for j, (lo, hi, n) in enumerate(_segments(cylinder)):
        lo, hi = max(lo, r_min), min(hi, r_outer_end)
        if lo >= hi:
            continue
        if pml is not None and j == cylinder.n_layers and hi > pml.r_start_um:
            if pml.r_start_um > lo:
                segs.append(_Segment(lo, pml.r_start_um, j, lam0 / n))
            segs.append(_Segment(max(lo, pml.r_start_um), hi, j, lam0 / n, pml))
        else:
            segs.append(_Segment(lo, hi, j, lam0 / n))
    return segs


def _segment_nodes(seg: _Segment, h_um: float) -> np.ndarray:
    """Nodes of one segment (excluding its first): uniform, or in a PML equally spaced
    in the stretched length int |s| dr (the field varies on the scale 1/(k n |s|))."""
    if seg.pml is None:
        ne = max(1, math.ceil((seg.hi - seg.lo) / h_um))
        return np.linspace(seg.lo, seg.hi, ne + 1)[1:]
    r = np.linspace(seg.lo, seg.hi, 4001)
    ds = np.abs(seg.pml.s(r))
    length = np.concatenate(([0.0], np.cumsum(0.5 * (ds[1:] + ds[:-1]) * np.diff(r))))
    ne = max(1, math.ceil(length[-1] / h_um))
    nodes = np.interp(np.linspace(0.0, length[-1], ne + 1), length, r)
    nodes[-1] = seg.hi
    return nodes[1:]


def _build_mesh(segs, order, points_per_wavelength):
    """MeshLine with nodes on every segment boundary; element size order*lambda/(n*ppw)."""
    nodes = [np.array([segs[0].lo])]
    region, in_pml = [], []
    for seg in segs:
        new = _segment_nodes(seg, order * seg.wavelength_um / points_per_wavelength)
        nodes.append(new)
        region += [seg.region] * len(new)
        in_pml += [seg.pml is not None] * len(new)
    mesh = MeshLine(np.concatenate(nodes))
    # MeshLine keeps the node order, so element e spans nodes e, e+1
    return mesh, np.array(region), np.array(in_pml)


def _element(order: int):
    if order == 1:
        return ElementLineP1()
    if order == 2:
        return ElementLineP2()
    return ElementLinePp(order)


# --------------------------------------------------------------------------
# forms
# --------------------------------------------------------------------------
@BilinearForm(dtype=np.complex128)
def _stiffness(u, v, w):
    # a * ((r~/s) R' v' + m^2 (s/r~) R v)
    return w.a * (w.rt / w.s * u.grad[0] * v.grad[0] + w.m2 * w.s / w.rt * u * v)


@BilinearForm(dtype=np.complex128)
def _mass(u, v, w):
    # b * r~ s R v
    return w.b * w.rt * w.s * u * v


def _coefficients(cylinder, pol, basis, element_region, pml):
    """Per-quadrature-point a, b, r~, s (arrays of shape (nelems, nqp))."""
    n = np.array(cylinder.all_indices, dtype=complex)[element_region]
    n2 = (n * n)[:, None] * np.ones(basis.X.shape[1])
    r = np.asarray(basis.global_coordinates())[0]  # (nelems, nqp) radii in um
    if pml is None:
        rt, s = r.astype(complex), np.ones_like(r, dtype=complex)
    else:
        rt, s = pml.r_tilde(r), pml.s(r)
    if pol == "Ez":
        a, b = np.ones_like(n2), n2
    else:
        a, b = 1.0 / n2, np.ones_like(n2)
    return dict(a=a, b=b, rt=rt, s=s)


# --------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------
@dataclass
class RadialFEMResult(EigenvaluesMixin):
    """Eigenmodes of the 1-D radial problem (one pol, one m).

    Attributes
    ----------
    k : complex eigen-wavenumbers (1/um), sorted by distance to ``k_target``;
        Im k < 0 for a leaky (radiating) mode.
    vectors : eigenvectors, shape (ndofs, num_modes), zeros on Dirichlet dofs,
        scaled so that the largest nodal value of |R| is 1 (real positive there).
    basis, mesh : scikit-fem objects; evaluate R with :meth:`field`.
    num_unknowns : size of the algebraic eigenproblem (after Dirichlet removal).
    r_min_um : inner end of the domain (0 = centre).
    cut_decay : WKB field factor at r_min relative to the inner caustic
        (0 when r_min = 0: the centre conditions are exact).
    r_end_um : outer end of the domain.
    pml : the PML used (None for a closed outer wall).
    region_names : cylinder layer names + ``outside`` (r > last radius, PML excluded).
    layer_fractions : electric energy fraction per region, shape (num_modes, n_regions).
        Ez: weight Re(n^2)|R|^2 r; Hz: Re(n^2)/|n^2|^2 (|R'|^2 + m^2|R|^2/r^2) r.
    pml_fraction : same energy in the PML, shape (num_modes,);
        layer_fractions.sum(1) + pml_fraction = 1.
    """

    cylinder: LayeredCylinder
    pol: str
    m: int
    k_target: complex
    order: int
    points_per_wavelength: float
    k: np.ndarray
    vectors: np.ndarray
    mesh: MeshLine
    basis: Basis
    num_unknowns: int
    r_min_um: float
    cut_decay: float
    r_end_um: float
    pml: RadialPML | None
    outer_boundary: str
    region_names: tuple[str, ...]
    layer_fractions: np.ndarray
    pml_fraction: np.ndarray
    element_region: np.ndarray = field(repr=False)
    element_in_pml: np.ndarray = field(repr=False)

    @property
    def region(self) -> tuple[str, ...]:
        """Name of the region holding the most energy, per mode."""
        return tuple(self.region_names[j] for j in np.argmax(self.layer_fractions, axis=1))

    def is_pml_mode(self, max_pml_fraction: float = DEFAULT_MAX_PML_FRACTION) -> np.ndarray:
        """True for modes with more than ``max_pml_fraction`` of their energy in the PML."""
        return self.pml_fraction > max_pml_fraction

    def physical(self, max_pml_fraction: float = DEFAULT_MAX_PML_FRACTION) -> np.ndarray:
        """Indices of the modes that are not PML modes (keeps the k_target ordering)."""
        return np.flatnonzero(~self.is_pml_mode(max_pml_fraction))

    def field(self, r_um, i: int = 0) -> np.ndarray:
        """R(r) of mode ``i`` at radii ``r_um`` (inside [r_min, r_end])."""
        r = np.atleast_1d(np.asarray(r_um, dtype=float))
        return self.basis.probes(r[None, :]) @ self.vectors[:, i]

    def radial_order(self, i: int = 0, region: str | None = None, samples: int = 4000) -> int:
        """Number of maxima of |R| inside ``region`` (default: the mode's main region)."""
        j = self.cylinder.layer_of(region or self.region[i])
        lo, hi = self.cylinder.layer_bounds_um(j)
        lo, hi = max(lo, self.r_min_um), min(hi, self.pml.r_start_um if self.pml else self.r_end_um)
        amp = np.abs(self.field(np.linspace(lo, hi, samples), i))
        inner = (amp[1:-1] > amp[:-2]) & (amp[1:-1] >= amp[2:])
        # a maximum must stand out of the noise floor of the evanescent tails
        return int(np.count_nonzero(inner & (amp[1:-1] > 1e-6 * amp.max())))


# --------------------------------------------------------------------------
# solver
# --------------------------------------------------------------------------
def _pml_from_arg(pml, cylinder, k_per_um, m):
    if isinstance(pml, RadialPML):
        if pml.r_start_um < cylinder.outer_radius_um:
            raise ValueError(
                f"the PML must start outside the cylinder ({pml.r_start_um} um < {cylinder.outer_radius_um} um)"
            )
        return pml
    kwargs = dict(pml or {})
    return make_pml(cylinder.outer_radius_um, k_per_um, cylinder.outside_index, m, **kwargs)


def _dirichlet_dofs(basis, mesh, r_min, m, outer_boundary):
    """Dofs fixed to zero: the inner cut / centre (m != 0) and the outer end (unless Neumann)."""
    x = mesh.p[0]
    fixed = []
    if r_min > 0 or m != 0:
        fixed.append(basis.nodal_dofs[0, np.argmin(x)])
    if outer_boundary != "neumann":
        fixed.append(basis.nodal_dofs[0, np.argmax(x)])
    return np.array(fixed, dtype=int)


@contextlib.contextmanager
def _single_threaded_blas():
    """Run BLAS on one thread: ARPACK's small dense steps gain nothing from threads,
    and on a loaded machine OpenBLAS threads waiting for a busy core made the
    paper-case solve 100 times slower (2-3 s instead of 20 ms, measured)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it the solve is right, only slower under load
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _shift_invert_eigs(A, B, sigma, num_modes):
    """Eigenpairs of A x = lam B x nearest sigma, via ARPACK on (A - sigma B)^-1 B."""
    lu = spla.splu(sp.csc_matrix(A - sigma * B))
    n = A.shape[0]
    op = spla.LinearOperator((n, n), matvec=lambda x: lu.solve(B @ x), dtype=np.complex128)
    with _single_threaded_blas():
        nu, vecs = spla.eigs(op, k=min(num_modes, n - 2), which="LM", ncv=min(n - 1, max(2 * num_modes + 1, 20)))
    return sigma + 1.0 / nu, vecs


def _energy_fractions(basis, vectors, pol, m, cylinder, element_region, element_in_pml):
    """Electric energy per region (layers + outside) and in the PML, normalised to 1."""
    n = np.array(cylinder.all_indices, dtype=complex)[element_region][:, None]
    n2 = n * n
    r = np.asarray(basis.global_coordinates())[0]  # (nelems, nqp) radii in um
    nreg = len(cylinder.region_names)
    layers = np.zeros((vectors.shape[1], nreg))
    pml = np.zeros(vectors.shape[1])
    for i in range(vectors.shape[1]):
        f = basis.interpolate(vectors[:, i])
        if pol == "Ez":
            dens = n2.real * np.abs(np.asarray(f)) ** 2 * r
        else:
            dens = n2.real / np.abs(n2) ** 2 * (np.abs(f.grad[0]) ** 2 + m * m * np.abs(np.asarray(f)) ** 2 / r**2) * r
        per_elem = np.sum(dens * basis.dx, axis=1)
        layers[i] = np.bincount(element_region[~element_in_pml], per_elem[~element_in_pml], minlength=nreg)
        pml[i] = per_elem[element_in_pml].sum()
        total = layers[i].sum() + pml[i]
        layers[i] /= total
        pml[i] /= total
    return layers, pml


def _normalise(basis, vectors):
    """Scale each vector so its largest nodal |R| is 1 and real positive (vertex dofs are point values)."""
    nodal = vectors[basis.nodal_dofs[0]]
    peak = nodal[np.argmax(np.abs(nodal), axis=0), np.arange(vectors.shape[1])]
    return vectors / peak


def solve_radial(
    cylinder: LayeredCylinder,
    pol: str,
    m: int,
    k_target: complex,
    num_modes: int = 8,
    order: int = 4,
    points_per_wavelength: float = DEFAULT_POINTS_PER_WAVELENGTH,
    r_min_um: float | None = None,
    pml: RadialPML | dict | None = None,
    outer_boundary: str = "pml",
    cut_decay: float = DEFAULT_CUT_DECAY,
) -> RadialFEMResult:
    """Modes of ``cylinder`` with azimuthal order ``m`` and wavenumber near ``k_target``.

    Parameters
    ----------
    cylinder : the layered cylinder (radii in um).
    pol : ``"Ez"`` or ``"Hz"`` (aliases TM = Ez, TE = Hz).
    m : azimuthal order (the sign does not matter).
    k_target : target vacuum wavenumber 2 pi / lambda in 1/um (may be complex);
        the shift is k_target^2. Also sets the mesh and the PML.
    num_modes : how many eigenpairs to return.
    order : polynomial degree of the elements (hierarchical Legendre, >= 1).
    points_per_wavelength : degrees of freedom per local wavelength lambda/n
        (element size = order * lambda / (n * points_per_wavelength); in the PML
        graded so that the size times |s(r)| stays the same).
    r_min_um : inner end of the domain; None = :func:`inner_cut_radius_um` with
        ``cut_decay``; 0 = the centre (R'(0) = 0 natural for m = 0, R(0) = 0 otherwise).
    pml : a :class:`RadialPML`, or a dict of :func:`wgmfem.fem.pml.make_pml` keywords
        (``gap_wavelengths``, ``width_wavelengths``, ``reflection``, ``power``), or
        None for the defaults. Ignored unless ``outer_boundary == "pml"``.
    outer_boundary : ``"pml"`` (open structure, outer medium + PML + Dirichlet end), or
        ``"dirichlet"`` / ``"neumann"``: a closed cavity ending at the last radius.
    """
    pol = normalize_pol(pol)
    m = abs(int(m))
    k_target = complex(k_target)
    k_re = k_target.real
    if not k_re > 0:
        raise ValueError(f"k_target must have a positive real part (1/um), got {k_target}")
    if order < 1:
        raise ValueError(f"element order must be >= 1, got {order}")
    if outer_boundary not in OUTER_BOUNDARIES:
        raise ValueError(f"outer_boundary must be one of {OUTER_BOUNDARIES}, got {outer_boundary!r}")

    if r_min_um is None:
        r_min = inner_cut_radius_um(cylinder, m, k_re, cut_decay)
    else:
        r_min = float(r_min_um)
    if outer_boundary == "pml":
        the_pml = _pml_from_arg(pml, cylinder, k_re, m)
        r_end = the_pml.r_end_um
    else:
        the_pml, r_end = None, cylinder.outer_radius_um
    if not 0 <= r_min < min(r_end, cylinder.outer_radius_um):
        raise ValueError(f"r_min_um = {r_min} must lie in [0, {cylinder.outer_radius_um}) um")

    segs = _mesh_segments(cylinder, k_re, r_min, r_end, the_pml)
    mesh, element_region, element_in_pml = _build_mesh(segs, order, points_per_wavelength)
    # quadrature above 2*order: r~, s and 1/r are not polynomials
    basis = Basis(mesh, _element(order), intorder=2 * order + 4)

    coef = _coefficients(cylinder, pol, basis, element_region, the_pml)
    A = _stiffness.assemble(basis, m2=float(m * m), **coef)
    B = _mass.assemble(basis, **coef)

    fixed = _dirichlet_dofs(basis, mesh, r_min, m, outer_boundary)
    free = np.setdiff1d(np.arange(basis.N), fixed)
    A_ff = A.tocsr()[free][:, free]
    B_ff = B.tocsr()[free][:, free]
    lam, vecs_free = _shift_invert_eigs(A_ff, B_ff, k_target**2, num_modes)

    k = np.sqrt(lam)
    order_idx = np.argsort(np.abs(k - k_target))
    k = k[order_idx]
    vectors = np.zeros((basis.N, len(k)), dtype=complex)
    vectors[free] = vecs_free[:, order_idx]
    vectors = _normalise(basis, vectors)
    layers, pml_frac = _energy_fractions(basis, vectors, pol, m, cylinder, element_region, element_in_pml)

    return RadialFEMResult(
        cylinder=cylinder,
        pol=pol,
        m=m,
        k_target=k_target,
        order=order,
        points_per_wavelength=points_per_wavelength,
        k=k,
        vectors=vectors,
        mesh=mesh,
        basis=basis,
        num_unknowns=len(free),
        r_min_um=r_min,
        cut_decay=wkb_decay(cylinder, m, k_re, r_min) if r_min > 0 else 0.0,
        r_end_um=r_end,
        pml=the_pml,
        outer_boundary=outer_boundary,
        region_names=cylinder.region_names,
        layer_fractions=layers,
        pml_fraction=pml_frac,
        element_region=element_region,
        element_in_pml=element_in_pml,
    )
