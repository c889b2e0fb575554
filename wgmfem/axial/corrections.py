"""First-order terms beyond the adiabatic axial equation, added to each axial state's k^2.

The equation alpha Psi'' + (k^2 - k_c(z)^2) Psi = 0 keeps, of the skew modes of the local
fibre, their cutoff k_c and the parabola of their dispersion, k^2 = k_c^2 + alpha beta^2. Two
terms beyond it are first order in small quantities and are the expectation values of
operators in each state's Psi (beta^2 -> -d^2/dz^2):

* the quartic axial dispersion eta beta^4 (:func:`quartic_k2_shifts`): the next term of the
  exact skew dispersion; it grows as 2q^2 + 2q + 1 in a parabolic well, so it changes the
  axial spacings;
* the interface curvature gamma_j r_j''(z) (:func:`curvature_k2_shifts`). A bulge couples the
  skew modes beta and beta' of the family through its Fourier component at beta - beta'; to
  first order the coupling is the boundary perturbation of each interface j (radius r_j,
  permittivities eps_in inside and eps_out outside, the fields at r_j):

      V(beta, beta') = -(k^2 r_j / N) [d_eps E_par(beta)* . E_par(beta') - d_inv D_r(beta)* D_r(beta')] dr_j,

  d_eps = eps_in - eps_out, d_inv = 1/eps_in - 1/eps_out, N = int n^2 |E|^2 r dr (S. G. Johnson
  et al., Phys. Rev. E 65, 066611 (2002), between two modes). The field components even in
  beta (E_z of an Ez mode; E_phi, D_r of an Hz mode) give the cutoff's slope d k_c^2 / d r_j,
  which the equation has. Those odd in beta (E_phi, D_r of an Ez mode; E_z of an Hz mode) give
  c_j beta beta' = c_j [(beta^2 + beta'^2) - (beta - beta')^2] / 2: the first half is a change
  of alpha with the radius (left out: 5e-5 of alpha per 50 nm), the second, with
  (beta - beta')^2 dr_j -> -r_j'', the potential gamma_j r_j''(z), gamma_j = c_j / 2. On a 20 nm
  x 20 um parabolic bottle (r'' = -1e-4 / um) it moves the levels of the m = 50 wall family of an
  8 / 9.8 um capillary by -1.07e-4 nm (Ez) and -5.9e-5 nm (Hz), where the full-vector FEM finds
  -1.13e-4 and -6.0e-5 nm; a parabola's levels move together, a Gaussian's do not.

N comes from quadrature of the fields (from inside the innermost caustic to past the outer
turning point); the same normalization must give the exact cutoff slopes from the even
components, which is checked (``curvature_johnson_check``): a leaky mode whose outside field
makes N ambiguous fails it, and its curvature term is then not applied.
"""

from __future__ import annotations

import math

import numpy as np

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
        weight = np.abs(solution.psi[i]) ** 2
        kinetic = ((k_c * k_c).real - (solution.k[i] ** 2).real) / solution.alpha
        shifts.append(eta * np.trapezoid(weight * kinetic**2, solution.z_um) / np.trapezoid(weight, solution.z_um))
    return np.array(shifts)


def _panels(cyl: LayeredCylinder, start_um: float, end_um: float) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on (start_um, end_um), panels split at the interfaces."""
    x, w = np.polynomial.legendre.leggauss(8)
    cuts = [start_um, *[b for b in cyl.radii_um if start_um < b < end_um], end_um]
    nodes, weights = [], []
    for a, b in zip(cuts[:-1], cuts[1:]):
        edges = np.linspace(a, b, max(1, math.ceil((b - a) / PANEL_UM)) + 1)
        for e0, e1 in zip(edges[:-1], edges[1:]):
            nodes.append(0.5 * (e1 - e0) * x + 0.5 * (e1 + e0))
            weights.append(0.5 * (e1 - e0) * w)
    return np.concatenate(nodes), np.concatenate(weights)


def curvature_coefficients(fixed: LayeredCylinder, fixed_mode: Mode,
                           exact_dk2_dr: tuple[float, float]) -> tuple[np.ndarray, float]:
    """gamma_j (1/um) of each interface (bore, outer surface) of the family of ``fixed_mode``, and
    the Johnson check: the largest |boundary-perturbation slope / exact slope - 1| over the
    interfaces, relative to the larger exact slope ``exact_dk2_dr`` (d k_c^2 / d r_j, 1/um^3)."""
    m, k0 = fixed_mode.m, complex(fixed_mode.root_k)
    alpha = fixed_mode.axial_curvature
    assert alpha is not None
    beta = CURVATURE_BETA * k0.real
    k, converged, _ = skew_secant(fixed, m, complex(np.sqrt(k0 * k0 + alpha * beta * beta)), beta)
    if not converged:
        raise SkewError(f"the skew root at beta = {beta:.3g} /um did not converge")
    n_max = max(complex(n).real for n in fixed.indices)
    start = 0.8 * m / (k.real * n_max)  # the field has decayed far inside the innermost caustic
    end = max(m / (k.real * fixed.outside_index), fixed.outer_radius_um) + 2 * math.pi / k.real
    r, w = _panels(fixed, start, end)
    radii = np.asarray(fixed.radii_um)
    field = skew_field(fixed, m, k, beta, np.concatenate([r, radii]))  # at r_j: the inside values
    eps = np.array([complex(n).real ** 2 for n in fixed.indices] + [fixed.outside_index**2])
    eps_at = eps[np.searchsorted(radii, r, side="left")]
    norm = float(np.sum(w * eps_at * field.electric_intensity[: len(r)] * r))
    gammas, slopes = [], []
    for j, radius in enumerate(radii):
        e_in, e_out = eps[j], eps[j + 1]
        d_eps, d_inv = e_in - e_out, 1 / e_in - 1 / e_out
        at = len(r) + j
        tangential = (abs(field.Ez[at]) ** 2, abs(field.Ephi[at]) ** 2)
        normal = abs(e_in * field.Er[at]) ** 2
        if fixed_mode.pol == "Ez":
            even, odd = d_eps * tangential[0], d_eps * tangential[1] - d_inv * normal
        else:
            even, odd = d_eps * tangential[1] - d_inv * normal, d_eps * tangential[0]
        scale = -(k.real**2) * radius / norm
        slopes.append(scale * even)
        gammas.append(0.5 * scale * odd / beta**2)
    largest = max(abs(s) for s in exact_dk2_dr)
    check = max(abs(a - b) for a, b in zip(slopes, exact_dk2_dr)) / largest
    return np.array(gammas), float(check)


def curvature_k2_shifts(profile: AxialProfile, solution: AxialSolution, gammas: np.ndarray) -> np.ndarray:
    """First-order change of each state's k^2 (1/um^2) by the potential sum_j gamma_j r_j''(z)
    (r_j'' by differences of the profile's radii)."""
    potential = np.zeros_like(profile.z_um)
    for gamma, radius in zip(gammas, (profile.r_in_um, profile.r_out_um)):
        potential += gamma * np.gradient(np.gradient(radius, profile.z_um), profile.z_um)
    shifts = []
    for i in range(solution.count):
        weight = np.abs(solution.psi[i]) ** 2
        shifts.append(np.trapezoid(weight * potential, profile.z_um) / np.trapezoid(weight, profile.z_um))
    return np.array(shifts)


def exact_k2_slopes(k_ref: float, slopes_nm_per_um: dict[str, float]) -> tuple[float, float]:
    """d k_c^2 / d r_in and d r_out (1/um^3) from d lambda_c / d r (nm/um) at k_ref (1/um)."""
    lam_nm = wavelength_nm_from_k(k_ref)
    return (-2 * k_ref * k_ref * slopes_nm_per_um["r_in"] / lam_nm, -2 * k_ref * k_ref * slopes_nm_per_um["r_out"] / lam_nm)
