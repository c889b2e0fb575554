"""Errors every layer of wgmfem raises for a question that cannot be answered as asked."""

from __future__ import annotations


class SearchError(ValueError):
    """The question cannot be answered as asked (the message is one line)."""
