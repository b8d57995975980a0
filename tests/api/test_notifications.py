"""Webhook notices of emergency transitions: signed (Standard Webhooks), from the outbox, retried, audited.

Receivers are real HTTP servers on 127.0.0.1 that verify with ``standardwebhooks``. Attempts are scheduled on
the FakeClock and run by calling the dispatcher (``deliver``); only the test of a running broker waits for
real time, bounded by the real HTTP timeout it is about.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from broker.api.app import create_app
from broker.clock import FakeClock, SystemClock
from broker.notify.dispatcher import Dispatcher
from broker.settings import load_settings
from tests.api.support import MOUS, Api, free_port_url, no_500, write_inventory
from tests.fakes.hls_origin import FakeHlsOrigin, OriginContent
from tests.fakes.webhooks import WebhookReceiver, new_secret
from tests.paths import MODEL
from tests.waiting import wait_for

MakeApi = Callable[..., contextlib.AbstractContextManager[Api]]


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


def hook(name: str, url: str, env: str, agency: str = "ncps", **kw: Any) -> dict[str, Any]:
    return {"name": name, "agency": agency, "url": url, "secret_env": env} | kw


def dispatcher(api: Api) -> Dispatcher:
    d = api.services.dispatcher
    assert d is not None
    d.wall = SystemClock()  # the receiver checks webhook-timestamp against its own (real) clock
    return d


def deliver(d: Dispatcher) -> int:
    """One pass of the dispatcher, as its task would run it."""

    async def once() -> int:
        try:
            return await d.deliver_due()
        finally:
            await d.aclose()

    return asyncio.run(once())


def records(api: Api, kind: str) -> list[dict[str, Any]]:
    return [r["details"] for r in api.audit(kind=kind)]


def test_a_declaration_sends_a_signed_notice_that_verifies_at_the_receiver(
    make_api: MakeApi, receiver: WebhookReceiver, second_receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NCPS_HOOK_SECRET", receiver.secret)
    monkeypatch.setenv("NCPB_HOOK_SECRET", second_receiver.secret)
    hooks = [hook("ncps-office", receiver.url, "NCPS_HOOK_SECRET"),
             hook("parking", second_receiver.url, "NCPB_HOOK_SECRET", agency="ncpb")]  # fmt: skip
    with make_api(notifications={"webhooks": hooks}) as api:
        d = dispatcher(api)
        em = api.declared(incident="CAD-2026-0914-017")
        assert deliver(d) == 1 and deliver(d) == 0  # the parking bureau is no party to the school MOU
        [delivery] = receiver.deliveries
        assert delivery.verified and second_receiver.requests == 0
        notice = delivery.payload
        assert notice["id"] == delivery.headers["webhook-id"] == notice["data"]["notice"]
        assert notice["type"] == notice["data"]["kind"] == "emergency.declare"
        assert notice["data"]["emergency"] == em  # exactly what the API answered
        assert notice["data"]["by"] == {"sub": "dispatch-3", "agency": "ncpd"}
        assert (notice["data"]["mou"], notice["data"]["site"]) == ("ncps-ncpd-video", "ncps-saxe")
        assert delivery.headers["webhook-signature"].startswith("v1,")
        assert b"m3u8" not in delivery.body and b"token" not in delivery.body and b"/hls/" not in delivery.body

        # An altered notice, or one checked with another secret, does not verify.
        altered = delivery.body.replace(b"ncps-saxe", b"ncps-east")
        with pytest.raises(WebhookVerificationError):
            Webhook(receiver.secret).verify(altered, delivery.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(new_secret()).verify(delivery.body, delivery.headers)
        Webhook(receiver.secret).verify(delivery.body, delivery.headers)  # the original still does

        assert api.end(em["id"]).status_code == 200
        assert deliver(d) == 1
        ended = receiver.verified()[1]
        assert ended["type"] == "emergency.end" and ended["data"]["emergency"]["status"] == "ended"
        assert ended["data"]["by"] == {"sub": "dispatch-3", "agency": "ncpd"} and ended["id"] != notice["id"]

        attempts = records(api, "notice.attempt")
        assert [(a["kind"], a["status"], a["outcome"], a["attempt"]) for a in attempts] == [
            ("emergency.declare", 200, "delivered", 1), ("emergency.end", 200, "delivered", 1)]  # fmt: skip
        assert [r["notice"] for r in records(api, "notice.delivered")] == [notice["id"], ended["id"]]
        assert api.get("/api/v1/audit/verify", as_="auditor").json()["ok"] is True


def test_filters_and_expiry(make_api: MakeApi, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", receiver.secret)
    only_ends = hook("ends-at-east", receiver.url, "HOOK_SECRET", sites=["ncps-east"],
                     events=["emergency.end", "emergency.expire"])  # fmt: skip
    with make_api(notifications={"webhooks": [only_ends]}) as api:
        d = dispatcher(api)
        api.declared()  # ncps-saxe: not this webhook's site
        api.declared(site="ncps-east", duration_minutes=30)
        assert deliver(d) == 0
        api.clock.advance(timedelta(minutes=31))
        assert api.services.emergencies.sweep() == 1
        assert deliver(d) == 1
        [expired] = receiver.verified()
        assert expired["type"] == "emergency.expire" and expired["data"]["by"] is None
        assert expired["data"]["emergency"]["status"] == "expired"
        assert api.services.emergencies.sweep() == 0 and deliver(d) == 0


def test_a_failing_webhook_is_retried_with_backoff_then_given_up(
    make_api: MakeApi, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", receiver.secret)
    receiver.status = 500
    cfg = {"webhooks": [hook("office", receiver.url, "HOOK_SECRET")], "max_attempts": 4,
           "backoff_initial_seconds": 10, "backoff_max_seconds": 25}  # fmt: skip
    with make_api(notifications=cfg) as api:
        d = dispatcher(api)
        d.rng = random.Random(7)
        expected_rng = random.Random(7)
        waits = [b / 2 + expected_rng.uniform(0, b / 2) for b in (10, 20, 25)]  # 10 * 2^(n-1), capped at 25
        assert 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20 and 12.5 <= waits[2] <= 25
        em = api.declared()
        assert deliver(d) == 1
        for wait in waits:
            api.clock.advance(wait - 0.01)
            assert deliver(d) == 0  # not yet due
            api.clock.advance(0.01)
            assert deliver(d) == 1
        assert deliver(d) == 0 and receiver.requests == 4
        attempts = records(api, "notice.attempt")
        assert [(a["attempt"], a["status"], a["outcome"], a["error"]) for a in attempts] == [
            (1, 500, "retry", "http_500"), (2, 500, "retry", "http_500"), (3, 500, "retry", "http_500"),
            (4, 500, "gave_up", "http_500")]  # fmt: skip
        assert attempts[-1]["next_attempt_at"] is None and all(a["next_attempt_at"] for a in attempts[:3])
        [gave_up] = records(api, "notice.gave_up")
        assert gave_up["attempt"] == 4
        assert {r["emergency"] for r in api.audit(kind="notice.attempt")} == {em["id"]}


def test_a_pending_notice_is_delivered_after_a_restart(
    make_api: MakeApi, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", receiver.secret)
    cfg = {"webhooks": [hook("office", receiver.url, "HOOK_SECRET")], "lease_seconds": 60}
    receiver.status = 503
    with make_api(notifications=cfg) as api:
        d = dispatcher(api)
        first = api.declared()
        assert deliver(d) == 1  # failed: retried in 2.5 to 5 s
        second = api.declared(site="ncps-east")
        # A replica claims the second notice, then dies before it can send it.
        [claimed] = d.outbox.claim(api.clock.now(), "dsp-crashed", timedelta(seconds=60), 10)
        assert claimed.emergency == second["id"]
    receiver.status = 200
    with make_api(notifications=cfg) as api:  # a restart: new services on the same database
        d = dispatcher(api)
        api.clock.advance(10)
        assert deliver(d) == 1  # the failed one, due again; the crashed claim's lease still holds
        api.clock.advance(60)
        assert deliver(d) == 1
        assert [n["data"]["emergency"]["id"] for n in receiver.verified()] == [first["id"], second["id"]]
        delivered = records(api, "notice.attempt")
        assert [(a["attempt"], a["outcome"]) for a in delivered] == [(1, "retry"), (2, "delivered"), (2, "delivered")]


@contextlib.contextmanager
def running_broker(
    tmp_path: Path, store_url: str, clock: FakeClock, origin: FakeHlsOrigin, content: OriginContent,
    notifications: dict[str, Any],
) -> Iterator[Api]:  # fmt: skip
    """An app whose lifespan runs the dispatcher task, as ``camgate serve`` does."""
    settings = load_settings(
        mode="dev", data_dir=tmp_path / "data", store={"url": store_url}, notifications=notifications,
        policy={"inventory": write_inventory(tmp_path, origin.base_url), "mous": [MOUS], "model": MODEL},
    )  # fmt: skip
    app = create_app(settings, clock=clock, housekeeping=False, dispatch=True)
    app.state.services.dispatcher.wall = SystemClock()
    with TestClient(app) as client:
        client.event_hooks["response"].append(no_500)
        yield Api(client, app, clock, origin, content, tmp_path / "data", store_url)


def test_a_dead_or_slow_webhook_delays_nothing(
    tmp_path: Path, store_url: str, clock: FakeClock, origin: FakeHlsOrigin, origin_content: OriginContent,
    receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("HOOK_SECRET", receiver.secret)
    receiver.delay = 4.0  # answers long after the attempt's timeout
    cfg = {"webhooks": [hook("dead", free_port_url("/hook"), "HOOK_SECRET"), hook("slow", receiver.url, "HOOK_SECRET")],
           "timeout_seconds": 2.0, "lease_seconds": 30}  # fmt: skip
    with running_broker(tmp_path, store_url, clock, origin, origin_content, cfg) as api:
        started = time.monotonic()
        em = api.declared()
        took = time.monotonic() - started
        assert took < 1.5, f"the declaration waited {took:.2f} s"  # a wait for delivery would be >= 2 s
        assert live_allowed(api, "saxe-int-01")
        wait_for(lambda: len(api.audit(kind="notice.attempt")) == 2, 15, "both attempts")
        outcomes = {(a["details"]["webhook"], a["details"]["outcome"], a["details"]["error"])
                    for a in api.audit(kind="notice.attempt")}  # fmt: skip
        assert outcomes == {("dead", "retry", "ConnectError"), ("slow", "retry", "timeout")}
        assert {a["emergency"] for a in api.audit(kind="notice.attempt")} == {em["id"]}


def live_allowed(api: Api, camera: str) -> bool:
    return bool(api.cameras()[camera]["live"]["allowed"])


def test_listeners_hear_every_transition_and_a_failing_one_changes_nothing(api: Api) -> None:
    heard: list[tuple[str, str, str]] = []

    def boom(kind: str, rec: Any, details: dict[str, Any]) -> None:
        raise RuntimeError("listener bug")

    api.services.emergencies.listeners[:] = [boom, lambda k, r, d: heard.append((k, r.id, d["emergency"]["status"]))]
    ended = api.declared()
    assert api.end(ended["id"]).status_code == 200
    expiring = api.declared(duration_minutes=10)
    api.clock.advance(timedelta(minutes=11))
    assert api.services.emergencies.sweep() == 1
    assert heard == [("emergency.declare", ended["id"], "active"), ("emergency.end", ended["id"], "ended"),
                     ("emergency.declare", expiring["id"], "active"), ("emergency.expire", expiring["id"], "expired")]  # fmt: skip
