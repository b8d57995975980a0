"""EmergencyService's view of other replicas' emergencies under load: the requests that find a re-read due at
once make one store read, and the next one comes after ``refresh_seconds``."""

from __future__ import annotations

from typing import Any

from broker.admin.emergencies import EmergencyService
from broker.clock import FakeClock
from broker.settings import EmergencySettings
from tests.concurrency import CountingLock, Gate, join_all, run_all


class GatedEmergencies:
    """An emergency repository with none stored, whose first generation read waits at a gate; counts reads."""

    def __init__(self) -> None:
        self.gate = Gate()

    def generation(self) -> int:
        self.gate.pass_through()
        return 1

    def active(self, _at: Any) -> list[Any]:
        return []


def service(clock: FakeClock, repo: GatedEmergencies) -> EmergencyService:
    return EmergencyService(repo, None, lambda: None, clock, EmergencySettings())  # type: ignore[arg-type]


def test_threads_finding_a_refresh_due_together_read_the_store_once() -> None:
    clock, repo = FakeClock(), GatedEmergencies()
    svc = service(clock, repo)
    svc._lock = lock = CountingLock()  # type: ignore[assignment]
    threads = run_all(10, lambda: svc.views_for("hs"))
    assert lock.wait_arrivals(10)  # all ten due and queued, one of them reading
    repo.gate.open.set()
    join_all(threads)
    assert repo.gate.calls == 1
    assert svc.views_for("hs") == () and repo.gate.calls == 1  # not due yet
    clock.advance(EmergencySettings().refresh_seconds)
    assert svc.views_for("hs") == () and repo.gate.calls == 2
