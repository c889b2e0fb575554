"""Radial perfectly matched layer (PML) by complex coordinate stretching.

Shared by the 1-D radial solver and the 2-D cross-section solver, so nothing
here knows about meshes: it only maps real radii (um) to complex stretching
data.

Profile
-------
Beyond ``r_start_um`` the radius is continued into the complex plane,

    xi(r)  = (r - r_start) / d                   (0 <= xi, d = width_um)
    s(r)   = d r~/dr = 1 + i * sigma0 * xi**q      (q = ``power``, default 2)
    r~(r)  = r + i * sigma0 * d * xi**(q+1) / (q+1)

and s = 1, r~ = r for r <= r_start. With q = 2 both s and ds/dr are
continuous at r_start (no numerical reflection from a kink). ``sigma0`` is
dimensionless: the peak imaginary part of the stretching factor.
With time dependence exp(-i omega t), an outgoing wave exp(i k n r) becomes
exp(i k n r~) and decays by exp(-k n Im r~) in the layer (Im r~ > 0).

Equations in stretched cylindrical coordinates
----------------------------------------------
Replace r by r~ and d/dr by (1/s) d/dr in the operator, then multiply by r~ s
so that the real measure dr (1-D) or r dr dphi (2-D) can be used:

* 1-D, u = R(r) exp(i m phi), weight a (Ez: a = 1; Hz: a = 1/n^2) and b
  (Ez: b = n^2; Hz: b = 1):

      A(R, v) = int a * ( (r~/s) R' v' + m^2 (s/r~) R v ) dr
      B(R, v) = int b * r~ s R v dr,                 A x = k^2 B x.

  Outside the PML (s = 1, r~ = r) this is the r-weighted form
  int a (r R' v' + m^2/r R v) dr, int b r R v dr.

* 2-D, on the Cartesian mesh with the real measure dx dy:

      A(u, v) = int a * (Lambda grad u) . grad v dx,
      B(u, v) = int b * (s r~ / r) u v dx,
      Lambda  = Rot(phi) diag(r~/(r s), r s/r~) Rot(phi)^T,

  i.e. Lambda_rr = r~/(r s) along e_r and Lambda_phiphi = r s/r~ along e_phi.
  :meth:`RadialPML.tensor_2d` returns these three factors.

Both forms are complex *symmetric* (not Hermitian); the mass matrix B is no
longer positive definite inside the layer.

Defaults
--------
:func:`make_pml` places the layer after the outer turning point
r_turn = m / (n_out k) of the azimuthal order (an outgoing wave is evanescent
inside r_turn and its radial wavenumber is small just beyond it, so a layer
there absorbs poorly), one outside wavelength further out, with a width of
2 outside wavelengths and sigma0 chosen for a round-trip reflection of 1e-12
(``reflection``) from the Dirichlet wall at the end, estimated by WKB for the
order m (:meth:`RadialPML.reflection`): near the turning point the radial
wavenumber is small and a plane-wave estimate would be far too optimistic.
With large sigma0 the field varies on the scale 1/(k n |s|): solvers should
grade the mesh with |s(r)| (the 1-D solver does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Default PML parameters, in outside wavelengths (lambda / n_out).
DEFAULT_GAP_WAVELENGTHS = 1.0
DEFAULT_WIDTH_WAVELENGTHS = 2.0
DEFAULT_REFLECTION = 1e-12
DEFAULT_POWER = 2


@dataclass(frozen=True)
class RadialPML:
    """A radial PML from ``r_start_um`` to ``r_start_um + width_um``.

    Parameters
    ----------
    r_start_um : radius (um) where the stretching begins.
    width_um : thickness d of the layer (um).
    sigma0 : peak imaginary stretching, Im s(r_end) (dimensionless).
    power : exponent q of the profile Im s = sigma0 * xi**q.
    """

    r_start_um: float
    width_um: float
    sigma0: float
    power: int = DEFAULT_POWER

    def __post_init__(self):
        if not (self.r_start_um > 0 and self.width_um > 0):
            raise ValueError(f"PML start and width must be positive um, got {self.r_start_um}, {self.width_um}")
        if not self.sigma0 >= 0:
            raise ValueError(f"PML strength sigma0 must be >= 0, got {self.sigma0}")
        if self.power < 0:
            raise ValueError(f"PML power must be >= 0, got {self.power}")

    @property
    def r_end_um(self) -> float:
        return self.r_start_um + self.width_um

    def _xi(self, r_um):
        return np.clip((np.asarray(r_um, dtype=float) - self.r_start_um) / self.width_um, 0.0, None)

    def s(self, r_um) -> np.ndarray:
        """Complex stretching factor s = d r~/dr at real radii (um)."""
        return 1.0 + 1j * self.sigma0 * self._xi(r_um) ** self.power

    def r_tilde(self, r_um) -> np.ndarray:
        """Complex stretched radius r~(r) in um."""
        q = self.power
        r = np.asarray(r_um, dtype=float)
        return r + 1j * self.sigma0 * self.width_um * self._xi(r) ** (q + 1) / (q + 1)

    def inside(self, r_um) -> np.ndarray:
        """True where the stretching is active (r > r_start)."""
        return np.asarray(r_um, dtype=float) > self.r_start_um

    def max_abs_s(self) -> float:
        """Largest |s| in the layer (the local wavenumber is multiplied by it)."""
        return math.hypot(1.0, self.sigma0)

    def tensor_2d(self, r_um):
        """Factors (Lambda_rr, Lambda_phiphi, mass) of the 2-D stretched form at radii r (um).

        Lambda_rr = r~/(r s) (radial direction), Lambda_phiphi = r s / r~ (azimuthal
        direction), mass = s r~ / r; all are 1 outside the layer.
        """
        r = np.asarray(r_um, dtype=float)
        s, rt = self.s(r), self.r_tilde(r)
        return rt / (r * s), r * s / rt, s * rt / r

    def reflection(self, k_per_um: float, n_out: float, m: int = 0, samples: int = 2001) -> float:
        """WKB estimate of the round-trip reflection off the Dirichlet wall at r_end.

        exp(-2 Im int_{r_start}^{r_end} k_r(r~) s dr) with k_r = sqrt(k^2 n^2 - m^2/r~^2)
        (the phase of H^(1)_m(k n r~)). For m = 0 this is the plane-wave value
        exp(-2 k n Im r~(r_end)); just beyond the turning point m/(n k) the radial
        wavenumber is small and the same layer absorbs far less (paper capillary,
        m = 600: 1e-3 instead of 1e-12, measured as a 1.8e-3 error in Q).
        """
        r = np.linspace(self.r_start_um, self.r_end_um, samples)
        rt = self.r_tilde(r)
        k_r = np.sqrt((k_per_um * n_out) ** 2 - (m / rt) ** 2 + 0j)
        phase_im = np.trapezoid(k_r * self.s(r), r).imag
        return math.exp(-2.0 * max(phase_im, 0.0))


def sigma0_for_reflection(
    reflection: float,
    k_per_um: float,
    n_out: float,
    r_start_um: float,
    width_um: float,
    m: int = 0,
    power: int = DEFAULT_POWER,
) -> float:
    """Smallest sigma0 whose :meth:`RadialPML.reflection` is at most ``reflection``."""
    if not 0 < reflection < 1:
        raise ValueError(f"reflection must be in (0, 1), got {reflection}")

    def refl(sigma0):
        return RadialPML(r_start_um, width_um, sigma0, power).reflection(k_per_um, n_out, m)

    # plane-wave value (exact for m = 0): R = exp(-2 k n sigma0 d/(q+1))
    lo = (power + 1) * math.log(1.0 / reflection) / (2.0 * k_per_um * n_out * width_um)
    if refl(lo) <= reflection:
        return lo
    hi = 2.0 * lo
    while refl(hi) > reflection:
        lo, hi = hi, 2.0 * hi
        if hi > 1e6:
            raise ValueError("no PML strength reaches the requested reflection; widen the layer or move it out")
    while hi / lo > 1.0 + 1e-3:  # bisect in log sigma0; R decreases with sigma0
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if refl(mid) > reflection else (lo, mid)
    return hi


def outer_turning_point_um(m: int, k_per_um: float, n_out: float) -> float:
    """Radius (um) beyond which an order-m wave propagates in the outer medium: m/(n_out k)."""
    return abs(m) / (n_out * k_per_um)


def make_pml(
    outer_radius_um: float,
    k_per_um: float,
    n_out: float = 1.0,
    m: int = 0,
    gap_wavelengths: float = DEFAULT_GAP_WAVELENGTHS,
    width_wavelengths: float = DEFAULT_WIDTH_WAVELENGTHS,
    reflection: float = DEFAULT_REFLECTION,
    power: int = DEFAULT_POWER,
) -> RadialPML:
    """Default PML for a structure of outer radius ``outer_radius_um`` at wavenumber k (1/um).

    Starts ``gap_wavelengths`` outside wavelengths (lambda/n_out) beyond the larger of
    the outer radius and the turning point m/(n_out k); width ``width_wavelengths``
    outside wavelengths; sigma0 from :func:`sigma0_for_reflection` (WKB estimate for
    order m, so the absorption near the turning point is accounted for).
    """
    if not k_per_um > 0:
        raise ValueError(f"wavenumber must be positive (1/um), got {k_per_um}")
    lam_out = 2.0 * math.pi / (k_per_um * n_out)
    start = max(outer_radius_um, outer_turning_point_um(m, k_per_um, n_out)) + gap_wavelengths * lam_out
    width = width_wavelengths * lam_out
    sigma0 = sigma0_for_reflection(reflection, k_per_um, n_out, start, width, m, power)
    return RadialPML(r_start_um=start, width_um=width, sigma0=sigma0, power=power)


@dataclass(frozen=True)
class AxialPML:
    """Layers stretching z below ``z_low_um`` and above ``z_high_um``, each ``width_um`` thick:
    s(z) = 1 + i sigma0 xi^q, xi the depth into the layer over its width; s = 1 between the layers.

    A wave exp(i beta z) is damped by exp(-beta sigma0 width / (q + 1)) across one layer, so
    the layers absorb what travels along z (waves guided by a capillary's wall), the faster the
    larger beta; a field that does not vary along z does not see them.
    """

    z_low_um: float
    z_high_um: float
    width_um: float
    sigma0: float
    power: int = DEFAULT_POWER

    def __post_init__(self):
        if not (self.z_high_um > self.z_low_um and self.width_um > 0 and self.sigma0 >= 0):
            raise ValueError("an axial PML needs z_low < z_high, a positive width and sigma0 >= 0")

    def s(self, z_um) -> np.ndarray:
        """Complex stretching factor dz~/dz at heights z (um)."""
        z = np.asarray(z_um, dtype=float)
        depth = np.maximum(np.maximum(self.z_low_um - z, z - self.z_high_um), 0.0)
        return 1.0 + 1j * self.sigma0 * np.minimum(depth / self.width_um, 1.0) ** self.power

    def inside(self, z_um) -> np.ndarray:
        z = np.asarray(z_um, dtype=float)
        return (z < self.z_low_um) | (z > self.z_high_um)

    @classmethod
    def for_window(cls, z_low_um: float, z_high_um: float, width_fraction: float, reflection: float,
                   power: int = DEFAULT_POWER) -> AxialPML:
        """Layers of ``width_fraction`` times the window's height, absorbing to ``reflection``
        (round trip) every wave whose axial wavelength fits in the window (beta >= 2 pi / height)."""
        height = z_high_um - z_low_um
        width = width_fraction * height
        beta_min = 2.0 * math.pi / height
        sigma0 = (power + 1) * math.log(1.0 / reflection) / (2.0 * beta_min * width)
        return cls(z_low_um, z_high_um, width, sigma0, power)
