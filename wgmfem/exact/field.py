"""The radial field profile R(r) of a resonance of a layered cylinder."""

from __future__ import annotations

import numpy as np

from ..geometry import LayeredCylinder
from .bessel import scaled_jy
from .characteristic import p_factor, propagate


def radial_field(cyl: LayeredCylinder, pol: str, m: int, k: complex, r_um) -> np.ndarray:
    """R(r) at radii ``r_um`` (um) for wavenumber ``k`` (1/um), up to a constant factor.

    u = R(r) exp(i m phi) is Ez or Hz according to ``pol``. Evaluated with the
    layer coefficients of :func:`~wgmfem.exact.characteristic.propagate`, in
    scaled form, so it is finite at any order; the outer medium carries the
    outgoing wave C H1_m(k n_out r).
    """
    r = np.atleast_1d(np.asarray(r_um, dtype=float))
    if np.any(r < 0):
        raise ValueError("radii must be >= 0")
    kc = np.asarray([complex(k)])
    inner = propagate(cyl, pol, m, kc, keep_layers=True)
    out = np.zeros(r.shape, complex)
    log_parts = np.full(r.shape, -np.inf)
    bounds = (0.0,) + cyl.radii_um
    for layer in inner.layers:
        j = layer.index
        sel = (r >= bounds[j]) & (r <= bounds[j + 1]) & (log_parts == -np.inf)
        if not np.any(sel):
            continue
        n = cyl.indices[j]
        # r = 0 itself would send the Debye exponent to infinity; the field there is J_m(0) anyway
        b = scaled_jy(m, k * n * np.maximum(r[sel], 1e-9 * cyl.radii_um[0]))
        p = p_factor(pol, n)
        e1 = layer.e_ref[0]
        vals = np.pi / (2 * p) * layer.a_hat[0] * b.j * np.exp(b.e - e1)
        if j > 0:  # the core has no Y_m term (and exp(e1 - e) would overflow near r = 0)
            vals = vals + np.pi / (2 * p) * layer.b_hat[0] * b.y * np.exp(e1 - b.e)
        out[sel], log_parts[sel] = vals, layer.log_scale[0]
    sel = r > cyl.outer_radius_um
    if np.any(sel):
        n = cyl.outside_index
        xb = k * n * cyl.outer_radius_um
        bb, bo = scaled_jy(m, np.array([xb])), scaled_jy(m, k * n * r[sel])
        hb = bb.j * np.exp(2 * bb.e) + 1j * bb.y  # H(x_b) = exp(-e_b) hb
        ho = bo.j * np.exp(2 * bo.e) + 1j * bo.y
        ub, _, lb = inner.layers[-1].state_outer
        out[sel] = ub[0] * ho / hb[0] * np.exp(bb.e[0] - bo.e)
        log_parts[sel] = lb[0]
    finite = np.isfinite(log_parts)
    ref = log_parts[finite].max() if np.any(finite) else 0.0
    with np.errstate(under="ignore"):
        return np.where(finite, out * np.exp(np.where(finite, log_parts, ref) - ref), 0.0)
