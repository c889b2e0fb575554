"""Defaults of the peak assignment (:mod:`wgmfem.assign`), apart from it: the command line
shows them in its help without loading the fit."""

from __future__ import annotations

DEFAULT_SEARCH = 0.02  # +-2 % around the given diameter (or index): about +-12 m at m = 600
OUTLIER_PRIOR = 0.05  # eps: prior probability that a peak is not a mode of the allowed families
