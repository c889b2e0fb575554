"""Mode assignment: spectra synthesised by the exact solver (other D and n than the starting
guess, noise added) must give back the diameter, index and exact (pol, m, p) labels, within the
uncertainties the fit states; weak data must be flagged ambiguous; bad input is one line, exit 2."""

import json
import math

import numpy as np
import pytest

import wgmfem
from wgmfem.assign import assign_peaks, pick_peaks, read_spectrum
from wgmfem.cli import main
from wgmfem.solve import find_modes

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


def test_peak_list_gives_back_the_diameter_and_the_labels():
    modes = synthetic_modes([("Ez", (585, 592), 1), ("Hz", (586, 590), 1)])
    sigma = 0.001
    peaks = np.array([md.wavelength_nm for md in modes]) + np.random.default_rng(7).normal(0, sigma, len(modes))
    guess = wgmfem.Capillary(54.0, 78.0, 1.556, 1.47)  # 1.1 % off: six mode numbers away
    result = assign_peaks(peaks, guess, fit=("inner-diameter",), sigma_nm=sigma, search=0.015)
    d = result.to_dict()
    assert [(pk["pol"], pk["m"], pk["p"]) for pk in d["peaks"]] == labels(modes)
    assert all(pk["region"] == "core" for pk in d["peaks"])
    fit = d["fit"]
    assert 0 < fit["inner_diameter_um_uncertainty"] < 1e-3
    assert abs(fit["inner_diameter_um"] - 54.6) < 3 * fit["inner_diameter_um_uncertainty"]
    assert not d["ambiguous"]
    assert fit["rms_residual_nm"] < 2 * sigma
    # the m-offset neighbours were fitted too and are rejected: the degeneracy was really broken
    offsets = {alt["m_offset"]: alt for alt in d["alternatives"]}
    assert -1 in offsets and not offsets[-1]["fits_within_noise"]
    # beside it, the simple formula's m (independently: m = pi n D / lambda), ~12 too high (docs/theory.md section 13)
    for pk in d["peaks"]:
        assert pk["m_simple_formula"] == round(math.pi * 1.556 * fit["inner_diameter_um"] * 1e3 / pk["wavelength_nm"])
        assert 8 <= pk["m_simple_formula"] - pk["m"] <= 16


def lorentzian_spectrum(modes, fwhm_nm, step_nm, noise, seed):
    lam = np.array([md.wavelength_nm for md in modes])
    x = np.arange(lam.min() - 0.3, lam.max() + 0.3, step_nm)
    y = sum(1 / (1 + (2 * (x - c) / fwhm_nm) ** 2) for c in lam)
    y = y + np.random.default_rng(seed).normal(0, noise, x.size)
    return x, y


def test_pick_peaks_finds_lorentzian_centres():
    modes = synthetic_modes([("Ez", (588, 590), 1)])
    x, y = lorentzian_spectrum(modes, fwhm_nm=0.02, step_nm=0.002, noise=0.0, seed=0)
    found, heights = pick_peaks(x, y, prominence=0.2)
    assert np.max(np.abs(found - [md.wavelength_nm for md in modes])) < 2e-4  # parabola vertex vs true centre
    assert np.all(np.abs(heights - 1) < 0.05)


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
    assert fit["sigma_source"].startswith("residual scatter")
    assert abs(fit["inner_diameter_um"] - 54.6) < 3 * fit["inner_diameter_um_uncertainty"] + 1e-4
    assert abs(fit["inner_diameter_um"] - 54.6) < 2e-3
    assert plot.stat().st_size > 20_000


@pytest.mark.slow
def test_diameter_and_index_together_cli(tmp_path, capsys):
    modes = synthetic_modes([("Ez", (585, 592), 1), ("Hz", (586, 590), 1)])
    sigma = 0.001
    peaks = np.array([md.wavelength_nm for md in modes]) + np.random.default_rng(11).normal(0, sigma, len(modes))
    out_file = tmp_path / "fit.json"
    args = ["assign", "--peaks", ",".join(f"{v:.5f}" for v in peaks), "--inner-diameter", "54", "--core", "1.55",
            "--fit", "inner-diameter,core", "--sigma", str(sigma), "--format", "json", "--output", str(out_file), "--quiet"]
    assert main(args) == 0
    d = json.loads(out_file.read_text())
    assert [(pk["pol"], pk["m"], pk["p"]) for pk in d["peaks"]] == labels(modes)
    fit = d["fit"]
    assert abs(fit["inner_diameter_um"] - 54.6) < 3 * fit["inner_diameter_um_uncertainty"]
    assert abs(fit["core_index"] - 1.556) < 3 * fit["core_index_uncertainty"]
    assert fit["correlation"] < -0.99  # D and n trade off along lambda ~ n D
    assert not d["ambiguous"]


@pytest.mark.slow
def test_core_index_alone():
    modes = synthetic_modes([("Ez", (585, 592), 1), ("Hz", (586, 590), 1)])
    peaks = np.array([md.wavelength_nm for md in modes]) + np.random.default_rng(5).normal(0, 0.001, len(modes))
    result = assign_peaks(peaks, wgmfem.Capillary(54.6, 78.0, 1.54, 1.47), fit=("core",), search=0.02)
    d = result.to_dict()
    assert [(pk["pol"], pk["m"], pk["p"]) for pk in d["peaks"]] == labels(modes)
    assert abs(d["fit"]["core_index"] - 1.556) < 3 * d["fit"]["core_index_uncertainty"]


def test_three_noisy_peaks_of_one_family_are_ambiguous():
    modes = synthetic_modes([("Ez", (588, 590), 1)])
    sigma = 0.01  # comparable to what separates the m-offsets (~0.007 nm rms)
    peaks = np.array([md.wavelength_nm for md in modes]) + np.random.default_rng(2).normal(0, sigma, len(modes))
    result = assign_peaks(peaks, wgmfem.Capillary(54.0, 78.0, 1.556, 1.47), sigma_nm=sigma, search=0.01)
    d = result.to_dict()
    assert d["ambiguous"]
    assert d["verdict"].startswith("ambiguous")
    assert any(alt["fits_within_noise"] for alt in d["alternatives"])


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
