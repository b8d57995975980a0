"""Binding the rows of a database from before schema version 2 to the records that describe them.

The upgrade (:mod:`broker.store.migrate`) adds ``audit_seq``/``audit_hash`` as NULL. :func:`bind_legacy_rows`
then binds, once, every row whose record can be found on the chain: an emergency to its latest
``emergency.declare/extend/end/expire`` record; the document generation to the applied ``policy.reload`` of that
generation; a notice to the transition record its id is derived from. It binds, it never changes a row's
content: a legacy row that disagrees with its record is still reported by :mod:`broker.audit.bindings`, and a row
whose record cannot be found stays unbound (reported as such). Idempotent and cheap when nothing is unbound.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from broker.audit.bindrecords import EMERGENCY_TRANSITIONS, BoundRecord, ChainFacts, scan
from broker.audit.bindrows import notice_id
from broker.store.binding import Binding
from broker.store.db import Store
from broker.store.tables import DOCUMENTS_COUNTER, counters, emergencies, notices

log = logging.getLogger(__name__)
_NOTICE_KINDS = (*EMERGENCY_TRANSITIONS, "emergency.confirm")


def _unbound(conn: Connection) -> int:
    total = 0
    for table in (emergencies, notices):
        total += conn.execute(select(func.count()).select_from(table).where(table.c.audit_seq.is_(None))).scalar_one()
    documents = (counters.c.name == DOCUMENTS_COUNTER) & counters.c.audit_seq.is_(None) & (counters.c.value > 0)
    total += conn.execute(select(func.count()).select_from(counters).where(documents)).scalar_one()
    return int(total)


def bind_legacy_rows(store: Store) -> int:
    """Bind every unbound row whose record is found; returns how many were bound (StoreUnavailable)."""
    try:
        with store.begin_write() as conn:
            if _unbound(conn) == 0:
                return 0
            bound = _bind(conn)
    except SQLAlchemyError as exc:
        raise store.unavailable("binding of legacy rows in", exc) from exc
    if bound:
        log.info("bound %d row(s) from before schema version 2 to their audit records", bound)
    return bound


def _bind(conn: Connection) -> int:
    facts = ChainFacts.read(conn)
    bound = 0
    for (emergency,) in conn.execute(select(emergencies.c.id).where(emergencies.c.audit_seq.is_(None))).all():
        latest = facts.latest.get(emergency)
        if latest is not None:
            conn.execute(update(emergencies).where(emergencies.c.id == emergency).values(**_values(latest)))
            bound += 1
    row = conn.execute(
        select(counters.c.value, counters.c.audit_seq).where(counters.c.name == DOCUMENTS_COUNTER)
    ).first()
    if row is not None and row.audit_seq is None and row.value > 0:
        applied = [r for r in facts.reloads if r.get("generation") == row.value]
        if applied:
            conn.execute(update(counters).where(counters.c.name == DOCUMENTS_COUNTER).values(**_values(applied[0])))
            bound += 1
    legacy = conn.execute(
        select(notices.c.id, notices.c.webhook, notices.c.kind, notices.c.emergency).where(
            notices.c.audit_seq.is_(None)
        )
    ).all()
    waiting: dict[tuple[str, str], list[Any]] = {}
    for n in legacy:
        waiting.setdefault((n.kind, n.emergency), []).append(n)
    found: list[tuple[str, BoundRecord]] = []
    if waiting:
        for rec in scan(conn, _NOTICE_KINDS):  # which transition each notice's id was derived from
            if rec.details is None:
                continue
            candidates = waiting.get((rec.kind, rec.emergency or ""), [])
            matched = [n for n in candidates if notice_id(n.webhook, n.kind, rec.details) == n.id]
            found += [(n.id, rec) for n in matched]
            waiting[(rec.kind, rec.emergency or "")] = [n for n in candidates if n not in matched]
    for id, rec in found:
        conn.execute(update(notices).where(notices.c.id == id).values(**_values(rec)))
    return bound + len(found)


def _values(rec: BoundRecord) -> dict[str, Any]:
    return Binding(rec.seq, rec.hash).values()
