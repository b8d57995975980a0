"""A single-flight, TTL, byte-bounded LRU cache of upstream answers.

However many viewers watch a camera, each upstream segment is fetched once: concurrent requests for a key
share one in-flight fetch, later ones are served from memory until the TTL (by the injected clock) runs out.
Segments are immutable once listed (RFC 8216 section 6.2.2: a server MUST NOT change a segment's contents
while it is in the playlist), so a TTL of a few target durations is safe. Access control happens before the
cache: a key (system id + ref) is only looked up for a request whose token was verified.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from broker.adapterapi import Fetched
from broker.clock import Clock


@dataclass(slots=True)
class _Entry:
    value: Fetched
    expires: float  # unix seconds
    size: int


def _consume(task: asyncio.Task[Fetched]) -> None:
    # Every waiter may have gone away; retrieve the outcome so asyncio does not log "never retrieved".
    if not task.cancelled():
        task.exception()


class SegmentCache:
    """``get_or_fetch`` is O(1) apart from evictions, each of which is O(1)."""

    def __init__(self, max_bytes: int = 256 << 20, *, clock: Clock) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._inflight: dict[str, asyncio.Task[Fetched]] = {}
        self.total_bytes = 0
        self.hits = 0  # served from a stored entry
        self.misses = 0  # not stored: started a fetch or joined one in flight
        self.fetches = 0  # upstream fetches started
        self.coalesced = 0  # misses that joined a fetch already in flight
        self.evictions = 0  # entries dropped to stay under max_bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        entry = self._entries.get(key) if isinstance(key, str) else None
        return entry is not None and entry.expires > self._now()

    def _now(self) -> float:
        return self._clock.now().timestamp()

    async def get_or_fetch(self, key: str, fetch: Callable[[], Awaitable[Fetched]], ttl: float) -> Fetched:
        """The cached value of ``key``, else the result of one shared ``fetch()`` kept for ``ttl`` seconds.

        A failed fetch is not cached: every caller waiting on it gets the exception. A caller that is
        cancelled (viewer gone) does not cancel the fetch the others are waiting on.
        """
        entry = self._entries.get(key)
        if entry is not None:
            if entry.expires > self._now():
                self._entries.move_to_end(key)
                self.hits += 1
                return entry.value
            self._drop(key)
        self.misses += 1
        task = self._inflight.get(key)
        if task is None:
            self.fetches += 1
            task = asyncio.ensure_future(self._fetch(key, fetch, ttl))
            task.add_done_callback(_consume)
            self._inflight[key] = task
        else:
            self.coalesced += 1
        return await asyncio.shield(task)

    async def _fetch(self, key: str, fetch: Callable[[], Awaitable[Fetched]], ttl: float) -> Fetched:
        try:
            value = await fetch()
            self._store(key, value, ttl)
            return value
        finally:
            self._inflight.pop(key, None)

    def _store(self, key: str, value: Fetched, ttl: float) -> None:
        size = len(value.body)
        if ttl <= 0 or size > self.max_bytes:
            return
        self._drop(key)
        self._entries[key] = _Entry(value, self._now() + ttl, size)
        self.total_bytes += size
        while self.total_bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)  # least recently used
            self.total_bytes -= evicted.size
            self.evictions += 1

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.total_bytes -= entry.size

    def invalidate(self, key: str) -> None:
        self._drop(key)

    def clear(self) -> None:
        self._entries.clear()
        self.total_bytes = 0
