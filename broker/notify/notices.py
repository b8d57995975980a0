"""Turning an emergency transition into outbox rows: one signed-later notice per matching webhook.

:class:`Notifier` is an :class:`~broker.admin.emergencies.EmergencyService` bound listener. It runs inside
the transaction of the transition's audit record and only writes rows to the local outbox (no network): a
dead or slow webhook cannot delay a declaration. Delivery is :mod:`broker.notify.dispatcher`'s.

The body follows the Standard Webhooks payload structure (spec, "Payload structure": ``type``,
``timestamp``, ``data``) plus the notice ``id`` (also the ``webhook-id`` header). ``data.emergency`` is the
emergency exactly as the API and the audit log show it; nothing about camera streams (URLs, tokens) is
ever in a notice. The id is a digest of the webhook, the kind and the transition's details, so the same
transition recorded twice (two replicas sweeping one expiry) queues one notice, not two.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from broker.admin.emergencies import to_json
from broker.audit import AuditRecord
from broker.audit.bindrows import notice_id
from broker.clock import Clock
from broker.inventory.catalog import Catalog
from broker.notify.config import Webhook
from broker.store.binding import Binding
from broker.store.emergencies import EmergencyRecord
from broker.store.outbox import PENDING, Notice, OutboxRepository
from broker.store.types import dump_json
from broker.timeutil import format_instant

log = logging.getLogger(__name__)


def who(kind: str, rec: EmergencyRecord, details: dict[str, Any]) -> dict[str, str] | None:
    """Who made the transition: the declarer, the one who ended it, nobody for an expiry."""
    by = details.get("by")
    if isinstance(by, dict) and isinstance(by.get("sub"), str):
        return {"sub": by["sub"], "agency": str(by.get("agency", ""))}
    if kind == "emergency.declare":
        return {"sub": rec.declared_by_sub, "agency": rec.declared_by_agency}
    if kind == "emergency.end" and rec.ended_by_sub:
        return {"sub": rec.ended_by_sub, "agency": rec.ended_by_agency or ""}
    return None


def body(id: str, kind: str, rec: EmergencyRecord, details: dict[str, Any], now: datetime) -> str:
    emergency = details.get("emergency")
    if not isinstance(emergency, dict) or emergency.get("id") != rec.id:
        emergency = to_json(rec, now)
    occurred = format_instant(now)
    payload = {
        "id": id, "type": kind, "timestamp": occurred,
        "data": {"notice": id, "kind": kind, "emergency": emergency, "mou": rec.mou, "site": rec.site,
                 "occurred_at": occurred, "by": who(kind, rec, details)},
    }  # fmt: skip
    return dump_json(payload)


def matching(hooks: Sequence[Webhook], parties: set[str], kind: str, rec: EmergencyRecord) -> list[Webhook]:
    return [
        h for h in hooks
        if h.agency in parties and (not h.mous or rec.mou in h.mous) and (not h.sites or rec.site in h.sites)
        and (not h.events or kind in h.events)
    ]  # fmt: skip


class Notifier:
    """Queues the notices of each transition: :meth:`queue` is an EmergencyService *bound* listener, run inside
    the transition's record's transaction, so the rows exist exactly when their record does and carry its seq and
    hash (:mod:`broker.store.binding`); calling the notifier afterwards (a plain listener) wakes the dispatcher
    through ``on_queued`` (thread-safe)."""

    def __init__(
        self,
        outbox: OutboxRepository,
        hooks: Sequence[Webhook],
        catalog: Callable[[], Catalog],
        clock: Clock,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.outbox, self.hooks, self.catalog, self.clock, self.on_queued = outbox, hooks, catalog, clock, on_queued

    def _hooks(self, kind: str, rec: EmergencyRecord) -> list[Webhook]:
        mou = self.catalog().mous.get(rec.mou)
        parties = {mou.parties.owner, *mou.parties.recipients} if mou is not None else set()
        return matching(self.hooks, parties, kind, rec)

    def rows(self, kind: str, rec: EmergencyRecord, details: dict[str, Any], binding: Binding) -> list[Notice]:
        """One notice per matching webhook. ``details`` are the record's: a notice's id is a digest of them."""
        now = self.clock.now()
        rows = []
        for hook in self._hooks(kind, rec):
            id = notice_id(hook.key, kind, details)
            rows.append(
                Notice(
                    id=id,
                    webhook=hook.key,
                    kind=kind,
                    emergency=rec.id,
                    mou=rec.mou,
                    site=rec.site,
                    body=body(id, kind, rec, details, now),
                    state=PENDING,
                    created_at=now,
                    due_at=now,
                    attempts=0,
                    **binding.values(),
                )
            )
        return rows

    def queue(
        self, conn: Connection, kind: str, rec: EmergencyRecord, details: dict[str, Any], record: AuditRecord
    ) -> None:
        rows = self.rows(kind, rec, details, Binding(record.seq, record.hash))
        if rows:
            added = OutboxRepository.add_in(conn, rows)
            log.info("%s %s: %d notice(s) queued for %s", kind, rec.id, added, ", ".join(r.webhook for r in rows))

    def __call__(self, kind: str, rec: EmergencyRecord, details: dict[str, Any]) -> None:
        if self._hooks(kind, rec):
            self.on_queued()
