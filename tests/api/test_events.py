"""``GET /api/v1/events`` on a real server (uvicorn in a thread: the test client buffers whole answers, and a
stream never ends): emergency transitions reach the agencies that may see them, heartbeats keep the line
open, and a stream opened with the console session ends with the session."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.api.personas import sign_in
from tests.api.support import Api
from tests.identity.oidc_provider import free_port

HEARTBEAT = 0.3


@pytest.fixture
def events_api(make_api: Callable[..., contextlib.AbstractContextManager[Api]]) -> Iterator[Api]:
    with make_api(console={"events_heartbeat_seconds": HEARTBEAT}) as api:
        yield api


@pytest.fixture
def url(events_api: Api) -> Iterator[str]:
    """The same app (its lifespan already run by the test client) served over HTTP on 127.0.0.1."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(events_api.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def next_event(lines: Iterator[str]) -> tuple[str, Any]:
    """The next event (``event``, parsed ``data``) or comment (``:``, its text) of a stream."""
    event = None
    for line in lines:
        if line.startswith(":"):
            return ":", line[1:].strip()
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: ") and event is not None:
            return event, json.loads(line[len("data: ") :])
    raise AssertionError("the stream ended")


def next_emergency(lines: Iterator[str]) -> tuple[str, Any]:
    """The next event, past any heartbeat (they are timed by the wall clock, so one may come first)."""
    while True:
        kind, data = next_event(lines)
        if (kind, data) != (":", "heartbeat"):
            return kind, data


def test_transitions_reach_the_agencies_of_the_mou_and_heartbeats_keep_the_line(events_api: Api, url: str) -> None:
    bearer = {"Authorization": f"Bearer {events_api.token('dispatcher')}"}
    stranger = {"Authorization": f"Bearer {events_api.token('fire')}"}  # ncfd: party to no MOU
    with (
        httpx.stream("GET", f"{url}/api/v1/events", headers=bearer, timeout=10) as police,
        httpx.stream("GET", f"{url}/api/v1/events", headers=stranger, timeout=10) as fire,
    ):
        assert police.status_code == 200 and police.headers["content-type"].startswith("text/event-stream")
        police_lines, fire_lines = police.iter_lines(), fire.iter_lines()
        assert next_event(police_lines) == (":", "camgate events")
        assert next_event(fire_lines) == (":", "camgate events")
        declared = events_api.declared()
        kind, data = next_emergency(police_lines)
        assert kind == "emergency" and data["kind"] == "emergency.declare"
        assert data["emergency"]["id"] == declared["id"] and data["emergency"]["status"] == "active"
        assert events_api.end(declared["id"]).status_code == 200
        kind, data = next_emergency(police_lines)
        assert data["kind"] == "emergency.end" and data["emergency"]["id"] == declared["id"]
        assert next_event(fire_lines) == (":", "heartbeat")  # nothing of the MOU reaches ncfd
        assert next_event(fire_lines) == (":", "heartbeat")


def test_a_stream_opened_with_the_session_ends_with_it(events_api: Api, url: str) -> None:
    browser = TestClient(events_api.app, base_url=url)
    assert sign_in(browser, "dispatcher", url).status_code == 303
    cookie = {"camgate_session": str(browser.cookies.get("camgate_session"))}
    csrf = browser.get("/api/v1/session").json()["csrf_token"]
    with httpx.stream("GET", f"{url}/api/v1/events", cookies=cookie, timeout=10) as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        assert next_event(lines) == (":", "camgate events")
        assert browser.post("/auth/logout", headers={"Origin": url, "X-CSRF-Token": csrf}).status_code == 204
        with pytest.raises(AssertionError, match="the stream ended"):
            for _ in range(10):
                next_event(lines)  # a heartbeat or two at most, then the end


def test_a_stream_opened_with_a_bearer_token_ends_when_the_token_expires(events_api: Api, url: str) -> None:
    token = events_api.token("dispatcher", ttl=timedelta(minutes=5))
    with httpx.stream("GET", f"{url}/api/v1/events", headers={"Authorization": f"Bearer {token}"}, timeout=10) as s:
        lines = s.iter_lines()
        assert next_event(lines) == (":", "camgate events")
        assert next_event(lines) == (":", "heartbeat")  # alive while the token is
        events_api.clock.advance(timedelta(minutes=5))  # RFC 7519 §4.1.4: not accepted on or after exp
        with pytest.raises(AssertionError, match="the stream ended"):
            for _ in range(10):
                next_event(lines)


def test_no_credentials_no_stream(url: str) -> None:
    assert httpx.get(f"{url}/api/v1/events", timeout=5).status_code == 401


def test_transitions_made_by_another_replica_are_streamed_once(
    events_api: Api, url: str, make_api: Callable[..., contextlib.AbstractContextManager[Api]]
) -> None:
    bearer = {"Authorization": f"Bearer {events_api.token('dispatcher')}"}
    with make_api() as other, httpx.stream("GET", f"{url}/api/v1/events", headers=bearer, timeout=10) as stream:
        lines = stream.iter_lines()
        assert next_event(lines) == (":", "camgate events")
        events_api.services.tick()  # housekeeping here: the baseline
        declared = other.declared()  # on the other replica: no listener of this one is called
        events_api.services.tick()
        kind, data = next_emergency(lines)
        assert (kind, data["kind"], data["emergency"]["id"]) == ("emergency", "emergency.declare", declared["id"])
        assert other.end(declared["id"]).status_code == 200
        events_api.services.tick()
        kind, data = next_emergency(lines)
        assert data["kind"] == "emergency.end" and data["emergency"]["status"] != "active"
        local = events_api.declared()  # on this replica: streamed by the listener ...
        assert next_emergency(lines)[1]["emergency"]["id"] == local["id"]
        events_api.services.tick()  # ... and not again when housekeeping sees the generation move
        assert next_event(lines) == (":", "heartbeat")


def test_viewing_under_an_emergency_is_streamed_to_the_owner_too(events_api: Api, url: str) -> None:
    """School IT's page lists who watches its cameras under an emergency (FERPA 34 CFR 99.32) as it happens."""
    school_it = {"Authorization": f"Bearer {events_api.token('operator')}"}  # ncps: the school MOU's owner
    parking = {"Authorization": f"Bearer {events_api.token('parking')}"}  # ncpb: not a party to it
    with (
        httpx.stream("GET", f"{url}/api/v1/events", headers=school_it, timeout=10) as stream,
        httpx.stream("GET", f"{url}/api/v1/events", headers=parking, timeout=10) as other,
    ):
        lines, other_lines = stream.iter_lines(), other.iter_lines()
        assert next_event(lines) == (":", "camgate events") and next_event(other_lines) == (":", "camgate events")
        declared = events_api.declared()
        assert next_emergency(lines)[1]["kind"] == "emergency.declare"
        assert events_api.live("saxe-ext-01").status_code == 200  # clause 4.1, not under the emergency: no event
        assert events_api.live("saxe-int-01").status_code == 200  # clause 4.2, under it
        kind, data = next_emergency(lines)
        assert (kind, data["kind"], data["viewing"]["emergency"], data["viewing"]["camera"]) == (
            "viewing", "viewing.start", declared["id"], "saxe-int-01")  # fmt: skip
        (viewer,) = events_api.get(f"/api/v1/emergencies/{declared['id']}/viewers", as_="operator").json()["viewers"]
        assert viewer["session"] == data["viewing"]["session"]
        assert events_api.end(declared["id"]).status_code == 200
        events_api.services.tick()  # housekeeping cuts the viewer: its session ends
        kinds = {next_emergency(lines)[1]["kind"] for _ in range(2)}
        assert kinds == {"emergency.end", "viewing.end"}
        assert next_event(other_lines) == (":", "heartbeat")  # nothing of the school MOU reaches ncpb
