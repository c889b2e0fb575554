"""What every ``wgmfem`` subcommand shares: one-line input errors, option parsers (numbers,
ranges, indices, layer stacks), the geometry options and how they become a fibre, progress
on stderr, and atomic figure files.

Lengths in um, wavelengths in nm.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings

from ..geometry import (
    PAPER_CORE_INDEX,
    PAPER_INNER_DIAMETER_UM,
    PAPER_OUTER_DIAMETER_UM,
    PAPER_WALL_INDEX,
    LayeredCylinder,
    MaterialStack,
    capillary_stack,
)
from ..atomic import atomic_path, write_text_atomically
from ..materials import get_material


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
    """A LayeredCylinder when every index is a number, else a MaterialStack (dispersive)."""
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


def progress_printer(enabled: bool):
    if not enabled:
        return None
    start = time.perf_counter()

    def show(stage: str, done: int, total: int) -> None:
        sys.stderr.write(f"\r{stage}: {done}/{total} boxes, {time.perf_counter() - start:.1f} s ")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def one_line_warnings() -> None:
    """Warnings (e.g. a material outside its validity range) as one line each, once."""
    seen = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = f"wgmfem: warning: {message}"
        if text not in seen:
            seen.add(text)
            sys.stderr.write(text + "\n")

    warnings.showwarning = show



def save_figure_atomically(fig, output: str) -> None:
    """Save a matplotlib figure to ``output`` (.png/.svg/.pdf) through a temporary file and a rename,
    so that an interrupted run never leaves a half-written figure."""
    with atomic_path(output) as tmp:
        fig.savefig(tmp, dpi=150)


def emit(text: str, output: str | None) -> None:
    """Results to ``output`` (written atomically) or, without one, to standard output."""
    if output:
        write_text_atomically(output, text)
    else:
        sys.stdout.write(text)


def figure_suffix_ok(output: str) -> None:
    suffix = os.path.splitext(output)[1].lower()
    if suffix not in (".png", ".svg", ".pdf"):
        raise InputError(f"figure file must end in .png, .svg or .pdf, got {output!r}")
