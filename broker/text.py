"""Small wording helpers for lines people read (CLI output, the demo's banner); no imports, so any layer may use
them."""

from __future__ import annotations


def count(n: int, noun: str) -> str:
    """``1 camera``, ``2 cameras``: a number with its noun (English plural by ``s``)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def unprintable(value: str, allowed: str = "\n\t") -> str | None:
    """What is wrong with free text people type and others read (a threat, a reason): the first character that is
    neither printable nor in ``allowed``, as ``U+0000 at 5``; None when there is none. A NUL is no text PostgreSQL
    stores, and a bidi override shows other words than the bytes say (CVE-2021-42574, "Trojan Source")."""
    bad = next((i for i, c in enumerate(value) if not c.isprintable() and c not in allowed), None)
    return None if bad is None else f"an invisible or control character U+{ord(value[bad]):04X} at {bad + 1}"
