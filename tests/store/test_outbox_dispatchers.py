"""Two dispatchers (two replicas' stores) on one database deliver each notice exactly once, every one audited.

Runs on SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, on PostgreSQL (``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from broker.audit import AuditLog
from broker.clock import FakeClock, SystemClock
from broker.notify.config import NotificationSettings, Webhook
from broker.notify.dispatcher import Dispatcher
from broker.store import Store
from broker.store.outbox import DELIVERED, PENDING, Notice, OutboxRepository
from tests.fakes.webhooks import WebhookReceiver

N = 40


def notices(now: datetime) -> list[Notice]:
    return [
        Notice(id=f"msg_{i:04d}", webhook="office", kind="emergency.declare", emergency=f"em-{i:04d}",
               mou="ncps-ncpd-video", site="ncps-saxe", body=f'{{"id":"msg_{i:04d}"}}', state=PENDING,
               created_at=now, due_at=now, attempts=0)
        for i in range(N)
    ]  # fmt: skip


def test_two_dispatchers_deliver_each_notice_once(database_url: str, receiver: WebhookReceiver) -> None:
    stores = [Store.open(database_url), Store.open(database_url)]
    stores[0].create_all()
    clock = FakeClock(datetime(2026, 9, 14, 13, 0, tzinfo=UTC))
    hooks = [Webhook("office", "ncps", receiver.url, receiver.secret, frozenset(), frozenset(), frozenset())]
    cfg = NotificationSettings(batch=4)
    receiver.delay = 0.005  # attempts overlap: each dispatcher claims while the other is sending
    try:
        assert OutboxRepository(stores[0]).add(notices(clock.now())) == N
        assert OutboxRepository(stores[1]).add(notices(clock.now())[:5]) == 0  # the same notices again: ignored
        dispatchers = [
            Dispatcher(OutboxRepository(s), AuditLog(s, clock), hooks, cfg, clock, wall=SystemClock()) for s in stores
        ]

        async def drain(d: Dispatcher) -> int:
            sent = 0
            while n := await d.deliver_due():
                sent += n
            await d.aclose()
            return sent

        async def both() -> list[int]:
            return list(await asyncio.gather(*(drain(d) for d in dispatchers)))

        counts = asyncio.run(both())
        assert sum(counts) == N and all(counts), counts
        received = Counter(d.headers["webhook-id"] for d in receiver.deliveries if d.verified)
        assert set(received) == {f"msg_{i:04d}" for i in range(N)} and set(received.values()) == {1}
        assert receiver.requests == N
        outbox = OutboxRepository(stores[1])
        assert {n.state for n in outbox.list()} == {DELIVERED} and {n.attempts for n in outbox.list()} == {1}
        audit = AuditLog(stores[1], clock)
        delivered, _ = audit.query(kind="notice.delivered", limit=1000)
        assert sorted(r.details["notice"] for r in delivered) == sorted(received)
        assert len(audit.query(kind="notice.attempt", limit=1000)[0]) == N and audit.verify().ok
    finally:
        for s in stores:
            s.dispose()


def test_a_lease_holds_until_it_runs_out_or_is_given_back(store: Store) -> None:
    now = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)
    outbox = OutboxRepository(store)
    outbox.add(notices(now)[:3])
    lease = timedelta(seconds=60)
    assert [n.id for n in outbox.claim(now, "a", lease, 2)] == ["msg_0000", "msg_0001"]
    assert [n.id for n in outbox.claim(now, "b", lease, 10)] == ["msg_0002"]
    assert outbox.claim(now + timedelta(seconds=59), "c", lease, 10) == []
    assert not outbox.retry("msg_0000", "b", due_at=now, status=500, error="http_500")  # not b's lease
    assert outbox.release("a") == 2
    again = outbox.claim(now + timedelta(seconds=30), "c", lease, 10)
    assert [(n.id, n.attempts) for n in again] == [("msg_0000", 2), ("msg_0001", 2)]
    assert [n.id for n in outbox.claim(now + lease, "d", lease, 10)] == ["msg_0002"]  # b's ran out, not c's
    assert not outbox.finish("msg_0002", "b", state=DELIVERED, at=now, status=200, error=None)  # b was too late
    assert outbox.finish("msg_0002", "d", state=DELIVERED, at=now, status=200, error=None)
