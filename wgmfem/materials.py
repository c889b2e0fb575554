"""Refractive-index models n(lambda) of the materials a capillary is made of and filled with.

Wavelengths are vacuum wavelengths in **nm** at the interface; the published formulas use
um and are evaluated internally in um. An index is real, or complex ``n + i*kappa`` with
``kappa > 0`` for absorption (the sign convention of :mod:`wgmfem.geometry`).

Quick use::

    from wgmfem.materials import get_material
    glass = get_material("fused-silica")
    glass.index(440.0)                          # 1.46635...
    get_material("toluene").index([435, 445])   # vectorized over numpy arrays
    get_material("1.56+1e-4j").index(440)       # constant complex index
    get_material("SiO2-Malitson.yml")           # a refractiveindex.info database file

A model used outside its published range warns (:class:`MaterialRangeWarning`) and
extrapolates; with ``strict=True`` (argument of :meth:`Material.index`, or the
:func:`strict_range` context) it raises :class:`MaterialRangeError` instead. Tabulated
data are never extrapolated: outside a table is always an error.

Thermal data for the drift d(lambda)/dT of a resonator: :meth:`Material.dn_dT_per_K` (the
thermo-optic coefficient near room temperature, 1/K; None when unknown),
:attr:`Material.thermal_expansion_per_K` (linear expansion of a solid, 1/K; None when
unknown or for a liquid) and :attr:`Material.thermal_source`; :func:`thermal_data` gives both
numbers for any material spec::

    get_material("water").dn_dT_per_K(589.0)        # -9.5e-05 (Daimon & Masumura, 21.5 C)
    thermal_data("fused-silica", wavelength_nm=1550)  # (8.16e-06, 5.5e-07)
    ConstantIndex(1.56, dn_dT=-4e-4).dn_dT_per_K(440) # a user value
"""

from __future__ import annotations

import abc
import contextlib
import contextvars
import math
import os
import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.polynomial import polynomial as _poly

__all__ = [
    "BUILTIN_MATERIALS",
    "Cauchy",
    "ConstantIndex",
    "Material",
    "MaterialFileError",
    "MaterialRangeError",
    "MaterialRangeWarning",
    "RefractiveIndexInfoFormula",
    "Sellmeier",
    "Tabulated",
    "get_material",
    "read_refractiveindex_yaml",
    "strict_range",
    "thermal_data",
]

NM_PER_UM = 1000.0


class MaterialRangeWarning(UserWarning):
    """A dispersion model was evaluated outside its published wavelength range."""


class MaterialRangeError(ValueError):
    """A wavelength is outside a table, or outside a model's range in strict mode."""


class MaterialFileError(ValueError):
    """A material file is missing or malformed (the message is one line naming the file)."""


_STRICT = contextvars.ContextVar("wgmfem_materials_strict", default=False)


@contextlib.contextmanager
def strict_range(enabled: bool = True):
    """Within this context, :meth:`Material.index` raises instead of warning out of range."""
    token = _STRICT.set(bool(enabled))
    try:
        yield
    finally:
        _STRICT.reset(token)


class _Table:
    """Linear interpolation of ``values`` over ``wavelength_nm``; no extrapolation."""

    def __init__(self, wavelength_nm, values, what: str):
        lam = np.asarray(wavelength_nm, dtype=float).ravel()
        val = np.asarray(values, dtype=float).ravel()
        if lam.size == 0 or lam.size != val.size:
            raise ValueError(f"{what}: need as many values as wavelengths (got {val.size} and {lam.size})")
        if not (np.all(np.isfinite(lam)) and np.all(np.isfinite(val))):
            raise ValueError(f"{what}: table contains non-finite numbers")
        if np.any(lam <= 0):
            raise ValueError(f"{what}: table wavelengths must be positive")
        order = np.argsort(lam, kind="stable")
        lam, val = lam[order], val[order]
        if np.any(np.diff(lam) == 0):
            raise ValueError(f"{what}: table has repeated wavelengths")
        self.wavelength_nm, self.values, self.what = lam, val, what

    @property
    def range_nm(self) -> tuple[float, float]:
        return float(self.wavelength_nm[0]), float(self.wavelength_nm[-1])

    def __call__(self, lam_nm: np.ndarray, owner: str) -> np.ndarray:
        lo, hi = self.range_nm
        if np.any((lam_nm < lo) | (lam_nm > hi)):
            raise MaterialRangeError(
                f"{owner}: wavelength {_span(lam_nm)} nm outside the {self.what} table "
                f"({lo:g}-{hi:g} nm); tabulated data are not extrapolated"
            )
        return np.interp(lam_nm, self.wavelength_nm, self.values)


def _span(lam_nm: np.ndarray) -> str:
    lo, hi = float(np.min(lam_nm)), float(np.max(lam_nm))
    return f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"


def _intersect(a, b):
    if a is None or b is None:
        return a if b is None else b
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    if lo > hi:
        raise ValueError(f"ranges {a[0]:g}-{a[1]:g} nm and {b[0]:g}-{b[1]:g} nm do not overlap")
    return (lo, hi)


# Bounds that catch a coefficient given in the wrong unit (e.g. 5.5 for 5.5e-4 /K): dn/dT of
# glasses and liquids is ~1e-6 to 1e-3 /K, linear expansion of solids ~1e-7 to 1e-4 /K.
MAX_DN_DT_PER_K = 1e-2
MAX_THERMAL_EXPANSION_PER_K = 1e-3
# Wavelength at which a wavelength-dependent dn/dT is quoted in one-line descriptions (Na D).
DN_DT_REFERENCE_WAVELENGTH_NM = 589.0


def _checked_range(range_nm, name: str, what: str):
    if range_nm is None:
        return None
    lo, hi = (float(v) for v in range_nm)
    if not (0 < lo <= hi < math.inf):
        raise ValueError(f"{name}: {what} must be 0 < min <= max, got {range_nm!r}")
    return (lo, hi)


def _checked_coefficient(value, name: str, what: str, limit: float) -> float | None:
    """A finite real coefficient in 1/K with |value| <= limit, or None."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {what} must be a number in 1/K, got {value!r}") from None
    if not math.isfinite(number) or abs(number) > limit:
        raise ValueError(f"{name}: {what} must be a finite number of 1/K with magnitude <= {limit:g}, got {value!r}")
    return number


def _checked_dn_dT(value, name: str):
    """dn/dT as given: None, a function of wavelength in nm, or a number of 1/K."""
    if value is None or callable(value):
        return value
    return _checked_coefficient(value, name, "dn_dT", MAX_DN_DT_PER_K)


class Material(abc.ABC):
    """A refractive-index model n(lambda).

    Parameters (shared by all subclasses, keyword-only)
    ----------
    name : short name shown in messages (default: the class name).
    valid_range_nm : (min, max) wavelengths in nm where the model is trusted, or None.
    source : citation of the data.
    kappa : constant extinction coefficient added as ``+ i*kappa`` (kappa > 0 absorbs).
    k_table : optional ``(wavelength_nm, k)`` table of the extinction coefficient,
        interpolated linearly (never extrapolated); added as ``+ i*k``.
    dn_dT : thermo-optic coefficient dn/dT near room temperature in 1/K: a number, or a
        function of wavelengths in nm (a numpy array) returning 1/K; None if unknown.
    dn_dT_range_nm : (min, max) wavelengths in nm where a wavelength-dependent dn/dT is
        trusted, or None (outside: the same warning / strict error as :meth:`index`).
    thermal_expansion : linear thermal expansion coefficient of a solid in 1/K, or None.
    thermal_source : citation of dn/dT and of the expansion coefficient.
    """

    def __init__(
        self, *, name: str | None = None, valid_range_nm=None, source: str = "", kappa=0.0,
        k_table: tuple[Any, Any] | None = None,
        dn_dT=None, dn_dT_range_nm=None, thermal_expansion=None, thermal_source: str = "",
    ):  # fmt: skip
        self.name = str(name) if name else type(self).__name__.lower()
        self.source = str(source)
        self._dn_dT = _checked_dn_dT(dn_dT, self.name)
        self.dn_dT_range_nm = _checked_range(dn_dT_range_nm, self.name, "dn_dT_range_nm")
        self.thermal_expansion_per_K: float | None = _checked_coefficient(
            thermal_expansion, self.name, "thermal_expansion", MAX_THERMAL_EXPANSION_PER_K
        )
        self.thermal_source = str(thermal_source)
        self.kappa = float(kappa)
        if not math.isfinite(self.kappa):
            raise ValueError(f"{self.name}: kappa must be finite, got {kappa!r}")
        self.k_table = None if k_table is None else _Table(*k_table, what="k")
        valid_range_nm = _checked_range(valid_range_nm, self.name, "valid_range_nm")
        if self.k_table is not None:
            valid_range_nm = _intersect(valid_range_nm, self.k_table.range_nm)
        self.valid_range_nm: tuple[float, float] | None = valid_range_nm

    # --- what a subclass provides -------------------------------------------------
    @abc.abstractmethod
    def _real_index(self, lam_nm: np.ndarray) -> np.ndarray:
        """Real part n of the index at wavelengths in nm (an array; the range is already checked)."""

    def _tables(self) -> list[_Table]:
        """Tables that must not be extrapolated."""
        return [] if self.k_table is None else [self.k_table]

    def _formula_text(self) -> str:
        return type(self).__name__

    # --- public -------------------------------------------------------------------
    @property
    def is_complex(self) -> bool:
        """True if the index has an imaginary (absorption) part."""
        return self.kappa != 0.0 or self.k_table is not None

    def index(self, wavelength_nm, strict: bool | None = None):
        """Refractive index at vacuum wavelength(s) in nm (scalar in, scalar out; arrays vectorized).

        Returns floats, or complex ``n + i*kappa`` if the material absorbs. Outside
        ``valid_range_nm`` warns (MaterialRangeWarning), or raises MaterialRangeError if
        ``strict`` (default: the :func:`strict_range` context, off).
        """
        lam = self._wavelengths(wavelength_nm)
        strict = _STRICT.get() if strict is None else bool(strict)
        self._check_range(lam, strict)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            n = np.asarray(self._real_index(lam), dtype=float)
        bad = ~(np.isfinite(n) & (n > 0))
        if np.any(bad):
            raise MaterialRangeError(self._no_index_message(lam[bad] if lam.ndim else lam, n[bad] if n.ndim else n))
        if self.is_complex:
            n = n + 1j * self.kappa
            if self.k_table is not None:
                n = n + 1j * self.k_table(lam, self.name)
        return n.item() if n.ndim == 0 else n

    __call__ = index

    def _wavelengths(self, wavelength_nm) -> np.ndarray:
        lam = np.asarray(wavelength_nm, dtype=float)
        if lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
            raise ValueError(f"{self.name}: wavelengths must be positive finite numbers of nm, got {wavelength_nm!r}")
        return lam

    # --- thermal data ---------------------------------------------------------------
    @property
    def dn_dT_depends_on_wavelength(self) -> bool:
        """True if dn/dT is a function of wavelength (False if constant or unknown)."""
        return callable(self._dn_dT)

    def dn_dT_per_K(self, wavelength_nm, strict: bool | None = None):
        """Thermo-optic coefficient dn/dT in 1/K near room temperature at vacuum wavelength(s)
        in nm (scalar in, float out; arrays vectorized), or None if unknown.

        A wavelength-dependent dn/dT outside ``dn_dT_range_nm`` warns (MaterialRangeWarning)
        and extrapolates, or raises MaterialRangeError if ``strict`` (as :meth:`index`).
        """
        lam = self._wavelengths(wavelength_nm)
        if self._dn_dT is None:
            return None
        if not callable(self._dn_dT):
            return self._dn_dT if lam.ndim == 0 else np.full(lam.shape, self._dn_dT)
        strict = _STRICT.get() if strict is None else bool(strict)
        self._check_dn_dT_range(lam, strict)
        value = np.asarray(self._dn_dT(lam), dtype=float) + 0 * lam
        if not np.all(np.isfinite(value)):
            raise MaterialRangeError(f"{self.name}: dn/dT is not finite at {_span(lam)} nm")
        return value.item() if value.ndim == 0 else value

    def _check_dn_dT_range(self, lam: np.ndarray, strict: bool) -> None:
        if self.dn_dT_range_nm is None:
            return
        lo, hi = self.dn_dT_range_nm
        if np.any((lam < lo) | (lam > hi)):
            msg = f"{self.name}: dn/dT at {_span(lam)} nm outside the range {lo:g}-{hi:g} nm of its data"
            if strict:
                raise MaterialRangeError(msg)
            warnings.warn(msg + "; extrapolating", MaterialRangeWarning, stacklevel=3)

    def describe_thermal(self, wavelength_nm: float = DN_DT_REFERENCE_WAVELENGTH_NM) -> str:
        """One line: dn/dT (at ``wavelength_nm`` if it depends on wavelength), expansion, source."""
        if self._dn_dT is None:
            dn_dT = "dn/dT unknown"
        elif callable(self._dn_dT):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", MaterialRangeWarning)
                value = self.dn_dT_per_K(wavelength_nm, strict=False)
            rng = "" if self.dn_dT_range_nm is None else ", {:g}-{:g} nm".format(*self.dn_dT_range_nm)
            dn_dT = f"dn/dT {value:+.2e}/K at {wavelength_nm:g} nm (depends on wavelength{rng})"
        else:
            dn_dT = f"dn/dT {self._dn_dT:+.2e}/K"
        alpha = self.thermal_expansion_per_K
        expansion = "no expansion data" if alpha is None else f"expansion {alpha:.2e}/K"
        source = f"; {self.thermal_source}" if self.thermal_source else ""
        return f"{dn_dT}, {expansion}{source}"

    def _no_index_message(self, lam: np.ndarray, n: np.ndarray) -> str:
        """One line naming the requested wavelengths where the model gives no usable index, and
        the whole interval of the model where n^2 < 0 (or n <= 0) around them."""
        lam, n = np.atleast_1d(lam), np.atleast_1d(n)
        if np.all(np.isnan(n)):
            what = "n^2 < 0 (no real refractive index)"
        elif np.all(np.isinf(n)):
            what = "n is infinite (a pole of the formula)"
        elif np.all(np.isfinite(n)):
            what = "n <= 0"
        else:
            what = "no finite positive refractive index"
        interval = self._invalid_interval(float(np.min(lam)))
        where = f"; the model has {interval}" if interval else ""
        return f"{self.name}: {what} at {_span(lam)} nm{where}"

    def _usable(self, lam_nm: float) -> bool:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            value = float(np.asarray(self._real_index(np.asarray([lam_nm], dtype=float)))[0])
        return math.isfinite(value) and value > 0

    def _invalid_interval(self, lam_nm: float) -> str:
        """'no usable index from A to B nm': the interval around the bad wavelength ``lam_nm``,
        each end found by bisection to 0.01 % ('below B' / 'above A' when the model has no
        usable index within a factor 10 on that side)."""

        def edge(bad: float, step: float) -> float | None:
            good = origin = bad
            while True:
                good *= step
                if not (origin / 10 <= good <= origin * 10):
                    return None
                try:
                    if self._usable(good):
                        break
                except MaterialRangeError:  # a table end: no model beyond it
                    return None
                bad = good
            while abs(good - bad) > 1e-4 * bad:
                mid = 0.5 * (good + bad)
                if self._usable(mid):
                    good = mid
                else:
                    bad = mid
            return bad

        try:
            start, end = edge(lam_nm, 1 / 1.01), edge(lam_nm, 1.01)
        except Exception:  # the message must not fail: report the requested wavelengths only
            return ""
        if start is None and end is None:
            return ""
        if start is None:
            return f"no usable index below {end:.5g} nm"
        if end is None:
            return f"no usable index above {start:.5g} nm"
        return f"no usable index from {start:.5g} to {end:.5g} nm"

    def describe(self) -> str:
        """One line: name, model, range and source."""
        rng = "no range limit" if self.valid_range_nm is None else "valid {:g}-{:g} nm".format(*self.valid_range_nm)
        absorb = ""
        if self.kappa:
            absorb += f", kappa={self.kappa:g}"
        if self.k_table is not None:
            absorb += ", tabulated k"
        src = f"; {self.source}" if self.source else ""
        return f"{self.name}: {self._formula_text()}{absorb}, {rng}{src}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def _check_range(self, lam: np.ndarray, strict: bool) -> None:
        for table in self._tables():
            table(lam, self.name)  # raises outside a table
        if self.valid_range_nm is None:
            return
        lo, hi = self.valid_range_nm
        if np.any((lam < lo) | (lam > hi)):
            msg = (
                f"{self.name}: wavelength {_span(lam)} nm outside the validity range {lo:g}-{hi:g} nm"
                f"{' of ' + _short(self.source, 70, quote=False) if self.source else ''}"
            )
            if strict:
                raise MaterialRangeError(msg)
            warnings.warn(msg + "; extrapolating", MaterialRangeWarning, stacklevel=3)


class ConstantIndex(Material):
    """Wavelength-independent index: real ``n``, or complex ``n + i*kappa``.

    ``dn_dT`` (1/K) and ``thermal_expansion`` (linear, 1/K) are optional user values, cited
    as ``thermal_source`` (default "user value").
    """

    def __init__(
        self, n, dn_dT=None, thermal_expansion=None, *, name: str | None = None, source: str = "user value",
        thermal_source: str | None = None,
    ):  # fmt: skip
        try:
            value = complex(n)
        except (TypeError, ValueError):
            raise ValueError(f"refractive index must be a number, got {n!r}") from None
        if not (math.isfinite(value.real) and math.isfinite(value.imag)) or value.real <= 0:
            raise ValueError(f"refractive index must be finite with a positive real part, got {n!r}")
        self.n = value.real
        if thermal_source is None:
            thermal_source = "user value" if dn_dT is not None or thermal_expansion is not None else ""
        super().__init__(
            name=name or f"n={n}", source=source, kappa=value.imag,
            dn_dT=dn_dT, thermal_expansion=thermal_expansion, thermal_source=thermal_source,
        )  # fmt: skip

    def _real_index(self, lam_nm):
        return np.full(lam_nm.shape, self.n)

    def _formula_text(self):
        return f"constant n={self.n:g}"


class Sellmeier(Material):
    """n^2 - 1 = A + sum_i B_i l^2 / (l^2 - C_i^2), wavelength l in um.

    ``C_squared=False``: C_i are resonance wavelengths in um (Malitson's convention);
    ``C_squared=True``: C_i are already squared, in um^2 (Daimon, Sani, Kedenburg).
    ``A`` is the constant term of refractiveindex.info's formulas 1 and 2 (0 usually).
    """

    def __init__(self, B: Sequence[float], C: Sequence[float], C_squared: bool, *, A: float = 0.0, **kw):
        self.B = tuple(float(b) for b in B)
        self.C = tuple(float(c) for c in C)
        if len(self.B) != len(self.C):
            raise ValueError(f"Sellmeier: {len(self.B)} B but {len(self.C)} C coefficients")
        self.C_squared, self.A = bool(C_squared), float(A)
        super().__init__(**kw)

    def _real_index(self, lam_nm):
        l2 = (lam_nm / NM_PER_UM) ** 2
        n2 = 1.0 + self.A
        for b, c in zip(self.B, self.C):
            n2 = n2 + b * l2 / (l2 - (c if self.C_squared else c * c))
        return np.sqrt(n2)

    def _formula_text(self):
        terms = f"{len(self.B)} term{'s' if len(self.B) != 1 else ''}"
        return f"Sellmeier ({terms}, C {'squared, um^2' if self.C_squared else 'in um'})"


class Cauchy(Material):
    """Kozma's Cauchy form n = A + B l^-2 + C l^-4 + D l^-6, wavelength l in um."""

    def __init__(self, A: float, B: float = 0.0, C: float = 0.0, D: float = 0.0, **kw):
        self.coefficients = (float(A), float(B), float(C), float(D))
        super().__init__(**kw)

    def _real_index(self, lam_nm):
        inv_l2 = (NM_PER_UM / lam_nm) ** 2
        A, B, C, D = self.coefficients
        return A + inv_l2 * (B + inv_l2 * (C + inv_l2 * D))

    def _formula_text(self):
        return "Cauchy A + B/l^2 + C/l^4 + D/l^6"


class Tabulated(Material):
    """Measured n (and optionally k) at wavelengths in nm, interpolated linearly in wavelength.

    Outside the table is always a :class:`MaterialRangeError` (no extrapolation).
    ``k`` gives the extinction coefficient at the same wavelengths; a k table on another
    grid can be given as ``k_table=(wavelength_nm, k)``.
    """

    def __init__(self, wavelength_nm, n, k=None, **kw):
        self.n_table = _Table(wavelength_nm, n, what="n")
        if k is not None:
            if kw.get("k_table") is not None:
                raise ValueError("Tabulated: give k or k_table, not both")
            kw["k_table"] = (wavelength_nm, k)
        kw["valid_range_nm"] = _intersect(kw.get("valid_range_nm"), self.n_table.range_nm)
        super().__init__(**kw)

    def _tables(self):
        return [self.n_table, *super()._tables()]

    def _real_index(self, lam_nm):
        return self.n_table(lam_nm, self.name)

    def _formula_text(self):
        return f"tabulated n ({self.n_table.values.size} points)"


# --- refractiveindex.info dispersion formulas ---------------------------------------
# Definitions from the database's "Dispersion formulas" document
# (github.com/polyanskiy/refractiveindex.info-database, database/doc). l in um,
# C[0] is the document's C1. Each returns n.


def _f1_sellmeier(l, C):  # n^2 - 1 = C1 + sum C_{2i} l^2 / (l^2 - C_{2i+1}^2)
    return np.sqrt(1 + C[0] + sum(b * l**2 / (l**2 - c**2) for b, c in zip(C[1::2], C[2::2])))


def _f2_sellmeier2(l, C):  # n^2 - 1 = C1 + sum C_{2i} l^2 / (l^2 - C_{2i+1})
    return np.sqrt(1 + C[0] + sum(b * l**2 / (l**2 - c) for b, c in zip(C[1::2], C[2::2])))


def _f3_polynomial(l, C):  # n^2 = C1 + sum C_{2i} l^C_{2i+1}
    return np.sqrt(C[0] + sum(a * l**p for a, p in zip(C[1::2], C[2::2])))


def _f4_rii(l, C):
    # n^2 = C1 + C2 l^C3/(l^2 - C4^C5) + C6 l^C7/(l^2 - C8^C9) + C10 l^C11 + ... + C16 l^C17
    C = list(C) + [0.0] * (17 - len(C))
    n2 = C[0]
    for a, p, c, q in (C[1:5], C[5:9]):
        if a != 0:
            n2 = n2 + a * l**p / (l**2 - c**q)
    for a, p in zip(C[9::2], C[10::2]):
        if a != 0:
            n2 = n2 + a * l**p
    return np.sqrt(n2)


def _f5_cauchy(l, C):  # n = C1 + sum C_{2i} l^C_{2i+1}
    return C[0] + sum(a * l**p for a, p in zip(C[1::2], C[2::2]))


def _f6_gases(l, C):  # n - 1 = C1 + sum C_{2i} / (C_{2i+1} - l^-2)
    return 1 + C[0] + sum(b / (c - l**-2.0) for b, c in zip(C[1::2], C[2::2]))


def _f7_herzberger(l, C):  # n = C1 + C2/(l^2-0.028) + C3/(l^2-0.028)^2 + C4 l^2 + C5 l^4 + C6 l^6
    C = list(C) + [0.0] * (6 - len(C))
    d = 1.0 / (l**2 - 0.028)
    return C[0] + C[1] * d + C[2] * d**2 + C[3] * l**2 + C[4] * l**4 + C[5] * l**6


def _f8_retro(l, C):  # (n^2 - 1)/(n^2 + 2) = C1 + C2 l^2/(l^2 - C3) + C4 l^2
    C = list(C) + [0.0] * (4 - len(C))
    r = C[0] + C[3] * l**2
    if C[1] != 0:
        r = r + C[1] * l**2 / (l**2 - C[2])
    return np.sqrt((1 + 2 * r) / (1 - r))


def _f9_exotic(l, C):  # n^2 = C1 + C2/(l^2 - C3) + C4 (l - C5)/((l - C5)^2 + C6)
    C = list(C) + [0.0] * (6 - len(C))
    n2 = C[0] + 0 * l
    if C[1] != 0:
        n2 = n2 + C[1] / (l**2 - C[2])
    if C[3] != 0:
        n2 = n2 + C[3] * (l - C[4]) / ((l - C[4]) ** 2 + C[5])
    return np.sqrt(n2)


def _odd_up_to(m: int) -> tuple[int, ...]:
    """Coefficient counts C1 plus whole pairs: 1, 3, ..., m."""
    return tuple(range(1, m + 1, 2))


# formula number -> (name, function, allowed coefficient counts)
_RII_FORMULAS: dict[int, tuple[str, Callable, tuple[int, ...]]] = {
    1: ("Sellmeier", _f1_sellmeier, _odd_up_to(17)),
    2: ("Sellmeier-2", _f2_sellmeier2, _odd_up_to(17)),
    3: ("polynomial", _f3_polynomial, _odd_up_to(17)),
    4: ("RefractiveIndex.INFO", _f4_rii, (1, 5, 9, 11, 13, 15, 17)),
    5: ("Cauchy", _f5_cauchy, _odd_up_to(11)),
    6: ("gases", _f6_gases, _odd_up_to(11)),
    7: ("Herzberger", _f7_herzberger, tuple(range(1, 7))),
    8: ("retro", _f8_retro, tuple(range(1, 5))),
    9: ("exotic", _f9_exotic, tuple(range(1, 7))),
}


class RefractiveIndexInfoFormula(Material):
    """One of the refractiveindex.info database's dispersion formulas 1-9 (l in um).

    ``coefficients`` are the database's C1, C2, ... in order; missing trailing terms of
    formulas 4, 7, 8, 9 count as zero.
    """

    def __init__(self, formula: int, coefficients: Sequence[float], **kw):
        if formula not in _RII_FORMULAS:
            raise ValueError(f"unknown refractiveindex.info formula {formula!r} (known: 1-9)")
        label, self._function, counts = _RII_FORMULAS[formula]
        self.formula, self.label = formula, label
        self.coefficients = tuple(float(c) for c in coefficients)
        if len(self.coefficients) not in counts:
            raise ValueError(
                f"formula {formula} ({label}) takes {_counts_text(counts)} coefficients, got {len(self.coefficients)}"
            )
        super().__init__(**kw)

    def _real_index(self, lam_nm):
        with np.errstate(invalid="ignore"):  # n^2 < 0 gives nan, refused by Material.index
            return np.asarray(self._function(lam_nm / NM_PER_UM, self.coefficients), dtype=float) + 0 * lam_nm

    def _formula_text(self):
        return f"refractiveindex.info formula {self.formula} ({self.label})"


def _counts_text(counts):
    if len(counts) > 2 and all(b - a == 2 for a, b in zip(counts, counts[1:])):
        return f"an odd number ({counts[0]}-{counts[-1]}) of"
    if all(b - a == 1 for a, b in zip(counts, counts[1:])):
        return f"{counts[0]}-{counts[-1]}"
    return "/".join(str(c) for c in counts)


# --- thermal data of the built-ins -------------------------------------------------
# dn/dT near room temperature and the linear expansion of the glass. Liquids have no
# expansion entry: the bore of a capillary follows the glass.

# Fused silica, dn/dT: Leviton & Frey, "Temperature-dependent absolute refractive index
# measurements of synthetic fused silica", Proc. SPIE 6273, 62732K (2006), arXiv:0805.0091:
# Corning 7980 measured at 0.4-2.6 um and 30-310 K, fitted by
#   n^2 - 1 = sum_i S_i(T) l^2 / (l^2 - L_i(T)^2),  S_i(T) = sum_j S_ij T^j,  L_i(T) = sum_j L_ij T^j
# (l in um, T in K). dn/dT is the exact T-derivative of this fit at 20 C. It gives
# 8.16e-6 /K at 1.55 um, the 293 K value Rego, Sensors 23, 6023 (2023) reports for Corning 7980.
_LEVITON_S = (
    (1.10127, -4.94251e-5, 5.27414e-7, -1.59700e-9, 1.75949e-12),
    (1.78752e-5, 4.76391e-5, -4.49019e-7, 1.44546e-9, -1.57223e-12),
    (7.93552e-1, -1.27815e-3, 1.84595e-5, -9.20275e-8, 1.48829e-10),
)
_LEVITON_L_UM = (
    (-8.90600e-2, 9.08730e-6, -6.53638e-8, 7.77072e-11, 6.84605e-14),
    (2.97562e-1, -8.59578e-4, 6.59069e-6, -1.09482e-8, 7.85145e-13),
    (9.34454, -7.09788e-3, 1.01968e-4, -5.07660e-7, 8.21348e-10),
)
SILICA_DN_DT_TEMPERATURE_K = 293.15
# Fused silica, linear expansion: 5.5e-7 /K is the mean coefficient of fused quartz over
# 20-320 C (CRC Handbook of Chemistry and Physics, as quoted in the Wikipedia article "Fused
# quartz"); near 20 C it is lower, ~0.4e-6 /K (Katz, arXiv:cond-mat/9712327).
SILICA_THERMAL_EXPANSION_PER_K = 5.5e-7
SILICA_THERMAL_SOURCE = (
    "dn/dT: Leviton & Frey, Proc. SPIE 6273, 62732K (2006), Corning 7980, T-derivative of their "
    "Sellmeier fit at 20 C; expansion: 20-320 C mean of fused quartz (CRC Handbook), ~0.4e-6/K near 20 C"
)


def _silica_dn_dT_per_K(lam_nm):
    """dn/dT of fused silica at 20 C (Leviton & Frey's fit, differentiated exactly)."""
    l2 = (np.asarray(lam_nm, dtype=float) / NM_PER_UM) ** 2
    T = SILICA_DN_DT_TEMPERATURE_K
    n2, dn2_dT = 1.0, 0.0
    for s_coefficients, l_coefficients in zip(_LEVITON_S, _LEVITON_L_UM):
        strength, d_strength = _poly.polyval(T, s_coefficients), _poly.polyval(T, _poly.polyder(s_coefficients))
        l_res, d_l_res = _poly.polyval(T, l_coefficients), _poly.polyval(T, _poly.polyder(l_coefficients))
        denominator = l2 - l_res**2
        n2 = n2 + strength * l2 / denominator
        dn2_dT = dn2_dT + d_strength * l2 / denominator + strength * l2 * 2 * l_res * d_l_res / denominator**2
    return dn2_dT / (2 * np.sqrt(n2))


# Water, dn/dT: Daimon & Masumura, Appl. Opt. 46, 3811 (2007) give Sellmeier fits
# (formula of _water, C in um^2) at 19.0, 20.0, 21.5 and 24.0 C; dn/dT is the difference of
# the 24.0 C and 19.0 C fits over 5 K, i.e. dn/dT at 21.5 C, 182-1129 nm (-9.5e-5 /K at 589 nm).
_DAIMON_19C = (
    (5.672526103e-1, 1.736581125e-1, 2.121531502e-2, 1.138493213e-1),
    (5.085550461e-3, 1.814938654e-2, 2.617260739e-2, 1.073888649e1),
)
_DAIMON_24C = (
    (5.666959820e-1, 1.731900098e-1, 2.095951857e-2, 1.125228406e-1),
    (5.084151894e-3, 1.818488474e-2, 2.625439472e-2, 1.073842352e1),
)
WATER_THERMAL_SOURCE = (
    "dn/dT: Daimon & Masumura, Appl. Opt. 46, 3811 (2007), difference of their 24.0 C and 19.0 C "
    "Sellmeier fits (dn/dT at 21.5 C)"
)


def _water_dn_dT_per_K(lam_nm):
    """dn/dT of water at 21.5 C from Daimon & Masumura's 19.0 C and 24.0 C fits."""
    n_19, n_24 = (Sellmeier(B, C, C_squared=True)._real_index(lam_nm) for B, C in (_DAIMON_19C, _DAIMON_24C))
    return (n_24 - n_19) / (24.0 - 19.0)


# Organic liquids, dn/dT: typical literature values near 20-25 C in the visible (sodium D
# line), taken as constant over wavelength. They are not traced to a single primary
# measurement; expect about 5 % uncertainty (and a few % change per 10 K).
TOLUENE_DN_DT_PER_K = -5.5e-4
N_HEXANE_DN_DT_PER_K = -5.4e-4
ETHANOL_DN_DT_PER_K = -4.0e-4


def _typical_liquid_source(dn_dT_per_K: float) -> str:
    return (
        f"dn/dT: typical literature value ({dn_dT_per_K:.1e}/K near 20-25 C, visible), uncertain by "
        "about 5%, not traced to one primary measurement; constant over wavelength"
    )


# --- built-in materials (docs/theory.md section 8) -----------------------------------
# All coefficients and their sources are here; wavelengths l in um in the formulas.


def _fused_silica():
    return Sellmeier(
        B=(0.6961663, 0.4079426, 0.8974794),
        C=(0.0684043, 0.1162414, 9.896161),  # um, NOT squared
        C_squared=False,
        name="fused-silica",
        valid_range_nm=(210, 3710),
        source="Malitson, JOSA 55, 1205 (1965)",
        dn_dT=_silica_dn_dT_per_K,
        dn_dT_range_nm=(400, 2600),
        thermal_expansion=SILICA_THERMAL_EXPANSION_PER_K,
        thermal_source=SILICA_THERMAL_SOURCE,
    )


def _toluene_kozma():
    return Cauchy(
        1.4815, 4.186e-3, 2.96117366e-4, 1.3562e-5,
        name="toluene",
        valid_range_nm=(300, 640),
        source="Kozma et al., JOSA B 22, 1479 (2005)",
        dn_dT=TOLUENE_DN_DT_PER_K,
        thermal_source=_typical_liquid_source(TOLUENE_DN_DT_PER_K),
    )  # fmt: skip


def _toluene_kedenburg():
    return Sellmeier(
        B=(1.17477,),
        C=(0.01825,),  # um^2, squared
        C_squared=True,
        name="toluene-kedenburg",
        valid_range_nm=(500, 1600),
        source="Kedenburg et al., Opt. Mater. Express 2, 1588 (2012)",
        dn_dT=TOLUENE_DN_DT_PER_K,
        thermal_source=_typical_liquid_source(TOLUENE_DN_DT_PER_K),
    )


def _n_hexane():
    return Cauchy(
        1.3654, 3.5317e-3, 1.36906e-5, 2.3154e-6,
        name="n-hexane",
        valid_range_nm=(230, 640),
        source="Kozma et al., JOSA B 22, 1479 (2005)",
        dn_dT=N_HEXANE_DN_DT_PER_K,
        thermal_source=_typical_liquid_source(N_HEXANE_DN_DT_PER_K),
    )  # fmt: skip


def _water():
    return Sellmeier(
        B=(5.684027565e-1, 1.726177391e-1, 2.086189578e-2, 1.130748688e-1),
        C=(5.101829712e-3, 1.821153936e-2, 2.620722293e-2, 1.069792721e1),  # um^2, squared
        C_squared=True,
        name="water",
        valid_range_nm=(182, 1129),
        source="Daimon & Masumura, Appl. Opt. 46, 3811 (2007), 20 C",
        dn_dT=_water_dn_dT_per_K,
        dn_dT_range_nm=(182, 1129),
        thermal_source=WATER_THERMAL_SOURCE,
    )


def _ethanol():
    return Sellmeier(
        B=(0.0165, 0.8268),
        C=(9.08, 0.01039),  # um^2, squared
        C_squared=True,
        name="ethanol",
        valid_range_nm=(185, 2800),
        source="Sani & Dell'Oro, Opt. Mater. 60, 137 (2016)",
        dn_dT=ETHANOL_DN_DT_PER_K,
        thermal_source=_typical_liquid_source(ETHANOL_DN_DT_PER_K),
    )


BUILTIN_MATERIALS: dict[str, Callable[[], Material]] = {
    "fused-silica": _fused_silica,
    "toluene": _toluene_kozma,
    "toluene-kedenburg": _toluene_kedenburg,
    "n-hexane": _n_hexane,
    "water": _water,
    "ethanol": _ethanol,
}
_ALIASES = {"silica": "fused-silica", "sio2": "fused-silica", "hexane": "n-hexane", "toluene-kozma": "toluene"}


def _builtin_key(name: str) -> str:
    key = "-".join(name.strip().lower().replace("_", " ").replace("-", " ").split())
    return _ALIASES.get(key, key)


def get_material(spec) -> Material:
    """A :class:`Material` from a spec.

    ``spec`` is a Material (returned as is), a number (real or complex), or a string: a
    built-in name (case-insensitive: ``"toluene"``, ``"fused-silica"``/``"silica"``, see
    ``BUILTIN_MATERIALS``), a number ``"1.56"`` or ``"1.56+0.0001j"``, or the path of a
    refractiveindex.info YAML file (``.yml``/``.yaml``).
    """
    if isinstance(spec, Material):
        return spec
    if isinstance(spec, (int, float, complex, np.number)) and not isinstance(spec, bool):
        return ConstantIndex(spec)
    if isinstance(spec, os.PathLike):
        return read_refractiveindex_yaml(spec)
    if not isinstance(spec, str):
        raise TypeError(f"material spec must be a name, number, path or Material, got {type(spec).__name__}")
    text = spec.strip()
    key = _builtin_key(text)
    if key in BUILTIN_MATERIALS:
        return BUILTIN_MATERIALS[key]()
    try:
        value = complex(text.replace(" ", "").replace("i", "j"))
    except ValueError:
        value = None
    if value is not None:
        return ConstantIndex(value, name=f"n={text}")
    if os.path.exists(text) or text.lower().endswith((".yml", ".yaml")):
        return read_refractiveindex_yaml(text)
    raise ValueError(
        f"unknown material {spec!r}: not a built-in ({', '.join(BUILTIN_MATERIALS)}), "
        "a number, or a refractiveindex.info .yml file"
    )


def thermal_data(material, wavelength_nm: float | None = None) -> tuple[float | None, float | None]:
    """``(dn/dT in 1/K, linear thermal expansion in 1/K)`` of a material spec (anything
    :func:`get_material` accepts), each None when unknown (a plain number has neither).

    ``wavelength_nm`` is needed when dn/dT depends on wavelength (fused silica, water): without
    it that is a ValueError; a constant dn/dT ignores it.
    """
    m = get_material(material)
    if m.dn_dT_depends_on_wavelength and wavelength_nm is None:
        raise ValueError(f"{m.name}: dn/dT depends on wavelength; give wavelength_nm")
    dn_dT = m.dn_dT_per_K(wavelength_nm if wavelength_nm is not None else DN_DT_REFERENCE_WAVELENGTH_NM)
    return (None if dn_dT is None else float(dn_dT)), m.thermal_expansion_per_K


# --- refractiveindex.info YAML files -------------------------------------------------


def read_refractiveindex_yaml(path, *, name: str | None = None) -> Material:
    """Read a refractiveindex.info database file (``DATA:`` entries, wavelengths in um).

    Supports ``formula 1`` .. ``formula 9`` (``coefficients:``, ``wavelength_range:``)
    and ``tabulated n`` / ``tabulated k`` / ``tabulated nk`` (``data:`` rows), and the
    combinations the database uses (one n source plus at most one k source). Raises
    :class:`MaterialFileError` for missing or malformed files.
    """
    path = os.fspath(path)
    name = name or os.path.splitext(os.path.basename(path))[0]

    def fail(what: str):
        return MaterialFileError(f"{path}: {what}")

    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML is a dependency
        raise ImportError("reading refractiveindex.info files needs PyYAML (pip install pyyaml)") from None
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except OSError as e:
        raise fail(f"cannot read file ({e.strerror or e})") from None
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise fail(f"not valid YAML{line} ({getattr(e, 'problem', None) or type(e).__name__})") from None
    if not isinstance(doc, dict) or "DATA" not in doc:
        raise fail("no DATA section (not a refractiveindex.info material file)")
    entries = doc["DATA"]
    if not isinstance(entries, list) or not entries:
        raise fail("DATA must be a non-empty list of entries")

    n_part: tuple | None = None  # ("formula", number, coefficients, range_nm) or ("table", wl_nm, n)
    k_part = None  # (wl_nm, k)
    for i, entry in enumerate(entries, start=1):
        where = f"DATA entry {i}"
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise fail(f"{where} has no 'type'")
        kind = " ".join(entry["type"].split()).lower()
        if kind.startswith("formula "):
            number = kind.split()[1]
            if not number.isdigit() or int(number) not in _RII_FORMULAS:
                raise fail(f"{where}: unknown type {entry['type']!r} (known: formula 1-9, tabulated n/k/nk)")
            if "coefficients" not in entry:
                raise fail(f"{where} ({kind}) has no coefficients")
            coefficients = _numbers(entry["coefficients"], f"{where} coefficients", fail)
            range_key = "wavelength_range" if "wavelength_range" in entry else "range"
            range_nm = None
            if range_key in entry:
                rng = _numbers(entry[range_key], f"{where} {range_key}", fail)
                if len(rng) != 2 or not (0 < rng[0] <= rng[1]):
                    raise fail(f"{where}: {range_key} must be two increasing positive wavelengths in um")
                range_nm = (rng[0] * NM_PER_UM, rng[1] * NM_PER_UM)
            if n_part is not None:
                raise fail(f"{where}: more than one refractive-index (n) entry")
            n_part = ("formula", int(number), coefficients, range_nm)
        elif kind in ("tabulated n", "tabulated k", "tabulated nk"):
            columns = 3 if kind.endswith("nk") else 2
            if "data" not in entry:
                raise fail(f"{where} ({kind}) has no data")
            rows = _table_rows(entry["data"], columns, f"{where} data", fail)
            wl_nm = rows[:, 0] * NM_PER_UM
            if kind != "tabulated k":
                if n_part is not None:
                    raise fail(f"{where}: more than one refractive-index (n) entry")
                n_part = ("table", wl_nm, rows[:, 1])
            if kind != "tabulated n":
                if k_part is not None:
                    raise fail(f"{where}: more than one extinction-coefficient (k) entry")
                k_part = (wl_nm, rows[:, -1])
        else:
            raise fail(f"{where}: unknown type {entry['type']!r} (known: formula 1-9, tabulated n/k/nk)")
    if n_part is None:
        raise fail("no refractive-index (n) entry: a k table alone does not define a material")

    source = " ".join(re.sub(r"<[^>]*>", "", str(doc.get("REFERENCES", "") or "")).split())
    source = (source or "refractiveindex.info database file") + f" [{os.path.basename(path)}]"
    common = dict(name=name, source=source)
    try:
        if n_part[0] == "formula":
            _, formula_number, coefficients, range_nm = n_part
            return RefractiveIndexInfoFormula(
                formula_number, coefficients, valid_range_nm=range_nm, k_table=k_part, **common
            )
        _, wl_nm, n = n_part
        if k_part is not None and np.array_equal(k_part[0], wl_nm):
            return Tabulated(wl_nm, n, k_part[1], **common)
        return Tabulated(wl_nm, n, k_table=k_part, **common)
    except ValueError as e:
        raise fail(str(e)) from None


def _numbers(value, what: str, fail) -> list[float]:
    """Numbers of a YAML scalar ("0.1 0.2 0.3"), number, or list; all finite."""
    items = value.split() if isinstance(value, str) else value if isinstance(value, list) else [value]
    try:
        numbers = [float(v) for v in items if not isinstance(v, bool)]
    except (TypeError, ValueError):
        raise fail(f"{what} must be numbers, got {_short(value)}") from None
    if not numbers or len(numbers) != len(items) or not all(math.isfinite(v) for v in numbers):
        raise fail(f"{what} must be finite numbers, got {_short(value)}")
    return numbers


def _table_rows(value, columns: int, what: str, fail) -> np.ndarray:
    """Rows of a ``data:`` block (one "wavelength_um value [value]" per line)."""
    lines = value.splitlines() if isinstance(value, str) else value if isinstance(value, list) else None
    if lines is None:
        raise fail(f"{what} must be rows of {columns} numbers, got {_short(value)}")
    rows = []
    for j, line in enumerate(lines, start=1):
        if isinstance(line, str) and not line.strip():
            continue
        row = _numbers(line, f"{what} row {j}", fail)
        if len(row) != columns:
            raise fail(f"{what} row {j}: expected {columns} numbers, got {len(row)}")
        rows.append(row)
    if not rows:
        raise fail(f"{what} is empty")
    table = np.array(rows)
    if np.any(table[:, 0] <= 0):
        raise fail(f"{what}: wavelengths must be positive")
    return table


def _short(value, limit: int = 40, quote: bool = True) -> str:
    text = " ".join((repr(value) if quote else str(value)).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
