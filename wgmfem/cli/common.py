"""What every ``wgmfem`` subcommand shares: one-line input errors, option parsers (numbers,
ranges, indices, layer stacks), the geometry options and how they become a fibre, progress
bars (tqdm) and warnings on stderr (one line each), and output files (checked before any
work, written atomically, all or none).

Lengths in um, wavelengths in nm.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from tqdm import tqdm  # type: ignore[import-untyped, unused-ignore]  # tqdm ships no type information

from ..atomic import atomic_path
from ..geometry import (
    PAPER_CORE_INDEX,
    PAPER_INNER_DIAMETER_UM,
    PAPER_OUTER_DIAMETER_UM,
    PAPER_WALL_INDEX,
    LayeredCylinder,
    MaterialStack,
    capillary_stack,
)
from ..materials import MaterialRangeWarning, get_material
from ..report import write_atomically
from ..solve import estimated_wavelength_nm, guide_clause, region_notice, resolve_region


class InputError(Exception):
    """Bad command-line input (one line of message)."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse would print the usage block too)
        raise InputError(f"{message} (see '{self.prog} --help')")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def index_or_material(text: str):
    """A refractive index: a number, a complex number (n+kj, k > 0 absorbs) or a material
    (built-in name, refractiveindex.info YAML file)."""
    for kind in (float, complex):
        try:
            value = kind(text.replace("i", "j") if kind is complex else text)
        except ValueError:
            continue
        if not (math.isfinite(value.real) and math.isfinite(value.imag)) or value.real <= 0:
            raise argparse.ArgumentTypeError(f"refractive index must have a positive real part, got {text!r}")
        return value
    try:
        return get_material(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc).splitlines()[0]) from None


def float_range(text: str) -> tuple[float, float]:
    parts = text.split(":")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected MIN:MAX, got {text!r}")
    try:
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two numbers MIN:MAX, got {text!r}") from None
    return lo, hi


def int_range(name: str):
    def parse(text: str):
        if text.strip().lower() == "any":
            return "any"
        parts = text.split(":")
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer N or a range N1:N2, got {text!r}") from None
        if len(values) == 1:
            return values[0], values[0]
        if len(values) == 2:
            return values[0], values[1]
        raise argparse.ArgumentTypeError(f"{name} must be N or N1:N2, got {text!r}")

    return parse


def layers_spec(text: str) -> list[tuple[float, float]]:
    layers = []
    for item in text.split(","):
        parts = item.split(":")
        if len(parts) != 2:
            raise argparse.ArgumentTypeError(f"each layer is RADIUS_UM:INDEX, got {item!r}")
        try:
            radius = float(parts[0])
        except ValueError:
            raise argparse.ArgumentTypeError(f"each layer is RADIUS_UM:INDEX, got a radius of {parts[0]!r}") from None
        layers.append((radius, index_or_material(parts[1])))
    return layers


def add_geometry_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("geometry (lengths in um)")
    g.add_argument("--inner-diameter", type=positive_float, metavar="UM", help=f"bore diameter (default {PAPER_INNER_DIAMETER_UM:g})")
    g.add_argument("--outer-diameter", type=positive_float, metavar="UM", help=f"fibre diameter (default {PAPER_OUTER_DIAMETER_UM:g})")
    g.add_argument("--core", type=index_or_material, metavar="N", help=f"liquid core: index (1.56, 1.56+1e-4j) or material (toluene, file.yml) (default {PAPER_CORE_INDEX:g})")
    g.add_argument("--wall", type=index_or_material, metavar="N", help=f"glass wall: index or material (fused-silica, ...) (default {PAPER_WALL_INDEX:g})")
    g.add_argument("--outside", type=index_or_material, metavar="N", default=1.0, help="surrounding medium: index or material (default 1)")
    g.add_argument("--strict", action="store_true", help="a material used outside its validity range is an error (default: a warning)")
    g.add_argument(
        "--layers", type=layers_spec, metavar="R1:N1,R2:N2,...",
        help="any other stack: outer radius (um) and index of each layer from the centre out, "
        "e.g. '3:1.56' for a rod; replaces the capillary options",
    )


def build_geometry(args) -> LayeredCylinder | MaterialStack:
    """A LayeredCylinder when every index is a number, else a MaterialStack (dispersive); a
    --region the command takes must name one of its regions (or be 'any' / 'auto')."""
    cylinder = _geometry(args)
    region = getattr(args, "region", None)
    if region and region.lower() not in ("any", "auto") and region not in cylinder.region_names:
        raise InputError(f"no region called {region!r}; regions are {', '.join(cylinder.region_names)}")
    return cylinder


def _geometry(args) -> LayeredCylinder | MaterialStack:
    if args.layers is not None:
        clash = [o for o in ("inner_diameter", "outer_diameter", "core", "wall") if getattr(args, o) is not None]
        if clash:
            raise InputError(f"--layers replaces --{clash[0].replace('_', '-')}; give one or the other")
        radii = tuple(r for r, _ in args.layers)
        indices = tuple(n for _, n in args.layers)
        if all(isinstance(n, (float, complex)) for n in indices + (args.outside,)):
            return LayeredCylinder(radii, indices, args.outside)
        return MaterialStack(radii, indices, args.outside)
    return capillary_stack(
        args.inner_diameter or PAPER_INNER_DIAMETER_UM,
        args.outer_diameter or PAPER_OUTER_DIAMETER_UM,
        args.core if args.core is not None else PAPER_CORE_INDEX,
        args.wall if args.wall is not None else PAPER_WALL_INDEX,
        args.outside,
    )


def single_mode(modes):
    """The one mode a command draws or meshes: the clearest carrier of the label asked for
    (:func:`~wgmfem.solve.find_modes` puts it first); modes of both polarizations are an error."""
    if len({md.pol for md in modes}) > 1:
        raise InputError("found a mode of each polarization; give --pol Ez or --pol Hz")
    if not modes:
        raise InputError("no mode carries that label")
    return modes[0]


# -- progress on stderr ------------------------------------------------------------------------
# tqdm draws the bars. At most one bar is open: one per stage (its name as the description,
# done/total, elapsed, average rate, time left), erased when the stage ends and before any other
# line goes to stderr (clear_progress, message_line; drawn again below the line while the stage
# goes on), so that every message stays one line. Bars go to stderr only, and only when the
# command asked for them (a terminal, no --quiet): see progress_printer.

#: What the count of a stage counts, (one, many): a stage not listed counts steps, '<pol> census' boxes.
STAGE_UNITS = {
    "1-D FEM": ("mode", "modes"), "2-D FEM": ("mode", "modes"), "sweep": ("point", "points"),
    "plots": ("figure", "figures"), "scan": ("geometry", "geometries"), "tune": ("candidate", "candidates"),
    "wall scan": ("wall", "walls"), "reference modes": ("family", "families"),
    "exact screen": ("labelling", "labellings"), "exact fits": ("labelling", "labellings"),
}
#: Seconds between redraws of a bar whose stage is running (its clock ticks: see StageProgress.ticking).
TICK_SECONDS = 1.0

# Held while a bar is drawn, closed, or a line is written in its place (the ticking thread draws too).
_LOCK = threading.RLock()
if hasattr(os, "register_at_fork"):  # a worker process (sweep --jobs) forked mid-draw must not inherit a held lock
    os.register_at_fork(before=_LOCK.acquire, after_in_parent=_LOCK.release, after_in_child=_LOCK.release)


def stage_unit(stage: str) -> tuple[str, str]:
    """What the count of ``stage`` counts: (one, many)."""
    if stage.endswith("census"):
        return "box", "boxes"
    return STAGE_UNITS.get(stage, ("step", "steps"))


class StageProgress:
    """Progress bars on stderr (tqdm), one per stage, for the callbacks ``progress(stage, done,
    total)`` of the solvers, design, assignment and sweep loops.

    A stage begins with its first report (or :meth:`start`): its clock starts where the previous
    stage ended (or where the printer was made), since work is reported only once done. Its bar
    is erased when ``done`` reaches ``total``, when another stage is reported, or by
    :func:`end_progress`; :func:`clear_progress` erases it for a line written in its place, and
    the stage's next report (or :func:`message_line`) draws it again with its count and clock.
    """

    def __init__(self) -> None:
        self.stage: str | None = None  # the stage shown (its bar may be closed while a message is written)
        self.total = 0
        self.done = 0
        self.initial = 0  # done when the stage was opened, not by this run (a resumed sweep)
        self.began = time.time()  # when the stage began (tqdm's clock: time.time)
        self.last = self.began  # when the last report came
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        with _LOCK:
            now = time.time()
            if stage != self.stage or total != self.total or done < self.done:
                self._open_stage(stage, 0, total, began=self.last)
            self.last = now
            self._show(done)
            if done >= total:
                self._end()

    def start(self, stage: str, done: int, total: int) -> None:
        """Open ``stage`` now, with ``done`` of ``total`` already done before this run (counted, but
        not in the rate): its bar shows before the first report."""
        with _LOCK:
            self.last = time.time()
            self._open_stage(stage, done, total, began=self.last)
            if done < total:
                self._show(done)
            else:  # nothing left to do: no bar
                self._end()

    def clear(self) -> None:
        """Erase the bar (the stage goes on: its next report, or :meth:`redraw`, draws it again)."""
        with _LOCK:
            if self.bar is not None:
                self.bar.close()
                self.bar = None

    def redraw(self) -> None:
        """Draw the bar of the stage going on again (after a message written in its place)."""
        with _LOCK:
            if self.stage is not None and self.bar is None:
                self._show(self.done)

    def end(self) -> None:
        """Erase the bar and end its stage (a stage whose loop stopped short of its total)."""
        with _LOCK:
            self._end()

    @contextmanager
    def ticking(self) -> Iterator[None]:
        """Within the block, the open bar is redrawn every :data:`TICK_SECONDS` (its elapsed time
        and rate run on between reports: a long solve, a mesh, a sweep's points)."""
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(TICK_SECONDS):
                with _LOCK:
                    if self.bar is not None:
                        self.bar.refresh()

        thread = threading.Thread(target=tick, name="wgmfem-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def _open_stage(self, stage: str, initial: int, total: int, began: float) -> None:
        self.clear()
        self.stage, self.total, self.done, self.initial, self.began = stage, total, initial, initial, began
        _ACTIVE[:] = [self]

    def _show(self, done: int) -> None:
        self.done = done
        if self.bar is None:
            columns, lines = _terminal_size()
            unit, units = stage_unit(self.stage or "")
            self.bar = tqdm(
                total=self.total, initial=self.initial, desc=self.stage, unit=unit,
                # tqdm's bar with the count named: "Ez census:  40%|####      | 96/240 boxes [00:01<00:02, 64.0box/s]"
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} " + units + " [{elapsed}<{remaining}, {rate_fmt}]",
                file=sys.stderr, ncols=columns, nrows=lines, leave=False,
                smoothing=0,  # the rate: average over the stage
                miniters=1,  # redrawn by this thread or the ticking one only (not tqdm's monitor thread)
                mininterval=0,  # every report is drawn: reports are coarse (a batch of boxes, a point)
            )
            self.bar.start_t = self.began  # the stage began before its first report (tqdm's clock)
            self.bar.update(done - self.bar.n)
            self.bar.refresh()
        elif done > self.bar.n:
            self.bar.update(done - self.bar.n)

    def _end(self) -> None:
        self.clear()
        self.stage = None
        self.done = self.total = 0


def _terminal_size() -> tuple[int, int]:
    """Columns and lines of the terminal on stderr; 80 x 24 where it tells none (a pseudo-terminal
    of size 0 x 0, on which tqdm would draw nothing)."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):  # not a file (io.UnsupportedOperation), or no terminal
        return 80, 24
    return size.columns or 80, size.lines or 24


# The printer whose bar clear_progress erases (the last one to open a stage).
_ACTIVE: list[StageProgress] = []


def clear_progress() -> None:
    """Erase the progress bar, if one is shown (call before writing any other line to stderr, or
    results to a terminal); the next report of its stage draws it again."""
    with _LOCK:
        for printer in _ACTIVE:
            printer.clear()


def end_progress() -> None:
    """Erase the progress bar and end its stage: the work it showed is over (results follow)."""
    with _LOCK:
        for printer in _ACTIVE:
            printer.end()


def progress_printer(enabled: bool) -> StageProgress | None:
    """The ``progress(stage, done, total)`` callback of a command: bars on stderr, or None (nothing
    is written) unless ``enabled`` (callers pass ``sys.stderr.isatty() and not args.quiet``).
    Stages an earlier command left open (it failed) are ended: no message draws them again."""
    with _LOCK:
        end_progress()
        _ACTIVE.clear()
    return StageProgress() if enabled else None


def command_progress(args) -> StageProgress | None:
    """:func:`progress_printer` of a command with ``--quiet``: on when stderr is a terminal and not quiet."""
    return progress_printer(sys.stderr.isatty() and not getattr(args, "quiet", False))


@contextmanager
def progress_step(progress: StageProgress | None, stage: str) -> Iterator[None]:
    """One call that reports nothing itself (a mesh, a figure, one solve) as a stage of one step:
    its bar shows 0/1 with a running clock while the block runs, and is erased when it returns."""
    if progress is None:
        yield
        return
    progress.start(stage, 0, 1)
    with progress.ticking():
        yield
    progress(stage, 1, 1)


def message_line(text: str) -> None:
    """One ``wgmfem: ...`` line on stderr, in place of the progress bar (erased first, drawn again
    below the line while its stage goes on)."""
    with _LOCK:
        shown = [printer for printer in _ACTIVE if printer.bar is not None]
        clear_progress()
        sys.stderr.write(f"wgmfem: {text}\n")
        sys.stderr.flush()
        for printer in shown:
            printer.redraw()


def warning_line(text: str) -> None:
    """One ``wgmfem: warning: ...`` line on stderr, in place of the progress bar (see :func:`message_line`)."""
    message_line(f"warning: {text}")


@contextmanager
def one_line_warnings() -> Iterator[None]:
    """Within the block, each warning is one line on stderr, shown once; a material used outside
    its range (:class:`MaterialRangeWarning`, at many wavelengths in one search) once per material."""
    seen = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message).splitlines()[0] if str(message) else category.__name__
        key = (category, text.split(":")[0]) if issubclass(category, MaterialRangeWarning) else (category, text)
        if key not in seen:
            seen.add(key)
            warning_line(text)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


# -- output files -----------------------------------------------------------------------------
#: Options naming a file a command writes (``sweep`` checks its own: --output is appended, --plot a prefix).
OUTPUT_FILE_OPTIONS = ("output", "csv", "plot", "vtu", "npz")


def check_output_file(path: str, option: str = "--output") -> None:
    """InputError (one line, naming ``path``) unless ``path`` can be created or replaced: not a
    folder, in an existing folder that can be written."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InputError(f"{option} {path!r} is a folder: give a file name")
    if not os.path.isdir(folder):
        raise InputError(f"{option} {path!r}: no such folder for the output file")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{option} {path!r}: the folder cannot be written")


def check_output_options(args) -> None:
    """Check every output file the command's options name, before any work (see
    :data:`OUTPUT_FILE_OPTIONS`); two options naming one file are an error too."""
    given: dict[str, str] = {}
    for name in OUTPUT_FILE_OPTIONS:
        path = getattr(args, name, None)
        if not path:
            continue
        option = "--" + name
        check_output_file(path, option)
        same = given.get(os.path.abspath(path))
        if same:
            raise InputError(f"{same} and {option} name the same file {path!r}")
        given[os.path.abspath(path)] = option


@contextmanager
def staged_outputs(files: dict[str, str | None]) -> Iterator[dict[str, str]]:
    """Temporary files for a command's outputs ``{option: path or None}``, as ``{path: temporary
    path}`` (beside each target, with its suffix): they replace their targets when the block ends
    normally and are removed when it fails, so that a failed command writes none of its files."""
    named = {option: path for option, path in files.items() if path}
    for option, path in named.items():
        check_output_file(path, option)
    with ExitStack() as stack:
        yield {path: stack.enter_context(atomic_path(path)) for path in named.values()}


def write_text(path: str, text: str) -> None:
    """``text`` into ``path`` as UTF-8, newlines as given (a staged file: see :func:`staged_outputs`)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def save_figure_atomically(fig, output: str) -> None:
    """Save a matplotlib figure to ``output`` (.png/.svg/.pdf) through a temporary file and a rename,
    so that an interrupted run never leaves a half-written figure."""
    with atomic_path(output) as tmp:
        fig.savefig(tmp, dpi=150)


def emit(text: str, output: str | None) -> None:
    """Results to ``output`` (written atomically) or, without one, to standard output (after
    ending a progress bar left open: a stage whose loop stopped short of its count)."""
    end_progress()
    if output:
        write_atomically(output, text)
    else:
        sys.stdout.write(text)


def figure_suffix_ok(output: str) -> None:
    suffix = os.path.splitext(output)[1].lower()
    if suffix not in (".png", ".svg", ".pdf"):
        raise InputError(f"figure file must end in .png, .svg or .pdf, got {output!r}")


def region_filter(cyl, asked: str | None, window, m_range, p_range) -> tuple[str | None, str | None]:
    """The region filter (None: any; :func:`wgmfem.solve.resolve_region`) and a one-line notice
    when the choice needs explaining: the automatic choice of the wall, or the core asked for
    where the liquid cannot guide."""
    asked = (asked or "auto").lower()
    region = resolve_region(cyl, asked, window, m_range, p_range)
    if region is None:
        return None, None
    lam = 0.5 * (window[0] + window[1]) if window else None
    if asked != "auto":
        return region, region_notice(cyl, region, lam)
    if region == cyl.names[0]:
        return region, None
    if window is None and isinstance(cyl, MaterialStack):
        lam = estimated_wavelength_nm(cyl, m_range, p_range, None)
    return region, f"{guide_clause(cyl, region, lam)}: listing {region} modes (--region any lists every mode)"
