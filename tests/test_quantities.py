"""Designer quantities and dispersive/absorbing stacks, against independent references."""

import math

import pytest

import wgmfem
from wgmfem.geometry import capillary_stack
from wgmfem.materials import get_material
from wgmfem.quantities import _with_index

CASES = [
    (wgmfem.Capillary(), "Ez", 600, 1),
    (wgmfem.Capillary(), "Hz", 597, 2),
    (wgmfem.Capillary(10, 14, 1.56, 1.47), "Ez", 210, 1),
    (wgmfem.LayeredCylinder((3.0,), (1.56,), 1.0), "Hz", 30, 2),
]


@pytest.mark.parametrize("cyl, pol, m, p", CASES, ids=lambda v: str(v) if not hasattr(v, "radii_um") else f"r{v.radii_um}")
def test_sensitivity_matches_finite_difference_of_two_exact_solves(cyl, pol, m, p):
    md = wgmfem.find_modes(cyl, pol=pol, m=m, p=p, fsr=False)[0]
    h = 1e-7
    up = wgmfem.find_modes(_with_index(cyl, 0, cyl.indices[0] + h), pol=pol, m=m, p=p, fsr=False)[0]
    down = wgmfem.find_modes(_with_index(cyl, 0, cyl.indices[0] - h), pol=pol, m=m, p=p, fsr=False)[0]
    finite_difference = (up.wavelength_nm - down.wavelength_nm) / (2 * h)
    assert md.sensitivity_nm_per_riu == pytest.approx(finite_difference, rel=1e-6)


@pytest.mark.parametrize(
    "cyl, pol, m, p",
    [(wgmfem.Capillary(), "Hz", 597, 2), (wgmfem.Capillary(10, 14, 1.56, 1.47), "Ez", 210, 1),
     (wgmfem.LayeredCylinder((3.0,), (1.56,), 1.0), "Ez", 40, 1)],
)
def test_exact_lasing_gain_approaches_the_q_estimate_at_high_q(cyl, pol, m, p):
    """Q = 3e6 .. 3e7: the gain that makes Im k = 0 equals 2 pi n / (Gamma Q lambda) to O(1/Q)-ish."""
    md = wgmfem.find_modes(cyl, pol=pol, m=m, p=p)[0]
    assert md.Q_rad > 1e6
    assert md.lasing_gain_per_cm == pytest.approx(md.threshold_gain_per_cm, rel=1e-4)
    # and the gain really brings the resonance to the real axis
    j = 0
    kappa = md.lasing_gain_per_cm / (2 * 2 * math.pi / (md.wavelength_nm * 1e-7))
    lasing = _with_index(cyl, j, complex(cyl.indices[j], -kappa))
    import numpy as np

    from wgmfem.exact.census import polish_roots
    k, ok = polish_roots(lasing, pol, np.array([m]), np.array([md.k]), np.array([md.k * (1 + 1e-10)]))
    assert ok[0] and abs(k[0].imag) < 1e-3 * abs(md.k.imag)


def test_absorption_q_matches_first_order_perturbation():
    """A weakly absorbing core (kappa = 1e-7): 1/Q_abs = Gamma * 2 kappa / n for an Ez mode."""
    kappa = 1e-7
    md = wgmfem.find_modes(wgmfem.Capillary(54, 78, complex(1.56, kappa), 1.47), pol="Ez", m=600, p=1)[0]
    perturbative = 1 / (md.core_fraction * 2 * kappa / 1.56)
    assert md.Q_abs == pytest.approx(perturbative, rel=1e-6)
    assert 1 / md.Q_total == pytest.approx(1 / md.Q_rad + 1 / md.Q_abs, rel=1e-9)
    assert md.Q_rad == pytest.approx(4.79e12, rel=0.01)  # radiation Q of the lossless stack


def test_dispersive_modes_are_self_consistent():
    """Every index is evaluated at the mode's own wavelength (to the converged tolerance)."""
    stack = capillary_stack(core=1.56, wall="fused-silica")
    md = wgmfem.find_modes(stack, pol="Ez", m=600, p=1)[0]
    silica = get_material("fused-silica").index(md.wavelength_nm)
    assert md.verification["indices_at_resonance"]["wall"] == pytest.approx(silica, abs=1e-13)
    assert md.cylinder.indices[1] == pytest.approx(silica, abs=1e-13)
    # re-solving at those fixed indices gives the same mode
    fixed = wgmfem.find_modes(wgmfem.Capillary(54, 78, 1.56, silica), pol="Ez", m=600, p=1, fsr=False)[0]
    assert fixed.wavelength_nm == pytest.approx(md.wavelength_nm, rel=1e-13)


def test_fsr_with_dispersion_differs_from_the_constant_index_model():
    """How much material dispersion changes the FSR of the paper's capillary
    (toluene-like liquid of index 1.56 at 432 nm, Kozma's toluene dispersion shifted by +0.047)."""
    toluene = get_material("toluene")
    offset = 1.56 - toluene.index(432.0)
    from wgmfem.materials import Cauchy

    liquid = Cauchy(1.4815 + offset, 4.186e-3, 2.96117366e-4, 1.3562e-5, name="toluene+offset", valid_range_nm=(300, 640))
    constant = wgmfem.find_modes(wgmfem.Capillary(54, 78, 1.56, 1.47), pol="Ez", m=600, p=1)[0]
    dispersive = wgmfem.find_modes(capillary_stack(54, 78, liquid, 1.47), pol="Ez", m=600, p=1)[0]
    # the liquid's own group index n - lambda dn/dlambda exceeds n by ~0.07: the FSR shrinks
    n_group = 1.56 - 432.0 * (liquid.index(432.01) - liquid.index(431.99)) / 0.02
    assert n_group > 1.6
    ratio = dispersive.fsr_nm / constant.fsr_nm
    assert 0.93 < ratio < 0.98
    assert dispersive.group_index > constant.group_index


def test_extra_loss_budget_and_lasing_condition():
    """An extra loss enters Q_total; the exact lasing gain then also pays for it and, at
    Q_total << Q_rad, equals the Q-budget estimate (first-order perturbation)."""
    md = wgmfem.find_modes(pol="Ez", m=600, p=1, extra_q=3000)[0]
    assert 1 / md.Q_total == pytest.approx(1 / md.Q_rad + 1 / 3000, rel=1e-12)
    assert md.lasing_gain_per_cm == pytest.approx(md.threshold_gain_per_cm, rel=1e-4)
    # dB/cm: the energy decays by alpha per unit length travelled at the group velocity
    db = 2.0
    lossy = wgmfem.find_modes(pol="Ez", m=600, p=1, extra_loss_db_per_cm=db)[0]
    alpha_per_cm = db / (10 / math.log(10))
    omega_over_vg = 2 * math.pi * lossy.group_index / (lossy.wavelength_nm * 1e-7)  # per cm
    assert lossy.Q_extra == pytest.approx(omega_over_vg / alpha_per_cm, rel=1e-12)


def test_effective_area_against_the_mpmath_field():
    """A_eff = (int |E|^2 dA)^2 / int |E|^4 dA of the paper's Ez p=1 mode, with the field from
    the independent 30-digit reference solution (tests/reference)."""
    import sys
    from pathlib import Path

    import numpy as np

    sys.path.insert(0, str(Path(__file__).parent))
    from reference import mpmath_cylinder as ref

    cyl = wgmfem.Capillary()
    md = wgmfem.find_modes(cyl, pol="Ez", m=600, p=1, fsr=False)[0]
    coeffs = ref.field_coefficients(cyl.radii_um, cyl.indices, 1.0, "Ez", 600, md.k)[0]
    r = np.linspace(24.0, 31.0, 1401)  # the field is < 1e-8 of its peak outside this band
    R = np.array([complex(ref.radial_function(cyl.radii_um, cyl.indices, 1.0, "Ez", 600, md.k, coeffs, x, derivative=False)) for x in r])
    e2 = np.abs(R) ** 2
    area = (2 * np.pi * np.trapezoid(e2 * r, r)) ** 2 / (2 * np.pi * np.trapezoid(e2**2 * r, r))
    assert md.effective_area_um2 == pytest.approx(area, rel=1e-3)


def test_dispersive_q_matches_the_resonance_with_analytically_continued_indices():
    """A dispersive resonance decays in time with the indices at its complex frequency,
    n_j(k) = n_j(k_r) + (dn_j/dk)(k - k_r). Solved directly here (fixed point on complex
    indices), its Re k / (2 |Im k|) is the true Q; wgmfem gets it from the real-frequency
    solve times the stored-energy factor F = sum Gamma_j n_g,j / n_j."""
    import numpy as np

    from wgmfem.exact.census import polish_roots
    from wgmfem.geometry import MaterialStack
    from wgmfem.materials import Cauchy

    # a 2 um liquid jet: Kozma's toluene dispersion raised to 1.56, in air; Q ~ 6e5
    liquid = Cauchy(1.4815 + 0.047, 4.186e-3, 2.96117366e-4, 1.3562e-5, name="toluene+0.047", valid_range_nm=(300, 640))
    md = wgmfem.find_modes(MaterialStack((2.0,), (liquid,), 1.0), pol="Ez", m=35, p=1, fsr=False)[0]
    assert 1e3 < md.Q_rad < 1e8 and md.dispersion_factor > 1.02
    k_r = md.k.real
    slopes = md.verification["dn_dlambda_per_nm"]
    n_r = [complex(n).real for n in md.cylinder.indices]
    dn_dk = [-slopes[name] * 2e3 * math.pi / k_r**2 for name in md.cylinder.names]  # lambda_nm = 2e3 pi / k
    k = md.k
    for _ in range(20):
        cyl = wgmfem.LayeredCylinder(md.cylinder.radii_um, tuple(n + d * (k - k_r) for n, d in zip(n_r, dn_dk)), 1.0)
        k0 = np.array([k])
        roots, ok = polish_roots(cyl, "Ez", np.array([35]), k0, k0 * (1 + 1e-9))
        assert ok[0]
        k_new = complex(roots[0])
        if abs(k_new - k) < 1e-15 * abs(k):
            break
        k = k_new
    true_q = k.real / (2 * abs(k.imag))
    assert md.Q_rad == pytest.approx(true_q, rel=1e-5)  # measured 1.3e-6
    assert abs(md.Q_rad / md.dispersion_factor / true_q - 1) > 0.01  # the factor matters here
    # and the threshold from that Q equals the exact lasing gain (real frequency, fixed indices)
    assert md.threshold_gain_per_cm == pytest.approx(md.lasing_gain_per_cm, rel=1e-4)  # measured 3.6e-5
