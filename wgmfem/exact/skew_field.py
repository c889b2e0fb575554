"""The six field components of a skew resonance (any beta, beta = 0 included).

At a root k of the 4x4 determinant (:mod:`wgmfem.exact.skew`) its null vector c gives the
amplitudes of the two regular columns and of the two outgoing waves. Inside layer j each
column is carried from the layer's inner radius by the scaled shell transfer (Ez and Hz
separately), outside the outgoing waves are H1_m(kt r) / H1_m(kt r_b); then, with Z0 = 1,

    E_phi = -(i k vH + beta m Ez) / (kt^2 r),   H_phi = (i k n^2 vE - beta m Hz) / (kt^2 r),
    E_r = (beta H_phi - m Hz / r) / (k n^2),    H_r = (m Ez / r - beta E_phi) / k,

(vE = r dEz/dr, vH = r dHz/dr), from curl E = i k H and curl H = -i k n^2 E for fields
~ exp(i m phi + i beta z). The outward columns carry the error that rounding injects into
a field decaying through a thick barrier, like the beta = 0 forward solution: checked on the
paper's capillary at m = 600 (the scalar profile to 1e-9 at beta = 0, energy fractions to ~1e-9
at beta = 0.5, tests/test_skew_field.py); thicker barriers or higher m are not checked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..geometry import LayeredCylinder
from .bessel import scaled_jy
from .skew import scalar_states, shell_transfer, skew_columns, transverse_wavenumber

COMPONENTS = ("Er", "Ephi", "Ez", "Hr", "Hphi", "Hz")


@dataclass
class SkewField:
    """Complex field components at the radii ``r_um`` (units with Z0 = 1: H in units of E),
    normalized so that the largest |E| inside the fibre is 1 and real there."""

    r_um: np.ndarray
    Er: np.ndarray
    Ephi: np.ndarray
    Ez: np.ndarray
    Hr: np.ndarray
    Hphi: np.ndarray
    Hz: np.ndarray

    @property
    def electric_intensity(self) -> np.ndarray:
        return np.abs(self.Er) ** 2 + np.abs(self.Ephi) ** 2 + np.abs(self.Ez) ** 2


def _null_vector(cyl: LayeredCylinder, m: int, k: complex, beta: float):
    cols = skew_columns(cyl, m, np.array([k]), beta, keep_layers=True)
    matrix = np.concatenate([cols.inner, cols.outer], axis=1)[:, :, 0]
    _, _, vh = np.linalg.svd(matrix)
    return cols, vh[-1].conj()


def skew_field(cyl: LayeredCylinder, m: int, k: complex, beta_per_um: float, r_um) -> SkewField:
    """Er, Ephi, Ez, Hr, Hphi, Hz of the resonance at ``k`` (1/um) at radii ``r_um`` (um, >= 0)."""
    beta = float(beta_per_um)
    r = np.atleast_1d(np.asarray(r_um, dtype=float))
    cols, c = _null_vector(cyl, m, complex(k), beta)
    log_b = cols.log_scale[:, 0]
    states = [np.zeros(r.shape, complex) for _ in range(4)]  # Ez, vE, Hz, vH
    index = np.array([_layer_of(cyl, x) for x in r])
    for j in range(cyl.n_layers + 1):
        sel = index == j
        if not np.any(sel):
            continue
        rs = np.maximum(r[sel], 1e-9 * cyl.outer_radius_um)
        n = cyl.outside_index if j == cyl.n_layers else cyl.indices[j]
        kt = complex(transverse_wavenumber(n, k, beta))
        x = kt * rs
        b = scaled_jy(m, x)
        if j == 0:  # column 0: Ez = J, column 1: Hz = J (physical, per the core normalization)
            for col, (u_slot, v_slot) in enumerate(((0, 1), (2, 3))):
                weight = c[col] * np.exp(b.e - log_b[col])
                states[u_slot][sel] += weight * b.j
                states[v_slot][sel] += weight * x * b.dj
        elif j < cyl.n_layers:
            r1 = cyl.radii_um[j - 1]
            kt2 = n * n * k * k - beta * beta
            x1 = kt * r1
            b1 = scaled_jy(m, np.array([x1]))
            start, log_start = cols.layers[j - 1]
            for col in range(2):
                ez, vez, hz, vhz = scalar_states(k, n, kt2, beta, m, r1, start[:, col, 0])
                weight = c[col] * np.exp(log_start[col, 0] - log_b[col] + b.e - b1.e[0])
                u, v = shell_transfer(ez, vez, b1, b, x1, x)
                states[0][sel] += weight * u
                states[1][sel] += weight * v
                u, v = shell_transfer(hz, vhz, b1, b, x1, x)
                states[2][sel] += weight * u
                states[3][sel] += weight * v
        else:  # outside: -(c3 Ez-wave + c4 Hz-wave), each H1(kt r) / H1(kt r_b)
            xb = kt * cyl.outer_radius_um
            bb = scaled_jy(m, np.array([xb]))
            h = b.j * np.exp(2 * b.e) + 1j * b.y  # H1 exp(e)
            dh = b.dj * np.exp(2 * b.e) + 1j * b.dy
            hb = bb.j[0] * np.exp(2 * bb.e[0]) + 1j * bb.y[0]
            ratio = np.exp(bb.e[0] - b.e) / hb
            states[0][sel] = -c[2] * h * ratio
            states[1][sel] = -c[2] * x * dh * ratio
            states[2][sel] = -c[3] * h * ratio
            states[3][sel] = -c[3] * x * dh * ratio
    return _components(cyl, m, complex(k), beta, r, index, states)


def _layer_of(cyl: LayeredCylinder, r: float) -> int:
    for j, radius in enumerate(cyl.radii_um):
        if r <= radius:
            return j
    return cyl.n_layers


def _components(cyl, m, k, beta, r, index, states) -> SkewField:
    ez, vez, hz, vhz = states
    n = np.array([cyl.outside_index if j == cyl.n_layers else cyl.indices[j] for j in index], dtype=complex)
    kt2 = n * n * k * k - beta * beta
    rs = np.maximum(r, 1e-9 * cyl.outer_radius_um)
    e_phi = -(1j * k * vhz + beta * m * ez) / (kt2 * rs)
    h_phi = (1j * k * n * n * vez - beta * m * hz) / (kt2 * rs)
    e_r = (beta * h_phi - m * hz / rs) / (k * n * n)
    h_r = (m * ez / rs - beta * e_phi) / k
    inside = r <= cyl.outer_radius_um
    intensity = np.abs(e_r) ** 2 + np.abs(e_phi) ** 2 + np.abs(ez) ** 2
    peak = int(np.argmax(np.where(inside, intensity, -1.0)))
    # normalize by the largest |E|, with the phase of its largest component
    components = (e_r, e_phi, ez)
    big = components[int(np.argmax([abs(comp[peak]) for comp in components]))][peak]
    scale = np.sqrt(intensity[peak]) * big / abs(big)
    return SkewField(r, e_r / scale, e_phi / scale, ez / scale, h_r / scale, h_phi / scale, hz / scale)
