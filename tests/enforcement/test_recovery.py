"""The sessions of a broker process that died get their end, with what was durably served, from a survivor."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import func, select

from broker.audit import AuditLog, AuditRecord
from broker.clock import FakeClock
from broker.enforcement.recovery import SessionRecovery
from broker.enforcement.sessions import SessionTracker
from broker.policy.types import Decision, Principal
from broker.store import Store
from broker.store.tables import replicas, viewing_sessions
from broker.store.viewing import ViewingRepository

OFFICER = Principal.of("officer-17", "ncpd", ["officer"])
ALLOW = Decision(True, "allowed", "ncps-ncpd", "G2", "4.2", "em-1")


@dataclass
class Replica:
    audit: AuditLog
    sessions: SessionTracker
    recovery: SessionRecovery


def replica(store: Store, clock: FakeClock, name: str) -> Replica:
    viewing = ViewingRepository(store, name)
    audit = AuditLog(store, clock, hooks={"session.start": viewing.on_start, "session.end": viewing.on_end})
    return Replica(audit, SessionTracker(audit, clock, 30), SessionRecovery(viewing, audit, clock, 15))


def ends(audit: AuditLog) -> list[AuditRecord]:
    return audit.query(kind="session.end", limit=100)[0]


def count(store: Store, table: object) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_a_dead_replicas_sessions_end_as_replica_lost_with_their_durable_totals(store: Store) -> None:
    clock = FakeClock()
    a, b = replica(store, clock, "a"), replica(store, clock, "b")
    a.recovery.tick()
    b.recovery.tick()
    watched = a.sessions.open(OFFICER, "saxe-int-01", "live", ALLOW, "10.0.0.9")
    kept = b.sessions.open(OFFICER, "saxe-int-02", "live", ALLOW, "10.0.0.9")
    for size in (500, 700, 900):
        asyncio.run(a.sessions.served(watched, size))
    assert count(store, viewing_sessions) == 2
    # Replica a is killed (kill -9): it writes nothing more. b goes on beating.
    clock.advance(10)
    assert b.recovery.tick() == 0  # seen 10 s ago: not yet lost
    clock.advance(10)
    assert b.recovery.tick() == 1
    (end,) = ends(b.audit)
    assert (end.reason, end.camera, end.principal_sub, end.grant, end.clause, end.emergency) == (
        "replica_lost",
        "saxe-int-01",
        "officer-17",
        "G2",
        "4.2",
        "em-1",
    )
    assert end.details["session"] == watched.id and end.details["replica"] == "a" and end.details["recovered"]
    assert (end.details["requests"], end.details["bytes"]) == (3, 2100)  # never below what was served
    clock.advance(5)
    assert b.recovery.tick() == 0  # ended once
    assert count(store, viewing_sessions) == 1 and count(store, replicas) == 1  # b's own, and b
    b.sessions.close_all()
    assert [e.details["session"] for e in ends(b.audit)] == [watched.id, kept.id]
    assert count(store, viewing_sessions) == 0 and b.audit.verify().ok


def test_a_restarted_process_ends_the_sessions_its_previous_life_left_open(store: Store) -> None:
    clock = FakeClock()
    before = replica(store, clock, "host-41-aaaa")
    before.recovery.tick()
    s = before.sessions.open(OFFICER, "saxe-int-01", "live", ALLOW, None)  # opened, nothing served yet
    clock.advance(60)  # killed; restarted a minute later under a new replica id
    after = replica(store, clock, "host-57-bbbb")
    assert after.recovery.tick() == 1
    (end,) = ends(after.audit)
    assert end.details["session"] == s.id and (end.details["requests"], end.details["bytes"]) == (0, 0)
    assert end.details["seconds"] == 0.0
