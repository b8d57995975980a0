"""Where the mobile cameras (body-worn, in-car) are: the last position each reported, kept in memory.

Each replica keeps the positions it received (a body-camera system posts every few seconds, and a position
is used for 60 s only, so a replica that missed one learns the next). The decision point never reads this:
the guard looks the position up with the clock and passes it in the request, like the emergencies.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from broker.clock import Clock
from broker.policy import GeoPoint

FUTURE_SKEW = timedelta(seconds=5)  # a sender's clock slightly ahead is tolerated, never more


@dataclass(frozen=True)
class Position:
    camera: str
    point: GeoPoint
    at: datetime
    source: str


class PositionBook:
    def __init__(self, clock: Clock, max_age_seconds: float = 60.0) -> None:
        self.clock = clock
        self.max_age = timedelta(seconds=max_age_seconds)
        self._last: dict[str, Position] = {}
        self._lock = threading.Lock()

    def report(self, position: Position) -> bool:
        """Keep ``position`` unless a later one is already known. Returns whether it was kept."""
        with self._lock:
            known = self._last.get(position.camera)
            if known is not None and known.at > position.at:
                return False
            self._last[position.camera] = position
            return True

    def locate(self, camera: str) -> GeoPoint | None:
        """The camera's position now: its last report if made within ``max_age`` (60 s), else None."""
        pos = self._last.get(camera)
        if pos is None:
            return None
        age = self.clock.now() - pos.at
        return pos.point if -FUTURE_SKEW <= age <= self.max_age else None

    def last(self, camera: str) -> Position | None:
        return self._last.get(camera)
