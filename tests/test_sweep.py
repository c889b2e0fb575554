"""``wgmfem sweep``: grids, the table on disk (append, kill, resume), Dask == local, FSR and
tracking against independent solves, plots, and one-line errors."""

import csv
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import wgmfem
from wgmfem.cli import main
from wgmfem.solve import SearchError, find_modes
from wgmfem.sweep import SweepError, SweepFile, SweepSpec, Track, grid, run_sweep

ROOT = Path(__file__).resolve().parents[1]
# a small census: Ez core modes p = 1 in 430-434 nm (5-6 modes a point, ~0.1 s)
SMALL = ["--pol", "Ez", "--p", "1", "--wavelength", "430:434", "--quiet"]


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def rows_of(path: Path):
    return list(csv.DictReader(io.StringIO(path.read_text())))


def points_in(text: str) -> dict[str, int]:
    """Swept value -> number of complete rows in a CSV sweep table."""
    counts: dict[str, int] = {}
    for line in text.split("\n")[1:-1]:
        counts[line.split(",")[0]] = counts.get(line.split(",")[0], 0) + 1
    return counts


# -- grids and options ------------------------------------------------------------------------


def test_grid_includes_stop_and_rounds():
    assert len(grid(20, 150, 5)) == 27 and grid(20, 150, 5)[-1] == 150
    assert grid(1.50, 1.60, 0.01)[1] == 1.51 and len(grid(1.50, 1.60, 0.01)) == 11
    assert grid(150, 20, -65) == (150, 85, 20)
    assert grid(1, 1.25, 0.1) == (1, 1.1, 1.2)  # STOP off the grid is not passed
    with pytest.raises(SweepError):
        grid(60, 50, 1)
    with pytest.raises(SweepError):
        grid(1, 2, 0)


@pytest.mark.parametrize(
    "args",
    [
        ["sweep"],
        ["sweep", "--inner-diameter", "50:60:1", "--core", "1.5:1.6:0.01"],
        ["sweep", "--inner-diameter", "50:60"],
        ["sweep", "--inner-diameter", "60:50:1"],
        ["sweep", "--inner-diameter", "70:80:5"],  # reaches the 78 um outer diameter
        ["sweep", "--inner-diameter", "50:51:1", "--resume"],
        ["sweep", "--inner-diameter", "50:51:1", "--track", "Ez:600"],
        ["sweep", "--inner-diameter", "50:51:1", "--track", "Qz:600:1"],
        ["sweep", "--wall-thickness", "1:2:1", "--outer-diameter", "80"],
        ["sweep", "--inner-diameter", "50:51:1", "--jobs", "0"],
        ["sweep", "--inner-diameter", "50:51:1", "--quantities", "colour"],
        ["sweep", "--inner-diameter", "50:51:1", "--pol", "Xz"],
        ["sweep", "--core", "toluene:1.6:0.1"],
        ["sweep", "--inner-diameter", "50:51:1", "--plot", "out", "--plot-format", "bmp"],
        ["sweep", "--inner-diameter", "50:51:1", "--output", "/no/such/folder/s.csv"],
        ["sweep", "--inner-diameter", "50:51:1", "--plot", "/no/such/folder/s"],
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, capsys):
    code, out, err = run(args, capsys)
    assert code == 2
    assert err.startswith("wgmfem: error:") and err.count("\n") == 1, err


def test_existing_output_needs_resume_or_overwrite(tmp_path, capsys):
    target = tmp_path / "s.csv"
    target.write_text("mine\n")
    code, _, err = run(["sweep", "--inner-diameter", "54:55:1", "--output", str(target), *SMALL], capsys)
    assert code == 2 and "--resume" in err and target.read_text() == "mine\n"


# -- the census at each point ----------------------------------------------------------------


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep")
    table = folder / "s.csv"
    assert main(["sweep", "--inner-diameter", "54:60:6", "--jobs", "1", "--output", str(table), "--plot", str(folder / "s"), *SMALL]) == 0
    return folder, table


def test_fsr_of_the_sweep_equals_an_independent_solve(small_sweep):
    """The census takes each mode's FSR from its m +- 1 neighbours found in the same census;
    an independent find_modes of that one mode solves m +- 1 again: they must agree."""
    _, table = small_sweep
    rows = rows_of(table)
    assert {r["inner_diameter_um"] for r in rows} == {"54.0", "60.0"}
    for row in rows:
        d = float(row["inner_diameter_um"])
        (alone,) = find_modes(wgmfem.Capillary(d, 78), pol="Ez", m=int(row["m"]), p=1, region="core", fsr=True)
        assert float(row["wavelength_nm"]) == pytest.approx(alone.wavelength_nm, rel=1e-12)
        assert float(row["fsr_nm"]) == pytest.approx(alone.fsr_nm, rel=1e-9)
        lam_um = alone.wavelength_nm / 1000
        assert float(row["fsr_simple_nm"]) == pytest.approx(1000 * lam_um**2 / (math.pi * 1.56 * d), rel=1e-12)
        assert int(row["n_modes"]) == sum(1 for r in rows if r["inner_diameter_um"] == row["inner_diameter_um"])
    # the paper's mode: Ez m = 600 p = 1 at 432.0877 nm, FSR ~0.71 nm vs ~0.70 from the simple formula
    (paper,) = [r for r in rows if r["inner_diameter_um"] == "54.0" and r["m"] == "600"]
    assert abs(float(paper["wavelength_nm"]) - 432.0877) < 1e-4


def test_plots_are_written(small_sweep):
    folder, _ = small_sweep
    for name in ("wavelength", "fsr", "q", "confinement"):
        assert (folder / f"s_{name}.png").stat().st_size > 10_000
    assert not (folder / "s_sensitivity.png").exists()  # not computed, not drawn
    assert not [p for p in folder.iterdir() if p.name.startswith(".wgmfem-")]


def test_wall_thickness_sweep_adds_sensitivity_and_its_plot(tmp_path, capsys):
    prefix = tmp_path / "w"
    code, out, _ = run(["sweep", "--wall-thickness", "6:12:6", "--jobs", "1", "--format", "json", "--plot", str(prefix), *SMALL], capsys)
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert {r["wall_thickness_um"] for r in records} == {6.0, 12.0}
    assert all(r["outer_diameter_um"] == 54 + 2 * r["wall_thickness_um"] for r in records)
    assert all(r["sensitivity_nm_per_riu"] > 0 for r in records)
    assert (tmp_path / "w_sensitivity.png").stat().st_size > 10_000


# -- the table on disk -----------------------------------------------------------------------


def test_resume_drops_half_line_and_unfinished_point(tmp_path):
    spec = SweepSpec("inner_diameter", grid(54, 56, 1), pol="Ez", p=(1, 1), wavelength_nm=(430, 434))
    full = tmp_path / "full.csv"
    run_sweep(spec, SweepFile(str(full), spec), jobs=1)
    text = full.read_text()
    counts = points_in(text)
    assert list(counts) == ["54.0", "55.0", "56.0"] and all(n > 1 for n in counts.values())
    # as after a kill: the last point half written (one row of it, then a cut line)
    lines = text.split("\n")
    cut = 1 + counts["54.0"] + counts["55.0"]
    damaged = tmp_path / "damaged.csv"
    damaged.write_text("\n".join(lines[: cut + 1]) + "\n" + lines[cut + 1][:17])
    (tmp_path / "damaged.csv.settings.json").write_text((tmp_path / "full.csv.settings.json").read_text())
    out = SweepFile(str(damaged), spec)
    done = out.resume()
    assert sorted(done) == [54.0, 55.0] and len(out.repaired) == 2
    run_sweep(spec, SweepFile(str(damaged), spec), resume=True, jobs=1)
    assert damaged.read_text() == text


def test_resume_refuses_other_settings(tmp_path, capsys):
    table = tmp_path / "s.csv"
    assert main(["sweep", "--inner-diameter", "54:54:1", "--jobs", "1", "--output", str(table), *SMALL]) == 0
    code, _, err = run(["sweep", "--inner-diameter", "54:55:1", "--resume", "--output", str(table), "--pol", "Ez", "--p", "1", "--wavelength", "440:444"], capsys)
    assert code == 2 and "wavelength_nm" in err


def test_killed_sweep_resumes_without_loss_or_duplicates(tmp_path):
    """Really kill `python -m wgmfem.cli sweep` (2 worker processes) once the file holds >= 2
    points, resume it, and compare with an uninterrupted run: byte for byte."""
    args = [sys.executable, "-m", "wgmfem.cli", "sweep", "--inner-diameter", "54:55.5:0.1", "--jobs", "2", *SMALL]
    killed = tmp_path / "killed.csv"
    proc = subprocess.Popen([*args, "--output", str(killed)], cwd=tmp_path, start_new_session=True, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if killed.exists() and len(points_in(killed.read_text())) >= 2:
                break
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the process group: the sweep and its workers
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the sweep finished before it could be killed"
    before = points_in(killed.read_text())
    assert 2 <= len(before) < 16
    resumed = subprocess.run([*args, "--output", str(killed), "--resume"], cwd=tmp_path, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    whole = tmp_path / "whole.csv"
    subprocess.run([*args, "--output", str(whole)], cwd=tmp_path, check=True)
    assert killed.read_text() == whole.read_text()
    counts = points_in(whole.read_text())
    assert len(counts) == 16
    assert all(n == int(r["n_modes"]) for r in rows_of(whole) for n in [counts[r["inner_diameter_um"]]])


def test_interrupted_sweep_resumes_without_loss_or_duplicates(tmp_path):
    """Ctrl-C (SIGINT to the process group: the sweep and its 2 workers) once the file holds a
    point: exit 130 with one line, no lock left, and a resume equal to an uninterrupted run."""
    args = ["sweep", "--inner-diameter", "54:54.5:0.1", "--jobs", "2", *SMALL]
    cut = tmp_path / "cut.csv"
    proc = subprocess.Popen([sys.executable, "-m", "wgmfem.cli", *args, "--output", str(cut)], cwd=tmp_path,
                            start_new_session=True, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline and not (cut.exists() and points_in(cut.read_text())):
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130 and err == "wgmfem: interrupted\n", err
    assert not Path(f"{cut}.lock").exists() and 1 <= len(points_in(cut.read_text())) < 6
    assert main([*args, "--output", str(cut), "--resume"]) == 0
    whole = tmp_path / "whole.csv"
    assert main([*args, "--output", str(whole)]) == 0
    assert cut.read_text() == whole.read_text()


def test_dask_cluster_gives_the_local_table(tmp_path):
    distributed = pytest.importorskip("distributed")
    args = ["sweep", "--inner-diameter", "54:55:0.25", *SMALL]
    local, remote = tmp_path / "local.csv", tmp_path / "dask.csv"
    assert main([*args, "--jobs", "2", "--output", str(local)]) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert main([*args, "--scheduler", cluster.scheduler_address, "--output", str(remote)]) == 0
    assert remote.read_text() == local.read_text()
    assert len(points_in(local.read_text())) == 5


def test_unreachable_scheduler_is_one_line(tmp_path, capsys):
    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code, _, err = run(["sweep", "--inner-diameter", "54:55:1", "--scheduler", "tcp://127.0.0.1:9", *SMALL], capsys)
    assert code == 2 and err.count("\n") == 1 and "Dask scheduler" in err


# -- tracking --------------------------------------------------------------------------------


def test_tracked_mode_through_a_narrow_crossing_equals_independent_solves():
    """Paper capillary, Ez m = 600 p = 1: between D = 54.05 and 54.15 um the core mode passes a
    wall mode of the same m (avoided crossing, core fraction dips to ~0.6 at 54.092 um). The
    tracker must stay on the core mode: same wavelength as the labelled independent solve."""
    values = sorted(set(grid(54.0, 54.3, 0.05) + grid(54.088, 54.1, 0.004)))
    spec = SweepSpec("inner_diameter", tuple(values), track=Track("Ez", 600, 1))
    rows = run_sweep(spec, jobs=1)
    assert [r["inner_diameter_um"] for r in rows] == values and all(r["n_modes"] == 1 for r in rows)
    for row in rows:
        (alone,) = find_modes(wgmfem.Capillary(row["inner_diameter_um"]), pol="Ez", m=600, p=1, region="core", fsr=False)
        assert row["wavelength_nm"] == pytest.approx(alone.wavelength_nm, rel=1e-12)
        assert row["core_fraction"] > 0.55
    steps = [b["wavelength_nm"] - a["wavelength_nm"] for a, b in zip(rows, rows[1:])]
    assert all(s > 0 for s in steps)  # lambda ~ D: the core mode moves up, the wall mode (flat) is never taken


def test_tracking_is_continuous_where_labels_fail():
    """Pure-toluene index 1.515: the core and wall modes mix strongly (docs/theory.md section 6) and the
    labelled (m = 585, p = 1, core) mode does not exist at some diameters. The tracked mode is a
    real root at every point (an independent census finds it) and moves continuously."""
    values = grid(54.0, 54.2, 0.04)
    spec = SweepSpec("inner_diameter", values, core=1.515, track=Track("Ez", 585, 1))
    rows = run_sweep(spec, jobs=1)
    labelled_missing = 0
    for row in rows:
        cap = wgmfem.Capillary(row["inner_diameter_um"], core_index=1.515)
        lam = row["wavelength_nm"]
        census = find_modes(cap, pol="Ez", m=585, wavelength_nm=(lam - 1, lam + 1), region=None, p=None, q_min=2, fsr=False)
        assert min(abs(md.wavelength_nm - lam) for md in census) < 1e-9
        try:
            find_modes(cap, pol="Ez", m=585, p=1, region="core", fsr=False)
        except SearchError:
            labelled_missing += 1
    assert labelled_missing >= 1
    steps = [b["wavelength_nm"] - a["wavelength_nm"] for a, b in zip(rows, rows[1:])]
    fractions = [abs(b["core_fraction"] - a["core_fraction"]) for a, b in zip(rows, rows[1:])]
    assert all(0 < s < 0.25 for s in steps) and max(fractions) < 0.12


def test_tracked_sweep_resumes_from_its_file(tmp_path):
    spec = SweepSpec("inner_diameter", grid(54.0, 54.2, 0.05), track=Track("Ez", 600, 1))
    whole = tmp_path / "whole.jsonl"
    run_sweep(spec, SweepFile(str(whole), spec, "jsonl"), jobs=1)
    part = tmp_path / "part.jsonl"
    head = SweepSpec("inner_diameter", spec.values[:3], track=spec.track)
    run_sweep(head, SweepFile(str(part), head, "jsonl"), jobs=1)
    run_sweep(spec, SweepFile(str(part), spec, "jsonl"), resume=True, jobs=1)
    assert part.read_text() == whole.read_text()
    assert [json.loads(line)["n_modes"] for line in whole.read_text().splitlines()] == [1] * 5


def test_sweep_plot_lines_join_one_azimuthal_number_only():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from wgmfem.plot_sweep import _scatter

    # two members (m 600 and 601) of one family at three diameters: a line per m, one legend entry
    rows = [dict(n_modes=2, pol="Ez", p=1, region="core", m=m, inner_diameter_um=d, wavelength_nm=432 + d - m)
            for d in (54.0, 54.1, 54.2) for m in (600, 601)]
    fig, ax = plt.subplots()
    try:
        _scatter(rows, "inner_diameter_um", "wavelength_nm", ax, connect=True)
        assert len(ax.lines) == 2
        for line in ax.lines:
            ys = line.get_ydata()
            assert len(set(round(float(y - x), 6) for x, y in zip(line.get_xdata(), ys))) == 1  # one m per line
        assert len(ax.get_legend().get_texts()) == 1
    finally:
        plt.close(fig)
