"""``wgmfem materials``: the built-in refractive-index models, or n(lambda) of one material."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from ..materials import BUILTIN_MATERIALS, get_material
from ..report import json_text
from .common import InputError, index_or_material

HELP = "list the built-in materials, or print n(lambda) of one"


def add_parser(sub) -> None:
    mats = sub.add_parser(
        "materials", help=HELP,
        description="Built-in refractive-index models (PHYSICS.md section 4), or the index of one material "
        "(built-in name, number, or refractiveindex.info YAML file) over a wavelength range.",
        epilog="examples:\n  wgmfem materials\n  wgmfem materials toluene --wavelength 400:500:20\n  wgmfem materials fused-silica --wavelength 440:440 --format json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mats.add_argument("material", nargs="?", type=index_or_material, help="built-in name, number or YAML file")
    mats.add_argument("--wavelength", default="400:500:10", metavar="MIN:MAX[:STEP]", help="in nm (default 400:500:10)")
    mats.add_argument("--strict", action="store_true", help="outside the validity range is an error")
    mats.add_argument("--format", choices=("table", "json"), default="table")
    mats.set_defaults(run=run)


def run(args) -> int:
    if args.material is None:
        described = {name: factory().describe() for name, factory in BUILTIN_MATERIALS.items()}
        if args.format == "json":
            sys.stdout.write(json_text([{"name": k, "model": v} for k, v in described.items()], indent=1) + "\n")
        else:
            sys.stdout.write("".join(f"{name:<18} {text}\n" for name, text in described.items()))
        return 0
    material = args.material if not isinstance(args.material, (float, complex)) else get_material(args.material)
    try:
        parts = [float(v) for v in args.wavelength.split(":")]
    except ValueError:
        raise InputError(f"--wavelength takes MIN:MAX[:STEP] in nm, got {args.wavelength!r}") from None
    if len(parts) == 2:
        parts.append((parts[1] - parts[0]) / 10 or 1.0)  # MIN:MIN is one wavelength
    if len(parts) != 3 or parts[0] <= 0 or parts[1] < parts[0] or parts[2] <= 0:
        raise InputError(f"--wavelength takes MIN:MAX[:STEP] with 0 < MIN <= MAX and STEP > 0, got {args.wavelength!r}")
    lams = [parts[0] + i * parts[2] for i in range(int(round((parts[1] - parts[0]) / parts[2])) + 1)]
    # all wavelengths at once, before any output: an error names every bad one
    values = [complex(n) for n in np.atleast_1d(material.index(np.array(lams), strict=args.strict or None))]
    if args.format == "json":
        rows = [{"wavelength_nm": lam, "n": n.real, "kappa": n.imag} for lam, n in zip(lams, values)]
        sys.stdout.write(json_text({"material": material.describe(), "index": rows}, indent=1) + "\n")
        return 0
    lines = [f"# {material.describe()}", "# wavelength_nm  n  kappa"]
    lines += [f"{lam:10.3f}  {n.real:.6f}  {n.imag:.3e}" for lam, n in zip(lams, values)]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
