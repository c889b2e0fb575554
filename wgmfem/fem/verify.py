"""Is a FEM mode the exact mode that seeded it? The check behind every ``fem1d`` / ``fem2d`` result.

Both FEM engines start from an exact (Bessel/Hankel) root, which fixes the mode asked for,
and return the eigenpair they find near it. :func:`verify` compares the two:

* **labels**: the FEM mode's (m, p, region) must be the seed's, i.e. the mode asked for;
* **wavelength**: the relative difference abs(Re k_fem / Re k_exact - 1) (the
  ``relative_difference_to_exact`` of the record; to first order that of the wavelengths) must not exceed
  the tolerance, by default :data:`DEFAULT_TOLERANCE` (fem1d 1e-7, fem2d 1e-6; their default
  meshes reach <= 4e-9 and <= 2.5e-7 on the cases measured, docs/fem.md);
* **Q** (Re k / (2 abs(Im k)) of both, i.e. the Q of the computed resonance): compared only
  where a PML resolves it in double precision, an exact Q up to :data:`Q_RESOLVED_MAX`
  (1e9); the relative Q difference must not exceed the Q tolerance
  (:data:`DEFAULT_Q_TOLERANCE`, 1 %). Above 1e9 the Q is not compared and the record says
  it is unresolved.

On a perturbed fibre (fem2d with a bore offset or ellipticity) the exact seed is the
concentric fibre's, so only the labels are compared; the wavelength and Q are physics
(``shift_from_unperturbed``), not errors.

The outcome goes into the FEM mode's verification record (``verified``,
``unverified_reason``, ``label_check``, ``wavelength_check``, ``Q_check``, ``Q_resolved``,
``tolerance``, ``Q_tolerance``); a mode that fails also gets ``census_ok = False``, so
tables flag it. The engines then raise :class:`FEMVerificationError` (a
:class:`wgmfem.solve.SearchError`) with a one-line message, unless unverified output was
asked for (``unverified=True`` in the engine settings, or a :func:`fem_verification`
block), in which case the mode is returned, flagged.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from ..errors import SearchError
from ..mode import Mode

#: Default largest relative wavelength difference to the exact root, per engine.
DEFAULT_TOLERANCE = {"fem1d": 1e-7, "fem2d": 1e-6}
#: Default largest relative Q difference to the exact root (where Q is resolved).
DEFAULT_Q_TOLERANCE = 1e-2
#: Largest exact Q that is compared: beyond it a PML does not resolve Q reliably in double precision.
Q_RESOLVED_MAX = 1e9


class FEMVerificationError(SearchError):
    """A FEM result disagrees with the exact root that seeded it (one-line message).

    ``mode`` is the FEM mode that failed (None when there is none). ``exit_code`` is the
    command line's exit status for it (3; bad input is 2).
    """

    exit_code = 3

    def __init__(self, message: str, mode: Mode | None = None):
        super().__init__(message)
        self.mode = mode


@dataclass(frozen=True)
class VerificationSettings:
    """How FEM results are checked against their exact seeds.

    tolerance : largest relative wavelength difference (None: the engine's default,
        :data:`DEFAULT_TOLERANCE`). q_tolerance : largest relative Q difference where Q is
        resolved (None: :data:`DEFAULT_Q_TOLERANCE`). unverified : return modes that fail,
        flagged (``verified`` False), instead of raising :class:`FEMVerificationError`.
    """

    tolerance: float | None = None
    q_tolerance: float | None = None
    unverified: bool = False

    def tolerance_for(self, engine: str) -> float:
        return self.tolerance if self.tolerance is not None else DEFAULT_TOLERANCE[engine]

    @property
    def q_tolerance_value(self) -> float:
        return self.q_tolerance if self.q_tolerance is not None else DEFAULT_Q_TOLERANCE


_CURRENT: ContextVar[VerificationSettings | None] = ContextVar("wgmfem_fem_verification", default=None)


def check_tolerance(value, name: str) -> float | None:
    """``value`` as a float in (0, 1), or None; a one-line SearchError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value < 1):
        raise SearchError(f"{name} must be a number between 0 and 1 (a relative difference), got {value!r}")
    return float(value)


def _checked(tolerance, q_tolerance, unverified) -> VerificationSettings:
    if not isinstance(unverified, bool):
        raise SearchError(f"unverified must be True or False, got {unverified!r}")
    return VerificationSettings(check_tolerance(tolerance, "FEM tolerance"),
                                check_tolerance(q_tolerance, "FEM Q tolerance"), unverified)


@contextmanager
def fem_verification(tolerance: float | None = None, q_tolerance: float | None = None,
                     unverified: bool = False) -> Iterator[VerificationSettings]:
    """Verification settings for every FEM solve inside the block, e.g. through
    :func:`wgmfem.find_modes` (whose ``fem1d`` keywords do not include them)::

        with fem_verification(unverified=True):
            modes = wgmfem.find_modes(cap, pol="Ez", m=600, p=1, engine="fem1d", fem1d={"order": 2})

    Settings given to an engine directly (``CrossSectionSettings.tolerance``, ...) win.
    """
    settings = _checked(tolerance, q_tolerance, unverified)
    token = _CURRENT.set(settings)
    try:
        yield settings
    finally:
        _CURRENT.reset(token)


def resolve(tolerance=None, q_tolerance=None, unverified=None) -> VerificationSettings:
    """The settings in force: the values given (not None), else those of the enclosing
    :func:`fem_verification` block, else the defaults. Checked (SearchError, one line)."""
    outer = _CURRENT.get() or VerificationSettings()
    return _checked(
        outer.tolerance if tolerance is None else tolerance,
        outer.q_tolerance if q_tolerance is None else q_tolerance,
        outer.unverified if unverified is None else unverified,
    )


def _q(k: complex) -> float:
    """Re k / (2 abs(Im k)): the Q of the computed resonance (inf for a real k)."""
    return math.inf if k.imag == 0 else k.real / (2 * abs(k.imag))


def _labels(m: int, p: int, region: str) -> str:
    return f"m={m}, p={p}, {region}"


def reported_q_difference(fem: Mode, seed: Mode) -> float | None:
    """|Q_fem / Q_exact - 1| of the Q each mode reports (Q_resonance: F Re k / (2 |Im k|), F from
    each mode's own energy fractions in a dispersive stack); None when either is unbounded."""
    q_fem, q_exact = fem.Q_resonance, seed.Q_resonance
    if not (math.isfinite(q_fem) and math.isfinite(q_exact)) or q_exact == 0:
        return None
    return abs(q_fem / q_exact - 1)


def verify(fem: Mode, seed: Mode, settings: VerificationSettings, *, perturbed: bool = False,
           identified: bool = True) -> bool:
    """Compare ``fem`` with its exact ``seed`` and write the outcome into ``fem.verification``
    (in place); True when every check that applies passed.

    ``perturbed``: the seed is the concentric fibre's (labels only). ``identified`` False:
    the FEM found no eigenvector with the seed's labels and ``fem`` is the nearest one.
    """
    engine = fem.engine
    tol, q_tol = settings.tolerance_for(engine), settings.q_tolerance_value
    reasons = []
    same = (fem.m, fem.p, fem.region) == (seed.m, seed.p, seed.region)
    if same and identified:
        label_check = f"same as the exact seed ({_labels(seed.m, seed.p, seed.region)})"
    elif not identified:
        label_check = (f"no eigenvector has the exact labels {_labels(seed.m, seed.p, seed.region)}; "
                       f"the nearest has {_labels(fem.m, fem.p, fem.region)}")
        reasons.append(label_check)
    else:
        label_check = f"labels {_labels(fem.m, fem.p, fem.region)} differ from the exact {_labels(seed.m, seed.p, seed.region)}"
        reasons.append(label_check)
    rel = abs(fem.k.real / seed.k.real - 1)
    q_exact, q_fem = _q(seed.k), _q(fem.k)
    q_resolved = None
    if perturbed:
        wavelength_check = ("not compared: perturbed geometry, the exact seed is the concentric fibre's "
                            f"(shift {fem.wavelength_nm / seed.wavelength_nm - 1:+.2e})")
        q_check = "not compared: perturbed geometry"
    else:
        ok = rel <= tol  # False for NaN
        wavelength_check = f"relative wavelength difference {rel:.1e} {'<=' if ok else '>'} tolerance {tol:g}"
        if not ok:
            reasons.append(wavelength_check)
        if q_exact <= Q_RESOLVED_MAX:
            q_resolved = True
            dq = abs(q_fem / q_exact - 1)
            q_ok = dq <= q_tol
            q_check = (f"FEM Q {q_fem:.3g} vs exact {q_exact:.3g} (Re k / 2|Im k| of the roots): relative difference "
                       f"{dq:.1e} {'<=' if q_ok else '>'} {q_tol:g}")
            if not q_ok:
                reasons.append(q_check)
        else:
            q_resolved = False
            q_check = (f"not compared: exact Q {q_exact:.3g} > {Q_RESOLVED_MAX:.0e}, beyond what a PML resolves "
                       f"in double precision; the FEM Q ({q_fem:.3g}) is unresolved")
    verified = not reasons
    record = fem.verification
    seed_ok = bool(seed.verification.get("census_ok", False))
    record.update(
        verified=verified,
        unverified_reason=None if verified else "; ".join(reasons),
        exact_label=seed.label(),
        label_check=label_check,
        wavelength_check=wavelength_check,
        tolerance=tol,
        Q_check=q_check,
        Q_resolved=q_resolved,
        Q_tolerance=q_tol,
        exact_census_ok=seed_ok,
        census_ok=seed_ok and verified,
    )
    if not verified:
        census = seed.verification.get("census_count")
        record["census_count"] = f"{engine} check failed: {record['unverified_reason']}" + (
            "" if seed_ok else f"; exact census: {census}")
    return verified


def failure_message(fem: Mode) -> str:
    """One line naming the mode, the FEM and exact wavelengths, the relative difference and why."""
    v = fem.verification
    exact_nm = v.get("exact_wavelength_nm") or math.nan
    which = "exact concentric" if str(v.get("wavelength_check", "")).startswith("not compared") else "exact"
    rel = abs(exact_nm / fem.wavelength_nm - 1)  # = abs(Re k_fem / Re k_exact - 1), as in the check
    return (f"{fem.engine} result for {v.get('exact_label', fem.label())} disagrees with the exact root: "
            f"FEM {fem.wavelength_nm:.5f} nm, {which} {exact_nm:.5f} nm, relative difference {rel:.1e} "
            f"({v.get('unverified_reason')})")


def raise_if_unverified(modes: Sequence[Mode], hint: str = "") -> None:
    """:class:`FEMVerificationError` for the first mode whose check failed (``verified`` False)."""
    failed = [md for md in modes if md.verification.get("verified") is False]
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise FEMVerificationError(failure_message(failed[0]) + more + hint, failed[0])
