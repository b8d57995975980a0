"""AuditLog.append_bound: a record and the change it describes, one transaction; both or neither."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Connection, select, text, update

from broker.audit import AuditLog, AuditRecord
from broker.errors import AuditUnavailable, Conflict, StoreUnavailable
from broker.store import Store
from broker.store.tables import DOCUMENTS_COUNTER, counters


def bump(conn: Connection, rec: AuditRecord) -> int:
    """The change under test: move the document counter, bound to the record."""
    conn.execute(
        update(counters)
        .where(counters.c.name == DOCUMENTS_COUNTER)
        .values(value=counters.c.value + 1, audit_seq=rec.seq, audit_hash=rec.hash)
    )
    return rec.seq


def documents(store: Store) -> tuple[int, int | None, str | None]:
    with store.engine.connect() as conn:
        row = conn.execute(select(counters).where(counters.c.name == DOCUMENTS_COUNTER)).one()
    return row.value, row.audit_seq, row.audit_hash


def test_the_record_and_the_row_are_written_together(audit: AuditLog, store: Store) -> None:
    rec, result = audit.append_bound("policy.reload", bump, plan=lambda conn: {"details": {"planned": True}})
    assert result == rec.seq == 1 and rec.details == {"planned": True}
    assert documents(store) == (1, rec.seq, rec.hash) and audit.verify().ok


def test_a_refusal_or_a_store_error_writes_neither_and_leaves_the_log_healthy(audit: AuditLog, store: Store) -> None:
    def refuse(conn: Connection, rec: AuditRecord) -> None:
        bump(conn, rec)
        raise Conflict("changed meanwhile")

    def broken(conn: Connection, rec: AuditRecord) -> None:
        conn.execute(text("UPDATE no_such_table SET x = 1"))

    def gone(conn: Connection) -> dict[str, object]:
        raise Conflict("the row is gone")

    with pytest.raises(Conflict):
        audit.append_bound("policy.reload", refuse)
    with pytest.raises(StoreUnavailable):
        audit.append_bound("policy.reload", broken)
    with pytest.raises(Conflict):
        audit.append_bound("policy.reload", bump, plan=gone)
    assert audit.query()[0] == [] and documents(store) == (0, None, None) and audit.healthy


def test_a_chain_failure_writes_neither_and_is_audit_unavailable(audit: AuditLog, store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_records RENAME TO audit_records_away"))
    with pytest.raises(AuditUnavailable):
        audit.append_bound("policy.reload", bump)
    assert documents(store) == (0, None, None) and not audit.healthy


def test_bound_appends_interleave_with_group_commits_in_one_chain(audit: AuditLog, store: Store) -> None:
    def plain() -> None:
        for _ in range(20):
            audit.append("decision", allowed=True)

    def bound() -> None:
        for _ in range(10):
            audit.append_bound("policy.reload", bump)

    threads = [threading.Thread(target=f) for f in (plain, plain, bound)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = audit.verify()
    assert result.ok and result.records == 50
    value, seq, _ = documents(store)
    assert value == 10 and audit.record(seq or 0) is not None
