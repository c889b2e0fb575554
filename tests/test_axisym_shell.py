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
