"""``wgmfem sweep`` for a thin-wall ring-resonator sensor: the region that follows the fibre
(wall modes of a water-filled capillary, with one notice), the sensor columns (sensitivity,
detection limit, thermal drift) against the library functions on independently found modes,
tracked wall modes, sweeps at a fixed outer/inner ratio, their plots, resume, and one-line
errors.

The fibre: a 70 um bore of water (1.318, constant) in glass (1.444) near 1550 nm; with a 2 um
wall the Ez wall mode m = 207, p = 1 lies at 1545.69 nm.
"""

import contextlib
import csv
import io
import json
from pathlib import Path

import pytest

import wgmfem
from wgmfem.cli import build_parser, main
from wgmfem.cli.sweep import build_spec
from wgmfem.plot_sweep import plot_detection_limit, plot_drift, plot_sensitivity
from wgmfem.quantities import detection_limit_riu, sensitivity_nm_per_riu, thermal_drift_nm_per_K
from wgmfem.solve import find_modes
from wgmfem.sweep import SweepError, SweepSpec, point_geometry

FIBRE = ["--inner-diameter", "70", "--core", "1.318", "--wall", "1.444", "--jobs", "1"]
THERMAL = ["--core-dn-dt=-8.7e-5", "--wall-dn-dt", "1e-5", "--expansion", "5.5e-7"]
DN_DT = {"core": -8.7e-5, "wall": 1e-5}
EXPANSION = 5.5e-7
SENSOR = ["--quantities", "sensitivity,detection_limit,drift", *THERMAL]
# the census: Ez p = 1 in 1545-1548 nm at two walls, m = 207 at each (~3 s)
CENSUS = [*FIBRE, "--wall-thickness", "2:2.04:0.04", "--wavelength", "1545:1548", "--pol", "Ez", "--p", "1",
          *SENSOR, "--extra-q", "1e6", "--resolvable-fraction", "0.02"]
SENSOR_COLUMNS = ("sensitivity_nm_per_riu", "detection_limit_riu", "drift_nm_per_K")


def run(args, capsys):
    code = main(["sweep", *args])
    out, err = capsys.readouterr()
    return code, out, err


def rows_of(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def capillary(row) -> wgmfem.Capillary:
    return wgmfem.Capillary(float(row["inner_diameter_um"]), float(row["outer_diameter_um"]), 1.318, 1.444)


def assert_sensor_columns_match(row, mode, fraction=0.01):
    assert float(row["wavelength_nm"]) == pytest.approx(mode.wavelength_nm, rel=1e-12)
    assert float(row["sensitivity_nm_per_riu"]) == pytest.approx(sensitivity_nm_per_riu(mode), rel=1e-6)
    assert float(row["detection_limit_riu"]) == pytest.approx(detection_limit_riu(mode, fraction), rel=1e-6)
    assert float(row["drift_nm_per_K"]) == pytest.approx(thermal_drift_nm_per_K(mode, DN_DT, EXPANSION), rel=1e-6)


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    """The census sweep's folder, table and stderr."""
    folder = tmp_path_factory.mktemp("sensor")
    table = folder / "s.csv"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["sweep", *CENSUS, "--output", str(table), "--plot", str(folder / "s")])
    assert code == 0, err.getvalue()
    return folder, table, err.getvalue()


# -- region auto ------------------------------------------------------------------------------


def test_region_auto_lists_wall_modes_with_one_notice(census):
    _, table, err = census
    notices = [line for line in err.splitlines() if "guides the light" in line]
    assert len(notices) == 1 and "listing wall modes" in notices[0] and "1.318" in notices[0], err
    rows = rows_of(table)
    assert {r["wall_thickness_um"] for r in rows} == {"2.0", "2.04"}
    assert all(r["region"] == "wall" and r["n_modes"] == "1" and r["m"] == "207" for r in rows)


def test_region_choice_is_judged_at_each_point():
    """An index sweep across the wall's index: wall modes below it, core modes above, one notice."""
    spec = SweepSpec("core", (1.40, 1.43, 1.46), inner_diameter_um=70, outer_diameter_um=74, wall=1.444, wavelength_nm=(1545, 1548))
    assert [spec.region_at(v) for v in spec.values] == ["wall", "wall", "core"]
    assert "2 of 3 points" in spec.region_notice()
    assert SweepSpec("core", (1.45, 1.46), wall=1.444).region_notice() is None  # core modes: nothing to explain
    anywhere = SweepSpec("core", (1.40, 1.46), wall=1.444, region=None)
    assert anywhere.region_at(1.40) is None and anywhere.region_notice() is None


@pytest.mark.parametrize("asked, region", [(None, "auto"), ("any", None), ("ANY", None), ("wall", "wall"), ("auto", "auto")])
def test_region_option(asked, region):
    argv = ["sweep", "--inner-diameter", "70:71:1", "--core", "1.318", "--wall", "1.444"]
    spec = build_spec(build_parser().parse_args(argv + (["--region", asked] if asked else [])))
    assert spec.region == region


# -- the sensor columns -----------------------------------------------------------------------


def test_sensor_columns_agree_with_the_library(census):
    """Each row against find_modes of the same fibre (its own solve of the labelled mode) and
    the functions of wgmfem.quantities on that mode, with the same extra Q and resolvable fraction."""
    _, table, _ = census
    rows = rows_of(table)
    assert len(rows) == 2 and all(r[c] not in ("", None) for r in rows for c in SENSOR_COLUMNS)
    for row in rows:
        (mode,) = find_modes(capillary(row), pol="Ez", m=int(row["m"]), p=1, region="wall", extra_q=1e6, fsr=False)
        assert_sensor_columns_match(row, mode, fraction=0.02)
        q_total = float(row["Q_total"])
        assert q_total == pytest.approx(1 / (1 / mode.Q_rad + 1 / 1e6), rel=1e-12)
        assert float(row["detection_limit_riu"]) == pytest.approx(
            0.02 * mode.wavelength_nm / (q_total * float(row["sensitivity_nm_per_riu"])), rel=1e-9)
        assert 1 < float(row["sensitivity_nm_per_riu"]) < 100 and float(row["drift_nm_per_K"]) > 0


def test_sensor_plots_are_written(census):
    folder, table, _ = census
    for name in ("wavelength", "sensitivity", "detection_limit", "drift"):
        assert (folder / f"s_{name}.png").stat().st_size > 10_000
    rows = rows_of(table)
    assert plot_sensitivity(rows, "wall_thickness_um").get_yscale() == "log"  # every value positive
    assert plot_detection_limit(rows, "wall_thickness_um").get_yscale() == "log"
    assert plot_drift(rows, "wall_thickness_um").get_yscale() == "linear"
    negative = [{**r, "sensitivity_nm_per_riu": -1.0} for r in rows[:1]] + rows[1:]
    assert plot_sensitivity(negative, "wall_thickness_um").get_yscale() == "linear"


def test_resume_accepts_the_sensor_columns_and_checks_them(census, tmp_path, capsys):
    _, table, _ = census
    copy = tmp_path / "s.csv"
    copy.write_bytes(table.read_bytes())
    Path(f"{copy}.settings.json").write_bytes(Path(f"{table}.settings.json").read_bytes())
    code, _, err = run([*CENSUS, "--output", str(copy), "--resume", "--quiet"], capsys)
    assert code == 0, err
    assert copy.read_bytes() == table.read_bytes()
    damaged = copy.read_text().replace(rows_of(table)[0]["drift_nm_per_K"], "warm", 1)
    copy.write_text(damaged)
    code, _, err = run([*CENSUS, "--output", str(copy), "--resume"], capsys)
    assert code == 2 and err.count("\n") == 1 and "drift_nm_per_K" in err and "'warm'" in err
    assert copy.read_text() == damaged


def test_drift_without_thermal_data_is_one_line_before_any_work(tmp_path, capsys):
    target = tmp_path / "s.csv"
    code, out, err = run([*FIBRE, "--wall-thickness", "2:3:0.5", "--quantities", "drift", "--output", str(target)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("wgmfem: error: drift needs thermal data")
    assert "--core-dn-dt" in err and "--wall-dn-dt" in err and "--expansion" in err
    assert not target.exists()
    code, _, err = run([*FIBRE, "--wall-thickness", "2:3:0.5", "--quantities", "drift", "--core-dn-dt=-8.7e-5"], capsys)
    assert code == 2 and err.count("\n") == 1 and "--core-dn-dt" not in err and "--expansion" in err
    with pytest.raises(SweepError, match="thermal data"):
        SweepSpec("wall_thickness", (2.0,), inner_diameter_um=70, core=1.318, wall=1.444, extras=("drift",))


def test_all_quantities_take_the_drift_only_with_thermal_data():
    argv = ["sweep", "--inner-diameter", "70:71:1", "--core", "1.318", "--wall", "1.444", "--quantities", "all"]
    assert "drift" not in build_spec(build_parser().parse_args(argv)).extras
    assert "drift" in build_spec(build_parser().parse_args(argv + THERMAL)).extras
    water = ["sweep", "--inner-diameter", "70:71:1", "--core", "water", "--wall", "fused-silica", "--quantities", "all",
             "--wavelength", "1000:1010"]
    assert "drift" in build_spec(build_parser().parse_args(water)).extras  # built-in materials carry the data


# -- tracking a wall mode ---------------------------------------------------------------------


def test_tracked_wall_mode_carries_the_sensor_columns(capsys):
    """The Ez wall mode m = 207, p = 1 of the water-filled capillary followed as the wall grows
    from 2 to 3 um (it moves ~22 nm, three FSRs, a step): at each point the labelled mode of an
    independent solve, with the same sensor columns."""
    code, out, err = run([*FIBRE, "--wall-thickness", "2:3:0.5", "--wavelength", "1545:1555", "--track", "Ez:207:1",
                          "--format", "json", *SENSOR], capsys)
    assert code == 0, err
    assert sum("tracking a wall mode" in line for line in err.splitlines()) == 1
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["wall_thickness_um"] for r in rows] == [2.0, 2.5, 3.0]
    assert all(r["n_modes"] == 1 and r["region"] == "wall" and (r["m"], r["p"]) == (207, 1) for r in rows)
    assert 1545 < rows[0]["wavelength_nm"] < 1555
    for row in rows:
        (mode,) = find_modes(capillary(row), pol="Ez", m=207, p=1, region="wall", fsr=False)
        assert_sensor_columns_match(row, mode)
    sensitivities = [r["sensitivity_nm_per_riu"] for r in rows]
    assert sensitivities[0] > sensitivities[1] > sensitivities[2] > 0  # a thicker wall hides the mode from the liquid


def test_tracked_mode_must_start_in_its_window(capsys):
    code, _, err = run([*FIBRE, "--wall-thickness", "2:2.5:0.5", "--wavelength", "1550:1555", "--track", "Ez:207:1"], capsys)
    assert code == 2 and err.count("\n") == 1 and "1550-1555 nm" in err


# -- a fixed outer/inner ratio ----------------------------------------------------------------


def test_ratio_sweep_scales_the_whole_fibre(capsys):
    """--ratio 1.06 with the bore swept: OD = 1.06 ID at every point; with constant indices the
    whole fibre scaled moves the tracked mode's wavelength in proportion (Maxwell's equations
    are scale-free)."""
    code, out, err = run(["--inner-diameter", "70:72:1", "--ratio", "1.06", "--core", "1.318", "--wall", "1.444", "--jobs", "1",
                          "--wavelength", "1545:1555", "--track", "Ez:207:1", "--format", "json", "--no-fsr"], capsys)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["inner_diameter_um"] for r in rows] == [70.0, 71.0, 72.0]
    for row in rows:
        assert row["outer_diameter_um"] / row["inner_diameter_um"] == pytest.approx(1.06, rel=1e-12)
        assert row["wall_thickness_um"] == pytest.approx(0.03 * row["inner_diameter_um"], rel=1e-9)
        assert row["wavelength_nm"] / row["inner_diameter_um"] == pytest.approx(rows[0]["wavelength_nm"] / 70, rel=1e-9)
    spec = SweepSpec("outer_diameter", (74.0, 80.0), ratio=1.06, core=1.318, wall=1.444)
    for outer in spec.values:
        columns = point_geometry(spec, outer)[1]
        assert columns["outer_diameter_um"] == outer and columns["inner_diameter_um"] == pytest.approx(outer / 1.06, rel=1e-15)
    assert spec.settings()["inner_diameter_um"] is None and spec.settings()["ratio"] == 1.06


@pytest.mark.parametrize(
    "args, words",
    [
        (["--inner-diameter", "70:72:1", "--ratio", "1"], "> 1"),
        (["--inner-diameter", "70:72:1", "--ratio", "0.9"], "> 1"),
        (["--inner-diameter", "70:72:1", "--ratio", "nan"], "> 1"),
        (["--inner-diameter", "70", "--wall-thickness", "2:3:0.5", "--ratio", "1.06"], "--wall-thickness sweep"),
        (["--outer-diameter", "74:76:1", "--wall-thickness", "2", "--ratio", "1.06"], "--wall-thickness"),
        (["--core", "1.3:1.4:0.1", "--ratio", "1.06"], "--core sweep"),
        (["--inner-diameter", "70:72:1", "--outer-diameter", "80", "--ratio", "1.06"], "not both"),
        (["--outer-diameter", "74:76:1", "--inner-diameter", "70", "--ratio", "1.06"], "not both"),
        (["--inner-diameter", "70:72:1", "--resolvable-fraction", "0.1"], "detection_limit"),
        (["--inner-diameter", "70:72:1", "--quantities", "detection_limit", "--resolvable-fraction", "2"], "(0, 1]"),
        (["--inner-diameter", "70:72:1", "--expansion", "5e-7"], "drift"),
        (["--inner-diameter", "70:72:1", "--quantities", "drift", *THERMAL[:3], "--expansion", "0.5"], "1/K"),
        (["--inner-diameter", "70:72:1", "--extra-q", "-5"], "--extra-q"),
        (["--inner-diameter", "70:72:1", "--track", "Ez:207:1", "--region", "any"], "not 'any'"),
    ],
)
def test_bad_sensor_input_is_one_line_and_exit_2(args, words, capsys):
    code, out, err = run(args, capsys)
    assert code == 2 and out == ""
    assert err.startswith("wgmfem: error:") and err.count("\n") == 1 and words in err, err


def test_library_refuses_a_ratio_it_cannot_keep():
    with pytest.raises(SweepError, match="ratio"):
        SweepSpec("inner_diameter", (70.0,), ratio=1.0)
    with pytest.raises(SweepError, match="ratio"):
        SweepSpec("wall_thickness", (2.0,), inner_diameter_um=70, ratio=1.06)
    with pytest.raises(SweepError, match="ratio"):
        SweepSpec("core", (1.3,), ratio=1.06)
