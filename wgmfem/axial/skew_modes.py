"""Skew modes as :class:`~wgmfem.mode.Mode` objects: the beta = 0 resonances continued to an
axial wavevector beta (:mod:`wgmfem.exact.skew`), with their labels, loss budget, energy
fractions, index derivatives and how each was verified.

Each resonance keeps the labels of the beta = 0 mode it continues (quasi-Ez / quasi-Hz, m,
p). Dispersive materials: the indices follow the skew resonance's own wavelength until it no
longer moves. Absorbing or gain layers: the lossless stack's skew root gives Q_rad.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..exact.skew import (
    SkewError,
    SkewRoot,
    axial_curvature,
    count_roots_in_circle,
    follow_beta,
    skew_secant,
    verify_root,
)
from ..geometry import LayeredCylinder, MaterialStack
from ..mode import Mode
from ..units import wavelength_nm_from_k

DISPERSION_TOL = 1e-14  # relative change of k at which the indices are taken as self-consistent
DISPERSION_ROUNDS = 12
NEIGHBOUR_WINDOW = 2e-3  # relative radius searched first for the nearest other root of the same m
SMALLEST_SPACING = 1e-9  # relative: closer beta = 0 roots are not continued apart


def largest_relative_shift(beta_per_um: float, k_min: float) -> float:
    """An upper bound on the relative blue shift of any resonance at ``beta_per_um``:
    k(beta)^2 <= k(0)^2 + beta^2 (alpha <= 1 for indices >= 1), so dk/k <= beta^2 / (2 k^2)."""
    return beta_per_um**2 / (2 * k_min**2)


def neighbour_spacing(md: Mode) -> float:
    """A lower bound (1/um) on the distance from ``md`` to the nearest other beta = 0 root of
    the same m in either polarization, at most h = ``NEIGHBOUR_WINDOW`` k (see
    :func:`neighbour_spacings`)."""
    return neighbour_spacings([md])[0]


def neighbour_spacings(modes: list[Mode]) -> list[float]:
    """For each mode, a radius r <= h = ``NEIGHBOUR_WINDOW`` k (1/um) within which it is the only
    beta = 0 root of its m in either polarization: the argument principle on the 4x4
    determinant at beta = 0 (whose zeros are the roots of both polarizations) counts the roots
    in circles of radius h, h/2, h/4, ... around the mode until it counts one. The nearest other
    root then lies at r or beyond (the continuation may not move by more than a fraction of it)."""
    spacings = []
    for md in modes:
        radius = NEIGHBOUR_WINDOW * abs(md.k)
        while count_roots_in_circle(md.cylinder, md.m, md.k, radius, 0.0) != 1:
            radius /= 2
            if radius < SMALLEST_SPACING * abs(md.k):
                raise SkewError(f"{md.label()}: another root lies within {radius:.2g} /um at beta = 0; "
                                "its skew continuation cannot be told apart")
        spacings.append(radius)
    return spacings


def spacings_from_census(modes: list[Mode], census: list[Mode], k_lo: float, k_hi: float) -> list[float]:
    """:func:`neighbour_spacings` from a census already made: ``census`` holds every root of
    both polarizations and of the modes' m with Re k in [k_lo, k_hi] above each box's
    ``q_floor``. A root missing from it lies beyond a window edge or below the floor, so the
    distance to the nearest root is known up to those margins; modes closer than h/2 to an edge
    of that completeness get their own census (NaN entries are filled by it)."""
    by_m: dict[int, list[Mode]] = {}
    for md in census:
        by_m.setdefault(md.m, []).append(md)
    spacings, missing = [], []
    for i, md in enumerate(modes):
        half = NEIGHBOUR_WINDOW * md.k.real
        margin = min(md.k.real - k_lo, k_hi - md.k.real,
                     md.k.real / (2 * float(md.verification.get("q_floor", math.inf))) - abs(md.k.imag))
        if margin < half / 2:
            spacings.append(math.nan)
            missing.append(i)
            continue
        others = [abs(o.k - md.k) for o in by_m.get(md.m, []) if not (o.pol == md.pol and abs(o.k - md.k) < 1e-10 * abs(md.k))]
        spacings.append(min(others + [half, margin]))
    if missing:
        for i, spacing in zip(missing, neighbour_spacings([modes[i] for i in missing])):
            spacings[i] = spacing
    return spacings


def skew_modes(modes: list[Mode], beta_per_um: float, stack: MaterialStack | None = None,
               census: tuple[list[Mode], float, float] | None = None) -> list[Mode]:
    """Every beta = 0 mode in ``modes`` (exact engine) continued to ``beta_per_um`` (1/um).

    ``stack``: the materials when the indices depend on the wavelength. ``census``: (every root
    of both polarizations and of the modes' m in a window, k_lo, k_hi), when the caller has it
    (:func:`spacings_from_census`). A mode that cannot be continued raises
    :class:`~wgmfem.exact.skew.SkewError` (the message says which and where).
    """
    if not (isinstance(beta_per_um, (int, float)) and math.isfinite(beta_per_um) and beta_per_um >= 0):
        raise ValueError(f"beta must be a finite number >= 0 (1/um), got {beta_per_um!r}")
    for md in modes:
        if md.engine != "exact" or md.beta_per_um:
            raise ValueError("skew modes continue exact beta = 0 modes")
    spacings = neighbour_spacings(modes) if census is None else spacings_from_census(modes, *census)
    return [skew_mode(md, float(beta_per_um), spacing, stack) for md, spacing in zip(modes, spacings)]


def _alpha_guess(md: Mode) -> float:
    cyl = md.cylinder
    n = complex(cyl.indices[cyl.layer_of(md.region)]).real if md.region in cyl.names else cyl.outside_index
    return 1 / max(n, 1.0) ** 2


def skew_mode(md: Mode, beta_per_um: float, spacing: float, stack: MaterialStack | None = None) -> Mode:
    """One exact beta = 0 mode continued to ``beta_per_um``; ``spacing`` (1/um) as in
    :func:`neighbour_spacing`."""
    alpha0 = axial_curvature(md.cylinder, md.m, md.k)
    root = follow_beta(md.cylinder, md.m, md.k, beta_per_um, alpha0, spacing)
    cyl, rounds = md.cylinder, 0
    if stack is not None and stack.is_dispersive:
        root, cyl, rounds = _self_consistent(stack, md, root, spacing)
    names = cyl.region_names
    fractions = {name: float(f) for name, f in zip(names, root.energy_fractions)}
    lam = wavelength_nm_from_k(root.k.real)
    to_nm = -lam / root.k.real
    slopes = md.verification.get("dn_dlambda_per_nm")
    if slopes and stack is not None:
        slopes = _slopes(stack, lam)
    verification = {
        "method": f"continued from beta = 0 in {root.steps} steps of beta; {root.method}",
        "residual": root.residual,
        "census_ok": root.count == 1,
        "census_count": (
            f"argument principle: {root.count} root(s) of the 4x4 determinant within "
            f"{root.count_radius:.3g} /um of k (a quarter of the distance to the nearest other beta = 0 root)"
        ),
        "continued_from_nm": md.wavelength_nm,
        "continued_from_k": [md.k.real, md.k.imag],
        "axial_field_ez_share": root.ez_share,
        "energy_fraction_sum_residual": root.fraction_sum_residual,
        "dlambda_dn_nm": {name: to_nm * d.real for name, d in zip(cyl.names, root.dk_dn)},
        "axial_curvature": alpha0,
        "axial_group_velocity_c": root.dk_dbeta.real,
    }
    if slopes:
        verification["dn_dlambda_per_nm"] = slopes
        verification["dispersion"] = f"self-consistent: indices at the skew resonance's wavelength ({rounds} rounds)"
    skew = replace(md, k=root.k, cylinder=cyl, energy_fractions=fractions, verification=verification,
                   beta_per_um=beta_per_um, fsr_nm=None, q_rad=None, exact_k=None)
    factor = skew.dispersion_factor
    verification["axial_curvature"] = alpha0 / factor
    verification["axial_group_velocity_c"] = root.dk_dbeta.real / factor
    region = names[int(np.argmax(root.energy_fractions))]
    if region != md.region:
        verification["region_at_beta_0"] = md.region
    q_rad = None
    if not cyl.is_lossless:
        lossless = _lossless_partner(md, cyl, beta_per_um, spacing)
        q_rad = factor * lossless.k.real / (2 * abs(lossless.k.imag)) if lossless.k.imag else math.inf
        verification["Q_rad_from"] = "the skew root of the lossless stack, continued the same way"
    return replace(skew, region=region, q_rad=q_rad)


def _slopes(stack: MaterialStack, lam: float) -> dict[str, float]:
    return {
        name: (complex(mat.index(lam + 0.01)).real - complex(mat.index(lam - 0.01)).real) / 0.02
        for name, mat in zip(stack.names, stack.materials)
    }


def _self_consistent(stack: MaterialStack, md: Mode, root: SkewRoot, spacing: float):
    """The skew root with the indices at its own wavelength (secants from the last root)."""
    k = root.k
    rounds = 0
    for rounds in range(1, DISPERSION_ROUNDS + 1):  # noqa: B007 - the count is returned
        cyl = stack.at(wavelength_nm_from_k(k.real))
        new, converged, _ = skew_secant(cyl, md.m, k, root.beta_per_um)
        if not converged or abs(new - k) > 0.2 * spacing:
            raise SkewError(f"{md.label()}: lost while following the dispersion at beta = {root.beta_per_um:g} /um")
        moved = abs(new - k) / abs(k)
        k = new
        if moved < DISPERSION_TOL:
            break
    cyl = stack.at(wavelength_nm_from_k(k.real))
    return verify_root(cyl, md.m, k, root.beta_per_um, root.steps, spacing), cyl, rounds


def _lossless_partner(md: Mode, cyl: LayeredCylinder, beta_per_um: float, spacing: float) -> SkewRoot:
    """The skew root of the lossless stack that continues ``md``'s lossless partner."""
    lossless = cyl.real_part()
    k0, converged, _ = skew_secant(lossless, md.m, complex(md.k.real), 0.0)
    if not converged:
        raise SkewError(f"{md.label()}: the lossless partner was not found at beta = 0")
    return follow_beta(lossless, md.m, k0, beta_per_um, _alpha_guess(md), spacing)
