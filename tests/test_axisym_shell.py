"""The axisymmetric vector FEM on a liquid-filled glass shell against its exact resonances.

A shell is a hollow body of revolution whose bore closes on the axis (a microbubble, a sealed
capillary's end). Every FEM mode is labelled (pol, region, p, q) from its own field and compared
with the exact resonance of that label (wgmfem.exact.shell, itself checked against mpmath and
treams in test_shell_exact.py): a mislabelled mode has no exact partner within the tolerance.
"""

import json
import subprocess
import sys

import pytest

from wgmfem.axisym.shell import shell_modes_fem

GLASS = 1.45


def _check(md, wavelength_tol: float) -> None:
    assert md.is_resonator_mode and md.exact is not None, (md.pol, md.region, md.p, md.q)
    assert md.wavelength_error < wavelength_tol, (md.pol, md.region, md.p, md.q, md.wavelength_error)
    assert md.q_resolved and md.q_error < 1e-2


@pytest.mark.parametrize("pol", ["TE", "TM"])
def test_water_filled_shell_wall_modes(pol):
    """7 / 10 um shell of water in glass, m = 50: the wall family and the next one of the other
    parity (measured 4e-8 - 1.2e-7 in wavelength, Q ~ 3e6 - 7e6 within 1e-5)."""
    study = shell_modes_fem(7.0, 10.0, 1.33, GLASS, 50, pol=pol, region="wall", num_modes=2)
    first = study.modes[0]
    assert (first.pol, first.region, first.p, first.q) == (pol, "wall", 1, 0)
    assert not first.hybrid
    for md in study.modes:
        _check(md, 2e-7)


def test_core_mode_where_the_bore_closes_inside_the_window():
    """An 8 / 10 um shell filled with a 1.50 liquid, m = 20: the core mode's window reaches above
    the core's top (z_max > a) and inside its caustic, so the bore's closure on the axis is meshed
    and solved. The mode is a core-wall hybrid (54 % in the core, as the exact labels say 56 %),
    Q ~ 67; at 16 points per wavelength 3.1e-8 in wavelength (12 points: 1.2e-7)."""
    study = shell_modes_fem(8.0, 10.0, 1.50, GLASS, 20, pol="TE", region="core", num_modes=1,
                            points_per_wavelength=16.0)
    assert study.window.z_max_um > 8.0 and study.window.r_min_um < 8.0
    md = study.modes[0]
    assert (md.pol, md.region, md.p, md.q) == ("TE", "core", 1, 0)
    assert md.hybrid and md.exact.hybrid
    _check(md, 1e-7)


@pytest.mark.slow
@pytest.mark.parametrize("pol", ["TE", "TM"])
def test_core_modes_of_a_shell_filled_above_the_glass_index(pol):
    """9 / 10 um shell, core 1.60, m = 30: core modes of both polarizations with the other-parity
    neighbour (measured 2.7e-8 - 1.6e-7, Q 6e4 - 1e5 within 1e-4)."""
    study = shell_modes_fem(9.0, 10.0, 1.60, GLASS, 30, pol=pol, region="core", num_modes=2)
    first = study.modes[0]
    assert (first.pol, first.region, first.p, first.q) == (pol, "core", 1, 0)
    for md in study.modes:
        _check(md, 2e-7)


def test_cli_shell_json_and_bad_shape():
    run = [sys.executable, "-m", "wgmfem.cli", "axial", "--engine", "axisym", "--m", "50", "--count", "1"]
    out = subprocess.run(run + ["--shape", "shell:7:10:1.33:1.45", "--pol", "TE", "--format", "json"],
                         capture_output=True, text=True, check=True)
    (record,) = json.loads(out.stdout)
    assert (record["shape"], record["region"], record["pol"], record["p"], record["q"]) == ("shell", "wall", "TE", 1, 0)
    assert record["label_verified"] and not record["hybrid"]
    assert record["exact"]["wavelength_error"] < 2e-7
    bad = subprocess.run(run + ["--shape", "shell:10:7:1.33:1.45"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "INNER_RADIUS_UM < OUTER_RADIUS_UM" in bad.stderr


def _hollow_sphere(inner_um: float, outer_um: float, points: int = 1901):
    """The shell as a capillary profile: the bore closes at |z| = inner_um (r_in = 0 beyond)."""
    import numpy as np

    from wgmfem.axial.profile import AxialProfile

    z = np.linspace(-0.95 * outer_um, 0.95 * outer_um, points)
    return AxialProfile(z, np.sqrt(np.maximum(inner_um**2 - z * z, 0.0)), np.sqrt(outer_um**2 - z * z))


def test_a_sealed_profile_is_the_exact_shell():
    """A 4 / 6 um water-filled shell given as a profile whose bore closes (r_in = 0 for |z| > 4 um):
    the adiabatic equation refuses it, the profile FEM runs from the local harmonic estimate, its
    window's inner edge cuts the bore where it closes, and its modes are the exact shell's
    resonances of their labels (Ez = TE, Hz = TM, l = m + q): measured 4.4e-8 (TE) and 2.4e-8 (TM),
    Q 9.03e7 (TM) within 1e-3."""
    import wgmfem
    from wgmfem.axisym.profile import profile_modes_fem
    from wgmfem.exact.shell import shell_resonance

    study = profile_modes_fem(_hollow_sphere(4.0, 6.0), wgmfem.Capillary(8.0, 12.0, 1.33, GLASS), pol="Ez", m=60,
                              region="wall", count=2)
    assert study.adiabatic is None and study.harmonic is not None
    assert study.window.r_min_um < 4.0  # the bore's interface meets the window's inner edge
    checked = set()
    for md in study.modes:
        if not (md.is_resonator_mode and md.region == "wall" and md.p == 1 and md.q == 0):
            continue
        pol = "TE" if md.pol == "Ez" else "TM"
        exact = shell_resonance(4.0, 6.0, 1.33, GLASS, 60, 1, pol, 1.0, region="shell")
        assert abs(md.wavelength_nm / exact.wavelength_nm - 1) < 1e-7, (pol, md.wavelength_nm, exact.wavelength_nm)
        if md.q_resolved:
            assert abs(md.Q / exact.Q - 1) < 1e-2
        checked.add(pol)
    assert "TE" in checked


def test_the_adiabatic_equation_refuses_a_closing_bore():
    import wgmfem
    from wgmfem.axial.modes import BoreCloses, find_axial_modes

    with pytest.raises(BoreCloses, match="bore closes at z = -?[0-9.]+ um.*--engine axisym"):
        find_axial_modes(_hollow_sphere(4.0, 6.0, 401), wgmfem.Capillary(8.0, 12.0, 1.33, GLASS), pol="Ez", m=60,
                         region="wall")


@pytest.mark.slow
@pytest.mark.parametrize("pol", ["Ez", "Hz"])
def test_a_sealed_profile_is_the_exact_shell_at_m_100(pol):
    """7 / 10 um water-filled shell as a sealed profile, m = 100, states q = 0..3 of both
    polarizations in the window: measured 2.2e-8 - 7e-8 in wavelength (elements stretched by at
    most 1 / the interfaces' largest slope, here ~1.1)."""
    import wgmfem
    from wgmfem.axisym.profile import profile_modes_fem
    from wgmfem.exact.shell import shell_resonance

    study = profile_modes_fem(_hollow_sphere(7.0, 10.0), wgmfem.Capillary(14.0, 20.0, 1.33, GLASS), pol=pol, m=100,
                              region="wall", count=2)
    wall = [md for md in study.modes if md.is_resonator_mode and md.region == "wall" and md.p == 1]
    assert len(wall) >= 2
    for md in wall:
        exact = shell_resonance(7.0, 10.0, 1.33, GLASS, 100 + md.q, 1, "TE" if md.pol == "Ez" else "TM", 1.0,
                                region="shell")
        assert abs(md.wavelength_nm / exact.wavelength_nm - 1) < 1e-7, (md.pol, md.q)


def test_a_hybrid_takes_the_region_of_its_exact_label():
    """9.5 / 10 um water-filled shell, TM l = m = 48: 53 % of the electric energy lies in the water,
    while the exact labels (tangential field: the magnetic energy for TM) put 53 % in the glass. The
    FEM mode takes the region of the exact resonance it is (measured 3.9e-8 from the exact wall
    mode; no core root of that label exists) and stays marked as a hybrid."""
    study = shell_modes_fem(9.5, 10.0, 1.33, GLASS, 48, pol="TM", region="wall", num_modes=2)
    first = study.modes[0]
    assert (first.pol, first.region, first.p, first.q) == ("TM", "wall", 1, 0)
    assert first.hybrid and first.region_fraction < 0.5  # the electric energy alone would say core
    assert first.label_verified and first.wavelength_error < 2e-7


def test_q_of_a_radial_order_two_state_on_a_sealed_shell():
    """The p = 2 wall family of the 4 / 6 um sealed shell profile, m = 60: q counted along the line
    parallel to the outer surface (a line of constant r crosses the radial node of a curved body's
    p = 2 mode and would count q = 2); the state is the exact l = 60, p = 2 resonance
    (measured 3.4e-8)."""
    import wgmfem
    from wgmfem.axisym.profile import profile_modes_fem
    from wgmfem.exact.shell import shell_resonance

    study = profile_modes_fem(_hollow_sphere(4.0, 6.0), wgmfem.Capillary(8.0, 12.0, 1.33, GLASS), pol="Ez", m=60, p=2,
                              region="wall", count=1)
    state = next(md for md in study.modes if md.is_resonator_mode and (md.pol, md.p, md.region) == ("Ez", 2, "wall"))
    assert state.q == 0 and state.harmonic_nm is not None
    exact = shell_resonance(4.0, 6.0, 1.33, GLASS, 60, 2, "TE", 1.0, region="shell")
    assert abs(state.wavelength_nm / exact.wavelength_nm - 1) < 1e-7
