"""AuditLog on SQLite and PostgreSQL: append, verify, tampering by direct SQL, failures, concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from broker.audit import GENESIS, AuditLog, AuditRecord, record_hash
from broker.clock import FakeClock
from broker.errors import AuditUnavailable
from broker.store import Store


def fill(audit: AuditLog, clock: FakeClock, n: int) -> list[AuditRecord]:
    out = []
    for i in range(n):
        clock.advance(1)
        out.append(
            audit.append(
                "decision",
                principal_sub=f"officer-{i % 2}",
                principal_agency="pd",
                principal_roles=["viewer", "emergency"],
                camera=f"cam-{i}",
                action="live",
                allowed=i % 2 == 0,
                reason="allowed" if i % 2 == 0 else "no_emergency",
                details={"n": i, "note": "ünïcode"},
            )
        )
    return out


def sql(store: Store, statement: str, **params: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_append_assigns_seq_ts_and_links(audit: AuditLog, clock: FakeClock) -> None:
    first = audit.append("session.start", principal_sub="s", principal_roles=("b", "a"), client="10.0.0.1")
    assert (first.seq, first.prev_hash, first.ts) == (1, GENESIS, clock.now())
    assert first.principal_roles == ("a", "b") and first.hash == record_hash(first)
    second = audit.append("decision", allowed=False, details={"when": datetime(2026, 1, 1, tzinfo=UTC)})
    assert second.seq == 2 and second.prev_hash == first.hash
    assert second.details == {"when": "2026-01-01T00:00:00.000000Z"}  # stored as hashed: plain JSON
    result = audit.verify()
    assert result.to_dict() == {"ok": True, "records": 2, "head": second.hash}
    assert audit.query()[0] == [first, second]  # read back exactly as written


def test_empty_log_verifies(audit: AuditLog) -> None:
    assert audit.verify().to_dict() == {"ok": True, "records": 0, "head": GENESIS}


def test_unknown_fields_are_programming_errors(audit: AuditLog) -> None:
    with pytest.raises(TypeError, match="cameraa"):
        audit.append("decision", cameraa="x")
    with pytest.raises(TypeError):
        audit.append("decision", allowed="yes")
    with pytest.raises(TypeError):
        audit.append("decision", details={"x": object()})
    assert audit.healthy and audit.verify().records == 0


def test_modified_record_is_detected(audit: AuditLog, clock: FakeClock, store: Store) -> None:
    fill(audit, clock, 5)
    sql(store, "UPDATE audit_records SET allowed = :a WHERE seq = 3", a=False)  # was an allow
    result = audit.verify()
    assert not result.ok and result.first_bad == 3 and result.problem == "record 3 was modified"
    assert result.records == 2


def test_deleted_middle_record_is_detected(audit: AuditLog, clock: FakeClock, store: Store) -> None:
    fill(audit, clock, 5)
    sql(store, "DELETE FROM audit_records WHERE seq = 3")
    result = audit.verify()
    assert not result.ok and result.first_bad == 3
    assert result.problem == "record 3 missing before record 4"


def test_reordered_records_are_detected(audit: AuditLog, clock: FakeClock, store: Store) -> None:
    records = fill(audit, clock, 5)
    columns = [c for c in records[0].to_dict() if c != "seq"]
    with store.engine.begin() as conn:  # swap the contents of records 2 and 4, keeping their seq
        rows = {r.seq: r._mapping for r in conn.execute(text("SELECT * FROM audit_records WHERE seq IN (2, 4)"))}
        for seq, other in ((2, 4), (4, 2)):
            sets = ", ".join(f'"{c}" = :{c}' for c in columns)
            params = {c: rows[other][c] for c in columns}
            conn.execute(text(f"UPDATE audit_records SET {sets} WHERE seq = :seq"), {**params, "seq": seq})
    result = audit.verify()
    assert not result.ok and result.first_bad == 2 and "record 2" in (result.problem or "")


def test_forged_insert_in_the_middle_is_detected(audit: AuditLog, clock: FakeClock, store: Store) -> None:
    records = fill(audit, clock, 5)
    for seq in (5, 4, 3):  # make room at 3 (highest first: seq is the primary key)
        sql(store, "UPDATE audit_records SET seq = seq + 1 WHERE seq = :s", s=seq)
    forged = AuditRecord(seq=3, ts=records[1].ts, kind="decision", camera="cam-x", prev_hash=records[1].hash)
    forged_hash = record_hash(forged)
    sql(
        store,
        "INSERT INTO audit_records (seq, ts, kind, camera, principal_roles, details, prev_hash, hash)"
        " SELECT 3, ts, 'decision', 'cam-x', '[]', '{}', :prev, :hash FROM audit_records WHERE seq = 2",
        prev=records[1].hash,
        hash=forged_hash,
    )
    sql(store, "UPDATE audit_head SET seq = 6")
    result = audit.verify()
    assert not result.ok and result.first_bad == 3
    assert result.problem == "record 3 was inserted: record 4 links to record 2"


def test_truncated_tail_is_detected_via_head(audit: AuditLog, clock: FakeClock, store: Store) -> None:
    records = fill(audit, clock, 5)
    sql(store, "DELETE FROM audit_records WHERE seq = 5")
    result = audit.verify()
    assert not result.ok and result.first_bad == 5 and "missing at the end" in (result.problem or "")
    assert (result.records, result.head) == (4, records[3].hash)


def test_record_appended_behind_the_logs_back_is_detected(audit: AuditLog, clock: FakeClock, store: Store) -> None:
    fill(audit, clock, 2)
    sql(store, "UPDATE audit_head SET seq = 1")  # as if record 2 had been written outside the log
    result = audit.verify()
    assert not result.ok and result.first_bad == 2


def test_failed_append_is_audit_unavailable_and_leaves_chain(audit: AuditLog, clock: FakeClock, store: Store) -> None:
    fill(audit, clock, 2)
    rogue = "INSERT INTO audit_records (seq, ts, kind, principal_roles, details, prev_hash, hash)"
    sql(store, rogue + " SELECT 3, ts, 'x', '[]', '{}', 'p', 'h' FROM audit_records WHERE seq = 2")
    with pytest.raises(AuditUnavailable):
        audit.append("decision", camera="c")  # seq 3 taken: constraint violation
    assert audit.healthy is False
    sql(store, "DELETE FROM audit_records WHERE seq = 3")
    assert audit.verify().ok  # head untouched by the failed append
    assert audit.append("decision").seq == 3
    assert audit.healthy is True and audit.verify().records == 3


def test_dropped_table_is_audit_unavailable(audit: AuditLog, clock: FakeClock, store: Store) -> None:
    fill(audit, clock, 1)
    sql(store, "DROP TABLE audit_records")
    with pytest.raises(AuditUnavailable):
        audit.append("decision")
    assert audit.healthy is False
    with pytest.raises(AuditUnavailable):
        audit.verify()


def test_database_down_is_audit_unavailable(
    audit: AuditLog, store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    audit.append("decision")
    if store.dialect_name == "sqlite":
        blocker = tmp_path / "blocker"
        blocker.write_text("")
        dead = create_engine(f"sqlite:///{blocker}/gone.db")
    else:
        dead = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/test", connect_args={"connect_timeout": 2})
    store.dispose()
    monkeypatch.setattr(store, "_engine", dead)
    assert store.ping() is False
    with pytest.raises(AuditUnavailable):
        audit.append("decision")
    assert audit.healthy is False
    monkeypatch.undo()
    assert audit.append("decision").seq == 2 and audit.healthy


def test_read_only_sqlite_is_audit_unavailable(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "audit.db"
    writable = Store.open(f"sqlite:///{path}")
    writable.create_all()
    AuditLog(writable, clock).append("decision")
    writable.dispose()
    read_only = Store.open(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        audit = AuditLog(read_only, clock)
        with pytest.raises(AuditUnavailable):
            audit.append("decision")
        assert audit.healthy is False
        assert audit.verify().to_dict()["records"] == 1  # reading still works
    finally:
        read_only.dispose()


def test_concurrent_appends_from_two_replicas_keep_one_chain(store: Store, clock: FakeClock) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    replica = Store.open(url)  # a second process would have its own engine and lock, like this one
    logs = [AuditLog(store, clock), AuditLog(replica, clock)]
    per_thread, errors = 15, []

    def work(n: int) -> None:
        try:
            for i in range(per_thread):
                logs[n % 2].append("decision", camera=f"t{n}-{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    replica.dispose()
    assert errors == []
    result = logs[0].verify()
    assert result.ok and result.records == 8 * per_thread
    records, _ = logs[0].query(limit=1000)
    assert [r.seq for r in records] == list(range(1, 8 * per_thread + 1))
    assert len({r.camera for r in records}) == 8 * per_thread


def test_verify_reads_in_pages(audit: AuditLog, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    import broker.audit.log as log_module

    monkeypatch.setattr(log_module, "VERIFY_PAGE", 3)
    fill(audit, clock, 7)
    assert audit.verify().records == 7


def test_probe_tells_whether_a_record_could_be_written_and_writes_nothing(
    audit: AuditLog, clock: FakeClock, store: Store
) -> None:
    fill(audit, clock, 2)
    head = audit.verify().head
    assert audit.probe() is True and audit.healthy is True
    assert audit.verify().to_dict() == {"ok": True, "records": 2, "head": head}  # nothing written
    sql(store, "DROP TABLE audit_records")
    assert audit.probe() is False and audit.healthy is False


def test_probe_on_a_read_only_sqlite_file(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "audit.db"
    writable = Store.open(f"sqlite:///{path}")
    writable.create_all()
    writable.dispose()
    read_only = Store.open(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        assert AuditLog(read_only, clock).probe() is False
    finally:
        read_only.dispose()
