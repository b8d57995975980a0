"""An inventory's camera systems checked as the running broker builds them.

``camgate inventory validate``, ``camgate serve`` and ``camgate reload`` build every system's adapter the same way
(:func:`broker.gateway.load_system`: the ``gateway`` block split off, the adapter's settings validated, its
secrets read), and report a refused system the same way, at its line of the inventory:
``FILE:LINE: systems.N.setting: system 'id': setting 'setting': message``. A secret is checked for presence
only; its value is never printed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from broker.adapterapi import AdapterConfigError, SystemSpec
from broker.documents import DocumentSet, Inventory
from broker.documents.loader import FileIssue, read_inventory
from broker.documents.yamlsrc import Located, dotted
from broker.errors import DocumentError
from broker.gateway import load_system
from broker.inventory.adapters import AdapterPool, Loader, SystemsRefused, each_error, load_adapter
from broker.inventory.catalog import specs_of


def system_issues(exc: AdapterConfigError, inventory: Inventory, lines: Located | None, name: str) -> list[FileIssue]:
    """Each refused system of ``exc`` placed at its setting's line (else its entry's) in the inventory file."""
    index = {s.id: i for i, s in enumerate(inventory.systems)}
    issues: list[FileIssue] = []
    for err in each_error(exc):
        path: tuple[str | int, ...] = ("systems",)
        if err.system is not None and err.system in index:
            path = ("systems", index[err.system])
            if err.setting is not None:
                path += tuple(int(p) if p.isdigit() else p for p in err.setting.split("."))
        line = lines.line_of(path) if lines is not None else 0
        issues.append((name, line, dotted(path), str(err)))
    return sorted(issues, key=lambda i: i[1])


def check_systems(inventory: Inventory, lines: Located | None, name: str) -> list[FileIssue]:
    """Build every system's adapter as ``serve`` does (then drop it: building one does no I/O)."""
    refused: list[AdapterConfigError] = []
    for spec in specs_of(inventory):
        try:
            load_system(load_adapter, spec)
        except AdapterConfigError as exc:
            refused.append(exc)
    return system_issues(SystemsRefused(refused), inventory, lines, name) if refused else []


def validate_inventory(paths: Iterable[str | Path]) -> list[str]:
    """``camgate inventory validate``: every problem of every file, its systems included, one line each."""
    out: list[str] = []
    for p in paths:
        inv, issues, lines = read_inventory(Path(p))
        if inv is not None:
            issues = check_systems(inv, lines, str(p))
        out += DocumentError(issues).lines()
    return out


def open_pool(docs: DocumentSet, specs: Sequence[SystemSpec], loader: Loader, name: str) -> AdapterPool:
    """``serve``'s adapters; a refused system raises :class:`DocumentError` with the lines validate prints."""
    assert docs.inventory is not None
    try:
        return AdapterPool(specs, loader=loader)
    except AdapterConfigError as exc:
        raise DocumentError(system_issues(exc, docs.inventory, docs.inventory_lines, name)) from None
