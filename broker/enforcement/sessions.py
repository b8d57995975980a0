"""Viewing sessions: ``session.start``, one ``session.served`` per answer, and ``session.end`` per viewer and stream.

Every playlist, segment and snapshot a viewer is answered is counted on the chain *before* it is sent
(:meth:`SessionTracker.served`: a ``session.served`` record with the session's running totals, group-committed
with every other viewer's, so one fsync serves them all). So the log never says less than was delivered, even
after ``kill -9``: the last ``session.served`` of a session is what it was served, and the ``session.end``
(written on idle, revocation or shutdown, or by :mod:`broker.enforcement.recovery` for a process that died)
carries those totals, how long it lasted and why it ended. Only answers that went out are counted: a request
refused or failed upstream adds nothing.

A session whose record cannot be written is over: it leaves the open set at once (its viewer's next request,
once the audit store is back, opens a new session with a new decision record) and its end is written as soon
as the store takes records again, with the totals that were durable.
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
    requests: int = 0  # answers counted (their session.served record submitted)
    bytes: int = 0
    durable_requests: int = 0  # the totals of its last committed session.served record
    durable_bytes: int = 0


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
        self._failed: dict[str, tuple[Session, str]] = {}  # out of the open set, end record still to write

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

    def touch(self, s: Session) -> None:
        """The session goes on (a request was decided within it); nothing is counted until it is answered."""
        s.last = self.clock.now()

    async def served(self, s: Session, nbytes: int) -> None:
        """Count one answer of ``nbytes`` durably; returns once its record is committed, before the answer is
        sent. Raises AuditUnavailable (the answer must not go out) and ends the session."""
        s.last = self.clock.now()
        s.requests += 1
        s.bytes += nbytes
        totals = {"requests": s.requests, "bytes": s.bytes}
        try:
            await self.audit.append_async(
                "session.served",
                principal_sub=s.principal.sub,
                principal_agency=s.principal.agency,
                camera=s.camera,
                action=s.action,
                emergency=s.decision.emergency,
                details={"session": s.id} | totals,
            )
        except AuditUnavailable:
            self._fail(s, "audit_unavailable")
            raise
        s.durable_requests = max(s.durable_requests, totals["requests"])
        s.durable_bytes = max(s.durable_bytes, totals["bytes"])

    def _fail(self, s: Session, why: str) -> None:
        with self._lock:
            key = session_key(s.principal, s.camera, s.action, s.decision.grant, s.decision.emergency)
            if self._sessions.get(key) is s:
                del self._sessions[key]
            self._failed.setdefault(s.id, (s, why))

    def _end_record(self, s: Session, why: str) -> None:
        rule = s.decision.to_dict() | {"allowed": None, "reason": why}  # the grant it ran under; why it ended
        self.audit.append(
            "session.end",
            **principal_fields(s.principal),
            **rule,
            camera=s.camera,
            action=s.action,
            client=s.client,
            details={
                "session": s.id,
                "started": format_instant(s.started),
                "last": format_instant(s.last),
                "seconds": round((s.last - s.started).total_seconds(), 3),
                "requests": s.durable_requests,
                "bytes": s.durable_bytes,
            },
        )

    def close(self, key: SessionKey, why: str) -> bool:
        with self._lock:
            s = self._sessions.pop(key, None)
        if s is None:
            return False
        try:
            self._end_record(s, why)
        except AuditUnavailable:
            with self._lock:  # out of the open set; the next sweep writes its end
                self._failed.setdefault(s.id, (s, why))
            return False
        self._tell("viewing.end", s)
        return True

    def sweep(self) -> int:
        """End sessions idle for longer than ``idle_seconds``; write the ends that could not be written."""
        now = self.clock.now()
        with self._lock:
            idle = [k for k, s in self._sessions.items() if (now - s.last).total_seconds() > self.idle]
            failed = list(self._failed.values())
        ended = sum(self.close(k, "idle") for k in idle)
        for s, why in failed:
            try:
                self._end_record(s, why)
            except AuditUnavailable:
                break  # still down: the next sweep
            with self._lock:
                self._failed.pop(s.id, None)
            self._tell("viewing.end", s)
            ended += 1
        return ended

    def unfinished(self) -> int:
        """Sessions out of the open set whose end record is still to be written."""
        with self._lock:
            return len(self._failed)

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
        self.sweep()  # and the ends still owed
