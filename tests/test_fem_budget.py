"""A FEM mode keeps the loss budget of the exact resonance it continues: the radiation Q of
the lossless partner, absorption, and the stored-energy factor of dispersive materials."""

import pytest

import wgmfem
from wgmfem.geometry import capillary_stack


def _pair(cylinder, **kwargs):
    exact = wgmfem.find_modes(cylinder, pol="Ez", p=1, fsr=False, **kwargs)[0]
    fem = wgmfem.find_modes(cylinder, pol="Ez", p=1, fsr=False, engine="fem1d", **kwargs)[0]
    return exact, fem


def test_fem1d_absorbing_core_reports_radiation_and_absorption_q():
    """Core 1.56 + 1e-7 i: the FEM solves the lossy stack (Q_total), the radiation Q is the
    lossless partner's; first-order perturbation gives Q_abs = n / (2 kappa Gamma)."""
    exact, fem = _pair(wgmfem.Capillary(54, 78, 1.56 + 1e-7j, 1.47), m=600)
    assert fem.engine == "fem1d"
    assert fem.Q_rad == pytest.approx(exact.Q_rad, rel=1e-12) and fem.Q_rad > 1e12
    assert fem.Q_total == pytest.approx(exact.Q_total, rel=1e-6)
    first_order = 1.56 / (2e-7 * fem.energy_fractions["core"])
    assert fem.Q_abs == pytest.approx(first_order, rel=1e-4)


def test_fem1d_dispersive_stack_keeps_the_dispersion_factor():
    """Toluene in fused silica: Q carries the stored-energy factor F = 1.044 of the dispersive
    layers for both engines (without it the FEM's Q was 4 % low). F is built from each engine's
    own energy fractions: the FEM's (mesh quadrature) differ from the exact Lommel integrals
    by ~2e-5."""
    stack = capillary_stack(54, 78, "toluene", "fused-silica")
    exact, fem = _pair(stack, m=580)
    assert exact.dispersion_factor > 1.03
    assert fem.dispersion_factor == pytest.approx(exact.dispersion_factor, rel=1e-4)
    assert fem.Q_rad == pytest.approx(exact.Q_rad, rel=1e-4)


def test_fem2d_absorbing_core_reports_radiation_and_absorption_q():
    """The 2-D sector FEM on the lossy stack: Q_total within its Q tolerance of the exact
    root, the radiation Q the exact lossless partner's (a PML cannot resolve 4.8e12)."""
    cap = wgmfem.Capillary(54, 78, 1.56 + 1e-5j, 1.47)
    exact = wgmfem.find_modes(cap, pol="Ez", m=600, p=1, fsr=False)[0]
    fem = wgmfem.find_modes(cap, pol="Ez", m=600, p=1, fsr=False, engine="fem2d")[0]
    assert fem.engine == "fem2d" and fem.nodes == exact.nodes
    assert fem.Q_rad == exact.Q_rad
    assert fem.Q_total == pytest.approx(exact.Q_total, rel=1e-3)
    assert fem.Q_abs == pytest.approx(1.56 / (2e-5 * fem.energy_fractions["core"]), rel=1e-3)
