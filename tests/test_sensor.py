"""Thin-wall ring-resonator sensors: a liquid below the glass index, wall modes by default,
sensitivity, detection limit and thermal drift checked against independent exact roots."""

import subprocess
import sys

import pytest

from wgmfem import Capillary, find_modes
from wgmfem.geometry import LayeredCylinder
from wgmfem.quantities import detection_limit_riu, sensitivity_nm_per_riu, thermal_drift_nm_per_K
from wgmfem.solve import default_region

BORE_UM, LIQUID, GLASS = 70.0, 1.32, 1.444  # a water-like liquid in silica near 1550 nm
WINDOW_NM = (1540.0, 1560.0)


def _wall_modes(wall_um, pol, p):
    cap = Capillary(BORE_UM, BORE_UM + 2 * wall_um, LIQUID, GLASS)
    modes = find_modes(cap, pol=pol, wavelength_nm=WINDOW_NM, region="wall", p=p, fsr=False)
    return min(modes, key=lambda md: abs(md.wavelength_nm - 1550.0))


def _root_nm(cap, md):
    """The exact root of the same (pol, m, nodes) in another capillary: an independent solve."""
    found = find_modes(cap, pol=md.pol, m=md.m, p=md.p, region="wall", fsr=False)
    same = [x for x in found if x.nodes == md.nodes]
    assert same, "the mode must continue to the perturbed capillary"
    return same[0].wavelength_nm


def _central_difference(md, wall_um, dn=1e-4):
    up = _root_nm(Capillary(BORE_UM, BORE_UM + 2 * wall_um, LIQUID + dn, GLASS), md)
    down = _root_nm(Capillary(BORE_UM, BORE_UM + 2 * wall_um, LIQUID - dn, GLASS), md)
    return (up - down) / (2 * dn)


def _check_sensitivity(wall_um, pol, p):
    md = _wall_modes(wall_um, pol, p)
    s = sensitivity_nm_per_riu(md)
    reference = _central_difference(md, wall_um)
    assert s > 0, "a higher liquid index pulls every mode to longer wavelengths"
    if reference > 1e-3:
        assert s == pytest.approx(reference, rel=1e-2)
    return s


@pytest.mark.parametrize("pol", ["Ez", "Hz"])
@pytest.mark.parametrize("p", [1, 2])
def test_wall_mode_sensitivity_matches_two_exact_roots_2um(pol, p):
    _check_sensitivity(2.0, pol, p)


@pytest.mark.slow
@pytest.mark.parametrize("wall_um", [1.5, 3.0, 4.5, 6.0])
@pytest.mark.parametrize("pol", ["Ez", "Hz"])
@pytest.mark.parametrize("p", [1, 2])
def test_wall_mode_sensitivity_matches_two_exact_roots(wall_um, pol, p):
    _check_sensitivity(wall_um, pol, p)


def test_thick_wall_sensitivity_is_tiny_positive_and_relatively_accurate():
    """Where S ~ 1e-4 nm/RIU (5 um wall, p = 1) a difference of two roots still resolves it
    (dn = 1e-3 moves the root by 1e-7 nm, 1e6 times the root's accuracy): agree to 1e-3."""
    md = _wall_modes(5.0, "Ez", 1)
    s = sensitivity_nm_per_riu(md)
    reference = _central_difference(md, 5.0, dn=1e-3)
    assert 0 < s < 1e-2
    assert s == pytest.approx(reference, rel=1e-3)


def test_sensitivity_falls_steeply_with_the_wall_thickness():
    """The design variable of these sensors: p = 1 Ez, 2 -> 3 -> 5 um walls."""
    s = [sensitivity_nm_per_riu(_wall_modes(w, "Ez", 1)) for w in (2.0, 3.0, 5.0)]
    assert s[0] > 5 * s[1] > 25 * s[2] > 0


def test_lossy_and_leaky_sensitivity_is_the_derivative_of_the_complex_root():
    """A small lossy capillary (Q ~ 1e3): d lambda/dn against two exact complex roots."""
    cap = Capillary(6.0, 8.0, 1.6 + 1e-3j, 1.45)
    md = find_modes(cap, pol="Ez", wavelength_nm=(600, 700), region="core", p=1, fsr=False, q_min=5)[0]
    h = 1e-6
    lam = []
    for sign in (1, -1):
        other = find_modes(Capillary(6.0, 8.0, 1.6 + sign * h + 1e-3j, 1.45), pol="Ez", m=md.m, p=1, fsr=False)
        lam.append(min(other, key=lambda x: abs(x.k - md.k)).wavelength_nm)
    assert sensitivity_nm_per_riu(md) == pytest.approx((lam[0] - lam[1]) / (2 * h), rel=1e-5)


def test_detection_limit_moves_the_resonance_by_the_resolvable_fraction_of_a_linewidth():
    """Shifting the liquid's index by DL moves the exact root by 1 % of lambda / Q."""
    cap = Capillary(BORE_UM, BORE_UM + 4.0, LIQUID, GLASS)
    md = find_modes(cap, pol="Hz", wavelength_nm=WINDOW_NM, region="wall", p=2, fsr=False, extra_q=1e5)[0]
    dl = detection_limit_riu(md)
    moved = _root_nm(Capillary(BORE_UM, BORE_UM + 4.0, LIQUID + dl, GLASS), md)
    assert moved - md.wavelength_nm == pytest.approx(0.01 * md.wavelength_nm / 1e5, rel=1e-3)


def test_thermal_drift_against_a_hand_calculation_and_two_heated_capillaries():
    """Silica/water, 70/76 um, wall p = 1 Ez near 1550 nm. Hand calculation: first-order
    perturbation, d lambda/dT = lambda (sum_j Gamma_j (dn_j/dT) / n_j + alpha), Gamma_j the
    electric energy fractions. Independent check: exact roots of the fibre at T +- 1 K
    (indices moved by dn/dT, every radius scaled by 1 + alpha)."""
    dn_dT = {"core": -1.0e-4, "wall": 1.0e-5}  # water, fused silica (typical room-temperature values)
    alpha = 5.5e-7
    md = _wall_modes(3.0, "Ez", 1)
    drift = thermal_drift_nm_per_K(md, dn_dT, alpha)
    lam, fr = md.wavelength_nm, md.energy_fractions
    hand = lam * (fr["core"] * dn_dT["core"] / LIQUID + fr["wall"] * dn_dT["wall"] / GLASS + alpha)
    assert drift == pytest.approx(hand, rel=1e-3)
    lam_T = []
    for dT in (1.0, -1.0):
        scale = 1 + alpha * dT
        heated = LayeredCylinder(
            (BORE_UM / 2 * scale, (BORE_UM / 2 + 3.0) * scale),
            (LIQUID + dn_dT["core"] * dT, GLASS + dn_dT["wall"] * dT), 1.0, ("core", "wall"),
        )
        lam_T.append(_root_nm(heated, md))
    assert drift == pytest.approx((lam_T[0] - lam_T[1]) / 2, rel=1e-4)
    assert 5e-3 < drift < 2e-2  # ~0.01 nm/K: the glass dominates a 3 um wall


def test_default_region_follows_the_fibre():
    assert default_region(Capillary(54, 78, 1.56, 1.47)) == "core"
    assert default_region(Capillary(70, 76, 1.33, 1.444)) == "wall"
    (md,) = find_modes(Capillary(70, 76, 1.33, 1.444), pol="Ez", m=213, p=1, fsr=False)
    assert md.region == "wall"


def test_cli_lists_wall_modes_of_a_water_filled_capillary_with_a_notice():
    run = subprocess.run(
        [sys.executable, "-m", "wgmfem.cli", "modes", "--inner-diameter", "70", "--outer-diameter", "76", "--core", "1.33",
         "--wall", "1.444", "--wavelength", "1545:1555", "--pol", "Ez", "--no-fsr"],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    notice = [line for line in run.stderr.splitlines() if "guides" in line]
    assert len(notice) == 1 and "--region any" in notice[0]
    rows = [line.split() for line in run.stdout.splitlines() if line.startswith("Ez ")]
    assert rows and all(row[3] == "wall" for row in rows)


def test_group_index_is_withheld_where_the_mode_circulates_deep_inside_the_wall():
    """n_g referred to the outer surface is a group index only for modes near that surface:
    a p = 1 wall mode has one close to silica's; modes that circulate well inside the
    surface of a 20 um wall (n_g there below 0.9 of the layers' own) get none, with the reason."""
    cap = Capillary(54, 94, 1.33, 1.444)
    modes = find_modes(cap, pol="Ez", wavelength_nm=WINDOW_NM, region="wall", p=(1, 30))
    first = next(md for md in modes if md.p == 1 and md.fsr_nm)
    assert first.group_index == pytest.approx(1.444, rel=0.03)
    deep = [md for md in modes if md.fsr_nm and md.surface_group_index < 0.9 * md.material_group_index]
    assert any(md.p >= 17 and not md.hybrid for md in deep)
    assert all(md.group_index is None and md.group_index_note for md in deep)
    assert all(md.group_index >= 0.9 * md.material_group_index for md in modes if md.group_index)


# --- the sensor design: the thinnest wall that meets the limits -----------------------------


def _nearest_wall_mode(bore_um, wall_um, target_nm=1550.0):
    cap = Capillary(bore_um, bore_um + 2 * wall_um, 1.318, 1.444)
    modes = find_modes(cap, pol="Ez", wavelength_nm=(target_nm - 15, target_nm + 15), region="wall", p=1)
    return min(modes, key=lambda md: abs(md.wavelength_nm - target_nm))


def test_sensor_design_brackets_the_thinnest_wall_meeting_a_q_limit():
    """A 20 um bore in water near 1550 nm: Q_rad of the wall's p = 1 mode rises with the wall
    (2e7 at 1 um, 3e8 at 2 um). The design's thinnest wall for Q_rad >= 1e8 meets it, and a
    wall thinner by the bisection's resolution (1/64 of the grid step) does not."""
    from wgmfem.sensor import SensorProblem, design_sensor

    problem = SensorProblem(1550.0, 1.318, 1.444, inner_diameter_um=20.0, pols=("Ez",), p=(1, 1))
    design = design_sensor(problem, {"min_q_rad": 1e8}, (1.0, 3.0), 3)
    (answer,) = design.answers
    assert answer.feasible and not answer.at_range_start
    wall = answer.point.wall_thickness_um
    assert 1.0 < wall < 2.0
    assert _nearest_wall_mode(20.0, wall).Q_rad >= 1e8
    assert _nearest_wall_mode(20.0, wall - 1.0 / 64).Q_rad < 1e8
    assert answer.point.sensitivity_nm_per_riu == pytest.approx(sensitivity_nm_per_riu(answer.point.mode))


def test_cli_sensor_design_answers_with_its_plot(tmp_path):
    from wgmfem.cli import main

    plot = tmp_path / "sensor.png"
    out = tmp_path / "design.json"
    code = main(["design", "--sensor", "--wavelength", "1550", "--inner-diameter", "20", "--core", "1.318", "--wall", "1.444",
                 "--pol", "Ez", "--p", "1", "--min-q-rad", "1e8", "--min-sensitivity", "1", "--wall-thickness", "1:3",
                 "--points", "3", "--plot", str(plot), "--format", "json", "--output", str(out), "--quiet"])
    assert code == 0
    import json

    record = json.loads(out.read_text())
    assert record["feasible"] and 1.0 < record["best"]["thinnest_wall_um"] < 2.0
    assert record["best"]["point"]["sensitivity_nm_per_riu"] >= 1
    assert plot.stat().st_size > 10_000


@pytest.mark.parametrize("argv, message", [
    (["--wall-thickness", "0:3"], "wall thickness"),
    (["--min-sensitivity", "1e9"], "no wall thickness"),
    (["--min-confinement", "0.5"], "sensor takes"),
    (["--region", "outside"], "core, wall or auto"),
])
def test_cli_sensor_design_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    from wgmfem.cli import main

    base = ["design", "--sensor", "--wavelength", "1550", "--inner-diameter", "20", "--core", "1.318", "--wall", "1.444",
            "--pol", "Ez", "--p", "1", "--points", "2", "--quiet"]
    if "--min-sensitivity" not in argv and "--min-confinement" not in argv:
        argv = argv + ["--min-q-rad", "1e6"]
    code = main(base + argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]


def test_ofrr_validation_against_the_thick_wall_tunnelling_closed_form(tmp_path):
    """validation/ofrr_sensitivity.py (fast): S against two exact roots, first-order
    perturbation, and an Airy-WKB tunnelling model that takes only the mode label from
    wgmfem (within 15 % where the inner surface is two Airy lengths under the barrier)."""
    from validation import ofrr_sensitivity

    results = ofrr_sensitivity.run(fast=True, out=tmp_path)
    assert results["checks"] == {name: True for name in results["checks"]}
    assert results["tunnel_points"] >= 4 and results["fd_points"] >= 4


def test_cli_sensor_design_writes_all_its_files_or_none(tmp_path, capsys):
    """A plot path that cannot be written: exit 2 before any work, and no --output file."""
    from wgmfem.cli import main

    out = tmp_path / "design.json"
    code = main(["design", "--sensor", "--wavelength", "1550", "--inner-diameter", "20", "--core", "1.318", "--wall", "1.444",
                 "--pol", "Ez", "--p", "1", "--min-q-rad", "1e8", "--points", "2", "--format", "json",
                 "--output", str(out), "--plot", str(tmp_path / "missing" / "f.png"), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and not out.exists()
