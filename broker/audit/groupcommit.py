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

Async callers (:meth:`GroupCommit.submit_async`) take no thread while they wait: their item is queued with an
asyncio future, and when no leader is running, a dedicated leader thread (started on first use) takes the lead
instead of the caller. A sync leader hands the lead on to the oldest queued item: to its thread if it is a blocked
caller, to the dedicated thread if it is an async one. So a served video segment costs one queue entry and one
future, not a worker thread parked on a lock, and every viewer's record still shares the batch's one fsync.
Once a batch is written, its async waiters are settled by one callback per event loop
(``call_soon_threadsafe``), not one per item: the leader wakes the loop (one write to its self-pipe, one return
of the GIL) once per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class CommitFailed(Exception):
    """The transaction holding this item failed (``__cause__`` is why); nothing of its batch was written."""


class _Slot(Generic[T, R]):
    __slots__ = ("done", "error", "event", "future", "item", "result")

    def __init__(self, item: T, future: asyncio.Future[R] | None = None) -> None:
        self.item = item
        # A blocked caller's: set when done, or when it is handed the lead. An async caller never leads itself:
        # its future is settled on its event loop once done (see _settle).
        self.event = threading.Event() if future is None else None
        self.future = future
        self.done = False
        self.result: R | None = None
        self.error: BaseException | None = None

    def finish(self, result: R | None, error: BaseException | None) -> None:
        self.result, self.error, self.done = result, error, True
        if self.event is not None:
            self.event.set()

    def hand_lead(self) -> None:
        assert self.event is not None  # only blocked callers lead
        self.event.set()


def _settle(slots: list[_Slot[T, R]]) -> None:
    """On the event loop: resolve the async waiters of a finished batch (each failure its own exception)."""
    for s in slots:
        future = s.future
        if future is None or future.done():  # e.g. cancelled: the client went away
            continue
        if s.error is None:
            future.set_result(s.result)  # type: ignore[arg-type]  # R, set with done
        else:
            failed = CommitFailed(str(s.error))
            failed.__cause__ = s.error
            future.set_exception(failed)


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
            assert slot.event is not None
            slot.event.wait()  # finished by a leader, or handed the lead
        if not slot.done:
            self._lead(slot)
        if slot.error is not None:
            raise CommitFailed(str(slot.error)) from slot.error
        return slot.result  # type: ignore[return-value]  # set together with done

    def submit_async(self, item: T) -> asyncio.Future[R]:
        """Queue ``item`` without blocking (call it on the running event loop); the future resolves on that loop
        once its batch committed, or raises :class:`CommitFailed`."""
        slot: _Slot[T, R] = _Slot(item, asyncio.get_running_loop().create_future())
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
                        head.hand_lead()
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
                successor.hand_lead()  # it stays queued and takes itself in its first batch

    def _run(self, batch: list[_Slot[T, R]]) -> None:
        try:
            results = self._commit([s.item for s in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"commit returned {len(results)} results for {len(batch)} items")
        except BaseException as exc:
            for s in batch:
                s.finish(None, exc)
            self._wake_async(batch)
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt and the like: waiters are failed, the lead is handed on
            return
        for s, result in zip(batch, results, strict=True):
            s.finish(result, None)
        self._wake_async(batch)

    @staticmethod
    def _wake_async(batch: list[_Slot[T, R]]) -> None:
        """One callback per event loop settles the batch's async waiters there (futures are not thread-safe)."""
        by_loop: dict[asyncio.AbstractEventLoop, list[_Slot[T, R]]] = {}
        for s in batch:
            if s.future is not None:
                by_loop.setdefault(s.future.get_loop(), []).append(s)
        for loop, slots in by_loop.items():
            with contextlib.suppress(RuntimeError):  # the loop was closed: nobody is waiting any more
                loop.call_soon_threadsafe(_settle, slots)
