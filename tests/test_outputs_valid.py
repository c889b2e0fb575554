"""Every machine-readable output of the command line is valid: strict JSON (no NaN, Infinity)
and CSV without nan/inf cells, on the cases that produce non-finite numbers.

The convention (docs/cli.md, "Output conventions"): an infinite value (the Q of a lossless
mode, a Q beyond the double range) or a quantity that was not computed is JSON null / an empty
CSV cell; a refractive-index model without a real index at a requested wavelength is refused
(exit code 2, one line on stderr).
"""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from wgmfem.cli import main

NEG_N2_YAML = """\
REFERENCES: "a made-up Sellmeier glass: n^2 = 1 + l^2 / (l^2 - 0.04), l in um"
DATA:
  - type: formula 2
    wavelength_range: 0.2 2.0
    coefficients: 0 1.0 0.04
"""
# n^2 < 0 where l^2 / (0.04 - l^2) > 1: 0.1 sqrt(2) um < l < 0.2 um, i.e. 141.42-200 nm
NEG_LO_NM, NEG_HI_NM = 100 * math.sqrt(2), 200.0


def strict_json(text):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def strict_json_lines(text):
    return [strict_json(line) for line in text.splitlines() if line.strip()]


def assert_clean_csv(text):
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        for key, cell in row.items():
            assert cell.strip().lower() not in ("nan", "-nan", "inf", "-inf", "infinity"), (key, cell)
    return rows


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- modes
def test_modes_json_and_csv_of_a_mode_beyond_the_double_range(capsys):
    """Hz m = 30000 p = 1 of the default capillary: Q ~ 1e833 (Q_rad, Q_total infinite) and no
    absorption or extra loss (Q_abs, Q_extra infinite): null / empty; the energy fractions are
    numbers that sum to 1."""
    args = ["modes", "--pol", "Hz", "--m", "30000", "--p", "1", "--no-fsr", "--quiet"]
    code, out, _ = run(args + ["--format", "json"], capsys)
    assert code == 0
    (rec,) = strict_json(out)
    for key in ("Q_rad", "Q_abs", "Q_extra", "Q_total"):
        assert rec[key] is None, key
    fractions = [rec[f"{name}_fraction"] for name in ("core", "wall", "outside")]
    assert all(isinstance(f, float) for f in fractions) and abs(sum(fractions) - 1) < 1e-12
    assert isinstance(rec["verification"]["region_fraction"], float)

    code, out, _ = run(args + ["--format", "csv"], capsys)
    assert code == 0
    (row,) = assert_clean_csv(out)
    assert row["Q_rad"] == row["Q_abs"] == row["Q_total"] == ""
    assert float(row["core_fraction"]) > 0.99 and float(row["effective_area_um2"]) > 0


def test_modes_json_with_absorption_and_gain_fields(capsys):
    """An absorbing core (finite Q_abs) next to the lossless stack (Q_abs null), strictly parsed."""
    code, out, _ = run(["modes", "--core", "1.56+1e-7j", "--pol", "Ez", "--m", "600", "--p", "1", "--no-fsr",
                        "--format", "json", "--quiet"], capsys)
    assert code == 0
    (rec,) = strict_json(out)
    assert isinstance(rec["Q_abs"], float) and rec["Q_abs"] > 0 and rec["Q_extra"] is None
    code, out, _ = run(["modes", "--pol", "Ez", "--m", "30000", "--p", "1", "--no-fsr", "--format", "json",
                        "--lasing-gain", "--quiet"], capsys)
    assert code == 0
    (rec,) = strict_json(out)
    assert rec["Q_abs"] is None and rec["Q_total"] is None  # Q beyond the double range: null
    assert rec["threshold_gain_per_cm"] == 0.0 and rec["lasing_gain_per_cm"] == 0.0  # no loss to pay for
    assert isinstance(rec["confinement_factor"], float) and rec["confinement_factor"] > 0.99


# --------------------------------------------------------------------------- materials
def test_materials_refuses_a_model_without_a_real_index(tmp_path, capsys):
    path = tmp_path / "neg.yml"
    path.write_text(NEG_N2_YAML)
    for fmt in ("json", "table"):
        code, out, err = run(["materials", str(path), "--wavelength", "150:300:50", "--format", fmt], capsys)
        assert code == 2 and out == ""
        errors = [line for line in err.splitlines() if "error" in line]
        assert len(errors) == 1 and "Traceback" not in err
        line = errors[0]
        assert "neg" in line and "n^2 < 0" in line and "150 nm" in line
        lo, hi = (float(v) for v in line.split("from ")[-1].split(" nm")[0].split(" to "))
        assert abs(lo - NEG_LO_NM) < 0.05 and abs(hi - NEG_HI_NM) < 0.05
    # the same model where it has an index: strict JSON
    code, out, _ = run(["materials", str(path), "--wavelength", "250:300:50", "--format", "json"], capsys)
    assert code == 0
    rows = strict_json(out)["index"]
    assert [r["n"] for r in rows] == pytest.approx([math.sqrt(1 + lam**2 / (lam**2 - 0.04)) for lam in (0.25, 0.3)])
    # and the other JSON forms of the command
    code, out, _ = run(["materials", "--format", "json"], capsys)
    assert code == 0
    assert all(set(r) == {"name", "model"} for r in strict_json(out))
    code, out, _ = run(["materials", "toluene", "--wavelength", "430:450:10", "--format", "json"], capsys)
    assert code == 0 and len(strict_json(out)["index"]) == 3


def test_modes_refuse_a_core_without_a_real_index(tmp_path, capsys):
    path = tmp_path / "neg.yml"
    path.write_text(NEG_N2_YAML)
    code, out, err = run(["modes", "--core", str(path), "--wavelength", "150:160", "--format", "json"], capsys)
    assert code == 2 and out == ""
    assert "n^2 < 0" in err and "Traceback" not in err


# --------------------------------------------------------------------------- sweep
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_sweep_rows_beyond_the_double_range(fmt, tmp_path, capsys):
    """Census sweep around m = 30000 (Q infinite): JSON lines (to a file, with its settings file)
    parse strictly, CSV (on stdout) has no nan cells; the energy fractions are numbers."""
    out_file = tmp_path / "sweep.jsonl"
    args = ["sweep", "--inner-diameter", "54:54.05:0.05", "--jobs", "1", "--pol", "Ez", "--p", "1",
            "--wavelength", "8.8:8.8003", "--no-fsr", "--quiet", "--format", fmt]
    code, out, _ = run(args + (["--output", str(out_file)] if fmt == "jsonl" else []), capsys)
    assert code == 0
    if fmt == "jsonl":
        rows = strict_json_lines(out_file.read_text())
        strict_json((tmp_path / "sweep.jsonl.settings.json").read_text())
    else:
        rows = assert_clean_csv(out)
    assert len(rows) == 2
    for row in rows:
        assert row["Q_rad"] in (None, "") and row["Q_total"] in (None, "")
        assert float(row["core_fraction"]) > 0.99 and float(row["confinement_factor"]) > 0.99


# --------------------------------------------------------------------------- design, assign, mesh
class _Injected:
    """A result whose record holds every kind of value a JSON writer must cope with."""

    def to_dict(self):
        return {
            "Q": math.inf, "bad": math.nan, "pair": (1.0, math.nan), "nested": [{"q": -math.inf}],
            "numpy": np.float64("nan"), "numpy32": np.float32(2.5), "array": np.array([1.0, np.inf]),
            "count": np.int64(3), "flag": np.bool_(True), "text": "ok",
        }


INJECTED_EXPECTED = {
    "Q": None, "bad": None, "pair": [1.0, None], "nested": [{"q": None}], "numpy": None, "numpy32": 2.5,
    "array": [1.0, None], "count": 3, "flag": True, "text": "ok",
}


def test_assign_json_writer_is_strict(monkeypatch, capsys):
    import wgmfem.cli.assign as cli_assign

    monkeypatch.setattr(cli_assign, "assign_peaks", lambda *a, **k: _Injected())
    code, out, _ = run(["assign", "--peaks", "436.2,436.4", "--format", "json", "--quiet"], capsys)
    assert code == 0
    assert strict_json(out) == INJECTED_EXPECTED


def test_design_json_is_strict(monkeypatch, capsys):
    """A real run with infinite Q (an FSR of 0.01 nm at 440 nm asks for bores of ~1-4 mm, m ~ 9000
    - 44000, Q beyond 1e308), then a result holding every kind of non-finite value (injected)."""
    code, out, _ = run(["design", "--wavelength", "440", "--min-fsr", "0.01", "--grid", "2x1", "--format", "json",
                        "--quiet"], capsys)
    assert code == 0
    rec = strict_json(out)
    assert rec["designs"]
    for d in rec["designs"]:
        assert d["Q_total"] is None or d["Q_total"] > 1e300
        assert isinstance(d["confinement_factor"], float) and 0.99 < d["confinement_factor"] < 1

    import wgmfem.cli.design as cli_design

    class Result(_Injected):
        feasible = True

    monkeypatch.setattr(cli_design, "design_capillaries", lambda *a, **k: Result())
    code, out, _ = run(["design", "--wavelength", "440", "--min-fsr", "1", "--format", "json", "--quiet"], capsys)
    assert code == 0
    assert strict_json(out) == INJECTED_EXPECTED


def test_mesh_json_is_strict(monkeypatch, tmp_path, capsys):
    """The mesh report with a non-finite field decay at the cut (here injected)."""
    import wgmfem.fem.radial as radial

    monkeypatch.setenv("WGMFEM_MESH_CACHE", str(tmp_path))
    monkeypatch.setattr(radial, "wkb_decay", lambda *a, **k: math.nan)
    code, out, _ = run(["mesh", "--layers", "3:1.56", "--m", "60", "--format", "json"], capsys)
    assert code == 0
    rec = strict_json(out)
    assert rec["r_cut_um"] > 0 and rec["field_decay_at_cut"] is None and rec["num_nodes"] > 0
