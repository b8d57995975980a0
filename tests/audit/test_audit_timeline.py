"""An emergency's timeline from its audit records: sessions paired, transitions placed (pure), and the read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from broker.audit import AuditLog, AuditRecord
from broker.audit.timeline import TIMELINE_KINDS, assemble
from broker.clock import FakeClock
from broker.timeutil import format_instant

T0 = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)
EM = "em-0123456789ab"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def emergency(declared: float, expires: float, ended: float | None = None) -> dict[str, Any]:
    return {"id": EM, "declared_at": format_instant(at(declared)), "expires_at": format_instant(at(expires)),
            "ended_at": format_instant(at(ended)) if ended is not None else None}  # fmt: skip


class Chain:
    """Records in seq order, as the log would hold them."""

    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    def add(self, kind: str, ts: float, **fields: Any) -> AuditRecord:
        rec = AuditRecord(seq=len(self.records) + 1, ts=at(ts), kind=kind, emergency=EM, **fields)
        self.records.append(rec)
        return rec

    def start(self, ts: float, sid: str, sub: str, camera: str, **fields: Any) -> None:
        self.add("session.start", ts, principal_sub=sub, principal_agency="ncpd", principal_roles=("officer",),
                 camera=camera, action="live", allowed=True, reason="allowed", grant="G2", clause="4.2",
                 details={"session": sid}, **fields)  # fmt: skip

    def end(self, ts: float, sid: str, sub: str, camera: str, started: float, last: float, why: str) -> None:
        self.add("session.end", ts, principal_sub=sub, principal_agency="ncpd", principal_roles=("officer",),
                 camera=camera, action="live", reason=why, grant="G2", clause="4.2",
                 details={"session": sid, "started": format_instant(at(started)), "last": format_instant(at(last)),
                          "seconds": last - started, "requests": 12, "bytes": 4096})  # fmt: skip


def test_sessions_pair_by_id_and_transitions_take_the_stored_instants() -> None:
    c = Chain()
    c.add("emergency.declare", 0.2, principal_sub="dispatch-lee", principal_agency="ncpd",
          details={"emergency": emergency(0, 600), "recipients": ["ncpd"]})  # fmt: skip
    c.start(5, "vs-a", "officer-kim", "saxe-int-01")
    c.start(7, "vs-b", "officer-ray", "saxe-int-02")
    c.add("emergency.extend", 60, principal_sub="dispatch-lee", principal_agency="ncpd",
          details={"emergency": emergency(0, 2400), "reason": "suspect still inside", "minutes": 30})  # fmt: skip
    c.end(45, "vs-b", "officer-ray", "saxe-int-02", started=6.9, last=14, why="idle")
    c.start(70, "vs-c", "officer-kim", "saxe-int-01")  # the same viewer and camera again: a second session
    c.add("emergency.end", 120.4, principal_sub="dispatch-lee", principal_agency="ncpd",
          details={"emergency": emergency(0, 2400, ended=120), "reason": "suspect in custody"})  # fmt: skip
    c.end(120.9, "vs-a", "officer-kim", "saxe-int-01", started=4.9, last=119.5, why="access_revoked:no_emergency")

    t = assemble(reversed(c.records))  # any order in, seq order used

    assert [(x.kind, x.at, x.by_sub) for x in t.transitions] == [
        ("declare", at(0), "dispatch-lee"), ("extend", at(60), "dispatch-lee"), ("end", at(120), "dispatch-lee"),
    ]  # fmt: skip
    declare, extend, end = t.transitions
    assert declare.recorded_at == at(0.2) and declare.seq == 1
    assert (extend.minutes, extend.reason, extend.expires_at) == (30, "suspect still inside", at(2400))
    assert (end.reason, end.recorded_at, end.expires_at) == ("suspect in custody", at(120.4), at(2400))

    assert [(s.session, s.principal_sub, s.camera) for s in t.sessions] == [
        ("vs-a", "officer-kim", "saxe-int-01"), ("vs-b", "officer-ray", "saxe-int-02"),
        ("vs-c", "officer-kim", "saxe-int-01"),
    ]  # fmt: skip
    a, b, still_open = t.sessions
    # Closed: the end record's own times (first and last request), counts and reason; both records' seqs.
    assert (a.started, a.last, a.ended) == (at(4.9), at(119.5), at(120.9))
    assert a.reason_ended == "access_revoked:no_emergency"
    assert (a.requests, a.bytes, a.start_seq, a.end_seq) == (12, 4096, 2, 8)
    assert (a.agency, a.roles, a.action, a.grant, a.clause) == ("ncpd", ("officer",), "live", "G2", "4.2")
    assert (b.ended, b.last, b.reason_ended) == (at(45), at(14), "idle")
    # Open: no end record yet.
    assert (still_open.started, still_open.start_seq) == (at(70), 6)
    assert still_open.ended is still_open.last is still_open.reason_ended is still_open.requests is None


def test_an_expiry_is_placed_at_expires_at_though_recorded_by_a_later_sweep() -> None:
    c = Chain()
    c.add("emergency.declare", 0, principal_sub="trigger:ncps/saxe-office-1", principal_agency="ncps",
          details={"emergency": emergency(0, 600)})  # fmt: skip
    c.add("emergency.confirm", 30, principal_sub="dispatch-lee", principal_agency="ncpd", details={})
    c.add("emergency.expire", 603, details={"emergency": emergency(0, 600), "reason": "expires_at reached"})
    t = assemble(c.records)
    assert [(x.kind, x.at, x.recorded_at) for x in t.transitions] == [
        ("declare", at(0), at(0)), ("confirm", at(30), at(30)), ("expire", at(600), at(603)),
    ]  # fmt: skip
    assert t.transitions[2].by_sub is None
    assert t.to_dict()["transitions"][2]["by"] is None
    assert t.sessions == ()


def test_odd_records_do_not_break_the_timeline() -> None:
    c = Chain()
    c.add("emergency.declare", 0, details={"emergency": "not an object"})  # falls back to the record's time
    c.add("decision", 1, camera="saxe-int-01", allowed=True, details={"session": "vs-x"})  # not a session record
    c.add("session.start", 2, camera="saxe-int-01", details={})  # no session id
    c.end(9, "vs-late", "officer-kim", "saxe-int-01", started=3, last=8, why="idle")  # its start not on the chain
    c.add("session.end", 10, camera="saxe-int-02", details={"session": "vs-bad", "started": "yesterday",
                                                             "last": 5, "requests": True})  # fmt: skip
    t = assemble(c.records)
    assert [(x.kind, x.at) for x in t.transitions] == [("declare", at(0))]
    late, bad = t.sessions
    assert (late.session, late.started, late.start_seq, late.end_seq) == ("vs-late", at(3), None, 4)
    assert (bad.started, bad.last, bad.ended, bad.requests) == (at(10), at(10), at(10), None)


def test_to_dict_sends_rfc3339_instants_and_nulls_for_an_open_session() -> None:
    c = Chain()
    c.start(5, "vs-a", "officer-kim", "saxe-int-01", client="10.0.0.7")
    (session,) = assemble(c.records).to_dict()["sessions"]
    assert session == {
        "session": "vs-a", "principal_sub": "officer-kim", "agency": "ncpd", "roles": ["officer"],
        "camera": "saxe-int-01", "action": "live", "grant": "G2", "clause": "4.2", "client": "10.0.0.7",
        "started": "2026-09-14T13:00:05Z", "start_seq": 1, "last": None, "ended": None, "end_seq": None,
        "reason_ended": None, "requests": None, "bytes": None,
    }  # fmt: skip


def test_emergency_records_reads_only_the_timeline_kinds_of_that_emergency(audit: AuditLog, clock: FakeClock) -> None:
    audit.append("emergency.declare", emergency=EM)
    audit.append("decision", emergency=EM, allowed=True)
    audit.append("session.start", emergency=EM, details={"session": "vs-a"})
    audit.append("session.start", emergency="em-other", details={"session": "vs-b"})
    audit.append("session.start", details={"session": "vs-c"})  # an exterior camera, no emergency
    audit.append("session.end", emergency=EM, details={"session": "vs-a"})
    audit.append("emergency.end", emergency=EM)
    records, complete = audit.emergency_records(EM, TIMELINE_KINDS)
    assert [r.seq for r in records] == [1, 3, 6, 7] and complete
    records, complete = audit.emergency_records(EM, TIMELINE_KINDS, limit=3)
    assert [r.seq for r in records] == [1, 3, 6] and not complete
    assert audit.emergency_records("em-none", TIMELINE_KINDS) == ([], True)
