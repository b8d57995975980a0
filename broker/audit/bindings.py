"""Checking the rows bound to the audit chain, both ways (issue 12, "What to build" 3).

The emergencies, the document generation (``counters`` row ``documents``) and the notices outbox each carry the
``(audit_seq, audit_hash)`` of the audit record that created or last changed them (:mod:`broker.store.binding`),
written in that record's transaction. :func:`check_bindings` reports, as :class:`Problem` values naming the
table, the row and the field:

- row -> chain: a row's binding must name an existing record of a fitting kind, with that hash, whose content
  matches the row (an emergency: its latest ``emergency.declare/extend/end/expire`` record's ``details.emergency``,
  field by field; the generation: an applied ``policy.reload`` of that generation; a notice: the transition it
  announces, its id derived from that record, its body carrying that record's emergency; an ``audit.checkpoint``
  notice: the checkpoint's head record). A row with no binding, or bound to an older record than the latest
  one about it, is reported too.
- chain -> row: every emergency the chain declares has its row, in the state its latest record says; no applied
  reload names a generation beyond the store's; every delivered or given-up notice says so on the chain.

So a row changed outside the log (``ended_at`` set on an active emergency, ``expires_at`` moved to 2099, a notice
body or destination rewritten, the generation moved) is named, as is a row deleted or inserted without its
record. Bindings to records that retention pruned (seq below the oldest record kept) are not checked. The chain
itself is :func:`broker.audit.chain.verify`'s: this module trusts each record's stored hash.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from broker.audit.bindclassify import check_classifications
from broker.audit.bindmous import check_mous
from broker.audit.bindrecords import EMERGENCY_TRANSITIONS, RELOAD, BoundRecord, ChainFacts, first_seq, lookup
from broker.audit.bindrows import (
    CHECKPOINT_NOTICE,
    Problem,
    checkpoint_notice_id,
    emergency_rows,
    notice_id,
    notice_rows,
)
from broker.audit.chain import GENESIS
from broker.errors import AuditUnavailable
from broker.store.db import Store, driver_problem
from broker.store.tables import DOCUMENTS_COUNTER, counters

# -- the entry points ------------------------------------------------------------------------------------------


def check_bindings(conn: Connection) -> list[Problem]:
    """Every problem of every bound table, read through ``conn`` (run it in the chain check's snapshot)."""
    facts = ChainFacts.read(conn)
    first = first_seq(conn)
    problems: list[Problem] = []
    checks = [("emergencies", _emergencies), ("counters", _documents), ("notices", _notices), ("mous", check_mous)]
    checks.append(("camera_classifications", check_classifications))  # issue 14, item 7
    for table, check in checks:
        try:
            with conn.begin_nested():  # a table that cannot be read is a problem of its own, not the end
                problems += check(conn, facts, first)
        except SQLAlchemyError as exc:
            problems.append(Problem(table, "*", "*", f"the table cannot be read ({driver_problem(exc)})"))
    return problems


def verify_bindings(store: Store) -> list[Problem]:
    """:func:`check_bindings` in one consistent snapshot of ``store``; AuditUnavailable if it cannot be read."""
    driver_error = store.engine.dialect.loaded_dbapi.Error
    try:
        with store.begin_read() as conn:
            return check_bindings(conn)
    except (SQLAlchemyError, driver_error) as exc:
        raise AuditUnavailable(f"the bound tables could not be read ({driver_problem(exc)})") from exc


def with_bindings(chain: dict[str, Any], bindings: dict[str, Any]) -> dict[str, Any]:
    """One verdict: ``ok`` only when the chain (``chain_ok``) and every bound row (``bindings_ok``) verify."""
    return chain | bindings | {"ok": bool(chain["ok"] and bindings["bindings_ok"]), "chain_ok": bool(chain["ok"])}


def bindings_report(store: Store) -> dict[str, Any]:
    """The fields a verify answer adds: ``bindings_ok`` and ``bindings`` (every problem, as a dict)."""
    problems = verify_bindings(store)
    return {"bindings_ok": not problems, "bindings": [p.to_dict() for p in problems]}


# -- row -> chain and chain -> row, per table ------------------------------------------------------------------


def _pruned(seq: int | None, first: int | None) -> bool:
    return seq is not None and first is not None and 0 < seq < first


def _pointer(table: str, row: str, seq: Any, hash_: Any, rec: BoundRecord | None) -> Problem | None:
    """The binding itself: set, naming an existing record, with its hash."""
    if seq is None or hash_ is None:
        return Problem(table, row, "audit_seq", "the row is not bound to the audit chain (no audit_seq/audit_hash)")
    if rec is None:
        return Problem(table, row, "audit_seq", f"record {seq} does not exist", seq)
    if rec.hash != hash_:
        return Problem(table, row, "audit_hash", f"is not the hash of record {seq}", seq)
    return None


def _emergencies(conn: Connection, facts: ChainFacts, first: int | None) -> Iterator[Problem]:
    seen: set[str] = set()
    for row in emergency_rows(conn):
        seen.add(row.id)
        latest = facts.latest.get(row.id)
        yield from row.bad
        if latest is None:
            if not _pruned(row.audit_seq, first):
                yield Problem("emergencies", row.id, "id", "no emergency.declare record on the chain declares it")
            continue
        if row.audit_seq is not None and row.audit_seq != latest.seq:
            bound = lookup(conn, [row.audit_seq]).get(row.audit_seq)
            if bound is not None and bound.emergency == row.id and bound.kind in EMERGENCY_TRANSITIONS:
                why = f"bound to record {bound.seq} ({bound.kind}), but record {latest.seq} ({latest.kind}) changed"
                yield Problem(
                    "emergencies", row.id, "audit_seq", why + " it later (the row was rolled back)", latest.seq
                )
            else:
                yield Problem(
                    "emergencies",
                    row.id,
                    "audit_seq",
                    f"record {row.audit_seq} is not a transition of this emergency",
                    row.audit_seq,
                )
        elif (problem := _pointer("emergencies", row.id, row.audit_seq, row.audit_hash, latest)) is not None:
            yield problem
        yield from row.against(latest)
    for emergency, latest in facts.latest.items():
        if emergency not in seen:
            why = f"record {latest.seq} ({latest.kind}) says it exists, but its row is missing (deleted)"
            yield Problem("emergencies", emergency, "id", why, latest.seq)


def _documents(conn: Connection, facts: ChainFacts, first: int | None) -> Iterator[Problem]:
    def problem(field: str, message: str, seq: int | None = None) -> Problem:
        return Problem("counters", DOCUMENTS_COUNTER, field, message, seq)

    row = conn.execute(select(counters).where(counters.c.name == DOCUMENTS_COUNTER)).first()
    if row is None:
        yield problem("value", "the document generation row is missing")
        return
    value, seq, hash_ = row.value, row.audit_seq, row.audit_hash
    if seq is None and (value != 0 or hash_ is not None):  # 0 and unbound: no reload was ever applied
        yield problem(
            "audit_seq",
            f"generation {value} is not bound to a policy.reload record (announced while the "
            "audit log was down and applied by no replica since, or changed outside the log)",
        )
    elif seq is not None and not _pruned(seq, first):
        rec = lookup(conn, [seq]).get(seq)
        if (wrong := _pointer("counters", DOCUMENTS_COUNTER, seq, hash_, rec)) is not None:
            yield wrong
        elif rec is not None and (rec.kind != RELOAD or rec.get("outcome") != "applied"):
            yield problem("audit_seq", f"record {seq} ({rec.kind}) is not an applied {RELOAD}", seq)
        elif rec is not None and rec.get("generation") != value:
            yield problem("value", f"is {value}, but record {seq} applied generation {rec.get('generation')!r}", seq)
    beyond = [r for r in facts.reloads if isinstance(g := r.get("generation"), int) and g > value]
    if beyond:
        last = beyond[-1]
        why = f"is {value}, but record {last.seq} applied generation {last.get('generation')} (moved back)"
        yield problem("value", why, last.seq)


def _notices(conn: Connection, facts: ChainFacts, first: int | None) -> Iterator[Problem]:
    for page in notice_rows(conn):
        records = lookup(conn, [n.audit_seq for n in page if n.audit_seq])
        for n in page:
            yield from _notice_state(n.id, n.state, facts)
            if _pruned(n.audit_seq, first):
                continue
            if n.kind == CHECKPOINT_NOTICE and n.audit_seq == 0 and n.audit_hash == GENESIS:
                rec: BoundRecord | None = BoundRecord(0, GENESIS, "", None, {})  # a checkpoint of the empty chain
            else:
                rec = records.get(n.audit_seq) if isinstance(n.audit_seq, int) else None
            if (problem := _pointer("notices", n.id, n.audit_seq, n.audit_hash, rec)) is not None:
                yield problem
            elif rec is not None:
                yield from n.against(rec)


def _notice_state(id: str, state: str, facts: ChainFacts) -> Iterator[Problem]:
    kinds = {r.kind for r in facts.outcomes.get(id, [])}
    for final, kind in (("delivered", "notice.delivered"), ("gave_up", "notice.gave_up")):
        if state == final and kind not in kinds:
            yield Problem("notices", id, "state", f"is {final}, but no {kind} record says so")
    if state == "pending" and kinds:
        last = facts.outcomes[id][-1]
        yield Problem("notices", id, "state", f"is pending, but record {last.seq} ({last.kind}) closed it", last.seq)


__all__ = [
    "CHECKPOINT_NOTICE",
    "Problem",
    "bindings_report",
    "check_bindings",
    "checkpoint_notice_id",
    "notice_id",
    "verify_bindings",
]
