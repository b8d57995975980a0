"""A lock held elsewhere: appends must not queue up behind each other's lock waits (issue 12, reproduction 2).

Each batch waits up to ``write_timeout`` for the lock. Before, every batch queued behind a refused one waited the
whole timeout again, so a viewer's request hung for several seconds before its 503. Now, for ``write_timeout``
after a refusal that came after such a wait (on the injected clock), appends fail at once; then one asks the
store again, and a successful probe or append ends it. A refusal that came at once opens no such window.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, create_engine, text

from broker.audit import AuditLog
from broker.clock import FakeClock
from broker.errors import AuditUnavailable
from broker.store import Store

TIMEOUT = 0.5


class Lock:
    """Another process's transaction holding the chain's head row (PostgreSQL) or the database (SQLite)."""

    def __init__(self, url: str) -> None:
        self._engine = create_engine(url)
        self._conn: Connection | None = self._engine.connect()
        if self._engine.dialect.name == "sqlite":
            self._conn.connection.driver_connection.isolation_level = None  # type: ignore[union-attr]
            self._conn.exec_driver_sql("BEGIN EXCLUSIVE")
        else:
            self._conn.begin()
            self._conn.execute(text("SELECT seq FROM audit_head FOR UPDATE"))

    def release(self) -> None:
        if self._conn is not None:
            if self._engine.dialect.name == "sqlite":
                self._conn.exec_driver_sql("ROLLBACK")
            else:
                self._conn.rollback()
            self._conn.close()
            self._conn = None
        self._engine.dispose()


@pytest.fixture
def lock(database_url: str, store: Store) -> Iterator[Lock]:
    held = Lock(database_url)
    yield held
    held.release()


def refused_in(audit: AuditLog) -> float:
    started = time.monotonic()
    with pytest.raises(AuditUnavailable):
        audit.append("decision")
    return time.monotonic() - started


def test_appends_behind_a_refused_one_fail_at_once_then_the_store_is_asked_again(store: Store, lock: Lock) -> None:
    clock = FakeClock()
    audit = AuditLog(store, clock, write_timeout=TIMEOUT)
    assert refused_in(audit) >= TIMEOUT * 0.9  # the first waits for the lock
    assert audit.healthy is False and "lock" in str(audit.health.state.reason)
    assert max(refused_in(audit) for _ in range(5)) < TIMEOUT / 2  # those behind it do not wait again
    clock.advance(TIMEOUT)
    assert refused_in(audit) >= TIMEOUT * 0.9  # a timeout later, the store is asked again
    lock.release()
    assert refused_in(audit) < TIMEOUT / 2  # still within the timeout of that refusal
    clock.advance(TIMEOUT)
    assert audit.append("decision").seq == 1 and audit.healthy is True


def test_a_successful_probe_ends_the_refusals_at_once(store: Store, lock: Lock) -> None:
    clock = FakeClock()
    audit = AuditLog(store, clock, write_timeout=TIMEOUT)
    assert audit.probe() is False
    assert refused_in(audit) < TIMEOUT / 2  # the probe's refusal counts
    lock.release()
    assert audit.probe() is True
    assert audit.append("decision").seq == 1 and audit.healthy is True


def test_a_refusal_that_came_at_once_lets_the_next_append_ask_the_store(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit = AuditLog(store, FakeClock(), write_timeout=TIMEOUT)

    def refuse(batch: object) -> object:
        raise OSError("database or disk is full")

    monkeypatch.setattr(audit.writer, "write", refuse)
    with pytest.raises(AuditUnavailable):
        audit.append("decision")
    monkeypatch.undo()  # space is back: the very next append is written
    assert audit.append("decision").seq == 1 and audit.healthy is True
