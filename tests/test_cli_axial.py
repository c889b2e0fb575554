"""``wgmfem axial``: table, JSON and CSV agree with find_axial_modes; the figure; one-line errors."""

import csv
import io
import json
import math
import re

import pytest

import wgmfem
from wgmfem.axial.modes import find_axial_modes
from wgmfem.axial.profile import profile_from_spec
from wgmfem.cli import main

SPEC = "gaussian:50:30"
ARGS = ["axial", "--profile", SPEC, "--m", "600", "--count", "3"]


@pytest.fixture(scope="module")
def direct():
    """The same family solved by the library (the paper's capillary, radii 27 / 39 um)."""
    return find_axial_modes(profile_from_spec(SPEC, 27, 39), wgmfem.Capillary(), pol="Ez", m=600, p=1, count=3)


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def table_rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines() if re.match(r"^\s+\d+\s+\d+\.\d+", line)]


def test_table_agrees_with_the_library(direct, capsys):
    code, out, err = run(ARGS, capsys)
    assert code == 0 and err == ""
    rows = table_rows(out)
    assert [int(r[0]) for r in rows] == [0, 1, 2]
    for row, md in zip(rows, direct.modes):
        assert abs(float(row[1]) - md.wavelength_nm) < 1e-6
        assert row[5] == "yes"
    for label in ("fibre", "profile", "reference", "cutoff", "adiabatic", "d lambda_c/d r_in", "nm/um", "max |dr/dz|"):
        assert label in out
    assert "NOTE" not in out  # a gentle bottle: the adiabatic equation holds


def test_json_records_are_finite_or_null_and_agree(direct, capsys):
    code, out, _ = run(ARGS + ["--format", "json", "--quiet", "--pol", "TM"], capsys)
    assert code == 0
    records = json.loads(out, parse_constant=lambda name: pytest.fail(f"non-finite JSON value {name}"))
    assert [r["q"] for r in records] == [0, 1, 2]
    assert all(r["pol"] == "Ez" and r["m"] == 600 and r["p"] == 1 for r in records)
    for rec, md in zip(records, direct.modes):
        assert rec["wavelength_nm"] == pytest.approx(md.wavelength_nm, abs=1e-9)
    assert records[0]["Q_axial"] is None  # confined: no axial leakage (infinite Q)
    assert records[-1]["axial_spacing_nm"] is None  # the last state has no next one

    def finite(value):
        if isinstance(value, dict):
            return all(finite(v) for v in value.values())
        return not isinstance(value, float) or math.isfinite(value)

    assert all(finite(r) for r in records)


def test_csv_output_file_is_written_atomically(direct, tmp_path, capsys):
    target = tmp_path / "states.csv"
    target.write_text("old\n")
    code, out, err = run(ARGS + ["--format", "csv", "--output", str(target)], capsys)
    assert code == 0 and out == ""
    assert "3 axial states" in err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [int(r["q"]) for r in rows] == [0, 1, 2]
    for row, md in zip(rows, direct.modes):
        assert float(row["wavelength_nm"]) == pytest.approx(md.wavelength_nm, abs=1e-9)
    assert rows[0]["Q_axial"] == "" and float(rows[0]["max_radius_slope"]) > 0
    assert "verification" not in rows[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["states.csv"]  # no temporary file left


def test_plot_writes_a_png(tmp_path, capsys):
    figure = tmp_path / "axial.png"
    code, _, _ = run(["axial", "--profile", SPEC, "--m", "600", "--count", "2", "--plot", str(figure), "--quiet"], capsys)
    assert code == 0
    data = figure.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 10_000


def write_profile(path, rows):
    path.write_text("z_um,r_in_um,r_out_um\n" + "".join(f"{z},{a},{b}\n" for z, a, b in rows))
    return str(path)


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--m", "600"], "--profile"),
        (["--profile", "gaussian:abc:30", "--m", "600"], "bad profile spec"),
        (["--profile", "bottle:5:3", "--m", "600"], "no profile file"),
        (["--profile", "missing.csv", "--m", "600"], "no profile file"),
        (["--profile", "gaussian:50:30"], "--m"),
        (["--profile", "gaussian:50:30", "--m", "600", "--pol", "xy"], "polarization"),
        (["--profile", "gaussian:50:30", "--m", "600", "--count", "0"], "--count"),
        (["--profile", "gaussian:50:30", "--m", "600", "--plot", "figure.txt"], ".png"),
        (["--profile", "gaussian:50:30", "--m", "600", "--layers", "3:1.56"], "capillary"),
        (["--profile", "gaussian:50:30", "--m", "600", "--fem-points", "12"], "--engine axisym"),
        (["--profile", "gaussian:50:30", "--m", "600", "--engine", "axisym", "--fem-points", "3"], "6..30"),
        (["--profile", "gaussian:50:30", "--m", "600", "--engine", "axisym", "--fem-points", "many"], "a number"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(extra, fragment, capsys):
    code, out, err = run(["axial"] + extra, capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("wgmfem: error:") and fragment in err
    assert "Traceback" not in err


def test_profile_file_with_inner_radius_not_below_outer(tmp_path, capsys):
    path = write_profile(tmp_path / "bad.csv", [(0, 27, 39), (1, 39.5, 39), (2, 27, 39)])
    code, _, err = run(["axial", "--profile", path, "--m", "600"], capsys)
    assert code == 2 and len(err.splitlines()) == 1
    assert "r_in_um must be smaller than r_out_um" in err


def test_profile_file_and_diameter_options_clash(tmp_path, capsys):
    path = write_profile(tmp_path / "ok.csv", [(0, 27, 39), (1, 27, 39.01), (2, 27, 39)])
    code, _, err = run(["axial", "--profile", path, "--m", "600", "--outer-diameter", "80"], capsys)
    assert code == 2 and "--outer-diameter" in err and len(err.splitlines()) == 1


def test_no_well_is_one_line(capsys):
    code, _, err = run(["axial", "--profile", "taper:40:100", "--m", "600", "--count", "2"], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and "is confined" in err and "cutoff wavelength" in err


def test_failed_run_leaves_no_output_file(tmp_path, capsys):
    target = tmp_path / "states.json"
    code, _, _ = run(["axial", "--profile", "taper:40:100", "--m", "600", "--format", "json", "--output", str(target)], capsys)
    assert code == 2 and not target.exists()


def test_profile_file_gives_the_same_states_as_its_spec(direct, tmp_path, capsys):
    profile = direct.profile
    path = write_profile(tmp_path / "bottle.csv", zip(profile.z_um.tolist(), profile.r_in_um.tolist(), profile.r_out_um.tolist()))
    code, out, _ = run(["axial", "--profile", path, "--m", "600", "--count", "3", "--format", "json"], capsys)
    assert code == 0
    records = json.loads(out)
    assert [r["wavelength_nm"] for r in records] == pytest.approx([md.wavelength_nm for md in direct.modes], abs=1e-9)


# -- --shape sphere: the axisymmetric vector FEM ---------------------------------------------
SPHERE_ARGS = ["axial", "--shape", "sphere:3:1.45", "--engine", "axisym", "--m", "20", "--count", "3"]


@pytest.mark.parametrize("pol, family", [("TE", "Ez"), ("Hz", "Hz")])
def test_sphere_json_matches_the_exact_resonance_of_each_label(pol, family, capsys):
    from wgmfem.exact.sphere import sphere_resonance

    code, out, _ = run(SPHERE_ARGS + ["--pol", pol, "--format", "json", "--quiet"], capsys)
    assert code == 0
    records = json.loads(out)
    first = records[0]
    assert (first["family"], first["l"], first["p"], first["q"]) == (family, 20, 1, 0)
    for rec in records:
        if not rec["resonator_mode"]:
            continue
        exact = sphere_resonance(3.0, 1.45, rec["l"], rec["p"], rec["pol"])
        assert abs(rec["wavelength_nm"] / exact.wavelength_nm - 1) < 1e-6
        assert abs(rec["Q_rad"] / exact.Q - 1) < 1e-2


def test_fewer_fem_points_give_fewer_unknowns_and_still_the_exact_resonance(capsys):
    """--fem-points 8 on the 3 um sphere: fewer unknowns than the default 12, and the TE l = m = 20
    mode still within 1e-6 of the exact resonance (the error of degree-3 elements grows ~h^6)."""
    from wgmfem.exact.sphere import sphere_resonance

    unknowns = {}
    for points in ("12", "8"):
        code, out, err = run(SPHERE_ARGS + ["--fem-points", points, "--format", "json"], capsys)
        assert code == 0
        unknowns[points] = int(err.split("(")[-1].split()[0])
        first = json.loads(out)[0]
        exact = sphere_resonance(3.0, 1.45, first["l"], first["p"], first["pol"])
        assert abs(first["wavelength_nm"] / exact.wavelength_nm - 1) < 1e-6
    assert unknowns["8"] < 0.6 * unknowns["12"]


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--shape", "sphere:3", "--m", "20"], "expected sphere:RADIUS_UM:INDEX"),
        (["--shape", "sphere:-3:1.45", "--m", "20"], "radius must be positive"),
        (["--shape", "sphere:3:1.2:1.33", "--m", "20"], "INDEX > OUTSIDE_INDEX"),
        (["--shape", "sphere:3:1.45", "--m", "20", "--engine", "adiabatic"], "--engine axisym"),
        (["--shape", "sphere:3:1.45", "--m", "20", "--pol", "xy"], "TE (= Ez-like)"),
        (["--shape", "sphere:3:1.45", "--profile", "gaussian:50:30", "--m", "20"], "not allowed with"),
        (["--shape", "sphere:3:1.45", "--m", "20", "--plot", "map.txt"], ".png"),
        (["--shape", "sphere:3:1.45", "--m", "20", "--vtu", "fields.txt"], ".vtu"),
        (["--profile", "gaussian:50:30", "--m", "600", "--vtu", "fields.vtu"], "--engine axisym"),
        (["--profile", "gaussian:50:30", "--engine", "axisym", "--m", "600", "--format", "csv"], "table or JSON"),
        (["--shape", "sphere:3:1.45", "--m", "20", "--format", "csv"], "table or JSON"),
        (["--shape", "sphere:100:1.45", "--m", "3000"], "unknowns"),
    ],
)
def test_bad_shape_input_is_one_line_and_exit_2(extra, fragment, capsys):
    code, out, err = run(["axial"] + extra, capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and fragment in err and "Traceback" not in err


def test_sphere_plot_and_vtu_write_the_fields(tmp_path, capsys):
    import meshio

    path, vtu = tmp_path / "map.png", tmp_path / "fields.vtu"
    code, out, _ = run(SPHERE_ARGS + ["--plot", str(path), "--vtu", str(vtu), "--quiet"], capsys)
    assert code == 0 and "TE/Ez" in out
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fields = meshio.read(vtu)
    assert fields.cells[0].type == "triangle6"
    for j in range(3):  # every mode, its energy density peaking at 1 on a node of the mesh
        assert abs(fields.point_data[f"E_abs2_{j}"].max() - 1) < 1e-12
    # the TE q = 0 mode is Ez-like: after its phase is removed Re E_z carries the peak
    assert abs(fields.point_data["Re_Ez_0"]).max() > 0.99
