"""Writing a batch of audit records in one transaction: the unit of work of the group commit.

:meth:`BatchWriter.write` locks the head (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the
``BEGIN IMMEDIATE`` of :meth:`~broker.store.db.Store.begin_write` already holds the database's write
lock), chains the records' hashes in order after it, inserts them with one executemany, moves the head
once and commits. Either every record of the batch is durable or none is and the chain is as it was.

``hooks`` keep side tables in step with the records that describe them, in the same transaction: e.g. the
open viewing sessions (a ``session.start`` adds one, a ``session.end`` removes it), so that a broker killed
with ``kill -9`` leaves exactly the sessions whose end must be recovered, never one more or one fewer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError

from broker.audit.chain import canonical, record_hash
from broker.audit.records import APPEND_FIELDS, AuditRecord
from broker.clock import Clock
from broker.store.db import Store
from broker.store.tables import audit_head, audit_records
from broker.store.types import as_utc

_STR_FIELDS = APPEND_FIELDS - {"principal_roles", "allowed", "details"}

# Built once: appends are on every request's path, and building statements costs more than running them.
HEAD = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
_LOCK_HEAD = HEAD.with_for_update()
_INSERT = audit_records.insert()
_MOVE_HEAD = update(audit_head).where(audit_head.c.id == 1).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))


def prepare(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Check and normalise the caller's fields; mistakes here are programming errors (TypeError).

    Run in the caller's thread before the record joins a batch, so one bad call cannot fail the others.
    """
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


#: Run inside the batch's transaction with the batch's records of one kind (in chain order).
Hook = Callable[[Connection, list[AuditRecord]], None]

T = TypeVar("T")
#: :meth:`BatchWriter.write_bound`: fields of the record read from the store under the chain's lock...
Plan = Callable[[Connection], dict[str, Any]]
#: ...and the change of the store that the record describes, given the record (its seq and hash).
Bind = Callable[[Connection, AuditRecord], T]


def _guarded(store: Store, fn: Callable[[], T]) -> T:
    """Run a caller's plan or bind: its own errors (CamgateError) pass, a database error becomes StoreUnavailable
    (the caller's rows failed, not the chain), so that neither reads as the audit log being unwritable."""
    try:
        return fn()
    except SQLAlchemyError as exc:
        raise store.unavailable("write to", exc) from exc


class BatchWriter:
    """Appends batches of prepared records (see :func:`prepare`) to the chain, one transaction each.

    ``lock_timeout``: how long a batch waits for another writer's lock before failing (None: the store's).
    """

    def __init__(
        self, store: Store, clock: Clock, *, lock_timeout: float | None = None, hooks: Mapping[str, Hook] | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._lock_timeout = lock_timeout
        self.hooks: dict[str, Hook] = dict(hooks or {})

    def write(self, batch: Sequence[dict[str, Any]]) -> list[AuditRecord]:
        """Chain and commit ``batch`` in order; raises (SQLAlchemyError, ...) with nothing written."""
        with self._store.begin_write(self._lock_timeout) as conn:
            head = conn.execute(_LOCK_HEAD).one()
            # One instant per batch, read under the chain's lock: ts never goes back along one replica's chain.
            ts = as_utc(self._clock.now(), name="clock.now()")
            seq, prev = head.seq, head.hash
            records, rows = [], []
            for values in batch:
                seq += 1
                rec = AuditRecord(seq=seq, ts=ts, prev_hash=prev, **values)
                rec = replace(rec, hash=record_hash(rec))
                records.append(rec)
                rows.append({**rec.hash_fields(), "hash": rec.hash})
                prev = rec.hash
            if rows:
                conn.execute(_INSERT, rows)  # executemany
                conn.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev})
            for kind, hook in self.hooks.items():
                mine = [r for r in records if r.kind == kind]
                if mine:
                    hook(conn, mine)
        return records

    def write_bound(
        self, kind: str, fields: dict[str, Any], bind: Bind[T], plan: Plan | None = None
    ) -> tuple[AuditRecord, T]:
        """One record and the change it describes, in one transaction: both are committed or neither is.

        Under the chain's lock: ``plan(conn)`` (if given) returns more fields of the record, read from the
        store (e.g. the row being changed, locked); the record is chained and inserted; ``bind(conn, record)``
        then writes the change (carrying the record's seq and hash) and its result is returned. ``plan`` and
        ``bind`` refuse with a CamgateError (nothing is written); their database errors raise StoreUnavailable.
        """
        with self._store.begin_write(self._lock_timeout) as conn:
            head = conn.execute(_LOCK_HEAD).one()
            ts = as_utc(self._clock.now(), name="clock.now()")
            if plan is not None:
                planned = _guarded(self._store, lambda: plan(conn))
                fields = {**fields, **planned}
            values = prepare(kind, fields)
            rec = AuditRecord(seq=head.seq + 1, ts=ts, prev_hash=head.hash, **values)
            rec = replace(rec, hash=record_hash(rec))
            conn.execute(_INSERT, [{**rec.hash_fields(), "hash": rec.hash}])
            conn.execute(_MOVE_HEAD, {"new_seq": rec.seq, "new_hash": rec.hash})
            hook = self.hooks.get(kind)
            if hook is not None:
                hook(conn, [rec])
            result = _guarded(self._store, lambda: bind(conn, rec))
        return rec, result
