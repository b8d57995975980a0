"""BatchWriter on a SQLite file and PostgreSQL: what it stores (through driver-level multi-row INSERTs on SQLite)
is exactly what SQLAlchemy Core stores for the same records, and every record's hash is its record_hash."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, text

from broker.audit import record_hash
from broker.audit.records import AuditRecord
from broker.audit.writer import ROWS_PER_INSERT, BatchWriter, RowInsert, prepare
from broker.clock import FakeClock
from broker.store import Store
from broker.store.tables import audit_head, audit_records


def values(i: int) -> dict[str, Any]:
    """Every column's kinds of value: None, booleans, roles, nested and non-ASCII details."""
    fields: dict[str, Any] = {
        "principal_sub": f"officer-{i}",
        "principal_agency": "pd",
        "principal_roles": ("viewer", "emergency")[: i % 3],
        "camera": None if i % 5 == 0 else f"cam-{i}",
        "action": "live",
        "allowed": (None, True, False)[i % 3],
        "reason": "allowed",
        "grant": "G1",
        "client": "10.0.0.1",
        "details": {"session": f"vs-{i}", "requests": i, "note": "École – ☂", "window": {"start": None}},
    }
    return prepare("session.served" if i % 2 else "decision", fields)


def raw_rows(store: Store) -> list[tuple[Any, ...]]:
    """The rows as the driver returns them (no SQLAlchemy type conversion): the stored text itself."""
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT * FROM audit_records ORDER BY seq")]


def test_rows_are_stored_as_sqlalchemy_core_stores_them_and_hashes_match(store: Store) -> None:
    clock = FakeClock()  # a whole second first: a timestamp without microseconds must still be stored in full
    writer = BatchWriter(store, clock)
    n = 2 * ROWS_PER_INSERT + 3  # three statements in one batch, the last one short
    records = writer.write([values(i) for i in range(n)])
    clock.advance(timedelta(microseconds=123_456))
    records += writer.write([values(i) for i in range(n, n + 5)])

    assert [r.seq for r in records] == list(range(1, n + 6))
    assert all(r.hash == record_hash(r) for r in records)
    assert all(isinstance(r, AuditRecord) and isinstance(r.principal_roles, tuple) for r in records)
    assert records[1].prev_hash == records[0].hash and records[-1].ts == clock.now()
    ours = raw_rows(store)

    with store.begin_write() as conn:  # the same records again, through SQLAlchemy Core's own insert
        conn.execute(delete(audit_records))
        conn.execute(audit_records.insert(), [{**r.hash_fields(), "hash": r.hash} for r in records])
    assert raw_rows(store) == ours


def test_the_head_moves_to_the_last_record_of_each_batch(store: Store) -> None:
    writer = BatchWriter(store, FakeClock())
    first = writer.write([values(i) for i in range(ROWS_PER_INSERT + 1)])
    assert writer.write([]) == []
    with store.engine.connect() as conn:
        head = conn.execute(audit_head.select()).one()
        assert (head.seq, head.hash) == (first[-1].seq, first[-1].hash)
        assert conn.execute(text("SELECT count(*) FROM audit_records")).scalar_one() == ROWS_PER_INSERT + 1


def test_row_insert_stores_what_sqlalchemy_core_stores_on_either_database(store: Store) -> None:
    records = BatchWriter(store, FakeClock()).write([values(i) for i in range(ROWS_PER_INSERT + 2)])
    rows = [{**r.hash_fields(), "hash": r.hash} for r in records]
    core = raw_rows(store)
    with store.begin_write() as conn:
        conn.execute(delete(audit_records))
        RowInsert(store.engine.dialect)(conn, rows)
    assert raw_rows(store) == core


def test_prepare_gives_details_as_json_gives_them_back_and_copies_them() -> None:
    caller = {"session": "vs-1", "requests": 3, "ratio": 0.5, "ok": True, "none": None}
    prepared = prepare("session.served", {"details": caller})["details"]
    caller["requests"] = 4  # the caller's dict changes after the record was prepared
    assert prepared == {"session": "vs-1", "requests": 3, "ratio": 0.5, "ok": True, "none": None}
    assert prepare("x", {"details": {1: ("a", "b")}})["details"] == {"1": ["a", "b"]}  # keys as strings, lists


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), object()])
def test_prepare_refuses_details_json_cannot_carry(bad: object) -> None:
    with pytest.raises(TypeError, match="serialisable"):
        prepare("x", {"details": {"value": bad}})
