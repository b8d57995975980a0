"""Single-flight TTL LRU segment cache."""

from __future__ import annotations

import asyncio

import pytest

from broker.adapterapi import AdapterError, Fetched
from broker.clock import FakeClock
from broker.enforcement.segcache import SegmentCache


def fetched(ref: str, size: int = 100) -> Fetched:
    return Fetched(body=b"x" * size, content_type="video/mp2t", ref=ref)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)  # let started tasks reach their first await (no wall-clock wait)


def test_fifty_concurrent_requests_one_fetch() -> None:
    cache = SegmentCache(clock=FakeClock())
    calls = 0

    async def main() -> list[Fetched]:
        gate = asyncio.Event()

        async def fetch() -> Fetched:
            nonlocal calls
            calls += 1
            await gate.wait()
            return fetched("cam1/seg000.ts")

        tasks = [asyncio.create_task(cache.get_or_fetch("sys/cam1/seg000.ts", fetch, ttl=4)) for _ in range(50)]
        await settle()
        gate.set()
        results = await asyncio.gather(*tasks)
        results.append(await cache.get_or_fetch("sys/cam1/seg000.ts", fetch, ttl=4))
        return results

    results = asyncio.run(main())
    assert calls == 1 and cache.fetches == 1
    assert all(r is results[0] for r in results)
    assert (cache.misses, cache.coalesced, cache.hits) == (50, 49, 1)


def test_ttl_by_the_injected_clock() -> None:
    clock = FakeClock()
    cache = SegmentCache(clock=clock)

    async def main() -> None:
        async def fetch() -> Fetched:
            return fetched("a")

        await cache.get_or_fetch("a", fetch, ttl=4)
        clock.advance(3.9)
        await cache.get_or_fetch("a", fetch, ttl=4)
        assert (cache.fetches, cache.hits) == (1, 1) and "a" in cache
        clock.advance(0.1)
        assert "a" not in cache
        await cache.get_or_fetch("a", fetch, ttl=4)
        assert (cache.fetches, cache.hits) == (2, 1)
        await cache.get_or_fetch("b", fetch, ttl=0)  # ttl 0: fetched, never stored
        assert "b" not in cache and cache.fetches == 3

    asyncio.run(main())


def test_lru_eviction_by_bytes() -> None:
    cache = SegmentCache(max_bytes=300, clock=FakeClock())

    async def main() -> None:
        for key in ("a", "b", "c"):
            await cache.get_or_fetch(key, lambda k=key: _ready(fetched(k)), ttl=60)
        assert cache.total_bytes == 300 and len(cache) == 3
        await cache.get_or_fetch("a", lambda: _ready(fetched("a")), ttl=60)  # a is now most recent
        await cache.get_or_fetch("d", lambda: _ready(fetched("d", 150)), ttl=60)  # evicts b, then c
        assert ("a" in cache, "b" in cache, "c" in cache, "d" in cache) == (True, False, False, True)
        assert cache.total_bytes == 250 and cache.evictions == 2
        await cache.get_or_fetch("big", lambda: _ready(fetched("big", 301)), ttl=60)  # larger than the cache
        assert "big" not in cache and cache.total_bytes == 250

    asyncio.run(main())
    assert cache.fetches == 5 and cache.hits == 1


async def _ready(value: Fetched) -> Fetched:
    return value


def test_failures_are_not_cached_and_reach_every_waiter() -> None:
    cache = SegmentCache(clock=FakeClock())
    attempts = 0

    async def main() -> None:
        nonlocal attempts
        gate = asyncio.Event()

        async def failing() -> Fetched:
            nonlocal attempts
            attempts += 1
            await gate.wait()
            raise AdapterError("upstream answered HTTP 500", status=500)

        tasks = [asyncio.create_task(cache.get_or_fetch("k", failing, ttl=4)) for _ in range(10)]
        await settle()
        gate.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, AdapterError) and r.status == 500 for r in results)
        assert "k" not in cache and attempts == 1
        assert (await cache.get_or_fetch("k", lambda: _ready(fetched("k")), ttl=4)).ref == "k"

    asyncio.run(main())
    assert cache.fetches == 2 and "k" in cache


def test_a_cancelled_viewer_does_not_cancel_the_shared_fetch() -> None:
    cache = SegmentCache(clock=FakeClock())

    async def main() -> None:
        gate = asyncio.Event()

        async def fetch() -> Fetched:
            await gate.wait()
            return fetched("k")

        first = asyncio.create_task(cache.get_or_fetch("k", fetch, ttl=4))
        second = asyncio.create_task(cache.get_or_fetch("k", fetch, ttl=4))
        await settle()
        first.cancel()
        await settle()
        gate.set()
        assert (await second).ref == "k"
        with pytest.raises(asyncio.CancelledError):
            await first

    asyncio.run(main())
    assert cache.fetches == 1 and "k" in cache


def test_max_bytes_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SegmentCache(max_bytes=0, clock=FakeClock())
