"""Energy per layer, radial maxima and the region label of a resonance, in closed form.

For a cylinder function Z of order m, Lommel's integral
int x Z(x)^2 dx = [x^2 Z'^2 + (x^2 - m^2) Z^2] / 2 gives the electric energy of
every layer from the states (u, v) = (R, p r R') at its two radii, so labelling a
mode costs no quadrature:

* Ez (energy density n^2 |E_z|^2):  int n^2 r R^2 dr = [v^2 + (x^2 - m^2) u^2] / (2 k^2)
* Hz (energy density (|R'|^2 + m^2 R^2 / r^2) / n^2, from E = curl H / (i w eps)):
  int ... r dr = [u v + (n^4 v^2 + (x^2 - m^2) u^2) / (2 n^2)]

(x = k n r). The outer medium is integrated from the surface r_b to the outer
turning point m / (n_out k) plus one wavelength; beyond it the energy belongs to the
radiated wave.

The field is evaluated at real k = Re(k_resonance): exact for the stored energy to
first order in 1/Q, which is what a label needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry import LayeredCylinder
from .bessel import scaled_jy
from .characteristic import layer_zero_counts, propagate, propagate_inward, stitched_layers


@dataclass
class ModeLabels:
    """Per resonance (arrays over the evaluated points)."""

    fractions: np.ndarray  # (n_layers + 1, npts): energy fraction per region, outside last
    region_index: np.ndarray  # layer holding the most energy (n_layers = outside)
    maxima: np.ndarray  # (n_layers, npts): interior maxima of |R| per layer
    zeros: np.ndarray  # (n_layers, npts): zeros of R per layer
    p: np.ndarray  # radial order in the region layer


def lommel_terms(pol: str, k, n, x, m, u, v):
    """Antiderivatives at one radius, for the state (u, v) = (R, p r R'), p = 1 or 1/n^2.

    Returns (weight, energy): Ez: (int n^2 R^2 r dr, the same); Hz: (int R^2 r dr,
    int (R'^2 + m^2 R^2/r^2) r dr / n^2). Unconjugated products: valid at complex k too.
    """
    if pol == "Ez":
        value = (v * v + (x * x - m * m) * u * u) / (2 * k * k)
        return value, value
    rr = n * n * v  # r R'
    weight = (rr * rr + (x * x - m * m) * u * u) / (2 * k * k * n * n)
    energy = u * v + (n**4 * v * v + (x * x - m * m) * u * u) / (2 * n * n)
    return weight, energy


def _boundary_term(pol: str, k, n, x, m, u, v):
    """Lommel boundary term of the electric energy of one layer at one radius, for normalized (u, v)."""
    return lommel_terms(pol, k, n, x, m, u, v)[1]


def _outside_term(pol: str, k, n, x, m, jy, e_ref):
    """Outer-medium boundary term for R = H1_m, relative to |H1_m|^2 at the surface scale e_ref."""
    s = np.exp(2 * jy.e)
    h, dh = jy.j * s + 1j * jy.y, jy.dj * s + 1j * jy.dy  # H = exp(-e) h, H' = exp(-e) dh
    term = 0.5 * (x * x * np.abs(dh) ** 2 + (x * x - m * m) * np.abs(h) ** 2)
    if pol == "Ez":
        term = term / (k * k)
    else:
        term = (term + x * np.real(np.conj(h) * dh)) / (n * n)
    return term * np.exp(2 * (e_ref - jy.e))


def label_modes(cyl: LayeredCylinder, pol: str, m, k_real, inward: bool = False) -> ModeLabels:
    """Energy fractions, region and radial order p at real wavenumbers ``k_real`` (lossless stack).

    ``inward=True``, for resonances whose field the solution carried out from the centre does not
    hold in the outer layers (within machine precision of a pole of the admittance, or strongly
    confined): the energies come from the stitched field (:func:`stitched_layers`: from the
    centre up to the interface where it meets the solution carried in from the outgoing wave,
    from the outside beyond it), the zeros and maxima of the outer layers from the inward one
    (:func:`propagate_inward`). The inward solution alone is no field to weigh: inside an
    evanescent layer it carries a part that grows inwards by orders of magnitude.
    """
    m, k_real = np.broadcast_arrays(np.asarray(m, dtype=int), np.atleast_1d(np.asarray(k_real, dtype=float)))
    forward = propagate(cyl, pol, m, k_real, keep_layers=True).layers
    if inward:
        layers = propagate_inward(cyl, pol, m, k_real)
        weighed, _ = stitched_layers(cyl, pol, m, k_real, forward=forward, inward=layers)
    else:
        layers = weighed = forward
    energies, logs = [], []
    for layer in weighed:
        j = layer.index
        n = cyl.indices[j]
        r2 = cyl.radii_um[j]
        u2, v2, l2 = layer.state_outer
        t2 = _boundary_term(pol, k_real, n, k_real * n * r2, m, u2, v2)
        if j == 0:
            t1, l1 = np.zeros_like(t2), l2  # the core term vanishes at r = 0
        else:
            u1, v1, l1 = layer.state_inner
            t1 = _boundary_term(pol, k_real, n, k_real * n * cyl.radii_um[j - 1], m, u1, v1)
        # E = exp(2 l2) t2 - exp(2 l1) t1, kept as exp(2 l) * (exp(2(l2 - l)) t2 - exp(2(l1 - l)) t1)
        # with l = max(l1, l2), so that neither factor overflows: the field can grow by e^400
        # and more across a layer in either direction (a core mode at m ~ 1e4 seen from outside)
        lref = np.maximum(l1, l2)
        energies.append(np.exp(2 * (l2 - lref)) * t2 - np.exp(2 * (l1 - lref)) * t1)
        logs.append(lref)
    # outside: R = C H1, C = u_b / H1(x_b)
    n_out, rb = cyl.outside_index, cyl.outer_radius_um
    xb = k_real * n_out * rb
    wavelength = 2 * np.pi / (k_real * n_out)
    r_out = np.maximum(rb, m / (k_real * n_out)) + wavelength
    jy_b, jy_o = scaled_jy(m, xb), scaled_jy(m, k_real * n_out * r_out)
    hb2 = np.abs(jy_b.j * np.exp(2 * jy_b.e) + 1j * jy_b.y) ** 2
    ub, _, lb = weighed[-1].state_outer
    t_out = _outside_term(pol, k_real, n_out, k_real * n_out * r_out, m, jy_o, jy_b.e)
    t_b = _outside_term(pol, k_real, n_out, xb, m, jy_b, jy_b.e)
    energies.append(np.abs(ub) ** 2 * (t_out - t_b) / hb2)
    logs.append(lb)
    log_scales = np.array(logs)
    lmax = log_scales.max(axis=0)
    energy = np.array(energies) * np.exp(2 * (log_scales - lmax))
    energy = np.maximum(energy.real, 0.0)  # round-off can leave -1e-17 in an empty layer
    fractions = energy / energy.sum(axis=0)

    zeros, maxima = _zeros_and_maxima(cyl, pol, m, k_real, layers)
    region = np.argmax(fractions, axis=0)
    if inward:
        # The field built from the outside in carries a spurious, inward-growing part where the
        # true field decays inwards (the evanescent inner edge of the guiding layer), which can
        # add a node there; the field built from the centre is accurate up to and through the
        # guiding layer. Count each layer with the solution that grows across it.
        fwd_zeros, fwd_maxima = _zeros_and_maxima(cyl, pol, m, k_real, forward)
        inner = np.arange(cyl.n_layers)[:, None] <= region[None, :]
        zeros = np.where(inner, fwd_zeros, zeros)
        maxima = np.where(inner, fwd_maxima, maxima)
    p = np.ones(k_real.shape, int)
    in_layer = region < cyl.n_layers
    p[in_layer] = np.maximum(1, maxima[region[in_layer], np.nonzero(in_layer)[0]])
    return ModeLabels(fractions, region, maxima, zeros, p)


def _zeros_and_maxima(cyl: LayeredCylinder, pol: str, m, k_real, layers):
    """Zeros of R and interior maxima of |R| per layer (arrays (n_layers, npts)), from the
    layer states of a propagated field, without sampling."""
    zeros = np.array(layer_zero_counts(cyl, m, k_real, layers))
    maxima = np.empty_like(zeros)
    for layer in layers:
        j = layer.index
        u1, v1, _ = layer.state_inner
        u2, v2, _ = layer.state_outer
        n = cyl.indices[j]
        x1 = k_real * n * (cyl.radii_um[j - 1] if j else 0.0)
        x2 = k_real * n * cyl.radii_um[j]
        # |R| is convex where x < m (evanescent) and concave between zeros where x > m, so
        # the first lobe has a maximum iff |R| rises at the inner radius or at the turning
        # point x = m (after a dip: the tail of a neighbour's field, then this layer's own)
        first = np.ones(k_real.shape, bool) if j == 0 else np.real(u1 * v1) > 0
        turning = (x1 < m) & (x2 > m)
        if j > 0 and np.any(turning):
            rising, sign_at_turning = _rising_at_turning_point(pol, n, m, layer)
            # ... unless a zero lies between the inner radius and the turning point (the field
            # changes sign there): then the rising lobe is the second one, already counted
            no_zero_before = sign_at_turning == np.sign(np.real(u1))
            first = first | (turning & rising & no_zero_before)
        last = np.real(u2 * v2) < 0  # |R| falls towards the outer radius
        z = zeros[j]
        count = np.where(z == 0, first & last, (z - 1) + first + last)
        maxima[j] = np.where(x2 <= m, 0, count)  # an evanescent layer has no interior maximum
    return zeros, maxima


def sturm_norm(cyl: LayeredCylinder, pol: str, m, k_real):
    """int_0^{r_b} w R^2 dr for the Sturm-Liouville form (P R')' + (k^2 w - q) R = 0, P R' = v.

    w = n^2 r (Ez) or r (Hz); by Lommel, each layer gives p/(2k^2) [(v/p)^2 + (x^2 - m^2) u^2].
    Returned with the outer state (u_b, v_b), all in one scale, so that
    d(v/u)/d(k^2) = -norm / u_b^2 (Sturm). Real k, lossless stack. The field is that of
    :func:`~wgmfem.exact.characteristic.stitched_layers`, so that at a resonance whose field
    decays outwards through a thick barrier both the norm and the (exponentially small) outer
    state are those of the true field; the common scale is that of the largest layer state
    (u_b may underflow to 0 when the mode's Q is beyond the double range).
    """
    m, k_real = np.broadcast_arrays(np.asarray(m, dtype=int), np.atleast_1d(np.asarray(k_real, dtype=float)))
    layers, _ = stitched_layers(cyl, pol, m, k_real)
    ub, vb, lb = layers[-1].state_outer
    lref = lb
    for layer in layers:
        lref = np.maximum(lref, layer.state_outer[2])
        if layer.index > 0:
            lref = np.maximum(lref, layer.state_inner[2])
    total = np.zeros(k_real.shape)
    for layer in layers:
        j = layer.index
        n = cyl.indices[j]
        p = 1.0 if pol == "Ez" else 1.0 / (n * n)

        def term(x, u, v):
            return p / (2 * k_real**2) * ((v / p) ** 2 + (x * x - m * m) * u * u)  # noqa: B023 - called within this iteration

        u2, v2, l2 = layer.state_outer
        with np.errstate(under="ignore"):
            t = term(k_real * n * cyl.radii_um[j], u2, v2) * np.exp(2 * (l2 - lref))
            if j > 0:
                u1, v1, l1 = layer.state_inner
                t = t - term(k_real * n * cyl.radii_um[j - 1], u1, v1) * np.exp(2 * (l1 - lref))
        total += t
    with np.errstate(under="ignore"):
        scale = np.exp(lb - lref)
    return total, ub * scale, vb * scale


def _rising_at_turning_point(pol: str, n, m, layer) -> tuple[np.ndarray, np.ndarray]:
    """Sign test R R' > 0 at x = m inside a shell, and the sign of R there, from its scaled
    coefficients."""
    b = scaled_jy(m, np.asarray(m, dtype=float) * np.ones(layer.e_ref.shape))  # e(m) = 0
    s = np.exp(2 * np.minimum(layer.e_ref, 0.0))
    # multiply R and R' by exp(e_ref) <= 1 so that neither overflows; the sign is unchanged
    r_val = layer.a_hat * b.j + layer.b_hat * b.y * s
    r_der = layer.a_hat * b.dj + layer.b_hat * b.dy * s
    return np.real(r_val * r_der) > 0, np.sign(np.real(r_val))
