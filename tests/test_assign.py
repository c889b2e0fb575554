"""Mode assignment: spectra synthesised by the exact solver (other D and n than the starting
guess, noise, spurious and missing peaks) must give back the diameter, index and exact
(pol, m, p) labels within the uncertainties the fit states, leave spurious peaks unassigned,
flag what the data cannot decide; bad input is one line, exit 2."""

import json
import math

import numpy as np
import pytest

import wgmfem
from wgmfem.assign import assign_peaks
from wgmfem.cli import main
from wgmfem.solve import find_modes
from wgmfem.spectrum import read_spectrum

TRUE = dict(inner_diameter_um=54.6, outer_diameter_um=78.0, core_index=1.556, wall_index=1.47)


def synthetic_modes(families, **geometry):
    """Exact modes of a capillary (found family member by family member, not by the assign code path)."""
    cap = wgmfem.Capillary(**{**TRUE, **geometry})
    modes = []
    for pol, m_range, p in families:
        modes += find_modes(cap, pol=pol, m=m_range, p=p, fsr=False)
    return sorted(modes, key=lambda md: md.wavelength_nm)


def labels(modes):
    return [(md.pol, md.m, md.p) for md in modes]


def exact_peaks(modes, sigma, seed):
    return np.array([md.wavelength_nm for md in modes]) + np.random.default_rng(seed).normal(0, sigma, len(modes))


def test_peak_list_gives_back_the_diameter_and_the_labels():
    modes = synthetic_modes([("Ez", (585, 592), 1), ("Hz", (586, 590), 1)])
    sigma = 0.001
    peaks = exact_peaks(modes, sigma, 7)
    guess = wgmfem.Capillary(54.0, 78.0, 1.556, 1.47)  # 1.1 % off: six mode numbers away
    result = assign_peaks(peaks, guess, fit=("inner-diameter",), sigma_nm=sigma, search=0.015)
    d = result.to_dict()
    assert [(pk["pol"], pk["m"], pk["p"]) for pk in d["peaks"]] == labels(modes)
    assert all(pk["assigned"] and pk["region"] == "core" and pk["census_ok"] for pk in d["peaks"])
    fit = d["fit"]["inner_diameter_um"]
    assert 0 < fit["sigma"] < 1e-3
    assert abs(fit["value"] - 54.6) < 3 * fit["sigma"]
    assert not d["ambiguous"] and d["verdict"].startswith("unique")
    assert d["fit"]["sigma_source"] == "stated" and d["fit"]["p_value"] > 1e-3
    # the m-offset neighbours were fitted too and are far less probable: the degeneracy is broken
    best = d["candidates"][0]
    assert best["best"] and best["m_offset"] == 0
    neighbours = [c for c in d["candidates"] if c["m_offset"] in (-1, 1)]
    assert neighbours and all(c["probability"] < 1e-2 * best["probability"] for c in neighbours)
    # beside it, the simple formula's m (independently: m = pi n D / lambda), ~12 too high (docs/theory.md)
    for pk in d["peaks"]:
        assert pk["m_simple_formula"] == round(math.pi * 1.556 * fit["value"] * 1e3 / pk["wavelength_nm"])
        assert 8 <= pk["m_simple_formula"] - pk["m"] <= 16


def test_a_spurious_peak_is_left_unassigned_and_a_missing_mode_does_not_matter():
    modes = synthetic_modes([("Ez", (585, 592), 1), ("Hz", (586, 590), 1)])
    sigma = 0.002
    kept = [md for i, md in enumerate(modes) if i != 4]  # one mode stayed below threshold
    peaks = exact_peaks(kept, sigma, 3)
    # a spurious line halfway between two modes: ~0.09 nm = 45 sigma from either
    gap = (modes[6].wavelength_nm + modes[7].wavelength_nm) / 2
    result = assign_peaks(np.append(peaks, gap), wgmfem.Capillary(54.0, 78.0, 1.556, 1.47), sigma_nm=sigma, search=0.015)
    d = result.to_dict()
    spurious = [pk for pk in d["peaks"] if abs(pk["wavelength_nm"] - gap) < 1e-9]
    assert len(spurious) == 1 and not spurious[0]["assigned"] and spurious[0]["pol"] is None
    assert "sigma" in spurious[0]["why"]
    assert [(pk["pol"], pk["m"], pk["p"]) for pk in d["peaks"] if pk["assigned"]] == labels(kept)
    fit = d["fit"]["inner_diameter_um"]
    assert abs(fit["value"] - 54.6) < 3 * fit["sigma"]
    assert "1 peak(s) unassigned" in d["verdict"]


def test_a_peak_between_two_families_is_ambiguous_per_peak():
    # an Ez p = 2 mode and an Ez p = 1 mode 0.015 nm apart, the peak between them (noise 0.005 nm):
    # the label of that peak is not decided by the data, and the verdict must say so
    cap = wgmfem.Capillary(**TRUE)
    p1 = find_modes(cap, pol="Ez", wavelength_nm=(425, 445), p=1, region="core", fsr=False)
    p2 = find_modes(cap, pol="Ez", wavelength_nm=(425, 445), p=2, region="core", fsr=False)
    a, b = min(((x, y) for x in p1 for y in p2), key=lambda xy: abs(xy[0].wavelength_nm - xy[1].wavelength_nm))
    assert abs(a.wavelength_nm - b.wavelength_nm) < 0.05
    near = sorted([md for md in p1 if 0 < abs(md.m - a.m) <= 3], key=lambda md: md.wavelength_nm)
    between = 0.5 * (a.wavelength_nm + b.wavelength_nm)
    peaks = [md.wavelength_nm for md in near] + [between]
    sigma = max(0.005, abs(a.wavelength_nm - b.wavelength_nm))
    result = assign_peaks(peaks, cap, pol="Ez", p=(1, 2), sigma_nm=sigma, search=0.003)
    d = result.to_dict()
    pk = next(pk for pk in d["peaks"] if abs(pk["wavelength_nm"] - between) < 1e-9)
    explanations = {(pk["pol"], pk["m"], pk["p"])} | {(x["pol"], x["m"], x["p"]) for x in pk["alternatives"]}
    assert {("Ez", a.m, 1), ("Ez", b.m, 2)} <= explanations
    assert d["ambiguous"]


def test_the_search_window_is_a_hard_bound_and_its_edge_is_flagged():
    modes = synthetic_modes([("Ez", (585, 592), 1), ("Hz", (586, 590), 1)])
    peaks = exact_peaks(modes, 0.001, 5)
    start = 53.5  # the true 54.6 um is 2 % away; the window allows 1 %
    result = assign_peaks(peaks, wgmfem.Capillary(start, 78.0, 1.556, 1.47), sigma_nm=0.001, search=0.01)
    d = result.to_dict()
    lo, hi = d["fit"]["search_window"]["inner_diameter_um"]
    assert lo == pytest.approx(start * 0.99) and hi == pytest.approx(start * 1.01)
    assert lo <= d["fit"]["inner_diameter_um"]["value"] <= hi
    for c in d["candidates"]:
        assert lo <= c["inner_diameter_um"] <= hi
    # the fit cannot reach the truth: it says so (at the edge, or too many peaks left unexplained)
    assert d["fit"]["at_search_edge"] or d["verdict"].startswith("poor fit")
    assert d["ambiguous"]


def lorentzian_spectrum(modes, fwhm_nm, step_nm, noise, seed):
    lam = np.array([md.wavelength_nm for md in modes])
    x = np.arange(lam.min() - 0.3, lam.max() + 0.3, step_nm)
    y = sum(1 / (1 + (2 * (x - c) / fwhm_nm) ** 2) for c in lam)
    y = y + np.random.default_rng(seed).normal(0, noise, x.size)
    return x, y


def test_spectrum_file_gives_back_the_diameter_and_labels_cli(tmp_path, capsys):
    modes = synthetic_modes([("Ez", (587, 590), 1), ("Hz", (587, 590), 1)])
    x, y = lorentzian_spectrum(modes, fwhm_nm=0.02, step_nm=0.001, noise=0.01, seed=3)
    spectrum = tmp_path / "spectrum.csv"
    spectrum.write_text("wavelength_nm,intensity\n" + "".join(f"{a:.5f},{b:.5f}\n" for a, b in zip(x, y)))
    wl, _ = read_spectrum(str(spectrum))
    assert wl.size == x.size
    plot = tmp_path / "assigned.png"
    args = ["assign", "--spectrum", str(spectrum), "--inner-diameter", "54.3", "--core", "1.556", "--search", "1",
            "--format", "json", "--plot", str(plot), "--quiet"]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    d = json.loads(out)
    assert [(pk["pol"], pk["m"], pk["p"]) for pk in d["peaks"]] == labels(modes)
    fit = d["fit"]
    assert fit["sigma_source"].startswith("half the fitted linewidth")
    assert all(pk["sigma_nm"] == pytest.approx(0.01, rel=0.1) for pk in d["peaks"])  # FWHM / 2
    value = fit["inner_diameter_um"]
    assert abs(value["value"] - 54.6) < 3 * value["sigma_with_labelling"]
    assert plot.stat().st_size > 20_000


def test_without_sigma_the_estimate_is_reported_as_such():
    modes = synthetic_modes([("Ez", (585, 592), 1), ("Hz", (586, 590), 1)])
    peaks = exact_peaks(modes, 0.002, 9)
    d = assign_peaks(peaks, wgmfem.Capillary(54.3, 78.0, 1.556, 1.47), search=0.01).to_dict()
    assert d["fit"]["sigma_source"].startswith("estimated")
    assert d["fit"]["p_value"] is None
    assert any("sigma estimated" in f for f in d["flags"])
    assert 0.001 < d["fit"]["sigma_nm"] < 0.004  # the scatter that was put in
    assert [(pk["pol"], pk["m"], pk["p"]) for pk in d["peaks"]] == labels(modes)


@pytest.mark.slow
def test_diameter_and_index_together_cli(tmp_path, capsys):
    modes = synthetic_modes([("Ez", (585, 592), 1), ("Hz", (586, 590), 1)])
    sigma = 0.001
    peaks = exact_peaks(modes, sigma, 11)
    out_file = tmp_path / "fit.json"
    args = ["assign", "--peaks", ",".join(f"{v:.5f}" for v in peaks), "--inner-diameter", "54", "--core", "1.55",
            "--fit", "inner-diameter,core", "--sigma", str(sigma), "--format", "json", "--output", str(out_file), "--quiet"]
    assert main(args) == 0
    d = json.loads(out_file.read_text())
    assert [(pk["pol"], pk["m"], pk["p"]) for pk in d["peaks"]] == labels(modes)
    fit = d["fit"]
    assert abs(fit["inner_diameter_um"]["value"] - 54.6) < 3 * fit["inner_diameter_um"]["sigma_with_labelling"]
    assert abs(fit["core_index"]["value"] - 1.556) < 3 * fit["core_index"]["sigma_with_labelling"]
    assert fit["correlation"] < -0.99  # D and n trade off along lambda ~ n D


@pytest.mark.slow
def test_core_index_alone():
    modes = synthetic_modes([("Ez", (585, 592), 1), ("Hz", (586, 590), 1)])
    peaks = exact_peaks(modes, 0.001, 5)
    result = assign_peaks(peaks, wgmfem.Capillary(54.6, 78.0, 1.54, 1.47), fit=("core",), sigma_nm=0.001, search=0.02)
    d = result.to_dict()
    assert [(pk["pol"], pk["m"], pk["p"]) for pk in d["peaks"]] == labels(modes)
    value = d["fit"]["core_index"]
    assert abs(value["value"] - 1.556) < 3 * value["sigma_with_labelling"]


def test_three_noisy_peaks_of_one_family_are_ambiguous():
    modes = synthetic_modes([("Ez", (588, 590), 1)])
    sigma = 0.01  # comparable to what separates the m-offsets (~0.007 nm rms)
    peaks = exact_peaks(modes, sigma, 2)
    result = assign_peaks(peaks, wgmfem.Capillary(54.0, 78.0, 1.556, 1.47), sigma_nm=sigma, search=0.01)
    d = result.to_dict()
    assert d["ambiguous"] and d["verdict"].startswith("ambiguous")
    fit = d["fit"]["inner_diameter_um"]
    assert fit["sigma_with_labelling"] > 3 * fit["sigma"]  # the m-offsets widen the diameter's uncertainty


@pytest.mark.parametrize(
    "args",
    [
        ["assign", "--peaks", "abc"],
        ["assign", "--peaks", "440.1"],
        ["assign", "--peaks", "440.1,440.1"],
        ["assign"],
        ["assign", "--peaks", "440,441", "--spectrum", "x.csv"],
        ["assign", "--spectrum", "/nonexistent/spectrum.csv"],
        ["assign", "--peaks", "440,441", "--fit", "wall"],
        ["assign", "--peaks", "440,441", "--core", "toluene"],
        ["assign", "--peaks", "440,441", "--layers", "3:1.56"],
        ["assign", "--peaks", "440,441", "--search", "50"],
        ["assign", "--peaks", "440,441", "--sigma", "-1"],
        ["assign", "--peaks", "440,441", "--plot", "out.txt"],
        ["assign", "--peaks", "440,441", "--inner-diameter", "90"],
        ["assign", "--peaks", "440,441", "--fit", "inner-diameter,core"],
        ["assign", "--peaks", "440,441", "--outlier-prior", "0.7"],
        ["assign", "--peaks", "1500,1501.3,1502.2", "--inner-diameter", "1", "--outer-diameter", "3"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, capsys):
    assert main(args) == 2
    _, err = capsys.readouterr()
    assert err.startswith("wgmfem: error:") and err.count("\n") == 1


def test_flat_or_short_spectrum_is_a_clean_error(tmp_path, capsys):
    flat = tmp_path / "flat.csv"
    flat.write_text("".join(f"{440 + 0.01 * i},1.0\n" for i in range(50)))
    short = tmp_path / "short.csv"
    short.write_text("440,1\n441,2\n")
    broken = tmp_path / "broken.csv"
    broken.write_text("440,1\n440.1,2\nnot a number\n")
    for path in (flat, short, broken):
        assert main(["assign", "--spectrum", str(path)]) == 2
        _, err = capsys.readouterr()
        assert err.startswith("wgmfem: error:") and err.count("\n") == 1
