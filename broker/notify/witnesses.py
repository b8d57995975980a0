"""Every signed checkpoint to every witness, as a signed notice through the outbox (issue 12, item 4).

:func:`notify_witnesses` queues one ``audit.checkpoint`` notice per witness: a Standard Webhooks payload (spec,
"Payload structure") whose ``data`` is :meth:`Checkpoint.to_dict` plus the signer's ``public_key`` when known,
delivered, retried and audited by the dispatcher like the emergency notices. The row is bound to the checkpoint's
head record (``audit_seq = records``, ``audit_hash = head``; :mod:`broker.store.binding`) and its id derived from the
witness and the checkpoint, so queuing the same checkpoint twice sends it once.

:class:`WitnessNotifier` is the signer's listener (``listeners: list[Callable[[Checkpoint], None]]``): it queues
and wakes the dispatcher. A witness answers with ``camgate audit witness`` (:mod:`broker.cli.witness`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from broker.audit.bindrows import CHECKPOINT_NOTICE, checkpoint_notice_id
from broker.audit.checkpoints import Checkpoint
from broker.clock import Clock
from broker.errors import CamgateError
from broker.notify.config import Webhook
from broker.store.binding import Binding
from broker.store.outbox import PENDING, Notice, OutboxRepository
from broker.store.types import dump_json
from broker.timeutil import format_instant

log = logging.getLogger(__name__)


def checkpoint_body(id: str, checkpoint: Checkpoint, now: datetime, public_key: str | None = None) -> str:
    data = checkpoint.to_dict() | ({"public_key": public_key} if public_key else {})
    return dump_json({"id": id, "type": CHECKPOINT_NOTICE, "timestamp": format_instant(now), "data": data})


def checkpoint_notices(
    witnesses: Sequence[Webhook], checkpoint: Checkpoint, now: datetime, public_key: str | None = None
) -> list[Notice]:
    binding = Binding(checkpoint.records, checkpoint.head)
    rows = []
    for witness in witnesses:
        id = checkpoint_notice_id(witness.key, checkpoint.id)
        rows.append(
            Notice(
                id=id,
                webhook=witness.key,
                kind=CHECKPOINT_NOTICE,
                emergency="",
                mou="",
                site="",
                body=checkpoint_body(id, checkpoint, now, public_key),
                state=PENDING,
                created_at=now,
                due_at=now,
                attempts=0,
                **binding.values(),
            )
        )
    return rows


def notify_witnesses(
    outbox: OutboxRepository,
    witnesses: Sequence[Webhook],
    checkpoint: Checkpoint,
    *,
    now: datetime | None = None,
    public_key: str | None = None,
) -> int:
    """Queue ``checkpoint`` for every witness; returns how many notices are new (StoreUnavailable)."""
    if not witnesses:
        return 0
    return outbox.add(checkpoint_notices(witnesses, checkpoint, now or datetime.now(UTC), public_key))


class WitnessNotifier:
    """The checkpoint signer's listener: queue each new checkpoint for the witnesses, wake the dispatcher.

    ``public_key(key_id)``: the signer's public key text (sent along, so a witness can check signatures), or None.
    A checkpoint that cannot be queued is logged: the witnesses get the next one (which they flag as not linking
    to one they hold), the signing goes on.
    """

    def __init__(
        self,
        outbox: OutboxRepository,
        witnesses: Sequence[Webhook],
        clock: Clock,
        on_queued: Callable[[], None] = lambda: None,
        public_key: Callable[[str], str | None] = lambda kid: None,
    ) -> None:
        self.outbox, self.witnesses, self.clock = outbox, list(witnesses), clock
        self.on_queued, self.public_key = on_queued, public_key

    def __call__(self, checkpoint: Checkpoint) -> None:
        try:
            added = notify_witnesses(
                self.outbox,
                self.witnesses,
                checkpoint,
                now=self.clock.now(),
                public_key=self.public_key(checkpoint.key_id),
            )
        except CamgateError as exc:
            log.warning(
                "checkpoint %s (records %d) not queued for the witnesses: %s",
                checkpoint.id[:12],
                checkpoint.records,
                exc.message,
            )
            return
        if added:
            self.on_queued()
