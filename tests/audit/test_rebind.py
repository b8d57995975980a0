"""Rows written before bindings existed (schema 1) are bound to their records once, their content untouched."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from broker.admin.views import to_json
from broker.audit import AuditLog
from broker.audit.bindings import notice_id, verify_bindings
from broker.audit.rebind import bind_legacy_rows
from broker.clock import FakeClock
from broker.notify.notices import body
from broker.store import Store
from broker.store.emergencies import EmergencyRecord, EmergencyRepository
from broker.store.generations import DocumentGenerations
from broker.store.outbox import PENDING, Notice, OutboxRepository
from broker.store.tables import counters

NOW = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)
KIND = "emergency.declare"


def legacy_notice(id: str, rec: EmergencyRecord, details: dict[str, object]) -> Notice:
    return Notice(
        id=id,
        webhook="office",
        kind=KIND,
        emergency=rec.id,
        mou=rec.mou,
        site=rec.site,
        body=body(id, KIND, rec, details, NOW),
        state=PENDING,
        created_at=NOW,
        due_at=NOW,
        attempts=0,
    )


def test_legacy_rows_are_bound_to_the_records_they_came_from(store: Store) -> None:
    audit = AuditLog(store, FakeClock(NOW))
    rec = EmergencyRecord(
        id="em-old",
        mou="ncps-ncpd-video",
        site="ncps-saxe",
        buildings=("main",),
        zones=(),
        center_lat=None,
        center_lon=None,
        radius_m=None,
        threat="a threat",
        incident=None,
        declared_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        ended_at=None,
        declared_by_sub="dispatch-3",
        declared_by_agency="ncpd",
        ended_by_sub=None,
        ended_by_agency=None,
    )
    # As version 1 wrote them: the record first, then the row and its notice, none of them bound.
    details = {"emergency": to_json(rec, NOW), "recipients": ["ncps"]}
    declared = audit.append(KIND, emergency=rec.id, mou=rec.mou, details=details)
    EmergencyRepository(store).insert(rec)
    matched = legacy_notice(notice_id("office", KIND, details), rec, details)
    OutboxRepository(store).add([matched, legacy_notice("msg_unknown", rec, details)])
    # An extension recorded whose store then failed (version 1 recorded first, stored after): it never took effect.
    longer = {"emergency": to_json(replace(rec, expires_at=rec.expires_at + timedelta(hours=1)), NOW)}
    audit.append("emergency.extend", emergency=rec.id, mou=rec.mou, details=longer)
    audit.append("emergency.extend_failed", emergency=rec.id, mou=rec.mou, details={"error": "StoreUnavailable"})
    DocumentGenerations(store).bump()
    reload = audit.append("policy.reload", details={"outcome": "applied", "generation": 1})

    before = {(p.table, p.row, p.field) for p in verify_bindings(store)}
    assert before == {
        ("emergencies", "em-old", "audit_seq"),
        ("counters", "documents", "audit_seq"),
        ("notices", matched.id, "audit_seq"),
        ("notices", "msg_unknown", "audit_seq"),
    }
    assert bind_legacy_rows(store) == 3
    assert bind_legacy_rows(store) == 0  # once
    (left,) = verify_bindings(store)  # a notice whose record cannot be found stays unbound, and says so
    assert (left.row, left.field) == ("msg_unknown", "audit_seq")
    got = EmergencyRepository(store).get("em-old")
    assert got is not None and (got.audit_seq, got.audit_hash) == (declared.seq, declared.hash)
    assert (OutboxRepository(store).get(matched.id) or matched).audit_seq == declared.seq
    with store.engine.connect() as conn:
        documents = conn.execute(select(counters).where(counters.c.name == "documents")).one()
    assert (documents.value, documents.audit_seq, documents.audit_hash) == (1, reload.seq, reload.hash)
