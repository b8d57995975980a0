"""Signing the chain's head: at an interval (housekeeping) when the chain grew, and on demand.

One transaction per checkpoint holds the chain's lock (the head row, as an append does), so the head signed
is the head stored and every replica's checkpoints form one sequence, each naming the one before
(``previous``). Before signing, the signer checks that the chain still contains the last checkpoint, from the
table and from the local witness file: a broker never signs over a store that was cut back, rolled back or
rewritten (:class:`~broker.errors.AuditTampered`; ``camgate audit verify`` says where).

After the commit the checkpoint is written to the local witness file (:mod:`broker.audit.witnessfile`) and
handed to each of ``listeners`` (e.g. the witness notices to MOU parties), whose failures are logged, never
raised: the checkpoint is already durable in the table.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from broker.audit import checkpoint_store, witnessfile
from broker.audit.chain import GENESIS
from broker.audit.checkpoints import Checkpoint, Kind, key_id, sign
from broker.audit.writer import HEAD
from broker.clock import Clock
from broker.errors import AuditTampered, StoreUnavailable
from broker.store.db import Store, driver_problem
from broker.store.tables import audit_records
from broker.store.types import as_utc

log = logging.getLogger(__name__)
Listener = Callable[[Checkpoint], None]
_LOCK_HEAD = HEAD.with_for_update()


class CheckpointSigner:
    """Signs checkpoints with ``private`` (its key ring's signing key).

    ``witness_file``: the local witness (None: none kept); ``lock_timeout``: as the audit log's writes.
    """

    def __init__(
        self,
        store: Store,
        private: Ed25519PrivateKey,
        clock: Clock,
        *,
        interval_seconds: float = 60.0,
        witness_file: Path | None = None,
        lock_timeout: float | None = None,
    ) -> None:
        self._store = store
        self._private = private
        self._key_id = key_id(private.public_key())
        self._clock = clock
        self._interval = timedelta(seconds=interval_seconds)
        self.witness_file = witness_file
        self._lock_timeout = lock_timeout
        self._next_due: datetime | None = None
        self._tick_lock = threading.Lock()
        self.listeners: list[Listener] = []

    @property
    def key_id(self) -> str:
        return self._key_id

    def tick(self) -> Checkpoint | None:
        """Housekeeping: every ``interval_seconds`` (by the clock), sign the head if the chain grew since the last
        checkpoint (by any replica). Returns the new checkpoint, or None."""
        with self._tick_lock:
            now = self._clock.now()
            if self._next_due is not None and now < self._next_due:
                return None
            self._next_due = now + self._interval
        return self.sign(force=False)

    def sign_on_demand(self, spacing: timedelta) -> tuple[Checkpoint, bool]:
        """An auditor's or operator's "sign now": a new checkpoint, unless the last one (by any replica) is younger
        than ``spacing``; then that one (``False``: not new). Asking in a loop cannot flood the table and every
        witness with notices."""
        cp, fresh = self._sign(force=True, kind="checkpoint", base=None, then=None, reuse_within=spacing)
        assert cp is not None  # force: always a checkpoint
        return cp, fresh

    def sign(
        self,
        *,
        force: bool = True,
        kind: Kind = "checkpoint",
        base: tuple[int, str] | None = None,
        then: Callable[[Connection, Checkpoint], None] | None = None,
    ) -> Checkpoint | None:
        """Sign the head now (``force=False``: only if it moved since the last checkpoint). ``kind="prune"`` with
        ``base`` = (seq, hash) moves the chain's verified base; ``then`` runs in the same transaction.

        Raises AuditTampered (the chain lost a checkpoint), StoreUnavailable (the store failed).
        """
        return self._sign(force=force, kind=kind, base=base, then=then, reuse_within=None)[0]

    def _sign(
        self,
        *,
        force: bool,
        kind: Kind,
        base: tuple[int, str] | None,
        then: Callable[[Connection, Checkpoint], None] | None,
        reuse_within: timedelta | None,
    ) -> tuple[Checkpoint | None, bool]:
        try:
            with self._store.begin_write(self._lock_timeout) as conn:
                head = conn.execute(_LOCK_HEAD).first()
                if head is None:
                    raise AuditTampered("the audit head row is missing: no checkpoint is signed")
                last = checkpoint_store.latest(conn)
                previous = last.checkpoint if last is not None else None
                signed = (previous.records, previous.head) if previous is not None else (0, GENESIS)
                if not force and signed == (head.seq, head.hash):
                    return None, False  # the chain did not grow since the last checkpoint
                if (
                    reuse_within  # None or 0: always sign
                    and previous is not None
                    and previous.kind == "checkpoint"
                    and self._clock.now() - previous.ts < reuse_within
                ):
                    return previous, False  # signed moments ago: that one answers
                self._check_contains(conn, head.seq, previous)
                base_seq, base_hash = (
                    base if base is not None else (previous.base_seq, previous.base_hash) if previous else (0, GENESIS)
                )
                unsigned = Checkpoint(
                    records=head.seq,
                    head=head.hash,
                    ts=as_utc(self._clock.now(), name="clock.now()"),
                    key_id=self._key_id,
                    previous=last.id if last is not None else None,
                    base_seq=base_seq,
                    base_hash=base_hash,
                    kind=kind,
                )
                cp = sign(unsigned, self._private)
                checkpoint_store.insert(conn, (last.n if last is not None else 0) + 1, cp)
                if then is not None:
                    then(conn, cp)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"the checkpoint could not be written ({driver_problem(exc)})") from exc
        self._publish(cp)
        return cp, True

    def _check_contains(self, conn: Connection, head_seq: int, last: Checkpoint | None) -> None:
        """Refuse to sign unless the chain (as stored now) contains the last checkpoint and the local witness."""
        held = [last] if last is not None else []
        if self.witness_file is not None:
            try:
                witnessed = witnessfile.read(self.witness_file)
            except witnessfile.WitnessFileError as exc:
                log.warning("audit checkpoints: the local witness is unreadable, it will be replaced: %s", exc)
                witnessed = None
            if witnessed is not None:
                held.append(witnessed)
        for cp in held:
            if cp.records == 0:
                continue
            if cp.records > head_seq:
                raise AuditTampered(
                    f"the chain ends at record {head_seq} but checkpoint {cp.id[:12]} signed {cp.records} records:"
                    " it was cut back or rolled back; nothing is signed over it (run camgate audit verify)"
                )
            if cp.records <= (last.base_seq if last is not None else 0):
                continue  # pruned: the prune checkpoint vouched for it
            stored = conn.execute(select(audit_records.c.hash).where(audit_records.c.seq == cp.records)).scalar()
            if stored != cp.head:
                raise AuditTampered(
                    f"record {cp.records} no longer matches checkpoint {cp.id[:12]}: the chain was rewritten or"
                    " rolled back; nothing is signed over it (run camgate audit verify)"
                )

    def _publish(self, cp: Checkpoint) -> None:
        if self.witness_file is not None:
            try:
                witnessfile.write(self.witness_file, cp)
            except OSError as exc:
                log.error("audit checkpoints: the local witness %s could not be written: %s", self.witness_file, exc)
        for listener in list(self.listeners):
            try:
                listener(cp)
            except Exception:
                log.exception("audit checkpoints: a listener failed on checkpoint %s", cp.id[:12])
