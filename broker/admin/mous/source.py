"""The reloader's MOUs when the store is authoritative (``mous.source = "store"``): the enforced versions.

Returns the document set in force now and, when an approved version waits for its start, the set from that instant
with it: both are compiled at reload, and :class:`~broker.inventory.catalog.LiveCatalog` swaps to the second at
that instant exactly (issue 14: "enforced exactly from ``effective``"), on every replica, with no reload.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from broker.admin.mous.registry import MouRegistry
from broker.documents import DocumentSet
from broker.documents.loader import InventoryRead, read_documents_with_texts, read_inventory_digested

StoreRead = tuple[DocumentSet, DocumentSet | None, datetime | None]


def store_documents(registry: MouRegistry, inventory: Path, read: InventoryRead | None = None) -> StoreRead:
    """``read``: the inventory read already (the file with the store's camera classifications applied on top,
    :mod:`broker.admin.classify`); else the file as it is."""
    read = read if read is not None else read_inventory_digested(inventory)
    index = read[0].index() if read[0] is not None else None
    texts = registry.enforced_texts(index)
    now = read_documents_with_texts(inventory, texts.now, read)
    later = read_documents_with_texts(inventory, texts.then, read) if texts.then is not None else None
    return now, later, texts.next_at
