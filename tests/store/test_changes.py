"""LISTEN/NOTIFY on the emergencies generation (PostgreSQL): committed changes wake the listener, each schema has
its own channel, and a listener whose connection is killed reconnects and re-reads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from broker.store import EmergencyRecord, EmergencyRepository, Store
from broker.store.changes import CHANNEL_SQL, ChangeListener
from tests.conftest import _postgres_url
from tests.waiting import wait_for

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)
WAIT = 10.0  # a bound for a real thread and server, not the speed asserted (tests/cli/test_replica_propagation.py)


def record(id: str) -> EmergencyRecord:
    return EmergencyRecord(
        id=id, mou="ncps-ncpd-video", site="ncps-saxe", buildings=(), zones=(), center_lat=None, center_lon=None,
        radius_m=None, threat=None, incident=None, declared_at=T0, expires_at=T0 + timedelta(hours=1), ended_at=None,
        declared_by_sub="dispatch-3", declared_by_agency="ncpd", ended_by_sub=None, ended_by_agency=None,
    )  # fmt: skip


class Calls:
    def __init__(self) -> None:
        self.count = 0
        self.cond = threading.Condition()

    def __call__(self) -> None:
        with self.cond:
            self.count += 1
            self.cond.notify_all()

    def wait_for(self, n: int) -> int:
        with self.cond:
            assert self.cond.wait_for(lambda: self.count >= n, WAIT), f"{self.count} calls, expected {n}"
            return self.count


@pytest.fixture
def stores(postgres_url: str) -> Iterator[tuple[Store, Store]]:
    one, two = Store.open(postgres_url), Store.open(postgres_url)
    one.create_all()
    yield one, two
    one.dispose()
    two.dispose()


def test_committed_changes_wake_the_listener(stores: tuple[Store, Store]) -> None:
    one, two = stores
    calls = Calls()
    listener = ChangeListener(one, calls)
    listener.start()
    try:
        assert calls.wait_for(1) == 1  # once on connecting: whatever changed while nobody listened
        EmergencyRepository(two).insert(record("em-1"))
        assert calls.wait_for(2) == 2
        EmergencyRepository(two).end("em-1", ended_at=T0 + timedelta(minutes=5), by_sub="sgt-1", by_agency="ncpd")
        assert calls.wait_for(3) == 3 and listener.notices == 2
    finally:
        listener.stop()


def test_each_schema_has_its_own_channel(stores: tuple[Store, Store]) -> None:
    """Brokers in other schemas of the same database are not woken by these changes (nor these by theirs)."""
    other_schema = _postgres_url()
    elsewhere = Store.open(next(other_schema))
    try:
        channels = set()
        for store in (stores[0], elsewhere):
            with store.engine.connect() as conn:
                channels.add(conn.execute(text(f"SELECT {CHANNEL_SQL}")).scalar())
        assert len(channels) == 2 and all(c.startswith("camgate_em_") and len(c) <= 63 for c in channels)
    finally:
        elsewhere.dispose()
        next(other_schema, None)


def test_a_listener_whose_connection_dies_reconnects_and_rereads(stores: tuple[Store, Store]) -> None:
    one, two = stores
    calls = Calls()
    listener = ChangeListener(one, calls)
    listener.start()
    try:
        calls.wait_for(1)
        pid = listener.backend_pid
        with two.begin_write() as conn:  # what an operator or a failover does to the connection
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar() is True
        calls.wait_for(2)  # reconnected: re-read once (the poll covered the gap meanwhile)
        wait_for(listener.connected.is_set, WAIT, "the listener to be connected again")
        assert listener.backend_pid != pid
        EmergencyRepository(two).insert(record("em-2"))
        calls.wait_for(3)
    finally:
        listener.stop()
