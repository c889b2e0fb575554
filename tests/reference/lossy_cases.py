"""Reference resonances of absorbing and gain stacks, from the 30-digit determinant.

Each case is a geometry with a complex layer index and a complex seed. The seed is an *input*:
the reference's own lossless root (from a real seed) moved by the first-order shift
-i k Gamma kappa / n. The reference root is whatever
:func:`mpmath_cylinder.find_root` converges to from it; the tests then check that wgmfem's census
lists a resonance at that root and that the root's own mpmath labels (energy fractions) are
those of the mode asked for. ``python -m tests.reference.lossy_cases`` recomputes
``lossy_roots.json`` (a few seconds a root).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import mpmath

try:
    from . import mpmath_cylinder as ref
except ImportError:  # pragma: no cover
    import mpmath_cylinder as ref

PATH = Path(__file__).with_name("lossy_roots.json")
DPS = 30

#: name -> (radii um, indices, n_out, pol, m, lossless seed k (1/um), absorbing layer, its energy fraction, kappa)
#: Lossless seeds: the paper's Ez (p = 1, m = 600) core mode at 432.087693 nm (94.6 % core), and a
#: wall mode (p = 4, m = 120, Hz, 97.7 % wall) of a 20/28 um capillary at 877.377 nm.
CASES = {}
for kappa in (1e-9, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 3e-3, 1e-2, -1e-9, -1e-6, -1e-5):
    CASES[f"paper_Ez600_kappa{kappa:+.0e}"] = (
        (27.0, 39.0), (complex(1.56, kappa), 1.47), 1.0, "Ez", 600, "14.541458379", 0, 0.946, kappa)
for kappa in (1e-6, 1e-3, 1e-2, -1e-6):
    CASES[f"cap20_28_Hz120_wallkappa{kappa:+.0e}"] = (
        (10.0, 14.0), (1.56, complex(1.47, kappa)), 1.0, "Hz", 120, "7.1613287538", 1, 0.977, kappa)


def _seed(radii, indices, n_out, pol, m, k_lossless, layer, gamma, kappa):
    """The reference's own lossless root from the seed, moved by the first-order shift."""
    lossless = tuple(complex(n).real for n in indices)
    root = ref.find_root(radii, lossless, n_out, pol, m, mpmath.mpf(k_lossless), dps=DPS)
    return root * (1 - 1j * gamma * kappa / lossless[layer])


def compute(name: str) -> dict:
    radii, indices, n_out, pol, m, k_lossless, layer, gamma, kappa = CASES[name]
    t0 = time.time()
    seed = _seed(radii, indices, n_out, pol, m, k_lossless, layer, gamma, kappa)
    k = ref.find_root(radii, indices, n_out, pol, m, seed, dps=DPS)
    fractions = ref.field_energy_fractions(radii, indices, n_out, pol, m, k)
    with mpmath.workdps(DPS + 5):
        return {
            "radii_um": list(radii),
            "indices": [[complex(n).real, complex(n).imag] for n in indices],
            "n_out": n_out,
            "pol": pol,
            "m": m,
            "k_re": mpmath.nstr(mpmath.re(k), 32),
            "k_im": mpmath.nstr(mpmath.im(k), 32),
            "wavelength_nm": float(ref.wavelength_nm(k)),
            "Q_signed": float(mpmath.re(k) / (-2 * mpmath.im(k))),
            "absorbing_layer": layer,
            "layer_fraction": float(fractions[ref.region_names(len(radii))[layer]]),
            "seconds": round(time.time() - t0, 1),
        }


def load() -> dict:
    return json.loads(PATH.read_text()) if PATH.exists() else {}


def main(names=None) -> None:
    data = load()
    for name in names or CASES:
        data[name] = compute(name)
        print(name, data[name]["wavelength_nm"], data[name]["Q_signed"], data[name]["seconds"], "s", flush=True)
        PATH.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
