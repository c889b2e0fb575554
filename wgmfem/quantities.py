"""Derived per-mode quantities a laser or sensor design needs, for one exact mode.

* Confinement factor Gamma: fraction of the electric energy in the gain layer.
* Bulk sensitivity S = d lambda / d n_layer (nm per refractive-index unit), the exact
  derivative of the resonance in closed form (:mod:`wgmfem.exact.perturbation`); the
  detection limit resolvable_fraction * lambda / (Q S) and the thermal drift d lambda/dT
  (thermo-optic coefficients and thermal expansion) follow from the same derivatives. For a dispersive liquid whose index is offset uniformly, the
  measured shift is S / (1 - sum_j (d lambda / d n_j)(d n_j / d lambda)).
* Threshold gain from the Q budget: Gamma g_th = 2 pi n F / (Q lambda)
  with F the stored-energy factor of dispersive materials (see :func:`threshold_gain_per_cm`).
* The exact lasing condition: the gain in the layer (a negative imaginary index
  n - i kappa_g) that makes Im k = 0, found by a secant on kappa_g with the complex
  resonance re-solved each time; reported as the intensity gain 2 k0 kappa_g.
"""

from __future__ import annotations

import math

import numpy as np

from .exact.census import find_roots, polish_roots
from .exact.perturbation import index_derivatives
from .geometry import LayeredCylinder
from .units import wavelength_nm_per_k

IM_K_ROUNDING = 8 * 2.2e-16  # |Im k - target| / |k| below this is rounding: the lasing condition holds
DEFAULT_RESOLVABLE_FRACTION = 0.01  # a shift of 1 % of a linewidth resolved (fitted line centre, good SNR)

def _with_index(cyl: LayeredCylinder, j: int, n) -> LayeredCylinder:
    indices = list(cyl.indices)
    indices[j] = n
    return LayeredCylinder(cyl.radii_um, tuple(indices), cyl.outside_index, cyl.names)


def layer_derivatives_nm(mode) -> dict[str, float]:
    """d lambda / d n_j for every layer j at fixed indices elsewhere (nm per RIU), by name.

    The closed-form derivative of the resonance (:func:`wgmfem.exact.perturbation.index_derivatives`):
    exact for leaky and lossy resonances, with relative accuracy however little of the mode
    reaches the layer. Agrees with a central difference of two exact roots to ~1e-7.
    A skew mode (beta != 0) carries its own, from the 4x4 determinant.
    """
    if mode.beta_per_um:
        return dict(mode.verification["dlambda_dn_nm"])
    k = mode.root_k  # the formula is the derivative of a root: a FEM mode's seed
    dk_dn = index_derivatives(mode.cylinder, mode.pol, mode.m, k)
    to_nm = wavelength_nm_per_k(k.real)
    return {name: to_nm * d.real for name, d in zip(mode.cylinder.names, dk_dn)}


def wavelength_derivative_nm(mode, layer: str) -> float:
    """d lambda / d n_layer at fixed indices elsewhere (nm per RIU); see :func:`layer_derivatives_nm`."""
    j = mode.cylinder.layer_of(layer)
    if j >= mode.cylinder.n_layers:
        raise ValueError("the outer medium's index is not a layer index")
    return layer_derivatives_nm(mode)[layer]


def _dispersion_feedback(mode, derivatives: dict[str, float]) -> float:
    """1 - sum_j (d lambda/d n_j)(d n_j/d lambda): a shift dl0 at fixed indices becomes
    dl0 / (this) once every index follows the resonance's own wavelength."""
    slopes = mode.verification.get("dn_dlambda_per_nm") or {}
    return 1 - sum(derivatives[name] * slope for name, slope in slopes.items() if slope and name in derivatives)


def sensitivity_nm_per_riu(mode, layer: str = "core") -> float:
    """Bulk sensitivity d lambda / d n of ``layer`` (nm/RIU): the layer's index offset uniformly,
    including the material-dispersion feedback when the mode was found in a dispersive stack
    (``verification['dn_dlambda_per_nm']``)."""
    if mode.cylinder.layer_of(layer) >= mode.cylinder.n_layers:
        raise ValueError("the outer medium's index is not a layer index")
    derivatives = layer_derivatives_nm(mode)
    return derivatives[layer] / _dispersion_feedback(mode, derivatives)


def detection_limit_riu(mode, resolvable_fraction: float = DEFAULT_RESOLVABLE_FRACTION, layer: str = "core",
                        q: float | None = None) -> float | None:
    """Smallest index change of ``layer`` that moves the resonance by ``resolvable_fraction`` of
    its linewidth: DL = resolvable_fraction * lambda / (Q S), in RIU.

    ``q`` is the loaded Q that sets the linewidth (default: the mode's |Q_total|, which holds
    absorption and any extra loss given). None where the mode does not move (S = 0) or has no
    linewidth (Q infinite).
    """
    if not (0 < resolvable_fraction <= 1):
        raise ValueError(f"the resolvable fraction of a linewidth must be in (0, 1], got {resolvable_fraction!r}")
    q = abs(mode.Q_total) if q is None else q
    s = abs(sensitivity_nm_per_riu(mode, layer))
    if s == 0 or not math.isfinite(q):
        return None  # no shift, or no linewidth to resolve it against
    return resolvable_fraction * mode.wavelength_nm / (q * s)


def thermal_drift_nm_per_K(mode, dn_dT_per_K: dict[str, float], expansion_per_K: float = 0.0) -> float:
    """d lambda / dT of the resonance (nm/K), from the layers' thermo-optic coefficients
    ``dn_dT_per_K`` (by layer name; a missing layer counts as 0) and the linear thermal
    expansion of the glass that sets the geometry (every radius scales with it; the liquid
    fills the bore):

        d lambda/dT = [sum_j S_j dn_j/dT + alpha lambda] / (1 - sum_j S_j dn_j/d lambda),

    S_j = d lambda/d n_j at fixed indices (:func:`layer_derivatives_nm`), alpha lambda the
    shift of a uniformly scaled fibre at fixed indices (Maxwell's equations are scale-free),
    and the denominator the material-dispersion feedback. The outer medium's dn/dT is
    neglected (air: ~1e-6 /K on ~1e-2 of the energy at most).
    """
    unknown = sorted(set(dn_dT_per_K) - set(mode.cylinder.names))
    if unknown:
        raise ValueError(f"no layer called {unknown[0]!r}; layers are {', '.join(mode.cylinder.names)}")
    derivatives = layer_derivatives_nm(mode)
    shift = sum(derivatives[name] * value for name, value in dn_dT_per_K.items() if value)
    shift += expansion_per_K * mode.wavelength_nm
    return shift / _dispersion_feedback(mode, derivatives)


def threshold_gain_per_cm(mode, layer: str = "core") -> float | None:
    """Material gain at threshold from the Q budget, 1/cm, added to the layer as it is:

        Gamma g_th = 2 pi n F / (Q_total lambda),

    negative when the mode already grows (Q_total < 0: the layer holds more gain than the
    threshold by that much),
    with Gamma the electric energy fraction of the gain layer, n its index and F the
    :attr:`~wgmfem.mode.Mode.dispersion_factor` (1 without dispersion). First-order
    perturbation at the real lasing frequency gives dk/k = -i Gamma kappa / n for a gain
    kappa in that layer, and F converts the (dispersive, true) Q back to the decay rate at
    fixed indices. This is the high-Q limit of :func:`lasing_gain_per_cm`. (Equivalently
    2 pi n_g / (Gamma' Q lambda) with the group-index-weighted confinement factor
    Gamma' = Gamma n_g / (n F) of the laser literature.)
    """
    gamma = mode.energy_fractions.get(layer, 0.0)
    if gamma <= 0:
        return None  # no overlap with the layer: no gain there can reach threshold
    if math.isinf(mode.Q_total):
        return 0.0  # no loss to pay for (as lasing_gain_per_cm)
    j = mode.cylinder.layer_of(layer)
    n = complex(mode.cylinder.indices[j]).real
    return 2 * math.pi * n * mode.dispersion_factor / (gamma * mode.Q_total * mode.wavelength_nm * 1e-7)


def lasing_gain_per_cm(mode, layer: str = "core", max_iter: int = 30) -> float | None:
    """Intensity gain added to ``layer`` at which the mode stops decaying, 1/cm: Im k = 0, or
    Im k = +F Re k / (2 Q_extra) when an extra loss is given (the gain also pays for it;
    F: dispersion factor, as Q_extra is a true Q). Negative when the layer already holds
    more gain than that (the mode grows): the same sign as :func:`threshold_gain_per_cm`.

    Solves for kappa_g in n_layer - i kappa_g by a secant on Im k(kappa_g); each step
    re-solves the complex resonance (Newton's method on the analytic, pole-free characteristic
    function from the first-order prediction). The result is then checked: a census of the
    final stack must hold the resonance, paired with a lossless resonance of the same
    (pol, m, nodes). None if the secant does not converge or the check fails.
    """
    cyl = mode.cylinder
    j = cyl.layer_of(layer)
    n0 = complex(cyl.indices[j])
    m = np.array([mode.m])

    gamma = max(mode.energy_fractions.get(layer, 0.0), 1e-6)
    rate = 1j * mode.k.real * gamma / n0.real  # dk/d(kappa_g), first-order perturbation
    state = {"kappa": 0.0}

    def resonance(kappa_g, k_seed):
        if not (math.isfinite(kappa_g) and abs(kappa_g) < n0.real):
            return None, None  # the secant on kappa ran away: no physical answer
        c = _with_index(cyl, j, complex(n0.real, n0.imag - kappa_g))
        k_seed = k_seed + rate * (kappa_g - state["kappa"])  # follow the root to the new gain
        state["kappa"] = kappa_g
        k0 = np.array([k_seed])
        k, ok = polish_roots(c, mode.pol, m, k0, k0 * (1 + 1e-10) + 1e-12j * abs(k_seed), pole_free=True)
        return (complex(k[0]) if ok[0] else None), c

    k_prev = mode.k
    # with an extra loss 1/Q_extra the gain must also pay for it: Im k = +F Re k / (2 Q_extra)
    # at fixed indices (F: dispersion factor; Q_extra is a true, dispersive Q)
    target = mode.dispersion_factor * k_prev.real / (2 * mode.Q_extra)
    if k_prev.imag == target:
        return 0.0
    # first guess from the same first-order rate
    x0, f0 = 0.0, k_prev.imag - target
    x1 = -(k_prev.imag - target) * n0.real / (k_prev.real * gamma)
    k1, _ = resonance(x1, k_prev)
    if k1 is None:
        return None
    f1 = k1.imag - target
    for _ in range(max_iter):
        if f1 == f0:
            break
        x2 = x1 - f1 * (x1 - x0) / (f1 - f0)
        k2, _ = resonance(x2, k1)
        if k2 is None:
            return None
        x0, f0, x1, f1, k1 = x1, f1, x2, k2.imag - target, k2
        # converged: the step is tiny, or Im k sits on its target to the rounding of k (where
        # the secant's steps are noise and need not shrink)
        if abs(x1 - x0) <= 1e-10 * abs(x1) or abs(f1) <= IM_K_ROUNDING * abs(k2):
            break
    else:
        return None
    if not _same_resonance(_with_index(cyl, j, complex(n0.real, n0.imag - x1)), mode, k1):
        return None
    k_vac = 2 * math.pi / (mode.wavelength_nm * 1e-7)  # 1/cm
    return 2 * k_vac * x1


def _same_resonance(cyl: LayeredCylinder, mode, k: complex) -> bool:
    """True if an independently counted census of ``cyl`` around ``k`` holds a resonance at k
    that continues a lossless resonance with the mode's (pol, m, nodes)."""
    if mode.nodes is None:
        return True  # FEM or legacy modes carry no node count: nothing to compare
    half = 1e-5 * k.real
    res = find_roots(cyl, mode.pol, [mode.m], [k.real - half], [k.real + half], q_min=2.0)
    return res.complete and any(abs(r.k - k) <= 1e-8 * abs(k) and r.nodes == mode.nodes for r in res.roots)
