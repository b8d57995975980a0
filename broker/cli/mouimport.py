"""``camgate mou import DIR|FILE ...``: MOU files the parties signed on paper, stored as in-force versions.

For a broker whose MOUs the store keeps (``mous.source = "store"``). Each file is validated against the inventory
exactly as ``camgate mou validate --inventory`` does; one invalid file imports nothing (exit 2, every problem as
``FILE:LINE: path: message``). A file whose version is stored with the same text is ``unchanged``; with other text
it is refused (exit 2: nothing is overwritten). Each import is one ``mou.import`` audit record; running brokers
take the imported versions up within a second (the document generation moves).
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from broker.settings import Settings

if TYPE_CHECKING:
    from broker.admin.mous.service import MouService
    from broker.documents.inventory import InventoryIndex
    from broker.store import Store


def run(settings: Settings, files: Sequence[str], who: dict[str, Any] | None = None) -> int:
    from broker.documents import load_inventory, mou_files
    from broker.errors import StoreUnavailable
    from broker.store import Store
    from broker.store.generations import DocumentGenerations

    paths = mou_files(files)
    if not paths:
        print(f"camgate mou import: no MOU files in {', '.join(files)}", file=sys.stderr)
        return 2
    items = []
    for path in paths:
        try:
            items.append((str(path), path.read_bytes()))
        except OSError as exc:
            print(f"{path}:0: (document): cannot read: {exc.strerror or exc}", file=sys.stderr)
            return 2
    index = load_inventory(settings.policy.inventory).index()  # DocumentError: exit 2 (server_cmds), no store made
    store = Store.open(settings.database_url, schema=settings.store.schema_)
    try:
        store.create_all()
        service = _service(settings, store, lambda: index)
        results = service.import_texts(items, who or {"principal_sub": f"cli:{_user()}"})
        if any(r["outcome"] == "imported" for r in results):
            try:
                DocumentGenerations(store).bump()  # running replicas reload and record it
            except StoreUnavailable as exc:
                print(f"camgate mou import: imported, but no broker was told: {exc.message}", file=sys.stderr)
    finally:
        store.dispose()
    for r in results:
        print(json.dumps(r))
    if settings.mous.source != "store":
        print(
            'camgate mou import: note: mous.source is "files": the broker enforces policy.mous, not the store',
            file=sys.stderr,
        )
    return 0


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def import_if_empty(settings: Settings, directories: Sequence[Path]) -> int:
    """The demo's first start: the MOU files go into an empty store (as ``camgate mou import``). How many."""
    from broker.documents import load_inventory, mou_files
    from broker.store import Store
    from broker.store.mous import MouRepository

    store = Store.open(settings.database_url, schema=settings.store.schema_)
    try:
        store.create_all()
        if MouRepository(store).all():
            return 0
        index = load_inventory(settings.policy.inventory).index()
        service = _service(settings, store, lambda: index)
        items = [(str(p), p.read_bytes()) for p in mou_files(directories)]
        results = service.import_texts(items, {"principal_sub": "camgate:demo"})
        return sum(r["outcome"] == "imported" for r in results)
    finally:
        store.dispose()


def _service(settings: Settings, store: Store, index: Callable[[], InventoryIndex]) -> MouService:
    """The MOU service an import needs, outside a running broker (``index``: the inventory to validate against)."""
    from broker.admin.mous.registry import MouRegistry
    from broker.admin.mous.service import MouService
    from broker.audit import AuditLog
    from broker.clock import SystemClock
    from broker.store.mous import MouRepository

    clock = SystemClock()
    audit = AuditLog(store, clock, write_timeout=settings.audit.write_timeout_seconds)
    return MouService(MouRegistry(MouRepository(store), index, clock), audit, settings.mous)
