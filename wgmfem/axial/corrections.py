"""First-order terms beyond the adiabatic axial equation, added to each axial state's k^2.

The equation alpha Psi'' + (k^2 - k_c(z)^2) Psi = 0 keeps, of the skew modes of the local
fibre, their cutoff k_c and the parabola of their dispersion, k^2 = k_c^2 + alpha beta^2, with
alpha of the reference point. Three terms beyond it are first order in small quantities and are
the expectation values of operators in each state's Psi (beta^2 -> p^2 = -d^2/dz^2):

* the quartic axial dispersion eta beta^4 (:func:`quartic_k2_shifts`): the next term of the
  exact skew dispersion; it grows as 2q^2 + 2q + 1 in a parabolic well, so it changes the
  axial spacings;
* the interface curvature gamma_j r_j''(z) (:func:`curvature_k2_shifts`) and the change of
  alpha along z (:func:`alpha_k2_shifts`). A bulge couples the skew modes beta and beta' of the
  family through its Fourier component at beta - beta'; to first order the coupling is the
  boundary perturbation of each interface j (radius r_j, permittivities eps_in inside and
  eps_out outside, the fields at r_j; :func:`boundary_perturbation`):

      V(beta, beta') = -(k^2 r_j / N) [d_eps E_par(beta)* . E_par(beta') - d_inv D_r(beta)* D_r(beta')] dr_j,

  d_eps = eps_in - eps_out, d_inv = 1/eps_in - 1/eps_out, N = int n^2 |E|^2 r dr (S. G. Johnson
  et al., Phys. Rev. E 65, 066611 (2002), between two modes). Expanded in beta and beta' it is
  d k_c^2 / d r_j + (d alpha / d r_j) (beta^2 + beta'^2) / 2 - c_j (beta - beta')^2 / 2: the first
  term is the equation's potential; the second, (1/2){p^2, d alpha}, is the change of alpha with
  the radii in symmetric order, whose expectation is <d alpha(z) (k^2 - k_c^2) / alpha>; in the
  third, c_j comes from the field components odd in beta (E_phi and D_r of an Ez mode; E_z of
  an Hz mode: c_j beta beta' of the coupling), and (beta - beta')^2 dr_j -> -r_j'' makes it the
  potential gamma_j r_j''(z), gamma_j = c_j / 2. On a 20 nm x 20 um parabolic bottle
  (r'' = -1e-4 / um) the curvature term moves the levels of the m = 50 wall family of an 8 / 9.8 um
  capillary by -1.07e-4 nm (Ez) and -5.9e-5 nm (Hz), where the full-vector FEM finds -1.13e-4 and
  -6.0e-5 nm; a parabola's levels move together, a Gaussian's do not.

With materials whose index follows the wavelength eta, gamma_j and d alpha / d r_j are divided
by the dispersion factor F, as alpha and the cutoff's changes are. N comes from quadrature of the
fields from inside the innermost caustic to the outer turning point; the same N must turn the
even components into the exact cutoff slopes, which is checked (``curvature_johnson_check``):
when it fails (e.g. a leaky mode's outside field makes N ambiguous) the curvature term is not
applied.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.interpolate import CubicSpline

from ..exact.skew import QUARTIC_STEP, SkewError, axial_quartic, skew_secant
from ..exact.skew_field import skew_field
from ..geometry import LayeredCylinder
from ..mode import Mode
from ..units import wavelength_nm_from_k
from .equation import AxialSolution
from .profile import AxialProfile

#: beta / k of the skew mode whose odd field components give the curvature coefficients
CURVATURE_BETA = 1e-3
#: largest relative difference between the boundary-perturbation slopes d k_c^2 / d r_j and the
#: exact ones (on the interface of the larger slope) for the curvature term to be applied
JOHNSON_CHECK_MAX = 1e-2
#: Gauss-Legendre panels of the normalization integral: at most this long (um), 8 nodes each
PANEL_UM = 0.05


def quartic_coefficient(fixed: LayeredCylinder, fixed_mode: Mode, factor: float) -> tuple[float, str]:
    """eta (um^2, divided by the dispersion factor as alpha is) and how it was found or why not."""
    alpha = fixed_mode.axial_curvature
    assert alpha is not None  # an exact beta = 0 mode
    try:
        eta = axial_quartic(fixed, fixed_mode.m, fixed_mode.root_k, alpha) / factor
    except SkewError as exc:
        return math.nan, f"not applied: {exc}"
    return eta, (f"eta beta^4 applied to first order (eta fitted to exact skew roots at beta / k = {QUARTIC_STEP:g}, "
                 f"{2 * QUARTIC_STEP:g}, {3 * QUARTIC_STEP:g})")


def quartic_k2_shifts(solution: AxialSolution, k_c: np.ndarray, eta: float) -> np.ndarray:
    """First-order change of each state's k^2 (1/um^2) by the quartic axial dispersion eta beta^4.

    eta beta^4 with beta^2 -> -d^2/dz^2 adds eta <psi''|psi''> / <psi|psi>, and
    alpha psi'' = (k_c^2 - k^2) psi turns that into eta <((k_c^2 - k^2) / alpha)^2> without a
    second derivative of the solution. In a parabolic well (harmonic states) it is
    eta (c / alpha) (3/4) (2q^2 + 2q + 1)."""
    shifts = []
    for i in range(solution.count):
        kinetic = ((k_c * k_c).real - (solution.k[i] ** 2).real) / solution.alpha
        shifts.append(eta * expectation(solution, i, kinetic**2))
    return np.array(shifts)


def radial_panels(cyl: LayeredCylinder, start_um: float, end_um: float,
                  panel_um: float = PANEL_UM) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights (8 per panel of at most ``panel_um``) on (start_um, end_um),
    panels split at the interfaces: the fields are smooth inside each layer."""
    x, w = np.polynomial.legendre.leggauss(8)
    cuts = [start_um, *[b for b in cyl.radii_um if start_um < b < end_um], end_um]
    nodes, weights = [], []
    for a, b in zip(cuts[:-1], cuts[1:]):
        edges = np.linspace(a, b, max(1, math.ceil((b - a) / panel_um)) + 1)
        for e0, e1 in zip(edges[:-1], edges[1:]):
            nodes.append(0.5 * (e1 - e0) * x + 0.5 * (e1 + e0))
            weights.append(0.5 * (e1 - e0) * w)
    return np.concatenate(nodes), np.concatenate(weights)


def boundary_perturbation(cyl: LayeredCylinder, m: int, k: complex, beta: float) -> list[dict[str, float]]:
    """Per interface (inside out), the first-order change of k^2 of the skew mode (k, beta) per um
    of outward displacement of that interface (1/um^3), split into its terms: ``"Ez"`` and
    ``"Ephi"`` (d_eps |E|^2 of the tangential components) and ``"Dr"`` (-d_inv |D_r|^2); their sum
    is d k(beta)^2 / d r_j at fixed beta."""
    k = complex(k)
    n_max = max(complex(n).real for n in cyl.indices)
    start = 0.8 * m / (k.real * n_max)  # the field has decayed far inside the innermost caustic
    end = max(m / (k.real * cyl.outside_index), cyl.outer_radius_um)  # the outer turning point
    r, w = radial_panels(cyl, start, end)
    radii = np.asarray(cyl.radii_um)
    field = skew_field(cyl, m, k, beta, np.concatenate([r, radii]))  # at r_j: the inside values
    eps = np.array([complex(n).real ** 2 for n in cyl.indices] + [cyl.outside_index**2])
    eps_at = eps[np.searchsorted(radii, r, side="left")]
    norm = float(np.sum(w * eps_at * field.electric_intensity[: len(r)] * r))
    terms = []
    for j, radius in enumerate(radii):
        e_in, e_out = eps[j], eps[j + 1]
        at = len(r) + j
        scale = -(k.real**2) * radius / norm
        terms.append({"Ez": scale * (e_in - e_out) * abs(field.Ez[at]) ** 2,
                      "Ephi": scale * (e_in - e_out) * abs(field.Ephi[at]) ** 2,
                      "Dr": -scale * (1 / e_in - 1 / e_out) * abs(e_in * field.Er[at]) ** 2})
    return terms


#: the boundary-perturbation terms even in beta for each family (the odd ones vanish as beta^2)
EVEN_TERMS = {"Ez": ("Ez",), "Hz": ("Ephi", "Dr")}


def curvature_coefficients(fixed: LayeredCylinder, fixed_mode: Mode,
                           exact_dk2_dr: tuple[float, float]) -> tuple[np.ndarray, float]:
    """gamma_j (1/um) of each interface (bore, outer surface) of the family of ``fixed_mode``, and
    the Johnson check: the largest |boundary-perturbation slope - exact slope| over the interfaces,
    relative to the larger exact slope ``exact_dk2_dr`` (d k_c^2 / d r_j, 1/um^3)."""
    m, k0 = fixed_mode.m, complex(fixed_mode.root_k)
    alpha = fixed_mode.axial_curvature
    assert alpha is not None
    beta = CURVATURE_BETA * k0.real
    k, converged, _ = skew_secant(fixed, m, complex(np.sqrt(k0 * k0 + alpha * beta * beta)), beta)
    if not converged:
        raise SkewError(f"the skew root at beta = {beta:.3g} /um did not converge")
    even_names = EVEN_TERMS[fixed_mode.pol]
    gammas, slopes = [], []
    for terms in boundary_perturbation(fixed, m, k, beta):
        slopes.append(sum(v for name, v in terms.items() if name in even_names))
        gammas.append(0.5 * sum(v for name, v in terms.items() if name not in even_names) / beta**2)
    largest = max(abs(s) for s in exact_dk2_dr)
    check = max(abs(a - b) for a, b in zip(slopes, exact_dk2_dr)) / largest
    return np.array(gammas), float(check)


def expectation(solution: AxialSolution, i: int, values: np.ndarray) -> float:
    """<values>_psi of state i over the profile's z (values on solution.z_um)."""
    weight = np.abs(solution.psi[i]) ** 2
    return float(np.trapezoid(weight * values, solution.z_um) / np.trapezoid(weight, solution.z_um))


def radius_derivatives(profile: AxialProfile, order: int) -> tuple[np.ndarray, np.ndarray]:
    """d^order r_in / dz^order and d^order r_out / dz^order at the profile's z, from the not-a-knot
    cubic spline through the samples (the interpolation of the cutoff's)."""
    return tuple(CubicSpline(profile.z_um, r)(profile.z_um, order)
                 for r in (profile.r_in_um, profile.r_out_um))


def curvature_k2_shifts(profile: AxialProfile, solution: AxialSolution, gammas: np.ndarray) -> np.ndarray:
    """First-order change of each state's k^2 (1/um^2) by the potential sum_j gamma_j r_j''(z)."""
    potential = sum(g * d2 for g, d2 in zip(gammas, radius_derivatives(profile, 2)))
    return np.array([expectation(solution, i, potential) for i in range(solution.count)])


def alpha_k2_shifts(profile: AxialProfile, solution: AxialSolution, k_c: np.ndarray, z_ref_um: float,
                    dalpha_dr: tuple[float, float]) -> np.ndarray:
    """First-order change of each state's k^2 (1/um^2) by the change of alpha along z,
    (1/2){p^2, d alpha(z)} with d alpha(z) = sum_j (d alpha / d r_j)(r_j(z) - r_j(z_ref)): its
    expectation is <d alpha (k^2 - k_c^2) / alpha> (p^2 psi = (k^2 - k_c^2) psi / alpha)."""
    at_ref = [float(np.interp(z_ref_um, profile.z_um, r)) for r in (profile.r_in_um, profile.r_out_um)]
    d_alpha = sum(d * (r - r0) for d, r, r0 in zip(dalpha_dr, (profile.r_in_um, profile.r_out_um), at_ref))
    shifts = []
    for i in range(solution.count):
        kinetic = ((solution.k[i] ** 2).real - (k_c * k_c).real) / solution.alpha
        shifts.append(expectation(solution, i, d_alpha * kinetic))
    return np.array(shifts)


def exact_k2_slopes(k_ref: float, slopes_nm_per_um: dict[str, float]) -> tuple[float, float]:
    """d k_c^2 / d r_in and d r_out (1/um^3) from d lambda_c / d r (nm/um) at k_ref (1/um)."""
    lam_nm = wavelength_nm_from_k(k_ref)
    return (-2 * k_ref * k_ref * slopes_nm_per_um["r_in"] / lam_nm, -2 * k_ref * k_ref * slopes_nm_per_um["r_out"] / lam_nm)


def wavelength_shift_nm(solution: AxialSolution, d_k2: np.ndarray) -> np.ndarray:
    """A first-order change of k^2 (1/um^2) of each state as the change of its wavelength (nm)."""
    k = solution.k.real
    return -wavelength_nm_from_k(k) * d_k2 / (2 * k * k)
