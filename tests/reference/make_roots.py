"""Build tests/reference/roots.json (run from the repository root).

    python tests/reference/make_roots.py scan [GEOMETRY ...]   # scans of cases.SCANS -> census lists
    python tests/reference/make_roots.py fill                  # every seeded entry of cases.CASES

``scan``: sign changes of the real companion determinant on a real-k grid, each bisected to
1e-11 relative and polished at 30 digits (that bisected value is the recorded seed); the distinct
roots are labelled (quick energy fractions) and stored as the reference census of that scan.
``fill``: computes (or keeps) the cache entry of every case with a seed, with full-accuracy labels.
Single process, one root at a time (slow: seconds per root at m = 600).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import mpmath

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cache  # noqa: E402
import scan as scanning  # noqa: E402
from cases import CASES, GEOMETRIES, SCANS  # noqa: E402


def run_scan(spec, data):
    geometry, pol, m, k_lo, k_hi, step = spec
    g = GEOMETRIES[geometry]
    t0 = time.time()
    changes = scanning.sign_changes(g, pol, m, mpmath.mpf(k_lo), mpmath.mpf(k_hi), mpmath.mpf(step))
    keys = []
    roots = []
    for iv in changes:
        with mpmath.workdps(20):
            seed = mpmath.nstr(scanning.bisect(g, pol, m, iv, rel_tol=1e-11), 12)
        kk = cache.key(geometry, pol, m, seed)
        try:
            entry = data["roots"].get(kk) or cache.compute_entry(geometry, pol, m, seed, quick=True)
        except ValueError as exc:
            print(f"  seed {seed}: {exc}", flush=True)
            continue
        k = cache.entry_k(entry)
        if any(abs(k - r) < 1e-12 * abs(k) for r in roots):
            print(f"  seed {seed}: duplicate of an earlier root", flush=True)
            continue
        roots.append(k)
        data["roots"][kk] = entry
        keys.append(kk)
        print(
            f"  seed {seed} -> k = {mpmath.nstr(k, 15)}  lambda {float(entry['wavelength_nm']):.6f} nm  "
            f"Q {float(entry['Q']):.3e}  {entry['region']} p={entry['p']}  "
            + " ".join(f"{a}={b:.4f}" for a, b in entry["fractions"].items()),
            flush=True,
        )
    data["scans"] = [s for s in data["scans"] if s["spec"] != list(spec)]
    data["scans"].append(
        {
            "spec": list(spec),
            "spec_fields": ["geometry", "pol", "m", "k_lo", "k_hi", "step"],
            "n_sign_changes": len(changes),
            "roots": keys,
            "note": "sign changes of real_scan_function (H1 outside replaced by Y) on the grid; "
            "closely spaced pairs between two grid points can be missed, so this census is a subset",
        }
    )
    cache.save(data)
    print(f"{spec}: {len(changes)} sign changes, {len(keys)} roots, {time.time() - t0:.0f} s", flush=True)


def main(argv):
    data = cache.load()
    if argv[:1] == ["scan"]:
        wanted = set(argv[1:])
        for spec in SCANS:
            if not wanted or spec[0] in wanted:
                run_scan(spec, data)
    elif argv[:1] == ["fill"]:
        for geometry, pol, m, region, p, seed in CASES:
            if seed is None:
                print(f"no seed yet: {geometry} {pol} m={m} {region} p={p}")
                continue
            kk = cache.key(geometry, pol, m, seed)
            old = data["roots"].get(kk)
            if old is None or old["fractions_method"].startswith("quick"):
                data["roots"][kk] = cache.compute_entry(geometry, pol, m, seed)
                cache.save(data)
            e = data["roots"][kk]
            flag = "" if (e["region"], e["p"]) == (region, p) else "   <-- NOT THE INTENDED MODE"
            print(f"{kk}: lambda {e['wavelength_nm']} nm Q {e['Q']} {e['region']} p={e['p']}{flag}", flush=True)
    else:
        print(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
