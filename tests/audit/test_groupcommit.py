"""GroupCommit alone, with a fake commit function: batching, own results, failures, hand-off of the lead, for
blocked callers (threads) and async ones (tasks on an event loop)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import pytest

from broker.audit.groupcommit import CommitFailed, GroupCommit

WAIT = 10.0  # seconds: a bound on waiting for an event, never a sleep
T = TypeVar("T")


class GatedCommit:
    """Records each batch; the first batch waits until ``gate`` is set, so the others can queue up."""

    def __init__(self, fail_on: set[int] | None = None) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.fail_on = fail_on or set()

    def __call__(self, items: Sequence[int]) -> list[int]:
        self.entered.set()
        assert self.gate.wait(WAIT)
        self.batches.append(list(items))
        if self.fail_on & set(items):
            raise RuntimeError(f"batch {items} failed")
        return [item * 10 for item in items]


class Submitted:
    """Threads each submitting one item; ``results`` maps item to its result or its CommitFailed."""

    def __init__(self, threads: list[threading.Thread], results: dict[int, object]) -> None:
        self.threads, self.results = threads, results


def submit_all(gc: GroupCommit[int, int], items: list[int]) -> Submitted:
    out: dict[int, object] = {}

    def one(item: int) -> None:
        try:
            out[item] = gc.submit(item)
        except CommitFailed as exc:
            out[item] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in items]
    for t in threads:
        t.start()
    return Submitted(threads, out)


def join(submitted: Submitted) -> dict[int, object]:
    for t in submitted.threads:
        t.join(WAIT)
        assert not t.is_alive()
    return submitted.results


def test_waiters_queued_behind_a_commit_share_the_next_one() -> None:
    commit = GatedCommit()
    gc = GroupCommit(commit, max_batch=100)
    first = submit_all(gc, [0])
    assert commit.entered.wait(WAIT)  # 0 is being committed alone
    rest = submit_all(gc, list(range(1, 21)))
    assert gc.wait_queued(20, WAIT)
    commit.gate.set()
    results = join(first) | join(rest)
    assert results == {i: i * 10 for i in range(21)}  # each waiter got its own result
    assert [len(b) for b in commit.batches] == [1, 20] and gc.batches == 2
    assert sorted(commit.batches[1]) == list(range(1, 21))


def test_max_batch_bounds_a_transaction_and_the_lead_is_handed_on() -> None:
    commit = GatedCommit()
    gc = GroupCommit(commit, max_batch=4)
    first = submit_all(gc, [0])
    assert commit.entered.wait(WAIT)
    rest = submit_all(gc, list(range(1, 11)))
    assert gc.wait_queued(10, WAIT)
    commit.gate.set()
    results = join(first) | join(rest)
    assert results == {i: i * 10 for i in range(11)}
    assert [len(b) for b in commit.batches] == [1, 4, 4, 2]
    assert gc.queued() == 0


def test_a_failed_commit_fails_every_waiter_in_it_and_only_them() -> None:
    commit = GatedCommit(fail_on={3})
    gc = GroupCommit(commit, max_batch=100)
    first = submit_all(gc, [0])
    assert commit.entered.wait(WAIT)
    rest = submit_all(gc, [1, 2, 3, 4])
    assert gc.wait_queued(4, WAIT)
    commit.gate.set()
    results = join(first) | join(rest)
    assert results[0] == 0
    for i in (1, 2, 3, 4):
        failed = results[i]
        assert isinstance(failed, CommitFailed) and isinstance(failed.__cause__, RuntimeError)
    assert results[1] is not results[2]  # each waiter raises its own exception
    assert gc.submit(5) == 50  # the next batch is committed as usual


def test_max_batch_one_is_one_commit_per_item() -> None:
    commit = GatedCommit()
    commit.gate.set()
    gc = GroupCommit(commit, max_batch=1)
    results = join(submit_all(gc, list(range(12))))
    assert results == {i: i * 10 for i in range(12)}
    assert all(len(b) == 1 for b in commit.batches) and len(commit.batches) == 12


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError):
        GroupCommit(lambda items: list(items), max_batch=0)


# -- async callers (submit_async): the served-segment path ------------------------------------------------------


class CountingLoop(asyncio.SelectorEventLoop):
    """Counts callbacks scheduled from other threads: how often the group commit wakes the loop."""

    def __init__(self) -> None:
        super().__init__()
        self.threadsafe_calls = 0

    def call_soon_threadsafe(self, *args: Any, **kwargs: Any) -> asyncio.Handle:  # type: ignore[override]
        self.threadsafe_calls += 1
        return super().call_soon_threadsafe(*args, **kwargs)


def run_async(main: Callable[[], Coroutine[Any, Any, T]]) -> tuple[T, CountingLoop]:
    loop = CountingLoop()
    with asyncio.Runner(loop_factory=lambda: loop) as runner:
        return runner.run(main()), loop


async def settled(futures: list[asyncio.Future[int]]) -> list[object]:
    return list(await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), WAIT))


def test_async_waiters_share_a_batch_and_each_batch_wakes_the_loop_once() -> None:
    commit = GatedCommit()
    gc = GroupCommit(commit, max_batch=100)

    async def main() -> tuple[list[object], int]:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, CountingLoop)
        first = gc.submit_async(0)  # the dedicated leader thread takes it alone, and waits at the gate
        assert await asyncio.to_thread(commit.entered.wait, WAIT)
        rest = [gc.submit_async(i) for i in range(1, 21)]
        before = loop.threadsafe_calls
        commit.gate.set()
        results = await settled([first, *rest])
        return results, loop.threadsafe_calls - before

    (results, wakeups), _ = run_async(main)
    assert results == [i * 10 for i in range(21)]  # each waiter got its own result
    assert [len(b) for b in commit.batches] == [1, 20] and gc.batches == 2
    assert wakeups == 2  # one wake-up of the loop per batch, not one per waiter


def test_async_waiters_of_a_failed_batch_each_get_their_own_commit_failed() -> None:
    commit = GatedCommit(fail_on={3})
    gc = GroupCommit(commit, max_batch=100)

    async def main() -> list[object]:
        first = gc.submit_async(0)
        assert await asyncio.to_thread(commit.entered.wait, WAIT)
        rest = [gc.submit_async(i) for i in (1, 2, 3)]
        commit.gate.set()
        results = await settled([first, *rest])
        return [*results, await gc.submit_async(4)]  # the next batch is committed as usual

    (first, *failed, after), _ = run_async(main)
    assert first == 0 and after == 40
    assert all(isinstance(f, CommitFailed) and isinstance(f.__cause__, RuntimeError) for f in failed)
    assert len({id(f) for f in failed}) == 3


def test_a_cancelled_async_waiter_leaves_its_batch_alone() -> None:
    commit = GatedCommit()
    gc = GroupCommit(commit, max_batch=100)

    async def main() -> list[object]:
        first = gc.submit_async(0)
        assert await asyncio.to_thread(commit.entered.wait, WAIT)
        gone, kept = gc.submit_async(1), gc.submit_async(2)
        gone.cancel()  # its client went away: the record is still written, nobody is told
        commit.gate.set()
        return await settled([first, kept])

    results, _ = run_async(main)
    assert results == [0, 20] and commit.batches == [[0], [1, 2]]


def test_sync_and_async_callers_hand_the_lead_to_each_other() -> None:
    commit = GatedCommit()
    gc = GroupCommit(commit, max_batch=1)  # one item per batch: every item changes hands

    async def main() -> tuple[list[object], dict[int, object]]:
        first = submit_all(gc, [0])  # a blocked caller leads, and waits at the gate
        assert await asyncio.to_thread(commit.entered.wait, WAIT)
        mine = gc.submit_async(1)  # next: the dedicated thread must take over from the blocked leader
        assert await asyncio.to_thread(gc.wait_queued, 1, WAIT)
        blocked = submit_all(gc, [2])  # then a blocked caller again: handed the lead back
        assert await asyncio.to_thread(gc.wait_queued, 2, WAIT)
        commit.gate.set()
        results = await settled([mine])
        return results, await asyncio.to_thread(lambda: join(first) | join(blocked))

    (mine, threads), _ = run_async(main)
    assert mine == [10] and threads == {0: 0, 2: 20}
    assert commit.batches == [[0], [1], [2]] and gc.queued() == 0
