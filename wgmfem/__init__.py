"""wgmfem: whispering-gallery modes of liquid-filled capillaries and layered cylinders.

Lengths in um, wavelengths in nm, wavenumbers in 1/um. Quick use::

    import wgmfem
    cap = wgmfem.Capillary(inner_diameter_um=54, outer_diameter_um=78, core_index=1.56, wall_index=1.47)
    for mode in wgmfem.find_modes(cap, wavelength_nm=(425, 445), region="core", p=(1, 2)):
        print(mode)
"""

from . import exact as exact  # the subpackage, re-exported as wgmfem.exact
from .exact.characteristic import characteristic_function
from .geometry import Capillary, GeometryError, LayeredCylinder, Rod
from .mode import Mode
from .polarization import normalize_pol
from .solve import SearchError, find_modes

__all__ = [
    "Capillary",
    "GeometryError",
    "LayeredCylinder",
    "Mode",
    "Rod",
    "SearchError",
    "characteristic_function",
    "find_modes",
    "normalize_pol",
]
__version__ = "0.1.0"  # the one version source (pyproject.toml reads it)
