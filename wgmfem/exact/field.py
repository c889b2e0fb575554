"""The radial field profile R(r) of a resonance of a layered cylinder."""

from __future__ import annotations

import numpy as np

from ..geometry import LayeredCylinder
from .bessel import scaled_jy
from .characteristic import p_factor, stitched_layers


def radial_field(cyl: LayeredCylinder, pol: str, m: int, k: complex, r_um, derivative: bool = False):
    """R(r) at radii ``r_um`` (um) for wavenumber ``k`` (1/um), up to a constant factor;
    with ``derivative=True`` the pair (R, dR/dr) with the same factor (1/um for dR/dr).

    u = R(r) exp(i m phi) is Ez or Hz according to ``pol``. Evaluated with the layer
    coefficients of :func:`~wgmfem.exact.characteristic.stitched_layers` (the regular
    solution carried out from the centre; at a resonance whose field decays outwards
    through a thick barrier, the solution carried in from the outgoing wave beyond the
    interface where the two meet), in scaled form with a log-scale per point, so it is
    finite at any order; the outer medium carries the outgoing wave C H1_m(k n_out r).
    """
    r = np.atleast_1d(np.asarray(r_um, dtype=float))
    if np.any(r < 0):
        raise ValueError("radii must be >= 0")
    k = complex(k)
    if k.imag == 0 and cyl.is_lossless:
        k = k.real  # real Bessel arguments: the same values at a fifth of the cost
    layers, _ = stitched_layers(cyl, pol, m, np.asarray([k]))
    mantissa = np.zeros(r.shape, complex)
    slope = np.zeros(r.shape, complex)  # dR/dr, same log-scale as the mantissa
    logs = np.full(r.shape, -np.inf)
    bounds = (0.0,) + cyl.radii_um
    for layer in layers:
        j = layer.index
        sel = (r >= bounds[j]) & (r <= bounds[j + 1]) & (logs == -np.inf)
        if not np.any(sel):
            continue
        n = cyl.indices[j]
        # r = 0 itself would send the Debye exponent to infinity; the field there is J_m(0) anyway
        b = scaled_jy(m, k * n * np.maximum(r[sel], 1e-9 * cyl.radii_um[0]))
        c = np.pi / (2 * p_factor(pol, n))
        e_ref = layer.e_ref[0]
        q = k * n  # d/dr = q d/dx
        if j == 0:  # the core has no Y_m term (and exp(e_ref - e) would overflow near r = 0)
            vals, lg = c * layer.a_hat[0] * b.j, b.e - e_ref
            dvals = c * q * layer.a_hat[0] * b.dj
        else:
            # R = a_hat j exp(e - e_ref) + b_hat y exp(e_ref - e): either exponent may exceed the
            # double range, so the larger one is kept as the point's log-scale
            lj, ly = b.e - e_ref, e_ref - b.e
            lg = np.maximum(lj, ly)
            with np.errstate(under="ignore"):
                wj, wy = np.exp(lj - lg), np.exp(ly - lg)
                vals = c * (layer.a_hat[0] * b.j * wj + layer.b_hat[0] * b.y * wy)
                dvals = c * q * (layer.a_hat[0] * b.dj * wj + layer.b_hat[0] * b.dy * wy)
        mantissa[sel], slope[sel], logs[sel] = vals, dvals, layer.log_scale[0] + lg
    sel = r > cyl.outer_radius_um
    if np.any(sel):
        n = cyl.outside_index
        xb = k * n * cyl.outer_radius_um
        bb, bo = scaled_jy(m, np.array([xb])), scaled_jy(m, k * n * r[sel])
        hb = bb.j * np.exp(2 * bb.e) + 1j * bb.y  # H(x_b) = exp(-e_b) hb
        ho = bo.j * np.exp(2 * bo.e) + 1j * bo.y
        dho = bo.dj * np.exp(2 * bo.e) + 1j * bo.dy
        ub, _, lb = layers[-1].state_outer
        mantissa[sel] = ub[0] * ho / hb[0]
        slope[sel] = ub[0] * k * n * dho / hb[0]
        logs[sel] = lb[0] + bb.e[0] - bo.e
    if derivative:
        both = _rescale(np.concatenate([mantissa, slope]), np.concatenate([logs, logs]))
        return both[: r.size], both[r.size:]
    return _rescale(mantissa, logs)


def _rescale(mantissa: np.ndarray, logs: np.ndarray) -> np.ndarray:
    """mantissa * exp(logs), divided by one common factor so that the largest value is O(1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = logs + np.log(np.abs(mantissa))
    finite = np.isfinite(magnitude)
    ref = magnitude[finite].max() if np.any(finite) else 0.0
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        out = mantissa * np.exp(np.where(finite, logs - ref, 0.0))
    return np.where(finite, out, 0.0)
