"""Leader/follower group commit: many threads' items written by one transaction, each thread still
waiting for its own item to be durable.

A thread that finds no commit in progress becomes the leader: it takes everything queued (up to
``max_batch``, oldest first), runs ``commit`` on it, and hands each waiter its own result or the
batch's failure. Threads arriving meanwhile queue up and form the next batch, so the batch grows with
the load and nobody waits for a timer. When the leader's own item is done it hands the lead to the
oldest waiter still queued (waking one thread, not all). It is the scheme of MySQL's binary-log group
commit (a leader flushes for its followers) and of PostgreSQL's WAL flush (one fsync serves every backend
waiting on it), applied here to a whole transaction: one ``BEGIN IMMEDIATE``/``FOR UPDATE`` and one
commit (one fsync) per batch instead of per record.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class CommitFailed(Exception):
    """The transaction holding this item failed (``__cause__`` is why); nothing of its batch was written."""


class _Slot(Generic[T, R]):
    __slots__ = ("done", "error", "event", "item", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.event = threading.Event()  # set when done, or when this waiter is handed the lead
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None

    def finish(self, result: R | None, error: BaseException | None) -> None:
        self.result, self.error, self.done = result, error, True
        self.event.set()


class GroupCommit(Generic[T, R]):
    """``submit(item)`` blocks until ``commit`` has written a batch holding ``item``; returns its result.

    ``commit(items)`` must return one result per item, in order, or raise: then every waiter of that
    batch raises :class:`CommitFailed`. ``max_batch=1`` gives one transaction per item (the baseline).
    """

    def __init__(self, commit: Callable[[Sequence[T]], Sequence[R]], max_batch: int) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._commit = commit
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queue: list[_Slot[T, R]] = []
        self._leading = False
        self.batches = 0  # transactions attempted (for tests and the benchmark)

    def submit(self, item: T) -> R:
        slot: _Slot[T, R] = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            lead = not self._leading
            self._leading = True
            self._changed.notify_all()
        if not lead:
            slot.event.wait()  # finished by a leader, or handed the lead
        if not slot.done:
            self._lead(slot)
        if slot.error is not None:
            raise CommitFailed(str(slot.error)) from slot.error
        return slot.result  # type: ignore[return-value]  # set together with done

    def queued(self) -> int:
        """Items waiting for a leader to take them."""
        with self._lock:
            return len(self._queue)

    def wait_queued(self, n: int, timeout: float) -> bool:
        """Block until at least ``n`` items are waiting for a leader (tests use it to force a batch)."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._queue) >= n, timeout)

    def _lead(self, mine: _Slot[T, R]) -> None:
        try:
            while not mine.done:  # more than max_batch may be ahead of our own item
                with self._lock:
                    batch = self._queue[: self.max_batch]
                    del self._queue[: self.max_batch]
                    self.batches += 1
                self._run(batch)
        finally:
            with self._lock:
                successor = self._queue[0] if self._queue else None
                self._leading = successor is not None
            if successor is not None:
                successor.event.set()  # it stays queued and takes itself in its first batch

    def _run(self, batch: list[_Slot[T, R]]) -> None:
        try:
            results = self._commit([s.item for s in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"commit returned {len(results)} results for {len(batch)} items")
        except BaseException as exc:
            for s in batch:
                s.finish(None, exc)
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt and the like: waiters are failed, the lead is handed on
            return
        for s, result in zip(batch, results, strict=True):
            s.finish(result, None)
