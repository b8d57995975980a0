"""Ending the viewing sessions of a broker process that died (kill -9, power loss, a lost replica).

Each process registers as a replica and beats every few seconds (``replicas``); its open sessions are rows of
``viewing_sessions``, kept in step with the chain by the audit writer's hooks. Whoever notices that a replica
stopped beating for ``audit.replica_timeout_seconds`` (the restarted process, or any other replica on the same
database) writes each of its sessions' ``session.end`` with reason ``replica_lost``: the decision fields of its
``session.start``, and the totals of its last ``session.served`` record, which were committed before their
answers went out. So the log's served count of a session is never below what its viewer received.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from datetime import timedelta
from typing import Any

from broker.audit import AuditLog
from broker.audit.records import AuditRecord
from broker.clock import Clock
from broker.store.viewing import ViewingRepository
from broker.timeutil import format_instant

log = logging.getLogger("camgate.sessions")
BEAT_SECONDS = 2.0
LOST = "replica_lost"


def replica_id() -> str:
    """This process's name among the replicas: host, pid and a random part (a pid is reused after a restart)."""
    return f"{socket.gethostname()[:64]}-{os.getpid()}-{secrets.token_hex(4)}"


class SessionRecovery:
    def __init__(self, repo: ViewingRepository, audit: AuditLog, clock: Clock, timeout_seconds: float) -> None:
        self.repo, self.audit, self.clock = repo, audit, clock
        self.timeout = timedelta(seconds=timeout_seconds)
        self._beaten_at: float | None = None
        self._checked_at: float | None = None

    def tick(self) -> int:
        """Beat when due and end the sessions of replicas gone silent; returns how many were ended."""
        now = self.clock.now()
        t = now.timestamp()
        if self._beaten_at is None or t - self._beaten_at >= BEAT_SECONDS:
            self.repo.beat(now)
            self._beaten_at = t
        if self._checked_at is not None and t - self._checked_at < BEAT_SECONDS:
            return 0
        self._checked_at = t
        ended = self.recover()
        if ended:
            self.repo.forget_dead(now, self.timeout)
        return ended

    def recover(self) -> int:
        """Write ``session.end`` for every open session of a dead replica (raises AuditUnavailable)."""
        ended = 0
        for row in self.repo.orphans(self.clock.now(), self.timeout):
            start = self.audit.record(row["start_seq"])
            if start is None or start.kind != "session.start":
                log.error("viewing session %s: its session.start (record %s) is missing", row["id"], row["start_seq"])
                continue
            last = self.audit.last_served(row["id"], row["camera"], row["start_seq"])
            self.audit.append("session.end", **_end_fields(start, last, row["replica"]))
            ended += 1
        if ended:
            log.warning("ended %d viewing session(s) of broker processes that stopped", ended)
        return ended


def _end_fields(start: AuditRecord, last: AuditRecord | None, replica: str) -> dict[str, Any]:
    """The end record of a session, from its start record and its last served record (None: nothing served)."""
    details = last.details if last is not None else {}
    until = last.ts if last is not None else start.ts
    return {
        "principal_sub": start.principal_sub,
        "principal_agency": start.principal_agency,
        "principal_roles": start.principal_roles,
        "camera": start.camera,
        "action": start.action,
        "allowed": None,
        "reason": LOST,
        "mou": start.mou,
        "grant": start.grant,
        "clause": start.clause,
        "emergency": start.emergency,
        "client": start.client,
        "details": {
            "session": start.details.get("session"),
            "started": format_instant(start.ts),
            "last": format_instant(until),
            "seconds": round((until - start.ts).total_seconds(), 3),
            "requests": details.get("requests", 0),
            "bytes": details.get("bytes", 0),
            "replica": replica,
            "recovered": True,
        },
    }
