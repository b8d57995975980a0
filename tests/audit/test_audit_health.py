"""Whether the audit log can take records: the health flag, the disk reserve, a lock held elsewhere."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest

import broker.audit.health as health_module
from broker.audit import AuditLog
from broker.audit.health import AuditHealth, reserve_problem
from broker.clock import FakeClock
from broker.errors import AuditUnavailable
from broker.store import Store


def test_health_logs_each_transition_once_with_its_event(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    h = AuditHealth()
    caplog.set_level(logging.INFO, logger="camgate.audit")
    h.failed("disk full", clock.now())
    clock.advance(2)
    h.failed("disk full", clock.now())  # the same state: no second line
    assert h.state.writable is False and h.state.reason == "disk full"
    since = h.state.since
    h.failed("a lock", clock.now())  # a new reason, the same outage: since is kept
    assert h.state.reason == "a lock" and h.state.since == since
    clock.advance(3)
    h.recovered(clock.now())
    events = [getattr(r, "event", None) for r in caplog.records]
    assert events == ["audit.unwritable", "audit.unwritable", "audit.writable"]
    assert caplog.records[-1].after_seconds == 5.0 and caplog.records[-1].was == "a lock"
    assert h.state.to_dict()["writable"] is True and "reason" not in h.state.to_dict()


def test_reserve_problem_names_free_space_and_reserve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert reserve_problem(None, 10) is None  # not a file database (PostgreSQL)
    assert reserve_problem(tmp_path, 0) is None  # no reserve asked
    monkeypatch.setattr(health_module, "free_bytes", lambda _p: 1000)
    assert reserve_problem(tmp_path, 999) is None
    problem = reserve_problem(tmp_path, 4096)
    assert problem is not None and "1000 bytes free" in problem and "reserve is 4096" in problem


def file_store(tmp_path: Path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'camgate.db'}")
    store.create_all()
    return store


def test_probe_fails_while_the_reserve_is_low_and_an_append_does_not_clear_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock, store = FakeClock(), file_store(tmp_path)
    free = {"bytes": 10 << 20}
    monkeypatch.setattr(health_module, "free_bytes", lambda _p: free["bytes"])
    audit = AuditLog(store, clock, reserve_bytes=1 << 20)
    try:
        assert audit.probe() is True
        free["bytes"] = 1000
        assert audit.probe() is False
        reason = audit.health.state.reason
        assert reason is not None and "reserve" in reason
        audit.append("session.end")  # a closing record still fits in the reserve, and is written
        assert audit.healthy is False  # but viewing stays stopped while the reserve is low
        free["bytes"] = 10 << 20
        assert audit.probe() is True and audit.healthy is True
    finally:
        store.dispose()


def test_a_lock_held_by_another_process_fails_the_probe_and_appends_within_the_write_timeout(
    tmp_path: Path,
) -> None:
    clock, store = FakeClock(), file_store(tmp_path)
    audit = AuditLog(store, clock, write_timeout=0.2)
    holder = sqlite3.connect(tmp_path / "camgate.db", isolation_level=None)
    try:
        audit.append("decision")
        holder.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        assert audit.probe() is False
        with pytest.raises(AuditUnavailable):
            audit.append("decision")
        assert time.monotonic() - started < 3.0  # not the 18 s a session waited before
        reason = audit.health.state.reason
        assert reason is not None and "locked" in reason
        holder.execute("ROLLBACK")
        assert audit.probe() is True
        assert audit.append("decision").seq == 2 and audit.verify().ok
    finally:
        holder.close()
        store.dispose()
