"""Refractive-index models: built-ins vs their published formulas, refractiveindex.info files, ranges."""

import math
import textwrap
import warnings

import numpy as np
import pytest

from wgmfem.materials import (
    BUILTIN_MATERIALS,
    Cauchy,
    ConstantIndex,
    Material,
    MaterialFileError,
    MaterialRangeError,
    MaterialRangeWarning,
    RefractiveIndexInfoFormula,
    Sellmeier,
    Tabulated,
    get_material,
    read_refractiveindex_yaml,
    strict_range,
)

# --- built-ins -----------------------------------------------------------------------

# n(0.44 um) of each built-in's published formula (sources in wgmfem/materials.py), to the digits written.
TABLE_440NM = [
    ("fused-silica", "1.46635"),
    ("toluene", "1.51289"),
    ("n-hexane", "1.38433"),
    ("water", "1.34029"),
    ("ethanol", "1.36870"),
]


def _tolerance(digits: str) -> float:
    return 0.5 * 10.0 ** -len(digits.split(".")[1])


@pytest.mark.parametrize("name, expected", TABLE_440NM)
def test_builtins_reproduce_published_index_at_440nm(name, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 440 nm is inside all these ranges
        n = get_material(name).index(440.0)
    assert isinstance(n, float)
    assert abs(n - float(expected)) <= _tolerance(expected)


def test_kedenburg_toluene_is_extrapolated_at_440nm():
    with pytest.warns(MaterialRangeWarning, match="toluene-kedenburg.*440 nm.*500-1600 nm"):
        n = get_material("toluene-kedenburg").index(440.0)
    assert abs(n - 1.5156) <= _tolerance("1.5156")


def test_builtins_have_range_and_source():
    assert set(BUILTIN_MATERIALS) == {"fused-silica", "toluene", "toluene-kedenburg", "n-hexane", "water", "ethanol"}
    for name, factory in BUILTIN_MATERIALS.items():
        m = factory()
        assert isinstance(m, Material) and m.name == name
        lo, hi = m.valid_range_nm
        assert lo < 440 < hi or name == "toluene-kedenburg"
        assert m.source and "\n" not in m.describe() and name in m.describe()
    assert get_material("fused-silica").valid_range_nm == (210.0, 3710.0)
    assert "Malitson" in get_material("silica").source


def test_vectorized_and_scalar():
    m = get_material("water")
    lam = np.array([[400.0, 500.0], [600.0, 700.0]])
    n = m.index(lam)
    assert n.shape == (2, 2) and n.dtype == float
    assert n[0, 1] == m.index(500.0) == m(500)
    assert np.all(np.diff(n.ravel()) < 0)  # normal dispersion


def test_sellmeier_conventions_agree():
    """Malitson-style C in um and Daimon-style squared C are the same formula."""
    B, C = (0.6961663, 0.4079426, 0.8974794), (0.0684043, 0.1162414, 9.896161)
    plain = Sellmeier(B, C, C_squared=False, name="a")
    squared = Sellmeier(B, [c * c for c in C], C_squared=True, name="b")
    lam = np.linspace(300, 1500, 7)
    assert np.allclose(plain.index(lam), squared.index(lam), rtol=0, atol=1e-14)
    l2 = 0.55**2
    ref = math.sqrt(1 + sum(b * l2 / (l2 - c * c) for b, c in zip(B, C)))
    assert plain.index(550) == pytest.approx(ref, abs=1e-14)


def test_cauchy():
    m = Cauchy(1.5, 0.004, 2e-4, 1e-5, name="c")
    l = 0.5
    assert m.index(500) == pytest.approx(1.5 + 0.004 / l**2 + 2e-4 / l**4 + 1e-5 / l**6, abs=1e-15)
    assert m.valid_range_nm is None  # no range: no warning anywhere
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m.index(5000)


def test_constant_and_complex_index():
    assert ConstantIndex(1.56).index(440) == 1.56
    n = ConstantIndex(1.56 + 1e-4j).index(np.array([430, 440]))
    assert n.dtype == complex and np.all(n == 1.56 + 1e-4j)
    assert get_material("1.56").index(440) == 1.56
    assert get_material(" 1.56+0.0001j ").index(440) == 1.56 + 1e-4j
    assert get_material(1.47).index(300) == 1.47
    for bad in ("0", "-1.5", "nan", "1.5+infj"):
        with pytest.raises(ValueError):
            get_material(bad)


def test_constant_kappa_on_any_model():
    lossy = Sellmeier((1.17477,), (0.01825,), C_squared=True, name="t", kappa=2e-5)
    n = lossy.index(600.0)
    assert isinstance(n, complex) and n.imag == 2e-5
    assert n.real == get_material("toluene-kedenburg").index(600.0)
    assert lossy.is_complex and not get_material("water").is_complex


def test_get_material_names_and_errors(tmp_path):
    assert get_material("Toluene").name == "toluene"
    assert get_material("FUSED_SILICA").name == "fused-silica"
    assert get_material("silica").name == "fused-silica"
    assert get_material("hexane").name == "n-hexane"
    assert get_material("Toluene Kedenburg").name == "toluene-kedenburg"
    m = get_material("water")
    assert get_material(m) is m
    assert get_material("water") is not m  # factories give fresh instances
    with pytest.raises(ValueError, match="unknown material 'unobtainium'"):
        get_material("unobtainium")
    with pytest.raises(MaterialFileError, match="missing.yml"):
        get_material(str(tmp_path / "missing.yml"))
    with pytest.raises(TypeError):
        get_material(None)
    with pytest.raises(ValueError):
        get_material("water").index([500, -1])


# --- tabulated -------------------------------------------------------------------------


def test_tabulated_interpolation_is_linear_in_wavelength():
    t = Tabulated([600, 400, 500], [1.50, 1.60, 1.54], k=[0.0, 2e-3, 1e-3], name="tab")  # unsorted input
    assert t.valid_range_nm == (400.0, 600.0)
    assert t.index(500) == pytest.approx(1.54 + 1e-3j)
    assert t.index(450) == pytest.approx(1.57 + 1.5e-3j)
    assert np.allclose(t.index(np.array([400, 425, 600])), [1.60 + 2e-3j, 1.585 + 1.75e-3j, 1.50])
    for outside in (399.9, 600.1, [450, 700]):
        with pytest.raises(MaterialRangeError, match="tab: wavelength .* outside the n table \\(400-600 nm\\)"):
            t.index(outside)
    real = Tabulated([400, 600], [1.6, 1.5])
    assert isinstance(real.index(500), float) and real.index(500) == pytest.approx(1.55)
    with pytest.raises(ValueError, match="repeated"):
        Tabulated([400, 400], [1.6, 1.5])


@pytest.mark.parametrize("bad", [(0, 1), (5, 1), (1, math.inf)])
def test_bad_ranges_are_refused(bad):
    with pytest.raises(ValueError, match="c: valid_range_nm must be 0 < min <= max"):
        Cauchy(1.5, name="c", valid_range_nm=bad)
    with pytest.raises(ValueError, match="c: dn_dT_range_nm must be 0 < min <= max"):
        Cauchy(1.5, name="c", dn_dT=lambda lam_nm: -1e-4 + 0 * lam_nm, dn_dT_range_nm=bad)


def test_k_table_on_a_formula_is_not_extrapolated():
    m = Cauchy(1.5, name="c", valid_range_nm=(300, 900), k_table=([400, 800], [1e-4, 3e-4]))
    assert m.valid_range_nm == (400.0, 800.0)
    assert m.index(600) == pytest.approx(1.5 + 2e-4j)
    with pytest.raises(MaterialRangeError, match="k table"):
        m.index(350)


# --- validity range --------------------------------------------------------------------


def test_range_warning_and_strict_error():
    toluene = get_material("toluene")
    with pytest.warns(MaterialRangeWarning) as record:
        n = toluene.index(np.array([500.0, 700.0]))
    message = str(record[0].message)
    assert "\n" not in message and "toluene" in message and "500-700 nm" in message and "300-640 nm" in message
    assert np.isfinite(n).all()  # extrapolated, not refused
    with pytest.raises(MaterialRangeError, match="toluene: wavelength 700 nm outside the validity range 300-640 nm"):
        toluene.index(700.0, strict=True)
    with strict_range():
        with pytest.raises(MaterialRangeError):
            toluene.index(700.0)
        with pytest.warns(MaterialRangeWarning):
            assert toluene.index(700.0, strict=False)  # an explicit argument wins
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        toluene.index(640.0, strict=True)  # the range is inclusive
    assert issubclass(MaterialRangeWarning, UserWarning) and issubclass(MaterialRangeError, ValueError)


# --- refractiveindex.info YAML ---------------------------------------------------------


def _write(tmp_path, text, name="material.yml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _formula_file(tmp_path, number, coefficients, wl_range="0.3 2.0"):
    return _write(
        tmp_path,
        f"""\
        REFERENCES: "Test <a href='x'>data</a>"
        DATA:
          - type: formula {number}
            wavelength_range: {wl_range}
            coefficients: {coefficients}
        """,
        name=f"f{number}.yml",
    )


# Formulas of the refractiveindex.info "Dispersion formulas" document, written out term by
# term (l in um, c[0] = C1) to check the reader's generic implementation independently.
FORMULA_CASES = [
    (1, [0.1, 0.6961663, 0.0684043, 0.4079426, 0.1162414, 0.8974794, 9.896161],
     lambda l, c: math.sqrt(1 + c[0] + c[1] * l**2 / (l**2 - c[2] ** 2) + c[3] * l**2 / (l**2 - c[4] ** 2)
                            + c[5] * l**2 / (l**2 - c[6] ** 2))),
    (2, [0.05, 0.5684, 0.0051, 0.1726, 0.0182, 0.1131, 10.698],
     lambda l, c: math.sqrt(1 + c[0] + c[1] * l**2 / (l**2 - c[2]) + c[3] * l**2 / (l**2 - c[4])
                            + c[5] * l**2 / (l**2 - c[6]))),
    (3, [2.1, 0.01, 2, -0.012, -2, 0.002, -4],
     lambda l, c: math.sqrt(c[0] + c[1] * l ** c[2] + c[3] * l ** c[4] + c[5] * l ** c[6])),
    (4, [2.80333, 0.94470, 2, 0.3004, 2, 0, 0, 0, 1, -0.00714, 2],  # ZnO (Bond) e-ray, 11 coefficients
     lambda l, c: math.sqrt(c[0] + c[1] * l ** c[2] / (l**2 - c[3] ** c[4]) + c[9] * l ** c[10])),
    (4, [1.5, 0.3, 2, 0.1, 2, 0.05, 1.5, 8, 2, -0.01, 2, 0.001, 1, 2e-4, -2, 1e-5, -4],
     lambda l, c: math.sqrt(c[0] + c[1] * l ** c[2] / (l**2 - c[3] ** c[4]) + c[5] * l ** c[6] / (l**2 - c[7] ** c[8])
                            + c[9] * l ** c[10] + c[11] * l ** c[12] + c[13] * l ** c[14] + c[15] * l ** c[16])),
    (5, [1.4815, 4.186e-3, -2, 2.96117366e-4, -4, 1.3562e-5, -6],
     lambda l, c: c[0] + c[1] * l ** c[2] + c[3] * l ** c[4] + c[5] * l ** c[6]),
    (6, [0, 2.50141e-3, 91.012, 5.00283e-4, 87.892, 5.22343e-2, 214.02],  # argon (Bideau-Mehu)
     lambda l, c: 1 + c[0] + c[1] / (c[2] - l**-2) + c[3] / (c[4] - l**-2) + c[5] / (c[6] - l**-2)),
    (7, [1.5, 0.005, 1e-4, -0.001, 1e-5, -1e-7],
     lambda l, c: c[0] + c[1] / (l**2 - 0.028) + c[2] / (l**2 - 0.028) ** 2 + c[3] * l**2 + c[4] * l**4 + c[5] * l**6),
    (8, [0.3, 0.01, 0.01, -0.001],
     lambda l, c: math.sqrt((1 + 2 * (r := c[0] + c[1] * l**2 / (l**2 - c[2]) + c[3] * l**2)) / (1 - r))),
    (9, [2.2, 0.01, 0.02, 0.05, 3.0, 0.1],
     lambda l, c: math.sqrt(c[0] + c[1] / (l**2 - c[2]) + c[3] * (l - c[4]) / ((l - c[4]) ** 2 + c[5]))),
]  # fmt: skip


@pytest.mark.parametrize("number, coefficients, formula", FORMULA_CASES)
def test_yaml_formulas_match_their_definitions(tmp_path, number, coefficients, formula):
    path = _formula_file(tmp_path, number, " ".join(repr(c) for c in coefficients))
    m = read_refractiveindex_yaml(path)
    assert isinstance(m, RefractiveIndexInfoFormula) and m.formula == number
    assert m.name == f"f{number}" and m.valid_range_nm == (300.0, 2000.0)
    assert "Test data" in m.source and "<a" not in m.source
    lam_nm = np.array([350.0, 440.0, 633.0, 1064.0, 1550.0])
    expected = [formula(l / 1000, coefficients) for l in lam_nm]
    assert np.all(np.isfinite(expected))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.allclose(m.index(lam_nm), expected, rtol=1e-14, atol=0)
    assert get_material(str(path)).index(633.0) == pytest.approx(formula(0.633, coefficients), rel=1e-14)


def test_yaml_sellmeier_files_match_builtins(tmp_path):
    silica = _formula_file(tmp_path, 1, "0 0.6961663 0.0684043 0.4079426 0.1162414 0.8974794 9.896161", "0.21 3.71")
    water = _formula_file(
        tmp_path, 2, "0 5.684027565e-1 5.101829712e-3 1.726177391e-1 1.821153936e-2 "
        "2.086189578e-2 2.620722293e-2 1.130748688e-1 1.069792721e1", "0.182 1.129",
    )  # fmt: skip
    toluene = _formula_file(tmp_path, 5, "1.4815 4.186e-3 -2 2.96117366e-4 -4 1.3562e-5 -6", "0.3 0.64")
    lam = np.linspace(300, 640, 9)
    for path, name in ((silica, "fused-silica"), (water, "water"), (toluene, "toluene")):
        from_file, builtin = read_refractiveindex_yaml(path), get_material(name)
        assert from_file.valid_range_nm == pytest.approx(builtin.valid_range_nm)
        assert np.allclose(from_file.index(lam), builtin.index(lam), rtol=1e-14, atol=0)


def test_yaml_formula_range_warns(tmp_path):
    m = read_refractiveindex_yaml(_formula_file(tmp_path, 5, "1.5 0.004 -2", "0.4 0.8"))
    with pytest.warns(MaterialRangeWarning, match="f5: wavelength 350 nm outside the validity range 400-800 nm"):
        m.index(350)
    with pytest.raises(MaterialRangeError):
        m.index(350, strict=True)


def test_yaml_tabulated_n_k_nk(tmp_path):
    nk = read_refractiveindex_yaml(_write(tmp_path, """\
        DATA:
          - type: tabulated nk
            data: |
                0.40 1.60 0.002
                0.50 1.54 0.001
                0.60 1.50 0.000
        """))  # fmt: skip
    assert isinstance(nk, Tabulated) and nk.valid_range_nm == (400.0, 600.0)
    assert nk.index(450) == pytest.approx(1.57 + 1.5e-3j)
    with pytest.raises(MaterialRangeError):
        nk.index(650)

    n_then_k = read_refractiveindex_yaml(_write(tmp_path, """\
        DATA:
          - type: tabulated n
            data: |
                0.4 1.6
                0.6 1.5
          - type: tabulated k
            data: |
                0.45 1.0e-3
                0.55 3.0e-3
        """))  # fmt: skip
    assert n_then_k.valid_range_nm == (450.0, 550.0)
    assert n_then_k.index(500) == pytest.approx(1.55 + 2e-3j)
    with pytest.raises(MaterialRangeError, match="k table"):
        n_then_k.index(420)

    n_only = read_refractiveindex_yaml(_write(tmp_path, "DATA:\n  - type: tabulated n\n    data: '0.4 1.6\n\n      0.6 1.5'\n"))
    assert isinstance(n_only.index(500), float) and n_only.index(500) == pytest.approx(1.55)


def test_yaml_formula_plus_tabulated_k(tmp_path):
    m = read_refractiveindex_yaml(_write(tmp_path, """\
        DATA:
          - type: formula 1
            wavelength_range: 0.21 3.71
            coefficients: 0 0.6961663 0.0684043 0.4079426 0.1162414 0.8974794 9.896161
          - type: tabulated k
            data: |
                0.3 2.0e-7
                0.5 1.0e-7
        """), name="lossy silica")  # fmt: skip
    assert m.name == "lossy silica" and m.valid_range_nm == (300.0, 500.0)
    n = m.index(440.0)
    assert n.real == pytest.approx(get_material("silica").index(440.0), abs=1e-15)
    assert n.imag == pytest.approx(1.3e-7)
    assert "tabulated k" in m.describe()


MALFORMED = [
    ("no_data", "REFERENCES: nothing here\n", "no DATA section"),
    ("not_mapping", "- 1\n- 2\n", "no DATA section"),
    ("empty_data", "DATA: []\n", "non-empty list"),
    ("no_type", "DATA:\n  - coefficients: 1 2 3\n", "DATA entry 1 has no 'type'"),
    ("unknown_formula", "DATA:\n  - type: formula 12\n    coefficients: 1.5\n", "unknown type 'formula 12'"),
    ("unknown_type", "DATA:\n  - type: tabulated x\n    data: 0.5 1.5\n", "unknown type 'tabulated x'"),
    ("no_coefficients", "DATA:\n  - type: formula 1\n    wavelength_range: 0.3 1\n", "has no coefficients"),
    ("bad_coefficients", "DATA:\n  - type: formula 1\n    coefficients: 0 0.69 abc\n", "coefficients must be numbers"),
    ("odd_pairs", "DATA:\n  - type: formula 1\n    coefficients: 0 0.69 0.07 0.4\n", "takes an odd number"),
    ("too_many", "DATA:\n  - type: formula 8\n    coefficients: 1 2 3 4 5\n", "formula 8 \\(retro\\) takes 1-4"),
    ("nan_coefficient", "DATA:\n  - type: formula 5\n    coefficients: 1.5 nan -2\n", "finite numbers"),
    ("bad_range", "DATA:\n  - type: formula 5\n    wavelength_range: 0.8 0.4\n    coefficients: 1.5\n", "wavelength_range"),
    ("non_numeric_data", "DATA:\n  - type: tabulated n\n    data: |\n      0.4 1.6\n      0.5 one\n", "row 2.*numbers"),
    ("short_row", "DATA:\n  - type: tabulated nk\n    data: |\n      0.4 1.6 0.1\n      0.5 1.5\n", "row 2: expected 3"),
    ("no_rows", "DATA:\n  - type: tabulated n\n    data: ''\n", "data is empty"),
    ("repeated_wl", "DATA:\n  - type: tabulated n\n    data: |\n      0.4 1.6\n      0.4 1.5\n", "repeated"),
    ("k_only", "DATA:\n  - type: tabulated k\n    data: 0.5 0.1\n", "no refractive-index \\(n\\) entry"),
    ("two_n", "DATA:\n  - type: formula 5\n    coefficients: 1.5\n  - type: tabulated n\n    data: 0.5 1.5\n",
     "more than one refractive-index"),
    ("bad_yaml", "DATA:\n  - type: formula 1\n   coefficients: [1, 2\n", "not valid YAML"),
]  # fmt: skip


@pytest.mark.parametrize("stem, text, match", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_yaml_raises_one_line_file_error(tmp_path, stem, text, match):
    path = _write(tmp_path, text, name=f"{stem}.yml")
    with pytest.raises(MaterialFileError, match=match) as info:
        read_refractiveindex_yaml(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert isinstance(info.value, ValueError)


def test_missing_file(tmp_path):
    with pytest.raises(MaterialFileError, match="nope.yml: cannot read file"):
        read_refractiveindex_yaml(tmp_path / "nope.yml")
