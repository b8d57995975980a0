"""Moments of an MOU that nobody acts for, recorded once across replicas: a version coming into force at its
start, and the notice that an MOU expires within ``mous.expiry_notice_days`` (issue 14, items 4 and 9).

Each is one ``mou.in_force`` / ``mou.expiring`` record, with its ``mou_events`` row claimed in the record's
transaction (a primary key per MOU, version and kind), so two replicas seeing the same moment record it once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from broker.admin.mous.lifecycle import VersionState
from broker.admin.mous.service import MouService
from broker.audit import AuditRecord
from broker.errors import Conflict
from broker.store.mous import MouRepository
from broker.store.tables import mou_events
from broker.store.types import as_utc

log = logging.getLogger(__name__)
SYSTEM: dict[str, Any] = {"principal_sub": "camgate:mou-lifecycle"}


def record_moments(service: MouService) -> int:
    """Record every in-force and expiring moment not recorded yet; how many were recorded here."""
    now = service.registry.clock.now()
    soon = timedelta(days=service.settings.expiry_notice_days)
    done = 0
    for facts in service.repo.all().values():
        state = service.registry.state_of(facts, now)
        if state.terminated_at is not None:
            continue
        for v in state.versions:
            if v.state == "in_force" and not v.current.imported and (v.version, "in_force") not in facts.events:
                done += _record(service, "mou.in_force", v, {"start": v.start.isoformat() if v.start else None})
            expiring = v.state == "in_force" and v.end is not None and v.end - now <= soon
            if expiring and v.end is not None and (v.version, "expiring") not in facts.events:
                left = max(0, (v.end - now).days)
                done += _record(service, "mou.expiring", v, {"ends_at": v.end.isoformat(), "days_left": left})
    return done


def _record(service: MouService, kind: str, v: VersionState, extra: dict[str, Any]) -> int:
    now = service.registry.clock.now()
    event = kind.removeprefix("mou.")
    details = {"mou": v.mou, "version": v.version, "sha256": v.current.sha256, **extra}

    def bind(conn: Connection, record: AuditRecord) -> None:
        if MouRepository.event_in(conn, v.mou, v.version, event):
            raise Conflict(f"{kind} of {v.mou} v{v.version} was recorded by another replica")
        try:
            with conn.begin_nested():
                conn.execute(mou_events.insert().values(mou=v.mou, version=v.version, kind=event, at=as_utc(now)))
        except IntegrityError:
            raise Conflict(f"{kind} of {v.mou} v{v.version} was recorded by another replica") from None
        if service.notices is not None:
            service.notices.queue(conn, kind, v, details, record)

    try:
        service.audit.append_bound(kind, bind, **SYSTEM, mou=v.mou, details=details)
    except Conflict:
        return 0
    log.info("%s: %s version %d", kind, v.mou, v.version)
    service.on_change()
    return 1
