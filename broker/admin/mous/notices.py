"""Notices to an MOU's parties (issue 14, item 9): proposed, approved, in force, terminated, expiring.

Like the emergency notices (:mod:`broker.notify.notices`), rows are written to the outbox inside the transaction of
the audit record they announce and carry its seq and hash; the id is a digest of the webhook, the kind and the
record's details, so one moment recorded twice queues one notice. The body is a Standard Webhooks payload (spec,
"Payload structure") whose ``data`` names the MOU, the version and its exact SHA-256: the text each party signed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from broker.admin.mous.lifecycle import VersionState
from broker.audit import AuditRecord
from broker.audit.bindrows import notice_id
from broker.clock import Clock
from broker.notify.config import Webhook
from broker.store.binding import Binding
from broker.store.outbox import PENDING, Notice, OutboxRepository
from broker.store.types import dump_json
from broker.timeutil import format_instant

log = logging.getLogger(__name__)


class MouNotices:
    def __init__(self, hooks: Sequence[Webhook], clock: Clock) -> None:
        self.hooks, self.clock = hooks, clock

    def matching(self, kind: str, v: VersionState) -> list[Webhook]:
        parties = set(v.signatories)  # a party the version drops hears of it too
        return [
            h
            for h in self.hooks
            if h.agency in parties and (not h.mous or v.mou in h.mous) and (not h.events or kind in h.events)
        ]

    def rows(self, kind: str, v: VersionState, details: dict[str, Any], binding: Binding) -> list[Notice]:
        now = self.clock.now()
        out = []
        for hook in self.matching(kind, v):
            id = notice_id(hook.key, kind, details)
            data = {
                "notice": id,
                "kind": kind,
                "mou": v.mou,
                "version": v.version,
                "sha256": details.get("sha256"),
                "title": v.doc.title if v.doc else None,
                "parties": list(v.parties),
                "details": details,
                "occurred_at": format_instant(now),
            }
            body = dump_json({"id": id, "type": kind, "timestamp": format_instant(now), "data": data})
            out.append(
                Notice(
                    id=id,
                    webhook=hook.key,
                    kind=kind,
                    emergency="",
                    mou=v.mou,
                    site="",
                    body=body,
                    state=PENDING,
                    created_at=now,
                    due_at=now,
                    attempts=0,
                    **binding.values(),
                )
            )
        return out

    def queue(self, conn: Connection, kind: str, v: VersionState, details: dict[str, Any], record: AuditRecord) -> int:
        rows = self.rows(kind, v, details, Binding(record.seq, record.hash))
        added = OutboxRepository.add_in(conn, rows) if rows else 0
        if added:
            log.info("%s %s v%d: %d notice(s) queued", kind, v.mou, v.version, added)
        return added
