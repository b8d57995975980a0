"""Fan-out of emergency transitions to ``GET /api/v1/events`` clients (server-sent events).

:class:`EventHub` is one of ``services.emergencies.listeners``. Transitions happen on worker threads; each
event is handed to the event loop with ``call_soon_threadsafe`` and put on every subscriber's bounded queue.
A client too slow to take its events (queue full) is dropped: its stream ends, and ``EventSource`` reconnects
and re-reads ``GET /api/v1/emergencies``. Which subscriber may see which emergency is decided per client
(the MOUs its agency is a party to).

Transitions applied by another replica reach this one through the emergencies refresh, which calls no
listener: those are not streamed yet (the console re-reads the list on reconnect and on its own timer).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from broker.store.emergencies import EmergencyRecord

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Subscriber:
    visible: Callable[[str], bool]  # the MOU of an emergency -> whether this client may see it
    queue: asyncio.Queue[dict[str, Any] | None]
    dropped: bool = field(default=False)


class EventHub:
    def __init__(self, queue_size: int) -> None:
        self._size = queue_size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: set[Subscriber] = set()

    def subscribe(self, visible: Callable[[str], bool]) -> Subscriber:
        self._loop = asyncio.get_running_loop()
        sub = Subscriber(visible, asyncio.Queue(maxsize=self._size))
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)

    def __call__(self, kind: str, rec: EmergencyRecord, details: dict[str, Any]) -> None:
        """The emergencies listener (any thread)."""
        loop = self._loop
        if loop is None or not self._subscribers:
            return
        event = {"kind": kind, "emergency": details.get("emergency"), "mou": rec.mou}
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening any more
            loop.call_soon_threadsafe(self._publish, event)

    def _publish(self, event: dict[str, Any]) -> None:
        for sub in list(self._subscribers):
            if sub.dropped or not sub.visible(event["mou"]):
                continue
            try:
                sub.queue.put_nowait({"kind": event["kind"], "emergency": event["emergency"]})
            except asyncio.QueueFull:
                log.info("events: a client too slow for its events is dropped")
                sub.dropped = True
                self._subscribers.discard(sub)
                with contextlib.suppress(asyncio.QueueFull):
                    sub.queue.get_nowait()
                    sub.queue.put_nowait(None)  # the end-of-stream mark

    def close_all(self) -> None:
        for sub in list(self._subscribers):
            sub.dropped = True
            with contextlib.suppress(asyncio.QueueFull):
                sub.queue.put_nowait(None)
        self._subscribers.clear()
