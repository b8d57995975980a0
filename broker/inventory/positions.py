"""Where the mobile cameras (body-worn, in-car) are: the last position each reported.

A replica keeps the positions in memory and, with a store, shares them: each report is saved
(``camera_positions``), and the positions other replicas received are read again at most once a second
(:meth:`PositionBook.refresh`, off the event loop like the emergencies). The decision point never reads this:
the guard looks the position up with the clock and passes it in the request, like the emergencies.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from broker.clock import Clock
from broker.policy import GeoPoint
from broker.store.positions import PositionRepository

FUTURE_SKEW = timedelta(seconds=5)  # a sender's clock slightly ahead is tolerated, never more


@dataclass(frozen=True)
class Position:
    camera: str
    point: GeoPoint
    at: datetime
    source: str


class PositionBook:
    def __init__(
        self, clock: Clock, max_age_seconds: float = 60.0, repo: PositionRepository | None = None,
        refresh_seconds: float = 1.0,
    ) -> None:  # fmt: skip
        self.clock, self.repo, self.refresh_seconds = clock, repo, refresh_seconds
        self.max_age = timedelta(seconds=max_age_seconds)
        self._last: dict[str, Position] = {}
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._read_at: datetime | None = None

    def report(self, position: Position) -> bool:
        """Keep ``position`` unless a later one is already known (and save it). Returns whether it was kept."""
        if not self._keep(position):
            return False
        if self.repo is not None:
            p = position
            self.repo.save(p.camera, p.point.lat, p.point.lon, p.at, p.source)
        return True

    def _keep(self, position: Position) -> bool:
        with self._lock:
            known = self._last.get(position.camera)
            if known is not None and known.at >= position.at:
                return False
            self._last[position.camera] = position
            return True

    def refresh_due(self) -> bool:
        read = self._read_at
        return self.repo is not None and (
            read is None or (self.clock.now() - read).total_seconds() >= self.refresh_seconds
        )

    def refresh(self) -> None:
        """Learn the positions other replicas received (blocking: call it in a thread from async code)."""
        if self.repo is None:
            return
        asked = self._read_at
        with self._refresh_lock:  # the requests that found a refresh due at once make one read, not one each
            if self._read_at is not asked:  # another thread read them while this one waited
                return
            now = self.clock.now()
            for row in self.repo.since(now - self.max_age - FUTURE_SKEW):
                self._keep(Position(row["camera"], GeoPoint(row["lat"], row["lon"]), row["at"], row["source"]))
            self._read_at = now

    def locate(self, camera: str) -> GeoPoint | None:
        """The camera's position now: its last report if made within ``max_age`` (60 s), else None."""
        if self.refresh_due():
            self.refresh()
        pos = self._last.get(camera)
        if pos is None:
            return None
        age = self.clock.now() - pos.at
        return pos.point if -FUTURE_SKEW <= age <= self.max_age else None

    def last(self, camera: str) -> Position | None:
        return self._last.get(camera)
