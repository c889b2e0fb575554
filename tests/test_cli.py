"""The command line: output contract, errors, files, and every command shown in the docs."""

import csv
import io
import json
import math
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from wgmfem.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_default_run_lists_the_paper_core_modes(capsys):
    code, out, err = run(["modes"], capsys)
    assert code == 0
    header = next(line.split() for line in out.splitlines() if line.startswith("pol "))
    rows = [dict(zip(header, line.split())) for line in out.splitlines() if re.match(r"^(Ez|Hz)\s+\d+", line)]
    assert len(rows) > 50
    assert all(r["region"] == "core" and r["p"] in ("1", "2") for r in rows)
    wavelengths = [float(r["lambda_nm"]) for r in rows]
    assert min(wavelengths) >= 425 and max(wavelengths) <= 445
    ez600 = [r for r in rows if (r["pol"], r["m"], r["p"]) == ("Ez", "600", "1")]
    assert ez600 and abs(float(ez600[0]["lambda_nm"]) - 432.0877) < 1e-4  # the paper's Ez p=1 m=600 (docs/theory.md section 7)
    assert "UNVERIFIED" not in out


def test_json_contract_for_the_issue_example(capsys):
    args = "modes --inner-diameter 54 --outer-diameter 78 --core 1.56 --wall 1.47 --pol Ez --m 600 --p 1 --region core --format json"
    code, out, _ = run(args.split(), capsys)
    assert code == 0
    records = json.loads(out)
    assert len(records) == 1
    rec = records[0]
    for key in ("pol", "m", "p", "region", "wavelength_nm", "k_real", "k_imag", "Q_rad", "fsr_nm", "core_fraction", "wall_fraction"):
        assert key in rec
    assert (rec["pol"], rec["m"], rec["p"], rec["region"]) == ("Ez", 600, 1, "core")
    assert abs(rec["wavelength_nm"] - 432.0877) < 5e-5
    assert abs(rec["Q_rad"] / 4.79e12 - 1) < 0.01
    assert rec["k_imag"] < 0 and math.isclose(2 * math.pi / rec["k_real"] * 1000, rec["wavelength_nm"])
    assert rec["verification"]["census_ok"] is True


def test_rod_mode_found_wherever_it_lies(capsys):
    code, out, _ = run("modes --layers 3:1.56 --outside 1 --pol Hz --m 30 --p 2 --format json".split(), capsys)
    assert code == 0
    rec = json.loads(out)[0]
    assert (rec["pol"], rec["m"], rec["p"]) == ("Hz", 30, 2)
    assert abs(rec["wavelength_nm"] - 734) < 1  # expected near 734 nm


def test_aliases_te_tm(capsys):
    _, out_tm, _ = run("modes --pol TM --m 600 --p 1 --format json".split(), capsys)
    _, out_ez, _ = run("modes --pol Ez --m 600 --p 1 --format json".split(), capsys)
    assert json.loads(out_tm)[0]["wavelength_nm"] == json.loads(out_ez)[0]["wavelength_nm"]
    _, out_te, _ = run("modes --pol te --m 600 --p 1 --format json".split(), capsys)
    assert json.loads(out_te)[0]["pol"] == "Hz"


def test_csv_and_atomic_output_file(tmp_path, capsys):
    target = tmp_path / "modes.csv"
    code, out, err = run(["modes", "--wavelength", "431.9:432.3", "--m", "590:610", "--region", "any", "--p", "any", "--format", "csv", "--output", str(target)], capsys)
    assert code == 0 and out == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert rows and {"pol", "m", "p", "region", "wavelength_nm", "Q_rad", "census_ok"} <= set(rows[0])
    assert {r["region"] for r in rows} >= {"core", "wall"}  # wall modes interleave
    assert all(431.9 <= float(r["wavelength_nm"]) <= 432.3 for r in rows)
    assert [p.name for p in tmp_path.iterdir()] == ["modes.csv"]  # no temporary file left


@pytest.mark.parametrize(
    "args, fragment",
    [
        ("--inner-diameter -3", "positive"),
        ("--inner-diameter 0", "positive"),
        ("--inner-diameter 80", "smaller than outer"),
        ("--core nan", "refractive index"),
        ("--wall 0", "refractive index"),
        ("--wavelength 445:425", "empty"),
        ("--wavelength 440", "MIN:MAX"),
        ("--m -1", "m must be >= 0"),
        ("--p 0", "p must be >= 1"),
        ("--pol XY", "unknown polarization"),
        ("--region mantle", "no region"),
        ("--layers 3:1.5,2:1.4", "increase outwards"),
        ("--layers 3:1.5 --core 1.4", "replaces"),
        ("--frobnicate", "unrecognized"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, fragment, capsys):
    code, out, err = run(["modes", *shlex.split(args)], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wgmfem: error:") and fragment in lines[0]


def test_console_script_exit_code_and_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "wgmfem.cli", "modes", "--inner-diameter", "-1"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


# ```bash blocks: each `wgmfem ...` line is a quick test of its own; ```bash slow blocks
# (longer examples) run line after line in one folder, as a user would type them, under -m slow.
FENCE = re.compile(r"```(?:bash|sh)( slow)?\n(.*?)```", flags=re.S)


def _documented_commands():
    params = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for slow, block in FENCE.findall(doc.read_text()):
            lines = [line.split("#")[0].strip() for line in block.splitlines()]
            lines = [line for line in lines if line.startswith("wgmfem ")]
            if slow and lines:
                params.append(pytest.param(lines, id=f"{doc.name}: {lines[0]} ...", marks=pytest.mark.slow))
            elif not slow:
                params += [pytest.param([line], id=f"{doc.name}: {line}") for line in lines]
    return params


@pytest.mark.parametrize("commands", _documented_commands())
def test_every_documented_command_runs(commands, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # commands may write files
    for command in commands:
        code, out, err = run(shlex.split(command)[1:], capsys)
        assert code == 0, f"{command}: {err}"
        assert out or any(tmp_path.iterdir())


def test_fem1d_engine_agrees_with_exact(capsys):
    """1-D radial FEM within 1e-9 in wavelength and 1 % in Q of the exact engine (docs/theory.md section 12)."""
    code, out, _ = run("modes --engine fem1d --m 600 --p 1:2 --pol both --format json".split(), capsys)
    assert code == 0
    records = json.loads(out)
    assert {(r["pol"], r["p"]) for r in records} == {("Ez", 1), ("Ez", 2), ("Hz", 1), ("Hz", 2)}
    for rec in records:
        assert rec["engine"] == "fem1d" and rec["region"] == "core"
        ver = rec["verification"]
        assert ver["relative_difference_to_exact"] < 1e-9
        assert ver["Q_relative_difference_to_exact"] < 0.01
        assert ver["census_ok"] is True


def test_materials_command_and_strict_ranges(capsys):
    code, out, _ = run(["materials"], capsys)
    assert code == 0 and "fused-silica" in out and "Malitson" in out
    code, out, _ = run(["materials", "toluene", "--wavelength", "440:440:1"], capsys)
    assert code == 0 and "1.512891" in out  # Kozma et al. 2005 at 440 nm: 1.51289
    code, out, _ = run(["materials", "toluene", "--wavelength", "440:440:1", "--format", "json"], capsys)
    assert code == 0 and abs(json.loads(out)["index"][0]["n"] - 1.51289) < 1e-5
    code, out, _ = run(["materials", "fused-silica", "--wavelength", "440:440", "--format", "json"], capsys)
    assert code == 0 and abs(json.loads(out)["index"][0]["n"] - 1.46635) < 1e-5  # Malitson 1965 at 440 nm: 1.46635
    code, out, err = run(["materials", "toluene", "--wavelength", "200:210:10", "--strict"], capsys)
    assert code == 2 and out == "" and "outside the validity range" in err
    code, out, err = run(["modes", "--core", "toluene", "--wavelength", "250:252", "--strict"], capsys)
    assert code == 2 and err.count("\n") == 1


def test_material_and_complex_index_options(capsys):
    code, out, _ = run("modes --core 1.56+1e-7j --m 600 --p 1 --pol Ez --format json".split(), capsys)
    rec = json.loads(out)[0]
    assert code == 0 and rec["Q_abs"] is not None and rec["Q_total"] < rec["Q_rad"]
    code, out, _ = run("modes --core toluene --wall fused-silica --m 580 --p 1 --pol Ez --format json".split(), capsys)
    rec = json.loads(out)[0]
    assert code == 0 and "self-consistent" in rec["verification"]["dispersion"]


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_field_command_writes_figure_and_profile(tmp_path, capsys, suffix):
    figure, profile = tmp_path / f"f{suffix}", tmp_path / "p.csv"
    code, out, err = run(["field", "--pol", "Ez", "--m", "600", "--p", "1", "--output", str(figure), "--csv", str(profile)], capsys)
    assert code == 0, err
    assert figure.stat().st_size > 10_000
    rows = list(csv.DictReader(io.StringIO(profile.read_text())))
    r = [float(row["r_um"]) for row in rows]
    intensity = [float(row["intensity"]) for row in rows]
    peak = r[intensity.index(max(intensity))]
    assert 26.0 < peak < 27.0  # the p = 1 core mode peaks just inside the core/glass interface
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([figure.name, profile.name])


def test_field_command_rejects_unknown_format(tmp_path, capsys):
    code, _, err = run(["field", "--m", "600", "--output", str(tmp_path / "f.bmp")], capsys)
    assert code == 2 and ".png, .svg or .pdf" in err


def test_written_files_have_normal_permissions(tmp_path, capsys):
    """Atomic writes go through mkstemp (0600); the result must carry the umask's permissions."""
    out = tmp_path / "modes.csv"
    code, _, _ = run(["modes", "--m", "600", "--p", "1", "--pol", "Ez", "--no-fsr", "--format", "csv", "--output", str(out), "--quiet"], capsys)
    mask = os.umask(0)
    os.umask(mask)
    assert code == 0 and (out.stat().st_mode & 0o777) == (0o666 & ~mask)
    assert [p.name for p in tmp_path.iterdir()] == ["modes.csv"]  # no temporary left behind


def test_output_into_a_missing_folder_is_one_line(tmp_path, capsys):
    code, out, err = run(["modes", "--m", "600", "--p", "1", "--pol", "Ez", "--no-fsr", "--output", str(tmp_path / "no" / "x.csv")], capsys)
    assert code == 2 and err.count("\n") == 1 and "no such folder" in err and "x.csv" in err


@pytest.mark.parametrize(
    "args, fragment",
    [("--bore-offset 30", "reaches the outer surface"),  # a bore that leaves the fibre
     ("--bore-offset 0.5", "unknowns")],  # the paper's full section at m = 600: refused before meshing
)
def test_fem2d_geometry_and_size_are_checked_before_meshing(args, fragment, capsys):
    code, out, err = run(["modes", "--engine", "fem2d", "--m", "600", "--p", "1", "--pol", "Ez", "--quiet", *args.split()], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and fragment in err
