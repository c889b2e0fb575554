"""Reference cases: geometries, seeds of the roots the tests compare, and census windows.

Seeds (real k in 1/um) were found by ``make_roots.py scan``: sign changes of
:func:`mpmath_cylinder.real_scan_function` on a real-k grid, bisected to ~1e-9, polished with
:func:`mpmath_cylinder.find_root` and labelled by energy fractions and radial maxima.  A seed is an
*input* of the reference computation, not an expected result: the expected region and radial
order written next to each seed are what the seed was chosen for, and the tests check that the
reference root found from it really is that mode (a careless seed lands on a wall mode).
"""

from __future__ import annotations

#: name -> dict(radii (um), indices, n_out); wgmfem layer names: core, wall, layer3, ..., outside
GEOMETRIES = {
    # the capillary of Adv. Mater. 2015, 27, 169
    "paper": dict(radii=(27.0, 39.0), indices=(1.56, 1.47), n_out=1.0),
    # a small capillary of the same materials: its modes at m = 50 are wall modes (no core mode is
    # confined at this m: the core caustic lies beyond the point where the wall turns evanescent)
    "cap5_7": dict(radii=(5.0, 7.0), indices=(1.56, 1.47), n_out=1.0),
    # a homogeneous rod in air
    "rod3": dict(radii=(3.0,), indices=(1.56,), n_out=1.0),
    # three layers in water; the 1.6 layer (named "wall") guides
    "stack3": dict(radii=(10.0, 12.0, 14.0), indices=(1.45, 1.6, 1.40), n_out=1.33),
    # the same with layer3 of the outside index: physically the two-layer (10, 12) um structure
    "stack3_water": dict(radii=(10.0, 12.0, 14.0), indices=(1.45, 1.6, 1.33), n_out=1.33),
}

#: (geometry, pol, m, intended region, intended p, seed k (1/um, string))
CASES = [
    # paper capillary, core modes (reference values: Ez p=1 m=600 at 432.0877 nm, Q ~ 4.79e12;
    # m=597 Q ~ 1.1e12).  p=1 seeds: scans of the capillary itself (SCANS below).
    ("paper", "Ez", 600, "core", 1, "14.5414586035"),
    ("paper", "Ez", 597, "core", 1, "14.4696007573"),
    ("paper", "Hz", 600, "core", 1, "14.5477953386"),
    # p=2, p=3 at m=600 from the capillary scans: both mix with a wall mode (quick labels: core
    # fraction 0.76 for p=2, 0.57-0.59 for p=3) - labelled core by the largest fraction
    ("paper", "Ez", 600, "core", 2, "14.8131554218"),
    ("paper", "Ez", 600, "core", 3, "15.0345881379"),
    ("paper", "Hz", 600, "core", 2, "14.8174847504"),
    ("paper", "Hz", 600, "core", 3, "15.0372180356"),
    # p=2, p=3 at m=596, seeded by the real roots of the core-against-infinite-glass problem
    # (rod r=27 um n=1.56 in n=1.47) and checked by labels: among m=596..605 the
    # cleanest p=2 core modes (core fraction 0.85/0.84); p=3 core modes keep 36-40 % of their
    # energy in the wall at every m tried (best 0.64/0.60 here), so none exceeds 0.8
    ("paper", "Ez", 596, "core", 2, "14.7187030238"),
    ("paper", "Ez", 596, "core", 3, "14.9470148369"),
    ("paper", "Hz", 596, "core", 2, "14.722891495"),
    ("paper", "Hz", 596, "core", 3, "14.9493940641"),
    # small capillary, wall modes, Q ~ 1e3 .. 1e7
    ("cap5_7", "Ez", 50, "wall", 1, "5.40558878661"),
    ("cap5_7", "Ez", 50, "wall", 2, "5.94648166745"),
    ("cap5_7", "Ez", 50, "wall", 3, "6.40293974362"),
    ("cap5_7", "Hz", 50, "wall", 1, "5.4731019182"),
    ("cap5_7", "Hz", 50, "wall", 2, "6.00677363391"),
    ("cap5_7", "Hz", 50, "wall", 3, "6.44795880699"),
    # 3 um rod, m = 45: Q ~ 5e7, 2e5, 5e3
    ("rod3", "Ez", 45, "core", 1, "10.7842527599"),
    ("rod3", "Ez", 45, "core", 2, "11.9441893725"),
    ("rod3", "Ez", 45, "core", 3, "12.9382216405"),
    ("rod3", "Hz", 45, "core", 1, "10.9430613342"),
    ("rod3", "Hz", 45, "core", 2, "12.0915727856"),
    ("rod3", "Hz", 45, "core", 3, "13.0652637487"),
    # three-layer stack, m = 200, modes of the 1.6 layer
    ("stack3", "Ez", 200, "wall", 1, "10.8732894082"),
    ("stack3", "Ez", 200, "wall", 2, "11.3013326107"),
    ("stack3", "Ez", 200, "wall", 3, "11.4687188795"),
    ("stack3", "Hz", 200, "wall", 1, "10.8945957485"),
    ("stack3", "Hz", 200, "wall", 2, "11.3168287187"),
    ("stack3", "Hz", 200, "wall", 3, "11.7284775939"),
    # m = 300: Q ~ 2e9 / 1.4e9, the barrier is inside layer3 (the outside is already oscillatory at
    # the outer radius, where replacing H1 by Y in the scan function is no approximation)
    ("stack3", "Ez", 300, "wall", 1, "16.1651750755"),
    ("stack3", "Hz", 300, "wall", 1, "16.187570142"),
    # layer3 index = outside index: Q ~ 1e10 (the root of the two-layer structure)
    ("stack3_water", "Ez", 200, "wall", 1, "10.8912103462"),
    ("stack3_water", "Hz", 200, "wall", 1, "10.9175555889"),
]

#: scans that make_roots.py runs to propose seeds and to build reference censuses:
#: (geometry, pol, m, k_lo, k_hi, step)
SCANS = [
    ("cap5_7", "Ez", 50, "5.0", "7.2", "0.004"),
    ("cap5_7", "Hz", 50, "5.0", "7.2", "0.004"),
    ("rod3", "Ez", 45, "9.8", "13.6", "0.01"),
    ("rod3", "Hz", 45, "9.8", "13.6", "0.01"),
    ("stack3", "Ez", 200, "10.6", "12.6", "0.003"),
    ("stack3", "Hz", 200, "10.6", "12.6", "0.003"),
    ("stack3", "Ez", 300, "15.9", "16.6", "0.002"),
    ("stack3", "Hz", 300, "15.9", "16.6", "0.002"),
    ("stack3_water", "Ez", 200, "10.80", "11.00", "0.002"),
    ("stack3_water", "Hz", 200, "10.80", "11.00", "0.002"),
    ("paper", "Ez", 600, "14.45", "15.15", "0.0015"),
    ("paper", "Hz", 600, "14.45", "15.15", "0.0015"),
    ("paper", "Ez", 597, "14.40", "14.55", "0.0015"),
]
