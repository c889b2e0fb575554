"""The exact multilayer Bessel/Hankel engine (see docs/theory.md)."""

from .characteristic import characteristic_function
from .field import radial_field

__all__ = ["characteristic_function", "radial_field"]
