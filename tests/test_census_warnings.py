"""A census box whose independent count disagrees is never silent: a CensusWarning from the
library, INCOMPLETE in the table header and a warning line on the command line."""

import warnings

import pytest

import wgmfem
from wgmfem.cli import main
from wgmfem.exact import census
from wgmfem.solve import CensusWarning


def test_absorbing_liquid_keeps_a_strongly_confined_high_order_core_mode():
    """500/540 um capillary, core 1.56 + 1e-6 i, Ez m = 3000: the core mode (810.3947 nm) and
    the wall mode are both found, and the count agrees. First-order
    absorption: Im k = -k Gamma kappa / n; the wavelength moves only to second order."""
    cap = wgmfem.Capillary(500, 540, 1.56 + 1e-6j, 1.47)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CensusWarning)
        modes = wgmfem.find_modes(cap, pol="Ez", m=(3000, 3000), wavelength_nm=(809.5, 811), region="any", fsr=False)
    core = [md for md in modes if md.region == "core"]
    assert len(core) == 1 and all(md.verification["census_ok"] for md in modes)
    md = core[0]
    lossless = wgmfem.find_modes(wgmfem.Capillary(500, 540, 1.56, 1.47), pol="Ez", m=(3000, 3000),
                                 wavelength_nm=(809.5, 811), region="core", fsr=False)
    assert len(lossless) == 1
    assert md.wavelength_nm == pytest.approx(lossless[0].wavelength_nm, rel=1e-9)  # absorption: second order
    expected = -md.k.real * md.energy_fractions["core"] * 1e-6 / 1.56
    assert md.k.imag == pytest.approx(expected, rel=1e-3)


def test_a_disagreeing_count_warns_and_marks_the_table(monkeypatch, capsys):
    real_count = census.count_resonances

    def one_too_many(*args, **kwargs):
        return [None if c is None else c + 1 for c in real_count(*args, **kwargs)]

    monkeypatch.setattr(census, "count_resonances", one_too_many)
    with pytest.warns(CensusWarning, match="resonances may be missing"):
        wgmfem.find_modes(pol="Ez", wavelength_nm=(431.9, 432.3), p=1, region="core", fsr=False)
    code = main(["modes", "--pol", "Ez", "--wavelength", "431.9:432.3", "--p", "1", "--no-fsr"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "INCOMPLETE" in out and "every search box verified" not in out
    assert "resonances may be missing" in err
