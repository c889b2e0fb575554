"""The ``wgmfem`` command line: argument parsing and printing only; the physics is elsewhere.

Each subcommand lives in its own module of this package with ``add_parser(subparsers)``
(which sets ``run`` as the parser default) and ``run(args) -> exit code``. Lengths in um,
wavelengths in nm. Exit codes: 0 done; 2 bad input (one line ``wgmfem: error: ...`` on
stderr, also for ``wgmfem`` without a command); 3 a FEM result that disagrees with the exact
root that seeded it (``wgmfem.fem.verify``; the error's ``exit_code``); 130 interrupted.
Output files are checked before any work; warnings are one line each, once per material.
"""

from __future__ import annotations

import sys

from .. import __version__
from ..axial import AxialError, ProfileError
from ..geometry import GeometryError
from ..materials import MaterialRangeError, strict_range
from ..solve import SearchError
from . import assign, axial, design, field, materials, mesh, modes, simulate, sweep
from .common import InputError, Parser, build_geometry, check_output_options, clear_progress, one_line_warnings

# Order of the subcommands in `wgmfem --help`.
COMMANDS = (modes, field, materials, sweep, mesh, simulate, assign, design, axial)

# Errors that are the user's input, not a bug: one line, exit code 2 (or the error's own
# ``exit_code``: 3 for a FEM result that fails its check against the exact root).
USER_ERRORS = (InputError, GeometryError, SearchError, MaterialRangeError, ProfileError, AxialError)


def build_parser() -> Parser:
    parser = Parser(prog="wgmfem", description="Whispering-gallery modes of liquid-filled capillaries and layered cylinders.")
    parser.add_argument("--version", action="version", version=f"wgmfem {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        with one_line_warnings():
            return _run(parser, argv)
    except USER_ERRORS as exc:
        return _fail(str(exc), getattr(exc, "exit_code", 2))
    except BrokenPipeError:  # the reader closed the pipe (| head): not an error (before OSError, its base)
        return 0
    except OSError as exc:  # an output or input file the user named: unwritable, missing folder, ...
        return _fail(f"{exc.strerror or exc}: {exc.filename or ''}", 2)
    except KeyboardInterrupt:
        clear_progress()
        sys.stderr.write("wgmfem: interrupted\n")
        return 130


def _run(parser: Parser, argv) -> int:
    args = parser.parse_args(argv)
    if args.command is None:
        raise InputError(f"give a command: {', '.join(c.__name__.rsplit('.', 1)[-1] for c in COMMANDS)} (see 'wgmfem --help')")
    if args.command != "sweep":  # sweep appends to --output and takes --plot as a prefix: it checks its own
        check_output_options(args)
    with strict_range(bool(getattr(args, "strict", False))):
        return args.run(args)


def _fail(message: str, code: int) -> int:
    """The error as one line on stderr (after erasing a progress line); returns ``code``."""
    clear_progress()
    text = " ".join(line.strip() for line in message.splitlines() if line.strip())
    sys.stderr.write(f"wgmfem: error: {text}\n")
    return code


__all__ = ["main", "build_parser", "build_geometry", "InputError", "COMMANDS"]
