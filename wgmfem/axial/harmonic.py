"""The local harmonic estimate of a family's axial states where its cutoff along a profile is deepest.

Near the deepest point z0 (the widest point when both radii bulge together) the cutoff of the
family (pol, m, p, region) is k_c(z)^2 ~ k_c0^2 + c (z - z0)^2,
c = k_c0 (dk_c/dr_in r_in'' + dk_c/dr_out r_out''), and the axial equation alpha Psi'' + (k^2 - k_c(z)^2) Psi = 0 is a harmonic oscillator:

    k_q^2 = k_c0^2 + sqrt(alpha c) (2 q + 1),   Psi_q ~ H_q(x) exp(-x^2 / 2),  x = (z - z0) / w,
    w = (alpha / c)^(1/4).

It needs only the exact cross-section mode at z0 and the cutoff's derivatives there, so it holds
where following the family along the whole profile does not (a um-scale microbubble, whose
family meets wall modes of the same m on its flanks). It is what the axisymmetric FEM is shifted
to and windowed by in that case, and what its results are compared with; it is not a result
itself (it drops the anharmonic part of k_c(z) and everything non-adiabatic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite import hermval

from ..geometry import LayeredCylinder, MaterialStack
from ..mode import Mode
from ..units import wavelength_nm_from_k
from .equation import AxialError
from .modes import reference_mode
from .profile import AxialProfile

#: samples each side of the maximum in the first quadratic fit of the radii
FIT_HALF_POINTS = 3
#: the fit of the radii is redone over this many widths w each side of the maximum
FIT_WIDTHS = 2.0


@dataclass(frozen=True)
class HarmonicStates:
    """Harmonic estimate of the axial states q = 0 .. count-1 of one family where its cutoff is deepest."""

    reference: Mode  # the exact cross-section mode at z0
    z0_um: float
    curvature_per_um4: float  # c in k_c^2 ~ k_c0^2 + c (z - z0)^2 (1/um^4)
    alpha: float
    k: tuple[complex, ...]  # k_q (1/um); Im k from the cross-section mode
    width_um: float  # w = (alpha / c)^(1/4)

    @property
    def wavelength_nm(self) -> np.ndarray:
        return wavelength_nm_from_k(np.array([k.real for k in self.k]))

    @property
    def spacing_nm(self) -> float:
        """Wavelength spacing of neighbouring states (nm), from q = 0 to 1."""
        lam = self.wavelength_nm
        return float(lam[0] - lam[1]) if len(lam) > 1 else math.nan

    def shortest_axial_wavelength_um(self) -> float:
        """2 pi / beta at z0 of the highest state, beta^2 = (k^2 - k_c0^2) / alpha (um)."""
        energy = self.k[-1].real ** 2 - self.reference.k.real**2
        return 2 * math.pi / math.sqrt(energy / self.alpha)

    def extent_um(self, decay: float) -> tuple[float, float]:
        """Heights (um) beyond which every state has fallen by e^-decay of its maximum."""
        x = np.linspace(-4 * math.sqrt(decay + len(self.k)), 4 * math.sqrt(decay + len(self.k)), 4001)
        inside = np.zeros(x.size, dtype=bool)
        for q in range(len(self.k)):
            psi = np.abs(hermval(x, [0] * q + [1]) * np.exp(-0.5 * x**2))
            inside |= psi > math.exp(-decay) * psi.max()
        idx = np.flatnonzero(inside)
        return self.z0_um + self.width_um * x[idx[0] - 1], self.z0_um + self.width_um * x[idx[-1] + 1]


def _radius_curvatures(z: np.ndarray, radii: tuple[np.ndarray, np.ndarray], i0: int, half_width_um: float | None) -> tuple[float, float]:
    """Second derivatives (1/um) of (r_in, r_out) at sample i0, by a quadratic fit around it."""
    if half_width_um is None:
        sel = slice(max(i0 - FIT_HALF_POINTS, 0), i0 + FIT_HALF_POINTS + 1)
    else:
        inside = np.flatnonzero(np.abs(z - z[i0]) <= half_width_um)
        sel = slice(min(inside[0], i0 - FIT_HALF_POINTS), max(inside[-1], i0 + FIT_HALF_POINTS) + 1)
        sel = slice(max(sel.start, 0), sel.stop)
    zs = z[sel] - z[i0]
    if zs.size < 3 or zs.min() >= 0 or zs.max() <= 0:
        raise AxialError("the deepest cutoff of the profile lies at its end: there is no bulge to hold axial states")
    return tuple(2.0 * float(np.polyfit(zs, r[sel], 2)[0]) for r in radii)  # type: ignore[return-value]


def _reference(cylinder: LayeredCylinder | MaterialStack, r_in: float, r_out: float, pol: str, m: int, p: int,
               region: str | None) -> tuple[Mode, dict[str, float]]:
    """The exact cross-section mode at the radii (r_in, r_out) and dk_c/dr_in, dk_c/dr_out there
    (1/um^2; at the indices of the resonance, divided by its dispersion factor F)."""
    reference, _, slopes = reference_mode(cylinder, r_in, r_out, pol, m, p, region)  # slopes in nm/um
    k0 = reference.k.real
    factor = reference.dispersion_factor
    return reference, {name: -k0 / wavelength_nm_from_k(k0) * s / factor for name, s in slopes.items()}


def harmonic_states(profile: AxialProfile, cylinder: LayeredCylinder | MaterialStack, *, pol: str = "Ez", m: int,
                    p: int = 1, region: str | None = None, count: int = 3) -> HarmonicStates:
    """The harmonic estimate of the ``count`` lowest axial states of (pol, m, p, region) at the
    profile's sample where the family's cutoff is deepest (the widest point, or the sample where
    the cutoff is least to first order in the radii from there, whichever has the lower exact
    cutoff); materials from ``cylinder``.

    With dispersive materials the cutoff's curvature is taken at the indices of the reference
    resonance and divided by its dispersion factor F (as alpha is), as in the adiabatic equation."""
    if profile.core_index is not None:
        raise AxialError("the harmonic estimate takes a constant core index")
    z = profile.z_um
    i0 = int(np.argmax(profile.r_out_um + 1e-9 * profile.r_in_um))
    if profile.r_in_um[i0] <= 0:
        raise AxialError(f"the profile is solid at its widest point (z = {profile.z_um[i0]:g} um): the estimate "
                         "starts from a capillary's cross-section there")
    reference, dk_dr = _reference(cylinder, float(profile.r_in_um[i0]), float(profile.r_out_um[i0]), pol, m, p, region)
    # where the cutoff, to first order in the radii, is deepest; kept if its exact cutoff is lower
    deepest = int(np.argmin(dk_dr["r_in"] * profile.r_in_um + dk_dr["r_out"] * profile.r_out_um))
    if deepest != i0:
        other = _reference(cylinder, float(profile.r_in_um[deepest]), float(profile.r_out_um[deepest]), pol, m, p,
                           region)
        if other[0].k.real < reference.k.real:
            i0, (reference, dk_dr) = deepest, other
    k0 = reference.k.real
    alpha = reference.axial_curvature
    if alpha is None or not alpha > 0:
        raise AxialError(f"no axial curvature for {reference.label()}")
    width: float | None = None
    for _ in range(3):  # the fit range follows the states' width
        d2_in, d2_out = _radius_curvatures(z, (profile.r_in_um, profile.r_out_um), i0,
                                           None if width is None else FIT_WIDTHS * width)
        c = k0 * (dk_dr["r_in"] * d2_in + dk_dr["r_out"] * d2_out)
        if not c > 0:
            raise AxialError(f"the cutoff of {reference.label()} has no minimum at its deepest point "
                             f"(z = {z[i0]:g} um): no axially confined state there")
        width = (alpha / c) ** 0.25
    assert width is not None
    energies = math.sqrt(alpha * c) * (2 * np.arange(count) + 1)
    ks = tuple(complex(math.sqrt(k0**2 + e), reference.k.imag) for e in energies)
    return HarmonicStates(reference, float(z[i0]), c, float(alpha), ks, width)
