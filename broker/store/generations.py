"""The document generation: how every replica learns that the inventory and MOUs were reloaded.

Each applied reload bumps one shared counter; a replica serving an older generation re-reads its documents
(housekeeping compares every tick, one indexed single-row read). The counter lives beside the emergencies
generation in ``counters``.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from broker.store.db import Store
from broker.store.tables import DOCUMENTS_COUNTER, counters

_READ = select(counters.c.value).where(counters.c.name == DOCUMENTS_COUNTER)
_BUMP = (
    update(counters)
    .where(counters.c.name == DOCUMENTS_COUNTER)
    .values(value=counters.c.value + 1)
    .returning(counters.c.value)
)


class DocumentGenerations:
    def __init__(self, store: Store) -> None:
        self._store = store

    def current(self) -> int:
        """The newest generation any replica applied (raises StoreUnavailable)."""
        try:
            with self._store.engine.connect() as conn:
                return int(conn.execute(_READ).scalar_one_or_none() or 0)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc

    def bump(self) -> int:
        """Announce a new generation to every replica; returns it (raises StoreUnavailable)."""
        try:
            with self._store.begin_write() as conn:
                return int(conn.execute(_BUMP).scalar_one())
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc
