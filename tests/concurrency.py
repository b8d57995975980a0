"""Helpers for tests of code that many threads enter at once (no sleeps: every wait has a deadline)."""

from __future__ import annotations

import threading
from types import TracebackType

WAIT = 10.0  # seconds: a bound on waiting for an event, never a sleep


class CountingLock:
    """A lock that counts the threads that came to take it, so a test can wait until all of them are queued."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrived = threading.Condition()
        self.arrivals = 0

    def __enter__(self) -> None:
        with self._arrived:
            self.arrivals += 1
            self._arrived.notify_all()
        self._lock.acquire()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._lock.release()

    def wait_arrivals(self, n: int) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: self.arrivals >= n, WAIT)


class Gate:
    """Counts calls; the first one waits until ``open`` is set (so others pile up behind it)."""

    def __init__(self) -> None:
        self.calls = 0
        self.entered = threading.Event()
        self.open = threading.Event()

    def pass_through(self) -> None:
        self.calls += 1
        if not self.entered.is_set():
            self.entered.set()
            assert self.open.wait(WAIT)


def run_all(n: int, target: object) -> list[threading.Thread]:
    threads = [threading.Thread(target=target) for _ in range(n)]  # type: ignore[arg-type]
    for t in threads:
        t.start()
    return threads


def join_all(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive()
