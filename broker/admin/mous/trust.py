"""Only rows the audit chain vouches for count (issue 14: an insider with database access).

:mod:`broker.audit.bindmous` names a tampered MOU row when verification runs; this keeps one from taking effect
before then. Every read of the stored MOUs (:class:`broker.store.mous.MouRepository` with ``vet``) drops:

- a revision whose text no longer hashes to its SHA-256, or that is not bound to the ``mou.draft`` (or, imported,
  ``mou.import``) record naming its MOU, version and SHA-256 (a text changed in place, or flagged ``imported``
  by hand to skip the signatures, is enforced nowhere: the version falls back or disappears, fail closed);
- an approval that is not bound to the ``mou.approve`` record (``mou.withdraw`` once withdrawn) naming its MOU,
  version, SHA-256 and agency (a forged approval row never completes a countersignature).

A row bound to a record that retention pruned cannot be checked and is kept, as verification does. A deleted
termination or approval is not repaired here (that fails open only through a deletion, which verify names);
reading the chain for them would mean a scan of the log on every read.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import Connection

from broker.audit.bindrecords import BoundRecord, first_seq, lookup
from broker.store.mous import Approval, MouFacts, Revision

log = logging.getLogger(__name__)
_warned: set[str] = set()


def trusted(conn: Connection, facts: dict[str, MouFacts]) -> dict[str, MouFacts]:
    """``facts`` without the rows their records do not vouch for; MOUs left with no revision are dropped."""
    seqs = [r.audit_seq for f in facts.values() for r in f.revisions if r.audit_seq is not None]
    seqs += [a.audit_seq for f in facts.values() for a in f.approvals if a.audit_seq is not None]
    records = lookup(conn, seqs) if seqs else {}
    first = first_seq(conn)
    out: dict[str, MouFacts] = {}
    for mou, f in facts.items():
        revisions = [r for r in f.revisions if _ok(_revision_problem(r, records, first), f"{mou} revision", r)]
        approvals = [a for a in f.approvals if _ok(_approval_problem(a, records, first), f"{mou} approval", a)]
        if revisions:
            out[mou] = MouFacts(mou, revisions, approvals, f.termination, f.events)
    return out


def _ok(problem: str | None, what: str, row: Revision | Approval) -> bool:
    if problem is None:
        return True
    ident = row.id if isinstance(row, Approval) else row.revision
    key = f"{what} v{row.version} #{ident} {row.sha256} {row.audit_seq}"  # not the text: keys stay small
    if key not in _warned and len(_warned) < 10_000:  # said once per row, not at every read
        _warned.add(key)
        log.error("MOU row not counted (%s v%d): %s; run camgate audit verify", what, row.version, problem)
    return False


def _record(seq: int | None, hash_: str | None, records: dict[int, BoundRecord], first: int | None) -> Any:
    """The bound record, True when it was pruned (cannot be checked), or a problem (str)."""
    if seq is None or hash_ is None:
        return "not bound to the audit chain"
    if first is not None and 0 < seq < first:
        return True
    rec = records.get(seq)
    if rec is None or rec.hash != hash_:
        return f"record {seq} is missing or has another hash"
    return rec


def _revision_problem(r: Revision, records: dict[int, BoundRecord], first: int | None) -> str | None:
    if hashlib.sha256(r.text.encode("utf-8")).hexdigest() != r.sha256:
        return "its text does not hash to its sha256"
    rec = _record(r.audit_seq, r.audit_hash, records, first)
    if isinstance(rec, str) or rec is True:
        return rec if isinstance(rec, str) else None
    want = "mou.import" if r.imported else "mou.draft"
    if rec.kind != want:
        return f"record {rec.seq} is {rec.kind}, not {want}"
    return _differs(rec, {"mou": r.mou, "version": r.version, "sha256": r.sha256})


def _approval_problem(a: Approval, records: dict[int, BoundRecord], first: int | None) -> str | None:
    rec = _record(a.audit_seq, a.audit_hash, records, first)
    if isinstance(rec, str) or rec is True:
        return rec if isinstance(rec, str) else None
    want = "mou.withdraw" if a.withdrawn_at is not None else "mou.approve"
    if rec.kind != want:
        return f"record {rec.seq} is {rec.kind}, not {want}"
    return _differs(rec, {"mou": a.mou, "version": a.version, "sha256": a.sha256, "agency": a.agency})


def _differs(rec: BoundRecord, fields: dict[str, Any]) -> str | None:
    for name, value in fields.items():
        if rec.get(name) != value:
            return f"{name} is {value!r}, but record {rec.seq} says {rec.get(name)!r}"
    return None
