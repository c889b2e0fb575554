"""Cases and cache of the skew (beta != 0) reference roots: tests/reference/skew_roots.json.

    python tests/reference/make_skew_roots.py [FAMILY ...]   # (re)compute families (all by default)
    python tests/reference/make_skew_roots.py --list

Each family is one resonance (geometry, quasi-polarization, m) followed in beta: its beta = 0
root is polished by skew_mpmath from ``seed`` (a wgmfem root at beta = 0, 16 digits; the
polished value is the reference's own), then continued through ``betas`` by
skew_mpmath.continue_root (dps 40), and every point is re-polished and verified at dps 50
(skew_root(verify=True): zero of the determinant, stable under dps + 20).  beta is the binary
double of the decimal written here (float("0.1"), exactly what the engine is given), not the
decimal itself: the difference moves k by ~1e-20 relative.  The quasi-polarization
label is the one of the beta = 0 root the family starts from.  Nothing here imports wgmfem.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import mpmath

sys.path.insert(0, str(Path(__file__).resolve().parent))

import skew_mpmath as sk  # noqa: E402

CACHE_PATH = Path(__file__).with_name("skew_roots.json")
DPS = 50
DIGITS_STORED = 40

# name -> (radii um, indices, outside index); "paper": the paper's capillary (54/78 um diameters)
GEOMETRIES = {
    "rod": ((5.0,), (1.45,), 1.0),
    "small": ((4.0, 4.9), (1.50, 1.45), 1.0),  # capillary of 8 / 9.8 um diameters
    "paper": ((27.0, 39.0), (1.56, 1.47), 1.0),
    "paper_abs": ((27.0, 39.0), (1.56 + 1e-6j, 1.47), 1.0),  # absorbing liquid
}

# family -> (geometry, quasi-pol, m, region, p, beta = 0 seed "re,im", betas of the path)
FAMILIES = {
    "rod-Ez": ("rod", "Ez", 40, "core", 1, "6.221440320112133,-2.0406060359836105e-05", "0 0.1 0.2 0.5 1 1.5 2"),
    "rod-Hz": ("rod", "Hz", 40, "core", 1, "6.313742450650038,-3.0776499442004245e-05", "0 0.1 0.2 0.5 1 1.5 2"),
    # m = 50 core modes of this capillary are leaky core/wall hybrids (Q ~ 1e3, ~50 % in the core):
    # the core-wall contrast 1.50/1.45 cannot confine p = 1 at m = 50; wall modes are clean (Q ~ 3e6)
    "small-core-Ez": ("small", "Ez", 50, "core", 1, "9.118755494892866,-0.002251812431810037", "0 0.1 0.2 0.3 0.6 1"),
    "small-core-Hz": ("small", "Hz", 50, "core", 1, "9.186517155568962,-0.004083585092848205", "0 0.1 0.2 0.3 0.6 1"),
    "small-wall-Ez": ("small", "Ez", 50, "wall", 1, "7.824951436400601,-9.75582807344553e-07", "0 0.1 0.2 0.3 0.6 1"),
    "small-wall-Hz": ("small", "Hz", 50, "wall", 1, "7.919793513008821,-1.4296504100227627e-06", "0 0.1 0.2 0.3 0.6 1"),
    "paper-Ez": ("paper", "Ez", 600, "core", 1, "14.541458603508554,-1.5186549896477878e-12", "0 0.1 0.2 0.3 0.5 0.75 1"),
    "paper-Hz": ("paper", "Hz", 600, "core", 1, "14.547795338522747,-3.3767625246207337e-12", "0 0.1 0.2 0.3 0.5 0.75 1"),
    "paper_abs-Ez": ("paper_abs", "Ez", 600, "core", 1, "14.541458603508474,-8.814252838799223e-06", "0 0.1 0.2 0.5"),
    "paper_abs-Hz": ("paper_abs", "Hz", 600, "core", 1, "14.547795338522823,-8.761988285383461e-06", "0 0.1 0.2 0.5"),
}


def key(family: str, beta: str) -> str:
    return f"{family}|beta={mpmath.nstr(mpmath.mpf(beta), 6)}"


def load(path: Path = CACHE_PATH) -> dict:
    if path.exists():
        return json.loads(path.read_text())
    return {"about": "", "roots": {}}


def save(data: dict, path: Path = CACHE_PATH) -> None:
    data["about"] = (
        "Skew (beta != 0) reference resonances of layered cylinders: tests/reference/skew_mpmath.py "
        "(full 4N x 4N matching of Ez, Hz, E_phi, H_phi in mpmath). Each family is continued in beta "
        "from its beta = 0 root (polished from the seed of make_skew_roots.FAMILIES); every root is "
        f"verified at dps {DPS} (and stable at dps {DPS + 20}). k_re/k_im in 1/um, beta in 1/um. "
        "Written by make_skew_roots.py."
    )
    data["mpmath_version"] = mpmath.__version__
    path.write_text(json.dumps(data, indent=1) + "\n")


def entry_k(entry: dict) -> mpmath.mpc:
    with mpmath.workdps(DIGITS_STORED + 5):
        return mpmath.mpc(entry["k_re"], entry["k_im"])


def seed_k(family: str) -> complex:
    re, im = FAMILIES[family][5].split(",")
    return complex(float(re), float(im))


def compute_family(family: str, dps: int = DPS, verify: bool = True) -> dict:
    """Entries (key -> dict) of every beta on the family's path."""
    geometry, pol, m, region, p, _, betas = FAMILIES[family]
    radii, indices, n_out = GEOMETRIES[geometry]
    betas = betas.split()
    t0 = time.time()
    k0 = sk.skew_root(radii, indices, n_out, m, 0, seed_k(family), dps=dps - 10, verify=False)
    path = sk.continue_root(radii, indices, n_out, m, k0, [float(b) for b in betas], dps=dps - 10)
    out = {}
    for beta, k_guess in zip(betas, path):
        t1 = time.time()
        k = sk.skew_root(radii, indices, n_out, m, float(beta), k_guess, dps=dps, verify=verify)
        with mpmath.workdps(dps):
            out[key(family, beta)] = {
                "family": family,
                "geometry": geometry,
                "radii_um": list(radii),
                "indices": [str(n) for n in indices],
                "outside_index": n_out,
                "quasi_pol": pol,
                "m": m,
                "beta0_region": region,
                "beta0_p": p,
                "beta_per_um": beta,
                "dps": dps,
                "k_re": mpmath.nstr(mpmath.re(k), DIGITS_STORED),
                "k_im": mpmath.nstr(mpmath.im(k), DIGITS_STORED),
                "wavelength_nm": mpmath.nstr(sk.wavelength_nm(k), 20),
                "Q": mpmath.nstr(sk.q_factor(k), 12),
                "seconds": round(time.time() - t1, 2),
            }
        print(f"{family} beta={beta}: k = {mpmath.nstr(k, 25)}  Q = {out[key(family, beta)]['Q']}", flush=True)
    print(f"{family}: {time.time() - t0:.0f} s", flush=True)
    return out


def main(argv):
    if argv[:1] == ["--list"]:
        for name, fam in FAMILIES.items():
            print(name, fam)
        return
    wanted = argv or list(FAMILIES)
    from concurrent.futures import ProcessPoolExecutor

    data = load()
    with ProcessPoolExecutor(max_workers=2) as pool:
        for entries in pool.map(compute_family, wanted):
            data["roots"].update(entries)
            save(data)


if __name__ == "__main__":
    main(sys.argv[1:])
