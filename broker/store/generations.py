"""The document generation: how every replica learns that the inventory and MOUs were reloaded.

Each applied reload bumps one shared counter; a replica serving an older generation re-reads its documents
(housekeeping compares every tick, one indexed single-row read). The counter lives beside the emergencies
generation in ``counters``.

The counter is bound to the audit chain (:mod:`broker.store.binding`): :meth:`DocumentGenerations.advance_in`
moves it in the transaction of the ``policy.reload`` record that applied the new generation. A generation
announced while the audit log could not be written (:meth:`DocumentGenerations.bump`) is unbound until the
first replica that applies it records it (:meth:`DocumentGenerations.bind_announced_in`).
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import SQLAlchemyError

from broker.errors import Conflict
from broker.store.binding import UNBOUND, Binding
from broker.store.changes import NOTIFY_DOCUMENTS
from broker.store.db import Store
from broker.store.tables import DOCUMENTS_COUNTER, counters

_ROW = counters.c.name == DOCUMENTS_COUNTER
_READ = select(counters.c.value).where(_ROW)
_BUMP = update(counters).where(_ROW).values(value=counters.c.value + 1, **UNBOUND).returning(counters.c.value)


def notify_in(conn: Connection) -> None:
    """PostgreSQL: wake the other replicas' change listeners when this transaction commits (they follow the new
    generation at once instead of at their next housekeeping tick; :mod:`broker.store.changes`)."""
    if conn.dialect.name == "postgresql":
        conn.execute(NOTIFY_DOCUMENTS)


class DocumentGenerations:
    def __init__(self, store: Store) -> None:
        self._store = store

    def current(self) -> int:
        """The newest generation any replica applied (raises StoreUnavailable)."""
        try:
            with self._store.engine.connect() as conn:
                return self.read_in(conn)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc

    def bump(self) -> int:
        """Announce a new generation with no record yet (the audit log is down); returns it (StoreUnavailable)."""
        try:
            with self._store.begin_write() as conn:
                return int(conn.execute(_BUMP).scalar_one())  # followed at the next tick (no notice)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc

    # -- inside the policy.reload record's transaction (AuditLog.append_bound) --------------------------------
    @staticmethod
    def read_in(conn: Connection) -> int:
        return int(conn.execute(_READ).scalar_one_or_none() or 0)

    @staticmethod
    def advance_in(conn: Connection, generation: int, binding: Binding) -> None:
        """Announce ``generation`` (the one after the current), bound to the record that applied it."""
        done = conn.execute(
            update(counters)
            .where(_ROW, counters.c.value == generation - 1)
            .values(value=generation, **binding.values())
        )
        if done.rowcount != 1:  # the chain's lock serialises reloads: only a change outside them gets here
            raise Conflict(f"the document generation moved while generation {generation} was being recorded")
        notify_in(conn)

    @staticmethod
    def bind_announced_in(conn: Connection, generation: int, binding: Binding) -> bool:
        """Bind a generation announced without a record (:meth:`bump`) to the first record applying it."""
        done = conn.execute(
            update(counters)
            .where(_ROW, counters.c.value == generation, counters.c.audit_seq.is_(None))
            .values(**binding.values())
        )
        return bool(done.rowcount == 1)
