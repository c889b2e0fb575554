"""Axial modes of a capillary whose radii vary slowly along z.

For one cross-section family (pol, m, p, region) the local cutoff k_c(z) is the exact beta = 0
resonance of the capillary with the radii (and liquid index) at z; near cutoff a skew mode has
k^2 = k_c^2 + alpha beta^2 (alpha from :func:`wgmfem.exact.skew.axial_curvature`), so slow
variations confine light axially by alpha Psi'' + (k^2 - k_c(z)^2) Psi = 0
(:func:`wgmfem.axial.equation.solve_axial_equation`). Three first-order terms beyond it, the
quartic axial dispersion, the curvature of the interfaces and the change of alpha along z,
are added to each state (:mod:`wgmfem.axial.corrections`).

k_c(z) is found at every distinct profile point by a secant from the neighbouring point's root,
labelled by the census's own labels (:func:`wgmfem.exact.track.track_roots`), with Im k of
high-Q roots from the first-order leak; a point whose root changes labels stops the solve
(the family is not continuous along the profile). Materials whose index follows the wavelength
enter through the reference mode: k_c(z) - k_c(z_ref) at the reference indices is divided by
the dispersion factor F, as is alpha (both first order in the tiny shifts along z).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import CubicSpline

from ..exact.census import first_order_imag
from ..exact.field import radial_field
from ..exact.skew import SkewError, axial_curvature
from ..exact.track import track_roots
from ..geometry import LayeredCylinder, MaterialStack
from ..mode import Mode
from ..units import wavelength_nm_from_k, wavelength_nm_per_k
from .corrections import (
    CURVATURE_BETA,
    JOHNSON_CHECK_MAX,
    alpha_k2_shifts,
    curvature_coefficients,
    curvature_k2_shifts,
    exact_k2_slopes,
    expectation,
    quartic_coefficient,
    quartic_k2_shifts,
    radial_panels,
    wavelength_shift_nm,
)
from .equation import AxialError, AxialSolution, solve_axial_equation
from .profile import AxialProfile
from .skew_modes import neighbour_spacing

HIGH_Q = 1e7  # above this Q the tracked root's Im k comes from the first-order leak
RADIUS_STEP_UM = 1e-3  # finite-difference step of d lambda_c / d r
CUTOFF_STRIDE = 8  # profile points between the exact cutoff roots of the first pass
CUTOFF_DEGREE = 3  # degree of the polynomial in the radii under the interpolated cutoff
CUTOFF_TOLERANCE = 1e-12  # largest |k_c interpolated - exact| / Re k_c at a check point


class FamilyLabelsChange(AxialError):
    """The family meets another mode of the same m along the profile (an anticrossing)."""


class BoreCloses(AxialError):
    """The profile's bore closes (r_in = 0 somewhere): no capillary family runs along all of it."""


@dataclass(frozen=True)
class AxialMode:
    """One axial state q of a cross-section family in a profiled capillary."""

    q: int
    k: complex  # 1/um
    confined: bool
    Q_total: float  # cross-section loss and axial leakage
    Q_axial: float  # axial leakage alone (inf when confined)
    spacing_nm: float  # to the next axial state (NaN for the last)
    error_estimate_nm: float  # mesh and PML change of the wavelength
    adiabatic_shift_nm: float  # the neglected diagonal non-adiabatic term, to first order
    psi: np.ndarray  # axial profile on the profile's z (max |psi| = 1)
    # first-order terms beyond the equation, included in k (NaN: not applied, see the verification record)
    quartic_shift_nm: float = math.nan  # the quartic axial dispersion eta beta^4
    curvature_shift_nm: float = math.nan  # the interfaces' curvature gamma_j r_j''
    alpha_shift_nm: float = math.nan  # the change of alpha along z
    q_verified: bool = True  # the nodes of Re psi (q) equal the state's position in the ordering by Re E

    @property
    def wavelength_nm(self) -> float:
        return wavelength_nm_from_k(self.k.real)


@dataclass
class AxialResult:
    """The axial modes of one family, the cutoff along the profile and how they were found."""

    profile: AxialProfile
    reference: Mode  # the cross-section mode at the reference point (deepest cutoff)
    reference_z_um: float
    cutoff_k: np.ndarray  # complex k_c(z) at the profile's z, 1/um
    alpha: float
    cutoff_slopes_nm_per_um: dict[str, float]  # d lambda_c / d r_in and d r_out at the reference
    modes: list[AxialMode]
    solution: AxialSolution
    verification: dict = field(default_factory=dict)
    quartic_um2: float = math.nan  # eta of k^2 = k_c^2 + alpha beta^2 + eta beta^4 (NaN: not known, not applied)

    @property
    def cutoff_wavelength_nm(self) -> np.ndarray:
        return wavelength_nm_from_k(self.cutoff_k.real)

    def records(self) -> list[dict]:
        """One JSON-ready record per axial mode."""
        ref = self.reference
        return [
            {
                "pol": ref.pol, "m": ref.m, "p": ref.p, "region": ref.region, "q": md.q,
                "wavelength_nm": md.wavelength_nm, "k_real": md.k.real, "k_imag": md.k.imag,
                "Q_total": md.Q_total, "Q_axial": md.Q_axial, "Q_cross_section": ref.Q_total,
                "confined": md.confined, "q_verified": md.q_verified, "axial_spacing_nm": md.spacing_nm,
                "error_estimate_nm": md.error_estimate_nm, "adiabatic_shift_nm": md.adiabatic_shift_nm,
                "quartic_shift_nm": md.quartic_shift_nm, "curvature_shift_nm": md.curvature_shift_nm,
                "alpha_shift_nm": md.alpha_shift_nm,
                "axial_curvature": self.alpha, "axial_quartic_um2": self.quartic_um2,
                "cutoff_min_nm": float(self.cutoff_wavelength_nm.min()),
                "cutoff_max_nm": float(self.cutoff_wavelength_nm.max()),
                "dlambda_c_dr_in_nm_per_um": self.cutoff_slopes_nm_per_um["r_in"],
                "dlambda_c_dr_out_nm_per_um": self.cutoff_slopes_nm_per_um["r_out"],
                "verification": dict(self.verification),
            }
            for md in self.modes
        ]


def cylinder_at(template: LayeredCylinder, r_in_um: float, r_out_um: float, core_index=None) -> LayeredCylinder:
    """The two-layer ``template`` with the radii (and liquid index) of one profile point."""
    if template.n_layers != 2:
        raise AxialError("axial profiles describe a capillary: a core and a wall (two layers)")
    indices = (template.indices[0] if core_index is None else core_index, template.indices[1])
    return LayeredCylinder((float(r_in_um), float(r_out_um)), indices, template.outside_index, template.names)


def cross_section_mode(template, pol, m, p, region) -> Mode:
    from ..solve import find_modes

    modes = find_modes(template, pol=pol, m=m, p=p, region=region, fsr=False)
    if not modes:
        raise AxialError(f"no {pol} mode with m={m}, p={p} in the {region or 'core'}")
    return modes[0]


def _track(cyl: LayeredCylinder, md: Mode, k_seed: float) -> complex | None:
    """The root of ``cyl`` continuing ``md`` from ``k_seed``, None if the labels change."""
    lossless = cyl.real_part()
    tracked = track_roots(lossless, md.pol, [md.m], [k_seed])
    region_index = lossless.region_names.index(md.region)
    if not tracked.matches(md.p, region_index)[0]:
        return None
    k = complex(tracked.k[0])
    if k.imag >= 0 or k.real / (-2 * k.imag) > HIGH_Q:  # a lossless stack cannot grow: Im k >= 0 is rounding
        k = complex(k.real, float(first_order_imag(lossless, md.pol, md.m, np.array([k.real]))[0]))
    if not cyl.is_lossless:  # an absorbing liquid: the lossless root plus first-order absorption
        gamma = np.array([tracked.fractions[j, 0] for j in range(cyl.n_layers)])
        kappa_over_n = np.array([complex(n).imag / complex(n).real for n in cyl.indices])
        k += -1j * k.real * float(np.sum(gamma * kappa_over_n))
    return k


def _continued_root(template: LayeredCylinder, md: Mode, dk_dr: dict[str, float], spacing: float,
                    previous: tuple, k_prev: complex, target: tuple, z_um: float) -> complex:
    """The root at geometry ``target`` (r_in, r_out, n_core) continued from ``k_prev`` at ``previous``.

    The step is seeded by the first-order change from ``dk_dr`` and split into sub-steps so that
    none moves the root by more than a fifth of ``spacing``."""
    shift = dk_dr["r_in"] * (target[0] - previous[0]) + dk_dr["r_out"] * (target[1] - previous[1])
    sub = max(1, math.ceil(abs(shift) / (0.2 * spacing)))
    k = k_prev
    for j in range(1, sub + 1):
        f = j / sub
        a, b = (previous[0] + f * (target[0] - previous[0]), previous[1] + f * (target[1] - previous[1]))
        n_core = previous[2] + f * (target[2] - previous[2])
        found = _track(cylinder_at(template, a, b, n_core), md, k.real + shift / sub)
        if found is None:
            raise FamilyLabelsChange(
                f"the {md.label()} family changes its labels at z = {z_um:g} um "
                f"(r_in {a:g}, r_out {b:g} um), an anticrossing with another mode of m = {md.m}: "
                "the one-family axial equation does not hold across it (a smaller radius change, or another m or p)"
            )
        k = found
    return k


def _geometry_design(geometry: np.ndarray, degree: int) -> np.ndarray:
    """Monomials up to ``degree`` of the geometry columns that vary (scaled to [-1, 1])."""
    varying = [g / np.max(np.abs(g)) for g in (geometry - geometry[0]).T if np.max(np.abs(g)) > 0]
    columns = [np.ones(len(geometry))]
    for d in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(len(varying)), d):
            columns.append(np.prod([varying[c] for c in combo], axis=0))
    return np.array(columns).T


def _interpolated_cutoff(z: np.ndarray, design: np.ndarray, nodes: list[int], k_nodes: np.ndarray) -> np.ndarray:
    """k_c at every profile point from the exact roots at ``nodes``: a least-squares polynomial in
    the radii (and liquid index) plus a cubic spline in z of what it leaves (zero at the nodes)."""
    coef = np.linalg.lstsq(design[nodes], k_nodes, rcond=1e-12)[0]
    model = design @ coef
    remainder = k_nodes - model[nodes]
    if len(nodes) == 1:
        return model + remainder[0]
    return model + CubicSpline(z[nodes], remainder)(z)


def cutoff_along(profile: AxialProfile, template: LayeredCylinder, md: Mode, slopes: dict[str, float],
                 spacing: float, *, stride: int = CUTOFF_STRIDE, report: dict | None = None) -> np.ndarray:
    """k_c(z) at every profile point (1/um, complex), continued from ``md``.

    Exact roots are solved at every ``stride``-th point, continued outwards from the reference
    (each step seeded by the first-order change from ``slopes``, d lambda_c / d r in nm/um, and
    split into sub-steps that move the root by at most a fifth of ``spacing``, the distance in
    1/um to the nearest other root of the same m). Between them k_c is a least-squares
    polynomial of degree CUTOFF_DEGREE in the radii (and liquid index) plus a cubic spline in z
    of the remainder. That interpolation is checked by an exact root at the middle point of
    every gap between exact points: a check off by more than CUTOFF_TOLERANCE Re k_c becomes an
    exact point (the gap is halved) and all checks are redone, until every one passes. Points
    with an exact root (nodes and checks) keep it; ``stride = 1`` solves every point.
    Repeated geometries (uniform stretches) are solved once. ``report`` (a dict) receives the
    counts and the largest check error."""
    n = profile.num_points
    dk_dr = {name: slope / wavelength_nm_per_k(md.root_k.real) for name, slope in slopes.items()}
    start = int(np.argmin(np.abs(profile.r_out_um - md.cylinder.radii_um[1]) + np.abs(profile.r_in_um - md.cylinder.radii_um[0])))
    n0 = md.cylinder.indices[0]
    geometry = [(float(profile.r_in_um[i]), float(profile.r_out_um[i]),
                 n0 if profile.core_index is None else complex(profile.core_index[i])) for i in range(n)]
    cache: dict[tuple, complex] = {}
    exact: dict[int, complex] = {}

    def solve(i: int, j: int | None) -> None:
        """The exact root at point i, continued from point j (None: from ``md``)."""
        if geometry[i] not in cache:
            previous, k_prev = ((md.cylinder.radii_um[0], md.cylinder.radii_um[1], n0), md.root_k) if j is None else (geometry[j], exact[j])
            cache[geometry[i]] = _continued_root(template, md, dk_dr, spacing, previous, k_prev, geometry[i], float(profile.z_um[i]))
        exact[i] = cache[geometry[i]]

    stride = max(1, int(stride))
    solve(start, None)
    nodes = {start}
    for direction, end in ((1, n - 1), (-1, 0)):
        chain = [*range(start + direction * stride, end, direction * stride), end] if start != end else []
        previous = start
        for i in chain:
            if i in nodes:
                continue
            solve(i, previous)
            nodes.add(i)
            previous = i
    z = profile.z_um
    design = _geometry_design(np.array([[g[0], g[1], complex(g[2]).real, complex(g[2]).imag] for g in geometry]), CUTOFF_DEGREE)
    worst = 0.0
    while True:
        order = sorted(nodes)
        for a, b in zip(order[:-1], order[1:]):
            if b - a >= 2 and (a + b) // 2 not in exact:
                solve((a + b) // 2, a if (a + b) // 2 - a <= b - (a + b) // 2 else b)
        values = _interpolated_cutoff(z, design, order, np.array([exact[i] for i in order]))
        checks = [i for i in exact if i not in nodes]
        errors = {i: abs(values[i] - exact[i]) / exact[i].real for i in checks}
        bad = [i for i, e in errors.items() if e > CUTOFF_TOLERANCE]
        if not bad:
            worst = max(errors.values(), default=0.0)
            break
        nodes.update(bad)
    out = values.copy()
    for i, k in exact.items():
        out[i] = k
    if report is not None:
        report.update(
            roots_solved=len(cache), exact_points=len(exact), interpolation_nodes=len(nodes), check_points=len(exact) - len(nodes),
            max_check_error_relative=worst,
            max_check_error_nm=max((abs(wavelength_nm_from_k(values[i].real) - wavelength_nm_from_k(exact[i].real)) for i in checks), default=0.0),
        )
    return out


def _moved_roots(template: LayeredCylinder, md: Mode, r_in: float, r_out: float):
    """(radius name, fibre, root or None) for r_in and r_out moved by +-RADIUS_STEP_UM (+ first)."""
    for name in ("r_in", "r_out"):
        for sign in (1, -1):
            a = r_in + sign * RADIUS_STEP_UM if name == "r_in" else r_in
            b = r_out + sign * RADIUS_STEP_UM if name == "r_out" else r_out
            moved = cylinder_at(template, a, b)
            yield name, moved, _track(moved, md, md.root_k.real)


def cutoff_slopes(template: LayeredCylinder, md: Mode, r_in: float, r_out: float) -> dict[str, float]:
    """d lambda_c / d r_in and d lambda_c / d r_out (nm per um) by central differences of exact roots."""
    lam: dict[str, list[float]] = {"r_in": [], "r_out": []}
    for name, _, k in _moved_roots(template, md, r_in, r_out):
        if k is None:
            raise AxialError(f"the {md.label()} family is not continuous in {name} at the reference")
        lam[name].append(wavelength_nm_from_k(k.real))
    return {name: (values[0] - values[1]) / (2 * RADIUS_STEP_UM) for name, values in lam.items()}


def alpha_slopes(template: LayeredCylinder, md: Mode, r_in: float, r_out: float) -> tuple[float, float] | None:
    """d alpha / d r_in and d alpha / d r_out (1/um) by central differences of the exact axial
    curvature at the tracked roots RADIUS_STEP_UM away; None where the family is not continuous."""
    alphas: dict[str, list[float]] = {"r_in": [], "r_out": []}
    for name, moved, k in _moved_roots(template, md, r_in, r_out):
        if k is None:
            return None
        alphas[name].append(axial_curvature(moved, md.m, complex(k.real)))
    d_in, d_out = ((v[0] - v[1]) / (2 * RADIUS_STEP_UM) for v in (alphas["r_in"], alphas["r_out"]))
    return d_in, d_out


def reference_mode(cylinder: LayeredCylinder | MaterialStack, r_in: float, r_out: float, pol: str, m: int, p: int,
                   region: str | None, core_index=None) -> tuple[Mode, Mode, dict[str, float]]:
    """The exact cross-section mode of (pol, m, p, region) at the radii (r_in, r_out) (um), the same
    mode at the fixed indices of its own wavelength (itself without dispersion), and d lambda_c /
    d r_in, d r_out there (nm/um, at those fixed indices)."""
    if isinstance(cylinder, MaterialStack):
        if cylinder.n_layers != 2:
            raise AxialError("axial profiles describe a capillary: a core and a wall (two layers)")
        stack = MaterialStack((r_in, r_out), cylinder.materials, cylinder.outside, cylinder.names)
        reference = cross_section_mode(stack, pol, m, p, region)
    else:
        reference = cross_section_mode(cylinder_at(cylinder, r_in, r_out, core_index), pol, m, p, region)
    fixed_mode = (reference if reference.dispersion_factor == 1.0
                  else cross_section_mode(reference.cylinder, pol, m, p, region))
    return reference, fixed_mode, cutoff_slopes(reference.cylinder, fixed_mode, r_in, r_out)


def find_axial_modes(
    profile: AxialProfile,
    cylinder: LayeredCylinder | MaterialStack,
    *,
    pol: str = "Ez",
    m: int,
    p: int = 1,
    region: str | None = None,
    count: int = 5,
    **solver_options,
) -> AxialResult:
    """The ``count`` lowest axial modes of the (pol, m, p, region) family along ``profile``.

    ``cylinder``: the capillary's materials (a two-layer :class:`LayeredCylinder` or
    :class:`MaterialStack`; its radii are replaced by the profile's). The reference point is
    where the outer radius is largest (the bottom of a bulge's well). ``solver_options`` go to
    :func:`~wgmfem.axial.equation.solve_axial_equation`.
    """
    closed = profile.r_in_um <= 0
    if np.any(closed):
        widest = profile.z_um[np.argmax(profile.r_out_um)]
        where = profile.z_um[closed][np.argmin(np.abs(profile.z_um[closed] - widest))]
        raise BoreCloses(f"the bore closes at z = {where:g} um (r_in = 0): the adiabatic "
                         "equation follows one capillary family along an open bore; the axisymmetric FEM "
                         "(--engine axisym) solves sealed ends")
    ref_index = int(np.argmax(profile.r_out_um + 1e-9 * profile.r_in_um))
    n_core = None if profile.core_index is None else complex(profile.core_index[ref_index])
    r_in, r_out = float(profile.r_in_um[ref_index]), float(profile.r_out_um[ref_index])
    if isinstance(cylinder, MaterialStack) and profile.core_index is not None:
        raise AxialError("a liquid index along z needs fixed indices (numbers), not materials")
    reference, fixed_mode, slopes = reference_mode(cylinder, r_in, r_out, pol, m, p, region, n_core)
    # along z: the indices of the reference resonance (dispersion enters through the factor F)
    fixed = reference.cylinder
    factor = reference.dispersion_factor
    cutoff_report: dict = {}
    k_fixed = cutoff_along(profile, fixed, fixed_mode, slopes, neighbour_spacing(fixed_mode), report=cutoff_report)
    k_c = reference.k + (k_fixed - k_fixed[ref_index]) / factor
    alpha = reference.axial_curvature
    assert alpha is not None  # an exact beta = 0 mode
    try:
        solution = solve_axial_equation(profile.z_um, k_c, alpha, count=count, **solver_options)
    except AxialError as exc:
        if not str(exc).startswith("no axially confined state"):
            raise
        lam_c = wavelength_nm_from_k(k_c.real)
        raise AxialError(
            f"no axial mode of {reference.label()} is confined: its cutoff wavelength runs from {lam_c.min():.5f} to "
            f"{lam_c.max():.5f} nm along the profile and {lam_c[0]:.5f} / {lam_c[-1]:.5f} nm at the ends, with no "
            "maximum inside that holds a state (light of this family runs out along the axis)"
        ) from None
    metric = shape_metric(fixed, fixed_mode, r_in, r_out)
    shifts = adiabatic_shifts_nm(profile, solution, metric)
    eta, quartic_note = quartic_coefficient(fixed, fixed_mode, factor)
    gammas, curvature_note, johnson = _curvature(fixed, fixed_mode, slopes, factor)
    d_alpha_dr = alpha_slopes(fixed, fixed_mode, r_in, r_out)
    not_applied = np.full(solution.count, math.nan)
    d_quartic = quartic_k2_shifts(solution, k_c, eta) if math.isfinite(eta) else not_applied
    d_curvature = curvature_k2_shifts(profile, solution, gammas) if gammas is not None else not_applied
    d_alpha = (alpha_k2_shifts(profile, solution, k_c, float(profile.z_um[ref_index]),
                               (d_alpha_dr[0] / factor, d_alpha_dr[1] / factor))
               if d_alpha_dr is not None else not_applied)
    quartic_nm, curvature_nm, alpha_nm = (wavelength_shift_nm(solution, d) for d in (d_quartic, d_curvature, d_alpha))
    k_states = np.sqrt(solution.k**2 + np.nan_to_num(d_quartic) + np.nan_to_num(d_curvature) + np.nan_to_num(d_alpha))
    wavelengths = wavelength_nm_from_k(k_states.real)
    spacings = np.append(wavelengths[:-1] - wavelengths[1:], math.nan)
    modes = [
        AxialMode(
            q=int(solution.q[i]), k=complex(k_states[i]), confined=bool(solution.confined[i]),
            Q_total=_total_q(solution, k_c, i), Q_axial=_axial_q(solution, i),
            spacing_nm=float(spacings[i]), error_estimate_nm=float(solution.wavelength_error_nm[i]),
            adiabatic_shift_nm=float(shifts[i]),
            psi=solution.psi[i], quartic_shift_nm=float(quartic_nm[i]), curvature_shift_nm=float(curvature_nm[i]),
            alpha_shift_nm=float(alpha_nm[i]), q_verified=bool(solution.nodes_match_order[i]),
        )
        for i in range(solution.count)
    ]
    verification = {
        "cutoff": (f"exact beta = 0 roots tracked with the census's labels at every {CUTOFF_STRIDE}th point and "
                   "refined until the interpolation between them (polynomial in the radii plus a spline in z) is within "
                   f"{CUTOFF_TOLERANCE:g} Re k_c of an exact root at the middle of every gap"),
        "cutoff_points_solved": cutoff_report["roots_solved"],
        "cutoff_check_points": cutoff_report["check_points"],
        "cutoff_check_error_relative": float(cutoff_report["max_check_error_relative"]),
        "cutoff_check_error_nm": float(cutoff_report["max_check_error_nm"]),
        "cutoff_check_error_over_spacing": _over_spacing(cutoff_report["max_check_error_nm"], solution),
        "dispersion_factor": factor,
        "max_radius_slope": radius_slope(profile),
        "shape_metric_per_um2": metric.tolist(),
        "axial_quartic": quartic_note,
        "interface_curvature": curvature_note,
        "curvature_coefficients_per_um": None if gammas is None else gammas.tolist(),
        "curvature_johnson_check": johnson,
        "alpha_slopes_per_um": (None if d_alpha_dr is None
                                else [d_alpha_dr[0] / factor, d_alpha_dr[1] / factor]),
        "alpha_along_z": ("(1/2){p^2, d alpha} applied to first order (d alpha / d r by central differences of exact "
                          f"axial curvatures {RADIUS_STEP_UM:g} um apart)" if d_alpha_dr is not None
                          else "not applied: the family is not continuous in the radii at the reference"),
        "shortest_axial_wavelength_um": shortest_axial_wavelength_um(k_c, solution),
        "axial_unknowns": solution.num_unknowns,
    }
    return AxialResult(profile, reference, float(profile.z_um[ref_index]), k_c, alpha,
                       slopes, modes, solution, verification, eta)



def _over_spacing(error_nm: float, solution: AxialSolution) -> float:
    """``error_nm`` over the smallest axial level spacing (NaN with a single state)."""
    spacing = np.abs(solution.spacing_to_next_nm[:-1])
    return float(error_nm / spacing.min()) if len(spacing) else math.nan


def _axial_q(solution: AxialSolution, i: int) -> float:
    """The lossless solve's axial leakage as a Q; inf where it resolves none (or a growth, which
    a lossless potential cannot give: PML noise)."""
    q = float(solution.Q_axial[i])
    return q if math.isfinite(q) and complex(solution.E_axial[i]).imag < 0 else math.inf


def _total_q(solution: AxialSolution, k_c: np.ndarray, i: int) -> float:
    """Q_total of state ``i`` (signed: < 0 for net gain): the cross-section loss, known exactly from
    Im k_c(z), to first order <Im k_c^2>_psi (exact to O(1/Q^2)), plus the axial leakage of the
    lossless solve where that resolves one (a decaying Im E_axial above its error estimate).
    The complex solve's own Im E is not used: near the top of a shallow well its PML noise
    (~1e-11 1/um^2) exceeds a high-Q cross-section's Im k_c^2."""
    weight = np.abs(solution.psi[i]) ** 2
    im_cross = float(np.trapezoid(weight * (k_c * k_c).imag, solution.z_um) / np.trapezoid(weight, solution.z_um))
    axial = complex(solution.E_axial[i])
    im_axial = axial.imag if math.isfinite(float(solution.Q_axial[i])) and axial.imag < 0 else 0.0
    im_e = im_cross + im_axial
    return math.inf if im_e == 0 else float(-solution.k[i].real ** 2 / im_e)


def _curvature(fixed: LayeredCylinder, fixed_mode: Mode, slopes: dict[str, float],
               factor: float) -> tuple[np.ndarray | None, str, float]:
    """The interface-curvature coefficients (1/um, divided by F), how they were found or why they are
    not applied, and their Johnson check (NaN when not computed)."""
    try:
        gammas, check = curvature_coefficients(fixed, fixed_mode, exact_k2_slopes(fixed_mode.root_k.real, slopes))
    except SkewError as exc:
        return None, f"not applied: {exc}", math.nan
    if not check <= JOHNSON_CHECK_MAX:
        return None, (f"not applied: the check failed, the boundary-perturbation slopes are {check:.1e} off the "
                      "exact ones (likely a leaky mode whose outside field makes the normalization ambiguous)"), check
    return gammas / factor, ("gamma_j r_j'' applied to first order (gamma_j from the odd field components of the "
                             f"skew mode at beta / k = {CURVATURE_BETA:g}, boundary perturbation)"), check


def radius_slope(profile: AxialProfile) -> float:
    """The largest |dr/dz| of either radius along the profile (dimensionless): the adiabatic
    axial equation assumes the cross-section follows the radii, i.e. slopes well below ~1e-2."""
    return float(max(np.max(np.abs(np.gradient(r, profile.z_um))) for r in (profile.r_in_um, profile.r_out_um)))


def shortest_axial_wavelength_um(k_c: np.ndarray, solution: AxialSolution) -> float:
    """2 pi / beta_max of the highest state found, beta_max^2 = (E - min W) / alpha (um)."""
    if solution.count == 0:
        return math.nan
    w_min = float(((k_c * k_c).real - solution.k_ref**2).min())
    beta_max = math.sqrt(max(float(solution.E[-1].real) - w_min, 1e-300) / solution.alpha)
    return 2 * math.pi / beta_max


def _normalized_profile(cyl: LayeredCylinder, md: Mode, r_in: float, r_out: float, r, w) -> np.ndarray | None:
    """The family's radial profile X (Ez or Hz, at Re k of the resonance) of the fibre with radii
    (r_in, r_out) at the nodes ``r``, normalized to int X^2 r dr = 1 (weights ``w``), positive peak."""
    moved = cylinder_at(cyl, r_in, r_out)
    k = _track(moved, md, md.root_k.real)
    if k is None:
        return None
    x = radial_field(moved, md.pol, md.m, complex(k.real), r).real
    x = x / np.sqrt(np.sum(w * x * x * r))
    return x if x[np.argmax(np.abs(x))] > 0 else -x


def shape_metric(cyl: LayeredCylinder, md: Mode, r_in: float, r_out: float) -> np.ndarray:
    """G_ab = int (dX/da)(dX/db) r dr for a, b in (r_in, r_out), 1/um^2: how fast the normalized
    cross-section profile X changes with each radius (central differences of exact modes; from
    where the field has decayed inside the innermost caustic to the outer medium's turning
    point plus one wavelength)."""
    end = md.m / (md.k.real * cyl.outside_index) + 2 * math.pi / md.k.real
    # inside the innermost caustic r_t = m / (n_max k) the field decays like J_m(m (1 - d)),
    # ~exp(-m (2 d)^1.5 / 3): from d = (54 / m)^(2/3) / 2 on, below e^-18 of its peak
    caustic = md.m / (md.k.real * max(complex(n).real for n in cyl.indices))
    start = caustic * max(0.0, 1 - 0.5 * (54 / max(md.m, 1)) ** (2 / 3))
    r, w = radial_panels(cyl, start, max(end, r_out * 1.05), panel_um=0.1)
    derivatives = []
    for name in ("r_in", "r_out"):
        step = (RADIUS_STEP_UM * (name == "r_in"), RADIUS_STEP_UM * (name == "r_out"))
        plus = _normalized_profile(cyl, md, r_in + step[0], r_out + step[1], r, w)
        minus = _normalized_profile(cyl, md, r_in - step[0], r_out - step[1], r, w)
        if plus is None or minus is None:
            return np.full((2, 2), math.nan)
        derivatives.append((plus - minus) / (2 * RADIUS_STEP_UM))
    return np.array([[np.sum(w * a * b * r) for b in derivatives] for a in derivatives])


def adiabatic_shifts_nm(profile: AxialProfile, solution: AxialSolution, metric: np.ndarray) -> np.ndarray:
    """First-order shift of each state's wavelength by the term the adiabatic equation drops.

    With U = Psi(z) X(r; z) the axial equation gains the potential alpha <dX/dz|dX/dz> =
    alpha r'^T G r' (G: :func:`shape_metric` at the reference, r' = (dr_in/dz, dr_out/dz)): the
    diagonal (Born-Oppenheimer) correction. Its expectation value in each state, as a
    wavelength shift (nm, negative: to shorter wavelengths), estimates the error of the
    adiabatic approximation."""
    slopes = np.array([np.gradient(profile.r_in_um, profile.z_um), np.gradient(profile.r_out_um, profile.z_um)])
    potential = solution.alpha * np.einsum("az,ab,bz->z", slopes, metric, slopes)
    return wavelength_shift_nm(solution, np.array([expectation(solution, i, potential) for i in range(solution.count)]))
