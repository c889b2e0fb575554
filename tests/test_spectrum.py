"""Spectra: reading a file, fitting its peaks, simulating one from the exact modes (wgmfem.spectrum)
and the ``wgmfem simulate`` command."""

import json
import math

import numpy as np
import pytest

import wgmfem
import wgmfem.solve
from wgmfem.cli import main
from wgmfem.spectrum import (
    Peak,
    SpectrumError,
    find_spectrum_peaks,
    read_spectrum,
    simulate_spectrum,
    write_spectrum,
)

WINDOW = (436.0, 438.0)  # 6 p = 1 core modes of the paper's capillary (3 Ez, 3 Hz)


def lorentz(x, centre, fwhm, height):
    """The test's own Lorentzian: peak ``height`` at ``centre``, half of it at centre +- fwhm/2."""
    return height * (fwhm / 2) ** 2 / ((x - centre) ** 2 + (fwhm / 2) ** 2)


@pytest.fixture(scope="module")
def reference_modes():
    """The modes of WINDOW, found directly (the truth the simulated spectra must reproduce)."""
    return wgmfem.find_modes(wgmfem.Capillary(), wavelength_nm=WINDOW, p=1, region="core", fsr=False)


@pytest.fixture
def cached_search(monkeypatch, reference_modes):
    """simulate_spectrum's search answered from the reference modes (same arguments asked),
    so that tests of the spectrum itself do not repeat a ~1 s search."""
    real = wgmfem.solve.find_modes

    paper = wgmfem.Capillary().describe()

    def find_modes(cylinder, **kw):
        if cylinder.describe() == paper and kw.get("wavelength_nm") == WINDOW and kw.get("p") == (1, 1) and kw.get("region") == "core" and kw.get("pol") == "both":
            return list(reference_modes)
        return real(cylinder, **kw)

    monkeypatch.setattr(wgmfem.solve, "find_modes", find_modes)


# -- reading -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "# a comment\nwavelength_nm,intensity\n{rows}",
        "Wavelength (nm); Counts\n{rows_semicolon}",
        "{rows_tab}",
        "lambda I\n{rows_space}   # trailing comment\n",
    ],
)
def test_read_spectrum_accepts_the_usual_layouts(tmp_path, text):
    x = [436.5, 436.0, 437.0, 436.25, 436.75]  # unsorted on purpose
    y = [0.5, 0.0, 1.0, 0.25, 0.75]
    rows = {
        "rows": "\n".join(f"{a},{b}" for a, b in zip(x, y)),
        "rows_semicolon": "\n".join(f"{a};{b}".replace(".", ",") for a, b in zip(x, y)),  # decimal commas
        "rows_tab": "\n".join(f"{a}\t{b}\textra" for a, b in zip(x, y)),  # a further column is ignored
        "rows_space": "\n".join(f"  {a}   {b}" for a, b in zip(x, y)),
    }
    path = tmp_path / "s.txt"
    path.write_text(text.format(**rows))
    wl, inten = read_spectrum(str(path))
    assert wl.tolist() == sorted(x)
    assert inten.tolist() == [y[x.index(v)] for v in sorted(x)]


@pytest.mark.parametrize(
    "content, fragment",
    [
        (None, "cannot read"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a text file"),
        ("1,2\n3,4\n5,6\n7,8\n", "4 numeric rows"),
        ("436,1\n437,2\n438,3\nfoo,bar\n439,4\n440,5\n", "line 4"),
        ("436,1\n437,nan\n438,3\n439,4\n440,5\n", "non-finite"),
        ("-436,1\n437,2\n438,3\n439,4\n440,5\n", "positive"),
        ("436,1\n437,2\n438,3\n437,4\n440,5\n", "more than once"),
    ],
)
def test_read_spectrum_errors_are_one_line(tmp_path, content, fragment):
    path = tmp_path / "s.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(SpectrumError) as info:
        read_spectrum(str(path))
    assert fragment in str(info.value) and "\n" not in str(info.value)


# -- peaks -------------------------------------------------------------------------------------

@pytest.mark.parametrize("offset", [0.0, 0.137, 0.5, 0.91])
def test_lorentzian_centre_comes_back_to_a_small_fraction_of_the_step(offset):
    step, fwhm = 0.002, 0.02
    x = 436.0 + step * np.arange(1500)
    centre = 437.0 + offset * step  # anywhere between two samples
    peaks = find_spectrum_peaks(x, lorentz(x, centre, fwhm, 2.5) + 0.3)
    assert len(peaks) == 1
    pk = peaks[0]
    assert pk.method == "lorentzian"
    assert abs(pk.wavelength_nm - centre) < 1e-3 * step
    assert abs(pk.fwhm_nm / fwhm - 1) < 0.01
    assert pk.height == pytest.approx(2.8, rel=1e-6)  # peak plus background
    assert pk.q_loaded == pytest.approx(centre / fwhm, rel=0.01)
    assert isinstance(pk.wavelength_nm, float) and isinstance(pk.fwhm_nm, float)


def test_parabola_through_three_samples_is_worse_by_orders_of_magnitude():
    """The reason for the fit: the 3-sample parabola of a coarsely sampled Lorentzian is off by
    a few per cent of the step; the fit is not."""
    step, fwhm = 0.005, 0.02
    x = 436.0 + step * np.arange(600)
    centre = 437.0 + 0.3 * step
    y = lorentz(x, centre, fwhm, 1.0)
    i = int(np.argmax(y))
    a, b, _ = np.polyfit(x[i - 1:i + 2] - x[i], y[i - 1:i + 2], 2)
    parabola_error = abs(x[i] - b / (2 * a) - centre)
    fit_error = abs(find_spectrum_peaks(x, y)[0].wavelength_nm - centre)
    assert parabola_error > 0.02 * step
    assert fit_error < 1e-3 * parabola_error


def test_two_overlapping_lorentzians():
    step, fwhm = 0.002, 0.02
    x = 436.0 + step * np.arange(1500)
    c1, c2 = 437.00031, 437.00031 + 1.5 * fwhm  # the dip between them is only ~half the smaller peak
    y = lorentz(x, c1, fwhm, 1.0) + lorentz(x, c2, 1.2 * fwhm, 0.6)
    peaks = find_spectrum_peaks(x, y)
    assert len(peaks) == 2
    assert abs(peaks[0].wavelength_nm - c1) < 1e-3 * fwhm
    assert abs(peaks[1].wavelength_nm - c2) < 1e-3 * fwhm
    assert peaks[0].fwhm_nm == pytest.approx(fwhm, rel=0.01)
    assert peaks[1].fwhm_nm == pytest.approx(1.2 * fwhm, rel=0.01)


def test_centre_sigma_agrees_with_the_scatter_over_noise_realizations():
    step, fwhm, centre = 0.002, 0.02, 437.00013
    x = 436.9 + step * np.arange(100)
    clean = lorentz(x, centre, fwhm, 1.0)
    found, sigmas = [], []
    for seed in range(60):
        y = clean + np.random.default_rng(seed).normal(0, 0.03, x.size)
        (pk,) = find_spectrum_peaks(x, y, prominence=0.5)
        found.append(pk.wavelength_nm)
        sigmas.append(pk.centre_sigma_nm)
    scatter = np.std(found, ddof=1)
    assert all(s is not None and s > 0 for s in sigmas)
    assert 0.5 < np.median(sigmas) / scatter < 2
    assert abs(np.mean(found) - centre) < 3 * scatter / math.sqrt(len(found)) + 1e-9  # no bias


def test_unresolved_peaks_fall_back_to_the_parabola():
    x = np.arange(9) * 0.1 + 436.0
    y = np.array([0, 1, 0, 2, 0, 1, 0, 3, 0], dtype=float)  # peaks one sample wide: fewer than 5 samples each
    peaks = find_spectrum_peaks(x, y)
    assert [pk.method for pk in peaks] == ["parabola"] * 4
    assert [pk.wavelength_nm for pk in peaks] == pytest.approx(x[[1, 3, 5, 7]].tolist())
    assert all(pk.centre_sigma_nm is None for pk in peaks)


def test_flat_spectrum_has_no_peaks_and_bad_input_is_refused():
    x = np.linspace(436, 437, 50)
    assert find_spectrum_peaks(x, np.ones_like(x)) == []
    with pytest.raises(SpectrumError, match="fraction"):
        find_spectrum_peaks(x, np.sin(x), prominence=1.5)
    with pytest.raises(SpectrumError, match="more than once"):
        find_spectrum_peaks(np.r_[x, x[3]], np.r_[np.sin(x), 0.0])
    with pytest.raises(SpectrumError, match="shapes"):
        find_spectrum_peaks(x, np.ones(7))


def test_peak_without_width_has_no_q():
    assert Peak(437.0, None, None, 1.0).q_loaded is None


# -- simulation --------------------------------------------------------------------------------

def test_simulated_lines_are_the_exact_modes_with_width_lambda_over_q_total(reference_modes):
    q_extra = 3e4
    spectrum = simulate_spectrum(wavelength_nm=WINDOW, weights="equal", q_extra=q_extra, seed=0)
    assert len(reference_modes) == 6
    assert [(ln["pol"], ln["m"], ln["p"]) for ln in spectrum.lines] == [(md.pol, md.m, md.p) for md in reference_modes]
    for ln, md in zip(spectrum.lines, reference_modes):
        assert ln["wavelength_nm"] == md.wavelength_nm == ln["shown_nm"]
        q_total = 1 / (1 / md.Q_rad + 1 / q_extra)
        assert ln["Q_total"] == pytest.approx(q_total, rel=1e-12)
        assert ln["fwhm_nm"] == pytest.approx(md.wavelength_nm / q_total, rel=1e-12)
        assert ln["weight"] == 1.0
    # the samples: the sum of those Lorentzians, on a grid fine enough for them
    x, y = spectrum.wavelength_nm, spectrum.intensity
    model = sum(lorentz(x, md.wavelength_nm, md.wavelength_nm * (1 / md.Q_rad + 1 / q_extra), 1.0) for md in reference_modes)
    assert np.max(np.abs(y - model)) < 1e-12
    assert x[0] == WINDOW[0] and x[-1] <= WINDOW[1] and np.diff(x).max() <= min(ln["fwhm_nm"] for ln in spectrum.lines) / 5
    assert spectrum.settings["region_used"] == "core" and spectrum.settings["modes_found"] == 6


def test_drop_spurious_and_noise(cached_search, reference_modes):
    spectrum = simulate_spectrum(wavelength_nm=WINDOW, drop=2, spurious=3, position_noise_nm=0.004,
                                 intensity_noise=0.01, seed=11)
    assert len(spectrum.lines) == 4 and len(spectrum.dropped) == 2 and len(spectrum.spurious_nm) == 3
    truth = sorted((ln["pol"], ln["m"]) for ln in spectrum.lines + spectrum.dropped)
    assert truth == sorted((md.pol, md.m) for md in reference_modes)
    assert all(ln["shown_nm"] is None for ln in spectrum.dropped)
    assert all(WINDOW[0] <= c <= WINDOW[1] for c in spectrum.spurious_nm)
    jitter = np.array([ln["shown_nm"] - ln["wavelength_nm"] for ln in spectrum.lines])
    assert np.all(jitter != 0) and np.max(np.abs(jitter)) < 5 * 0.004
    assert np.all(0.3 <= np.array([ln["weight"] for ln in spectrum.lines + spectrum.dropped])) and \
        all(ln["weight"] <= 1 for ln in spectrum.lines)
    assert len(spectrum.peaks_nm()) == 7 and np.all(np.diff(spectrum.peaks_nm()) > 0)
    # the intensity noise: what is left after the lines, relative to the highest line
    x, y = spectrum.wavelength_nm, spectrum.intensity
    width = spectrum.settings["spurious_fwhm_nm"]
    clean = sum(lorentz(x, ln["shown_nm"], ln["fwhm_nm"], ln["weight"]) for ln in spectrum.lines)
    clean = clean + sum(lorentz(x, c, width, h) for c, h in zip(spectrum.spurious_nm, spectrum.spurious_weights))
    top = max([ln["weight"] for ln in spectrum.lines] + spectrum.spurious_weights)
    assert np.std(y - clean) / top == pytest.approx(0.01, rel=0.1)
    # a seed gives one spectrum
    again = simulate_spectrum(wavelength_nm=WINDOW, drop=2, spurious=3, position_noise_nm=0.004,
                              intensity_noise=0.01, seed=11)
    assert np.array_equal(again.intensity, y) and again.lines == spectrum.lines
    other = simulate_spectrum(wavelength_nm=WINDOW, drop=2, spurious=3, seed=12)
    assert other.lines != spectrum.lines


def test_given_weights_and_step(cached_search):
    spectrum = simulate_spectrum(wavelength_nm=WINDOW, weights=[1, 2, 3, 4, 5, 6], step_nm=0.001)
    assert [ln["weight"] for ln in spectrum.lines] == [1, 2, 3, 4, 5, 6]
    assert spectrum.settings["weights"] == "given" and spectrum.settings["samples"] == 2001
    assert np.allclose(np.diff(spectrum.wavelength_nm), 0.001)


def test_without_a_seed_the_drawn_seed_is_recorded(cached_search):
    first = simulate_spectrum(wavelength_nm=WINDOW, position_noise_nm=0.01, spurious=1)
    seed = first.settings["seed"]
    assert isinstance(seed, int)
    again = simulate_spectrum(wavelength_nm=WINDOW, position_noise_nm=0.01, spurious=1, seed=seed)
    assert again.lines == first.lines and again.spurious_nm == first.spurious_nm


def test_round_trip_write_read_fit(tmp_path, cached_search):
    spectrum = simulate_spectrum(wavelength_nm=WINDOW, spurious=2, drop=1, position_noise_nm=0.003, seed=5)
    truth = spectrum.peaks_nm()
    width = min(ln["fwhm_nm"] for ln in spectrum.lines)
    assert np.min(np.diff(truth)) > 2 * width  # the premise: every peak resolved
    path = tmp_path / "spectrum.csv"
    write_spectrum(str(path), spectrum)
    assert [p.name for p in tmp_path.iterdir()] == ["spectrum.csv"]  # no temporary file left
    x, y = read_spectrum(str(path))
    assert len(x) == spectrum.settings["samples"]
    peaks = find_spectrum_peaks(x, y)
    found = np.array([pk.wavelength_nm for pk in peaks])
    assert len(found) == len(truth)
    assert np.max(np.abs(found - truth)) < 1e-3 * width
    assert all(pk.fwhm_nm == pytest.approx(width, rel=0.01) for pk in peaks)
    # the header holds the truth: every mode (drawn or dropped) and the spurious peaks
    header = [line for line in path.read_text().splitlines() if line.startswith("#")]
    settings = json.loads(next(line for line in header if line.startswith("# settings")).split(":", 1)[1])
    assert settings["seed"] == 5 and settings["drop"] == 1
    rows = [line.split() for line in header if line.split()[1:2] in (["line"], ["dropped"], ["spurious"])]
    assert sorted((r[1], r[2], int(r[3])) for r in rows if r[1] != "spurious") == sorted(
        [("line", ln["pol"], ln["m"]) for ln in spectrum.lines] + [("dropped", ln["pol"], ln["m"]) for ln in spectrum.dropped])
    assert sorted(float(r[7]) for r in rows if r[1] == "spurious") == pytest.approx(sorted(spectrum.spurious_nm), abs=1e-8)


def test_noisy_round_trip_centres_within_their_standard_errors(tmp_path, cached_search):
    spectrum = simulate_spectrum(wavelength_nm=WINDOW, intensity_noise=0.01, weights="equal", seed=2)
    path = tmp_path / "noisy.csv"
    write_spectrum(str(path), spectrum)
    peaks = find_spectrum_peaks(*read_spectrum(str(path)), prominence=0.3)
    truth = spectrum.peaks_nm()
    assert len(peaks) == len(truth)
    z = np.array([(pk.wavelength_nm - t) / pk.centre_sigma_nm for pk, t in zip(peaks, truth)])
    assert np.all(np.abs(z) < 4)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(wavelength_nm=(438, 436)), "empty"),
        (dict(wavelength_nm=(436,)), "window"),
        (dict(q_extra=0), "q_extra must be positive"),
        (dict(q_extra=float("inf")), "finite"),
        (dict(drop=-1), "drop"),
        (dict(spurious=1.5), "spurious"),
        (dict(position_noise_nm=-0.1), "position_noise_nm"),
        (dict(intensity_noise=float("nan")), "intensity_noise"),
        (dict(weights="heavy"), "weights"),
        (dict(seed=-3), "seed"),
        (dict(p=0), "p must be"),
        (dict(p=(2, 1)), "empty"),
        (dict(pol="XY"), "unknown polarization"),
        (dict(region="mantle"), "no region"),
        (dict(step_nm=0), "step_nm"),
        (dict(spurious=10**6), "at most 10000"),
        (dict(intensity_noise=1e9), "at most"),
    ],
)
def test_bad_settings_are_refused_before_the_search(kwargs, fragment, monkeypatch):
    def no_search(*a, **kw):
        raise AssertionError("searched before checking the settings")

    monkeypatch.setattr(wgmfem.solve, "find_modes", no_search)
    with pytest.raises(SpectrumError) as info:
        simulate_spectrum(**{"wavelength_nm": WINDOW, **kwargs})
    assert fragment in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(drop=7), "cannot drop 7 modes: the window holds 6"),
        (dict(weights=[1, 2]), "2 values given for 6 modes"),
        (dict(weights=[1, 2, 3, 4, 5, -6]), "positive"),
        (dict(step_nm=1e-6), "more than 2e+06"),
        (dict(step_nm=0.6), "need at least 5"),
        (dict(q_extra=1e12), "smaller q_extra"),
    ],
)
def test_settings_that_depend_on_the_modes(kwargs, fragment, cached_search):
    with pytest.raises(SpectrumError) as info:
        simulate_spectrum(**{"wavelength_nm": WINDOW, **kwargs})
    assert fragment in str(info.value) and "\n" not in str(info.value)


# -- wgmfem simulate ---------------------------------------------------------------------------

def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_writes_spectrum_and_figure(tmp_path, capsys):
    csv_path, png_path = tmp_path / "spectrum.csv", tmp_path / "spectrum.png"
    code, out, err = run(["simulate", "--wavelength", "436:438", "--drop", "1", "--spurious", "1", "--seed", "3",
                          "--position-noise", "0.002", "--output", str(csv_path), "--plot", str(png_path)], capsys)
    assert code == 0, err
    assert out == ""
    assert err.count("\n") == 1 and "6 modes, 5 drawn, 1 dropped, 1 spurious" in err
    assert png_path.read_bytes()[:4] == b"\x89PNG"
    x, y = read_spectrum(str(csv_path))
    assert x[0] == 436.0 and len(find_spectrum_peaks(x, y)) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["spectrum.csv", "spectrum.png"]


def test_simulate_json_and_stdout_csv(capsys, cached_search):
    code, out, err = run(["simulate", "--wavelength", "436:438", "--seed", "1", "--format", "json", "--quiet"], capsys)
    assert code == 0 and err == ""
    record = json.loads(out)
    assert record["settings"]["seed"] == 1 and record["settings"]["region"] == "auto"
    assert len(record["lines"]) == 6 and "intensity" not in record
    code, out, _ = run(["simulate", "--wavelength", "436:438", "--weights", "equal", "--quiet"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("# wgmfem") and "wavelength_nm,intensity" in lines


@pytest.mark.parametrize(
    "args, fragment",
    [
        ("--wavelength 438:436", "empty"),
        ("--drop 1", "--wavelength"),
        ("--wavelength 436:438 --q-extra 0", "positive"),
        ("--wavelength 436:438 --drop -1", "whole number"),
        ("--wavelength 436:438 --position-noise -1", ">= 0"),
        ("--wavelength 436:438 --weights heavy", "invalid choice"),
        ("--wavelength 436:438 --region mantle", "no region"),
        ("--wavelength 436:438 --plot spectrum.txt", ".png"),
        ("--wavelength 436:438 --drop 9 --output out.csv", "cannot drop 9 modes"),
        ("--wavelength 436:438 --step 1e-7", "more than 2e+06"),
        ("--wavelength 436:438 --q-extra 1e12", "a smaller --q-extra"),
    ],
)
def test_simulate_bad_input_is_one_line_exit_2_and_no_file(args, fragment, tmp_path, monkeypatch, capsys, cached_search):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["simulate", *args.split()], capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("wgmfem: error:") and fragment in lines[0]
    assert list(tmp_path.iterdir()) == []
