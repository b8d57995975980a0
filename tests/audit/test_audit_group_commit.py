"""Group commit through AuditLog on a SQLite file and PostgreSQL: batching, own records, failures, replicas."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event, text

from broker.audit import AuditLog, AuditRecord
from broker.clock import FakeClock
from broker.errors import AuditUnavailable
from broker.store import Store

WAIT = 10.0  # seconds: a bound on waiting for an event, never a sleep


class GatedClock(FakeClock):
    """Read once per transaction, under the chain's lock: the first read waits for ``gate`` to return."""

    def __init__(self) -> None:
        super().__init__()
        self.gate: Callable[[], None] = lambda: None

    def now(self) -> datetime:
        gate, self.gate = self.gate, lambda: None
        gate()
        return super().now()


def count_commits(store: Store) -> list[int]:
    """Commits on ``store``'s engine, counted by the engine itself (every transaction, not the log's own count)."""
    commits = [0]

    def on_commit(_conn: Any) -> None:
        commits[0] += 1

    event.listen(store.engine, "commit", on_commit)
    return commits


def run_threads(n: int, work: Callable[[int], object]) -> dict[int, object]:
    """Run ``work(i)`` in ``n`` threads at once; each result, or the exception it raised, by i."""
    out: dict[int, object] = {}

    def one(i: int) -> None:
        try:
            out[i] = work(i)
        except Exception as exc:
            out[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT * 3)
        assert not t.is_alive()
    return out


def stored(store: Store) -> dict[int, tuple[str, str]]:
    with store.engine.connect() as conn:
        return {r.seq: (r.camera, r.hash) for r in conn.execute(text("SELECT seq, camera, hash FROM audit_records"))}


def test_concurrent_appends_share_a_transaction_and_each_gets_its_own_record(store: Store) -> None:
    clock = GatedClock()
    audit = AuditLog(store, clock)
    n = 30
    clock.gate = lambda: None if audit.committer.wait_queued(n - 1, WAIT) else pytest.fail("appends did not queue")
    commits = count_commits(store)
    results = run_threads(n, lambda i: audit.append("decision", camera=f"cam-{i}", allowed=True))
    records = [results[i] for i in range(n)]
    assert all(isinstance(r, AuditRecord) for r in records), records
    # The first append committed alone while the other 29 queued behind it; they then shared one transaction.
    assert commits[0] == 2 and audit.committer.batches == 2
    rows = stored(store)
    assert sorted(rows) == list(range(1, n + 1))
    for i, rec in enumerate(records):
        assert isinstance(rec, AuditRecord)
        assert rec.camera == f"cam-{i}" and rows[rec.seq] == (rec.camera, rec.hash)  # its own seq and hash
    by_seq = {rec.seq: rec for rec in records if isinstance(rec, AuditRecord)}
    assert all(by_seq[s].prev_hash == by_seq[s - 1].hash for s in range(2, n + 1))
    assert audit.verify().to_dict() == {"ok": True, "records": n, "head": by_seq[n].hash}


def test_a_failed_transaction_fails_every_append_in_it_and_the_log_recovers(store: Store) -> None:
    clock = GatedClock()
    audit = AuditLog(store, clock)
    first = audit.append("decision", camera="before")
    with store.engine.begin() as conn:  # seq 2 taken behind the log's back: the next transaction must fail
        conn.execute(
            text(
                "INSERT INTO audit_records (seq, ts, kind, principal_roles, details, prev_hash, hash)"
                " SELECT 2, ts, 'x', '[]', '{}', 'p', 'h' FROM audit_records WHERE seq = 1"
            )
        )
    n = 20
    clock.gate = lambda: None if audit.committer.wait_queued(n - 1, WAIT) else pytest.fail("appends did not queue")
    batches = audit.committer.batches
    results = run_threads(n, lambda i: audit.append("decision", camera=f"cam-{i}"))
    assert all(isinstance(results[i], AuditUnavailable) for i in range(n)), results
    assert audit.committer.batches - batches == 2  # 1 alone, then 19 together: each transaction failed whole
    assert audit.healthy is False
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_records WHERE seq = 2"))
    assert audit.verify().to_dict() == {"ok": True, "records": 1, "head": first.hash}  # chain as it was
    results = run_threads(n, lambda i: audit.append("decision", camera=f"again-{i}"))
    assert all(isinstance(r, AuditRecord) for r in results.values()) and audit.healthy is True
    assert audit.verify().records == n + 1


def test_two_replicas_appending_from_many_threads_keep_one_chain(store: Store) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    replica = Store.open(url)  # another process would have its own engine and group commit, like this one
    clock = FakeClock()
    logs = [AuditLog(store, clock), AuditLog(replica, clock)]
    commits = count_commits(store)
    replica_commits = count_commits(replica)
    threads, per_thread = 40, 10

    def work(n: int) -> list[AuditRecord]:
        return [logs[n % 2].append("decision", camera=f"t{n}-{i}") for i in range(per_thread)]

    try:
        results = run_threads(threads, work)
    finally:
        replica.dispose()
    total = threads * per_thread
    returned = [rec for n in range(threads) for rec in results[n]]  # type: ignore[attr-defined]
    assert len(returned) == total
    assert sorted(rec.seq for rec in returned) == list(range(1, total + 1))
    rows = stored(store)
    assert all(rows[rec.seq] == (rec.camera, rec.hash) for rec in returned)
    assert commits[0] + replica_commits[0] < total  # grouped: fewer transactions than records
    result = logs[0].verify()
    assert result.ok and result.records == total


def test_baseline_max_batch_one_commits_each_record_alone(store: Store) -> None:
    audit = AuditLog(store, FakeClock(), max_batch=1)
    commits = count_commits(store)
    results = run_threads(12, lambda i: audit.append("decision", camera=f"cam-{i}"))
    assert all(isinstance(r, AuditRecord) for r in results.values())
    assert commits[0] == 12 and audit.verify().records == 12
