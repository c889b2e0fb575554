"""Thermal data of the materials (dn/dT, expansion) against published numbers, and the
``wgmfem materials`` thermal columns and wavelength-count limit.

The reference numbers below are independent of the code's sources (or, for fused silica, a
later analysis of the same measurements), each cited where it is used. The organic liquids
carry typical values that are not traced to one primary measurement; for them these tests
check sign and magnitude against published values of related liquids only.
"""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from wgmfem.cli import main
from wgmfem.cli.materials import MAX_WAVELENGTH_POINTS
from wgmfem.materials import (
    BUILTIN_MATERIALS,
    Cauchy,
    ConstantIndex,
    MaterialRangeError,
    MaterialRangeWarning,
    get_material,
    read_refractiveindex_yaml,
    strict_range,
    thermal_data,
)

# --- published reference numbers --------------------------------------------------------

# Rego, "Temperature dependence of the thermo-optic coefficient of SiO2 glass", Sensors 23,
# 6023 (2023), abstract: Corning 7980 at 293 K, dn/dT = 8.16e-6 /K at 1.55 um, decreasing
# monotonically from 8.74e-6 /K in the visible, almost constant above 1.3 um.
SILICA_DN_DT_1550NM_293K = 8.16e-6
SILICA_DN_DT_VISIBLE_293K = 8.74e-6

# Schiebener et al., J. Phys. Chem. Ref. Data 19, 677 (1990), as tabulated in Weber, Handbook
# of Optical Materials (CRC, 2003), section 5: n of water at 10, 20 and 30 C.
WATER_N_10_20_30C = {
    404.41: (1.34389, 1.34315, 1.34205),
    589.00: (1.33408, 1.33336, 1.33230),
    632.80: (1.33282, 1.33211, 1.33105),
    1013.98: (1.32591, 1.32524, 1.32424),
}
# Same handbook, from Kaye & Laby, Tables of Physical and Chemical Constants (1986): dn/dT of
# water in 1/K between 293 and 298 K.
WATER_DN_DT_293_298K = {404.66: -101e-6, 486.13: -99e-6, 546.07: -98e-6, 587.56: -97e-6, 632.8: -96e-6}

# International Tables for Crystallography Vol. C (2006), Table 3.3.2.1 (immersion media):
# magnitude of dn/dT near 20 C, 1/K.
ITC_WATER_ABS_DN_DT = 1e-4
ITC_N_OCTANE_ABS_DN_DT = 4.8e-4
ITC_IMMERSION_LIQUIDS_ABS_DN_DT = (2.2e-4, 6.4e-4)  # glycerol ... methylene iodide
# CRC Handbook, "Index of refraction of liquids for calibration purposes" (IUPAC, Marsh 1987):
# 2,2,4-trimethylpentane at 589.26 nm, n = 1.39145 (20 C) and 1.38650 (30 C).
ISO_OCTANE_DN_DT = (1.38650 - 1.39145) / 10
# PTB, reference liquids for refractometry (n-heptane, iso-octane, tetrachloroethylene):
# temperature coefficient "approx. 0.5e-3 /K".
PTB_REFERENCE_LIQUIDS_ABS_DN_DT = 0.5e-3

# Linear expansion of fused silica, 1/K: 5.5e-7 is the 20-320 C mean (CRC Handbook); near room
# temperature ~0.4e-6 (Katz, arXiv:cond-mat/9712327).
SILICA_EXPANSION_BOUNDS_PER_K = (0.4e-6, 0.55e-6)


def _water_dn_dT_from_table(lam_nm: float, celsius: float) -> float:
    """Derivative at ``celsius`` of the parabola through Schiebener's n at 10, 20, 30 C."""
    n10, n20, n30 = WATER_N_10_20_30C[lam_nm]
    return (n30 - n10) / 20 + (n30 - 2 * n20 + n10) / 100 * (celsius - 20)


# --- fused silica -------------------------------------------------------------------------


def test_fused_silica_dn_dT_matches_published_corning_7980_values():
    silica = get_material("fused-silica")
    assert silica.dn_dT_per_K(1550.0) == pytest.approx(SILICA_DN_DT_1550NM_293K, rel=0.01)
    lam = np.array([500.0, 633.0, 800.0, 1000.0, 1300.0, 1550.0])
    dn_dT = silica.dn_dT_per_K(lam)
    assert np.all(dn_dT > 0)  # silica's index rises with temperature
    assert np.all(np.diff(dn_dT) < 0)  # falls from the visible to 1.55 um
    visible = silica.dn_dT_per_K(np.linspace(500, 700, 21))
    assert visible.min() <= SILICA_DN_DT_VISIBLE_293K <= visible.max()
    assert abs(dn_dT[-2] / dn_dT[-1] - 1) < 0.01  # almost constant above 1.3 um
    assert np.all((8e-6 < dn_dT) & (dn_dT < 1e-5))  # 8-10e-6 /K over 0.5-1.6 um


def test_fused_silica_expansion_and_source():
    silica = get_material("silica")
    lo, hi = SILICA_EXPANSION_BOUNDS_PER_K
    assert lo <= silica.thermal_expansion_per_K <= hi
    assert "Leviton" in silica.thermal_source and "7980" in silica.thermal_source
    assert silica.dn_dT_depends_on_wavelength and silica.dn_dT_range_nm == (400.0, 2600.0)


def test_dn_dT_outside_its_data_warns_or_raises():
    silica = get_material("fused-silica")
    with pytest.warns(MaterialRangeWarning, match="fused-silica: dn/dT at 300 nm outside the range 400-2600 nm"):
        assert silica.dn_dT_per_K(300.0) > 0
    with pytest.raises(MaterialRangeError, match="dn/dT at 300 nm"):
        silica.dn_dT_per_K(300.0, strict=True)
    with strict_range(), pytest.raises(MaterialRangeError):
        silica.dn_dT_per_K([300.0, 500.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        silica.dn_dT_per_K([400.0, 2600.0], strict=True)  # the range is inclusive


# --- water --------------------------------------------------------------------------------


@pytest.mark.parametrize("lam_nm", sorted(WATER_N_10_20_30C))
def test_water_dn_dT_matches_schiebener_table_at_21_5C(lam_nm):
    expected = _water_dn_dT_from_table(lam_nm, 21.5)  # the code's dn/dT is at 21.5 C
    assert get_material("water").dn_dT_per_K(lam_nm) == pytest.approx(expected, rel=0.03)


@pytest.mark.parametrize("lam_nm, expected", sorted(WATER_DN_DT_293_298K.items()))
def test_water_dn_dT_matches_kaye_and_laby(lam_nm, expected):
    assert get_material("water").dn_dT_per_K(lam_nm) == pytest.approx(expected, rel=0.05)


def test_water_dn_dT_is_negative_and_vectorized():
    water = get_material("water")
    lam = np.array([[300.0, 500.0], [800.0, 1100.0]])
    dn_dT = water.dn_dT_per_K(lam)
    assert dn_dT.shape == (2, 2) and np.all(dn_dT < 0)
    assert isinstance(water.dn_dT_per_K(589.0), float)
    assert water.dn_dT_per_K(589.0) == pytest.approx(-ITC_WATER_ABS_DN_DT, rel=0.1)
    assert water.thermal_expansion_per_K is None and "Daimon" in water.thermal_source


# --- organic liquids ----------------------------------------------------------------------


def test_alkane_series_brackets_n_hexane():
    """Shorter alkanes expand more and have larger |dn/dT|: hexadecane < n-octane < iso-octane
    (published) <= n-hexane, within the PTB range for light reference liquids."""
    hexane = get_material("n-hexane").dn_dT_per_K(589.0)
    assert hexane < 0
    assert abs(hexane) > ITC_N_OCTANE_ABS_DN_DT and abs(hexane) >= abs(ISO_OCTANE_DN_DT)
    assert abs(hexane) == pytest.approx(PTB_REFERENCE_LIQUIDS_ABS_DN_DT, rel=0.2)


@pytest.mark.parametrize("name", ["toluene", "toluene-kedenburg", "ethanol", "n-hexane"])
def test_organic_liquids_sign_and_magnitude(name):
    m = get_material(name)
    value = m.dn_dT_per_K(589.0)
    lo, hi = ITC_IMMERSION_LIQUIDS_ABS_DN_DT
    assert value < 0 and lo < abs(value) < hi
    assert m.thermal_expansion_per_K is None  # a liquid: the bore follows the glass
    assert "typical literature value" in m.thermal_source and "uncertain" in m.thermal_source
    assert not m.dn_dT_depends_on_wavelength and m.dn_dT_per_K(1550.0) == value


def test_toluene_near_reference_liquids():
    assert abs(get_material("toluene").dn_dT_per_K(440.0)) == pytest.approx(PTB_REFERENCE_LIQUIDS_ABS_DN_DT, rel=0.2)


def test_every_builtin_has_cited_thermal_data():
    for name, factory in BUILTIN_MATERIALS.items():
        m = factory()
        assert m.dn_dT_per_K(589.0) is not None and m.thermal_source, name
        line = m.describe_thermal()
        assert "\n" not in line and line.startswith("dn/dT ") and m.thermal_source in line


# --- user values and thermal_data -----------------------------------------------------------


def test_constant_index_user_values():
    m = ConstantIndex(1.56, -4.2e-4, 1e-5)
    assert m.dn_dT_per_K(440.0) == -4.2e-4 and m.thermal_expansion_per_K == 1e-5
    assert m.thermal_source == "user value" and m.index(440.0) == 1.56
    assert np.all(m.dn_dT_per_K(np.array([430.0, 450.0])) == -4.2e-4)
    lossy = ConstantIndex(1.56 + 1e-4j, dn_dT=-4e-4, name="dye", thermal_source="my measurement")
    assert lossy.dn_dT_per_K(440.0) == -4e-4 and lossy.thermal_source == "my measurement"
    bare = ConstantIndex(1.47)
    assert bare.dn_dT_per_K(440.0) is None and bare.thermal_expansion_per_K is None
    assert bare.thermal_source == "" and bare.describe_thermal().startswith("dn/dT unknown")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(dn_dT="abc"), "dn_dT must be a number"),
        (dict(dn_dT=float("nan")), "dn_dT must be a finite number"),
        (dict(dn_dT=5.5), "magnitude <= 0.01"),  # 5.5e-4 given in the wrong unit
        (dict(thermal_expansion=1e-2), "thermal_expansion .* magnitude <= 0.001"),
        (dict(thermal_expansion=float("inf")), "thermal_expansion"),
    ],
)
def test_thermal_values_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConstantIndex(1.5, **kwargs)


def test_any_model_accepts_a_wavelength_dependent_dn_dT():
    m = Cauchy(1.5, 0.004, name="c", dn_dT=lambda lam_nm: -1e-4 * (500.0 / lam_nm), dn_dT_range_nm=(400, 800))
    assert m.dn_dT_per_K(500.0) == pytest.approx(-1e-4)
    assert m.dn_dT_per_K(np.array([400.0, 800.0])) == pytest.approx([-1.25e-4, -0.625e-4])
    with pytest.raises(ValueError, match="positive finite"):
        m.dn_dT_per_K(-1.0)


def test_thermal_data_of_specs(tmp_path):
    assert thermal_data(1.33) == (None, None)
    assert thermal_data("1.56+1e-4j") == (None, None)
    assert thermal_data("toluene") == (get_material("toluene").dn_dT_per_K(500.0), None)
    dn_dT, expansion = thermal_data("fused-silica", wavelength_nm=1550.0)
    assert dn_dT == pytest.approx(SILICA_DN_DT_1550NM_293K, rel=0.01)
    assert SILICA_EXPANSION_BOUNDS_PER_K[0] <= expansion <= SILICA_EXPANSION_BOUNDS_PER_K[1]
    with pytest.raises(ValueError, match="water: dn/dT depends on wavelength; give wavelength_nm"):
        thermal_data("water")
    user = ConstantIndex(1.56, dn_dT=-5e-4, thermal_expansion=2e-6)
    assert thermal_data(user) == (-5e-4, 2e-6)
    path = tmp_path / "glass.yml"
    path.write_text("DATA:\n  - type: formula 5\n    coefficients: 1.5 0.004 -2\n")
    assert read_refractiveindex_yaml(path).dn_dT_per_K(500.0) is None
    assert thermal_data(str(path)) == (None, None)


# --- command line ---------------------------------------------------------------------------


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _table_rows(out):
    return [line.split() for line in out.splitlines() if line and not line.startswith("#")]


def test_materials_list_shows_thermal_data(capsys):
    code, out, _ = run(["materials"], capsys)
    assert code == 0
    thermal = [line.strip() for line in out.splitlines() if line.strip().startswith("thermal:")]
    assert len(thermal) == len(BUILTIN_MATERIALS)
    assert all("dn/dT" in line and "expansion" in line for line in thermal)
    silica = next(line for line in thermal if "Leviton" in line)
    assert "expansion 5.50e-07/K" in silica and "at 589 nm" in silica
    assert any("Daimon" in line for line in thermal)


def test_materials_table_has_a_dn_dT_column(capsys):
    code, out, _ = run(["materials", "water", "--wavelength", "404.66:632.8:228.14"], capsys)
    assert code == 0 and "# wavelength_nm  n  kappa  dn_dT_per_K" in out and "# thermal: dn/dT" in out
    rows = _table_rows(out)
    assert [float(r[0]) for r in rows] == pytest.approx([404.66, 632.8])
    dn_dT = [float(r[3]) for r in rows]
    assert dn_dT == pytest.approx([WATER_DN_DT_293_298K[404.66], WATER_DN_DT_293_298K[632.8]], rel=0.05)
    code, out, _ = run(["materials", "1.33", "--wavelength", "440:440"], capsys)
    assert code == 0 and _table_rows(out) == [["440.000", "1.330000", "0.000e+00", "-"]]


def test_materials_json_has_dn_dT(capsys):
    code, out, _ = run(["materials", "fused-silica", "--wavelength", "1550:1550", "--format", "json"], capsys)
    record = json.loads(out)
    assert code == 0 and "Leviton" in record["thermal_source"]
    assert record["index"][0]["dn_dT_per_K"] == pytest.approx(SILICA_DN_DT_1550NM_293K, rel=0.01)
    lo, hi = SILICA_EXPANSION_BOUNDS_PER_K
    assert lo <= record["thermal_expansion_per_K"] <= hi
    code, out, _ = run(["materials", "1.47", "--wavelength", "440:440", "--format", "json"], capsys)
    record = json.loads(out)
    assert record["index"][0]["dn_dT_per_K"] is None and record["thermal_expansion_per_K"] is None


def test_materials_strict_dn_dT_range(capsys):
    code, out, err = run(["materials", "fused-silica", "--wavelength", "300:300", "--strict"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("wgmfem: error: fused-silica: dn/dT at 300 nm outside the range 400-2600 nm")


@pytest.mark.parametrize("spec", ["400:500:1e-9", "1:1e12:1", "1:1e308:1e-308", "1:100001:1"])
def test_materials_refuses_too_many_wavelengths(spec, capsys):
    code, out, err = run(["materials", "toluene", "--wavelength", spec], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("wgmfem: error: --wavelength") and str(MAX_WAVELENGTH_POINTS) in err


@pytest.mark.parametrize("spec", ["400:inf:1", "nan:500:1", "400:500:nan", "400:500:10:1", "500:400:10"])
def test_materials_refuses_bad_wavelength_ranges(spec, capsys):
    code, out, err = run(["materials", "toluene", "--wavelength", spec], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("wgmfem: error: --wavelength")


def test_materials_at_the_wavelength_limit(capsys):
    code, out, _ = run(["materials", "1.33", "--wavelength", f"1:{MAX_WAVELENGTH_POINTS}:1"], capsys)
    assert code == 0 and len(_table_rows(out)) == MAX_WAVELENGTH_POINTS


def test_materials_cap_returns_at_once_as_a_program():
    proc = subprocess.run(
        [sys.executable, "-m", "wgmfem.cli", "materials", "toluene", "--wavelength", "400:500:1e-9"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
