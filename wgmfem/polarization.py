"""Polarization names.

wgmfem names the two scalar problems of the 2-D cross-section by the field
component along the fibre axis:

* ``Ez`` - electric field parallel to the axis; solves div(grad u) + k^2 n^2 u = 0.
* ``Hz`` - magnetic field parallel to the axis; solves div(n^-2 grad u) + k^2 u = 0.

The names TE/TM are used in opposite senses by different communities. wgmfem
accepts them only as aliases, in the 2-D photonics (MEEP, Joannopoulos) sense:
``TM`` = ``Ez`` (magnetic field transverse to the axis) and ``TE`` = ``Hz``
(electric field transverse to the axis). Note that sphere-WGM papers often
call the Ez-like family "TE"; use Ez/Hz to avoid the ambiguity.
"""

from __future__ import annotations

POLARIZATIONS = ("Ez", "Hz")
ALIASES = {"ez": "Ez", "hz": "Hz", "tm": "Ez", "te": "Hz"}


def normalize_pol(name: str) -> str:
    """Return ``'Ez'`` or ``'Hz'`` for a polarization name or alias (case-insensitive)."""
    key = str(name).strip().lower()
    if key not in ALIASES:
        raise ValueError(f"unknown polarization {name!r}: use Ez or Hz (aliases: TM = Ez, TE = Hz)")
    return ALIASES[key]


def normalize_pols(name: str) -> tuple[str, ...]:
    """Like :func:`normalize_pol` but ``'both'`` gives ``('Ez', 'Hz')``."""
    if str(name).strip().lower() == "both":
        return POLARIZATIONS
    return (normalize_pol(name),)
