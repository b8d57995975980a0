"""Caps on concurrent ``GET /api/v1/events`` streams: per principal and per replica (issue 13 item 17).

Every open stream holds a task, a queue and a socket for as long as the client stays: 1,000 streams from one
token were all accepted, and ``/readyz`` took 2.6 s. A :class:`StreamSlot` is taken before the stream is
answered (so the refusal is a real 429, RFC 6585 §4, with ``Retry-After``) and given back when the response
ends, however it ends (:class:`SlotStreamingResponse`): a client that left before its first byte frees it too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from broker.errors import TooManyStreams

Owner = tuple[str, str]  # (agency, sub): one principal


class StreamSlot:
    """One admitted stream; :meth:`release` (idempotent) gives its place back."""

    def __init__(self, caps: StreamCaps, owner: Owner) -> None:
        self._caps, self.owner, self._held = caps, owner, True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._caps._release(self.owner)


class StreamCaps:
    def __init__(self, per_principal: int, total: int, retry_after: int) -> None:
        self.per_principal, self.total, self.retry_after = per_principal, total, retry_after
        self._open: dict[Owner, int] = {}
        self._count = 0
        self._lock = threading.Lock()

    @property
    def open(self) -> int:
        return self._count

    def held_by(self, owner: Owner) -> int:
        return self._open.get(owner, 0)

    def acquire(self, owner: Owner) -> StreamSlot:
        """A slot for one more stream of ``owner``; TooManyStreams (429) beyond either cap."""
        with self._lock:
            if self._open.get(owner, 0) >= self.per_principal:
                raise TooManyStreams(
                    f"you have {self.per_principal} event streams open, the most allowed "
                    "(console.events_per_principal): close one (one stream per console page is enough)",
                    retry_after=self.retry_after,
                )
            if self._count >= self.total:
                raise TooManyStreams(
                    f"this broker serves {self.total} event streams, the most allowed (console.events_max_streams)",
                    retry_after=self.retry_after,
                )
            self._open[owner] = self._open.get(owner, 0) + 1
            self._count += 1
        return StreamSlot(self, owner)

    def _release(self, owner: Owner) -> None:
        with self._lock:
            left = self._open.get(owner, 0) - 1
            if left > 0:
                self._open[owner] = left
            else:
                self._open.pop(owner, None)
            self._count = max(0, self._count - 1)


class SlotStreamingResponse(StreamingResponse):
    """A streaming response that runs ``on_end`` (free the slot, unsubscribe) once it is over, whether the
    stream ended, the client went away, or it never started."""

    def __init__(self, *args: object, on_end: Callable[[], None], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._on_end = on_end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_end()
