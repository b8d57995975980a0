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
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, fields, replace
from hashlib import sha256
from typing import Any, TypeVar

from sqlalchemy import Connection, Dialect, bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError

from broker.audit.chain import canonical, record_hash
from broker.audit.records import APPEND_FIELDS, AuditRecord, rfc3339
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


def _blank() -> dict[str, Any]:
    """Every field of a record but its hash, at the record's defaults: what the hash covers (``hash_fields``).

    Derived from the dataclass, so a field added to the record is hashed and stored with no change here.
    """
    blank: dict[str, Any] = {}
    for f in fields(AuditRecord):
        if f.name == "hash":
            continue
        if f.default is not MISSING:
            blank[f.name] = f.default
        elif f.default_factory is not MISSING:
            blank[f.name] = f.default_factory()
        else:
            blank[f.name] = None  # seq, ts, kind: always given
    return blank


_BLANK = _blank()
ROWS_PER_INSERT = 50  # 50 x 18 parameters: under every SQLite's limit (999 before 3.32)


class RowInsert:
    """A batch's rows as multi-row ``INSERT ... VALUES (...), (...)`` statements run by the driver (SQLite's).

    One statement per ``ROWS_PER_INSERT`` rows instead of an executemany: SQLite's executemany steps (and lets go
    of the GIL) once per row, and each time the leader must win the GIL back from the event loop. Values go
    through their columns' own bind processors (:meth:`values`), so what is stored is exactly what SQLAlchemy
    would store. PostgreSQL keeps SQLAlchemy's executemany: psycopg pipelines it, and there long multi-row
    statements cost more than they save.
    """

    def __init__(self, dialect: Dialect) -> None:
        quote = dialect.identifier_preparer.quote
        columns = list(audit_records.columns)
        self._names = [c.name for c in columns]
        self._processors = [
            (i, p)
            for i, c in enumerate(columns)
            if (p := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        ]
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        table = dialect.identifier_preparer.format_table(audit_records)
        self._head = f"INSERT INTO {table} ({', '.join(quote(n) for n in self._names)}) VALUES "
        self._group = "(" + ", ".join([mark] * len(columns)) + ")"
        self._sql: dict[int, str] = {}

    def _statement(self, rows: int) -> str:
        sql = self._sql.get(rows)
        if sql is None:
            sql = self._sql[rows] = self._head + ", ".join([self._group] * rows)
        return sql

    @property
    def columns(self) -> list[str]:
        return list(self._names)

    def values(self, row: Mapping[str, Any], seen: dict[int, tuple[Any, Any]] | None = None) -> list[Any]:
        """``row``'s values in column order, as the driver gets them (JSON as text, ts in the stored form).

        ``seen``: per column, the last value processed and its result, reused while the same object comes again
        (a batch's rows share one ts, whose formatting costs more than the rest of a row).
        """
        values = [row[n] for n in self._names]
        for i, process in self._processors:
            value = values[i]
            if seen is None:
                values[i] = process(value)
                continue
            last = seen.get(i)
            if last is None or last[0] is not value:
                last = seen[i] = (value, process(value))
            values[i] = last[1]
        return values

    def __call__(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        seen: dict[int, tuple[Any, Any]] = {}
        for start in range(0, len(rows), ROWS_PER_INSERT):
            chunk = rows[start : start + ROWS_PER_INSERT]
            params: list[Any] = []
            for row in chunk:
                params.extend(self.values(row, seen))
            conn.exec_driver_sql(self._statement(len(chunk)), tuple(params))


_SCALARS = (str, int, bool, type(None))


def _flat(details: dict[Any, Any]) -> bool:
    """String keys and plain scalar values only (finite floats too): JSON would give back equal values."""
    for key, value in details.items():
        if type(key) is not str:
            return False
        if type(value) not in _SCALARS and not (type(value) is float and math.isfinite(value)):
            return False
    return True


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
    if _flat(details):  # already what JSON gives back (e.g. a served answer's session and totals): a copy will do
        details = dict(details)
    else:
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
        dialect = store.engine.dialect
        self._insert = RowInsert(dialect) if dialect.name == "sqlite" else None

    def write(self, batch: Sequence[dict[str, Any]]) -> list[AuditRecord]:
        """Chain and commit ``batch`` in order; raises (SQLAlchemyError, ...) with nothing written."""
        with self._store.begin_write(self._lock_timeout) as conn:
            head = conn.execute(_LOCK_HEAD).one()
            # One instant per batch, read under the chain's lock: ts never goes back along one replica's chain.
            ts = as_utc(self._clock.now(), name="clock.now()")
            stamp = rfc3339(ts)  # as canonical() writes a datetime: the hash is record_hash(record), built once
            seq, prev = head.seq, head.hash
            records, rows = [], []
            for values in batch:
                seq += 1
                row = {**_BLANK, **values, "seq": seq, "ts": stamp, "prev_hash": prev}  # roles: a tuple, JSON's list
                prev = row["hash"] = sha256(canonical(row)).hexdigest()
                row["ts"] = ts
                rows.append(row)
                records.append(AuditRecord(**row))
            if rows:
                if self._insert is not None:
                    self._insert(conn, rows)
                else:
                    conn.execute(_INSERT, rows)  # executemany, pipelined by psycopg
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
