"""The outbox of webhook notices: written with the transition, delivered later by any replica, exactly once claimed.

A notice is a row from the moment its emergency transition is recorded until it is delivered or given up,
so it survives a restart. Delivery claims due rows (:meth:`OutboxRepository.claim`): on PostgreSQL with
``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL docs, "The Locking Clause": "any rows that cannot be
immediately locked are skipped"), so two replicas claiming at once take disjoint rows without waiting on
each other; on SQLite ``BEGIN IMMEDIATE`` serialises the claims. Either way the claim sets a lease
(``lease_owner``, ``lease_until``): nobody else takes the row until the lease runs out, and only the
lease's owner may record the attempt's result. A claimer that dies mid-attempt leaves the row to be claimed
again when the lease expires (at-least-once; receivers dedupe on the notice id, Standard Webhooks spec,
"Idempotency").
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from broker.store.db import Store
from broker.store.tables import notices
from broker.store.types import as_utc

PENDING, DELIVERED, GAVE_UP = "pending", "delivered", "gave_up"


@dataclass(frozen=True)
class Notice:
    id: str
    webhook: str
    kind: str
    emergency: str
    mou: str
    site: str
    body: str
    state: str
    created_at: datetime
    due_at: datetime
    attempts: int  # including the attempt now claimed
    lease_owner: str | None = None
    lease_until: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    finished_at: datetime | None = None
    audit_seq: int | None = None  # the audit record whose notice it is (broker.store.binding)
    audit_hash: str | None = None


def _notice(row: Row[Any]) -> Notice:
    return Notice(**dict(row._mapping))


class OutboxRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, rows: Sequence[Notice]) -> int:
        """Insert new notices; an id already present is skipped (the same transition recorded twice).

        One local transaction, no network: this runs on the emergency's own path.
        """
        if not rows:
            return 0
        try:
            with self._store.begin_write() as conn:
                return self.add_in(conn, rows)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("insert into", exc) from exc

    @staticmethod
    def add_in(conn: Connection, rows: Sequence[Notice]) -> int:
        """:meth:`add` inside the caller's transaction (the audit record's whose notices they are)."""
        values = [{**r.__dict__, "created_at": as_utc(r.created_at), "due_at": as_utc(r.due_at)} for r in rows]
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(notices).on_conflict_do_nothing(index_elements=[notices.c.id]).returning(notices.c.id)
        )  # rowcount is not reliable here (psycopg reports -1): count the rows actually inserted
        return sum(len(conn.execute(statement, v).all()) for v in values)

    def claim(self, now: datetime, owner: str, lease: timedelta, limit: int) -> list[Notice]:
        """Take up to ``limit`` due notices for ``owner`` until ``now + lease``; counts the attempt."""
        t = as_utc(now, name="now")
        due = (
            select(notices.c.id)
            .where(
                notices.c.state == PENDING,
                notices.c.due_at <= t,
                or_(notices.c.lease_until.is_(None), notices.c.lease_until <= t),
            )
            .order_by(notices.c.due_at, notices.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # PostgreSQL; SQLite holds the database write lock instead
        )
        try:
            with self._store.begin_write() as conn:
                ids = list(conn.execute(due).scalars())
                if not ids:
                    return []
                conn.execute(
                    update(notices)
                    .where(notices.c.id.in_(ids))
                    .values(lease_owner=owner, lease_until=t + lease, attempts=notices.c.attempts + 1)
                )
                rows = conn.execute(select(notices).where(notices.c.id.in_(ids))).all()
        except SQLAlchemyError as exc:
            raise self._store.unavailable("claim from", exc) from exc
        return sorted((_notice(r) for r in rows), key=lambda n: (n.due_at, n.id))

    def retry(self, id: str, owner: str, *, due_at: datetime, status: int | None, error: str | None) -> bool:
        """Release a failed attempt for another at ``due_at``; False if the lease was lost meanwhile."""
        return self._settle(id, owner, state=PENDING, due_at=as_utc(due_at), last_status=status, last_error=error)

    def finish(self, id: str, owner: str, *, state: str, at: datetime, status: int | None, error: str | None) -> bool:
        """Mark delivered or given up; False if the lease was lost meanwhile."""
        if state not in (DELIVERED, GAVE_UP):
            raise ValueError(f"not a final state: {state!r}")
        return self._settle(id, owner, state=state, finished_at=as_utc(at), last_status=status, last_error=error)

    def release(self, owner: str) -> int:
        """Give back every lease ``owner`` holds (a dispatcher stopping cleanly): due again at once elsewhere."""
        try:
            with self._store.begin_write() as conn:
                result = conn.execute(
                    update(notices)
                    .where(notices.c.lease_owner == owner, notices.c.state == PENDING)
                    .values(lease_owner=None, lease_until=None)
                )
        except SQLAlchemyError as exc:
            raise self._store.unavailable("update of", exc) from exc
        return int(result.rowcount)

    def get(self, id: str) -> Notice | None:
        return next(iter(self._select(select(notices).where(notices.c.id == id))), None)

    def list(self, *, emergency: str | None = None, state: str | None = None) -> list[Notice]:
        query = select(notices).order_by(notices.c.created_at, notices.c.id)
        if emergency is not None:
            query = query.where(notices.c.emergency == emergency)
        if state is not None:
            query = query.where(notices.c.state == state)
        return self._select(query)

    def _settle(self, id: str, owner: str, **values: Any) -> bool:
        try:
            with self._store.begin_write() as conn:
                result = conn.execute(
                    update(notices)
                    .where(notices.c.id == id, notices.c.lease_owner == owner, notices.c.state == PENDING)
                    .values(lease_owner=None, lease_until=None, **values)
                )
        except SQLAlchemyError as exc:
            raise self._store.unavailable("update of", exc) from exc
        return result.rowcount == 1

    def _select(self, query: Any) -> builtins.list[Notice]:
        try:
            with self._store.engine.connect() as conn:
                return [_notice(r) for r in conn.execute(query)]
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc
