"""SessionTracker against a real audit log: every answer counted on the chain before it goes out."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from broker.audit import AuditLog, AuditRecord
from broker.clock import FakeClock
from broker.enforcement.sessions import SessionTracker
from broker.errors import AuditUnavailable
from broker.policy.types import Decision, Principal
from broker.store import Store

OFFICER = Principal.of("officer-17", "ncpd", ["officer"])
ALLOW = Decision(True, "allowed", "ncps-ncpd", "G1", "4.1")


@pytest.fixture
def tracker(store: Store) -> SessionTracker:
    return SessionTracker(AuditLog(store, FakeClock()), FakeClock(), idle_seconds=30)


def records(audit: AuditLog) -> list[AuditRecord]:
    return audit.query(limit=1000)[0]


def test_each_answer_is_a_durable_record_with_running_totals(tracker: SessionTracker) -> None:
    s = tracker.open(OFFICER, "saxe-ext-01", "live", ALLOW, "10.0.0.9")
    for size in (300, 1000, 2000):
        asyncio.run(tracker.served(s, size))
    served = [r for r in records(tracker.audit) if r.kind == "session.served"]
    assert [(r.details["requests"], r.details["bytes"]) for r in served] == [(1, 300), (2, 1300), (3, 3300)]
    assert {r.details["session"] for r in served} == {s.id}
    tracker.close_all()
    end = records(tracker.audit)[-1]
    assert end.kind == "session.end" and (end.details["requests"], end.details["bytes"]) == (3, 3300)


def test_a_record_that_cannot_be_written_ends_the_session_and_its_end_is_written_later(
    tracker: SessionTracker, store: Store
) -> None:
    s = tracker.open(OFFICER, "saxe-ext-01", "live", ALLOW, None)
    asyncio.run(tracker.served(s, 100))
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_records RENAME TO audit_away"))
    with pytest.raises(AuditUnavailable):
        asyncio.run(tracker.served(s, 200))  # this answer must not go out
    assert len(tracker) == 0 and tracker.unfinished() == 1  # out of the open set at once
    assert tracker.sweep() == 0 and tracker.unfinished() == 1  # still down: owed
    with store.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_away RENAME TO audit_records"))
    assert tracker.sweep() == 1 and tracker.unfinished() == 0
    end = records(tracker.audit)[-1]
    assert end.kind == "session.end" and end.reason == "audit_unavailable"
    assert (end.details["requests"], end.details["bytes"]) == (1, 100)  # what was durable, not the refused one
    assert tracker.audit.verify().ok
