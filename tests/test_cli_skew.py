"""`wgmfem modes --beta`: the skew modes on the command line, against the library and the
independent mpmath reference (tests/reference/skew_roots.json via tests/test_skew.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import wgmfem
from wgmfem.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_skew import ref_alpha0, ref_k  # noqa: E402


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_json_of_a_skew_mode_matches_the_reference(capsys):
    code, out, err = run(["modes", "--pol", "Ez", "--m", "600", "--p", "1", "--beta", "0.5", "--format", "json", "--quiet"], capsys)
    assert code == 0, err
    (record,) = json.loads(out)
    k_ref = complex(ref_k("paper-Ez", "0.5"))
    assert record["beta_per_um"] == 0.5
    assert record["k_real"] == pytest.approx(k_ref.real, rel=1e-14)
    assert record["Q_rad"] == pytest.approx(k_ref.real / (-2 * k_ref.imag), rel=1e-2)
    assert record["axial_curvature"] == pytest.approx(ref_alpha0("paper-Ez"), rel=1e-6)
    assert record["verification"]["census_ok"] is True
    assert record["verification"]["residual"] < 1e-13  # |D/D'| / |k| at the reported root
    assert record["fsr_nm"] is None and record["effective_area_um2"] is None  # beta = 0 closed forms withheld


def test_table_has_the_skew_columns(capsys):
    code, out, err = run(["modes", "--pol", "Hz", "--m", "600", "--p", "1", "--beta", "0.3"], capsys)
    assert code == 0, err
    header = next(line for line in out.splitlines() if line.startswith("pol"))
    assert "beta/um" in header and "alpha" in header and "v_z/c" in header
    md = wgmfem.find_modes(wgmfem.Capillary(), pol="Hz", m=600, p=1, fsr=False, beta_per_um=0.3)[0]
    assert f"{md.wavelength_nm:.5f}" in out


@pytest.mark.parametrize(("args", "says"), [
    (["--beta", "-1"], "--beta: must be a number >= 0"),
    (["--beta", "nan"], "--beta: must be a number >= 0"),
    (["--beta", "0.5", "--engine", "fem1d"], "exact engine only"),
])
def test_bad_beta_is_one_line_and_exit_2(args, says, capsys):
    code, out, err = run(["modes", "--pol", "Ez", "--m", "600", "--p", "1", *args], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and says in err
