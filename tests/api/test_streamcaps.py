"""The event-stream slots (``broker/api/streamcaps.py``): counted per principal and in all, given back once
however the response ends, even when it never started."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.requests import ClientDisconnect

from broker.api.streamcaps import SlotStreamingResponse, StreamCaps
from broker.errors import TooManyStreams


def test_caps_count_per_principal_and_in_all_and_release_is_idempotent() -> None:
    caps = StreamCaps(per_principal=2, total=3, retry_after=9)
    a1, a2 = caps.acquire(("ncpd", "a")), caps.acquire(("ncpd", "a"))
    with pytest.raises(TooManyStreams) as per:
        caps.acquire(("ncpd", "a"))
    assert per.value.status == 429 and per.value.headers() == {"Retry-After": "9"}
    caps.acquire(("ncps", "a"))  # the same sub at another agency is another principal
    with pytest.raises(TooManyStreams):
        caps.acquire(("ncpd", "b"))  # the replica is full
    a1.release()
    a1.release()
    assert caps.open == 2 and caps.held_by(("ncpd", "a")) == 1
    caps.acquire(("ncpd", "b"))
    a2.release()
    assert caps.held_by(("ncpd", "a")) == 0


def test_a_response_whose_client_left_before_the_first_byte_gives_its_slot_back() -> None:
    caps = StreamCaps(per_principal=1, total=1, retry_after=1)
    slot = caps.acquire(("ncpd", "a"))

    async def body() -> AsyncIterator[str]:
        yield "never sent"

    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def send(_message: object) -> None:
        raise OSError("the client went away")

    response = SlotStreamingResponse(body(), on_end=slot.release)
    with pytest.raises((OSError, ClientDisconnect)):  # starlette turns the OSError into ClientDisconnect
        asyncio.run(response({"type": "http", "asgi": {"spec_version": "2.4"}}, receive, send))  # type: ignore[arg-type]
    assert caps.open == 0
