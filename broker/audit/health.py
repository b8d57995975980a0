"""Whether the audit log can take records now, and why not: the one flag every serving path reads.

Nothing is served unless its record is durable, so the broker must know *before* a request whether a record
can be written, and say why not (``/readyz``, the 503's message, one structured log line per change). The
state is set by what actually happened: an append that failed or succeeded, the housekeeping probe (a real
committed write, and on SQLite the free space left on the database's filesystem against
``audit.reserve_bytes``). It recovers by itself: the first probe or append that succeeds clears it.

The reserve is kept for the records that *close* access (a session's end, an emergency's end): when free
space falls under it, new viewing stops while those records still fit.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

log = logging.getLogger("camgate.audit")


@dataclass(frozen=True)
class HealthState:
    writable: bool
    reason: str | None = None  # why not (None while writable)
    since: datetime | None = None  # when the current state began

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"writable": self.writable}
        if self.reason is not None:
            body["reason"] = self.reason
        if self.since is not None:
            body["since"] = self.since.isoformat().replace("+00:00", "Z")
        return body


class AuditHealth:
    """Thread-safe writable/unwritable state with its reason; logs each transition once, structured."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = HealthState(True)

    @property
    def ok(self) -> bool:
        return self._state.writable

    @property
    def state(self) -> HealthState:
        return self._state

    def failed(self, reason: str, now: datetime) -> None:
        with self._lock:
            if not self._state.writable and self._state.reason == reason:
                return
            was = self._state
            self._state = HealthState(False, reason, now if was.writable else was.since)
        log.error(
            "audit store not writable: %s", reason, extra={"event": "audit.unwritable", "reason": reason}
        )  # serving stops: no record, no access

    def recovered(self, now: datetime) -> None:
        with self._lock:
            if self._state.writable:
                return
            down = self._state
            self._state = HealthState(True, None, now)
        seconds = (now - down.since).total_seconds() if down.since else None
        log.warning(
            "audit store writable again after %s s (was: %s)",
            None if seconds is None else round(seconds, 3),
            down.reason,
            extra={"event": "audit.writable", "after_seconds": seconds, "was": down.reason},
        )


def free_bytes(path: Path) -> int | None:
    """Free space for unprivileged writers on the filesystem holding ``path`` (None if it cannot be read)."""
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def reserve_problem(path: Path | None, reserve: int) -> str | None:
    """Why the reserve is broken on ``path``'s filesystem, or None (no path: not a file database)."""
    if path is None or reserve <= 0:
        return None
    free = free_bytes(path)
    if free is None or free >= reserve:
        return None
    return f"disk nearly full: {free} bytes free on the audit database's filesystem, reserve is {reserve}"
