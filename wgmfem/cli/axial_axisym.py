"""``wgmfem axial --engine axisym``: modes of a body of revolution by the axisymmetric vector FEM.

``--shape sphere:...``: each mode beside the exact resonance of its label. ``--profile``: the
axial states of a profiled capillary, each beside the adiabatic state of its label."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import __version__
from ..axisym.defaults import AXIAL_END_SHARE_MAX
from ..report import finite_or_none, to_json
from .common import InputError, command_progress, emit, figure_suffix_ok, progress_step, staged_outputs, write_text

if TYPE_CHECKING:  # the FEM itself is imported where it runs: building the parser needs none of it
    from ..axisym.profile import ProfileStudy
    from ..axisym.sphere import SphereStudy

#: default and accepted range of --fem-points (below 6 a degree-3 element spans half a wavelength)
DEFAULT_FEM_POINTS = 12.0
FEM_POINTS_RANGE = (6.0, 30.0)
#: how a profile mode's Q that the FEM does not resolve is shown (no bound: docs/theory.md section 17)
PROFILE_Q_UNRESOLVED = "unresolved"
SHAPE_HELP = ("sphere:RADIUS_UM:INDEX[:OUTSIDE_INDEX] or shell:INNER_RADIUS_UM:OUTER_RADIUS_UM:CORE_INDEX:SHELL_INDEX"
              "[:OUTSIDE_INDEX] (a liquid-filled glass shell; outside index default 1)")
#: sphere-literature names: TE has no radial electric field (polar E at the equator, the Ez-like family)
SPHERE_POLS = {"te": "TE", "ez": "TE", "tm": "TM", "hz": "TM"}


@dataclass(frozen=True)
class Shape:
    """A body of revolution by name: a sphere (core_radius_um 0) or a liquid-filled shell (um)."""

    radius_um: float
    index: float
    outside_index: float
    core_radius_um: float = 0.0
    core_index: float = 0.0


def parse_shape(text: str) -> Shape:
    """The :class:`Shape` of a ``sphere:...`` or ``shell:...`` spec; InputError (one line) otherwise."""
    parts = text.strip().split(":")
    kind = parts[0].lower()
    if not ((kind == "sphere" and len(parts) in (3, 4)) or (kind == "shell" and len(parts) in (5, 6))):
        raise InputError(f"--shape {text!r}: expected {SHAPE_HELP}")
    try:
        numbers = [float(x) for x in parts[1:]]
    except ValueError:
        raise InputError(f"--shape {text!r}: radii and indices must be numbers ({SHAPE_HELP})") from None
    if kind == "sphere":
        radius, index, *rest = numbers
        shape = Shape(radius, index, rest[0] if rest else 1.0)
    else:
        core_radius, radius, core_index, index, *rest = numbers
        shape = Shape(radius, index, rest[0] if rest else 1.0, core_radius, core_index)
        if not 0 < core_radius < radius:
            raise InputError(f"--shape {text!r}: the radii must satisfy 0 < INNER_RADIUS_UM < OUTER_RADIUS_UM")
        if not core_index >= 1.0:
            raise InputError(f"--shape {text!r}: the core index must be >= 1")
    if not shape.radius_um > 0:
        raise InputError(f"--shape {text!r}: the radius must be positive (um)")
    if not shape.index > shape.outside_index >= 1.0:
        raise InputError(f"--shape {text!r}: a whispering-gallery mode needs INDEX > OUTSIDE_INDEX >= 1")
    return shape


def sphere_pol(text: str) -> str:
    try:
        return SPHERE_POLS[text.strip().lower()]
    except KeyError:
        raise InputError(f"--pol {text!r}: for a sphere use TE (= Ez-like) or TM (= Hz-like)") from None


def run_shape(args) -> int:
    from ..axisym.shell import shell_modes_fem
    from ..axisym.sphere import sphere_modes_fem

    if args.engine == "adiabatic":
        raise InputError("--shape needs --engine axisym (the adiabatic engine takes a capillary --profile)")
    _table_or_json(args)
    shape = parse_shape(args.shape)
    pol = sphere_pol(args.pol)
    common = dict(pol=pol, p=args.p, outside_index=shape.outside_index, num_modes=args.count,
                  axial_orders=args.count - 1, points_per_wavelength=fem_points(args))
    if shape.core_radius_um > 0:
        region = "wall" if args.region in (None, "auto") else args.region
        if region not in ("wall", "core"):
            raise InputError(f"--region {args.region!r}: a shell's modes live in the 'wall' or the 'core'")
        study, elapsed = _solve(args, lambda: shell_modes_fem(shape.core_radius_um, shape.radius_um, shape.core_index,
                                                              shape.index, args.m, region=region, **common))
    else:
        if args.region not in (None, "auto"):
            raise InputError("--region applies to a shell or a capillary; a sphere has one region")
        study, elapsed = _solve(args, lambda: sphere_modes_fem(shape.radius_um, shape.index, args.m, **common))
    return _write(args, study, lambda: shape_table(study, args.shape, elapsed), elapsed)


def run_profile_axisym(args, profile, cylinder, source: str) -> int:
    """``--profile ... --engine axisym``: the FEM's states of the family, beside the adiabatic ones."""
    from ..axisym.profile import profile_modes_fem

    _table_or_json(args)
    study, elapsed = _solve(args, lambda: profile_modes_fem(profile, cylinder, pol=args.pol, m=args.m, p=args.p,
                                                            region=args.region, count=args.count,
                                                            points_per_wavelength=fem_points(args)))
    if study.missing_states:
        sys.stderr.write(f"wgmfem: warning: {missing_text(study)}\n")
    return _write(args, study, lambda: profile_table(study, source, elapsed), elapsed)


def missing_text(study: ProfileStudy) -> str:
    """One line on the estimated states that no FEM mode turned out to be."""
    return (f"no FEM mode is the state q = {', '.join(map(str, study.missing_states))} of {study.reference.label()}: "
            "near the estimate there were only other families or waves reaching the window's ends (the profile "
            "may be far from the estimate there; more eigenpairs: a larger --count)")


def fem_points(args) -> float:
    """--fem-points, or the default (12 points per wavelength)."""
    return DEFAULT_FEM_POINTS if args.fem_points is None else args.fem_points


def _table_or_json(args) -> None:
    if args.format == "csv":
        raise InputError("--engine axisym writes a table or JSON (--format table|json)")
    if args.plot:
        figure_suffix_ok(args.plot)
    if args.vtu and not args.vtu.lower().endswith(".vtu"):
        raise InputError(f"--vtu {args.vtu!r}: the file name must end in .vtu")


def _solve(args, solve):
    """(study, seconds) of ``solve()`` with a progress stage; its failures as one-line input errors."""
    from scipy.sparse.linalg import ArpackNoConvergence

    from ..exact.sphere import SphereError

    progress = command_progress(args)
    t0 = time.perf_counter()
    try:
        with progress_step(progress, "axisymmetric FEM"):
            study = solve()
    except (SphereError, ValueError) as exc:
        raise InputError(str(exc).splitlines()[0]) from None
    except (ArpackNoConvergence, RuntimeError, MemoryError) as exc:  # the eigensolver, Gmsh, memory
        raise InputError(f"the axisymmetric FEM failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    return study, time.perf_counter() - t0


def _write(args, study, table, elapsed: float) -> int:
    """The modes as JSON or as ``table()`` to --output (atomically) or standard output; a summary on stderr."""
    text = to_json([finite_or_none(md.to_dict()) for md in study.modes]) if args.format == "json" else table()
    with staged_outputs({"--output": args.output, "--plot": args.plot, "--vtu": args.vtu}) as staged:
        if args.plot:
            _write_map(study, staged[args.plot])
        if args.vtu:
            from ..axisym.export import write_vtu

            write_vtu(study, staged[args.vtu])
        if args.output:
            write_text(staged[args.output], text)
    if not args.output:
        emit(text, None)
    if not args.quiet and (args.output or args.format != "table"):
        sys.stderr.write(f"wgmfem: {len(study.modes)} modes in {elapsed:.2f} s ({study.num_unknowns} unknowns)\n")
    return 0


def profile_table(study: ProfileStudy, source: str, elapsed: float) -> str:
    """Header (profile, window, unknowns, time) and one line per FEM mode, beside the estimate of its label."""
    w, ref = study.window, study.reference
    if study.adiabatic is not None:
        estimate = "the adiabatic axial states"
    else:
        why = study.estimate_note.split(":")[0] or "the adiabatic equation does not hold"
        estimate = f"the local harmonic estimate where its cutoff is deepest ({why})"
    lines = [
        f"wgmfem {__version__}, axisymmetric vector FEM (Nedelec/Lagrange P3) of a profiled capillary",
        f"profile  : {source}; window r {w.r_min_um:.3f}..{w.r_end_um:.3f} um (PML from {w.pml.r_start_um:.3f}), "
        f"z {w.z_min_um:.2f}..{w.z_max_um:.2f} um" + (", mirror plane at its bottom (both parities solved)" if w.half
                                                      else "")
        + (f", axial PML {w.z_pml_um:.2f} um beyond {'its top' if w.half else 'each end'}" if w.z_pml_um
           else ", electric walls at its ends"),
        f"family   : {ref.label()} ({estimate} printed beside the FEM's)",
        f"solved   : {study.num_unknowns} unknowns (elements {study.z_stretch:.2f}x longer along z) in {elapsed:.2f} s",
        "",
    ]
    header = (f"{'pol':>3} {'p':>2} {'region':>6} {'q':>3} {'lambda_nm':>14} {'Q':>10} {'estimate_nm':>14} "
              f"{'fem-est_nm':>12} {'in_capillary':>12} {'at_ends':>8}")
    lines += [header, "-" * len(header)]
    for md in study.modes:
        if not md.is_resonator_mode:
            what = "reaches ends" if md.reaches_window_ends else "window mode"
            q_text = f"{md.Q:10.3g}" if md.q_resolved else f"{PROFILE_Q_UNRESOLVED:>10}"
            lines.append(f"{'-':>3} {'-':>2} {'-':>6} {'-':>3} {md.wavelength_nm:14.6f} {q_text} {what:>14} "
                         f"{'':>12} {md.capillary_fraction:12.3f} {md.axial_end_share:8.1e}")
            continue
        q_text = f"{md.Q:10.4g}" if md.q_resolved else f"{PROFILE_Q_UNRESOLVED:>10}"
        estimated = md.adiabatic.wavelength_nm if md.adiabatic else md.harmonic_nm
        beside = (f"{estimated:14.6f} {md.wavelength_nm - estimated:12.2e}" if estimated is not None
                  else f"{'-':>14} {'-':>12}")
        mark = "  AMBIGUOUS: another mode has this label" if md.label_shared else ""
        lines.append(f"{md.pol:>3} {md.p:>2} {md.region:>6} {md.q:>3} {md.wavelength_nm:14.6f} {q_text} {beside} "
                     f"{md.capillary_fraction:12.3f} {md.axial_end_share:8.1e}{mark}")
    lines.append("")
    if study.missing_states:
        lines.append(f"warning: {missing_text(study)}")
    lines.append("labels (pol, p, region, q) from each mode's own field; the estimate is an approximation, not the "
                 "reference (docs/theory.md, sections 16-17); 'reaches ends': more than "
                 f"{AXIAL_END_SHARE_MAX:g} of its energy in the outer tenth of the window at either end (a wave "
                 "leaking along the fibre, or a state beyond the --count the window was sized for): not labelled")
    return "\n".join(lines) + "\n"


def _write_map(study, path: str) -> None:
    """The (r, z) map of the first mode of the resonator (a window mode is never drawn)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    from ..axisym.mesh import ProfileWindow
    from ..plot_axisym import plot_axisym_mode

    index = next((j for j, md in enumerate(study.modes) if md.is_resonator_mode), 0)
    w = study.window
    shown_twice = isinstance(w, ProfileWindow) and w.half  # a half profile window is drawn whole
    aspect = (w.z_max_um - w.z_min_um) * (2 if shown_twice else 1) / (w.r_end_um - w.r_min_um)
    fig, ax = plt.subplots(figsize=(7.0, min(max(7.0 * aspect * 0.8 + 1.2, 3.0), 9.0)), layout="constrained")
    try:
        plot_axisym_mode(study, index, ax)
        fig.savefig(path, dpi=150)
    finally:
        plt.close(fig)


def shape_table(study: SphereStudy, spec: str, elapsed: float) -> str:
    """Header (shape, window, unknowns, time) and one line per mode, with the exact resonance of its label."""
    from ..axisym.shell import ShellModeFEM

    w = study.window
    mirror = {None: "full window", "electric": "z >= 0, electric wall at z = 0",
              "magnetic": "z >= 0, magnetic wall at z = 0"}[study.mirror]
    lines = [
        f"wgmfem {__version__}, axisymmetric vector FEM (Nedelec/Lagrange P{study.order}) in the (r, z) half-plane",
        f"shape    : {spec}; window r {w.r_min_um:.3f}..{w.r_end_um:.3f} um (PML from {w.pml.r_start_um:.3f}), "
        f"z up to {w.z_max_um:.3f} um, {mirror}",
        f"solved   : {study.num_unknowns} unknowns in {elapsed:.2f} s",
        "",
    ]
    header = (f"{'pol':>6} {'region':>6} {'m':>5} {'l':>5} {'p':>2} {'q':>2} {'lambda_nm':>14} {'Q_rad':>10} "
              f"{'exact_nm':>14} {'rel_err':>8} {'inside':>7}")
    lines += [header, "-" * len(header)]
    for md in study.modes:
        if not md.is_resonator_mode:
            lines.append(f"{'-':>6} {'-':>6} {md.m:>5} {'-':>5} {'-':>2} {'-':>2} {md.wavelength_nm:14.6f} {md.Q:10.3g} "
                         f"{'window mode':>14} {'':>8} {md.body_fraction:7.3f}")
            continue
        q_text = f"{md.Q:10.4g}" if md.q_resolved else f"{'>1e13':>10}"
        exact = f"{md.exact.wavelength_nm:14.6f} {md.wavelength_error:8.1e}" if md.exact else f"{'-':>14} {'':>8}"
        shared = isinstance(md, ShellModeFEM) and md.label_shared
        mark = ("" if md.label_verified else "  UNVERIFIED: another mode carries this label" if shared
                else "  UNVERIFIED: no exact resonance of this label nearby")
        region = md.region if isinstance(md, ShellModeFEM) else "sphere"
        if isinstance(md, ShellModeFEM) and md.hybrid:
            mark += f"  hybrid: {md.region_fraction:.0%} of its energy in the {region}"
        family = f"{md.pol}/{'Ez' if md.pol == 'TE' else 'Hz'}"
        lines.append(f"{family:>6} {region:>6} {md.m:>5} {md.l:>5} {md.p:>2} {md.q:>2} {md.wavelength_nm:14.6f} {q_text} "
                     f"{exact} {md.body_fraction:7.3f}{mark}")
    lines.append("")
    lines.append("TE/TM as for spheres: TE has no radial electric field (the Ez-like family), TM is Hz-like; "
                 "inside: the share of the electric energy in the body; window modes are standing waves of the "
                 "truncated outside region.")
    return "\n".join(lines) + "\n"
