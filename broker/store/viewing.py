"""Open viewing sessions and the replicas holding them (``viewing_sessions``, ``replicas``).

The audit chain is the record of what was watched; these two tables only say which sessions are still open,
and on which broker process, so that the sessions of a process that died (kill -9, power loss) get their
``session.end`` from whoever notices: the restarted process or another replica. Rows are written by the audit
writer's hooks in the very transaction of the ``session.start`` / ``session.end`` record (see
:mod:`broker.audit.writer`), so the table never disagrees with the chain.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from broker.store.db import Store
from broker.store.tables import replicas, viewing_sessions
from broker.store.types import as_utc

if TYPE_CHECKING:
    from broker.audit.records import AuditRecord  # the store may not import audit at run time

_END = delete(viewing_sessions)


def _session_id(rec: AuditRecord) -> str | None:
    sid = rec.details.get("session")
    return sid if isinstance(sid, str) else None


class ViewingRepository:
    """This replica's view of the open sessions; ``replica`` names this process."""

    def __init__(self, store: Store, replica: str) -> None:
        self._store = store
        self.replica = replica

    # -- audit writer hooks (inside the record's transaction) --------------------------------------------
    def on_start(self, conn: Connection, records: list[AuditRecord]) -> None:
        rows = [
            {"id": sid, "replica": self.replica, "start_seq": r.seq, "camera": r.camera or ""}
            for r in records
            if (sid := _session_id(r)) is not None
        ]
        if rows:
            conn.execute(insert(viewing_sessions), rows)

    def on_end(self, conn: Connection, records: list[AuditRecord]) -> None:
        ids = [sid for r in records if (sid := _session_id(r)) is not None]
        if ids:
            conn.execute(_END.where(viewing_sessions.c.id.in_(ids)))

    # -- replicas ----------------------------------------------------------------------------------------
    def beat(self, now: datetime, lock_timeout: float | None = None) -> None:
        """Say this replica is alive (registering it on the first beat)."""
        at = as_utc(now, name="now")
        try:
            with self._store.begin_write(lock_timeout) as conn:
                done = conn.execute(update(replicas).where(replicas.c.id == self.replica).values(seen_at=at))
                if done.rowcount == 0:
                    conn.execute(insert(replicas).values(id=self.replica, started_at=at, seen_at=at))
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc

    def orphans(self, now: datetime, timeout: timedelta, limit: int = 500) -> list[dict[str, Any]]:
        """Open sessions of other replicas not seen for ``timeout`` (or never registered), oldest first."""
        cutoff = as_utc(now, name="now") - timeout
        v, r = viewing_sessions.c, replicas.c
        query = (
            select(v.id, v.replica, v.start_seq, v.camera)
            .select_from(viewing_sessions.outerjoin(replicas, r.id == v.replica))
            .where(v.replica != self.replica, (r.id.is_(None)) | (r.seen_at < cutoff))
            .order_by(v.start_seq)
            .limit(limit)
        )
        try:
            with self._store.engine.connect() as conn:
                return [dict(row._mapping) for row in conn.execute(query)]
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc

    def forget_dead(self, now: datetime, timeout: timedelta) -> int:
        """Remove replicas not seen for ``timeout`` that hold no open session any more."""
        cutoff = as_utc(now, name="now") - timeout
        r, v = replicas.c, viewing_sessions.c
        holding = select(v.replica).distinct()
        try:
            with self._store.begin_write() as conn:
                gone = conn.execute(delete(replicas).where(r.seen_at < cutoff, r.id.not_in(holding)))
                return gone.rowcount or 0
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc

    def leave(self) -> None:
        """This replica stops (clean shutdown, after its sessions were closed)."""
        try:
            with self._store.begin_write() as conn:
                conn.execute(delete(replicas).where(replicas.c.id == self.replica))
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc
