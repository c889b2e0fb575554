"""``wgmfem materials``: the built-in refractive-index models with their thermal data, or
n(lambda) and dn/dT(lambda) of one material."""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from ..materials import BUILTIN_MATERIALS, get_material
from ..report import json_text
from .common import InputError, index_or_material

HELP = "list the built-in materials, or print n(lambda) and dn/dT of one"

# Most wavelengths one command prints (a larger request is an input error, not a long wait).
MAX_WAVELENGTH_POINTS = 100_000


def add_parser(sub) -> None:
    mats = sub.add_parser(
        "materials", help=HELP,
        description="Built-in refractive-index models (published dispersion formulas, docs/theory.md section 8) with their thermo-optic "
        "coefficient dn/dT and thermal expansion, or the index and dn/dT of one material (built-in name, "
        "number, or refractiveindex.info YAML file) over a wavelength range.",
        epilog="examples:\n  wgmfem materials\n  wgmfem materials toluene --wavelength 400:500:20\n  wgmfem materials fused-silica --wavelength 440:440 --format json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    mats.add_argument("material", nargs="?", type=index_or_material, help="built-in name, number or YAML file")
    mats.add_argument(
        "--wavelength", default="400:500:10", metavar="NM|MIN:MAX[:STEP]",
        help=f"in nm, one or a range (default 400:500:10; at most {MAX_WAVELENGTH_POINTS} wavelengths)",
    )  # fmt: skip
    mats.add_argument("--strict", action="store_true", help="outside the validity range is an error")
    mats.add_argument("--format", choices=("table", "json"), default="table")
    mats.set_defaults(run=run)


def run(args) -> int:
    if args.material is None:
        sys.stdout.write(_builtins_text(args.format))
        return 0
    material = args.material if not isinstance(args.material, (float, complex)) else get_material(args.material)
    lams = wavelengths_nm(args.wavelength)
    sys.stdout.write(_material_text(material, lams, args.strict or None, args.format))
    return 0


def wavelengths_nm(text: str) -> list[float]:
    """The wavelengths of ``MIN:MAX[:STEP]`` (nm); MIN:MAX alone takes 11 (MIN:MIN or a single
    number: one).

    Raises InputError (one line) for malformed, non-finite or out-of-order values and for more
    than MAX_WAVELENGTH_POINTS wavelengths.
    """
    usage = f"--wavelength takes finite NM or MIN:MAX[:STEP] in nm with 0 < MIN <= MAX and STEP > 0, got {text!r}"
    try:
        parts = [float(v) for v in text.split(":")]
    except ValueError:
        raise InputError(f"--wavelength takes NM or MIN:MAX[:STEP] in nm, got {text!r}") from None
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) not in (2, 3) or not all(math.isfinite(v) for v in parts):
        raise InputError(usage)
    lo, hi = parts[0], parts[1]
    step = parts[2] if len(parts) == 3 else ((hi - lo) / 10 or 1.0)
    if lo <= 0 or hi < lo or step <= 0:
        raise InputError(usage)
    intervals = (hi - lo) / step
    count = int(round(intervals)) + 1 if math.isfinite(intervals) else math.inf
    if count > MAX_WAVELENGTH_POINTS:
        raise InputError(
            f"--wavelength {text} asks for {_count_text(count)} wavelengths, more than the limit of "
            f"{MAX_WAVELENGTH_POINTS}; use a larger STEP"
        )
    return [lo + i * step for i in range(int(count))]  # finite: an infinite count was refused


def _count_text(count) -> str:
    return str(count) if count < 1e9 else f"{float(count):.3g}"


def _builtins_text(fmt: str) -> str:
    materials = [factory() for factory in BUILTIN_MATERIALS.values()]
    if fmt == "json":
        return json_text([{"name": m.name, "model": m.describe()} for m in materials], indent=1) + "\n"
    lines = []
    for m in materials:
        lines += [f"{m.name:<18} {m.describe()}", f"{'':<18} thermal: {m.describe_thermal()}"]
    return "\n".join(lines) + "\n"


def _material_text(material, lams: list[float], strict: bool | None, fmt: str) -> str:
    # all wavelengths at once, before any output: an error names every bad one
    lam = np.array(lams)
    values = [complex(n) for n in np.atleast_1d(material.index(lam, strict=strict))]
    dn_dT = material.dn_dT_per_K(lam, strict=strict)
    dn_dT = [None] * len(lams) if dn_dT is None else [float(v) for v in np.atleast_1d(dn_dT)]
    if fmt == "json":
        rows = [
            {"wavelength_nm": lam_nm, "n": n.real, "kappa": n.imag, "dn_dT_per_K": d}
            for lam_nm, n, d in zip(lams, values, dn_dT)
        ]  # fmt: skip
        record = {
            "material": material.describe(),
            "thermal_expansion_per_K": material.thermal_expansion_per_K,
            "thermal_source": material.thermal_source,
            "index": rows,
        }
        return json_text(record, indent=1) + "\n"
    lines = [f"# {material.describe()}", f"# thermal: {material.describe_thermal()}"]
    lines.append("# wavelength_nm  n  kappa  dn_dT_per_K")
    lines += [f"{lam_nm:10.3f}  {n.real:.6f}  {n.imag:.3e}  {_dn_dT_cell(d)}" for lam_nm, n, d in zip(lams, values, dn_dT)]
    return "\n".join(lines) + "\n"


def _dn_dT_cell(value: float | None) -> str:
    return "-" if value is None else f"{value:+.4e}"
