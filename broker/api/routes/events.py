"""``GET /api/v1/events``: emergency transitions as server-sent events (bearer token or console session).

Each transition of an emergency under an MOU the caller's agency is a party to (oversight auditors: every MOU) is one
``event: emergency`` with ``data: {"kind": "emergency.declare", "emergency": {...}}``; a viewing session under such
an emergency opening or ending on this replica is one ``event: viewing`` with ``data: {"kind": "viewing.start" |
"viewing.end", "viewing": {"emergency", "camera", "session"}}``; a comment line every
``console.events_heartbeat_seconds`` (15 s) keeps proxies from closing the connection. A stream opened with
the session cookie ends when the session does (logout, expiry), checked at each heartbeat; one opened with a
bearer token ends when the token expires (RFC 7519 §4.1.4: not to be accepted on or after ``exp``), to the second.
A principal may hold ``console.events_per_principal`` streams at once and the replica
``console.events_max_streams``; beyond either, 429 ``too_many_streams`` with ``Retry-After``
(:mod:`broker.api.streamcaps`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from broker.api.deps import PrincipalDep, ServicesDep
from broker.api.errordoc import raises
from broker.api.routes.emergencies import visible_mous
from broker.api.streamcaps import SlotStreamingResponse
from broker.errors import TooManyStreams

router = APIRouter(prefix="/api/v1", tags=["events"])

EVENT_STREAM = {
    200: {
        "description": "Server-sent events (HTML Living Standard §9.2): `event: emergency` lines with "
        '`data: {"kind": …, "emergency": {…}}`, `event: viewing` lines with `data: {"kind": "viewing.start" | '
        '"viewing.end", "viewing": {"emergency": …, "camera": …, "session": …}}`, and `: heartbeat` comments',
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses=EVENT_STREAM | raises(TooManyStreams),  # type: ignore[operator]
)
async def events(request: Request, principal: PrincipalDep, services: ServicesDep) -> StreamingResponse:
    hub = services.events
    visible = visible_mous(principal, services)
    session = getattr(request.state, "console_session", None)
    heartbeat = services.settings.console.events_heartbeat_seconds
    expires = getattr(request.state, "token_expires", None) if session is None else None
    slot = hub.caps.acquire((principal.agency, principal.sub))  # 429 beyond the console.events_* caps
    sub = hub.subscribe(lambda mou: mou in visible)

    def end() -> None:
        hub.unsubscribe(sub)
        slot.release()

    def wait() -> float:
        """Until the next heartbeat, or the bearer token's expiry if that comes first."""
        if expires is None:
            return heartbeat
        return max(0.0, min(heartbeat, (expires - services.clock.now()).total_seconds()))

    async def alive() -> bool:
        if expires is not None:
            return bool(services.clock.now() < expires)
        console = services.console
        if session is None or console is None:
            return True
        return bool(await run_in_threadpool(console.still_live, session))

    async def stream() -> AsyncIterator[str]:
        try:
            yield ": camgate events\n\n"
            while True:
                try:
                    event: dict[str, Any] | None = await asyncio.wait_for(sub.queue.get(), wait())
                except TimeoutError:
                    if not await alive():
                        return  # the console session ended: so does its stream
                    yield ": heartbeat\n\n"
                    continue
                if event is None:
                    return
                name = "viewing" if "viewing" in event else "emergency"
                yield f"event: {name}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"
        finally:
            end()

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return SlotStreamingResponse(stream(), media_type="text/event-stream", headers=headers, on_end=end)
