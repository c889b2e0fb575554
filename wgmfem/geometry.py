"""Concentric layered cylinders: what the fibre is.

Lengths are in micrometres (um) throughout; refractive indices are dimensionless.
A :class:`LayeredCylinder` is a stack of concentric layers (the first one, the
core, is a full disk) surrounded by an infinite outer medium.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, overload


class GeometryError(ValueError):
    """Raised for a physically meaningless geometry (the message is one line)."""


#: Lengths of a fibre, um: every radius and every layer thickness lies in this range
#: (1 nm to 10 cm); beyond it the input is a typo or a unit error, not a fibre.
MIN_LENGTH_UM, MAX_LENGTH_UM = 1e-3, 1e5
#: Refractive indices: 1e-3 <= Re n <= 100 and |Im n| <= 100 (every known material, with room).
MIN_INDEX, MAX_INDEX = 1e-3, 100.0


def _check_index(value, what: str) -> complex | float:
    try:
        n = complex(value)
    except (TypeError, ValueError):
        raise GeometryError(f"{what}: refractive index must be a number, got {value!r}") from None
    if not (math.isfinite(n.real) and math.isfinite(n.imag)):
        raise GeometryError(f"{what}: refractive index must be finite, got {value!r}")
    if n.real <= 0:
        raise GeometryError(f"{what}: refractive index must be positive, got {value!r}")
    if not (MIN_INDEX <= n.real <= MAX_INDEX and abs(n.imag) <= MAX_INDEX):
        raise GeometryError(f"{what}: refractive index must have {MIN_INDEX:g} <= Re n <= {MAX_INDEX:g} "
                            f"and |Im n| <= {MAX_INDEX:g}, got {value!r}")
    return n.real if n.imag == 0 else n


def _check_length(value, what: str, scale: float = 1.0) -> None:
    """GeometryError unless ``value`` (um) is a number in [MIN_LENGTH_UM, MAX_LENGTH_UM] x ``scale``
    (``scale`` = 2 for a diameter)."""
    lo, hi = scale * MIN_LENGTH_UM, scale * MAX_LENGTH_UM
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise GeometryError(f"{what} must be a positive number of um, got {value}")
    if not lo <= value <= hi:
        raise GeometryError(f"{what} must lie between {lo:g} and {hi:g} um, got {value:g}")


@dataclass(frozen=True)
class LayeredCylinder:
    """Concentric layers from the centre out, then an infinite outer medium.

    Parameters
    ----------
    radii_um : outer radius of each layer in um, strictly increasing.
    indices : refractive index of each layer (real, or complex n + i*kappa
        with kappa > 0 for absorption).
    outside_index : index of the infinite outer medium (real).
    names : optional layer names; defaults to ``core``, ``wall``, ``layer3``, ...
        The outer medium is always called ``outside``.
    """

    radii_um: tuple[float, ...]
    indices: tuple[complex | float, ...]
    outside_index: float = 1.0
    names: tuple[str, ...] = field(default=())

    def __post_init__(self):
        radii = tuple(float(r) for r in self.radii_um)
        indices = tuple(self.indices)
        if len(radii) == 0:
            raise GeometryError("a layered cylinder needs at least one layer")
        if len(radii) != len(indices):
            raise GeometryError(f"{len(radii)} radii but {len(indices)} indices")
        for i, r in enumerate(radii):
            _check_length(r, f"layer {i + 1}: outer radius")
        for i in range(1, len(radii)):
            if radii[i] <= radii[i - 1]:
                raise GeometryError(
                    f"layer radii must increase outwards: layer {i + 1} ({radii[i]} um) "
                    f"is not outside layer {i} ({radii[i - 1]} um)"
                )
            if radii[i] - radii[i - 1] < MIN_LENGTH_UM:
                raise GeometryError(f"layer {i + 1} is {radii[i] - radii[i - 1]:.3g} um thick; "
                                    f"a layer must be at least {MIN_LENGTH_UM:g} um thick")
        names = tuple(self.names) or default_layer_names(len(radii))
        if len(names) != len(radii):
            raise GeometryError(f"{len(radii)} layers but {len(names)} names")
        if "outside" in names or len(set(names)) != len(names):
            raise GeometryError(f"layer names must be distinct and not 'outside': {names}")
        indices = tuple(_check_index(n, f"layer '{nm}'") for n, nm in zip(indices, names))
        outside = _check_index(self.outside_index, "outside medium")
        if isinstance(outside, complex):
            raise GeometryError("the outer medium must be lossless (real index)")
        object.__setattr__(self, "radii_um", radii)
        object.__setattr__(self, "indices", indices)
        object.__setattr__(self, "outside_index", float(outside))
        object.__setattr__(self, "names", names)

    # -- convenience -----------------------------------------------------
    @property
    def n_layers(self) -> int:
        return len(self.radii_um)

    @property
    def outer_radius_um(self) -> float:
        return self.radii_um[-1]

    @property
    def region_names(self) -> tuple[str, ...]:
        """Layer names followed by ``outside``."""
        return self.names + ("outside",)

    @property
    def all_indices(self) -> tuple[complex | float, ...]:
        """Layer indices followed by the outer index."""
        return self.indices + (self.outside_index,)

    @property
    def is_lossless(self) -> bool:
        return all(not isinstance(n, complex) for n in self.indices)

    def real_part(self) -> LayeredCylinder:
        """The same stack with the imaginary parts of its indices (absorption, gain) removed."""
        if self.is_lossless:
            return self
        return LayeredCylinder(self.radii_um, tuple(complex(n).real for n in self.indices), self.outside_index, self.names)

    def loss_rates(self) -> tuple[float, float]:
        """(max kappa_j / n_j over absorbing layers, max -kappa_j / n_j over gain layers), both >= 0.

        To first order a resonance moves by dk/k = -sum_j Gamma_j dn_j / n_j (Gamma_j: electric
        energy fractions, sum <= 1), so |Im k| changes by at most k times these rates.
        """
        rates = [complex(n).imag / complex(n).real for n in self.indices]
        return max([0.0] + [r for r in rates if r > 0]), max([0.0] + [-r for r in rates if r < 0])

    def layer_bounds_um(self, j: int) -> tuple[float, float]:
        """Inner and outer radius of layer ``j`` (the outer medium ends at infinity)."""
        inner = 0.0 if j == 0 else self.radii_um[j - 1]
        outer = self.radii_um[j] if j < self.n_layers else math.inf
        return inner, outer

    def index_at(self, r_um: float):
        """Refractive index at radius ``r_um`` (the outer medium beyond the last layer)."""
        for r, n in zip(self.radii_um, self.indices):
            if r_um <= r:
                return n
        return self.outside_index

    def layer_of(self, name: str) -> int:
        try:
            return self.region_names.index(name)
        except ValueError:
            raise GeometryError(f"no region called {name!r}; regions are {', '.join(self.region_names)}") from None

    def describe(self) -> str:
        parts = [f"{nm} r<={r:g} um n={_fmt_n(n)}" for nm, r, n in zip(self.names, self.radii_um, self.indices)]
        return "; ".join(parts) + f"; outside n={_fmt_n(self.outside_index)}"


def _fmt_n(n) -> str:
    if isinstance(n, complex):
        return f"{n.real:g}{n.imag:+g}j"
    return f"{n:g}"


def default_layer_names(count: int) -> tuple[str, ...]:
    base = ["core", "wall"]
    return tuple(base[i] if i < 2 else f"layer{i + 1}" for i in range(count))


#: The capillary of Adv. Mater. 2015, 27, 169: fused silica, 54 um / 78 um diameters,
#: filled with a QD toluene solution of index 1.56 (glass 1.47 at 440 nm), in air.
PAPER_INNER_DIAMETER_UM = 54.0
PAPER_OUTER_DIAMETER_UM = 78.0
PAPER_CORE_INDEX = 1.56
PAPER_WALL_INDEX = 1.47


@overload
def Capillary(
    inner_diameter_um: float = ...,
    outer_diameter_um: float = ...,
    core_index: float | complex = ...,
    wall_index: float | complex = ...,
    outside_index: float = ...,
) -> LayeredCylinder: ...


@overload
def Capillary(
    inner_diameter_um: float = ...,
    outer_diameter_um: float = ...,
    core_index: Any = ...,
    wall_index: Any = ...,
    outside_index: Any = ...,
) -> LayeredCylinder | MaterialStack: ...


def Capillary(
    inner_diameter_um=PAPER_INNER_DIAMETER_UM,
    outer_diameter_um=PAPER_OUTER_DIAMETER_UM,
    core_index=PAPER_CORE_INDEX,
    wall_index=PAPER_WALL_INDEX,
    outside_index=1.0,
):
    """A liquid-filled capillary (defaults: the paper's 54/78 um fibre, 1.56 / 1.47 / air).

    Indices are numbers (a :class:`LayeredCylinder`) or materials: a built-in name such as
    ``"toluene"``, a refractiveindex.info YAML file, a :class:`~wgmfem.materials.Material`
    (then a :class:`MaterialStack`, whose indices follow the wavelength).
    """
    if not all(_is_number(v) for v in (core_index, wall_index, outside_index)):
        return capillary_stack(inner_diameter_um, outer_diameter_um, core_index, wall_index, outside_index)
    for value, what in ((inner_diameter_um, "inner diameter"), (outer_diameter_um, "outer diameter")):
        _check_length(value, what, scale=2)
    if inner_diameter_um >= outer_diameter_um:
        raise GeometryError(
            f"inner diameter ({inner_diameter_um} um) must be smaller than outer diameter ({outer_diameter_um} um)"
        )
    return LayeredCylinder(
        radii_um=(inner_diameter_um / 2, outer_diameter_um / 2),
        indices=(core_index, wall_index),
        outside_index=outside_index,
        names=("core", "wall"),
    )


def Rod(radius_um: float, index: float | complex, outside_index: float = 1.0) -> LayeredCylinder:
    """A homogeneous dielectric rod (a single layer)."""
    return LayeredCylinder(radii_um=(radius_um,), indices=(index,), outside_index=outside_index, names=("core",))


@dataclass(frozen=True)
class MaterialStack:
    """Concentric layers made of materials whose index depends on wavelength.

    ``materials`` are :class:`wgmfem.materials.Material` objects (or anything
    :func:`wgmfem.materials.get_material` accepts: a built-in name such as
    ``"toluene"``, a number, ``"1.56+0.0001j"``, a refractiveindex.info YAML path).
    :meth:`at` evaluates every index at one vacuum wavelength and returns the
    :class:`LayeredCylinder` the solvers work on.
    """

    radii_um: tuple[float, ...]
    materials: tuple
    outside: Any = 1.0  # anything get_material accepts; a Material after __post_init__
    names: tuple[str, ...] = field(default=())

    def __post_init__(self):
        from .materials import get_material

        try:
            mats = tuple(get_material(mat) for mat in self.materials)
            outside = get_material(self.outside)
        except ValueError as exc:
            raise GeometryError(str(exc)) from None
        names = tuple(self.names) or default_layer_names(len(mats))
        object.__setattr__(self, "materials", mats)
        object.__setattr__(self, "outside", outside)
        object.__setattr__(self, "names", names)
        # validate the geometry once with placeholder indices
        LayeredCylinder(self.radii_um, (1.0,) * len(mats), 1.0, names)
        object.__setattr__(self, "radii_um", tuple(float(r) for r in self.radii_um))

    @property
    def is_dispersive(self) -> bool:
        from .materials import ConstantIndex

        return not all(isinstance(mat, ConstantIndex) for mat in self.materials + (self.outside,))

    @property
    def region_names(self) -> tuple[str, ...]:
        return self.names + ("outside",)

    @property
    def n_layers(self) -> int:
        return len(self.radii_um)

    def at(self, wavelength_nm: float, strict: bool | None = None) -> LayeredCylinder:
        """The stack with every index evaluated at ``wavelength_nm`` (vacuum)."""
        indices = tuple(complex(mat.index(wavelength_nm, strict=strict)) for mat in self.materials)
        indices = tuple(n.real if n.imag == 0 else n for n in indices)
        outside = complex(self.outside.index(wavelength_nm, strict=strict))
        if outside.imag != 0:
            raise GeometryError("the outer medium must be lossless (real index)")
        return LayeredCylinder(self.radii_um, indices, outside.real, self.names)

    def describe(self) -> str:
        parts = [f"{nm} r<={r:g} um {mat.name}" for nm, r, mat in zip(self.names, self.radii_um, self.materials)]
        return "; ".join(parts) + f"; outside {self.outside.name}"


def _is_number(value) -> bool:
    return isinstance(value, (int, float, complex)) and not isinstance(value, bool)


def capillary_stack(
    inner_diameter_um: float = PAPER_INNER_DIAMETER_UM,
    outer_diameter_um: float = PAPER_OUTER_DIAMETER_UM,
    core="toluene",
    wall="fused-silica",
    outside=1.0,
) -> MaterialStack | LayeredCylinder:
    """A capillary whose layers may be materials (names, files) as well as numbers.

    Returns a plain :class:`LayeredCylinder` when every index is a number.
    """
    if all(_is_number(v) for v in (core, wall, outside)):
        return Capillary(inner_diameter_um, outer_diameter_um, core, wall, outside)
    Capillary(inner_diameter_um, outer_diameter_um)  # validates the diameters
    return MaterialStack((inner_diameter_um / 2, outer_diameter_um / 2), (core, wall), outside, ("core", "wall"))
