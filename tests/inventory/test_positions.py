"""PositionBook.refresh under load: the requests that find a refresh due at once make one store read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from broker.clock import FakeClock
from broker.inventory.positions import PositionBook
from tests.concurrency import CountingLock, Gate, join_all, run_all


class GatedPositions:
    """A position repository whose first read waits at a gate; counts reads."""

    def __init__(self) -> None:
        self.gate = Gate()

    def since(self, _after: datetime) -> list[dict[str, Any]]:
        self.gate.pass_through()
        return []


def test_threads_finding_a_refresh_due_together_read_the_store_once() -> None:
    clock, repo = FakeClock(), GatedPositions()
    book = PositionBook(clock, repo=repo)  # type: ignore[arg-type]  # a fake repository
    book._refresh_lock = lock = CountingLock()  # type: ignore[assignment]
    threads = run_all(10, book.refresh)
    assert lock.wait_arrivals(10)  # all ten queued, one of them reading
    repo.gate.open.set()
    join_all(threads)
    assert repo.gate.calls == 1
    assert not book.refresh_due()
    clock.advance(book.refresh_seconds)
    assert book.refresh_due()
    book.refresh()  # a later refresh reads again
    assert repo.gate.calls == 2
