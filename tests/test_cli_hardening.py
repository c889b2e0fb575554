"""Hostile command lines: every one ends in one line `wgmfem: error: ...` and exit code 2, at once
(work limits are estimated before the work), and a failed command writes none of its files."""

from __future__ import annotations

import errno
import math
import shlex
import sys
import time

import numpy as np
import pytest

import wgmfem
from wgmfem.cli import common, main
from wgmfem.exact.search import run_boxes, window_m_range
from wgmfem.fem.mesh import build_mesh, estimated_elements, mesh_params
from wgmfem.geometry import GeometryError
from wgmfem.solve import SearchError, _estimated_roots

SECONDS = 30  # "at once": generous for two shared cores; the refusals take well under a second


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Each test in an empty folder, with its own mesh cache."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WGMFEM_MESH_CACHE", str(tmp_path / "cache"))
    (tmp_path / "outdir").mkdir()


def run(command: str, capsys):
    start = time.perf_counter()
    code = main(shlex.split(command))
    out, err = capsys.readouterr()
    return code, out, err, time.perf_counter() - start


def assert_one_line_error(code, out, err, seconds, fragment=""):
    lines = err.splitlines()
    assert code == 2 and out == "", err
    assert len(lines) == 1 and lines[0].startswith("wgmfem: error: "), err
    assert fragment in lines[0], lines[0]
    assert seconds < SECONDS


@pytest.mark.parametrize(
    "command, fragment",
    [
        # inputs that reached a traceback deep in the census
        ("modes --inner-diameter 1e30 --outer-diameter 2e30", "between 0.002 and 200000 um"),
        ("modes --wavelength 1e-300:1e-299", "wavelengths must lie between 1 and 1e+06 nm"),
        ("modes --wavelength 100:100000 --region any", "resonances"),
        ("modes --m 900000000 --p 1 --pol Ez", "m <= 1e+06"),
        ("modes --m 0 --p 100000000 --pol Ez", "resonances"),
        # inputs that hung
        ("modes --m 0:100000000 --p 1 --pol Ez --wavelength 431:433", "azimuthal numbers"),
        ("modes --m 0:19999 --p 1 --pol Ez", "resonances"),
        ("mesh --m 600 --mesh-size 1e6", "unknowns"),
        ("mesh --layers 3:1.56 --m 14 --mesh-size 1e5", "unknowns"),
        ("modes --engine fem2d --m 600 --p 1 --pol Ez --mesh-size 10000", "unknowns"),
        ("mesh --m 600 --bore-offset 20", "reaches the outer surface"),
        ("mesh --m 600 --wavelength 1e300", "--wavelength must lie between"),
        # inputs that were accepted and gave a wrong result
        ("mesh --inner-diameter 10 --outer-diameter 14 --m 20 --bore-offset 5", "reaches the outer surface"),
        ("mesh --inner-diameter 10 --outer-diameter 14 --m 20 --bore-offset 1.95", "wall thinner than 0.1 um"),
        ("field --m 600 --periods 1e9", "at most 30 periods"),
        ("modes --outer-diameter 1e-300", "between 0.002 and 200000 um"),
        ("modes --layers 3:1.56,3.0000001:1.47", "at least 0.001 um thick"),
        ("modes --core 1e300", "Re n <= 100"),
        # an engine of another command
        ("modes --engine axisym --m 600 --p 1", "wgmfem axial --profile SPEC --engine axisym"),
        # no command
        ("", "give a command"),
    ],
)
def test_refused_at_once_with_one_line(command, fragment, capsys, tmp_path):
    assert_one_line_error(*run(command, capsys), fragment)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outdir"]  # nothing written (no mesh either)


def test_a_high_radial_order_at_m_0_is_found(capsys):
    """`--m 0 --p 196 --q-min 1` once failed inside the census; it is within every limit."""
    code, out, err, _ = run("modes --m 0 --p 196 --pol Ez --q-min 1 --format json --quiet", capsys)
    assert code == 0, err
    records = __import__("json").loads(out)
    assert records and all((r["m"], r["p"]) == (0, 196) for r in records)


@pytest.mark.parametrize(
    "command",
    [
        "modes --m 600 --p 1 --pol Ez --no-fsr --output outdir",
        "field --m 600 --output outdir",
        "field --m 600 --output outdir/f.png --csv outdir",
        "mesh --m 600 --output outdir",
        "assign --peaks 436.2128,436.405 --output outdir",
        "assign --peaks 436.2128,436.405 --plot outdir",
        "design --wavelength 440 --min-fsr 1 --output outdir",
    ],
)
def test_an_output_that_is_a_folder_is_named(command, capsys, tmp_path):
    code, out, err, seconds = run(command, capsys)
    assert_one_line_error(code, out, err, seconds, "'outdir' is a folder")
    assert ".wgmfem-" not in err and list((tmp_path / "outdir").iterdir()) == []


def test_two_options_naming_one_file_are_refused(capsys):
    code, out, err, seconds = run("field --m 600 --output outdir/f.png --csv outdir/f.png", capsys)
    assert_one_line_error(code, out, err, seconds, "--output and --csv name the same file")


def test_a_failed_field_command_writes_nothing(capsys, tmp_path):
    code, out, err, seconds = run("field --output outdir/f3.png --csv /nonexistent/x.csv --m 600", capsys)
    assert_one_line_error(code, out, err, seconds, "/nonexistent/x.csv")
    # an error after the work started (both polarizations: no single mode to draw)
    code, out, err, seconds = run("field --m 600 --pol both --output outdir/f3.png --csv outdir/p.csv", capsys)
    assert_one_line_error(code, out, err, seconds, "--pol Ez or --pol Hz")
    assert list((tmp_path / "outdir").iterdir()) == []


def test_a_write_that_fails_at_the_end_leaves_no_file(capsys, tmp_path, monkeypatch):
    """The figure is complete when the CSV fails (a full disk): neither file appears."""
    def full_disk(path, text):
        raise OSError(errno.ENOSPC, "No space left on device", path)

    monkeypatch.setattr("wgmfem.cli.field.write_text", full_disk)
    code, out, err, _ = run("field --m 600 --output outdir/f3.png --csv outdir/p.csv", capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "No space left on device" in err
    assert list((tmp_path / "outdir").iterdir()) == []


def test_field_writes_all_its_files_when_it_succeeds(capsys, tmp_path):
    code, out, err, _ = run("field --layers 3:1.56 --m 20 --periods 30 --output outdir/f.png --csv outdir/p.csv", capsys)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "outdir").iterdir()) == ["f.png", "p.csv"]
    assert "wrote outdir/f.png, outdir/p.csv" in out


def test_the_clearest_carrier_of_a_shared_label_is_meshed(capsys):
    """Two Ez modes share (m = 20, p = 1, core) in this small capillary: the first is meshed."""
    code, out, err, _ = run("mesh --inner-diameter 10 --outer-diameter 14 --m 20 --pol Ez --format json", capsys)
    assert code == 0, err


def _visible_lines(stderr: str) -> list[str]:
    """What a terminal shows: each carriage return goes back to the start of the line."""
    lines = []
    for line in stderr.split("\n"):
        screen = ""
        for part in line.split("\r"):
            screen = part + screen[len(part):]
        if screen.strip():
            lines.append(screen.rstrip())
    return lines


def test_progress_is_erased_before_an_error(capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err, _ = run("modes --wavelength 431:433 --pol Ez --engine fem2d --mesh-size 10000 --p 1", capsys)
    assert code == 2 and "boxes" in err  # the census showed its progress, then the 2-D size was refused
    visible = _visible_lines(err)
    assert len(visible) == 1 and visible[0].startswith("wgmfem: error: ") and "unknowns" in visible[0]


def test_an_interrupted_stage_leaves_no_progress_line(capsys):
    show = common.progress_printer(True)
    show("Ez census", 48, 83)
    assert main(["modes", "--p", "0"]) == 2
    visible = _visible_lines(capsys.readouterr().err)
    assert len(visible) == 1 and visible[0].startswith("wgmfem: error: p must be >= 1")


def test_a_material_out_of_range_warns_once(capsys):
    code, out, err, _ = run("modes --layers 3:toluene --pol Ez --m 10 --p 1 --format json --quiet", capsys)
    assert code == 0, err
    warnings = [line for line in err.splitlines() if "toluene" in line]
    assert len(warnings) == 1 and warnings[0].startswith("wgmfem: warning: toluene: wavelength")


def test_the_root_estimate_tracks_the_census():
    """The census limit rests on the WKB estimate: a little above the roots found (7 % here)."""
    cyl = wgmfem.Capillary()
    k_lo, k_hi = 2e3 * math.pi / 445, 2e3 * math.pi / 425
    m_lo, m_hi = window_m_range(cyl, k_lo, k_hi, 0, 2)
    m = np.arange(m_lo, m_hi + 1)
    found = len(run_boxes(cyl, "Ez", m, k_lo, k_hi, 100.0).roots)
    assert found <= _estimated_roots(cyl, m, k_lo, k_hi) <= 1.15 * found


def test_the_mesh_estimate_is_a_lower_bound(tmp_path):
    rod = wgmfem.LayeredCylinder((3.0,), (1.56,))
    info = build_mesh(rod, 1700.0, cache_dir=tmp_path, points_per_wavelength=16, sector=(1, 14), r_cut_um=1.0, r_end_um=4.0)
    assert estimated_elements(info.params) <= info.num_elements <= 5 * estimated_elements(info.params)
    with pytest.raises(ValueError, match="triangles"):
        build_mesh(rod, 1700.0, cache_dir=tmp_path, points_per_wavelength=1e5, r_end_um=4.0)
    assert not any(tmp_path.glob("*.tmp*"))


def test_a_bore_must_leave_a_wall():
    cap = wgmfem.Capillary(10, 14)
    mesh_params(cap, 500.0, bore_offset_um=1.85)  # leaves 0.15 um of the 2 um wall: enough
    with pytest.raises(ValueError, match="wall thinner"):
        mesh_params(cap, 500.0, bore_offset_um=1.95)
    with pytest.raises(ValueError, match="reaches the outer surface"):
        mesh_params(cap, 500.0, inner_ellipticity=0.9)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), (1, 2, 3), "x", 1.5])
def test_find_modes_refuses_malformed_m(value):
    with pytest.raises(SearchError, match="integer"):
        wgmfem.find_modes(m=value, p=1, pol="Ez")


@pytest.mark.parametrize(
    "radii, indices",
    [((1e-4,), (1.5,)), ((2e5,), (1.5,)), ((3.0, 3.0005), (1.5, 1.4)), ((3.0,), (200.0,)), ((3.0,), (1.5 + 101j,))],
)
def test_geometry_bounds(radii, indices):
    with pytest.raises(GeometryError):
        wgmfem.LayeredCylinder(radii, indices)
