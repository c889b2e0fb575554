"""Progress on stderr (tqdm, wgmfem/cli/common.py): a bar per stage on a terminal, erased before any
other line; nothing with --quiet or when stderr is not a terminal; never a bar on stdout."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
import time
import warnings

import pytest

from wgmfem.cli import common, main
from wgmfem.exact import search

SUMMARY = re.compile(r"wgmfem: \d+ modes in [\d.]+ s$")
MODES = ["modes", "--wavelength", "425:445", "--pol", "Ez", "--format", "json"]  # 60 census boxes: two reports, ~0.5 s


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WGMFEM_MESH_CACHE", str(tmp_path / "cache"))
    yield
    common.end_progress()


def streams(monkeypatch, stderr: io.StringIO) -> tuple[io.StringIO, io.StringIO]:
    out = Pipe()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", stderr)
    return out, stderr


def cursor(text: str) -> tuple[int, str]:
    """Where a terminal's cursor is after ``text`` (column, the current line as shown)."""
    line: list[str] = []
    col = 0
    for ch in text:
        if ch == "\r":
            col = 0
        elif ch == "\n":
            line, col = [], 0
        else:
            line[col:col + 1] = [ch]
            col += 1
    return col, "".join(line)


def screen(text: str) -> list[str]:
    """The lines a terminal shows after ``text`` (blank ones left out)."""
    shown = []
    for line in text.split("\n"):
        _, visible = cursor(line)
        if visible.strip():
            shown.append(visible.rstrip())
    return shown


# -- commands --------------------------------------------------------------------------------

def test_a_terminal_shows_a_bar_per_stage_and_stdout_stays_json(monkeypatch):
    out, err = streams(monkeypatch, Terminal())
    assert main(MODES) == 0
    modes = json.loads(out.getvalue())
    assert modes and "\r" not in out.getvalue() and "box/s" not in out.getvalue()
    raw = err.getvalue()
    frame = re.search(r"Ez census: +\d+%\|.*\| 48/\d+ boxes \[00:\d\d<00:\d\d, +[\d.]+box/s\]", raw)
    assert frame, raw  # the stage as description, done/total, elapsed, time left and rate
    assert len(screen(raw)) == 1 and SUMMARY.match(screen(raw)[0])  # the bar erased: only the summary stays


@pytest.mark.parametrize("stream, quiet", [(Terminal, True), (Pipe, False)], ids=["quiet", "not a terminal"])
def test_quiet_or_no_terminal_writes_no_progress(monkeypatch, stream, quiet):
    out, err = streams(monkeypatch, stream())
    assert main(MODES + ["--quiet"] * quiet) == 0
    json.loads(out.getvalue())
    lines = err.getvalue().splitlines()
    if quiet:
        assert lines == []
    else:  # the summary line only
        assert len(lines) == 1 and SUMMARY.match(lines[0]) and "\r" not in err.getvalue()


def test_a_warning_during_progress_starts_on_a_clean_line(monkeypatch):
    out, err = streams(monkeypatch, Terminal())
    calls = []
    find_roots = search.find_roots

    def warning_on_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # the bar shows 48 boxes done now
            warnings.warn("a warning in the middle of the census", UserWarning, stacklevel=1)
        return find_roots(*args, **kwargs)

    monkeypatch.setattr(search, "find_roots", warning_on_the_second_batch)
    assert main(["simulate", "--wavelength", "425:445", "--pol", "Ez", "--seed", "1"]) == 0
    raw = err.getvalue()
    at = raw.index("wgmfem: warning: a warning in the middle of the census")
    assert re.search(r"48/\d+ boxes", raw[:at])  # a bar was shown ...
    col, line = cursor(raw[:at])
    assert col == 0 and not line.strip()  # ... and erased
    assert "Ez census" in raw[at:]  # drawn again below the warning while the census goes on
    assert screen(raw)[0] == "wgmfem: warning: a warning in the middle of the census" and len(screen(raw)) == 2
    assert out.getvalue() and "\r" not in out.getvalue()


def test_sweep_counts_points_and_its_rows_stay_csv(monkeypatch):
    out, err = streams(monkeypatch, Terminal())
    argv = ["sweep", "--inner-diameter", "10:11:1", "--outer-diameter", "14", "--wavelength", "600:605", "--jobs", "1"]
    assert main(argv) == 0
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {row["inner_diameter_um"] for row in rows} == {"10.0", "11.0"} and "\r" not in out.getvalue()
    raw = err.getvalue()
    assert re.search(r"sweep: +0%\|.*\| 0/2 points", raw) and re.search(r"sweep: +50%\|.*\| 1/2 points", raw)
    assert screen(raw) == [line for line in screen(raw) if line.startswith("wgmfem: 2 points")]


def test_mesh_shows_its_steps_and_is_quiet_on_request(monkeypatch):
    argv = ["mesh", "--inner-diameter", "10", "--outer-diameter", "14", "--m", "20", "--pol", "Ez", "--format", "json"]
    out, err = streams(monkeypatch, Terminal())
    assert main(argv) == 0
    json.loads(out.getvalue())
    assert "target mode:" in err.getvalue() and "mesh:" in err.getvalue() and screen(err.getvalue()) == []
    out, err = streams(monkeypatch, Terminal())
    assert main(argv + ["--quiet"]) == 0
    json.loads(out.getvalue())
    assert err.getvalue() == ""


@pytest.mark.parametrize("command", ["modes", "field", "mesh", "sweep", "simulate", "assign", "design"])
def test_every_command_with_progress_takes_quiet(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "--quiet" in capsys.readouterr().out


# -- the machinery ---------------------------------------------------------------------------

def test_one_bar_per_stage(monkeypatch):
    _, err = streams(monkeypatch, Terminal())
    progress = common.progress_printer(True)
    progress("Ez census", 48, 100)
    first = err.getvalue()
    assert "Ez census:" in first and "48/100 boxes" in first
    progress("Hz census", 10, 100)  # a new stage: the first bar erased, a new one drawn
    raw = err.getvalue()
    col, line = cursor(raw[:raw.index("Hz census")])
    assert col == 0 and not line.strip() and "10/100 boxes" in raw
    progress("Hz census", 100, 100)  # done: erased
    assert screen(err.getvalue()) == [] and progress.bar is None


def test_a_cleared_stage_goes_on_with_its_count_and_clock(monkeypatch):
    _, err = streams(monkeypatch, Terminal())
    progress = common.progress_printer(True)
    progress("scan", 3, 10)
    began = progress.bar.start_t
    common.clear_progress()  # a line to write
    assert progress.bar is None and screen(err.getvalue()) == []
    progress("scan", 4, 10)
    assert "4/10 geometries" in err.getvalue() and progress.bar.start_t == began and progress.bar.n == 4


def test_resumed_work_is_counted_but_not_in_the_rate(monkeypatch):
    _, err = streams(monkeypatch, Terminal())
    progress = common.progress_printer(True)
    progress.start("sweep", 5, 10)  # shown before the first point is done
    assert "5/10 points" in err.getvalue()
    progress("sweep", 6, 10)
    assert progress.bar.format_dict["initial"] == 5 and progress.bar.n == 6
    progress.start("sweep", 10, 10)  # nothing left: no bar
    assert progress.bar is None and screen(err.getvalue()) == []


def test_a_message_takes_the_bars_place_and_the_bar_comes_back(monkeypatch):
    _, err = streams(monkeypatch, Terminal())
    progress = common.progress_printer(True)
    progress("tune", 2, 8)
    before = len(err.getvalue())
    common.warning_line("look")
    raw = err.getvalue()
    at = raw.index("wgmfem: warning: look\n")
    col, line = cursor(raw[:at])
    assert col == 0 and not line.strip()
    assert "2/8 candidates" in raw[at:] and at > before
    common.end_progress()  # the loop stopped short of its count: results follow
    common.message_line("done")  # no bar drawn again
    assert screen(err.getvalue()) == ["wgmfem: warning: look", "wgmfem: done"]


def test_results_end_a_stage_left_open(monkeypatch):
    out, err = streams(monkeypatch, Terminal())
    progress = common.progress_printer(True)
    progress("tune", 1, 4)
    common.emit("result\n", None)
    assert out.getvalue() == "result\n" and progress.bar is None and progress.stage is None
    assert screen(err.getvalue()) == []


def test_a_step_shows_a_running_clock(monkeypatch):
    _, err = streams(monkeypatch, Terminal())
    monkeypatch.setattr(common, "TICK_SECONDS", 0.02)
    progress = common.progress_printer(True)
    with common.progress_step(progress, "mesh"):
        time.sleep(0.3)
    frames = [f for f in err.getvalue().split("\r") if f.startswith("mesh:")]
    assert len(frames) >= 4 and all("0/1 steps" in f for f in frames[:-1])
    assert screen(err.getvalue()) == [] and progress.bar is None


def test_disabled_progress_writes_nothing(monkeypatch):
    _, err = streams(monkeypatch, Terminal())
    assert common.progress_printer(False) is None
    with common.progress_step(None, "mesh"):
        pass
    common.clear_progress()
    common.end_progress()
    common.message_line("only this")
    assert err.getvalue() == "wgmfem: only this\n"


def test_a_failed_commands_stage_is_not_drawn_again(monkeypatch):
    _, err = streams(monkeypatch, Terminal())
    progress = common.progress_printer(True)
    progress("scan", 1, 4)
    common.clear_progress()  # an error line (wgmfem.cli._fail)
    _, later = streams(monkeypatch, Pipe())
    common.progress_printer(False)  # the next command, without progress
    common.warning_line("plain")
    assert later.getvalue() == "wgmfem: warning: plain\n"
