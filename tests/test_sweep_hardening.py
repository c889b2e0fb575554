"""``wgmfem sweep`` on a damaged, foreign or busy output file, and with its parent killed: one
error line and exit code 2 (never a traceback), or a repair that recomputes what a kill cut
short; workers that end with their parent; errors that name the user's path."""

import errno
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wgmfem import atomic
from wgmfem.atomic import ExclusiveLock, LockedError, write_text_atomically
from wgmfem.cli import main
from wgmfem.sweep import SweepError, SweepFile, SweepSpec, grid

GRID = ["--inner-diameter", "54:54.2:0.1"]
# Ez core modes p = 1 in 431-433 nm: 3 modes at each of the 3 points
SMALL = ["--pol", "Ez", "--p", "1", "--wavelength", "431:433", "--jobs", "1"]
CLI = [sys.executable, "-m", "wgmfem.cli", "sweep"]
SPEC = SweepSpec("inner_diameter", grid(54, 54.2, 0.1), pol="Ez", p=(1, 1), wavelength_nm=(431, 433))


def run(args, capsys):
    code = main(["sweep", *args])
    out, err = capsys.readouterr()
    return code, out, err


def points_in(text: str) -> int:
    """Number of distinct swept values with complete lines in a CSV table."""
    return len({line.split(",")[0] for line in text.split("\n")[1:-1]})


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """The whole 3-point sweep as CSV and as JSON lines: {format: (table bytes, settings bytes)}."""
    folder = tmp_path_factory.mktemp("tables")
    made = {}
    for fmt, name in (("csv", "s.csv"), ("jsonl", "s.jsonl")):
        path = folder / name
        assert main(["sweep", *GRID, *SMALL, "--quiet", "--output", str(path)]) == 0
        made[fmt] = (path.read_bytes(), Path(f"{path}.settings.json").read_bytes())
    return made


def table(tmp_path, tables, fmt, edit=None, settings=None) -> Path:
    """A copy of the whole table (``edit``: bytes -> bytes, applied to it) with its settings file."""
    text, saved = tables[fmt]
    path = tmp_path / f"t.{fmt}"
    path.write_bytes(edit(text) if edit else text)
    Path(f"{path}.settings.json").write_bytes(saved if settings is None else settings)
    return path


def replace_line(number: int, new):
    """An edit of a table: line ``number`` (from 1) becomes ``new`` (bytes, or a function of the old line)."""

    def edit(text: bytes) -> bytes:
        lines = text.split(b"\n")
        lines[number - 1] = new(lines[number - 1]) if callable(new) else new
        return b"\n".join(lines)

    return edit


def csv_cell(number: int, column: str, value: bytes):
    """An edit of a CSV table: ``column`` of line ``number`` becomes ``value``."""
    position = SPEC.columns.index(column)
    return replace_line(number, lambda line: b",".join(value if i == position else c for i, c in enumerate(line.split(b","))))


def assert_refused(code, err, path: Path, before: bytes, *words):
    assert code == 2
    assert err.startswith("wgmfem: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and str(path) in err
    assert all(word in err for word in words), err
    assert path.read_bytes() == before  # left as it was
    assert not Path(f"{path}.lock").exists()


# -- 1. damaged files are refused (one line, exit 2) ---------------------------------------


@pytest.mark.parametrize(
    "fmt, edit, words",
    [
        ("csv", lambda text: bytes(range(256)) * 8, ["binary"]),
        ("jsonl", lambda text: b"\x7fELF\x02\x01\x01\x00\x00\n\xff\xfe" * 40 + b"\n", ["binary"]),
        ("csv", lambda text: text[:200] + b"\xff\xfe\x00garbage\n" + text[200:], ["binary"]),
        ("csv", csv_cell(3, "wavelength_nm", b"abc"), ["line 3", "wavelength_nm", "'abc'"]),
        ("csv", csv_cell(3, "n_modes", b"x"), ["line 3", "n_modes", "'x'"]),
        ("csv", csv_cell(4, "inner_diameter_um", b"abc"), ["line 4", "inner_diameter_um"]),
        ("csv", csv_cell(6, "m", b"6.5"), ["line 6", " m "]),
        ("csv", csv_cell(2, "pol", b"Qz"), ["line 2", "pol"]),
        ("csv", csv_cell(2, "hybrid", b"maybe"), ["line 2", "hybrid"]),
        ("csv", csv_cell(2, "Q_rad", b"nan"), ["line 2", "Q_rad"]),
        ("csv", replace_line(5, lambda line: line.rsplit(b",", 3)[0]), ["line 5", "cells"]),
        ("csv", replace_line(1, b"diameter,wavelength"), ["columns"]),
        ("csv", csv_cell(3, "outer_diameter_um", b"79.0"), ["line 3", "outer_diameter_um"]),  # not the geometry of its point
        ("jsonl", replace_line(3, b"{}"), ["line 3", "no inner_diameter_um"]),
        ("jsonl", replace_line(3, b"[1,2]"), ["line 3", "not a JSON object"]),
        ("jsonl", replace_line(3, b"not json"), ["line 3", "not JSON"]),
        ("jsonl", replace_line(3, lambda line: line.replace(b'"n_modes": 3, ', b"")), ["line 3", "no n_modes"]),
        ("jsonl", replace_line(3, lambda line: re.sub(rb'"m": [0-9]+', b'"m": "600"', line)), ["line 3", "'600'"]),
        ("jsonl", replace_line(2, lambda line: re.sub(rb'"wavelength_nm": [0-9.]+', b'"wavelength_nm": "abc"', line)), ["line 2", "wavelength_nm", "'abc'"]),
        ("jsonl", replace_line(2, lambda line: line.replace(b"}", b', "colour": 1}')), ["line 2", "colour"]),
        ("jsonl", replace_line(9, b"{}"), ["line 9"]),  # a complete last line is no kill's work: refused too
        ("jsonl", replace_line(2, lambda line: line.replace(b'"n_modes": 3', b'"n_modes": 2')), ["line 1", "disagree"]),
        ("jsonl", lambda text: b"\n".join(text.split(b"\n")[:3] + text.split(b"\n")[4:]), ["line 4", "2 rows", "n_modes = 3"]),
    ],
    ids=[
        "csv-binary", "jsonl-binary", "csv-binary-line", "csv-abc-value", "csv-x-n_modes", "csv-abc-swept", "csv-float-m",
        "csv-pol", "csv-flag", "csv-nan", "csv-short-row", "csv-header", "csv-geometry", "jsonl-empty-object",
        "jsonl-list", "jsonl-not-json", "jsonl-no-n_modes", "jsonl-string-m", "jsonl-string-wavelength",
        "jsonl-unknown-key", "jsonl-damaged-last-line", "jsonl-n_modes-disagree", "jsonl-point-missing-a-row",
    ],
)
def test_damaged_table_is_refused(tmp_path, tables, capsys, fmt, edit, words):
    path = table(tmp_path, tables, fmt, edit)
    before = path.read_bytes()
    code, _, err = run([*GRID, *SMALL, "--output", str(path), "--resume"], capsys)
    assert_refused(code, err, path, before, "cannot resume", *words)


@pytest.mark.parametrize("settings", [b"[]", b"", b"\xff\xfe\x00\x01", b'"text"', b"{broken"])
def test_damaged_settings_file_is_refused(tmp_path, tables, capsys, settings):
    path = table(tmp_path, tables, "csv", settings=settings)
    before = path.read_bytes()
    code, _, err = run([*GRID, *SMALL, "--output", str(path), "--resume"], capsys)
    assert_refused(code, err, path, before, "settings file", "missing or damaged")


def test_a_point_twice_is_refused(tmp_path, tables, capsys):
    path = table(tmp_path, tables, "csv", lambda text: text + b"\n".join(text.split(b"\n")[1:4]) + b"\n")
    before = path.read_bytes()
    code, _, err = run([*GRID, *SMALL, "--output", str(path), "--resume"], capsys)
    assert_refused(code, err, path, before, "inner_diameter_um = 54", "twice", "line 11")


# -- 1. what a kill leaves is repaired ----------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_cut_last_point_is_recomputed_with_one_notice(tmp_path, tables, capsys, fmt):
    """A kill in the middle of the last point's write: its first row and a half line remain."""
    whole = tables[fmt][0]
    lines = whole.split(b"\n")
    path = table(tmp_path, tables, fmt, lambda text: b"\n".join(lines[:-3]) + b"\n" + lines[-3][:25])
    code, _, err = run([*GRID, *SMALL, "--output", str(path), "--resume"], capsys)
    assert code == 0, err
    (notice,) = [line for line in err.splitlines() if "dropped" in line]
    assert notice == f"wgmfem: resumed {path}: dropped a half-written last line and 1 row of an unfinished point"
    assert path.read_bytes() == whole


def test_nul_tail_of_a_crash_is_dropped(tmp_path, tables, capsys):
    path = table(tmp_path, tables, "csv", lambda text: text + b"\0" * 300)
    code, _, err = run([*GRID, *SMALL, "--output", str(path), "--resume"], capsys)
    assert code == 0 and "dropped a half-written last line" in err
    assert path.read_bytes() == tables["csv"][0]


def test_points_without_modes_resume(tmp_path, capsys):
    """A window that holds a mode at 54 um only: the other points are rows with n_modes = 0."""
    args = ["--inner-diameter", "54:54.2:0.1", "--pol", "Ez", "--p", "1", "--wavelength", "431.3:431.45", "--jobs", "1", "--quiet"]
    whole = tmp_path / "whole.jsonl"
    assert main(["sweep", *args, "--output", str(whole)]) == 0
    text = whole.read_bytes()
    assert text.count(b'"n_modes": 0') == 2
    part = tmp_path / "part.jsonl"
    part.write_bytes(b"\n".join(text.split(b"\n")[:2]) + b"\n")
    Path(f"{part}.settings.json").write_bytes(Path(f"{whole}.settings.json").read_bytes())
    assert main(["sweep", *args, "--output", str(part), "--resume"]) == 0
    assert part.read_bytes() == text


# -- 2. a point off the grid is refused ----------------------------------------------------


def test_point_off_the_grid_is_refused(tmp_path, tables, capsys):
    first = tables["csv"][0].split(b"\n")[1]
    off = first.replace(b"54.0,78.0,12.0", b"99.0,78.0,-10.5", 1).replace(b",3,Ez,", b",1,Ez,", 1)
    path = table(tmp_path, tables, "csv", lambda text: text + off + b"\n")
    before = path.read_bytes()
    code, _, err = run([*GRID, *SMALL, "--output", str(path), "--resume"], capsys)
    assert_refused(code, err, path, before, "inner_diameter_um = 99", "not on the grid", "line 11")


def test_a_longer_grid_holding_every_point_resumes(tmp_path, tables, capsys):
    path = table(tmp_path, tables, "csv")
    code, _, err = run(["--inner-diameter", "54:54.3:0.1", *SMALL, "--output", str(path), "--resume"], capsys)
    assert code == 0, err
    text = path.read_bytes()
    assert text.startswith(tables["csv"][0]) and points_in(text.decode()) == 4


# -- 3. one writer at a time ---------------------------------------------------------------


def test_second_writer_is_refused_while_the_first_runs(tmp_path, capsys):
    path = tmp_path / "busy.csv"
    first = subprocess.Popen(
        [*CLI, "--inner-diameter", "54:54.4:0.1", *SMALL, "--quiet", "--output", str(path)],
        cwd=tmp_path, start_new_session=True, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not path.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert first.poll() is None, "the first sweep ended before a second one could start"
        for how in ("--overwrite", "--resume"):
            before = path.read_bytes()
            code, _, err = run(["--inner-diameter", "54:54.4:0.1", *SMALL, "--output", str(path), how], capsys)
            assert code == 2 and err.count("\n") == 1, err
            assert err.startswith(f"wgmfem: error: {path} is being written by another sweep (process {first.pid})"), err
            assert path.read_bytes()[: len(before)] == before  # untouched by the second writer
        assert first.poll() is None, "the first sweep ended before the second one was refused"
        _, first_err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    assert first.returncode == 0, first_err
    lines = path.read_text().split("\n")[1:-1]
    assert points_in(path.read_text()) == 5 and len(lines) == len(set(lines))
    assert not Path(f"{path}.lock").exists()


def test_stale_lock_file_of_a_killed_sweep_does_not_block(tmp_path, tables, capsys):
    path = table(tmp_path, tables, "csv")
    Path(f"{path}.lock").write_text("999999999\n")
    code, _, err = run([*GRID, *SMALL, "--output", str(path), "--resume", "--quiet"], capsys)
    assert code == 0, err
    assert path.read_bytes() == tables["csv"][0] and not Path(f"{path}.lock").exists()


def test_lock_is_exclusive_within_a_process_too(tmp_path):
    path = tmp_path / "x.lock"
    with ExclusiveLock(path):
        with pytest.raises(LockedError):
            ExclusiveLock(path).acquire()
    with ExclusiveLock(path):  # released: free again
        pass
    assert not path.exists()


# -- 4. workers end with their parent -----------------------------------------------------


def test_workers_exit_when_the_sweep_is_killed(tmp_path):
    """kill -9 of the sweep (not its workers): its stdout and stderr pipes reach EOF at once,
    as no orphaned worker holds them, and its lock is free for a resume."""
    path = tmp_path / "killed.csv"
    proc = subprocess.Popen(
        [*CLI, "--inner-diameter", "54:56:0.1", *SMALL[:-2], "--jobs", "2", "--output", str(path)],
        cwd=tmp_path, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if path.exists() and points_in(path.read_text()) >= 1:
                break
            time.sleep(0.01)
        assert proc.poll() is None, "the sweep ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        start = time.monotonic()
        proc.communicate(timeout=10)  # EOF on both pipes: every worker has exited
        assert time.monotonic() - start < 5
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the sweep, should the test fail
        except ProcessLookupError:
            pass
        proc.wait()
    with ExclusiveLock(f"{path}.lock"):  # the killed sweep's lock ended with it
        pass


# -- 5. errors name the user's path --------------------------------------------------------


@pytest.mark.parametrize("how", [[], ["--overwrite"], ["--resume"]])
def test_output_that_is_a_folder_is_named(tmp_path, capsys, how):
    folder = tmp_path / "outdir"
    folder.mkdir()
    code, _, err = run([*GRID, *SMALL, "--output", str(folder), *how], capsys)
    assert code == 2 and err.count("\n") == 1 and str(folder) in err and ".wgmfem-" not in err, err
    assert list(tmp_path.iterdir()) == [folder] and not list(folder.iterdir())


def test_settings_path_that_is_a_folder_is_named(tmp_path, capsys):
    path = tmp_path / "s.csv"
    Path(f"{path}.settings.json").mkdir()
    code, _, err = run([*GRID, *SMALL, "--output", str(path)], capsys)
    assert code == 2 and err.count("\n") == 1 and f"{path}.settings.json" in err and ".wgmfem-" not in err, err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".wgmfem-")]


def test_library_errors_name_the_path(tmp_path):
    with pytest.raises(IsADirectoryError) as caught:
        write_text_atomically(tmp_path, "x")
    assert caught.value.filename == str(tmp_path)
    with pytest.raises(SweepError, match="is a folder"):
        SweepFile(str(tmp_path), SPEC)


def test_file_system_without_locks_warns_and_runs(tmp_path, tables, capsys, monkeypatch):
    def no_locks(fd):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(atomic, "_try_lock", no_locks)
    path = table(tmp_path, tables, "csv")
    code, _, err = run([*GRID, *SMALL, "--output", str(path), "--resume", "--quiet"], capsys)
    assert code == 0 and err == f"wgmfem: warning: cannot lock {path}.lock (No locks available): make sure no other sweep writes {path}\n"
    assert path.read_bytes() == tables["csv"][0]
