"""Command-line options of the 2-D cross-section FEM, shared by ``modes``, ``field`` and ``mesh``.

Lengths in um; ellipticity e = (a - b)/R (semi-axes R (1 + e/2) along x and R (1 - e/2)
along y; e < 0 puts the long axis along y).
"""

from __future__ import annotations

import argparse
from contextlib import nullcontext

from .common import InputError, message_line, positive_float

UNVERIFIED_HINT = "; --unverified prints the FEM rows flagged, a finer mesh (--mesh-size, --order) may agree"

MESH_SIZE_HELP = (
    "FEM mesh density: nodal points per local wavelength lambda/n (element edge = "
    "order * lambda / (n * N)); default 40 for fem1d; fem2d: 8 for P6, 10 for P5, else 16"
)


def ellipticity_spec(text: str) -> tuple[float, float]:
    """``E`` (elliptical bore) or ``E_IN:E_OUT`` (bore and outer surface)."""
    parts = text.split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected E or E_IN:E_OUT (numbers), got {text!r}") from None
    if len(values) not in (1, 2) or not all(abs(v) < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected E or E_IN:E_OUT with |e| < 1, got {text!r}")
    return (values[0], 0.0) if len(values) == 1 else (values[0], values[1])


def add_mesh_options(group, fem1d: bool = True) -> None:
    """--order, --mesh-size, --pml-width (shared by the FEM engines)."""
    group.add_argument("--order", type=int, metavar="P",
                       help="FEM element degree (fem1d: default 4; fem2d: 1-6, default 6 on a sector, 4 on the full section)")
    names = ("--mesh-size", "--points-per-wavelength") if fem1d else ("--mesh-size",)
    group.add_argument(*names, dest="points_per_wavelength", type=positive_float, metavar="N",
                       help=MESH_SIZE_HELP if fem1d else MESH_SIZE_HELP.replace("default 40 for fem1d; fem2d: ", "default "))
    group.add_argument("--pml-width", type=positive_float, default=2.0, metavar="W",
                       help="FEM PML width in outside wavelengths lambda/n_out (default 2)")


def add_fem2d_options(group) -> None:
    """Perturbations and domain of the 2-D cross-section FEM."""
    group.add_argument("--bore-offset", type=float, default=0.0, metavar="UM",
                       help="fem2d: bore centre moved by UM along x (eccentric capillary)")
    group.add_argument("--ellipticity", type=ellipticity_spec, default=(0.0, 0.0), metavar="E|E_IN:E_OUT",
                       help="fem2d: elliptical bore (E; a rod: its surface) or bore and outer surface (E_IN:E_OUT); "
                       "e = (a - b)/R with semi-axes R (1 +- e/2) along x / y, e.g. 0.002 = 0.2 %%")
    group.add_argument("--sector", choices=("auto", "full"), default="auto",
                       help="fem2d domain: auto = periodic 2 pi/m sector when concentric, full section when "
                       "perturbed; full = always the full cross-section (slow at m ~ 600)")
    group.add_argument("--eigensolver", choices=("scipy", "slepc"), default="scipy",
                       help="fem2d eigensolver: scipy (ARPACK + PARDISO/SuperLU) or slepc (optional, MPI)")
    group.add_argument("--max-unknowns", type=positive_float, default=3e6, metavar="N",
                       help="fem2d: refuse larger problems before assembling (default 3e6, ~8 GB)")


def add_verification_options(group) -> None:
    """--fem-tolerance, --fem-q-tolerance, --unverified: the FEM engines' check against the exact root."""
    group.add_argument("--fem-tolerance", type=positive_float, metavar="REL",
                       help="FEM engines: largest relative wavelength difference to the exact root "
                       "(default 1e-7 for fem1d, 1e-6 for fem2d); a mode beyond it, or with other labels "
                       "(m, p, region), is an error (exit code 3)")
    group.add_argument("--fem-q-tolerance", type=positive_float, metavar="REL",
                       help="FEM engines: largest relative Q difference to the exact root, compared where the "
                       "exact Q <= 1e9 (above, a PML does not resolve Q) (default 0.01)")
    group.add_argument("--unverified", action="store_true",
                       help="FEM engines: print modes that fail the check, flagged in the note column and in "
                       "their verification record, instead of exit code 3")


def check_fem_options(args, engine: str) -> None:
    """One-line errors (exit 2) for FEM options out of range, before any solve."""
    given = [name for name, value in (("--fem-tolerance", getattr(args, "fem_tolerance", None)),
                                      ("--fem-q-tolerance", getattr(args, "fem_q_tolerance", None)),
                                      ("--unverified", getattr(args, "unverified", False))) if value]
    if engine == "exact":
        if given:
            raise InputError(f"{given[0]} needs --engine fem1d or fem2d")
        return
    from ..fem.verify import check_tolerance

    check_tolerance(getattr(args, "fem_tolerance", None), "--fem-tolerance")
    check_tolerance(getattr(args, "fem_q_tolerance", None), "--fem-q-tolerance")
    if engine == "fem1d":
        try:
            fem1d_settings(args).check()
        except ValueError as exc:
            raise InputError(str(exc)) from None


def fem1d_settings(args):
    """:class:`RadialSettings` from the options (the check's tolerances come from
    :func:`fem_checks`)."""
    from ..fem.engine1d import RadialSettings

    return RadialSettings(order=4 if args.order is None else args.order,
                          points_per_wavelength=args.points_per_wavelength or 40.0,
                          pml_width_wavelengths=args.pml_width)


def fem_checks(args, engine: str):
    """The block a command runs its FEM solves in: every mode is checked against its exact seed
    and returned with the outcome in its record, so that the command can decide (exit code 3
    unless --unverified, see :func:`enforce_fem_checks`)."""
    if engine == "exact":
        return nullcontext()
    from ..fem.verify import fem_verification

    return fem_verification(getattr(args, "fem_tolerance", None), getattr(args, "fem_q_tolerance", None), unverified=True)


def enforce_fem_checks(args, modes) -> None:
    """FEMVerificationError (exit code 3, one line) for the first mode that failed its check,
    unless --unverified."""
    if getattr(args, "unverified", False):
        return
    from ..fem.verify import raise_if_unverified

    raise_if_unverified(modes, hint=UNVERIFIED_HINT)


def perturbed(args) -> bool:
    return bool(args.bore_offset or args.ellipticity[0] or args.ellipticity[1])


def fem2d_settings(args, quiet: bool = False):
    """:class:`CrossSectionSettings` from the options, printing solver stages on stderr (a line
    each, in place of the progress bar)."""
    from ..fem.engine2d import CrossSectionSettings

    def on_stage(label, stage, seconds):
        message_line(f"fem2d {label}: {stage} {seconds:.2f} s")

    if args.eigensolver == "slepc":
        from ..fem.eigensolvers import slepc_available

        if not slepc_available():
            raise InputError("--eigensolver slepc needs slepc4py and petsc4py: pip install 'wgmfem[slepc]'")
    return CrossSectionSettings(
        order=args.order,
        points_per_wavelength=args.points_per_wavelength,
        pml_width_wavelengths=args.pml_width,
        bore_offset_um=args.bore_offset,
        inner_ellipticity=args.ellipticity[0],
        outer_ellipticity=args.ellipticity[1],
        sector=args.sector,
        eigensolver=args.eigensolver,
        max_unknowns=int(args.max_unknowns),
        on_stage=None if quiet else on_stage,
        tolerance=getattr(args, "fem_tolerance", None),
        q_tolerance=getattr(args, "fem_q_tolerance", None),
    )


def refuse_fem2d_options(args, engine: str) -> None:
    """Perturbation options only mean something to the 2-D engine."""
    if engine != "fem2d" and (perturbed(args) or args.sector != "auto" or args.eigensolver != "scipy"):
        raise InputError("--bore-offset, --ellipticity, --sector and --eigensolver need --engine fem2d")
