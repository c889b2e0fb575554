"""Capillary design: every proposed geometry, re-solved independently (a window census with
find_modes, not the design code's family search), meets the limits with the margins it states;
impossible limits give a clear "no design" and exit code 2; bad input is one line, exit 2."""

import json
import math

import pytest

import wgmfem
from wgmfem.cli import main
from wgmfem.design import design_capillaries
from wgmfem.solve import find_modes

TARGET_NM = 440.0


def resolve(design, pol="Ez"):
    """The p = 1 core mode nearest the target of the proposed capillary, found from scratch."""
    cap = wgmfem.Capillary(design["inner_diameter_um"], design["outer_diameter_um"], 1.56, 1.47)
    modes = find_modes(cap, pol=pol, wavelength_nm=(TARGET_NM - 1.5, TARGET_NM + 1.5), p=1, region="core", q_min=2.0)
    return min(modes, key=lambda md: abs(md.wavelength_nm - TARGET_NM))


def test_designs_meet_fsr_and_confinement_when_resolved():
    result = design_capillaries(TARGET_NM, min_fsr_nm=1.0, min_confinement=0.85, inner_diameter_um=(30.0, 42.0), grid=(5, 2))
    d = result.to_dict()
    assert d["feasible"] and d["designs"]
    scores = [x["score"] for x in d["designs"]]
    assert scores == sorted(scores, reverse=True)  # ranked by the smallest margin
    for design in d["designs"]:
        md = resolve(design)
        assert (md.m, md.p, md.region) == (design["m"], 1, "core")
        assert abs(md.wavelength_nm - TARGET_NM) < 0.05  # tuned onto the target
        assert md.fsr_nm >= 1.0 and md.core_fraction >= 0.85
        assert math.isclose(design["margins"]["fsr_nm"], math.log(md.fsr_nm / 1.0), abs_tol=1e-6)
        assert math.isclose(design["margins"]["confinement"], math.log(md.core_fraction / 0.85), abs_tol=1e-6)
        assert math.isclose(design["score"], min(design["margins"].values()))
        assert 2.0 <= design["wall_thickness_um"] <= 20.0


def test_q_limit_is_met_when_resolved():
    result = design_capillaries(TARGET_NM, min_q=1e9, inner_diameter_um=(8.0, 20.0), wall_thickness_um=(1.0, 6.0), grid=(4, 2), top=3)
    assert result.designs
    # the limit binds: the 8 um bore's core mode (re-solved here) leaks below it and is not proposed
    small = find_modes(wgmfem.Capillary(8.0, 10.0, 1.56, 1.47), pol="Ez", wavelength_nm=(430, 450), p=1, region="core", q_min=2.0)
    assert small and max(md.Q_total for md in small) < 1e9
    assert all(x.inner_diameter_um > 8.5 for x in result.designs)
    for design in (x.to_dict() for x in result.designs):
        md = resolve(design)
        assert md.Q_total >= 1e9
        assert math.isclose(design["margins"]["Q"], math.log(md.Q_total / 1e9), rel_tol=1e-3)


def test_impossible_limits_give_no_design_and_exit_2(capsys):
    # FSR >= 3 nm needs a bore below ~13 um, where a p = 1 core mode holds well under 90 % of its energy
    code = main(["design", "--wavelength", "440", "--min-fsr", "3", "--min-confinement", "0.9", "--grid", "3x2", "--format", "json", "--quiet"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("wgmfem: error: no design meets the limits") and err.count("\n") == 1
    d = json.loads(out)
    assert d["feasible"] is False and d["designs"] == []
    assert d["closest"] and all(min(c["margins"].values()) < 0 for c in d["closest"])


def test_cli_table_and_output_file(tmp_path, capsys):
    out = tmp_path / "designs.json"
    args = ["design", "--wavelength", "440", "--min-fsr", "1.2", "--min-confinement", "0.8", "--inner-diameter", "30:40",
            "--grid", "4x2", "--format", "json", "--output", str(out), "--quiet"]
    assert main(args) == 0
    d = json.loads(out.read_text())
    assert d["designs"] and all(x["feasible"] for x in d["designs"])
    assert main(args[:-5] + ["--quiet"]) == 0
    table = capsys.readouterr().out
    assert "rank" in table and "fsr_nm +" in table


@pytest.mark.parametrize(
    "args",
    [
        ["design", "--wavelength", "440"],  # no limit
        ["design", "--min-fsr", "1"],  # no wavelength
        ["design", "--wavelength", "440", "--min-fsr", "1", "--pol", "both"],
        ["design", "--wavelength", "440", "--min-fsr", "1", "--wall-thickness", "5:2"],
        ["design", "--wavelength", "440", "--min-fsr", "1", "--grid", "0x3"],
        ["design", "--wavelength", "440", "--min-confinement", "1.5"],
        ["design", "--wavelength", "-440", "--min-fsr", "1"],
        ["design", "--wavelength", "440", "--min-fsr", "1", "--core", "unobtainium"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, capsys):
    assert main(args) == 2
    _, err = capsys.readouterr()
    assert err.startswith("wgmfem: error:") and err.count("\n") == 1
