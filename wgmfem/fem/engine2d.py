"""The 2-D cross-section FEM as a wgmfem engine: exact seeds in, ``fem2d`` modes out.

For every mode the exact engine found for the *unperturbed* (concentric) fibre, the
2-D FEM solves the cross-section with a shift at the exact k:

* concentric fibre (``sector="auto"``): a periodic sector of angle 2 pi / m, where the
  Floquet phase is 1 and only multiples of m survive (docs/theory.md section 11); seconds a mode.
* perturbed fibre (bore offset, elliptical bore or outer surface) or ``sector="full"``:
  the full cross-section (no symmetry; minutes and GB at m ~ 600, see docs/fem.md).

The eigenvector identified as the same (m, p, region) nearest the exact k becomes the
FEM mode, checked against the exact root by :func:`wgmfem.fem.verify.verify` (labels;
wavelength and, where resolved, Q on a concentric fibre): a mode that fails is a
:class:`~wgmfem.fem.verify.FEMVerificationError` unless unverified output was asked for
(``CrossSectionSettings.unverified``). On a concentric fibre the degenerate +-m pair is
one :class:`Mode` whose verification record gives its distance to the exact root. On a perturbed fibre the two
members of the (split) pair are two modes, each with its own wavelength and Q, the
splitting in pm and the shift from the unperturbed exact root.

For studies of the discretization itself (convergence, validation figures),
:func:`modes_from_result` turns any :class:`CrossSectionResult` into modes with the same
verification record (without the comparison to an exact seed); :mod:`wgmfem.fem.study2d`
runs such a solve.

Units: lengths in um, wavelengths in nm, splittings in pm.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..mode import Mode
from ..units import wavelength_nm_from_k
from .cross_section import CrossSectionResult, cross_section_mesh, solve_cross_section
from .engine1d import MAX_PML_WIDTH_WAVELENGTHS
from .identify import DEFAULT_PAIR_TOLERANCE, ModeLabel, group_pairs, identify
from .verify import FEMVerificationError, check_tolerance, raise_if_unverified, reported_q_difference, resolve, verify

SECTOR_CHOICES = ("auto", "full")
#: Default memory guard: 3 M unknowns (~8 GB for a real P4 problem, measured 6.9 GB at 2.6 M)
DEFAULT_MAX_UNKNOWNS = 3_000_000
#: 2-D default: points per local wavelength for degree-4 elements (sector to ~1e-7, docs/fem.md)
DEFAULT_POINTS_PER_WAVELENGTH_2D = 16.0
# Defaults by domain. A periodic sector of a concentric fibre: P6 at 8 points per wavelength
# reaches the paper's (p = 1, m = 600) mode to ~5e-8 with 6k unknowns, twice as fast as P4 at 16
# (measured, docs/fem.md). The full section keeps P4: its meshes and memory guard were tuned
# with P4, and on small radii the quadratic geometry stalls higher orders at h^4.
SECTOR_DEFAULT_ORDER, FULL_DEFAULT_ORDER = 6, 4
DEFAULT_POINTS_BY_ORDER = {5: 10.0, 6: 8.0}  # others: DEFAULT_POINTS_PER_WAVELENGTH_2D


@dataclass(frozen=True)
class CrossSectionSettings:
    """Settings of the ``fem2d`` engine.

    order : Lagrange degree 1-6 (None: 6 on a periodic sector, 4 on the full section).
    points_per_wavelength : nodal points per local wavelength lambda/n (element edge =
    order * lambda / (n * points_per_wavelength); None: 8 for P6, 10 for P5, else 16).
    pml_width_wavelengths : PML width in outside wavelengths. bore_offset_um : bore centre
    moved along x (um). inner_ellipticity / outer_ellipticity : e = (a - b)/R of the bore /
    the outer surface (semi-axes R (1 +- e/2); e < 0 puts the long axis along y).
    sector : ``auto`` (periodic 2 pi/m sector when concentric, else full) or ``full``.
    eigensolver : ``scipy`` or ``slepc`` (:mod:`wgmfem.fem.eigensolvers`).
    num_modes : eigenpairs computed per solve (default: 6 on a sector, 12 on the full section).
    max_unknowns : refuse larger problems before assembling (memory guard; None = no limit).
    on_stage : optional ``on_stage(label, stage, seconds)`` after each solver stage.
    tolerance : largest relative wavelength difference to the exact root (None: the enclosing
    :func:`~wgmfem.fem.verify.fem_verification` block, else 1e-6). q_tolerance : largest
    relative Q difference where Q is resolved (exact Q <= 1e9; None: 1e-2). unverified : return
    modes that fail the check, flagged, instead of raising (None: the block's, else False).
    """

    order: int | None = None
    points_per_wavelength: float | None = None
    pml_width_wavelengths: float = 2.0
    bore_offset_um: float = 0.0
    inner_ellipticity: float = 0.0
    outer_ellipticity: float = 0.0
    sector: str = "auto"
    eigensolver: str = "scipy"
    num_modes: int | None = None
    max_unknowns: int | None = DEFAULT_MAX_UNKNOWNS
    on_stage: Callable[[str, str, float], None] | None = None
    tolerance: float | None = None
    q_tolerance: float | None = None
    unverified: bool | None = None

    def resolved(self, sector: bool) -> tuple[int, float]:
        """(order, points per wavelength) used on a sector (True) or the full section."""
        order = self.order or (SECTOR_DEFAULT_ORDER if sector else FULL_DEFAULT_ORDER)
        points = self.points_per_wavelength or DEFAULT_POINTS_BY_ORDER.get(order, DEFAULT_POINTS_PER_WAVELENGTH_2D)
        return order, points

    @property
    def perturbed(self) -> bool:
        return bool(self.bore_offset_um or self.inner_ellipticity or self.outer_ellipticity)

    def check(self) -> None:
        """ValueError with a one-line message for settings no solve can use."""
        if isinstance(self.order, bool) or self.order not in (None, 1, 2, 3, 4, 5, 6):
            raise ValueError(f"2-D FEM element order must be 1-6, got {self.order!r}")
        ppw, pml = self.points_per_wavelength, self.pml_width_wavelengths
        if not (ppw is None or (_is_number(ppw) and math.isfinite(ppw) and ppw > 0)):
            raise ValueError(f"2-D FEM points per wavelength must be a positive number, got {ppw!r}")
        if not (_is_number(pml) and math.isfinite(pml) and 0 < pml <= MAX_PML_WIDTH_WAVELENGTHS):
            raise ValueError(f"2-D FEM PML width must be a number of outside wavelengths in "
                             f"(0, {MAX_PML_WIDTH_WAVELENGTHS:g}], got {pml!r}")
        check_tolerance(self.tolerance, "FEM tolerance")
        check_tolerance(self.q_tolerance, "FEM Q tolerance")
        if self.unverified not in (None, True, False):
            raise ValueError(f"unverified must be True, False or None, got {self.unverified!r}")
        if self.sector not in SECTOR_CHOICES:
            raise ValueError(f"sector must be one of {SECTOR_CHOICES}, got {self.sector!r}")
        for name in ("inner_ellipticity", "outer_ellipticity"):
            if not abs(getattr(self, name)) < 1:
                raise ValueError(f"{name} must lie in (-1, 1), got {getattr(self, name)}")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def as_settings(value) -> CrossSectionSettings:
    """A :class:`CrossSectionSettings` from None, a dict of its fields, or itself."""
    if value is None:
        return CrossSectionSettings()
    if isinstance(value, CrossSectionSettings):
        return value
    return replace(CrossSectionSettings(), **dict(value))


def _sector_for(md: Mode, settings: CrossSectionSettings):
    if settings.sector == "auto" and not settings.perturbed and md.m > 0:
        return (1, md.m)
    return None


def _wavelength_nm(k: complex) -> float:
    return wavelength_nm_from_k(k.real)


def solver_options(md: Mode, settings: CrossSectionSettings) -> dict:
    """Keywords of :func:`solve_cross_section` / :func:`cross_section_mesh` for mode ``md``.

    A single-layer cylinder (rod) has no bore: its ellipticity is that of its surface."""
    inner, outer = settings.inner_ellipticity, settings.outer_ellipticity
    if md.cylinder.n_layers == 1 and inner and not outer:
        inner, outer = 0.0, inner
    sector = _sector_for(md, settings)
    order, points = settings.resolved(sector is not None)
    return dict(
        m=md.m, sector=sector, order=order,
        points_per_wavelength=points, pml={"width_wavelengths": settings.pml_width_wavelengths},
        bore_offset_um=settings.bore_offset_um, inner_ellipticity=inner, outer_ellipticity=outer,
    )


def mesh_like(md: Mode, settings: CrossSectionSettings):
    """The cached mesh :func:`solve_like` uses: (MeshInfo, cut radius um, PML or None, sector or None)."""
    kwargs = solver_options(md, settings)
    info, r_cut, pml = cross_section_mesh(md.cylinder, md.k, **kwargs)
    return info, r_cut, pml, kwargs["sector"]


def check_before_meshing(md: Mode, settings: CrossSectionSettings, kwargs: dict) -> None:
    """ValueError (one line) for a perturbed geometry that does not fit in the fibre, or a full
    section or sector that surely exceeds ``max_unknowns`` - before Gmsh spends minutes meshing it.

    The size is a lower bound: degree-k Lagrange triangles of edge h carry ~2 k^2 / (sqrt(3) h^2)
    dofs per um^2 (4 / (sqrt(3) h^2) triangles, k^2 / 2 dofs each), counted only from the guiding layer's caustic outwards to the
    fibre surface (the cut, the band refinement and the outer medium only add to it); a 2 pi/N
    sector holds 1/N of that area.
    """
    cyl = md.cylinder
    if cyl.n_layers >= 2:
        a, b = cyl.radii_um[0], cyl.radii_um[-1]
        reach = abs(kwargs["bore_offset_um"]) + a * (1 + abs(kwargs["inner_ellipticity"]) / 2)
        if reach >= b * (1 - abs(kwargs["outer_ellipticity"]) / 2):
            raise ValueError(f"the bore (radius {a:g} um, offset {kwargs['bore_offset_um']:g} um) reaches the "
                             f"outer surface (radius {b:g} um)")
    if settings.max_unknowns is None:
        return
    k = md.k.real
    r_turn = md.m / (k * complex(cyl.indices[0]).real)
    inner = (0.0,) + tuple(cyl.radii_um[:-1])
    dofs = 0.0
    for r1, r2, n in zip(inner, cyl.radii_um, cyl.indices):
        r1 = max(r1, min(r_turn, r2))
        h = kwargs["order"] * 2 * math.pi / (k * complex(n).real * kwargs["points_per_wavelength"])
        dofs += math.pi * (r2 * r2 - r1 * r1) * 2 * kwargs["order"] ** 2 / (math.sqrt(3) * h * h)
    sector = kwargs["sector"]
    if sector is not None:
        dofs *= sector[0] / sector[1]
    if dofs > settings.max_unknowns:
        domain = f"2 pi/{sector[1]} sector" if sector is not None else "full cross-section"
        raise ValueError(
            f"this {domain} would have more than {dofs:.3g} unknowns (limit {settings.max_unknowns:.3g}): "
            "coarsen the mesh (--mesh-size), or raise --max-unknowns if the memory allows (~3-6 GB per M)"
        )


def solve_like(md: Mode, settings: CrossSectionSettings):
    """Run the 2-D FEM near the exact mode ``md``: (CrossSectionResult, the solver keywords used)."""
    kwargs = solver_options(md, settings)
    check_before_meshing(md, settings, kwargs)
    label = f"{md.pol} m={md.m} p={md.p} {md.region}"
    stage_callback = settings.on_stage
    on_stage = (lambda stage, seconds: stage_callback(label, stage, seconds)) if stage_callback else None
    num_modes = settings.num_modes or (6 if kwargs["sector"] else 12)
    res = solve_cross_section(md.cylinder, md.pol, md.k, eigensolver=settings.eigensolver, num_modes=num_modes,
                              progress=on_stage, max_unknowns=settings.max_unknowns, **kwargs)
    return res, kwargs


def fem_record(res: CrossSectionResult, group: list[ModeLabel], members: list[ModeLabel] | None = None) -> dict:
    """The verification record of a 2-D FEM mode: the discretization, and the eigenvectors it
    is made of. ``group``: the +-m pair (or single) found; ``members``: the eigenvectors this
    mode stands for (default the whole group; one member of a pair split by a perturbation)."""
    members = group if members is None else members
    fractions = {nm: float(np.mean([lb.fractions[nm] for lb in members])) for nm in members[0].fractions}
    angle = res.sector_angle
    periods = None if angle is None else 2 * math.pi / angle
    return {
        "method": f"2-D cross-section FEM (scikit-fem, {res.geometry_label})",
        "residual": res.max_residual([lb.index for lb in group]),
        "unknowns": int(res.num_unknowns),
        "element_order": int(res.order),
        "domain": ("full cross-section" if periods is None
                   else f"sector 2 pi/{round(periods)}" if abs(periods - round(periods)) < 1e-9
                   else f"sector of {angle:.6g} rad"),
        "sector_angle_rad": angle,
        "r_cut_um": float(res.r_cut_um),
        "pml_start_um": None if res.pml is None else float(res.pml.r_start_um),
        "linear_solver": res.linear_solver,
        "timings_s": {k: v for k, v in res.timings_s.items() if isinstance(v, float)},
        "mesh_path": str(res.mesh_info.path),
        "pair_found": len(group) == 2,
        "splitting_pm": 1e3 * abs(_wavelength_nm(group[0].k) - _wavelength_nm(group[-1].k)),
        "purity": float(min(lb.purity for lb in members)),
        "pml_fraction": float(max(lb.pml_fraction for lb in members)),
        "region_fractions": fractions,
        "region_fraction": fractions[members[0].region],
        "eigen_indices": [lb.index for lb in members],
    }


def _seeded_record(md: Mode, res, settings, kwargs, group, members=None) -> dict:
    """:func:`fem_record` plus what the exact seed ``md`` says about it."""
    return dict(
        fem_record(res, group, members),
        method=f"2-D cross-section FEM (scikit-fem, {res.geometry_label}), shift-invert at the exact root",
        seeded_by="exact (unperturbed geometry)",
        points_per_wavelength=kwargs["points_per_wavelength"],
        perturbation={name: kwargs[name] for name in ("bore_offset_um", "inner_ellipticity", "outer_ellipticity")},
        exact_wavelength_nm=md.wavelength_nm,
        exact_Q_rad=md.Q_rad,
        identified=True,
        Q_note="a PML resolves Q up to ~1e9-1e10 in double precision" if md.Q_rad > 1e9 else None,
    )


def _fem_mode(md: Mode, k: complex, label: ModeLabel, record: dict) -> Mode:
    """The fem2d counterpart of the exact mode ``md``: the FEM eigenvalue ``k`` with the labels
    of the eigenvector(s) found (``label``: the first), the seed's loss budget, dispersion
    factor and FSR carried over (:meth:`Mode.counterpart`)."""
    return md.counterpart(engine="fem2d", k=k, m=label.m, p=label.p, region=label.region,
                          energy_fractions=record["region_fractions"], verification=record, fsr_nm=md.fsr_nm)


def counterparts(md: Mode, settings: CrossSectionSettings):
    """The fem2d mode(s) of the exact mode ``md`` and the :class:`CrossSectionResult` they come from.

    Concentric: one mode (k = mean of the degenerate pair) with
    ``relative_difference_to_exact``. Perturbed: the two members of the split pair
    (``pair_member`` 1 = shorter wavelength), each with ``shift_from_unperturbed``
    (relative wavelength change) and ``splitting_pm``. If no eigenvector matches the exact
    mode's (m, p, region), the nearest physical one is returned with ``identified = False``.
    Every mode carries the outcome of :func:`wgmfem.fem.verify.verify` (``verified``,
    ``unverified_reason``, ...; ``census_ok = False`` when it failed, so tables flag it) but
    is returned either way: :func:`refine_with_cross_section_fem` raises for it. No physical
    eigenvector at all is a :class:`~wgmfem.fem.verify.FEMVerificationError`. FSR is the exact
    one of the seed. ``verification['eigen_indices']`` are the columns of ``result.vectors``.
    """
    res, kwargs = solve_like(md, settings)
    labels = [lb for lb in identify(res) if not lb.spurious]
    groups = group_pairs(labels)
    same = [g for g in groups if (g[0].m, g[0].p, g[0].region) == (md.m, md.p, md.region)]
    identified = bool(same)
    pool = same or groups
    if not pool:
        raise FEMVerificationError(f"fem2d result for {md.label()}: the 2-D FEM found no physical mode near the exact "
                                   f"root at {md.wavelength_nm:.5f} nm (every eigenvector lies in the PML)")
    group = min(pool, key=lambda g: abs(np.mean([lb.k for lb in g]) - md.k))
    policy = resolve(settings.tolerance, settings.q_tolerance, settings.unverified)
    if settings.perturbed and len(group) == 2:
        members = sorted(group, key=lambda lb: _wavelength_nm(lb.k))
        out = []
        for j, lb in enumerate(members):
            rec = dict(_seeded_record(md, res, settings, kwargs, group, [lb]), identified=identified,
                       pair_member=j + 1, partner_wavelength_nm=_wavelength_nm(members[1 - j].k),
                       shift_from_unperturbed=_wavelength_nm(lb.k) / md.wavelength_nm - 1,
                       relative_difference_to_exact=None)
            out.append(_fem_mode(md, lb.k, lb, rec))
        for fem in out:
            verify(fem, md, policy, perturbed=True, identified=identified)
        return out, res
    k = complex(np.mean([lb.k for lb in group]))
    rec = dict(_seeded_record(md, res, settings, kwargs, group), identified=identified)
    if settings.perturbed:
        rec.update(shift_from_unperturbed=_wavelength_nm(k) / md.wavelength_nm - 1, relative_difference_to_exact=None)
    else:
        rec.update(relative_difference_to_exact=abs(k.real / md.k.real - 1))
    fem = _fem_mode(md, k, group[0], rec)
    if not settings.perturbed:
        fem.verification["Q_relative_difference_to_exact"] = reported_q_difference(fem, md)
    verify(fem, md, policy, perturbed=settings.perturbed, identified=identified)
    return [fem], res


def refine_with_cross_section_fem(
    exact_modes: list[Mode],
    settings: CrossSectionSettings | dict | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Mode]:
    """FEM counterparts of ``exact_modes`` (engine ``fem2d``), in the same order (see
    :func:`counterparts`: one mode per exact mode when concentric, the two members of the
    split pair when perturbed). A mode that fails its check against the exact root raises
    :class:`~wgmfem.fem.verify.FEMVerificationError` at once, unless the settings (or the
    enclosing :func:`~wgmfem.fem.verify.fem_verification` block) ask for unverified output."""
    settings = as_settings(settings)
    settings.check()
    unverified = resolve(settings.tolerance, settings.q_tolerance, settings.unverified).unverified
    out = []
    for i, md in enumerate(exact_modes):
        modes = counterparts(md, settings)[0]
        if not unverified:
            raise_if_unverified(modes)
        out.extend(modes)
        if progress:
            progress(i + 1, len(exact_modes))
    return out


def modes_from_result(result: CrossSectionResult, labels: list[ModeLabel] | None = None,
                      pair_tolerance: float = DEFAULT_PAIR_TOLERANCE) -> list[Mode]:
    """Every physical mode of a 2-D solve as a :class:`~wgmfem.mode.Mode` (engine ``fem2d``,
    one per +-m pair, nearest ``result.k_target`` first), with :func:`fem_record` as its
    verification. Without an exact seed Q is the FEM eigenvalue's (resonance Q, no loss budget)."""
    labels = identify(result) if labels is None else labels
    modes = []
    for group in group_pairs(labels, pair_tolerance):
        record = dict(fem_record(result, group), seeded_by=None,
                      loss_budget="Q from the FEM eigenvalue alone (no exact seed)")
        head = group[0]
        modes.append(Mode(pol=result.pol, m=head.m, p=head.p, region=head.region, k=complex(np.mean([lb.k for lb in group])),
                          cylinder=result.cylinder, energy_fractions=record["region_fractions"], engine="fem2d",
                          verification=record))
    modes.sort(key=lambda md: abs(md.k - result.k_target))
    return modes

