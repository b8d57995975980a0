"""Checking the stored MOUs against the audit chain, both ways (issue 14: an insider with database access).

A version takes effect only when every party approved its exact SHA-256, so a forged approval row would put a text
in force that nobody signed. Every ``mou_revisions``, ``mou_approvals`` and ``mou_terminations`` row carries the
seq and hash of the record that made it (:mod:`broker.store.binding`); here:

- row -> chain: the record exists with that hash, is of the fitting kind, and says the same MOU, version, SHA-256
  (and agency, for an approval); a revision's stored text still hashes to its SHA-256;
- chain -> row: every ``mou.draft``/``mou.import``, ``mou.approve``, ``mou.withdraw`` and ``mou.terminate`` record
  has its row (a deleted approval or a lifted termination is named).

The rosters' rows (``mou_rosters``, ``mou_roster_approvals``) are checked the same way by
:mod:`broker.audit.bindroster`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from broker.audit.bindrecords import MOU_RECORDS, BoundRecord, ChainFacts, lookup
from broker.audit.bindroster import check_rosters
from broker.audit.bindrows import Problem
from broker.store.tables import mou_approvals, mou_revisions, mou_terminations

MOU_NOTICE_RECORDS = {
    "mou.proposed": "mou.approve",
    "mou.approved": "mou.approve",
    "mou.terminated": "mou.terminate",
    "mou.in_force": "mou.in_force",
    "mou.expiring": "mou.expiring",
}


def _bound(table: str, row: str, seq: Any, hash_: Any, rec: BoundRecord | None, first: int | None) -> Iterator[Problem]:
    if seq is None or hash_ is None:
        yield Problem(table, row, "audit_seq", "the row is not bound to the audit chain (no audit_seq/audit_hash)")
    elif first is not None and 0 < seq < first:
        return
    elif rec is None:
        yield Problem(table, row, "audit_seq", f"record {seq} does not exist", seq)
    elif rec.hash != hash_:
        yield Problem(table, row, "audit_hash", f"is not the hash of record {seq}", seq)


def _same(table: str, row: str, rec: BoundRecord, fields: dict[str, Any]) -> Iterator[Problem]:
    for name, value in fields.items():
        if rec.get(name) != value:
            yield Problem(table, row, name, f"is {value!r}, but record {rec.seq} says {rec.get(name)!r}", rec.seq)


def check_mous(conn: Connection, facts: ChainFacts, first: int | None) -> Iterator[Problem]:
    assert set(MOU_RECORDS) >= {r.kind for r in facts.mou_records.values()}
    records = facts.mou_records
    seen: set[int] = set()
    for r in conn.execute(select(mou_revisions)):
        key = f"{r.mou}@v{r.version}.{r.revision}"
        rec = records.get(r.audit_seq) or lookup(conn, [r.audit_seq]).get(r.audit_seq)
        problems = list(_bound("mou_revisions", key, r.audit_seq, r.audit_hash, rec, first))
        yield from problems
        if hashlib.sha256(r.text.encode("utf-8")).hexdigest() != r.sha256:
            yield Problem("mou_revisions", key, "text", "does not hash to its sha256 (changed outside the log)")
        if problems or rec is None:
            continue
        seen.add(rec.seq)
        if rec.kind not in ("mou.draft", "mou.import"):
            yield Problem("mou_revisions", key, "audit_seq", f"record {rec.seq} is {rec.kind}, not a draft or import")
            continue
        yield from _same("mou_revisions", key, rec, {"mou": r.mou, "version": r.version, "sha256": r.sha256})
    for a in conn.execute(select(mou_approvals)):
        key = f"{a.mou}@v{a.version}:{a.agency}#{a.id}"
        rec = records.get(a.audit_seq) or lookup(conn, [a.audit_seq]).get(a.audit_seq)
        problems = list(_bound("mou_approvals", key, a.audit_seq, a.audit_hash, rec, first))
        yield from problems
        if problems or rec is None:
            continue
        seen.add(rec.seq)
        want = "mou.withdraw" if a.withdrawn_at is not None else "mou.approve"
        if rec.kind != want:
            yield Problem("mou_approvals", key, "audit_seq", f"record {rec.seq} is {rec.kind}, not {want}", rec.seq)
            continue
        yield from _same(
            "mou_approvals", key, rec, {"mou": a.mou, "version": a.version, "sha256": a.sha256, "agency": a.agency}
        )
    for t in conn.execute(select(mou_terminations)):
        rec = records.get(t.audit_seq) or lookup(conn, [t.audit_seq]).get(t.audit_seq)
        problems = list(_bound("mou_terminations", t.mou, t.audit_seq, t.audit_hash, rec, first))
        yield from problems
        if not problems and rec is not None:
            seen.add(rec.seq)
            yield from _same("mou_terminations", t.mou, rec, {"mou": t.mou, "reason": t.reason})
    for seq, rec in records.items():
        if seq in seen or rec.kind == "mou.approve":  # an approval later withdrawn is bound to its withdrawal
            continue
        table = {"mou.terminate": "mou_terminations", "mou.withdraw": "mou_approvals"}.get(rec.kind, "mou_revisions")
        why = f"record {seq} ({rec.kind}) says it exists, but its row is missing (deleted)"
        yield Problem(table, f"{rec.get('mou')}@v{rec.get('version')}", "id", why, seq)
    yield from _approvals_kept(conn, records)
    yield from check_rosters(conn, facts.roster_records, first)  # the rosters' rows (issue 14, item 5)


def _approvals_kept(conn: Connection, records: dict[int, BoundRecord]) -> Iterator[Problem]:
    """Every ``mou.approve`` record has its approval row (standing, or withdrawn by a later record)."""
    rows = {(a.mou, a.version, a.sha256, a.agency) for a in conn.execute(select(mou_approvals))}
    for seq, rec in records.items():
        if rec.kind != "mou.approve":
            continue
        key = (rec.get("mou"), rec.get("version"), rec.get("sha256"), rec.get("agency"))
        if key not in rows:
            why = f"record {seq} (mou.approve) says {key[3]} approved, but the approval row is missing (deleted)"
            yield Problem("mou_approvals", f"{key[0]}@v{key[1]}:{key[3]}", "id", why, seq)


def mou_notice_problems(kind: str, rec: BoundRecord, data: dict[str, Any], notice: str) -> Iterator[Problem]:
    """An MOU notice against the record it announces (called from :class:`~broker.audit.bindrows.NoticeRow`)."""
    want = MOU_NOTICE_RECORDS.get(kind)
    if rec.kind != want or rec.details is None:
        yield Problem(
            "notices", notice, "audit_seq", f"record {rec.seq} is {rec.kind}, not the {want} it announces", rec.seq
        )
        return
    for name in ("mou", "version", "sha256"):
        if data.get(name) != rec.get(name):
            yield Problem("notices", notice, "body", f"data.{name} is not record {rec.seq}'s", rec.seq)
