"""Errors every layer of wgmfem raises for a question that cannot be answered as asked."""

from __future__ import annotations


class SearchError(ValueError):
    """The question cannot be answered as asked (the message is one line)."""


class AxialError(ValueError):
    """The axial problem cannot be solved as asked (the message is one line).

    Raised by :mod:`wgmfem.axial`; it lives here so that catching it loads no solver."""
