"""GroupCommit alone, with a fake commit function: batching, own results, failures, hand-off of the lead."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from broker.audit.groupcommit import CommitFailed, GroupCommit

WAIT = 10.0  # seconds: a bound on waiting for an event, never a sleep


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


def test_async_submitters_block_no_thread_and_share_a_commit_with_sync_ones() -> None:
    commit = GatedCommit()
    gc = GroupCommit(commit, max_batch=100)
    first = submit_all(gc, [0])  # a synchronous leader, held in its commit
    assert commit.entered.wait(WAIT)
    futures = {i: gc.submit_async(i) for i in range(1, 6)}  # returns at once, while the commit is held
    rest = submit_all(gc, [6, 7])
    assert gc.wait_queued(7, WAIT)
    assert not any(f.done() for f in futures.values())
    commit.gate.set()
    assert {i: f.result(WAIT) for i, f in futures.items()} == {i: i * 10 for i in range(1, 6)}
    assert join(first) | join(rest) == {0: 0, 6: 60, 7: 70}
    assert [len(b) for b in commit.batches] == [1, 7]  # the async items rode the next group commit


def test_an_async_submitter_alone_is_led_by_the_commit_thread() -> None:
    commit = GatedCommit()
    commit.gate.set()
    gc = GroupCommit(commit, max_batch=100)
    assert [gc.submit_async(i).result(WAIT) for i in range(3)] == [0, 10, 20]
    assert gc.submit(3) == 30  # a synchronous submitter after it still leads its own commit
    assert gc.queued() == 0


def test_a_failed_commit_fails_the_async_futures_in_it() -> None:
    commit = GatedCommit(fail_on={2})
    commit.gate.set()
    gc = GroupCommit(commit, max_batch=100)
    with pytest.raises(CommitFailed):
        gc.submit_async(2).result(WAIT)
    assert gc.submit_async(4).result(WAIT) == 40
