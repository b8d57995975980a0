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

Async callers (:meth:`GroupCommit.submit_async`) take no thread while they wait: their item is queued with a
future, and when no leader is running, a dedicated leader thread (started on first use) takes the lead instead
of the caller. A sync leader hands the lead on to the oldest queued item: to its thread if it is a blocked
caller, to the dedicated thread if it is an async one. So a served video segment costs one queue entry and one
future, not a worker thread parked on a lock, and every viewer's record still shares the batch's one fsync.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class CommitFailed(Exception):
    """The transaction holding this item failed (``__cause__`` is why); nothing of its batch was written."""


class _Slot(Generic[T, R]):
    __slots__ = ("done", "error", "event", "future", "item", "result")

    def __init__(self, item: T, future: Future[R] | None = None) -> None:
        self.item = item
        self.event = threading.Event()  # set when done, or when this waiter is handed the lead
        self.future = future  # an async caller's: resolved when done (it never leads itself)
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None

    def finish(self, result: R | None, error: BaseException | None) -> None:
        self.result, self.error, self.done = result, error, True
        self.event.set()
        if self.future is not None:
            if error is None:
                self.future.set_result(result)  # type: ignore[arg-type]  # R, set with done
            else:
                failed = CommitFailed(str(error))
                failed.__cause__ = error
                self.future.set_exception(failed)


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
        self._async_turn = threading.Event()  # the dedicated leader thread's turn to lead
        self._async_leader: threading.Thread | None = None
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

    def submit_async(self, item: T) -> Future[R]:
        """Queue ``item`` without blocking; the future resolves once its batch committed (or raises
        :class:`CommitFailed`). Await it with ``asyncio.wrap_future``."""
        slot: _Slot[T, R] = _Slot(item, Future())
        with self._lock:
            self._queue.append(slot)
            lead = not self._leading
            self._leading = True
            self._changed.notify_all()
            if lead:
                self._wake_async_leader()
        assert slot.future is not None
        return slot.future

    def _wake_async_leader(self) -> None:
        """Give the lead to the dedicated thread (called with the lock held)."""
        if self._async_leader is None:
            self._async_leader = threading.Thread(target=self._async_lead, name="group-commit", daemon=True)
            self._async_leader.start()
        self._async_turn.set()

    def _async_lead(self) -> None:
        while True:
            self._async_turn.wait()
            self._async_turn.clear()
            while True:
                with self._lock:
                    head = self._queue[0] if self._queue else None
                    if head is None:
                        self._leading = False
                        break
                    if head.future is None:  # a blocked caller: it leads itself from here
                        head.event.set()
                        break
                    batch = self._queue[: self.max_batch]
                    del self._queue[: self.max_batch]
                    self.batches += 1
                self._run(batch)

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
                if successor is not None and successor.future is not None:
                    self._wake_async_leader()  # an async caller's item: the dedicated thread leads
                    successor = None
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
