"""Declared emergencies: the rows behind emergency access, shared by every broker replica."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Row, func, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from broker.errors import Conflict, StoreUnavailable, UnknownEmergency
from broker.store.binding import Binding
from broker.store.changes import NOTIFY_EMERGENCIES
from broker.store.db import Store
from broker.store.tables import EMERGENCIES_COUNTER, counters, emergencies
from broker.store.types import as_utc

MAX_LIST = 5000


@dataclass(frozen=True)
class EmergencyRecord:
    id: str
    mou: str
    site: str
    buildings: tuple[str, ...]
    zones: tuple[str, ...]
    center_lat: float | None
    center_lon: float | None
    radius_m: float | None
    threat: str | None
    incident: str | None
    declared_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    declared_by_sub: str
    declared_by_agency: str
    ended_by_sub: str | None
    ended_by_agency: str | None
    closed_recorded: bool = False  # whether its end/expiry has been written to the audit log
    audit_seq: int | None = None  # the audit record that created or last changed the row (broker.store.binding)
    audit_hash: str | None = None

    def closed_at(self) -> datetime:
        """When access under it stops: the end if ended early, else the expiry."""
        return self.expires_at if self.ended_at is None else min(self.ended_at, self.expires_at)

    def active_at(self, instant: datetime) -> bool:
        return self.declared_at <= instant < self.closed_at()


_COLUMNS = tuple(f.name for f in fields(EmergencyRecord))


def _from_row(row: Row[Any]) -> EmergencyRecord:
    values = dict(row._mapping)
    values["buildings"] = tuple(values["buildings"])
    values["zones"] = tuple(values["zones"])
    values["closed_recorded"] = bool(values["closed_recorded"])
    return EmergencyRecord(**values)


T = TypeVar("T")


def _readable(read: Callable[[], T]) -> T:
    """``read()``, where a row changed outside the broker (a time or a JSON list that is not one: SQLAlchemy
    raises ValueError or TypeError converting it) is StoreUnavailable (503), not a 500: ``camgate audit verify``
    names the row (broker.audit.bindrows)."""
    try:
        return read()
    except (ValueError, TypeError) as exc:
        raise StoreUnavailable(
            f"an emergency row cannot be read ({exc}): it was changed outside the broker (camgate audit verify)"
        ) from None


def _to_row(rec: EmergencyRecord) -> dict[str, Any]:
    row = {name: getattr(rec, name) for name in _COLUMNS}
    for name in ("declared_at", "expires_at", "ended_at"):
        if row[name] is not None:
            row[name] = as_utc(row[name], name=name)
    row["buildings"] = list(rec.buildings)
    row["zones"] = list(rec.zones)
    return row


class EmergencyRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def insert(self, rec: EmergencyRecord) -> None:
        try:
            with self._store.begin_write() as conn:
                self.insert_in(conn, rec)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("insert into", exc) from exc

    # -- inside a transaction the caller holds (the transition's audit record's: AuditLog.append_bound) ---------
    def insert_in(self, conn: Connection, rec: EmergencyRecord, binding: Binding | None = None) -> EmergencyRecord:
        """Insert ``rec`` (bound to ``binding``); returns the row as stored. Conflict if the id exists."""
        if binding is not None:
            rec = replace(rec, **binding.values())
        row = _to_row(rec)
        if row["expires_at"] <= row["declared_at"]:
            raise ValueError("expires_at must be after declared_at")
        try:
            conn.execute(emergencies.insert().values(**row))
        except IntegrityError as exc:
            raise Conflict(f"emergency {rec.id!r} already exists", field="id") from exc
        self._bump(conn)
        return rec

    def lock_in(self, conn: Connection, id: str) -> EmergencyRecord:
        """The row, locked until the transaction ends (PostgreSQL ``FOR UPDATE``; SQLite holds the write lock)."""
        row = conn.execute(select(emergencies).where(emergencies.c.id == id).with_for_update()).first()
        if row is None:
            raise UnknownEmergency(f"no emergency {id!r}", field="id")
        return _from_row(row)

    def write_in(self, conn: Connection, rec: EmergencyRecord, binding: Binding, *, closed: bool = False) -> None:
        """Store ``rec``'s changeable fields (expiry, end) with ``binding``, on a row the caller locked.

        ``closed``: the record is its end or expiry (closed_recorded)."""
        values = {
            "expires_at": as_utc(rec.expires_at, name="expires_at"),
            "ended_at": None if rec.ended_at is None else as_utc(rec.ended_at, name="ended_at"),
            "ended_by_sub": rec.ended_by_sub,
            "ended_by_agency": rec.ended_by_agency,
            **binding.values(),
        }
        if closed:
            values["closed_recorded"] = True
        done = conn.execute(update(emergencies).where(emergencies.c.id == rec.id).values(**values))
        if done.rowcount != 1:
            raise UnknownEmergency(f"no emergency {rec.id!r}", field="id")
        self._bump(conn)

    def get(self, id: str) -> EmergencyRecord | None:
        try:
            with self._store.engine.connect() as conn:
                return self._get(conn, id)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc

    def list(
        self,
        *,
        active_at: datetime | None = None,
        site: str | None = None,
        mou: str | None = None,
        limit: int = 500,
    ) -> builtins.list[EmergencyRecord]:
        """Newest first, at most ``limit`` (listings; decisions read :meth:`active`, which has no limit).
        ``active_at``: declared_at <= t < min(ended_at, expires_at)."""
        query = select(emergencies)
        if active_at is not None:
            t = as_utc(active_at, name="active_at")
            query = query.where(
                emergencies.c.declared_at <= t,
                emergencies.c.expires_at > t,
                or_(emergencies.c.ended_at.is_(None), emergencies.c.ended_at > t),
            )
        if site is not None:
            query = query.where(emergencies.c.site == site)
        if mou is not None:
            query = query.where(emergencies.c.mou == mou)
        query = query.order_by(emergencies.c.declared_at.desc(), emergencies.c.id.desc())
        return self._select(query.limit(max(1, min(limit, MAX_LIST))))

    def active(self, at: datetime) -> builtins.list[EmergencyRecord]:
        """EVERY emergency active at ``at`` (declared_at <= at < min(ended_at, expires_at)), in declaration order.

        The decision point's read, so no limit: a limit would let a flood of newer declarations elsewhere hide an
        active one from every decision (issue 13: 510 declarations at one site made another's answer 403
        ``no_emergency`` while its emergency was active). Declarations are rate-limited
        (``emergencies.rate_limit``), which bounds the set; the read stays linear in it."""
        t = as_utc(at, name="at")
        query = (
            select(emergencies)
            .where(
                emergencies.c.declared_at <= t,
                emergencies.c.expires_at > t,
                or_(emergencies.c.ended_at.is_(None), emergencies.c.ended_at > t),
            )
            .order_by(emergencies.c.declared_at, emergencies.c.id)
        )
        return self._select(query)

    def declared_since(self, sub: str, agency: str, since: datetime, limit: int) -> builtins.list[datetime]:
        """When ``sub`` of ``agency`` declared since ``since``: the newest ``limit`` instants, oldest first (a rate
        limit's count and, from the oldest, when the window lets one more in)."""
        query = (
            select(emergencies.c.declared_at)
            .where(
                emergencies.c.declared_at > as_utc(since, name="since"),
                emergencies.c.declared_by_sub == sub,
                emergencies.c.declared_by_agency == agency,
            )
            .order_by(emergencies.c.declared_at.desc())
            .limit(max(1, limit))
        )
        try:
            with self._store.engine.connect() as conn:
                rows = _readable(lambda: [as_utc(row[0], name="declared_at") for row in conn.execute(query)])
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc
        return sorted(rows)

    def end(self, id: str, *, ended_at: datetime, by_sub: str, by_agency: str) -> EmergencyRecord:
        """End an open emergency; one conditional UPDATE, so two concurrent ends cannot both win."""
        at = as_utc(ended_at, name="ended_at")
        current, changed = self._update_open(
            id, at, {"ended_at": at, "ended_by_sub": by_sub, "ended_by_agency": by_agency}
        )
        if not changed:
            state = "ended" if current.ended_at is not None else "expired"
            raise Conflict(f"emergency {id!r} has already {state}", field="id")
        return current

    def extend(self, id: str, *, expires_at: datetime, now: datetime) -> EmergencyRecord:
        """Move an open emergency's expiry later; one conditional UPDATE (it must still be open at ``now``)."""
        new = as_utc(expires_at, name="expires_at")
        current, changed = self._update_open(
            id, as_utc(now, name="now"), {"expires_at": new}, emergencies.c.expires_at < new
        )
        if not changed:
            raise Conflict(f"emergency {id!r} is no longer open", field="id")
        return current

    def _update_open(self, id: str, at: datetime, values: dict[str, Any], *where: Any) -> tuple[EmergencyRecord, bool]:
        """Update ``id`` if it is open at ``at`` (and ``where``), bumping the generation; (the row now, changed)."""
        try:
            with self._store.begin_write() as conn:
                result = conn.execute(
                    update(emergencies)
                    .where(
                        emergencies.c.id == id, emergencies.c.ended_at.is_(None), emergencies.c.expires_at > at, *where
                    )
                    .values(**values)
                )
                changed = result.rowcount == 1
                if changed:
                    self._bump(conn)
                current = self._get(conn, id)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("update of", exc) from exc
        if current is None:
            raise UnknownEmergency(f"no emergency {id!r}", field="id")
        return current, changed

    def unrecorded_closed(self, now: datetime) -> builtins.list[EmergencyRecord]:
        """Ended or expired (expires_at <= now) emergencies whose close is not yet in the audit log."""
        t = as_utc(now, name="now")
        query = (
            select(emergencies)
            .where(
                emergencies.c.closed_recorded.is_(False),
                or_(emergencies.c.ended_at.is_not(None), emergencies.c.expires_at <= t),
            )
            .order_by(func.coalesce(emergencies.c.ended_at, emergencies.c.expires_at), emergencies.c.id)
            .limit(MAX_LIST)
        )
        return self._select(query)

    def mark_closed_recorded(self, id: str) -> None:
        try:
            with self._store.begin_write() as conn:
                result = conn.execute(update(emergencies).where(emergencies.c.id == id).values(closed_recorded=True))
        except SQLAlchemyError as exc:
            raise self._store.unavailable("update of", exc) from exc
        if result.rowcount != 1:
            raise UnknownEmergency(f"no emergency {id!r}", field="id")

    def generation(self) -> int:
        """Bumped on every insert and end: compare to tell cheaply whether the set changed."""
        try:
            with self._store.engine.connect() as conn:
                value = conn.execute(
                    select(counters.c.value).where(counters.c.name == EMERGENCIES_COUNTER)
                ).scalar_one_or_none()
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc
        return int(value or 0)

    # -- helpers -----------------------------------------------------------------------------------

    def _select(self, query: Any) -> builtins.list[EmergencyRecord]:
        try:
            with self._store.engine.connect() as conn:
                return _readable(lambda: [_from_row(row) for row in conn.execute(query)])
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc

    @staticmethod
    def _get(conn: Connection, id: str) -> EmergencyRecord | None:
        row = _readable(lambda: conn.execute(select(emergencies).where(emergencies.c.id == id)).first())
        return None if row is None else _readable(lambda: _from_row(row))

    @staticmethod
    def _bump(conn: Connection) -> None:
        conn.execute(update(counters).where(counters.c.name == EMERGENCIES_COUNTER).values(value=counters.c.value + 1))
        if conn.dialect.name == "postgresql":  # delivered at COMMIT, only if it commits (broker.store.changes)
            conn.execute(NOTIFY_EMERGENCIES)
