"""``camgate mou validate`` and ``camgate inventory validate``: errors (exit 2), then warnings (exit 0).

Every finding is one line on standard output: ``FILE:LINE: path.to.field: message`` for an error,
``FILE:LINE: warning: path.to.field: message`` for a warning (broker/documents/warnings.py); ``ok`` when there
is no error. ``inventory validate`` builds every camera system as ``serve`` does (broker/inventory/validate.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from broker.clock import SystemClock
from broker.documents import read_documents, validate_mou_files
from broker.documents.loader import mou_warnings
from broker.errors import DocumentError
from broker.inventory.validate import validate_inventory


def _report(errors: list[str], warnings: list[str]) -> int:
    if errors:
        print("\n".join(errors + warnings))
        return 2
    print("\n".join([*warnings, "ok"]))
    return 0


def mou_validate(files: Sequence[str], inventory: str | None, now: datetime | None = None) -> int:
    now = now or SystemClock().now()
    if inventory is None:
        errors = validate_mou_files(files)
        return _report(errors, [] if errors else [w.text() for w in mou_warnings(files, now)])
    docs = read_documents(inventory, files)
    return _report(DocumentError(docs.issues).lines(), [w.text() for w in docs.warnings(now)])


def inventory_validate(files: Sequence[str], mous: Sequence[str] | None, now: datetime | None = None) -> int:
    now = now or SystemClock().now()
    errors = validate_inventory(files)
    warnings: list[str] = []
    if mous and not errors:  # the zones of its cameras against the MOUs covering their sites
        for inventory in files:
            docs = read_documents(inventory, mous)
            errors += DocumentError(docs.issues).lines()
            warnings += [w.text() for w in docs.warnings(now)]
    return _report(errors, warnings)
