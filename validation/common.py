"""What the validation scripts share: the paper's numbers, the liquid models, output files.

Units: lengths in um, wavelengths in nm, gain in 1/cm.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from wgmfem.atomic import atomic_path
from wgmfem.geometry import Capillary, capillary_stack
from wgmfem.materials import Cauchy, get_material
from wgmfem.report import write_atomically

#: Where ``python -m validation`` writes its figures and tables.
OUTPUT_DIR = Path(__file__).resolve().parent / "output"

# --- numbers stated in Adv. Mater. 2015, 27, 169 ---------------------------------------
PAPER_INNER_D_UM = 54.0
PAPER_OUTER_D_UM = 78.0
PAPER_CORE_INDEX = 1.56  # the QD solution
PAPER_WALL_INDEX = 1.47  # glass at 440 nm
PAPER_LASING_NM = 440.0
PAPER_BAND_NM = (435.0, 445.0)  # the band the paper integrates its lasing output over
PAPER_M_RANGE = (597, 603)  # its mode numbers, from m * lambda = pi * n * D
PAPER_Q = 3000.0  # lambda / d lambda of a lasing line
PAPER_NET_GAIN_PER_CM = 0.53  # maximum net gain of the QD solution (pump-probe, 1 mm cuvette)
PAPER_GAIN_CROSS_SECTION_CM2 = 5e-17  # per QD
PAPER_QD_CONCENTRATION_MOL_PER_L = 2.0e-5
AVOGADRO = 6.02214076e23


def simple_m(wavelength_nm: float, n: float = PAPER_CORE_INDEX, d_um: float = PAPER_INNER_D_UM) -> float:
    """The paper's resonance condition m lambda = pi n D solved for m (not an integer)."""
    return math.pi * n * d_um * 1e3 / wavelength_nm


def simple_wavelength_nm(m: int, n: float = PAPER_CORE_INDEX, d_um: float = PAPER_INNER_D_UM) -> float:
    """The paper's resonance condition m lambda = pi n D solved for lambda (nm)."""
    return math.pi * n * d_um * 1e3 / m


def simple_fsr_nm(d_um: float, wavelength_nm: float = PAPER_LASING_NM, n: float = PAPER_CORE_INDEX) -> float:
    """The paper's FSR = lambda^2 / (pi n D), nm."""
    return (wavelength_nm * 1e-3) ** 2 / (math.pi * n * d_um) * 1e3


def qd_solution(n_at_440: float = PAPER_CORE_INDEX) -> Cauchy:
    """The QD solution as a dispersive liquid: Kozma's toluene (built-in ``toluene``) offset
    uniformly so that n(440 nm) = ``n_at_440``. The paper states 1.56 but no dispersion; the
    solvent is toluene, so its dispersion is the natural assumption."""
    toluene = get_material("toluene")
    a, b, c, d = toluene.coefficients
    shift = n_at_440 - toluene.index(PAPER_LASING_NM)
    return Cauchy(
        a + shift, b, c, d,
        name=f"QD-toluene (toluene {shift:+.4f})",
        valid_range_nm=toluene.valid_range_nm,
        source=f"{toluene.source}, offset to n(440 nm) = {n_at_440}",
    )  # fmt: skip


def paper_capillary(inner_d_um: float = PAPER_INNER_D_UM, outer_d_um: float = PAPER_OUTER_D_UM):
    """The capillary with the indices the paper states (1.56 / 1.47, constant), air outside."""
    return Capillary(inner_d_um, outer_d_um, PAPER_CORE_INDEX, PAPER_WALL_INDEX)


def dispersive_capillary(inner_d_um: float = PAPER_INNER_D_UM, outer_d_um: float = PAPER_OUTER_D_UM, core="qd"):
    """The capillary with dispersive indices: the QD solution model (``core='qd'``) or a
    built-in liquid (``'toluene'``), and fused silica (Malitson) for the wall."""
    liquid = qd_solution() if core == "qd" else core
    return capillary_stack(inner_d_um, outer_d_um, core=liquid, wall="fused-silica")


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    """Write rows as CSV (atomically); floats with 10 significant digits."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    out.writerow(header)
    for row in rows:
        out.writerow([f"{v:.10g}" if isinstance(v, float) else v for v in row])
    write_atomically(str(path), buffer.getvalue())


def new_figure(*args, **kwargs):
    """A matplotlib figure on the Agg backend (files only, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def save_figure(fig, path: Path, dpi: int = 110) -> None:
    """Save a PNG atomically (temporary file + rename) and close the figure."""
    import matplotlib.pyplot as plt

    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi)
    finally:
        plt.close(fig)


def output_dir(path=None, fast: bool = False) -> Path:
    """The folder to write into (created): ``path``, else :data:`OUTPUT_DIR` (its ``fast``
    subfolder for a fast run, so that a quick run never overwrites the committed outputs)."""
    folder = Path(path) if path is not None else (OUTPUT_DIR / "fast" if fast else OUTPUT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
