"""Viewing sessions: one ``session.start`` and one ``session.end`` audit record per viewer and stream.

A live viewer makes a request every segment; recording each would drown the log without telling an auditor
more. The segment requests are decided again every time (that is what cuts a viewer off), and summarised
here: the session's end record carries its segment and byte counts, how long it lasted and why it ended.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from broker.audit import AuditLog, principal_fields
from broker.clock import Clock
from broker.errors import AuditUnavailable
from broker.policy import Decision, Principal
from broker.timeutil import format_instant

SessionKey = tuple[str, str, str, str, str | None, str | None]
START_LOCK_STRIPES = 64
#: Told ``("viewing.start" | "viewing.end", session)`` once the session's record is written (any thread).
SessionListener = Callable[[str, "Session"], None]


@dataclass
class Session:
    id: str
    principal: Principal
    camera: str
    action: str
    decision: Decision
    client: str | None
    started: datetime
    last: datetime
    requests: int = 0
    bytes: int = 0


def session_key(principal: Principal, camera: str, action: str, grant: str | None, emergency: str | None) -> SessionKey:
    return (principal.sub, principal.agency, camera, action, grant, emergency)


class SessionTracker:
    def __init__(self, audit: AuditLog, clock: Clock, idle_seconds: float) -> None:
        self.audit, self.clock, self.idle = audit, clock, idle_seconds
        self._sessions: dict[SessionKey, Session] = {}
        self._lock = threading.Lock()
        # One session.start per session however many requests race to open it, but different viewers'
        # starts must not queue behind each other: their records share a group commit (striped locks).
        self._start_locks = tuple(threading.Lock() for _ in range(START_LOCK_STRIPES))
        self.listeners: list[SessionListener] = []  # e.g. the event stream: who is watching under an emergency

    def _tell(self, kind: str, s: Session) -> None:
        for listener in self.listeners:
            listener(kind, s)

    def __len__(self) -> int:
        return len(self._sessions)

    def open(self, principal: Principal, camera: str, action: str, d: Decision, client: str | None) -> Session:
        """The viewer's session, started (and recorded: raises AuditUnavailable) if it has none."""
        key = session_key(principal, camera, action, d.grant, d.emergency)
        with self._start_locks[hash(key) % START_LOCK_STRIPES]:  # one session.start per session
            s = self._sessions.get(key)
            if s is not None:
                s.last = self.clock.now()
                return s
            now = self.clock.now()
            s = Session(f"vs-{secrets.token_hex(6)}", principal, camera, action, d, client, now, now)
            self.audit.append(
                "session.start", **principal_fields(principal), **d.to_dict(), camera=camera, action=action,
                client=client, details={"session": s.id},
            )  # fmt: skip
            with self._lock:
                self._sessions[key] = s
        self._tell("viewing.start", s)
        return s

    def close_viewer(self, principal: Principal, camera: str, action: str, why: str) -> int:
        """End every open session of this viewer on this camera (access was revoked)."""
        prefix = (principal.sub, principal.agency, camera, action)
        with self._lock:
            keys = [k for k in self._sessions if k[:4] == prefix]
        return sum(self.close(k, why) for k in keys)

    def get(self, key: SessionKey) -> Session | None:
        return self._sessions.get(key)

    def touch(self, s: Session, nbytes: int) -> None:
        s.last = self.clock.now()
        s.requests += 1
        s.bytes += nbytes

    def close(self, key: SessionKey, why: str) -> bool:
        with self._lock:
            s = self._sessions.pop(key, None)
        if s is None:
            return False
        rule = s.decision.to_dict() | {"allowed": None, "reason": why}  # the grant it ran under; why it ended
        try:
            self.audit.append(
                "session.end", **principal_fields(s.principal), **rule, camera=s.camera, action=s.action,
                client=s.client,
                details={"session": s.id, "started": format_instant(s.started), "last": format_instant(s.last),
                         "seconds": round((s.last - s.started).total_seconds(), 3), "requests": s.requests,
                         "bytes": s.bytes},
            )  # fmt: skip
        except AuditUnavailable:
            with self._lock:  # keep it; the next sweep tries again
                self._sessions.setdefault(key, s)
            return False
        self._tell("viewing.end", s)
        return True

    def sweep(self) -> int:
        """End sessions idle for longer than ``idle_seconds``."""
        now = self.clock.now()
        with self._lock:
            idle = [k for k, s in self._sessions.items() if (now - s.last).total_seconds() > self.idle]
        return sum(self.close(k, "idle") for k in idle)

    def revalidate(self, decide: Callable[[Principal, str, str], Decision]) -> int:
        """Decide every open session again now; end those no longer allowed (``access_revoked:<reason>``).

        Every request of a session is decided anyway; this ends the sessions of viewers who stopped asking
        at the moment access ends (an emergency ended or expired, its MOU went out of effect, a reload), so
        the audit log and the viewer lists say when each viewing really stopped.
        """
        with self._lock:
            open_ = list(self._sessions.items())
        revoked = 0
        for key, s in open_:
            d = decide(s.principal, s.camera, s.action)
            if not d.allowed:
                revoked += self.close(key, f"access_revoked:{d.reason}")
        return revoked

    def open_sessions(self) -> list[Session]:
        """Every open viewing session (a snapshot)."""
        with self._lock:
            return list(self._sessions.values())

    def viewing(self, emergency: str) -> list[Session]:
        """Open sessions running under ``emergency`` (its grant), oldest first."""
        with self._lock:
            found = [s for s in self._sessions.values() if s.decision.emergency == emergency]
        return sorted(found, key=lambda s: (s.started, s.id))

    def viewers(self, action: str = "live") -> dict[str, int]:
        """Open sessions per camera for ``action`` (e.g. the live viewers of each camera now)."""
        with self._lock:
            sessions = list(self._sessions.values())
        counts: dict[str, int] = {}
        for s in sessions:
            if s.action == action:
                counts[s.camera] = counts.get(s.camera, 0) + 1
        return counts

    def close_all(self, why: str = "shutdown") -> None:
        for key in list(self._sessions):
            self.close(key, why)
