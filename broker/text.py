"""Small wording helpers for lines people read (CLI output, the demo's banner); no imports, so any layer may use
them."""

from __future__ import annotations


def count(n: int, noun: str) -> str:
    """``1 camera``, ``2 cameras``: a number with its noun (English plural by ``s``)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
