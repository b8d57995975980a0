"""Fan-out of emergency transitions to ``GET /api/v1/events`` clients (server-sent events).

:class:`EventHub` is one of ``services.emergencies.listeners``. Transitions happen on worker threads; each
event is handed to the event loop with ``call_soon_threadsafe`` and put on every subscriber's bounded queue.
A client too slow to take its events (queue full) is dropped: its stream ends, and ``EventSource`` reconnects
and re-reads ``GET /api/v1/emergencies``. Which subscriber may see which emergency is decided per client
(the MOUs its agency is a party to).

Transitions applied by another replica call no listener here: :meth:`EventHub.follow` (housekeeping, every
second while anyone listens) sees the emergencies generation move and streams what changed that this replica
did not stream itself: a new emergency as ``emergency.declare``, a later expiry as ``emergency.extend``, one
no longer active as ``emergency.end`` or ``emergency.expire``. A confirmation changes no emergency field and
is streamed by the replica that made it only.

Viewing under an emergency is streamed too, as ``event: viewing`` (:meth:`EventHub.viewing`, a listener of the
session tracker): ``viewing.start`` when a viewing session under an emergency grant opens on this replica and
``viewing.end`` when it ends, with the emergency, the camera and the session id only (who is watching is read
from ``GET /api/v1/emergencies/{id}/viewers``, which is this replica's too). School IT's page lists who is
watching its cameras from them (FERPA 34 CFR 99.32: the district keeps the record of each disclosure).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from broker.admin.emergencies import to_json
from broker.api.streamcaps import StreamCaps
from broker.enforcement.sessions import Session
from broker.store.emergencies import EmergencyRecord, EmergencyRepository

MAX_SEEN = 10_000
Fingerprint = tuple[datetime, datetime | None]  # (expires_at, ended_at): what a transition changes

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Subscriber:
    visible: Callable[[str], bool]  # the MOU of an emergency -> whether this client may see it
    queue: asyncio.Queue[dict[str, Any] | None]
    dropped: bool = field(default=False)


class EventHub:
    def __init__(self, queue_size: int, caps: StreamCaps | None = None) -> None:
        self._size = queue_size
        self.caps = caps or StreamCaps(per_principal=10, total=500, retry_after=15)  # console.events_* settings
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscribers: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._seen: dict[str, Fingerprint] = {}  # emergency id -> as last streamed (or baselined)
        self._active: set[str] = set()
        self._generation: int | None = None  # None: take a silent baseline at the next follow()

    def subscribe(self, visible: Callable[[str], bool]) -> Subscriber:
        self._loop = asyncio.get_running_loop()
        sub = Subscriber(visible, asyncio.Queue(maxsize=self._size))
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)

    def __call__(self, kind: str, rec: EmergencyRecord, details: dict[str, Any]) -> None:
        """The emergencies listener (any thread)."""
        with self._lock:
            self._seen[rec.id] = (rec.expires_at, rec.ended_at)
        self._send(kind, rec.mou, {"emergency": details.get("emergency")})

    def viewing(self, kind: str, session: Session) -> None:
        """The session tracker's listener (any thread): viewing under an emergency started or ended."""
        d = session.decision
        if d.emergency is None or d.mou is None:
            return  # an always-grant: not a viewing under an emergency
        viewing = {"emergency": d.emergency, "camera": session.camera, "session": session.id}
        self._send(kind, d.mou, {"viewing": viewing})

    def _send(self, kind: str, mou: str, data: dict[str, Any]) -> None:
        """Stream ``{"kind": kind, **data}`` to the subscribers who may see ``mou``."""
        loop = self._loop
        if loop is None or not self._subscribers:
            return
        event = {"kind": kind, **data, "mou": mou}
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening any more
            loop.call_soon_threadsafe(self._publish, event)

    def follow(self, repo: EmergencyRepository, now: datetime) -> None:
        """Housekeeping (worker thread): stream other replicas' transitions (see the module docstring)."""
        if not self._subscribers:
            self._generation = None
            return
        generation = repo.generation()
        if generation == self._generation:
            return
        baseline = self._generation is None
        active = {rec.id: rec for rec in repo.active(now)}  # every one: no limit
        gone = [r for r in (repo.get(i) for i in self._active - active.keys()) if r is not None]
        out: list[tuple[str, EmergencyRecord]] = []
        with self._lock:
            for rec in [*active.values(), *gone]:
                mark = (rec.expires_at, rec.ended_at)
                before = self._seen.get(rec.id)
                self._seen[rec.id] = mark
                if baseline or before == mark:
                    continue
                if rec.id not in active:
                    out.append(("emergency.end" if rec.ended_at is not None else "emergency.expire", rec))
                else:
                    out.append(("emergency.declare" if before is None else "emergency.extend", rec))
            for old in self._active - active.keys():
                self._seen.pop(old, None)
            if len(self._seen) > MAX_SEEN:  # ids a local listener saw but that never were active here
                self._seen = {k: v for k, v in self._seen.items() if k in active}
            self._active = set(active)
            self._generation = generation
        for kind, rec in out:
            self._send(kind, rec.mou, {"emergency": to_json(rec, now)})

    def _publish(self, event: dict[str, Any]) -> None:
        for sub in list(self._subscribers):
            if sub.dropped or not sub.visible(event["mou"]):
                continue
            try:
                sub.queue.put_nowait({k: v for k, v in event.items() if k != "mou"})
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
