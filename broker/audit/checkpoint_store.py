"""The ``audit_checkpoints`` table: every signed checkpoint, in signing order, never deleted.

A row keeps the exact signed bytes (``body``) and the signature; the other columns repeat the body for
queries. Reading never trusts the columns: each row is parsed from its body (:meth:`Checkpoint.from_dict`),
and a row whose columns disagree with its body, or that cannot be parsed, is reported as such.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, inspect, select

from broker.audit.checkpoints import Checkpoint, CheckpointError
from broker.store.tables import audit_checkpoints

PAGE = 5000


@dataclass(frozen=True)
class StoredCheckpoint:
    """A row: its position ``n``, its ``id`` column and its checkpoint, or why it is not one (``problem``)."""

    n: int
    id: str
    checkpoint: Checkpoint | None
    problem: str | None = None


def row_values(n: int, cp: Checkpoint) -> dict[str, Any]:
    return {
        "n": n,
        "id": cp.id,
        "kind": cp.kind,
        "records": cp.records,
        "head": cp.head,
        "base_seq": cp.base_seq,
        "ts": cp.ts,
        "key_id": cp.key_id,
        "previous": cp.previous,
        "body": cp.signed_bytes().decode(),
        "signature": cp.signature,
    }


def parse_row(row: Any) -> StoredCheckpoint:
    """A raw row (body and signature as stored) to its checkpoint; never raises."""
    n, rid = row.n, str(row.id)
    try:
        body = json.loads(row.body)
        if not isinstance(body, dict):
            raise CheckpointError("body: not a JSON object")
        cp = Checkpoint.from_dict({**body, "signature": row.signature})
    except (ValueError, TypeError, RecursionError) as exc:
        return StoredCheckpoint(n, rid, None, f"checkpoint row {n} is malformed: {exc}")
    if cp.signed_bytes().decode() != row.body:
        return StoredCheckpoint(n, rid, None, f"checkpoint row {n} is malformed: body: not in canonical form")
    for name in ("id", "kind", "records", "head", "base_seq", "key_id", "previous"):
        if getattr(row, name) != getattr(cp, name):
            return StoredCheckpoint(n, rid, cp, f"checkpoint row {n}: column {name} does not match its signed body")
    return StoredCheckpoint(n, rid, cp)


_COLUMNS = (
    audit_checkpoints.c.n,
    audit_checkpoints.c.id,
    audit_checkpoints.c.kind,
    audit_checkpoints.c.records,
    audit_checkpoints.c.head,
    audit_checkpoints.c.base_seq,
    audit_checkpoints.c.key_id,
    audit_checkpoints.c.previous,
    audit_checkpoints.c.body,
    audit_checkpoints.c.signature,
)


def exists(conn: Connection) -> bool:
    """Whether the table is there (a store made before checkpoints has none until the broker starts on it)."""
    return inspect(conn).has_table("audit_checkpoints")


def latest(conn: Connection) -> StoredCheckpoint | None:
    row = conn.execute(select(*_COLUMNS).order_by(audit_checkpoints.c.n.desc()).limit(1)).first()
    return None if row is None else parse_row(row)


def insert(conn: Connection, n: int, cp: Checkpoint) -> None:
    conn.execute(audit_checkpoints.insert().values(**row_values(n, cp)))


def read_all(conn: Connection, *, after: int = 0, min_records: int | None = None) -> Iterator[StoredCheckpoint]:
    """Every row after position ``after`` in signing order, a page at a time (only ``records >= min_records``)."""
    t = audit_checkpoints.c
    while True:
        query = select(*_COLUMNS).where(t.n > after)
        if min_records is not None:
            query = query.where(t.records >= min_records)
        rows = conn.execute(query.order_by(t.n).limit(PAGE)).all()
        for row in rows:
            yield parse_row(row)
        if len(rows) < PAGE:
            return
        after = rows[-1].n


def page(conn: Connection, *, after: int | None, limit: int) -> tuple[list[StoredCheckpoint], int | None]:
    """Newest first: up to ``limit`` rows below position ``after`` (None: from the newest), and the cursor."""
    t = audit_checkpoints.c
    query = select(*_COLUMNS)
    if after is not None:
        query = query.where(t.n < after)
    rows = conn.execute(query.order_by(t.n.desc()).limit(limit + 1)).all()
    found = [parse_row(row) for row in rows[:limit]]
    return found, (found[-1].n if len(rows) > limit else None)
