"""Cache of reference roots: ``roots.json`` maps (geometry, pol, m, seed) to a 30-digit root and
its labels.  The tests use the cached value when present and compute it (slowly) otherwise; a
slow test recomputes every cached entry from its seed and checks it against the cache.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import mpmath

try:
    from . import mpmath_cylinder as ref
    from .cases import GEOMETRIES
except ImportError:  # pragma: no cover - tests/reference on sys.path directly
    import mpmath_cylinder as ref
    from cases import GEOMETRIES

CACHE_PATH = Path(__file__).with_name("roots.json")
ROOT_DPS = 30
SOLVER = "secant"
DIGITS_STORED = 34  # significant digits written for Re k and Im k


def key(geometry: str, pol: str, m: int, seed: str) -> str:
    return f"{geometry}|{pol}|m={m}|seed={seed}"


def load(path: Path = CACHE_PATH) -> dict:
    if path.exists():
        return json.loads(path.read_text())
    return {"about": "", "roots": {}, "scans": []}


def save(data: dict, path: Path = CACHE_PATH) -> None:
    data["about"] = (
        "Reference roots of the layered-cylinder characteristic determinant "
        "(tests/reference/mpmath_cylinder.py, full 2N x 2N boundary-matching determinant in mpmath). "
        "Each root: mpmath.findroot(solver, dps) started from the real seed k; k_re/k_im in 1/um. "
        "fractions: electric energy per region (outside integrated to the outer turning point + one "
        "wavelength); p: maxima of |R| in the region with the most energy. Written by make_roots.py."
    )
    data["mpmath_version"] = mpmath.__version__
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")


def solve(geometry: str, pol: str, m: int, seed: str, dps: int = ROOT_DPS, solver: str = SOLVER):
    g = GEOMETRIES[geometry]
    return ref.find_root(g["radii"], g["indices"], g["n_out"], pol, m, mpmath.mpf(seed), dps=dps, solver=solver)


def labels(geometry: str, pol: str, m: int, k, quick: bool = False) -> dict:
    g = GEOMETRIES[geometry]
    kw = dict(maxdegree=1, waves_per_interval=2) if quick else {}
    fr = ref.field_energy_fractions(g["radii"], g["indices"], g["n_out"], pol, m, k, **kw)
    region = max(fr, key=fr.get)
    p = ref.radial_maxima_count(g["radii"], g["indices"], g["n_out"], pol, m, k, region) if region != "outside" else None
    return {
        "fractions": fr,
        "fractions_method": "quick (GL degree 1, 2 waves/interval)" if quick else "GL degree 1..2, 1 wave/interval",
        "region": region,
        "p": p,
    }


def compute_entry(geometry: str, pol: str, m: int, seed: str, quick: bool = False) -> dict:
    t0 = time.time()
    k = solve(geometry, pol, m, seed)
    t1 = time.time()
    with mpmath.workdps(ROOT_DPS + 5):
        entry = {
            "geometry": geometry,
            "pol": pol,
            "m": m,
            "seed": seed,
            "dps": ROOT_DPS,
            "solver": SOLVER,
            "made_by": f"find_root(..., k_guess=mpf(seed), dps={ROOT_DPS}, solver='{SOLVER}')",
            "k_re": mpmath.nstr(mpmath.re(k), DIGITS_STORED),
            "k_im": mpmath.nstr(mpmath.im(k), DIGITS_STORED),
            "wavelength_nm": mpmath.nstr(ref.wavelength_nm(k), 20),
            "Q": mpmath.nstr(ref.q_factor(k), 12),
        }
    entry.update(labels(geometry, pol, m, k, quick=quick))
    entry["seconds"] = {"root": round(t1 - t0, 2), "labels": round(time.time() - t1, 2)}
    return entry


def entry_k(entry: dict) -> mpmath.mpc:
    """The cached root as an mpc carrying all stored digits (whatever mp.dps is later)."""
    with mpmath.workdps(DIGITS_STORED + 5):
        return mpmath.mpc(entry["k_re"], entry["k_im"])


def get_entry(geometry: str, pol: str, m: int, seed: str, data: dict | None = None, write: bool = False) -> dict:
    """The cached entry, or a freshly computed one (written back to the cache if ``write``)."""
    data = load() if data is None else data
    kk = key(geometry, pol, m, seed)
    if kk in data["roots"]:
        return data["roots"][kk]
    entry = compute_entry(geometry, pol, m, seed)
    data["roots"][kk] = entry
    if write:
        save(data)
    return entry
