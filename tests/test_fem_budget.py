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
    layers for both engines (without it the FEM's Q would be 4 % low). F is built from each engine's
    own energy fractions: the FEM's (mesh quadrature) differ from the exact Lommel integrals
    by ~2e-5."""
    stack = capillary_stack(54, 78, "toluene", "fused-silica")
    exact, fem = _pair(stack, m=580)
    assert exact.dispersion_factor > 1.03
    assert fem.dispersion_factor == pytest.approx(exact.dispersion_factor, rel=1e-4)
    assert fem.Q_rad == pytest.approx(exact.Q_rad, rel=1e-4)
    # the record states the difference of the Q it reports, not only of the roots
    reported = fem.verification["Q_relative_difference_to_exact"]
    assert reported == pytest.approx(abs(fem.Q_rad / exact.Q_rad - 1), rel=1e-6)


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


def test_closed_forms_of_a_fem_mode_are_evaluated_at_its_exact_root():
    """A FEM eigenvalue 1e-6..1e-4 away from the root (a perturbed fibre) would make the
    closed-form derivative meaningless (measured: S = 3.7e-10 instead of 306.9 nm/RIU at
    1e-6 for an m = 2000 core mode): the FEM mode evaluates them at its seed's root."""
    exact = wgmfem.find_modes(wgmfem.Capillary(200, 240, 1.56, 1.47), pol="Ez", m=2000, p=1, fsr=False)[0]
    for shift in (1e-6, 1e-4):
        fem = exact.counterpart(engine="fem2d", k=exact.k * (1 + shift), m=exact.m, p=exact.p, region=exact.region,
                                energy_fractions=exact.energy_fractions, verification={})
        assert fem.root_k == exact.k
        assert fem.sensitivity_nm_per_riu == pytest.approx(exact.sensitivity_nm_per_riu, rel=1e-12)
        assert fem.effective_area_um2 == pytest.approx(exact.effective_area_um2, rel=1e-12)
    other = exact.counterpart(engine="fem2d", k=exact.k * (1 + 1e-4), m=exact.m, p=2, region=exact.region,
                              energy_fractions=exact.energy_fractions, verification={})
    assert other.sensitivity_nm_per_riu is None and other.effective_area_um2 is None  # no root behind it
