"""``find_modes``: the one entry point from a question to a list of :class:`Mode`.

Wavelengths at the interface are in nm, wavenumbers inside in 1/um.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from .errors import SearchError
from .exact.census import CensusResult, Root
from .exact.core_bound import core_k_floor
from .exact.search import family_k_ranges, layer_phase, run_boxes, wgm_size_parameter, window_m_range
from .geometry import Capillary, LayeredCylinder, MaterialStack
from .mode import Mode
from .polarization import normalize_pols
from .units import wavelength_nm_from_k

MAX_AZIMUTHAL_NUMBERS = 20000  # boxes of one census per polarization (memory and time stay bounded)
CLEAREST_MARGIN = 1e-3  # region fractions this close to a label's largest count as its clearest carriers
MAX_CENSUS_ROOTS = 100_000  # resonances one census (one polarization) may count, as estimated: ~5-10 min
MAX_SIZE_PARAMETER = 1e6  # n k R of the fibre (and so m): orders checked to 3e5 (docs/theory.md, section 10)
MIN_WAVELENGTH_NM, MAX_WAVELENGTH_NM = 1.0, 1e6  # vacuum wavelengths, 1 nm to 1 mm
DEFAULT_Q_MIN = 100.0  # window census
LOOKUP_Q_MIN = 2.0  # lookup of a label: the user asked for that mode, leaky or not
ENGINES = ("exact", "fem1d", "fem2d")


def _as_range(value, name: str, lowest: int) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        lo, hi = (value, value) if np.isscalar(value) else tuple(value)
        if int(lo) != lo or int(hi) != hi:
            raise ValueError
    except (TypeError, ValueError, OverflowError):  # not numbers, not a pair, nan, inf
        raise SearchError(f"{name} must be an integer or a pair of integers, got {value!r}") from None
    lo, hi = int(lo), int(hi)
    if lo < lowest:
        raise SearchError(f"{name} must be >= {lowest}, got {lo}")
    if hi < lo:
        raise SearchError(f"{name} range is empty: {lo}:{hi}")
    return lo, hi


def default_region(cylinder: LayeredCylinder | MaterialStack, wavelength_nm: float | None = None) -> str:
    """The region whose modes a user of this fibre wants by default: the layer of highest
    index, which guides the light by total internal reflection (the innermost of equals). In a
    capillary: the liquid (core) when its index is at least the wall's; else the wall (the
    liquid only sees the wall modes' evanescent tail: a ring-resonator sensor).

    A stack of materials is judged at ``wavelength_nm`` (real parts of the indices).
    """
    cyl = _indices_at(cylinder, wavelength_nm)
    real = [complex(n).real for n in cyl.indices]
    return cyl.names[real.index(max(real))]


def region_notice(cylinder: LayeredCylinder | MaterialStack, region: str | None, wavelength_nm: float | None = None) -> str | None:
    """One line saying why no mode can be guided by ``region`` when a layer of higher index
    holds the light (None otherwise): core modes asked for in a water-filled capillary."""
    cyl = _indices_at(cylinder, wavelength_nm)
    if region not in cyl.names:
        return None
    guide = default_region(cyl)
    n_asked = complex(cyl.indices[cyl.layer_of(region)]).real
    n_guide = complex(cyl.indices[cyl.layer_of(guide)]).real
    if n_asked >= n_guide:
        return None
    return (
        f"the {region}'s index ({n_asked:.4g}) is below the {guide}'s ({n_guide:.4g}): no mode is guided by total "
        f"internal reflection in the {region}; the {guide} guides the light (its modes: region {guide}; every mode: "
        "region any)"
    )


def guide_clause(cylinder: LayeredCylinder | MaterialStack, guide: str, wavelength_nm: float | None = None) -> str:
    """'the core's index (1.33) is below the wall's (1.444), so the wall guides the light':
    why the automatic region is ``guide`` rather than the core."""
    cyl = _indices_at(cylinder, wavelength_nm)
    core = cyl.names[0]
    n_core, n_guide = (complex(cyl.indices[cyl.layer_of(name)]).real for name in (core, guide))
    return f"the {core}'s index ({n_core:.4g}) is below the {guide}'s ({n_guide:.4g}), so the {guide} guides the light"


def _indices_at(cylinder, wavelength_nm) -> LayeredCylinder:
    if isinstance(cylinder, MaterialStack):
        return cylinder.at(wavelength_nm if wavelength_nm is not None else 1000.0)
    return cylinder


def resolve_region(cylinder, region, wavelength_nm, m, p) -> str | None:
    """'auto' (and, for a label lookup, no region) -> :func:`default_region`; 'any' -> None."""
    if region is not None and not isinstance(region, str):
        raise SearchError(f"region must be a name, 'auto' or 'any', got {region!r}")
    if region is not None and region.lower() == "any":
        return None
    if region is None and wavelength_nm is not None:
        return None  # a window lists every mode unless asked otherwise
    if region is None or region.lower() == "auto":
        if wavelength_nm is not None:
            lam = 0.5 * sum(float(w) for w in wavelength_nm)
        elif isinstance(cylinder, MaterialStack):
            lam = estimated_wavelength_nm(cylinder, m, p, None)
        else:
            lam = None
        return default_region(cylinder, lam)
    return region


def _k_window(wavelength_nm) -> tuple[float, float]:
    lo, hi = (float(w) for w in wavelength_nm)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo <= 0 or hi <= 0:
        raise SearchError(f"wavelengths must be positive numbers of nm, got {lo}:{hi}")
    if hi <= lo:
        raise SearchError(f"wavelength window is empty: {lo}:{hi} nm (give MIN:MAX with MIN < MAX)")
    if lo < MIN_WAVELENGTH_NM or hi > MAX_WAVELENGTH_NM:
        raise SearchError(f"wavelengths must lie between {MIN_WAVELENGTH_NM:g} and {MAX_WAVELENGTH_NM:g} nm, got {lo:g}:{hi:g}")
    return 2 * math.pi / (hi / 1000), 2 * math.pi / (lo / 1000)


def find_modes(
    cylinder: LayeredCylinder | MaterialStack | None = None,
    *,
    pol: str = "both",
    wavelength_nm: tuple[float, float] | None = None,
    m: int | tuple[int, int] | None = None,
    p: int | tuple[int, int] | None = None,
    region: str | None = None,
    q_min: float | None = None,
    engine: str = "exact",
    fsr: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
    fem1d=None,
    extra_q: float | None = None,
    extra_loss_db_per_cm: float | None = None,
    fem2d=None,
    beta_per_um: float | None = None,
) -> list[Mode]:
    """Resonances of a layered cylinder, labelled, verified and sorted by (pol, wavelength).

    Parameters
    ----------
    cylinder : the geometry (default: the paper's capillary, :func:`wgmfem.Capillary`).
    pol : ``'Ez'``, ``'Hz'`` or ``'both'`` (aliases TM = Ez, TE = Hz).
    wavelength_nm : (min, max) vacuum wavelength window in nm. Without it, ``m`` and
        ``p`` are required and each requested mode is found wherever it lies.
    m : azimuthal number or inclusive range (m1, m2).
    p : radial order or inclusive range (p1, p2), p >= 1.
    region : keep only modes whose energy is mostly in this region (``core``,
        ``wall``, ...); a filter of the complete census. ``'auto'``: the region that guides
        light in this fibre (:func:`default_region`: the core when the liquid's index is at
        least the wall's, else the wall); ``'any'``: no filter. Default: no filter in a
        window, ``'auto'`` for a label lookup (m and p without a window).
    q_min : smallest radiation Q reported (default 100 in a window, 2 for a label lookup).
        The census is complete above ``verification['q_floor']``, which equals q_min unless
        the zeros of H1 forced a shallower search (low m, wide windows).
    engine : ``'exact'`` (Bessel/Hankel), ``'fem1d'`` (1-D radial finite elements) or
        ``'fem2d'`` (2-D cross-section finite elements: a periodic sector when concentric,
        the full section with a bore offset or ellipticity). The FEM engines are seeded and
        labelled by the exact census of the concentric fibre; each mode records its
        difference to the exact root (or, perturbed, its shift and the pair splitting).
    fsr : also compute the free spectral range and group index (solves m +- 1).
    progress : optional callback ``progress(stage, done, total)``.
    fem1d : settings of the 1-D engine, a :class:`wgmfem.fem.engine1d.RadialSettings` or a
        dict of its fields (order, points_per_wavelength, pml_width_wavelengths, tolerance, ...).
    fem2d : settings of the 2-D engine, a :class:`wgmfem.fem.engine2d.CrossSectionSettings`
        or a dict of its fields (order, points_per_wavelength, pml_width_wavelengths,
        bore_offset_um, inner_ellipticity, outer_ellipticity, sector, eigensolver, ...).
        FSR and group index of fem2d modes are the exact ones of the concentric fibre.
    extra_q, extra_loss_db_per_cm : an extra loss (scattering, coupling) added to every mode's
        budget, as a Q or as a propagation loss along the circumference in dB/cm
        (Q_extra = 2 pi n_g / (lambda alpha), n_g the mode's group index).
    beta_per_um : axial wavevector beta (1/um, >= 0) of skew modes, fields ~ exp(i m phi + i beta z):
        each resonance of the cross-section is continued from beta = 0 (exact engine only), keeps
        its labels (quasi-Ez / quasi-Hz), and carries ``axial_curvature`` and the axial group
        velocity. A window then selects the skew wavelengths (the beta = 0 census is widened by
        the largest possible shift). ``0`` gives the beta = 0 modes with their axial data.

    With a window, every resonance in it (passing the filters) is returned, sorted by (pol,
    wavelength). With m and p and no window, every mode carrying the label (m, p, region) is
    returned: usually one; where several share it (``verification['label_shared_with_nm']``;
    :attr:`Mode.mode_id` tells them apart) the one holding the largest share of its energy in
    the region comes first within each (pol, m, p).
    Absorbing or gain layers (complex indices) are censused as such (signed Q: Q_total < 0
    means net gain).

    Every returned :class:`Mode` carries a ``verification`` record; modes found in
    a box whose independent (argument-principle) count disagreed with the number
    of roots found have ``verification['census_ok'] = False``, and any such box (with or
    without modes in the result) raises a :class:`CensusWarning`: the list may be incomplete.
    """
    cyl = cylinder if cylinder is not None else Capillary()
    if beta_per_um is not None:
        return _find_skew(
            cyl, beta_per_um, pol=pol, wavelength_nm=wavelength_nm, m=m, p=p, region=region, q_min=q_min,
            engine=engine, progress=progress, extra_q=extra_q, extra_loss_db_per_cm=extra_loss_db_per_cm,
        )
    if isinstance(cyl, (LayeredCylinder, MaterialStack)):
        try:
            region = resolve_region(cyl, region, wavelength_nm, m, p)
        except (TypeError, ValueError) as exc:
            raise SearchError(str(exc).splitlines()[0]) from None
    if q_min is None:
        q_min = DEFAULT_Q_MIN if wavelength_nm is not None else LOOKUP_Q_MIN
    for value, name in ((extra_q, "extra Q"), (extra_loss_db_per_cm, "extra loss (dB/cm)")):
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise SearchError(f"{name} must be a positive number, got {value!r}")
    settings_1d = _settings_1d(fem1d) if engine == "fem1d" else None  # refuse bad settings before any search
    if isinstance(cyl, MaterialStack):
        if engine not in ENGINES:
            raise SearchError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
        found = _find_in_stack(
            cyl, pol=pol, wavelength_nm=wavelength_nm, m=m, p=p, region=region, q_min=q_min, engine=engine,
            fsr=fsr, progress=progress, fem1d=settings_1d,
            fem2d=_settings_2d(fem2d) if engine == "fem2d" else None,
        )
        return _with_extra_loss(found, extra_q, extra_loss_db_per_cm)
    if engine not in ENGINES:
        raise SearchError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    settings_2d = _settings_2d(fem2d) if engine == "fem2d" else None
    try:
        pols = normalize_pols(pol)
    except ValueError as exc:
        raise SearchError(str(exc)) from None
    if not (isinstance(q_min, (int, float)) and q_min > 0):
        raise SearchError(f"q_min must be a positive number, got {q_min!r}")
    m_range = _as_range(m, "m", 0)
    p_range = _as_range(p, "p", 1)
    region_index = cyl.layer_of(region) if region is not None else None

    modes: list[Mode] = []
    report: Callable[[int, int], None] | None
    for pl in pols:
        report = (lambda done, total, pl=pl: progress(f"{pl} census", done, total)) if progress else None
        if wavelength_nm is not None:
            k_lo, k_hi = _k_window(wavelength_nm)
            roots, checks, how = _window_search(cyl, pl, k_lo, k_hi, m_range, p_range, region_index, q_min, report)
        else:
            if m_range is None or p_range is None:
                raise SearchError("give a wavelength window, or both m and p to find a mode wherever it lies")
            region_index = 0 if region_index is None else region_index
            roots, checks, how = _family_search(cyl, pl, m_range, p_range, region_index, q_min)
        modes.extend(_above_floor(_to_modes(cyl, roots, checks, how), q_min))
        _warn_if_incomplete(checks)
    modes = [md for md in modes if _wanted(md, m_range, p_range, region)]
    _mark_shared_labels(modes)
    if engine == "fem1d":
        from .fem.engine1d import refine_with_radial_fem

        report = (lambda done, total: progress("1-D FEM", done, total)) if progress else None
        modes = refine_with_radial_fem(modes, settings_1d, progress=report)
    if fsr:
        _attach_fsr(modes, lambda missing: _solve_neighbours(cyl, missing))
    if engine == "fem2d":
        modes = _refine_2d(modes, settings_2d, progress)
    if not modes and region is not None:
        _warn_if_unguided(cyl, region, wavelength_nm)
    return _with_extra_loss(_ordered(modes, lookup=wavelength_nm is None), extra_q, extra_loss_db_per_cm)


def _find_skew(cyl, beta_per_um, *, wavelength_nm, engine, extra_q, extra_loss_db_per_cm, **search) -> list[Mode]:
    """Skew modes: the beta = 0 census (window widened by the largest shift), each mode
    continued to beta (:mod:`wgmfem.axial.skew_modes`), then the window applied."""
    from .axial.skew_modes import largest_relative_shift, skew_modes
    from .exact.skew import SkewError

    if engine != "exact":
        raise SearchError(f"skew modes (beta != 0) come from the exact engine only, not {engine!r}")
    if not (isinstance(beta_per_um, (int, float)) and math.isfinite(beta_per_um) and beta_per_um >= 0):
        raise SearchError(f"beta must be a finite number >= 0 in 1/um, got {beta_per_um!r}")
    widened = wavelength_nm
    if wavelength_nm is not None:
        lo, hi = (float(w) for w in wavelength_nm)
        k_lo, _ = _k_window((lo, hi))
        widened = (lo, hi / (1 - min(0.5, largest_relative_shift(beta_per_um, k_lo))))
    census = None
    if widened is not None and isinstance(cyl, LayeredCylinder):
        flat, census = _skew_window_census(cyl, widened, **search)
    else:
        flat = find_modes(cyl, wavelength_nm=widened, engine="exact", fsr=False, **search)
    try:
        modes = skew_modes(flat, float(beta_per_um), cyl if isinstance(cyl, MaterialStack) else None, census)
    except SkewError as exc:
        raise SearchError(str(exc)) from None
    if wavelength_nm is not None:
        lo, hi = (float(w) for w in wavelength_nm)
        modes = [md for md in modes if lo <= md.wavelength_nm <= hi]
    return _with_extra_loss(_ordered(modes, lookup=wavelength_nm is None), extra_q, extra_loss_db_per_cm)


def _skew_window_census(cyl: LayeredCylinder, window_nm, *, pol, m, p, region, q_min, progress):
    """The beta = 0 modes wanted in ``window_nm`` and the whole census they come from: every root
    of both polarizations for the same azimuthal numbers (the region only sets which m a window
    needs, the boxes find every root of those m), which gives each mode's distance to its
    nearest neighbour of the same m without another census. Returns (wanted, (census, k_lo, k_hi))."""
    try:
        region = resolve_region(cyl, region, window_nm, m, p)
        pols = normalize_pols(pol)
    except (TypeError, ValueError) as exc:
        raise SearchError(str(exc).splitlines()[0]) from None
    k_lo, k_hi = _k_window(window_nm)
    m_asked, p_range = _as_range(m, "m", 0), _as_range(p, "p", 1)
    m_range = m_asked
    if m_range is None:
        region_index = cyl.layer_of(region) if region is not None else None
        m_range = window_m_range(cyl, k_lo, k_hi, region_index, p_range[1] if p_range else None)
    every = find_modes(cyl, pol="both", wavelength_nm=window_nm, m=m_range, region="any", p=None, q_min=q_min,
                       fsr=False, progress=progress)
    wanted = [md for md in every if md.pol in pols and _wanted(md, m_asked, p_range, region)]
    return wanted, (every, k_lo, k_hi)


class CensusWarning(UserWarning):
    """The independent count of a search box disagreed with the roots found there: resonances
    may be missing (modes found in such a box carry ``verification['census_ok'] = False``)."""


def _warn_if_incomplete(checks) -> None:
    failed = [c for c in checks if not c.ok]
    if not failed:
        return
    c = failed[0]
    where = f"{c.pol} m={c.m}, {wavelength_nm_from_k(c.k_hi):.4f}-{wavelength_nm_from_k(c.k_lo):.4f} nm"
    what = c.note or f"argument principle: {c.expected} in box, {c.found} found"
    warnings.warn(
        f"the independent count disagreed with the roots found in {len(failed)} search box"
        f"{'es' if len(failed) > 1 else ''} (e.g. {where}: {what}): resonances may be missing there",
        CensusWarning, stacklevel=3,
    )


class RegionWarning(UserWarning):
    """Modes were asked for in a region that cannot guide light in this fibre."""


def _warn_if_unguided(cyl, region, wavelength_nm) -> None:
    lam = 0.5 * sum(float(w) for w in wavelength_nm) if wavelength_nm is not None else None
    notice = region_notice(cyl, region, lam)
    if notice:
        warnings.warn(notice, RegionWarning, stacklevel=3)


def _ordered(modes: list[Mode], lookup: bool) -> list[Mode]:
    """By (pol, wavelength); a lookup puts the clearest carrier of each (pol, m, p) label first:
    the modes within CLEAREST_MARGIN of the largest region fraction of their label (the two
    members of a split pair differ by FEM noise there), then the rest, each by wavelength."""
    if lookup:
        best: dict[tuple, float] = {}
        for md in modes:
            label = (md.pol, md.m, md.p)
            best[label] = max(best.get(label, -math.inf), md.region_fraction)
        return sorted(modes, key=lambda md: (md.pol, md.m, md.p, md.region_fraction < best[(md.pol, md.m, md.p)] - CLEAREST_MARGIN,
                                             md.wavelength_nm))
    return sorted(modes, key=lambda md: (md.pol, md.wavelength_nm))


def _settings_1d(fem1d):
    """Checked 1-D engine settings (a SearchError with one line if they cannot be used)."""
    from .fem.engine1d import as_radial_settings

    try:
        settings = as_radial_settings(fem1d)
        settings.check()
    except (TypeError, ValueError) as exc:
        raise SearchError(str(exc).splitlines()[0]) from None
    return settings


def _settings_2d(fem2d):
    """Checked 2-D engine settings (a SearchError with one line if they cannot be used)."""
    from .fem.engine2d import as_settings

    try:
        settings = as_settings(fem2d)
        settings.check()
    except (TypeError, ValueError) as exc:
        raise SearchError(str(exc)) from None
    return settings


def _refine_2d(modes: list[Mode], settings, progress) -> list[Mode]:
    """The 2-D FEM counterparts of exact modes (FSR copied from the exact seeds)."""
    from .fem.engine2d import refine_with_cross_section_fem
    from .fem.verify import FEMVerificationError

    report = (lambda done, total: progress("2-D FEM", done, total)) if progress else None
    try:
        return refine_with_cross_section_fem(modes, settings, progress=report)
    except FEMVerificationError:
        raise
    except ValueError as exc:  # e.g. the memory guard: one line for the user
        raise SearchError(str(exc).splitlines()[0]) from None


def _with_extra_loss(modes: list[Mode], extra_q, extra_loss_db_per_cm) -> list[Mode]:
    """The modes with the user's extra loss in each one's budget (Q_extra)."""
    out = []
    for md in modes:
        inverse = 0.0
        if extra_q:
            inverse += 1 / extra_q
        if extra_loss_db_per_cm:
            alpha_per_cm = extra_loss_db_per_cm * math.log(10) / 10
            j = min(md.cylinder.layer_of(md.region), md.cylinder.n_layers - 1)
            n_g = md.surface_group_index or complex(md.cylinder.indices[j]).real
            inverse += alpha_per_cm * md.wavelength_nm * 1e-7 / (2 * math.pi * n_g)
        out.append(replace(md, q_extra=1 / inverse) if inverse else md)
    return out


def _find_in_stack(stack, *, pol, wavelength_nm, m, p, region, q_min, engine, fsr, progress, **fem):
    """Dispersive and/or absorbing layers: census on fixed real indices, then each mode followed
    to self-consistency (indices at its own wavelength) and carried to the absorbing stack."""
    from .refine import RefineError, real_part, refine_modes

    if isinstance(stack, LayeredCylinder):
        stack = MaterialStack(stack.radii_um, stack.indices, stack.outside_index, stack.names)
    try:
        if wavelength_nm is not None:
            lo, hi = (float(w) for w in wavelength_nm)
            _k_window((lo, hi))
            base = real_part(stack.at(0.5 * (lo + hi)))
            widened = (lo * 0.99, hi * 1.01)  # dispersion moves modes by ~0.1 %
            seeds = find_modes(base, pol=pol, wavelength_nm=widened, m=m, p=p, region=region, q_min=q_min, fsr=False,
                               progress=progress)
            modes = refine_modes(stack, seeds, (lo, hi))
        else:
            lam = estimated_wavelength_nm(stack, m, p, region)
            first = find_modes(real_part(stack.at(lam)), pol=pol, m=m, p=p, region=region, fsr=False, progress=progress)
            modes = refine_modes(stack, first)
    except RefineError as exc:
        raise SearchError(str(exc)) from None
    m_range, p_range = _as_range(m, "m", 0), _as_range(p, "p", 1)
    if wavelength_nm is not None:
        modes = [md for md in modes if _wanted(md, m_range, p_range, region)]
    else:  # one mode asked for: report it even if following the dispersion changed its labels
        for md in modes:
            md.verification["asked_for"] = f"m={md.m}, p={p_range[0]}, region {region or 'core'} (at fixed indices)"
    if engine == "fem1d":
        from .fem.engine1d import refine_with_radial_fem

        report = (lambda done, total: progress("1-D FEM", done, total)) if progress else None
        modes = refine_with_radial_fem(modes, fem["fem1d"], progress=report)
    if fsr:
        _attach_fsr(modes, lambda missing: _solve_neighbours_in_stack(stack, missing))
    if engine == "fem2d":
        modes = _refine_2d(modes, fem["fem2d"], progress)
    return _ordered(modes, lookup=wavelength_nm is None)


def estimated_wavelength_nm(stack, m, p, region) -> float:
    """Airy estimate of the (m, p) mode's wavelength in the region layer, with that layer's
    index evaluated at the estimate itself (a few fixed-point rounds)."""
    m_range, p_range = _as_range(m, "m", 0), _as_range(p, "p", 1)
    if m_range is None or p_range is None:
        raise SearchError("give a wavelength window, or both m and p to find a mode wherever it lies")
    if region and region not in stack.region_names:
        raise SearchError(f"no region called {region!r}; regions are {', '.join(stack.region_names)}")
    j = min(stack.region_names.index(region) if region else 0, stack.n_layers - 1)
    lam = 550.0
    for _ in range(6):
        n = complex(stack.materials[j].index(lam)).real
        lam = wavelength_nm_from_k(wgm_size_parameter(m_range[0], p_range[0]) / (n * stack.radii_um[j]))
    return lam


def _solve_neighbours_in_stack(stack, missing):
    from .refine import RefineError, follow, real_part

    found = []
    for md, dm in missing:
        for nb in _solve_neighbours(real_part(md.cylinder), [(md, dm)]):
            if nb.region == md.region and nb.p == md.p:
                try:
                    found.append(follow(stack, nb))
                except RefineError:
                    pass
    return found


def _wanted(mode: Mode, m_range, p_range, region) -> bool:
    if m_range and not (m_range[0] <= mode.m <= m_range[1]):
        return False
    if p_range and not (p_range[0] <= mode.p <= p_range[1]):
        return False
    return region is None or mode.region == region


def _window_search(cyl, pol, k_lo, k_hi, m_range, p_range, region_index, q_min, report):
    p_max = p_range[1] if p_range else None
    _check_size_parameter(cyl, k_hi)
    if m_range is None:
        m_range = window_m_range(cyl, k_lo, k_hi, region_index, p_max)
    _check_m_count(m_range)
    m_values = np.arange(m_range[0], m_range[1] + 1)
    box_lo, box_hi = np.full(m_values.shape, k_lo), np.full(m_values.shape, k_hi)
    how = "full census of the window, then filtered"
    if region_index is not None and region_index < cyl.n_layers and p_max is not None and m_values.size:
        # each m's box shrinks to the part of the window that can hold a mode of the region and
        # order (family_k_ranges: the phase bound that sets the m range; for the core, the exact
        # bounds of wgmfem.exact.core_bound)
        span_lo, span_hi = family_k_ranges(cyl, m_values, p_max, region_index, pol)
        box_lo, box_hi = np.maximum(box_lo, span_lo), np.minimum(box_hi, span_hi)
        how = "full census of the part of the window that can hold the region and order, then filtered"
    elif region_index == 0 and m_values.size and cyl.is_lossless:
        box_lo = np.maximum(box_lo, core_k_floor(cyl, pol, m_values))
        how = "full census of the part of the window where the core can hold the most energy, then filtered"
    keep = box_lo < box_hi
    m_values, box_lo, box_hi = m_values[keep], box_lo[keep], box_hi[keep]
    estimate = _estimated_roots(cyl, m_values, box_lo, box_hi)
    _check_census_size(estimate, m_range, "narrow --wavelength or --m, or split the window")
    result = run_boxes(cyl, pol, m_values, box_lo, box_hi, q_min, report)
    return result.roots, result.checks, how


def _check_m_count(m_range, roots_per_m: int = 1) -> None:
    """SearchError, before any box is set up, for more than MAX_AZIMUTHAL_NUMBERS boxes, an m
    beyond MAX_SIZE_PARAMETER (a mode's size parameter n k R exceeds its m) or, with at least
    ``roots_per_m`` resonances in each box, more than MAX_CENSUS_ROOTS in all."""
    count = m_range[1] - m_range[0] + 1
    if count > MAX_AZIMUTHAL_NUMBERS:
        raise SearchError(
            f"the search spans {count} azimuthal numbers (m {m_range[0]}-{m_range[1]}), more than "
            f"{MAX_AZIMUTHAL_NUMBERS}: narrow --wavelength or give --m"
        )
    if m_range[1] > MAX_SIZE_PARAMETER:
        raise SearchError(f"m = {m_range[1]} is beyond the largest order searched, m <= {MAX_SIZE_PARAMETER:g}")
    _check_census_size(count * roots_per_m, m_range, "narrow --m or lower --p")


def _check_size_parameter(cyl, k_hi: float) -> None:
    """SearchError when the fibre's size parameter max n_j k R_j at ``k_hi`` (1/um) exceeds
    MAX_SIZE_PARAMETER: more azimuthal orders than any census is meant to hold."""
    n_r, radius = max((complex(n).real * r, r) for n, r in zip(cyl.indices, cyl.radii_um))
    size = n_r * k_hi
    if size > MAX_SIZE_PARAMETER:
        raise SearchError(
            f"the size parameter n k R = {size:.3g} (R = {radius:g} um at {wavelength_nm_from_k(k_hi):.4g} nm) is beyond "
            f"{MAX_SIZE_PARAMETER:g}: a longer wavelength or a smaller fibre"
        )


def _estimated_roots(cyl, m_values, k_lo, k_hi) -> float:
    """Resonances in the boxes (m, [k_lo, k_hi]), estimated before any is counted: each layer adds
    about (phase(k_hi) - phase(k_lo)) / pi (:func:`layer_phase`, its WKB phase), and each box half a
    resonance for the intervals its ends cut. It errs high: 7 % above the roots found on the
    paper's capillary (425-445 nm, core p <= 2), 14 % on a 50/125 um fibre, more at small size
    parameters, where the box holds leaky roots below q_min. SearchError beyond MAX_SIZE_PARAMETER."""
    k_lo = np.broadcast_to(np.asarray(k_lo, dtype=float), m_values.shape)
    k_hi = np.broadcast_to(np.asarray(k_hi, dtype=float), m_values.shape)
    _check_size_parameter(cyl, float(np.max(k_hi, initial=0.0)))
    phase = sum(np.sum(layer_phase(cyl, j, m_values, k_hi) - layer_phase(cyl, j, m_values, k_lo)) for j in range(cyl.n_layers))
    return 0.5 * m_values.size + float(phase) / math.pi


def _family_spans(cyl, pol, m_values, p_max: int, region_index: int) -> tuple[list[float], list[float]]:
    """The k boxes of :func:`family_k_ranges` for every m, after checking the census size on at
    most 100 of them (evenly spaced, both ends: the count varies smoothly with m)."""
    picks = np.unique(np.linspace(0, m_values.size - 1, min(m_values.size, 100)).round().astype(int))
    sample = m_values[picks]
    lo, hi = family_k_ranges(cyl, sample, p_max, region_index, pol)
    estimate = _estimated_roots(cyl, sample, lo, hi)
    _check_census_size(estimate * m_values.size / sample.size, (m_values[0], m_values[-1]), "narrow --m or lower --p")
    if sample.size < m_values.size:
        lo, hi = family_k_ranges(cyl, m_values, p_max, region_index, pol)
    return list(lo), list(hi)


def _check_census_size(estimate: float, m_range, hint: str) -> None:
    """SearchError when a census would count more than MAX_CENSUS_ROOTS resonances."""
    if estimate > MAX_CENSUS_ROOTS:
        raise SearchError(
            f"the search would count about {estimate:.3g} resonances (m {m_range[0]}-{m_range[1]}), more than "
            f"{MAX_CENSUS_ROOTS} per polarization: {hint}"
        )


def _family_search(cyl, pol, m_range, p_range, region_index, q_min):
    """Every mode carrying one of the labels (m, p, region): a complete census of the k range
    that can hold them (:func:`family_k_ranges`), filtered; a label no mode carries is an error."""
    if region_index >= cyl.n_layers:
        raise SearchError("a mode is looked up by its label in a layer (core, wall, ...), not 'outside'")
    _check_m_count(m_range, roots_per_m=p_range[1])
    m_values = np.arange(m_range[0], m_range[1] + 1)
    k_lo, k_hi = _family_spans(cyl, pol, m_values, p_range[1], region_index)
    result = run_boxes(cyl, pol, m_values, k_lo, k_hi, q_min)
    roots = [r for r in result.roots if r.region_index == region_index and p_range[0] <= r.p <= p_range[1]]
    name = cyl.region_names[region_index]
    for m in m_values:
        for p in range(p_range[0], p_range[1] + 1):
            if not any(r.m == m and r.p == p for r in roots):
                raise SearchError(f"no {pol} mode with m={m}, p={p} in the {name} has Q_rad >= {q_min:g}")
    return roots, result.checks, "full census of every k that can hold the label, then filtered"


def _to_modes(cyl: LayeredCylinder, roots: list[Root], checks, how: str) -> list[Mode]:
    modes = []
    for r in roots:
        assert r.fractions is not None  # the census labels every root
        check = checks[r.box]
        fractions = {name: float(f) for name, f in zip(cyl.region_names, r.fractions)}
        verification = {
            "method": r.method,
            "residual": r.residual,
            "search": how,
            "census_ok": check.ok,
            "census_count": check.note or f"argument principle: {check.expected} in box, {check.found} found",
            "box_nm": [wavelength_nm_from_k(check.k_hi), wavelength_nm_from_k(check.k_lo)],
            "q_floor": check.q_floor,
            "zeros_in_region": r.zeros_in_region,
            "region_fraction": float(r.fractions[r.region_index]),
        }
        q_rad = None
        if not cyl.is_lossless:
            verification["q_floor_total"] = check.q_floor_total
            verification["lossless_partner"] = r.pairing
            if r.lossless_k is not None:
                q_rad = math.inf if r.lossless_k.imag == 0 else r.lossless_k.real / (2 * abs(r.lossless_k.imag))
                verification["lossless_wavelength_nm"] = wavelength_nm_from_k(r.lossless_k.real)
            else:  # no partner: take the absorption out to first order, 1/Q_abs = 2 sum_j Gamma_j kappa_j / n_j
                inverse_abs = 2 * sum(f * complex(n).imag / complex(n).real for f, n in zip(r.fractions, cyl.indices))
                inverse_rad = -2 * r.k.imag / r.k.real - inverse_abs
                q_rad = math.inf if inverse_rad <= 0 else 1 / inverse_rad
                verification["q_rad_method"] = "first-order absorption removed from the resonance's Q (no lossless partner)"
        modes.append(
            Mode(pol=r.pol, m=r.m, p=r.p, region=cyl.region_names[r.region_index], k=r.k, cylinder=cyl,
                 energy_fractions=fractions, engine="exact", verification=verification, q_rad=q_rad,
                 nodes=r.nodes, sibling=r.sibling)
        )
    return modes


def _above_floor(modes: list[Mode], q_min: float) -> list[Mode]:
    """The modes whose radiation Q reaches ``q_min`` (the counted box reaches a little lower)."""
    return [md for md in modes if md.Q_rad >= q_min]


def _mark_shared_labels(modes: list[Mode]) -> None:
    """Record in each mode's verification whether its labels are shared within the result:
    (pol, m, nodes, sibling) identifies a mode; (pol, m, p, region) describes it and may repeat."""
    by_id: dict[tuple, list[Mode]] = {}
    by_label: dict[tuple, list[Mode]] = {}
    for md in modes:
        by_id.setdefault(md.mode_id, []).append(md)
        by_label.setdefault((md.pol, md.m, md.p, md.region), []).append(md)
    for group in by_id.values():
        for md in group:
            md.verification["label_unique"] = len(group) == 1 and md.nodes is not None and md.nodes >= 0 and md.sibling >= 0
    for group in by_label.values():
        if len(group) > 1:
            for md in group:
                md.verification["label_shared_with_nm"] = [o.wavelength_nm for o in group if o is not md]


def _neighbour_box(md: Mode, dm: int) -> tuple[float, float, float]:
    """Expected k of the m + dm family member and a box around it (1/um)."""
    dk = md.k.real / (wgm_size_parameter(md.m, md.p) + 0.5)
    target = md.k.real + dm * dk
    return target, target - 0.35 * dk, target + 0.35 * dk


def _solve_neighbours(cyl: LayeredCylinder, missing: list[tuple[Mode, int]]) -> list[Mode]:
    """Census of the boxes where the missing m +- 1 family members should be (fixed indices)."""
    extra: list[Mode] = []
    for pol in {md.pol for md, _ in missing}:
        todo = [(md, dm) for md, dm in missing if md.pol == pol]
        boxes = [_neighbour_box(md, dm) for md, dm in todo]
        res: CensusResult = run_boxes(cyl, pol, [md.m + dm for md, dm in todo], [b[1] for b in boxes], [b[2] for b in boxes], q_min=2.0)
        extra.extend(_to_modes(cyl, res.roots, res.checks, "neighbour census"))
    return extra


def _attach_fsr(modes: list[Mode], solve_missing) -> None:
    """Fill fsr_nm (in place: ``modes[i]`` replaced by its copy with the FSR) from the m - 1 and
    m + 1 members of each mode's family.

    ``solve_missing(list of (mode, dm))`` returns candidate modes for neighbours that
    are not among ``modes``.
    """
    by_family: dict[tuple, list[Mode]] = {}
    for md in modes:
        by_family.setdefault((md.pol, md.region, md.p), []).append(md)

    def neighbour(md: Mode, dm: int) -> Mode | None:
        target, lo, hi = _neighbour_box(md, dm)
        same = [o for o in by_family.get((md.pol, md.region, md.p), []) if o.m == md.m + dm and lo < o.k.real < hi]
        return min(same, key=lambda o: abs(o.k.real - target)) if same else None

    missing = [(md, dm) for md in modes for dm in (-1, 1) if md.m + dm >= 0 and neighbour(md, dm) is None]
    if missing:
        for md in solve_missing(missing):
            by_family.setdefault((md.pol, md.region, md.p), []).append(md)

    for i, md in enumerate(modes):
        lower, upper = neighbour(md, -1), neighbour(md, 1)
        if lower and upper:
            fsr_nm = (lower.wavelength_nm - upper.wavelength_nm) / 2
        elif lower or upper:
            nearest = lower or upper
            assert nearest is not None
            fsr_nm = abs(nearest.wavelength_nm - md.wavelength_nm)
        else:
            md.verification["fsr"] = "no neighbour of the same (pol, p, region) family found"
            continue
        md.verification["fsr"] = "m-1 and m+1" if (lower and upper) else "one-sided"
        modes[i] = replace(md, fsr_nm=float(fsr_nm))
