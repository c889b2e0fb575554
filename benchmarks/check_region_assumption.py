"""Search random capillaries for a mode whose region is the core while its core is evanescent.

The census's m range assumes a mode turns inside its region layer or a layer inside it
(docs/theory.md section 10). This script censuses, for 60 random capillaries, exactly the
azimuthal numbers that assumption leaves out for the core (m above n_core r_core k) and prints
every resonance labelled 'core' there. Run: python benchmarks/check_region_assumption.py
(about 75 s; prints the count of such modes, the resonances examined and the time).
"""

import math
import time

import numpy as np

from wgmfem import Capillary
from wgmfem.exact.search import run_boxes

rng = np.random.default_rng(1)
t = time.time()
hits = 0
n = 0
for _trial in range(60):
    di = rng.uniform(5, 60)
    do = di + rng.choice([rng.uniform(0.05, 1), rng.uniform(1, 30)])
    nw = rng.uniform(1.4, 1.5)
    nc = nw + rng.uniform(-0.2, 0.2)
    if nc < 1.0:
        continue
    out = rng.choice([1.0, 1.33])
    if out >= nw:
        continue
    cap = Capillary(di, do, nc, nw, outside_index=out)
    lam = rng.uniform(500, 1500)
    k_lo, k_hi = 2e3*math.pi/(lam*1.01), 2e3*math.pi/lam
    m0 = int(nc*di/2*k_hi)+1
    m1 = int(max(nc*di/2, nw*do/2)*k_hi)+2
    if m1 <= m0:
        continue
    ms = np.arange(m0, m1)
    for pol in ('Ez','Hz'):
        r = run_boxes(cap, pol, ms, k_lo, k_hi, 2.0)
        for root in r.roots:
            n += 1
            if root.region_index == 0:
                hits += 1
                print('core-region evanescent core', cap, pol, root.m, root.k, root.fractions, 'ncak', nc*di/2*root.k.real)
print(f"{hits} core-region modes with an evanescent core among {n} resonances ({time.time() - t:.0f} s)")
