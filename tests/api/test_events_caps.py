"""``GET /api/v1/events`` is capped per principal and per replica (issue 13 item 17: 1,000 concurrent streams
from one token were all accepted, and ``/readyz`` took 2.6 s). On a real server: streams are held open."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn

from tests.api.support import Api
from tests.identity.oidc_provider import free_port
from tests.waiting import wait_for

PER_PRINCIPAL, TOTAL, RETRY_AFTER = 3, 5, 7


@pytest.fixture
def capped(make_api: Callable[..., contextlib.AbstractContextManager[Api]]) -> Iterator[tuple[Api, str]]:
    console = {
        "events_heartbeat_seconds": 0.2,
        "events_per_principal": PER_PRINCIPAL,
        "events_max_streams": TOTAL,
        "events_retry_after_seconds": RETRY_AFTER,
    }
    with make_api(console=console) as api:
        port = free_port()
        config = uvicorn.Config(api.app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_for(lambda: server.started, 10, "uvicorn to start", interval=0.02)
        try:
            yield api, f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(10)


class Streams:
    """Streams held open until the block ends."""

    def __init__(self, url: str, api: Api) -> None:
        self.url, self.api = url, api
        self.stack = contextlib.ExitStack()
        self.client = self.stack.enter_context(httpx.Client(timeout=10))
        self.lines: list[Iterator[str]] = []  # kept: a dropped line iterator closes its stream

    def open(self, actor: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.api.token(actor)}"}
        r = self.stack.enter_context(self.client.stream("GET", f"{self.url}/api/v1/events", headers=headers))
        if r.status_code == 200:
            self.lines.append(r.iter_lines())
            next(self.lines[-1])  # the opening comment: the stream is admitted and running
        else:
            r.read()
        return r


def refused(r: httpx.Response) -> bool:
    return (
        r.status_code == 429
        and r.json()["error"] == "too_many_streams"
        and r.headers["Retry-After"] == str(RETRY_AFTER)
    )


def test_a_principal_gets_its_cap_then_429_and_others_are_untouched(capped: tuple[Api, str]) -> None:
    api, url = capped
    streams = Streams(url, api)
    with streams.stack:
        assert [streams.open("dispatcher").status_code for _ in range(PER_PRINCIPAL)] == [200] * PER_PRINCIPAL
        over = streams.open("dispatcher")
        assert refused(over), over.text
        assert "console.events_per_principal" in over.json()["message"]
        assert streams.open("officer").status_code == 200  # another principal: its own allowance
    # the streams closed: their places come back (the server notices at its next write, a heartbeat)
    wait_for(lambda: api.services.events.caps.open == 0, 10, "the closed streams' places to be given back")
    again = Streams(url, api)
    with again.stack:
        assert again.open("dispatcher").status_code == 200


def test_the_replica_cap_holds_across_principals_and_readyz_stays_fast(capped: tuple[Api, str]) -> None:
    api, url = capped
    streams = Streams(url, api)
    with streams.stack:
        opened = [streams.open(a).status_code for a in ("dispatcher", "dispatcher", "officer", "officer2", "officer3")]
        assert opened == [200] * TOTAL
        for actor in ("supervisor", "dispatcher2", "fire"):
            over = streams.open(actor)
            assert refused(over) and "console.events_max_streams" in over.json()["message"], over.text
        for _ in range(50):  # a flood of refused attempts
            assert (
                streams.client.get(
                    f"{url}/api/v1/events", headers={"Authorization": f"Bearer {api.token('fire')}"}
                ).status_code
                == 429
            )
        started = time.monotonic()
        ready = httpx.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 200 and time.monotonic() - started < 1.0
