"""Checking the MOU rosters against the audit chain, both ways (issue 14, item 5: an insider with database access
adding themselves to a roster is named by ``camgate audit verify``).

Every ``mou_rosters`` and ``mou_roster_approvals`` row carries the seq and hash of the record that made it:

- row -> chain: the record exists with that hash, is ``mou.roster`` (``mou.roster_approve`` for an approval), and
  says the same MOU, revision and SHA-256 (and agency, for an approval); a revision's stored entries still hash
  to its SHA-256;
- chain -> row: every ``mou.roster`` and ``mou.roster_approve`` record has its row (a deleted revision or
  approval is named).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from broker.audit.bindrecords import BoundRecord, lookup
from broker.audit.bindrows import Problem
from broker.store.rosters import digest
from broker.store.tables import mou_roster_approvals, mou_rosters

ROSTER_RECORDS = ("mou.roster", "mou.roster_approve")
_TABLES = {"mou.roster": "mou_rosters", "mou.roster_approve": "mou_roster_approvals"}


@dataclass(frozen=True)
class _Chain:
    conn: Connection
    records: dict[int, BoundRecord]  # the chain's mou.roster* records, by seq
    first: int | None  # the oldest record kept (older bindings were pruned by retention: not checked)

    def check(self, table: str, key: str, r: Any, kind: str, fields: dict[str, Any]) -> Iterator[Problem]:
        seq, hash_ = r.audit_seq, r.audit_hash
        if seq is None or hash_ is None:
            yield Problem(table, key, "audit_seq", "the row is not bound to the audit chain (no audit_seq/audit_hash)")
            return
        if self.first is not None and 0 < seq < self.first:
            return
        rec = self.records.get(seq) or lookup(self.conn, [seq]).get(seq)
        if rec is None:
            yield Problem(table, key, "audit_seq", f"record {seq} does not exist", seq)
        elif rec.hash != hash_:
            yield Problem(table, key, "audit_hash", f"is not the hash of record {seq}", seq)
        elif rec.kind != kind:
            yield Problem(table, key, "audit_seq", f"record {seq} is {rec.kind}, not {kind}", seq)
        else:
            for name, value in fields.items():
                if rec.get(name) != value:
                    yield Problem(table, key, name, f"is {value!r}, but record {seq} says {rec.get(name)!r}", seq)


def check_rosters(conn: Connection, records: dict[int, BoundRecord], first: int | None) -> Iterator[Problem]:
    """Every problem of the roster tables; ``records``: the ``mou.roster*`` records of the chain, by seq."""
    chain = _Chain(conn, records, first)
    held: set[tuple[str, Any, Any, Any, Any]] = set()
    for r in conn.execute(select(mou_rosters)):
        key = f"{r.mou}#roster{r.revision}"
        held.add(("mou.roster", r.mou, r.revision, r.sha256, None))
        if digest(r.entries) != r.sha256:
            yield Problem("mou_rosters", key, "entries", "do not hash to its sha256 (changed outside the log)")
        yield from chain.check(
            "mou_rosters", key, r, "mou.roster", {"mou": r.mou, "revision": r.revision, "sha256": r.sha256}
        )
    for a in conn.execute(select(mou_roster_approvals)):
        key = f"{a.mou}#roster{a.revision}:{a.agency}"
        held.add(("mou.roster_approve", a.mou, a.revision, a.sha256, a.agency))
        fields = {"mou": a.mou, "revision": a.revision, "sha256": a.sha256, "agency": a.agency}
        yield from chain.check("mou_roster_approvals", key, a, "mou.roster_approve", fields)
    for seq, rec in records.items():
        if first is not None and seq < first:
            continue
        agency = rec.get("agency") if rec.kind == "mou.roster_approve" else None
        if (rec.kind, rec.get("mou"), rec.get("revision"), rec.get("sha256"), agency) not in held:
            why = f"record {seq} ({rec.kind}) says it exists, but its row is missing (deleted)"
            yield Problem(_TABLES[rec.kind], f"{rec.get('mou')}#roster{rec.get('revision')}", "id", why, seq)
