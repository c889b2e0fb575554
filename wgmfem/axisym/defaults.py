"""Defaults and thresholds shared by every axisymmetric study (sphere, segment, profile)."""

#: decay (e-folds of the field amplitude) at the window's walls: the eigenvalue moves by
#: ~ the squared amplitude there (e^-20 = 2e-9)
DEFAULT_DECAY = 10.0
#: round-trip reflection of the PML: the outgoing flux, hence Q, is off by ~ this fraction,
#: far below the 1 % asked of Q; a stronger layer needs a finer mesh in it
DEFAULT_PML_REFLECTION = 1e-6
#: above this |Q|, Im k / Re k is within a few hundred round-off units of the eigensolver and
#: the FEM's Q is reported as a lower bound only (measured: Q 1.3e14 within 2 %, 4e29 noise)
RESOLVED_Q_MAX = 1e13
#: a mode with less of its electric energy inside the resonator than this is a standing wave
#: of the truncated window's outside region (Q ~ 10), not a mode of the resonator
RESONATOR_FRACTION_MIN = 0.5
#: a label is verified when the FEM wavelength lies this close (relative) to the exact
#: resonance of that label: 1e3 times the default discretization error, 1e-2 of the spacing
#: between neighbouring labels of a 10 um sphere
LABEL_TOLERANCE = 1e-4
#: unknowns per (window area / body element size^2), measured on sphere windows (26-29)
UNKNOWNS_PER_CELL = 30.0
#: a window estimated to need more unknowns than this is refused before meshing (~16 kB each
#: with SuperLU's factors: 3e6 is ~48 GB, beyond a 24 GB machine)
MAX_UNKNOWNS = 1.5e6
#: a profile mode with more of its electric energy than this in the outer AXIAL_END_BAND of the
#: window at either end reaches the window's ends: a wave that travels along the capillary (into
#: the axial PML, or, without it, a standing wave between the end walls); not labelled
AXIAL_END_SHARE_MAX = 1e-3
#: the band at each axial end of a profile window, as a fraction of the window's height
AXIAL_END_BAND = 0.1
#: axial PML layers at a profile window's ends: thickness as a fraction of the window's height,
#: and the round-trip reflection of a wave whose axial wavelength is that height (shorter ones
#: are absorbed more)
AXIAL_PML_FRACTION = 0.25
AXIAL_PML_REFLECTION = 1e-6
#: a profiled capillary's Q is reported up to here. A state's Q above it can belong to the window:
#: hybridized with a neighbouring family that leaks along the fibre, one microbubble state's Q
#: came out 9e9, 2e10 and 9e10 in three windows sized for 1, 2 and 3 states (its wavelength within
#: 6e-8), a wall state's 2e8 to 2e9; a state limited by radiation (Q 4e6) agreed to 4 digits
PROFILE_RESOLVED_Q_MAX = 1e8
