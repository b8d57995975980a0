"""The audit log: append-only, hash-chained, shared by every broker replica using the same database.

Appends are serialised twice: a ``threading.Lock`` inside the process, and the database itself across
processes (``SELECT ... FOR UPDATE`` on the head row on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite).
The record and the new head are written in one transaction, so a failed append leaves the chain as it
was. Every failure raises :class:`~broker.errors.AuditUnavailable`: callers must then refuse access.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError

from broker.audit.chain import VerifyResult, canonical, record_hash, verify
from broker.audit.records import APPEND_FIELDS, AuditRecord
from broker.clock import Clock
from broker.errors import AuditUnavailable, InvalidRequest
from broker.store.db import Store, driver_problem
from broker.store.tables import audit_head, audit_records
from broker.store.types import as_utc

log = logging.getLogger(__name__)

VERIFY_PAGE = 5000
MAX_QUERY = 1000
_STR_FIELDS = APPEND_FIELDS - {"principal_roles", "allowed", "details"}

# Built once: appends are on every request's path, and building statements costs more than running them.
_HEAD = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
_LOCK_HEAD = _HEAD.with_for_update()
_INSERT = audit_records.insert()
_MOVE_HEAD = update(audit_head).where(audit_head.c.id == 1).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))


def _prepare(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise the caller's fields; mistakes here are programming errors (TypeError)."""
    unknown = sorted(set(fields) - APPEND_FIELDS)
    if unknown:
        raise TypeError(f"AuditLog.append() got unknown field(s): {', '.join(unknown)}")
    if not isinstance(kind, str) or not 0 < len(kind) <= 64:
        raise TypeError("kind must be a non-empty string of at most 64 characters")
    for name in _STR_FIELDS & fields.keys():
        if fields[name] is not None and not isinstance(fields[name], str):
            raise TypeError(f"{name} must be a string or None, not {type(fields[name]).__name__}")
    allowed = fields.get("allowed")
    if allowed is not None and not isinstance(allowed, bool):
        raise TypeError("allowed must be a bool or None")
    roles = fields.get("principal_roles") or ()
    if isinstance(roles, str) or not all(isinstance(r, str) for r in roles):
        raise TypeError("principal_roles must be a collection of strings")
    details = fields.get("details") or {}
    if not isinstance(details, dict):
        raise TypeError("details must be a dict")
    try:  # store exactly what is hashed: plain JSON (datetimes as RFC 3339, tuples as lists)
        details = json.loads(canonical(details))
    except ValueError as exc:
        raise TypeError(f"details are not JSON serialisable: {exc}") from exc
    return {**fields, "kind": kind, "principal_roles": tuple(sorted(roles)), "details": details}


def _record(row: Row[Any]) -> AuditRecord:
    values = dict(row._mapping)
    values["principal_roles"] = tuple(values["principal_roles"])
    return AuditRecord(**values)


class AuditLog:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._lock = threading.Lock()
        self.healthy = True  # False after a failed append, until the next one succeeds

    # -- writing -----------------------------------------------------------------------------------

    def append(self, kind: str, **fields: Any) -> AuditRecord:
        """Write one record; raises AuditUnavailable (fail closed) if it cannot be made durable."""
        values = _prepare(kind, fields)
        with self._lock:
            try:
                rec = self._append(values)
            except Exception as exc:
                self.healthy = False
                log.error("audit append failed (%s): %s", kind, driver_problem(exc))
                raise AuditUnavailable("the audit record could not be written, so the request is refused") from exc
            self.healthy = True
            return rec

    def probe(self) -> bool:
        """Could a record be written now? Takes the chain's lock, touches both tables, rolls back.

        Run by housekeeping every second, so an audit store that became unwritable stops streaming to
        viewers whose sessions are already open (they write no record per segment) within a second.
        """
        with self._lock:
            try:
                with self._store.begin_probe() as conn:
                    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=audit_head.c.seq))
                    conn.execute(select(audit_records.c.seq).limit(0)).all()
            except Exception as exc:
                if self.healthy:
                    log.error("audit store not writable: %s", driver_problem(exc))
                self.healthy = False
            else:
                self.healthy = True
            return self.healthy

    def _append(self, values: dict[str, Any]) -> AuditRecord:
        with self._store.begin_write() as conn:
            head = conn.execute(_LOCK_HEAD).one()
            rec = AuditRecord(
                seq=head.seq + 1,
                ts=as_utc(self._clock.now(), name="clock.now()"),
                prev_hash=head.hash,
                **values,
            )
            rec = replace(rec, hash=record_hash(rec))
            conn.execute(_INSERT, {**rec.hash_fields(), "hash": rec.hash})
            conn.execute(_MOVE_HEAD, {"new_seq": rec.seq, "new_hash": rec.hash})
        return rec

    # -- reading -----------------------------------------------------------------------------------

    def verify(self) -> VerifyResult:
        """Check the whole chain and the head in one consistent snapshot, reading pages of records."""
        try:
            with self._store.begin_read() as conn:
                head_row = conn.execute(_HEAD).first()
                if head_row is None:
                    result = verify(self._pages(conn), None)
                    return VerifyResult(False, result.records, result.head, None, "the audit head row is missing")
                return verify(self._pages(conn), (head_row.seq, head_row.hash))
        except SQLAlchemyError as exc:
            raise AuditUnavailable(f"the audit log could not be read ({driver_problem(exc)})") from exc

    @staticmethod
    def _pages(conn: Connection) -> Iterator[AuditRecord]:
        after = 0
        while True:
            query = (
                select(audit_records)
                .where(audit_records.c.seq > after)
                .order_by(audit_records.c.seq)
                .limit(VERIFY_PAGE)
            )
            rows = conn.execute(query).all()
            for row in rows:
                yield _record(row)
            if len(rows) < VERIFY_PAGE:
                return
            after = rows[-1].seq

    def query(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        principal: str | None = None,
        camera: str | None = None,
        emergency: str | None = None,
        decision: str | None = None,
        kind: str | None = None,
        after_seq: int | None = None,
        limit: int = 100,
    ) -> tuple[list[AuditRecord], int | None]:
        """Records in seq order and the cursor for the next page (pass it as ``after_seq``), or None."""
        if decision not in (None, "allow", "deny"):
            raise InvalidRequest("decision must be 'allow' or 'deny'", field="decision")
        if limit < 1:
            raise InvalidRequest("limit must be at least 1", field="limit")
        limit = min(limit, MAX_QUERY)
        t = audit_records.c
        query = select(audit_records)
        if since is not None:
            query = query.where(t.ts >= as_utc(since, name="since"))
        if until is not None:
            query = query.where(t.ts < as_utc(until, name="until"))
        for column, value in ((t.principal_sub, principal), (t.camera, camera), (t.emergency, emergency)):
            if value is not None:
                query = query.where(column == value)
        if kind is not None:
            query = query.where(t.kind == kind)
        if decision is not None:
            query = query.where(t.allowed.is_(decision == "allow"))
        if after_seq is not None:
            query = query.where(t.seq > after_seq)
        query = query.order_by(t.seq).limit(limit + 1)
        try:
            with self._store.engine.connect() as conn:
                records = [_record(row) for row in conn.execute(query)]
        except SQLAlchemyError as exc:
            raise AuditUnavailable(f"the audit log could not be read ({driver_problem(exc)})") from exc
        if len(records) > limit:
            return records[:limit], records[limit - 1].seq
        return records, None
