"""Counted refusals onto the audit chain: a key's first refusal of a minute at once, the rest when the minute is
over (:mod:`broker.audit.refusals` counts; this writes). Flushed by the housekeeping tick and at shutdown."""

from __future__ import annotations

import logging
from typing import Any

from broker.audit.log import AuditLog
from broker.audit.refusals import Refusal, RefusalCounter
from broker.clock import Clock
from broker.errors import AuditUnavailable

log = logging.getLogger(__name__)


class RefusalLog:
    """``record`` / ``record_async`` take :meth:`RefusalCounter.note`'s keyword arguments (``client``,
    ``reason``, ``message``, ``sub``, ``agency``, ``roles``, ``action``, ``mou``, ``sample``, ``claimed``)."""

    def __init__(self, audit: AuditLog, clock: Clock, max_keys: int = 100) -> None:
        self._audit = audit
        self._clock = clock
        self.counter = RefusalCounter(max_keys)

    def record(self, kind: str, **event: Any) -> None:
        """Count one refusal (blocking: call from a worker thread). The request is refused whatever happens
        here, so an unwritable log is not an error: the count is kept and written by a later flush."""
        first = self.counter.note(kind, now=self._clock.now(), **event)
        if first is not None:
            name, fields = first.append_args()
            try:
                self._audit.append(name, **fields)
            except AuditUnavailable:
                self.counter.restore([first])

    async def record_async(self, kind: str, **event: Any) -> None:
        """:meth:`record` for the event loop (waits for the commit without holding a thread)."""
        first = self.counter.note(kind, now=self._clock.now(), **event)
        if first is not None:
            name, fields = first.append_args()
            try:
                await self._audit.append_async(name, **fields)
            except AuditUnavailable:
                self.counter.restore([first])

    def flush(self, *, final: bool = False) -> int:
        """Write the records of every minute that is over (``final``: every minute, at shutdown); returns how
        many. Raises AuditUnavailable when one cannot be written: it and the rest are kept for the next flush."""
        due = self.counter.due(self._clock.now(), final=final)
        for i, rec in enumerate(due):
            name, fields = rec.append_args()
            try:
                self._audit.append(name, **fields)
            except AuditUnavailable:
                self._keep(due[i:])
                raise
        return len(due)

    def _keep(self, unwritten: list[Refusal]) -> None:
        log.warning("%d refusal record(s) could not be written; kept for the next flush", len(unwritten))
        self.counter.restore(unwritten)
