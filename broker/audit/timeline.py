"""Who watched which camera when under one emergency, assembled from its audit records (pure, no I/O).

The records are those carrying the emergency's id, in seq order (:data:`TIMELINE_KINDS`):

- ``session.start`` / ``session.end`` (``broker/enforcement/sessions.py``) pair up by ``details.session``. A
  session is written once when its viewer's first request under the emergency's grant is allowed, and once
  when it ends: the end record carries the first and last request times, the request and byte counts and
  why it ended (``idle``, ``access_revoked:<reason>``, ``shutdown``). A start without an end is a session
  still open (on any replica: the chain is shared), or one whose broker stopped before recording its end.
- ``emergency.declare`` / ``extend`` / ``confirm`` / ``end`` / ``expire`` (``broker/admin/emergencies.py``)
  become the transitions. The instant of a declaration, end or expiry is the one stored with the emergency
  (``details.emergency``), not the record's own time: an expiry is recorded by the next sweep, an
  unconfirmed emergency ends at its deadline. An extension or confirmation happens when it is recorded.

Sessions watched under other grants while the emergency ran (exterior cameras, say) carry no emergency id
and are not part of its timeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from broker.audit.records import AuditRecord
from broker.timeutil import format_instant

TRANSITIONS = ("emergency.declare", "emergency.extend", "emergency.confirm", "emergency.end", "emergency.expire")
TIMELINE_KINDS = ("session.start", "session.end", *TRANSITIONS)
# Which stored instant of the emergency a transition happened at (else the record's own time).
_STORED_INSTANT = {"emergency.declare": "declared_at", "emergency.end": "ended_at", "emergency.expire": "expires_at"}


@dataclass(frozen=True)
class Transition:
    kind: str  # declare, extend, confirm, end, expire
    at: datetime
    recorded_at: datetime
    seq: int
    by_sub: str | None
    by_agency: str | None
    reason: str | None = None
    minutes: int | None = None
    expires_at: datetime | None = None  # the expiry after this transition


@dataclass(frozen=True)
class Viewing:
    """One viewing session under the emergency; ``ended`` is None while it is open."""

    session: str
    principal_sub: str | None
    agency: str | None
    roles: tuple[str, ...]
    camera: str | None
    action: str | None
    grant: str | None
    clause: str | None
    client: str | None
    started: datetime
    start_seq: int | None
    last: datetime | None = None  # the last request served (known from the end record)
    ended: datetime | None = None  # when the session was closed
    end_seq: int | None = None
    reason_ended: str | None = None
    requests: int | None = None
    bytes: int | None = None


@dataclass(frozen=True)
class Timeline:
    transitions: tuple[Transition, ...]
    sessions: tuple[Viewing, ...]

    def to_dict(self) -> dict[str, Any]:
        """As the API sends it: instants in RFC 3339, the transitions' actor as ``by``."""
        transitions = [
            {"kind": t.kind, "at": format_instant(t.at), "recorded_at": format_instant(t.recorded_at), "seq": t.seq,
             "by": {"sub": t.by_sub, "agency": t.by_agency} if t.by_sub else None, "reason": t.reason,
             "minutes": t.minutes, "expires_at": format_instant(t.expires_at)}
            for t in self.transitions
        ]  # fmt: skip
        instants = ("started", "last", "ended")
        sessions = [
            asdict(v) | {"roles": list(v.roles)} | {k: format_instant(getattr(v, k)) for k in instants}
            for v in self.sessions
        ]
        return {"transitions": transitions, "sessions": sessions}


def _instant(value: Any, default: datetime) -> datetime:
    """An RFC 3339 instant written by camgate (``format_instant``), or ``default`` if absent or unreadable."""
    if not isinstance(value, str):
        return default
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return default
    return parsed if parsed.utcoffset() is not None else default


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _transition(rec: AuditRecord) -> Transition:
    stored = rec.details.get("emergency")
    emergency: Mapping[str, Any] = stored if isinstance(stored, Mapping) else {}
    name = _STORED_INSTANT.get(rec.kind)
    at = _instant(emergency.get(name), rec.ts) if name else rec.ts
    reason = rec.details.get("reason")
    expires = emergency.get("expires_at")
    return Transition(
        kind=rec.kind.removeprefix("emergency."), at=at, recorded_at=rec.ts, seq=rec.seq, by_sub=rec.principal_sub,
        by_agency=rec.principal_agency, reason=reason if isinstance(reason, str) else None,
        minutes=_count(rec.details.get("minutes")), expires_at=_instant(expires, rec.ts) if expires else None,
    )  # fmt: skip


def _started(rec: AuditRecord, sid: str) -> Viewing:
    return Viewing(
        session=sid, principal_sub=rec.principal_sub, agency=rec.principal_agency, roles=rec.principal_roles,
        camera=rec.camera, action=rec.action, grant=rec.grant, clause=rec.clause, client=rec.client,
        started=rec.ts, start_seq=rec.seq,
    )  # fmt: skip


def _ended(opened: Viewing | None, rec: AuditRecord, sid: str) -> Viewing:
    base = opened if opened is not None else replace(_started(rec, sid), start_seq=None)
    d = rec.details
    return replace(
        base, started=_instant(d.get("started"), base.started), last=_instant(d.get("last"), rec.ts), ended=rec.ts,
        end_seq=rec.seq, reason_ended=rec.reason, requests=_count(d.get("requests")), bytes=_count(d.get("bytes")),
    )  # fmt: skip


def assemble(records: Iterable[AuditRecord]) -> Timeline:
    """The transitions by time, and the viewing sessions by start (then person, camera, id)."""
    transitions: list[Transition] = []
    sessions: dict[str, Viewing] = {}
    for rec in sorted(records, key=lambda r: r.seq):
        if rec.kind in TRANSITIONS:
            transitions.append(_transition(rec))
            continue
        sid = rec.details.get("session")
        if not isinstance(sid, str) or rec.kind not in ("session.start", "session.end"):
            continue
        if rec.kind == "session.start":
            sessions.setdefault(sid, _started(rec, sid))
        else:
            sessions[sid] = _ended(sessions.get(sid), rec, sid)
    ordered = sorted(sessions.values(), key=lambda v: (v.started, v.principal_sub or "", v.camera or "", v.session))
    transitions.sort(key=lambda t: (t.at, t.seq))
    return Timeline(tuple(transitions), tuple(ordered))
