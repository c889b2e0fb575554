"""The exact engine side by side with treams' cylindrical T-matrix (an independent peer code).

Run:  python benchmarks/peers/treams_exact.py          (well under a minute; prints Markdown tables)

Needs ``pip install treams`` (measured with treams 0.4.7). Not part of CI.

A resonance of an infinite layered cylinder (fields ~ exp(i m phi), kz = 0) is a pole of its
T-matrix in complex frequency. At kz = 0 the T-matrix is diagonal in (m, parity polarization):
treams' parity polarization 1 (TM) is wgmfem's "Ez", polarization 0 (TE) is "Hz" (checked below).

* treams function: ``treams.coeffs.mie_cyl(kz, m, k0, radii, epsilon, mu, kappa)``, the 2x2
  helicity-basis block of one order m, turned into the parity basis with treams' own
  ``treams.changepoltype`` matrix. ``treams.TMatrixC.cylinder`` gives the same numbers but fills
  the dense matrix of all orders -mmax..mmax (2402 x 2402 at m = 600, one build timed below),
  far too much for a pole iteration that needs a single order.
* Complex k: ``mie_cyl`` only accepts a real k0 (ufunc signature ``dlddDDD->D``), but complex
  materials. With k0 = k_ref = 1/um, every medium gets epsilon = n^2 s and mu = s, s = k/k_ref:
  the medium wavenumber is n k and the impedance is unchanged, i.e. the cylinder at complex k.
  Verified first on the homogeneous rod against the closed-form Bessel/Hankel coefficient
  (scipy.special), against the full ``TMatrixC.cylinder`` and against wgmfem's root.
* Pole: complex secant on 1/T_mm (the parity diagonal element of the mode's polarization),
  seeded 1e-9 (relative) from wgmfem's root, stopped at a relative step <= 1e-15. The same seed
  pair drives wgmfem's root polish alone (``wgmfem.exact.census.polish_roots``).
* treams has no census of its own: the census-equivalent is treams polishing every root of the
  default census (110 core modes, 425-445 nm, p = 1, 2) from 1e-9-perturbed seeds.

Im k is 1/(2Q) of Re k: at Q ~ 1e12 it sits 13 orders below Re k, so a double-precision
T-matrix pole resolves Q only to a few digits there; the last column (spread of treams' Q over
three seed directions) shows that noise floor.
"""

from __future__ import annotations

import os
import sys
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

try:
    import treams
    from treams.coeffs import mie_cyl
except ImportError:
    sys.exit("treams is not installed (pip install treams): this peer benchmark needs it.")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import wgmfem  # noqa: E402
from benchmarks.bench_exact import REFERENCE_CASES as CASES  # noqa: E402
from benchmarks.bench_exact import timed  # noqa: E402
from wgmfem.exact.census import polish_roots  # noqa: E402

K_REF = 1.0  # real vacuum wavenumber handed to treams (1/um); the complex part goes into the materials
SEED = 1e-9  # relative perturbation of wgmfem's root that seeds both pole iterations
TOL = 1e-15  # relative secant step at which both iterations stop



_PARITY: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def parity_matrices(m: int) -> tuple[np.ndarray, np.ndarray]:
    """treams' helicity -> parity change for the modes (kz=0, m, pol=1), (kz=0, m, pol=0), and its inverse."""
    if m not in _PARITY:
        basis = treams.CylindricalWaveBasis([(0.0, m, 1), (0.0, m, 0)])
        c = np.asarray(treams.changepoltype("parity", basis=basis))
        _PARITY[m] = (c, np.linalg.inv(c))
    return _PARITY[m]


def t_parity(cyl, m: int, k: complex, k_ref: float = K_REF) -> np.ndarray:
    """treams' 2x2 T-matrix block of order m at complex k, parity basis, rows/columns (TM, TE)."""
    s = complex(k) / k_ref
    n = np.array([*cyl.indices, cyl.outside_index], dtype=float)
    eps, mu = n**2 * s, np.full(n.size, s)
    # mie_cyl indexes (negative, positive) helicity; TMatrixC.cylinder reverses to its basis order (pol 1, pol 0)
    t_hel = mie_cyl(0.0, m, k_ref, np.asarray(cyl.radii_um, dtype=float), eps, mu, np.zeros(n.size))[::-1, ::-1]
    c, c_inv = parity_matrices(m)
    return c @ t_hel @ c_inv


def inverse_t(cyl, pol: str, m: int, k: complex, k_ref: float = K_REF) -> complex:
    """1/T_mm of the mode's polarization: Ez = treams parity pol 1 (TM), Hz = pol 0 (TE)."""
    t = t_parity(cyl, m, k, k_ref)
    return 1.0 / (t[0, 0] if pol == "Ez" else t[1, 1])


def treams_pole(cyl, pol: str, m: int, k0: complex, k1: complex, k_ref: float = K_REF, max_iter: int = 50):
    """Complex secant on treams' 1/T_mm from the seed pair (k0, k1). Returns (k, converged)."""
    f0, f1 = inverse_t(cyl, pol, m, k0, k_ref), inverse_t(cyl, pol, m, k1, k_ref)
    for _ in range(max_iter):
        if f1 == 0:
            return k1, True
        k2 = k1 - f1 * (k1 - k0) / (f1 - f0)
        if not np.isfinite(k2):
            return k1, False
        step = abs(k2 - k1)
        k0, f0, k1 = k1, f1, k2
        f1 = inverse_t(cyl, pol, m, k1, k_ref)
        if step <= TOL * abs(k1):
            return k1, True
    return k1, False


def wavelength_nm(k: complex) -> float:
    return 2e3 * np.pi / k.real


def q_of(k: complex) -> float:
    return -k.real / (2 * k.imag)


def seeds(k: complex, direction: complex = 1.0) -> tuple[complex, complex]:
    return k * (1 + SEED * direction), k * (1 + 2 * SEED * direction)


def verify() -> None:
    """The complex-k scaling trick and the polarization mapping, on the homogeneous rod r = 1 um, n = 2.5, m = 10."""
    from scipy.special import h1vp, hankel1, jv, jvp

    rod, n, m, a = wgmfem.LayeredCylinder((1.0,), (2.5,), 1.0), 2.5, 10, 1.0
    print("Checks on the homogeneous rod r=1 um, n=2.5, m=10 (k1 = wgmfem root * (1 + 1e-6); k2 = Re(root) * (1.05 - 0.02i)):")
    for pol in ("Ez", "Hz"):
        k_root = wgmfem.find_modes(rod, pol=pol, m=m, p=1, region="core", fsr=False)[0].k
        diffs = []
        for k in (k_root * (1 + 1e-6), k_root.real * (1.05 - 0.02j)):
            # closed form at complex k (scipy Bessel/Hankel of complex argument): outgoing H1, T = -(J part)/(H part)
            x, c = k * a, (n if pol == "Ez" else 1 / n)
            closed = -(c * jvp(m, n * x) * jv(m, x) - jv(m, n * x) * jvp(m, x)) / (c * jvp(m, n * x) * hankel1(m, x) - jv(m, n * x) * h1vp(m, x))
            ours = t_parity(rod, m, k)
            diffs.append(abs((ours[0, 0] if pol == "Ez" else ours[1, 1]) / closed - 1))
        # treams' own full T-matrix (all orders -m..m, materials scaled the same way), turned to parity by treams
        k = k_root * (1 + 1e-6)
        s = k / K_REF
        full = treams.TMatrixC.cylinder(0.0, m, K_REF, [a], [treams.Material(n**2 * s, s), treams.Material(s, s)])
        full = full.changepoltype("parity")
        b = full.basis
        idx = {int(p): i for i, (mm, p) in enumerate(zip(b.m, b.pol)) if mm == m}
        tm_full, te_full = full[idx[1], idx[1]], full[idx[0], idx[0]]
        ours = t_parity(rod, m, k)
        t_ours, t_full = (ours[0, 0], tm_full) if pol == "Ez" else (ours[1, 1], te_full)
        poles = [treams_pole(rod, pol, m, *seeds(k_root), k_ref=kr)[0] for kr in (1.0, k_root.real)]
        pole_diffs = " / ".join(f"{abs(z.real / k_root.real - 1):.1e}, {abs(q_of(z) / q_of(k_root) - 1):.1e}" for z in poles)
        print(
            f"* {pol}: T_mm from scaled materials vs closed form at k1, k2: {diffs[0]:.1e}, {diffs[1]:.1e} rel.; "
            f"vs full TMatrixC.cylinder parity pol {1 if pol == 'Ez' else 0} at k1: {abs(t_ours / t_full - 1):.1e} "
            f"(|T| at k1: TM {abs(tm_full):.3g}, TE {abs(te_full):.3g}); "
            f"treams pole vs wgmfem root, rel. Re k and Q diff, k_ref = 1 / Re k: {pole_diffs}"
        )
    print()


def bench_full_tmatrix() -> None:
    cap = wgmfem.Capillary()
    k = wgmfem.find_modes(cap, pol="Ez", m=600, p=1, region="core", fsr=False)[0].k
    s = k / K_REF
    mats = [treams.Material(n**2 * s, s) for n in (*cap.indices, cap.outside_index)]
    t0 = time.perf_counter()
    tm = treams.TMatrixC.cylinder(0.0, 600, K_REF, list(cap.radii_um), mats)
    dt = time.perf_counter() - t0
    t1, _ = timed(lambda: t_parity(cap, 600, k), 200)
    print(
        f"One full treams.TMatrixC.cylinder(mmax=600) build: {dt:.2f} s, {np.asarray(tm).shape[0]}^2 matrix "
        f"({np.asarray(tm).nbytes / 2**20:.0f} MB); one order via treams.coeffs.mie_cyl (+ parity change): {1e6 * t1:.0f} us. "
        "The pole iterations below use mie_cyl."
    )
    print()


def bench_cases() -> None:
    print(
        "| case | pol | m | p | wavelength (nm) | Q | wgmfem per verified root | wgmfem root polish alone | treams per root "
        "| rel. wavelength diff | rel. Q diff | treams Q scatter (3 seeds) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    notes = []
    for name, cyl, pol, m, p in CASES:
        t_ours, modes = timed(lambda: wgmfem.find_modes(cyl, pol=pol, m=m, p=p, region="core", fsr=False), 5)  # noqa: B023 - called within this iteration
        md = modes[0]
        k0, k1 = seeds(md.k)
        a0, a1 = np.array([k0]), np.array([k1])
        t_pol, (k_pol, ok_pol) = timed(lambda: polish_roots(cyl, pol, np.array([m]), a0, a1), 7)  # noqa: B023
        t_tr, (k_tr, ok_tr) = timed(lambda: treams_pole(cyl, pol, m, k0, k1), 7)  # noqa: B023
        # treams' own noise floor: the pole from seeds 1e-9 off along +1, -1 and +i
        qs = [q_of(treams_pole(cyl, pol, m, *seeds(md.k, d))[0]) for d in (1.0, -1.0, 1j)]
        spread = max(abs(q / qs[0] - 1) for q in qs)
        dl = abs(wavelength_nm(k_tr) / md.wavelength_nm - 1)
        dq = abs(q_of(k_tr) / md.Q_rad - 1)
        flags = ("" if ok_pol[0] else " (not converged)", "" if ok_tr else " (not converged)")
        print(
            f"| {name} | {pol} | {m} | {p} | {md.wavelength_nm:.6f} | {md.Q_rad:.4g} | {1e3 * t_ours:.1f} ms | "
            f"{1e3 * t_pol:.2f} ms{flags[0]} | {1e3 * t_tr:.2f} ms{flags[1]} | {dl:.1e} | {dq:.1e} | {spread:.1e} |"
        )
        assert abs(k_pol[0] / md.k - 1) < 1e-13, "wgmfem polish left its root"
        notes.append(f"{pol} m={m} p={p}: {md.verification.get('method')}, polish rel. Q diff {abs(q_of(k_pol[0]) / md.Q_rad - 1):.1e}")
    print()
    print("How find_modes got each Q, and where wgmfem's polish_roots polish (the timing column) lands against it:")
    print("; ".join(notes) + ".")
    print()


def bench_census() -> None:
    cap = wgmfem.Capillary()
    t_census, modes = timed(lambda: wgmfem.find_modes(cap, wavelength_nm=(425, 445), region="core", p=(1, 2)), 3)
    n = len(modes)
    ks = np.array([md.k for md in modes])
    k0s, k1s = ks * (1 + SEED), ks * (1 + 2 * SEED)
    pols = np.array([md.pol for md in modes])
    ms = np.array([md.m for md in modes])

    def polish_wgmfem():
        out, ok = np.empty(n, complex), np.empty(n, bool)
        for pol in ("Ez", "Hz"):
            sel = pols == pol
            out[sel], ok[sel] = polish_roots(cap, pol, ms[sel], k0s[sel], k1s[sel])
        return out, ok

    def polish_treams():
        res = [treams_pole(cap, md.pol, md.m, a, b) for md, a, b in zip(modes, k0s, k1s)]
        return np.array([r[0] for r in res]), np.array([r[1] for r in res])

    t_ours, (k_ours, ok_ours) = timed(polish_wgmfem, 3)
    t_tr, (k_tr, ok_tr) = timed(polish_treams, 3)
    q_w = np.array([md.Q_rad for md in modes])
    lam_w = np.array([md.wavelength_nm for md in modes])
    dl = np.abs(2e3 * np.pi / k_tr.real / lam_w - 1)
    dq = np.abs(-k_tr.real / (2 * k_tr.imag) / q_w - 1)
    low = q_w < 1e10
    verified = sum(bool(md.verification.get("census_ok")) for md in modes)
    print(f"Default census: {n} core modes (Ez + Hz, 425-445 nm, p = 1, 2), Q from {q_w.min():.3g} to {q_w.max():.3g}.")
    print("treams has no census of its own; its census-equivalent is polishing all of these roots from seeds 1e-9 away.")
    print()
    print("| task | median wall time | per root | converged | worst rel. wavelength diff | worst rel. Q diff (all / Q < 1e10) |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| wgmfem census `find_modes(cap, wavelength_nm=(425, 445), region='core', p=(1, 2))` (incl. FSR) | {t_census:.2f} s | {1e3 * t_census / n:.1f} ms | {verified}/{n} census_ok | | |")
    print(f"| wgmfem polish alone, all {n} roots (vectorized polish_roots, 1e-9 seeds) | {1e3 * t_ours:.0f} ms | {1e3 * t_ours / n:.2f} ms | {ok_ours.sum()}/{n} | | |")
    print(
        f"| treams polish of all {n} roots (mie_cyl secant, 1e-9 seeds, one by one) | {1e3 * t_tr:.0f} ms | {1e3 * t_tr / n:.2f} ms | {ok_tr.sum()}/{n} "
        f"| {dl.max():.1e} | {dq.max():.1e} / {dq[low].max() if low.any() else float('nan'):.1e} |"
    )


if __name__ == "__main__":
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores, load average {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}, Python {sys.version.split()[0]}, "
        f"numpy {np.__version__}, treams {version('treams')}"
    )
    print()
    verify()
    bench_full_tmatrix()
    bench_cases()
    bench_census()
