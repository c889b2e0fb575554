"""How a resonance moves when the index of one layer changes: dk/dn_j in closed form.

The exact first-order shift of a resonance (the Hellmann-Feynman theorem for the radial
equation, valid for leaky and lossy resonances alike) needs the field's *unconjugated*
square integrated over the whole plane, the outgoing wave included. Outside the fibre
R = C H1_m(k n_out r) grows exponentially when Im k < 0; its integral is defined by analytic
continuation from Im k > 0, where Lommel's antiderivative vanishes at infinity, so the outside
integral is minus that antiderivative at the surface r_b (the resonant-state normalization).
Every layer integral is a Lommel boundary term of the states (u, v) at its radii, so the shift
costs one field evaluation and no quadrature:

* Ez (R'' + R'/r + (k^2 n^2 - m^2/r^2) R = 0):
  dk/dn_j = -k n_j I_j / N,  I_j = int_j R^2 r dr,  N = sum_i n_i^2 I_i (outside included);
* Hz ((1/r)(r R'/n^2)' + (k^2 - m^2/(n^2 r^2)) R = 0):
  dk/dn_j = -E_j / (k n_j M),  E_j = int_j (R'^2 + m^2 R^2 / r^2) r dr / n_j^2,
  M = sum_i int_i R^2 r dr (outside included).

For a lossless, confined resonance both reduce to dk/dn_j = -k Gamma_j / n_j with Gamma_j the
fraction of the electric energy in layer j; the closed form keeps relative accuracy where
Gamma_j is 1e-10 (a thick-wall mode seen from the liquid), which a difference of two roots
cannot. Units: k in 1/um, lengths in um.
"""

from __future__ import annotations

import numpy as np

from ..geometry import LayeredCylinder
from ..polarization import normalize_pol
from .characteristic import stitched_layers
from .energy import lommel_terms


def index_derivatives(cyl: LayeredCylinder, pol: str, m: int, k: complex) -> np.ndarray:
    """dk/dn_j (1/um per RIU) for every layer j of ``cyl`` at the resonance ``k`` of (pol, m).

    ``k`` must be a resonance (a root of the characteristic function): the formula is the
    derivative of that root. Complex in general; real parts of the derivative of Re k.
    """
    pol = normalize_pol(pol)
    k = complex(k)
    layers, _ = stitched_layers(cyl, pol, np.array([m]), np.array([k]))
    weights, energies, logs = [], [], []
    for layer in layers:
        j = layer.index
        n = complex(cyl.indices[j])
        u2, v2, l2 = (a[0] for a in layer.state_outer)
        w2, e2 = lommel_terms(pol, k, n, k * n * cyl.radii_um[j], m, u2, v2)
        if j == 0:
            w1 = e1 = 0.0  # every term vanishes at r = 0
            l1 = l2
        else:
            u1, v1, l1 = (a[0] for a in layer.state_inner)
            w1, e1 = lommel_terms(pol, k, n, k * n * cyl.radii_um[j - 1], m, u1, v1)
        # difference of the two radii kept as exp(2 lref) * (...) so that neither factor overflows
        lref = max(l1, l2)
        weights.append(np.exp(2 * (l2 - lref)) * w2 - np.exp(2 * (l1 - lref)) * w1)
        energies.append(np.exp(2 * (l2 - lref)) * e2 - np.exp(2 * (l1 - lref)) * e1)
        logs.append(lref)
    # outside: the continued integral from r_b to infinity is minus the antiderivative at r_b
    ub, vb, lb = (a[0] for a in layers[-1].state_outer)
    n_out = complex(cyl.outside_index)
    w_out, _ = lommel_terms(pol, k, n_out, k * n_out * cyl.outer_radius_um, m, ub, vb)
    log_scales = np.array(logs + [lb])
    scale = np.exp(2 * (log_scales - log_scales.max()))
    weights = np.array(weights + [-w_out]) * scale
    energies = np.array(energies + [0.0]) * scale
    norm = weights.sum()
    indices = np.array([complex(x) for x in cyl.indices])
    if pol == "Ez":
        return -k * weights[:-1] / (indices * norm)
    return -energies[:-1] / (k * indices * norm)
