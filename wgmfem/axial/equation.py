"""Axial (z) equation of a slowly varying fibre: the states of a SNAP / bottle potential.

A whispering-gallery family (pol, m, p) of a uniform fibre has the cutoff wavenumber
k_c (1/um, complex: Im k_c < 0 from radiation and absorption) and, for a small axial
wavevector beta, k^2 = k_c^2 + alpha beta^2. When the radii vary slowly along z the
field is Psi(z) X(r) exp(i m phi) with (Sumetsky, Opt. Express 20, 22537 (2012))

    alpha Psi'' + (k^2 - k_c(z)^2) Psi = 0.

With a real reference k_ref (1/um) this is solved for E = k^2 - k_ref^2 and the
potential W(z) = k_c(z)^2 - k_ref^2 (both 1/um^2), which keeps the digits that matter
(E ~ 1e-3..1e-1 while k^2 ~ 200). Beyond the ends of the given z range the fibre is
uniform (W = its end value). A state with Re E below both end values of Re W is
axially confined; otherwise it leaks along the axis.

Discretization
--------------
W is interpolated from the samples by a cubic spline (not-a-knot; ``interpolation=
"cubic"``): smooth profiles then enter with an O(dz^4) error instead of the O(dz^2)
of linear interpolation, and a parabola is reproduced exactly. ``"linear"`` is the
choice for profiles with kinks or unresolved steps, where a spline would overshoot.

The domain is the given range, a uniform buffer and a perfectly matched layer (PML)
at each end, Dirichlet at the PML's outer ends. In the PML the coordinate is continued
into the complex plane, z~ = z + (eta + i) sigma(z) outwards, sigma quadratic in the
depth (s = dz~/dz is continuous). The imaginary part absorbs outgoing waves
exp(i beta |z~|); the real part eta (default 1) shortens the evanescent tails of
confined states close to the threshold, which a purely imaginary stretch leaves
unchanged. Weak form on the real measure dz (complex symmetric, not Hermitian):

    A(psi, v) = int alpha psi' v' / s + W s psi v dz,    B(psi, v) = int s psi v dz,
    A psi = E B psi.

Elements: Lagrange P2 (``order=2``) or hierarchical Legendre of degree ``order``
(default 4), size order * (2 pi / kz_max) / points_per_wavelength. kz_max is the axial
wavenumber sqrt((E_est - min Re W) / alpha) of the wanted states in the well (E_est:
WKB estimate of the ``count``-th level), or their decay rate under the barriers if
faster, up to BARRIER_DECAY_CAP times the former; the size is at most ``order`` input
spacings, so that every interval of the interpolated W gets about two quadrature
points. In the PMLs the size is set by the well's wavenumber alone, in the stretched
length int |s| dz.

States
------
Which states exist is decided without Im k_c (loss broadens a state, it does not make
or remove one): ARPACK shift-invert around the bottom of Re W (the lowest states,
q = 0, 1, 2, ... are the wanted ones), discarding

* modes with most of their |psi|^2 in the PML (the bulk of the continuum);
* modes whose E depends on the PML strength (the continuum just above an open end's
  level, which a PML hardly absorbs): a state of the potential does not;
* leaky poles broader than their height above the open end's level (a ramp or a
  neck has such poles; they are no resolvable resonance).

Each state is then solved again near its E (shift-invert, the nearest eigenpair,
identified by the overlap of the profiles): with the full complex k_c (the reported
E), and of that: with a PML PML_CHECK_FACTOR times stronger and on a mesh refined once
(h/2). The changes of E estimate the errors of the PML and of the discretization.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.integrate import trapezoid
from scipy.interpolate import CubicSpline
from scipy.optimize import linear_sum_assignment
from skfem import Basis, BilinearForm, ElementLineP2, ElementLinePp, MeshLine

from ..errors import AxialError  # defined there, where catching it loads no solver
from ..units import wavelength_nm_from_k

#: Default polynomial degree of the elements.
DEFAULT_ORDER = 4
#: Default degrees of freedom per axial wavelength 2 pi / kz_max.
DEFAULT_POINTS_PER_WAVELENGTH = 40.0
#: Default plane-wave round-trip reflection of the PML, met at a quarter of the
#: axial wavenumber of the highest wanted state (slower waves are absorbed less).
DEFAULT_PML_REFLECTION = 1e-12
#: Default real part eta of the PML stretch z~ = z + (eta + i) sigma(z).
DEFAULT_PML_REAL_STRETCH = 1.0
#: Default fraction of |psi|^2 in the PML above which a mode is a continuum (PML) mode.
DEFAULT_MAX_PML_FRACTION = 0.5
#: Fewest samples of the profile (a not-a-knot spline through 3 points is the parabola).
MIN_POINTS = 3
#: Values of Re psi below this fraction of the peak are skipped when nodes are counted
#: (the evanescent tails are noise there).
NODE_THRESHOLD = 1e-3
#: Largest algebraic eigenproblem built (a guard against a mis-scaled input).
MAX_UNKNOWNS = 2_000_000
#: |Im E_axial| below this many times the round-off floor of the discrete operator
#: counts as zero (Q_axial = inf), as does |Im E_axial| below the error estimate of E.
IM_E_NOISE_FACTOR = 1e3
#: Decay rates under the barriers are resolved up to this multiple of the well's axial wavenumber.
BARRIER_DECAY_CAP = 2.0
#: When the first ``count`` eigenpairs hold fewer than ``count`` states, the search is
#: repeated with 3 nev + EXTRA_EIGENPAIRS eigenpairs (continuum modes are filtered out).
EXTRA_EIGENPAIRS = 6
#: Most eigenpairs computed in one search.
MAX_EIGENPAIRS = 96
#: The search for states stops once the eigenvalues computed reach this multiple of the
#: WKB estimate of the ``count``-th level above the bottom (a continuum in a plateau
#: region pushes leaky states above that estimate).
SEARCH_RADIUS_FACTOR = 2.0
#: A mode with |dE / d ln sigma0| above this fraction of its distance to the nearer end
#: level is a continuum mode (those move by about that distance; states of the
#: potential by the PML's reflection).
PML_DEPENDENCE_LIMIT = 0.05
#: A leaky pole is kept when its axial linewidth |Im E| times this is below its height
#: Re E - Re W above the lower end's level (measured: the poles of a linear ramp reach
#: 7.5, those above a parabola opened to one side 1.6; states tunnelling through a
#: barrier 100 and far more).
MIN_LEAKY_SHARPNESS = 10.0
#: The PML of the check solve is this many times stronger (sigma0).
PML_CHECK_FACTOR = 1.5
#: Offset of the shifts that solve a state again from its expected E, in units of the
#: level span (the factorization must stay regular when E is reproduced to all digits).
TARGET_OFFSET = 1e-4
#: ARPACK restarts before the converged eigenpairs are taken as they are.
ARPACK_MAX_RESTARTS = 1000
INTERPOLATIONS = ("cubic", "linear")


# --------------------------------------------------------------------------
# PML
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class AxialPML:
    """The layers at both ends: a uniform buffer, then a PML of ``width_um``.

    s(depth) = 1 + (real_stretch + i) * sigma0 * (depth / width_um)^2, depth (um)
    measured outwards from the PML's inner edge; sigma0 is dimensionless. The same s
    at both ends stretches outwards on each side (z~ - z has the sign of the side).
    """

    buffer_um: float
    width_um: float
    sigma0: float
    real_stretch: float = DEFAULT_PML_REAL_STRETCH

    def __post_init__(self):
        if not (self.buffer_um >= 0 and self.width_um > 0 and self.sigma0 >= 0 and self.real_stretch >= 0):
            raise AxialError(f"bad PML (buffer >= 0, width > 0, sigma0 >= 0, real_stretch >= 0): {self}")

    def s(self, depth_um) -> np.ndarray:
        """Complex stretching factor dz~/dz at PML depths (um; <= 0 outside the PML)."""
        return 1.0 + self.sigma0 * self.s_derivative(depth_um)

    def s_derivative(self, depth_um) -> np.ndarray:
        """d s / d sigma0 at PML depths (um)."""
        xi = np.clip(np.asarray(depth_um, dtype=float) / self.width_um, 0.0, None)
        return (self.real_stretch + 1j) * xi**2

    def reflection(self, beta_per_um: float) -> float:
        """Round-trip reflection exp(-2 beta Im(z~_end - z_end)) of a wave exp(i beta z)."""
        return math.exp(-2.0 * beta_per_um * self.sigma0 * self.width_um / 3.0)


def make_axial_pml(
    wavenumber_per_um: float,
    reflection: float = DEFAULT_PML_REFLECTION,
    real_stretch: float = DEFAULT_PML_REAL_STRETCH,
) -> AxialPML:
    """PML sized from the axial wavenumber (1/um) of the highest wanted state.

    Buffer half an axial wavelength, width one wavelength, sigma0 such that a wave
    of a quarter of that wavenumber is reflected by ``reflection`` (round trip).
    """
    wavelength = 2.0 * math.pi / wavenumber_per_um
    beta_ref = 0.25 * wavenumber_per_um
    sigma0 = 3.0 * math.log(1.0 / reflection) / (2.0 * beta_ref * wavelength)
    return AxialPML(buffer_um=0.5 * wavelength, width_um=wavelength, sigma0=sigma0, real_stretch=real_stretch)


# --------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class AxialSolution:
    """Axial states, lowest Re E first (arrays indexed by state).

    Attributes
    ----------
    z_um : the physical grid (the input z), um.
    k_ref : reference wavenumber (1/um); E = k^2 - k_ref^2.
    alpha : the curvature coefficient of k^2(beta) (dimensionless).
    end_potential : W = k_c^2 - k_ref^2 at the left and right end (1/um^2, complex).
    E : complex eigenvalue k^2 - k_ref^2 (1/um^2).
    k : complex wavenumber sqrt(k_ref^2 + E) (1/um); Im k < 0 for a lossy state.
    wavelength_nm : vacuum wavelength 2 pi / Re k.
    q : axial order: nodes of Re psi in the classically allowed stretch (Re W < Re E)
        around the peak of |psi|, so that the outgoing wave of a leaky state is not counted.
    nodes_match_order : q equals the position in the Re E ordering (the check of q).
    confined : Re E below both end values of Re W (no axial leakage).
    E_axial : E of the solve with Im k_c removed (1/um^2): Im E_axial is the axial leakage.
    Q_axial : Re k / (2 |Im k|) of that solve; inf when |Im E_axial| is zero to numerical
        precision (below the round-off floor or the error estimate of E).
    Q_total : Re k / (2 |Im k|) of the full complex solve (inf by the same rule as Q_axial).
    psi : profiles on ``z_um``, shape (states, len(z_um)), max |psi| = 1, real positive there.
    spacing_to_next_nm : wavelength_nm[i] - wavelength_nm[i + 1] (NaN for the last state).
    pml_fraction : share of int |psi|^2 dz inside the PMLs.
    residual : max |A x - E B x| / ((||A|| + |E| ||B||) max |x|) of the discrete eigenpair (inf-norms).
    E_refined : E on the mesh refined once (h/2), NaN where the state was not found again.
    E_pml_check : E with the PML PML_CHECK_FACTOR times stronger (same mesh in the range), NaN if not found.
    element_size_um, order, points_per_wavelength, num_unknowns : the discretization of E.
    interpolation : ``"cubic"`` or ``"linear"`` (how W was interpolated).
    pml : the :class:`AxialPML` at both ends.
    """

    z_um: np.ndarray
    k_ref: float
    alpha: float
    end_potential: tuple[complex, complex]
    E: np.ndarray
    k: np.ndarray
    wavelength_nm: np.ndarray
    q: np.ndarray
    nodes_match_order: np.ndarray
    confined: np.ndarray
    E_axial: np.ndarray
    Q_axial: np.ndarray
    Q_total: np.ndarray
    psi: np.ndarray
    spacing_to_next_nm: np.ndarray
    pml_fraction: np.ndarray
    residual: np.ndarray
    E_refined: np.ndarray
    E_pml_check: np.ndarray
    element_size_um: float
    order: int
    points_per_wavelength: float
    num_unknowns: int
    interpolation: str
    pml: AxialPML

    @property
    def count(self) -> int:
        return len(self.E)

    def __len__(self) -> int:
        return len(self.E)

    @property
    def refinement_change(self) -> np.ndarray:
        """|E(h/2) - E(h)| in 1/um^2: the error estimate of the discretization."""
        return np.abs(self.E_refined - self.E)

    @property
    def pml_change(self) -> np.ndarray:
        """|E(stronger PML) - E| in 1/um^2: the error estimate of the PML (reflection, truncation)."""
        return np.abs(self.E_pml_check - self.E)

    @property
    def error_estimate(self) -> np.ndarray:
        """The larger of the mesh and the PML change of E (1/um^2; NaN if neither is known)."""
        return np.fmax(self.refinement_change, self.pml_change)

    @property
    def wavelength_error_nm(self) -> np.ndarray:
        """error_estimate as a wavelength change, lambda |dE| / (2 Re k^2) (nm)."""
        return self.wavelength_nm * self.error_estimate / (2.0 * self.k.real**2)


# --------------------------------------------------------------------------
# input
# --------------------------------------------------------------------------
def _checked_inputs(z_um, k_c, alpha, count, order, points_per_wavelength, interpolation):
    z = np.asarray(z_um, dtype=float)
    kc = np.asarray(k_c, dtype=complex)
    if z.ndim != 1 or kc.shape != z.shape:
        raise AxialError(f"z_um and k_c must be 1-D arrays of the same length, got shapes {z.shape} and {kc.shape}")
    if len(z) < MIN_POINTS:
        raise AxialError(f"the profile needs at least {MIN_POINTS} points along z, got {len(z)}")
    if not (np.all(np.isfinite(z)) and np.all(np.isfinite(kc))):
        raise AxialError("z_um and k_c must be finite (NaN or inf found)")
    if not np.all(np.diff(z) > 0):
        raise AxialError("z_um must be strictly increasing")
    if not np.all(kc.real > 0):
        raise AxialError("k_c must have a positive real part (1/um) everywhere")
    if not (math.isfinite(alpha) and alpha > 0):
        raise AxialError(f"alpha must be a positive number, got {alpha}")
    if not (isinstance(count, int | np.integer) and count >= 1):
        raise AxialError(f"count must be an integer >= 1, got {count!r}")
    if not (isinstance(order, int | np.integer) and order >= 2):
        raise AxialError(f"element order must be an integer >= 2 (P2 or higher), got {order!r}")
    if not points_per_wavelength > 0:
        raise AxialError(f"points_per_wavelength must be positive, got {points_per_wavelength}")
    if interpolation not in INTERPOLATIONS:
        raise AxialError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}")
    return z, kc


def _check_options(k_ref, element_size_um, pml_reflection, pml_real_stretch, max_pml_fraction) -> None:
    if k_ref is not None and not (math.isfinite(k_ref) and k_ref > 0):
        raise AxialError(f"k_ref must be a positive wavenumber (1/um), got {k_ref}")
    if element_size_um is not None and not (math.isfinite(element_size_um) and element_size_um > 0):
        raise AxialError(f"element_size_um must be positive, got {element_size_um}")
    if not 0 < pml_reflection < 1:
        raise AxialError(f"pml_reflection must lie in (0, 1), got {pml_reflection}")
    if not pml_real_stretch >= 0:
        raise AxialError(f"pml_real_stretch must be >= 0, got {pml_real_stretch}")
    if not 0 < max_pml_fraction <= 1:
        raise AxialError(f"max_pml_fraction must lie in (0, 1], got {max_pml_fraction}")


def _potential_from_k_c(kc: np.ndarray, k_ref: float) -> np.ndarray:
    # (k_c - k_ref)(k_c + k_ref): k_c^2 - k_ref^2 without the cancellation of two ~200 numbers
    return (kc - k_ref) * (kc + k_ref)


def _has_well(w_real: np.ndarray) -> bool:
    """Whether some sample lies below the highest W on both of its sides (ends included):
    without such a trap there is neither a bound state nor a resonance."""
    left = np.maximum.accumulate(w_real)
    right = np.maximum.accumulate(w_real[::-1])[::-1]
    return bool(np.any(w_real < np.minimum(left, right)))


def _interpolant(z: np.ndarray, w: np.ndarray, interpolation: str) -> Callable[[np.ndarray], np.ndarray]:
    """W(z) inside [z0, z1], held at the end values outside."""
    if interpolation == "cubic":
        spline = CubicSpline(z, w)

        def evaluate(x):
            return spline(np.clip(x, z[0], z[-1]))
    else:

        def evaluate(x):
            return np.interp(x, z, w.real) + 1j * np.interp(x, z, w.imag)

    return evaluate


# --------------------------------------------------------------------------
# resolution
# --------------------------------------------------------------------------
def _wkb_level_estimate(z: np.ndarray, w_real: np.ndarray, alpha: float, count: int) -> float:
    """E (1/um^2) where the WKB state count (1/pi) int sqrt((E - W)/alpha) dz reaches count + 1/2.

    Beyond the well top the finite range still counts (a continuum in a box), so the
    estimate exists for any potential; it only sizes the mesh, the PML and the search.
    """
    bottom = float(w_real.min())
    length = z[-1] - z[0]

    def states(e):
        return trapezoid(np.sqrt(np.clip(e - w_real, 0.0, None) / alpha), z) / math.pi

    target = count + 0.5
    span = max(float(w_real.max()) - bottom, alpha * (math.pi * target / length) ** 2)
    while states(bottom + span) < target:
        span *= 2.0
    lo, hi = bottom, bottom + span
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if states(mid) < target else (lo, mid)
    return hi


@dataclass(frozen=True)
class _Resolution:
    element_size_um: float
    pml_element_size_um: float  # in the stretched length: outgoing waves, not barrier decay
    wavenumber_per_um: float  # axial wavenumber of the highest wanted state over the well bottom
    level_span: float  # E_est - min Re W (1/um^2): how far above the bottom the wanted states reach


def _resolution(z, z_fine, w_fine_real, alpha, count, order, points_per_wavelength) -> _Resolution:
    """Element sizes from the wanted states' axial wavelength and the input spacing of ``z``;
    the potential is read on the dense grid ``z_fine`` (features between the samples)."""
    e_est = _wkb_level_estimate(z_fine, w_fine_real, alpha, count)
    bottom, top = float(w_fine_real.min()), float(w_fine_real.max())
    kz_well = math.sqrt((e_est - bottom) / alpha)
    # under the barriers psi decays as exp(-kappa z); beyond kappa = 2 kz_well the field
    # is gone within a fraction of the well's wavelength, so resolving faster decay
    # would only add unknowns to an exponentially small tail
    kappa = math.sqrt(max(top - e_est, 0.0) / alpha)
    kz_max = max(kz_well, min(kappa, BARRIER_DECAY_CAP * kz_well))
    h_wave = order * (2.0 * math.pi / kz_max) / points_per_wavelength
    h_input = order * float(np.median(np.diff(z)))
    h_pml = order * (2.0 * math.pi / kz_well) / points_per_wavelength
    return _Resolution(min(h_wave, h_input), h_pml, kz_well, e_est - bottom)


# --------------------------------------------------------------------------
# mesh and forms
# --------------------------------------------------------------------------
def _uniform_nodes(lo: float, hi: float, h: float) -> np.ndarray:
    return np.linspace(lo, hi, max(1, math.ceil((hi - lo) / h)) + 1)


def _pml_depth_nodes(pml: AxialPML, h: float) -> np.ndarray:
    """Depths (0..width) equally spaced in the stretched length int |s| (the field scale is 1/(k |s|))."""
    depth = np.linspace(0.0, pml.width_um, 4001)
    ds = np.abs(pml.s(depth))
    stretched = np.concatenate(([0.0], np.cumsum(0.5 * (ds[1:] + ds[:-1]) * np.diff(depth))))
    ne = max(1, math.ceil(stretched[-1] / h))
    nodes = np.interp(np.linspace(0.0, stretched[-1], ne + 1), stretched, depth)
    nodes[-1] = pml.width_um
    return nodes


@dataclass(frozen=True)
class _Domain:
    """The physical range [z0, z1] (um) with buffer and PML on both sides."""

    z0: float
    z1: float
    pml: AxialPML

    @property
    def pml_left_um(self) -> float:  # inner edge of the left PML
        return self.z0 - self.pml.buffer_um

    @property
    def pml_right_um(self) -> float:  # inner edge of the right PML
        return self.z1 + self.pml.buffer_um

    def depth_um(self, z) -> np.ndarray:
        """Depth into the nearer PML (<= 0 outside both)."""
        z = np.asarray(z, dtype=float)
        return np.maximum(self.pml_left_um - z, z - self.pml_right_um)

    def nodes(self, h: float, h_pml: float) -> np.ndarray:
        """Mesh nodes: element size h in the range and the buffers, h_pml (stretched) in the PMLs."""
        depth = _pml_depth_nodes(self.pml, h_pml)
        parts = [
            self.pml_left_um - depth[::-1],
            _uniform_nodes(self.pml_left_um, self.z0, h)[1:],
            _uniform_nodes(self.z0, self.z1, h)[1:],
            _uniform_nodes(self.z1, self.pml_right_um, h)[1:],
            self.pml_right_um + depth[1:],
        ]
        return np.concatenate(parts)


def _element(order: int):
    return ElementLineP2() if order == 2 else ElementLinePp(order)


@BilinearForm(dtype=np.complex128)
def _stiffness(u, v, w):
    # alpha psi' v' / s + W s psi v
    return w.alpha / w.s * u.grad[0] * v.grad[0] + w.potential * w.s * u * v


@BilinearForm(dtype=np.complex128)
def _mass(u, v, w):
    return w.s * u * v


@BilinearForm(dtype=np.complex128)
def _stiffness_sigma_derivative(u, v, w):
    # d/dsigma0 of the stiffness, with ds = t dsigma0: -alpha t / s^2 psi' v' + W t psi v
    return -w.alpha * w.t / w.s**2 * u.grad[0] * v.grad[0] + w.potential * w.t * u * v


@BilinearForm(dtype=np.complex128)
def _mass_sigma_derivative(u, v, w):
    return w.t * u * v


@BilinearForm
def _weighted_l2(u, v, w):
    # int weight psi v dz on the real measure: |psi|^2 integrals of the solution
    return w.weight * u * v


# --------------------------------------------------------------------------
# discrete problem
# --------------------------------------------------------------------------
@contextlib.contextmanager
def _single_threaded_blas():
    """ARPACK's small dense steps gain nothing from BLAS threads and lose a lot under load."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: only the speed under load depends on it
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


class _Discretization:
    """Matrices of one mesh and one potential; eigenpairs around a shift."""

    def __init__(self, domain: _Domain, potential, alpha: float, h: float, h_pml: float, order: int):
        nodes = domain.nodes(h, h_pml)
        if len(nodes) * order > MAX_UNKNOWNS:
            raise AxialError(
                f"the mesh would have ~{len(nodes) * order} unknowns (element size {h:.3g} um): check the units of z_um and k_c"
            )
        mesh = MeshLine(nodes)
        # quadrature beyond 2*order: W and s are not polynomials
        self.basis = basis = Basis(mesh, _element(order), intorder=2 * order + 4)
        z = np.asarray(basis.global_coordinates())[0]  # (elements, quadrature points), um
        depth = domain.depth_um(z)
        pml = domain.pml
        coef = dict(alpha=alpha * np.ones_like(z), s=pml.s(depth), t=pml.s_derivative(depth), potential=potential(z))
        self.sigma0 = pml.sigma0
        # Dirichlet at both PML ends (a boolean mask slices sparse matrices ~10x faster than indices)
        self.free = np.ones(basis.N, dtype=bool)
        self.free[basis.nodal_dofs[0, [np.argmin(mesh.p[0]), np.argmax(mesh.p[0])]]] = False

        def interior(form):
            return form.assemble(basis, **coef).tocsr()[self.free][:, self.free]

        self.A, self.B = interior(_stiffness).tocsc(), interior(_mass).tocsc()
        self.dA, self.dB = interior(_stiffness_sigma_derivative), interior(_mass_sigma_derivative)
        # |psi|^2 integrals (real measure) over the whole domain and over the PMLs
        self.M = _weighted_l2.assemble(basis, weight=np.ones_like(z)).tocsr()
        self.M_pml = _weighted_l2.assemble(basis, weight=(depth > 0).astype(float)).tocsr()
        self._operators: dict[complex, spla.LinearOperator] = {}
        self._probes: tuple[np.ndarray, sp.spmatrix] | None = None

    @property
    def num_unknowns(self) -> int:
        return int(np.count_nonzero(self.free))

    def _operator(self, shift: complex) -> spla.LinearOperator:
        """(A - shift B)^-1 B, factorized once per shift."""
        if shift not in self._operators:
            lu = spla.splu(self.A - shift * self.B)
            n = self.A.shape[0]
            self._operators[shift] = spla.LinearOperator((n, n), matvec=lambda x: lu.solve(self.B @ x), dtype=np.complex128)
        return self._operators[shift]

    def eigenpairs(self, shift: complex, nev: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``nev`` eigenvalues E nearest ``shift`` and their vectors on all dofs (zero at the ends).

        Continuum modes of the PML converge slowly and some never to machine precision:
        after ARPACK_MAX_RESTARTS the converged part is returned.
        """
        n = self.A.shape[0]
        nev = min(n - 2, nev)
        ncv = min(n - 1, max(2 * nev + 1, 8 if nev == 1 else 20))
        try:
            nu, vecs = spla.eigs(self._operator(shift), k=nev, which="LM", ncv=ncv, maxiter=ARPACK_MAX_RESTARTS)
        except spla.ArpackNoConvergence as err:
            nu, vecs = err.eigenvalues, err.eigenvectors
        vectors = np.zeros((self.basis.N, len(nu)), dtype=complex)
        vectors[self.free] = vecs
        return shift + 1.0 / nu, vectors

    def rayleigh_quotients(self, vectors: np.ndarray) -> np.ndarray:
        """x^T A x / x^T B x per column: first-order E of another discretization's vectors on
        the same mesh (the pencil is complex symmetric: transpose, no conjugate)."""
        x = vectors[self.free]
        return np.einsum("ij,ij->j", x, self.A @ x) / np.einsum("ij,ij->j", x, self.B @ x)

    def pml_sensitivity(self, E: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """dE / d ln(sigma0) per eigenpair (1/um^2), first-order perturbation theory:
        dE = x^T (dA - E dB) x / x^T B x (left eigenvector = transposed right one)."""
        x = vectors[self.free]
        numerator = np.einsum("ij,ij->j", x, self.dA @ x) - E * np.einsum("ij,ij->j", x, self.dB @ x)
        return self.sigma0 * numerator / np.einsum("ij,ij->j", x, self.B @ x)

    def pml_fractions(self, vectors: np.ndarray) -> np.ndarray:
        total = np.einsum("ij,ij->j", vectors.conj(), self.M @ vectors).real
        return np.einsum("ij,ij->j", vectors.conj(), self.M_pml @ vectors).real / total

    def residuals(self, E: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """max |A x - E B x| / ((||A|| + |E| ||B||) max |x|) per eigenpair (inf-norms)."""
        x = vectors[self.free]
        r = self.A @ x - (self.B @ x) * E[None, :]
        scale = spla.norm(self.A, np.inf) + np.abs(E) * spla.norm(self.B, np.inf)
        return np.max(np.abs(r), axis=0) / (scale * np.max(np.abs(x), axis=0))

    def noise_floor(self) -> float:
        """Round-off level of an eigenvalue of the discrete pencil (1/um^2)."""
        return IM_E_NOISE_FACTOR * np.finfo(float).eps * spla.norm(self.A, np.inf) / spla.norm(self.B, np.inf)

    def profiles(self, vectors: np.ndarray, z_um: np.ndarray) -> np.ndarray:
        """psi at z_um (rows: states); the interpolation matrix of the last z_um is kept."""
        if self._probes is None or self._probes[0] is not z_um:
            self._probes = (z_um, _line_probes(self.basis, z_um))
        return (self._probes[1] @ vectors).T


def _line_probes(basis: Basis, x: np.ndarray) -> sp.spmatrix:
    """The matrix of ``basis.probes(x[None, :])`` (values at the points x inside the mesh), with
    the elements found by a binary search over the sorted element ends."""
    mesh = basis.mesh
    left = mesh.p[0, mesh.t].min(axis=0)
    order = np.argsort(left)
    cells = order[np.clip(np.searchsorted(left[order], x, side="right") - 1, 0, len(order) - 1)].astype(np.int32)
    points = x[None, :]
    local = basis.mapping.invF(points[:, :, np.newaxis], tind=cells)
    values = np.array([basis.elem.gbasis(basis.mapping, local, k, tind=cells)[0] for k in range(basis.Nbfun)]).flatten()
    rows = np.tile(np.arange(len(x), dtype=np.int32), basis.Nbfun)
    cols = basis.element_dofs[:, cells].flatten()
    return sp.coo_matrix((values, (rows, cols)), shape=(len(x), basis.N)).tocsr()


# --------------------------------------------------------------------------
# states
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class _States:
    """Eigenpairs of one discretization, ascending Re E."""

    disc: _Discretization
    E: np.ndarray  # complex, 1/um^2
    vectors: np.ndarray  # (dofs, states)

    def subset(self, index) -> _States:
        return _States(self.disc, self.E[index], self.vectors[:, index])

    def profiles(self, z_um: np.ndarray) -> np.ndarray:
        return self.disc.profiles(self.vectors, z_um)


def _threshold_distance(E: np.ndarray, end_w: tuple[complex, complex]) -> np.ndarray:
    """|E - W_end| of the nearer end: the scale on which a continuum mode moves."""
    return np.minimum(np.abs(E - end_w[0]), np.abs(E - end_w[1]))


def _is_state(disc: _Discretization, E, vectors, end_w, max_pml_fraction) -> np.ndarray:
    """The three filters of the module docstring: not in the PML, independent of it, resolvable."""
    in_pml = disc.pml_fractions(vectors) > max_pml_fraction
    moves = np.abs(disc.pml_sensitivity(E, vectors)) > PML_DEPENDENCE_LIMIT * _threshold_distance(E, end_w)
    height = E.real - min(end_w[0].real, end_w[1].real)  # above the lower end's level, if leaky
    broad = (height > 0) & (MIN_LEAKY_SHARPNESS * np.abs(E.imag) > height)
    return ~(in_pml | moves | broad)


def _lowest_states(disc, count, search_radius, max_pml_fraction, end_w, shift) -> _States:
    """The ``count`` lowest-Re E states of ``disc`` (maybe fewer).

    Bound states lie nearer the shift (the bottom) than the rotated continuum, so
    ``count`` eigenpairs suffice when the potential holds that many; otherwise the
    search is widened (leaky states lie beyond the continuum of the lower end) until
    ``count`` states are found, the eigenvalues computed reach ``search_radius``
    (1/um^2) from the shift, or MAX_EIGENPAIRS.
    """
    nev = count
    while True:
        E, vectors = disc.eigenpairs(shift, nev)
        keep = np.flatnonzero(_is_state(disc, E, vectors, end_w, max_pml_fraction))
        keep = keep[np.argsort(E[keep].real)]
        reach = float(np.max(np.abs(E - shift), initial=0.0))
        if len(keep) >= count or reach >= search_radius or nev >= min(MAX_EIGENPAIRS, disc.num_unknowns - 2):
            return _States(disc, E[keep[:count]], vectors[:, keep[:count]])
        nev = min(3 * nev + EXTRA_EIGENPAIRS, MAX_EIGENPAIRS)


def _solved_again(states: _States, other: _Discretization, targets: np.ndarray, offset: float, z_um) -> _States:
    """Each state in ``other``: the eigenpair nearest target + offset whose profile on z_um
    overlaps the state's (E NaN and a zero vector where none does).

    All states first come from one factorization at the lowest target (a shift-invert solve for
    as many eigenpairs as states plus a margin), each matched by profile overlap and accepted
    where it lies closer to its target than to any other target; the rest are solved one by
    one at their own target."""
    reference = states.profiles(z_um)
    E = np.full(len(targets), np.nan + 0j)
    vectors = np.zeros((other.basis.N, len(targets)), dtype=complex)
    finite = np.flatnonzero(np.isfinite(targets))
    if len(finite) > 1:
        shift = complex(targets[finite][np.argmin(targets[finite].real)]) + offset
        e, x = other.eigenpairs(shift, len(finite) + EXTRA_EIGENPAIRS)
        match = _matching(reference[finite], other.profiles(x, z_um)) if len(e) else -np.ones(len(finite), int)
        for row, i in enumerate(finite):
            j = match[row]
            if j < 0:
                continue
            gaps = np.abs(targets[finite] - targets[i])
            nearest_other = np.min(gaps[gaps > 0], initial=np.inf)
            if abs(e[j] - targets[i]) < 0.5 * nearest_other:
                E[i], vectors[:, i] = e[j], x[:, j]
    for i in finite:
        if np.isnan(E[i]):
            e, x = other.eigenpairs(complex(targets[i]) + offset, 1)
            if len(e) and _matching(reference[i : i + 1], other.profiles(x, z_um))[0] == 0:
                E[i], vectors[:, i] = e[0], x[:, 0]
    return _States(other, E, vectors)


# --------------------------------------------------------------------------
# post-processing
# --------------------------------------------------------------------------
def _normalized(psi: np.ndarray) -> np.ndarray:
    """Rows scaled to max |psi| = 1, real positive there."""
    peak = psi[np.arange(len(psi)), np.argmax(np.abs(psi), axis=1)]
    return psi / peak[:, None]


def _node_count(psi_row: np.ndarray, allowed: np.ndarray) -> int:
    """Sign changes of Re psi in the classically allowed stretch around the peak of |psi|,
    skipping samples below NODE_THRESHOLD of the peak (evanescent tails)."""
    peak = int(np.argmax(np.abs(psi_row)))
    lo, hi = peak, peak
    while lo > 0 and allowed[lo - 1]:
        lo -= 1
    while hi < len(allowed) - 1 and allowed[hi + 1]:
        hi += 1
    re = psi_row.real[lo : hi + 1]
    significant = re[np.abs(re) > NODE_THRESHOLD * np.max(np.abs(psi_row.real))]
    return int(np.count_nonzero(np.signbit(significant[1:]) != np.signbit(significant[:-1])))


def _matching(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    """For each row of ``reference``, the row of ``other`` with the largest profile overlap (-1 if none)."""
    match = -np.ones(len(reference), dtype=int)
    if len(other) == 0:
        return match
    a = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    b = other / np.linalg.norm(other, axis=1, keepdims=True)
    overlap = np.abs(a.conj() @ b.T)
    rows, cols = linear_sum_assignment(-overlap)
    # a pairing of unrelated states (overlap well below 1) is no match
    good = overlap[rows, cols] > 0.5
    match[rows[good]] = cols[good]
    return match


def _quality(k: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return k.real / (2.0 * np.abs(k.imag))


def _bottom(w: np.ndarray) -> complex:
    """The shift of the search: W where Re W is lowest (the lowest states are the wanted ones)."""
    return complex(w[np.argmin(w.real)])


# --------------------------------------------------------------------------
# solver
# --------------------------------------------------------------------------
def solve_axial_equation(
    z_um,
    k_c,
    alpha: float,
    count: int = 5,
    k_ref: float | None = None,
    order: int = DEFAULT_ORDER,
    points_per_wavelength: float = DEFAULT_POINTS_PER_WAVELENGTH,
    element_size_um: float | None = None,
    interpolation: str = "cubic",
    pml: AxialPML | None = None,
    pml_reflection: float = DEFAULT_PML_REFLECTION,
    pml_real_stretch: float = DEFAULT_PML_REAL_STRETCH,
    max_pml_fraction: float = DEFAULT_MAX_PML_FRACTION,
) -> AxialSolution:
    """The ``count`` lowest axial states of alpha Psi'' + (k^2 - k_c(z)^2) Psi = 0.

    Parameters
    ----------
    z_um : strictly increasing positions (um), at least MIN_POINTS of them.
    k_c : local cutoff wavenumber at z_um (1/um, complex, Im k_c <= 0 for a lossy family).
    alpha : k^2 = k_c^2 + alpha beta^2 near cutoff (dimensionless, > 0).
    count : how many states (lowest Re E first); fewer are returned when the potential
        holds fewer (confined or resolvable leaky ones).
    k_ref : real reference (1/um) of E = k^2 - k_ref^2; default Re k_c where Re k_c^2 is lowest.
    order : element degree (2 = ElementLineP2, higher = hierarchical ElementLinePp).
    points_per_wavelength : degrees of freedom per axial wavelength (sets the element size).
    element_size_um : overrides the element size in the range chosen from points_per_wavelength.
    interpolation : ``"cubic"`` (spline of W, default) or ``"linear"``.
    pml : the buffer and PML at both ends; default :func:`make_axial_pml` from the axial
        wavenumber of the highest wanted state with ``pml_reflection`` and ``pml_real_stretch``.
    max_pml_fraction : modes with more of their |psi|^2 in the PML are discarded.

    Raises :class:`AxialError` for bad inputs and when no state is found.
    """
    z, kc = _checked_inputs(z_um, k_c, alpha, count, order, points_per_wavelength, interpolation)
    _check_options(k_ref, element_size_um, pml_reflection, pml_real_stretch, max_pml_fraction)
    if k_ref is None:
        k_ref = float(kc.real[np.argmin((kc * kc).real)])
    w = _potential_from_k_c(kc, k_ref)
    w_axial = _potential_from_k_c(kc.real.astype(complex), k_ref)
    end_w = (complex(w[0]), complex(w[-1]))
    if not _has_well(w_axial.real):
        raise AxialError(
            f"no axially confined state: Re(k_c^2 - k_ref^2) has no well (it runs from {w.real.min():.4g} to "
            f"{w.real.max():.4g} 1/um^2, ends {end_w[0].real:.4g}, {end_w[1].real:.4g})"
        )

    # the resolution rule reads W between the samples too (narrow features)
    potential_axial = _interpolant(z, w_axial, interpolation)
    z_fine = np.linspace(z[0], z[-1], max(4001, 4 * len(z)))
    resolution = _resolution(z, z_fine, potential_axial(z_fine).real, alpha, count, order, points_per_wavelength)
    h = resolution.element_size_um if element_size_um is None else float(element_size_um)
    h_pml = resolution.pml_element_size_um
    if pml is None:
        pml = make_axial_pml(resolution.wavenumber_per_um, pml_reflection, pml_real_stretch)
    domain = _Domain(float(z[0]), float(z[-1]), pml)
    z_dense = np.linspace(z[0], z[-1], 8 * math.ceil((z[-1] - z[0]) / h) + 1)  # 8 samples per element
    offset = TARGET_OFFSET * resolution.level_span

    with _single_threaded_blas():
        disc_axial = _Discretization(domain, potential_axial, alpha, h, h_pml, order)
        search_radius = SEARCH_RADIUS_FACTOR * resolution.level_span
        end_w_axial = (complex(w_axial[0]), complex(w_axial[-1]))
        axial = _lowest_states(disc_axial, count, search_radius, max_pml_fraction, end_w_axial, _bottom(w_axial))
        if np.any(kc.imag != 0):
            potential = _interpolant(z, w, interpolation)
            disc = _Discretization(domain, potential, alpha, h, h_pml, order)
            # same mesh: the lossless vectors give the lossy E to first order, the shift of the solve
            full = _solved_again(axial, disc, disc.rayleigh_quotients(axial.vectors), offset, z_dense)
            found = ~np.isnan(full.E)
            axial, full = axial.subset(found), full.subset(found)
        else:
            potential, disc, full = potential_axial, disc_axial, axial
        if len(full.E) == 0:
            raise AxialError(
                f"no axially confined state: Re(k_c^2 - k_ref^2) runs from {w.real.min():.4g} to {w.real.max():.4g} "
                f"1/um^2 (ends {end_w[0].real:.4g}, {end_w[1].real:.4g}) and no leaky resonance was found"
            )
        # the same states with a stronger PML and on a refined mesh: error estimates
        stronger = replace(domain, pml=replace(pml, sigma0=PML_CHECK_FACTOR * pml.sigma0))
        E_pml_check = _solved_again(full, _Discretization(stronger, potential, alpha, h, h_pml, order), full.E, offset, z_dense).E
        refined = _Discretization(domain, potential, alpha, h / 2, h_pml / 2, order)
        E_refined = _solved_again(full, refined, full.E, offset, z_dense).E
        residual = disc.residuals(full.E, full.vectors)

    E = full.E
    k = np.sqrt(k_ref**2 + E)
    wavelength_nm = wavelength_nm_from_k(k.real)
    allowed = potential(z_dense).real[None, :] < E.real[:, None]
    q = np.array([_node_count(row, ok) for row, ok in zip(full.profiles(z_dense), allowed)])
    # Im E below the round-off floor or the error estimate of E is no loss
    precision = np.fmax(disc_axial.noise_floor(), np.fmax(np.abs(E_refined - E), np.abs(E_pml_check - E)))
    Q_axial = np.where(np.abs(axial.E.imag) <= precision, np.inf, _quality(np.sqrt(k_ref**2 + axial.E)))
    Q_total = np.where(np.abs(E.imag) <= precision, np.inf, _quality(k))

    return AxialSolution(
        z_um=z,
        k_ref=k_ref,
        alpha=float(alpha),
        end_potential=end_w,
        E=E,
        k=k,
        wavelength_nm=wavelength_nm,
        q=q,
        nodes_match_order=q == np.arange(len(E)),
        confined=E.real < min(end_w[0].real, end_w[1].real),
        E_axial=axial.E,
        Q_axial=Q_axial,
        Q_total=Q_total,
        psi=_normalized(full.profiles(z)),
        spacing_to_next_nm=np.append(wavelength_nm[:-1] - wavelength_nm[1:], np.nan),
        pml_fraction=disc.pml_fractions(full.vectors),
        residual=residual,
        E_refined=E_refined,
        E_pml_check=E_pml_check,
        element_size_um=h,
        order=order,
        points_per_wavelength=points_per_wavelength,
        num_unknowns=disc.num_unknowns,
        interpolation=interpolation,
        pml=pml,
    )
