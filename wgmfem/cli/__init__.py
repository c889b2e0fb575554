"""The ``wgmfem`` command line: argument parsing and printing only; the physics is elsewhere.

Each subcommand lives in its own module of this package with ``add_parser(subparsers)``
(which sets ``run`` as the parser default) and ``run(args) -> exit code``. Lengths in um,
wavelengths in nm. Errors in the input give one line on stderr and exit code 2; a FEM result
that disagrees with the exact root that seeded it (``wgmfem.fem.verify``) gives one line and
exit code 3 (the error's ``exit_code``).
"""

from __future__ import annotations

import sys

from .. import __version__
from ..geometry import GeometryError
from ..materials import MaterialRangeError, strict_range
from ..solve import SearchError
from . import assign, design, field, materials, mesh, modes, sweep
from .common import InputError, Parser, build_geometry, one_line_warnings

# Order of the subcommands in `wgmfem --help`.
COMMANDS = (modes, field, materials, sweep, mesh, assign, design)

# Errors that are the user's input, not a bug: one line, exit code 2 (or the error's own
# ``exit_code``: 3 for a FEM result that fails its check against the exact root).
USER_ERRORS = (InputError, GeometryError, SearchError, MaterialRangeError)


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
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        one_line_warnings()
        with strict_range(bool(getattr(args, "strict", False))):
            return args.run(args)
    except USER_ERRORS as exc:
        sys.stderr.write(f"wgmfem: error: {exc}\n")
        return getattr(exc, "exit_code", 2)
    except BrokenPipeError:  # the reader closed the pipe (| head): not an error (before OSError, its base)
        return 0
    except OSError as exc:  # an output or input file the user named: unwritable, missing folder, ...
        sys.stderr.write(f"wgmfem: error: {exc.strerror or exc}: {exc.filename or ''}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("wgmfem: interrupted\n")
        return 130


__all__ = ["main", "build_parser", "build_geometry", "InputError", "COMMANDS"]
