"""Retention without breaking proof: records older than ``audit.retention_days`` go only through a signed prune.

CJIS Security Policy 5.4.7 asks that audit records be kept at least one year (the setting refuses less).
A prune, run by housekeeping once a day or by ``camgate audit prune``:

1. picks the base: the last record such that it and every record before it are older than the retention;
2. verifies the whole log first (:class:`~broker.audit.verify_store.StoreVerifier`): evidence that does not
   verify is never deleted (:class:`~broker.errors.AuditTampered`);
3. appends an ``audit.prune`` record (the prune is itself audited: base, cut-off, retention);
4. signs a ``prune`` checkpoint whose ``base_seq``/``base_hash`` become the chain's verified base, from
   which every later verify starts (in the store and offline);
5. only then deletes the records up to the base, a chunk per short transaction (appends wait at most one
   chunk); a prune cut short resumes at the next one.

Nothing else deletes audit records: the API has no such route.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import SQLAlchemyError

from broker.audit.checkpoints import Checkpoint
from broker.audit.log import AuditLog
from broker.audit.records import rfc3339
from broker.audit.signer import CheckpointSigner
from broker.audit.verify_store import StoreVerifier
from broker.audit.writer import HEAD
from broker.clock import Clock
from broker.errors import AuditTampered, CamgateError, StoreUnavailable
from broker.store.db import Store, driver_problem
from broker.store.tables import audit_records

log = logging.getLogger(__name__)
DELETE_CHUNK = 5000
RUN_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class PruneOutcome:
    base_seq: int  # records up to it are gone (or were already)
    base_hash: str
    deleted: int
    checkpoint: Checkpoint | None  # the prune checkpoint (None: the base did not move)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_seq": self.base_seq,
            "base_hash": self.base_hash,
            "deleted": self.deleted,
            "checkpoint": self.checkpoint.to_dict() if self.checkpoint is not None else None,
        }


class Retention:
    """Prunes ``store``'s audit records older than ``days`` (None: never) through signed prune checkpoints."""

    def __init__(
        self,
        store: Store,
        audit: AuditLog,
        signer: CheckpointSigner,
        verifier: StoreVerifier,
        clock: Clock,
        days: int | None,
        *,
        lock_timeout: float | None = None,
        who: str = "camgate:retention",
    ) -> None:
        self._store = store
        self._audit = audit
        self._signer = signer
        self._verifier = verifier
        self._clock = clock
        self.days = days
        self._lock_timeout = lock_timeout
        self._who = who
        self._next_due: datetime | None = None
        self._running: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- housekeeping -------------------------------------------------------------------------------

    def tick(self) -> threading.Thread | None:
        """Once a day (by the clock), prune in a thread of its own: verifying a long log must not hold up
        housekeeping's one-second duties. Returns the thread started, if one was."""
        if self.days is None:
            return None
        with self._lock:
            now = self._clock.now()
            if (self._next_due is not None and now < self._next_due) or (self._running and self._running.is_alive()):
                return None
            self._next_due = now + RUN_EVERY
            self._running = threading.Thread(target=self._run, name="camgate-audit-prune", daemon=True)
            self._running.start()
            return self._running

    def wait(self, timeout: float | None = None) -> None:
        """Until the prune under way (if any) is done (tests; a prune cut short resumes next time anyway)."""
        running = self._running
        if running is not None:
            running.join(timeout)

    def _run(self) -> None:
        try:
            outcome = self.prune()
        except CamgateError as exc:
            log.error("audit retention: nothing pruned: %s", exc.message)
            return
        except Exception:
            log.exception("audit retention failed")
            return
        if outcome is not None and (outcome.deleted or outcome.checkpoint is not None):  # else: nothing due
            log.info("audit retention: base moved to record %d, %d records deleted", outcome.base_seq, outcome.deleted)

    # -- pruning ------------------------------------------------------------------------------------

    def target(self, days: int) -> int:
        """The last record such that it and every record before it are older than ``days``."""
        cutoff = self._clock.now() - timedelta(days=days)
        t = audit_records.c
        try:
            with self._store.begin_read() as conn:
                newer = conn.execute(select(func.min(t.seq)).where(t.ts >= cutoff)).scalar()
                head = conn.execute(HEAD).first()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"the audit log could not be read ({driver_problem(exc)})") from exc
        return newer - 1 if newer is not None else (head.seq if head is not None else 0)

    def prune(self, *, dry_run: bool = False) -> PruneOutcome | None:
        """Move the base to the last record older than the retention and delete up to it; None: no retention.

        The log is verified first: the base comes from the latest *trusted* prune checkpoint (a forged row
        cannot make the broker delete anything), and a log that does not verify is never pruned.
        """
        days = self.days
        if days is None:
            return None
        result = self._verifier.verify()
        if not result.ok:
            raise AuditTampered(
                f"refusing to prune: the audit log does not verify (first bad record {result.first_bad}:"
                f" {result.problem}); nothing is deleted"
            )
        base, target = result.base_seq, self.target(days)
        if target <= base:
            deleted = 0 if dry_run else self._delete_upto(base)  # what a prune cut short left
            return PruneOutcome(base, "", deleted, None)
        with self._store.engine.connect() as conn:
            base_hash = conn.execute(select(audit_records.c.hash).where(audit_records.c.seq == target)).scalar_one()
        if dry_run:
            return PruneOutcome(target, base_hash, 0, None)
        self._audit.append(
            "audit.prune",
            principal_sub=self._who,
            reason="retention",
            details={
                "base_seq": target,
                "base_hash": base_hash,
                "retention_days": days,
                "previous_base_seq": base,
                "before": rfc3339(self._clock.now() - timedelta(days=days)),
            },
        )
        cp = self._signer.sign(kind="prune", base=(target, base_hash))
        deleted = self._delete_upto(target)
        return PruneOutcome(target, base_hash, deleted, cp)

    def _delete_upto(self, base: int) -> int:
        deleted = 0
        t = audit_records.c
        while True:
            try:
                with self._store.begin_write(self._lock_timeout) as conn:
                    low = conn.execute(select(func.min(t.seq)).where(t.seq <= base)).scalar()
                    if low is None:
                        return deleted
                    upto = min(base, low + DELETE_CHUNK - 1)
                    deleted += conn.execute(delete(audit_records).where(t.seq <= upto)).rowcount
            except SQLAlchemyError as exc:
                raise StoreUnavailable(f"pruned records could not be deleted ({driver_problem(exc)})") from exc
