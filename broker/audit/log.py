"""The audit log: append-only, hash-chained, shared by every broker replica using the same database.

Appends are group-committed (:mod:`broker.audit.groupcommit`): concurrent appends inside a process are
chained in arrival order and written by one transaction (:class:`~broker.audit.writer.BatchWriter`), and
each caller returns only once the transaction holding its record has committed. Across processes the
database still serialises the batches (``SELECT ... FOR UPDATE`` on the head row on PostgreSQL, ``BEGIN
IMMEDIATE`` on SQLite), so there is one chain. A failed transaction writes none of its records and
every caller in it gets :class:`~broker.errors.AuditUnavailable`: callers must then refuse access.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.exc import SQLAlchemyError

from broker.audit.chain import VerifyResult
from broker.audit.groupcommit import CommitFailed, GroupCommit
from broker.audit.reader import verify_rows
from broker.audit.records import AuditRecord
from broker.audit.writer import HEAD, BatchWriter, prepare
from broker.clock import Clock
from broker.errors import AuditUnavailable, InvalidRequest
from broker.store.db import Store, driver_problem
from broker.store.tables import audit_head, audit_records
from broker.store.types import as_utc

log = logging.getLogger(__name__)

VERIFY_PAGE = 20_000
MAX_QUERY = 1000
MAX_EMERGENCY_RECORDS = 20_000  # an emergency's sessions and transitions read at once (timeline)
DEFAULT_MAX_BATCH = 256  # as broker.settings.GroupCommitSettings.max_batch


def _record(row: Row[Any]) -> AuditRecord:
    values = dict(row._mapping)
    values["principal_roles"] = tuple(values["principal_roles"])
    return AuditRecord(**values)


class AuditLog:
    """``max_batch``: most records per transaction; 1 writes one record per transaction (the old way)."""

    def __init__(self, store: Store, clock: Clock, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self._store = store
        self._writer = BatchWriter(store, clock)
        self._committer: GroupCommit[dict[str, Any], AuditRecord] = GroupCommit(self._write, max_batch)
        self._write_lock = threading.Lock()  # held by the committing leader and by probe()
        self.healthy = True  # False after a failed append, until the next one succeeds

    # -- writing -----------------------------------------------------------------------------------

    def append(self, kind: str, **fields: Any) -> AuditRecord:
        """Write one record; returns once it is committed, raises AuditUnavailable (fail closed) if not.

        Blocking: call it from a worker thread (``run_in_threadpool``) in async code, never on the event
        loop, so that concurrent requests' records can share a transaction.
        """
        values = prepare(kind, fields)
        try:
            return self._committer.submit(values)
        except CommitFailed as exc:
            cause = exc.__cause__ or exc
            raise AuditUnavailable("the audit record could not be written, so the request is refused") from cause

    @property
    def committer(self) -> GroupCommit[dict[str, Any], AuditRecord]:
        """The group commit (its ``batches`` count and ``wait_queued`` serve tests and the benchmark)."""
        return self._committer

    def _write(self, batch: Sequence[dict[str, Any]]) -> list[AuditRecord]:
        """Run by the group commit's leader: one transaction for the whole batch."""
        with self._write_lock:
            try:
                records = self._writer.write(batch)
            except Exception as exc:
                self.healthy = False
                kinds = sorted({values["kind"] for values in batch})
                log.error("audit append failed (%d records: %s): %s", len(batch), ", ".join(kinds), driver_problem(exc))
                raise
            self.healthy = True
            return records

    def probe(self) -> bool:
        """Could a record be written now? Takes the write lock, touches both tables, rolls back.

        Run by housekeeping every second, so an audit store that became unwritable stops streaming to
        viewers whose sessions are already open (they write no record per segment) within a second.
        """
        with self._write_lock:
            try:
                with self._store.begin_probe() as conn:
                    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=audit_head.c.seq))
                    conn.execute(select(audit_records.c.seq).limit(0)).all()
            except Exception as exc:
                if self.healthy:
                    log.error("audit store not writable: %s", driver_problem(exc))
                self.healthy = False
            else:
                self.healthy = True
            return self.healthy

    # -- reading -----------------------------------------------------------------------------------

    def verify(self) -> VerifyResult:
        """Check the whole chain and the head in one consistent snapshot, reading pages of raw rows."""
        driver_error = self._store.engine.dialect.loaded_dbapi.Error  # raw cursor errors are not wrapped
        try:
            with self._store.begin_read() as conn:
                head_row = conn.execute(HEAD).first()

                def load(seq: int) -> AuditRecord:
                    return _record(conn.execute(select(audit_records).where(audit_records.c.seq == seq)).one())

                if head_row is None:
                    result = verify_rows(conn, None, VERIFY_PAGE, load)
                    return VerifyResult(False, result.records, result.head, None, "the audit head row is missing")
                return verify_rows(conn, (head_row.seq, head_row.hash), VERIFY_PAGE, load)
        except (SQLAlchemyError, driver_error) as exc:
            raise AuditUnavailable(f"the audit log could not be read ({driver_problem(exc)})") from exc

    def query(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        principal: str | None = None,
        camera: str | None = None,
        emergency: str | None = None,
        decision: str | None = None,
        kind: str | None = None,
        after_seq: int | None = None,
        limit: int = 100,
    ) -> tuple[list[AuditRecord], int | None]:
        """Records in seq order and the cursor for the next page (pass it as ``after_seq``), or None."""
        if decision not in (None, "allow", "deny"):
            raise InvalidRequest("decision must be 'allow' or 'deny'", field="decision")
        if limit < 1:
            raise InvalidRequest("limit must be at least 1", field="limit")
        limit = min(limit, MAX_QUERY)
        t = audit_records.c
        query = select(audit_records)
        if since is not None:
            query = query.where(t.ts >= as_utc(since, name="since"))
        if until is not None:
            query = query.where(t.ts < as_utc(until, name="until"))
        for column, value in ((t.principal_sub, principal), (t.camera, camera), (t.emergency, emergency)):
            if value is not None:
                query = query.where(column == value)
        if kind is not None:
            query = query.where(t.kind == kind)
        if decision is not None:
            query = query.where(t.allowed.is_(decision == "allow"))
        if after_seq is not None:
            query = query.where(t.seq > after_seq)
        query = query.order_by(t.seq).limit(limit + 1)
        try:
            with self._store.engine.connect() as conn:
                records = [_record(row) for row in conn.execute(query)]
        except SQLAlchemyError as exc:
            raise AuditUnavailable(f"the audit log could not be read ({driver_problem(exc)})") from exc
        if len(records) > limit:
            return records[:limit], records[limit - 1].seq
        return records, None

    def emergency_records(
        self, emergency: str, kinds: Collection[str], limit: int = MAX_EMERGENCY_RECORDS
    ) -> tuple[list[AuditRecord], bool]:
        """The records of ``kinds`` carrying ``emergency``, in seq order, in one read (the (emergency, seq)
        index), at most ``limit``; and whether that is all of them."""
        t = audit_records.c
        query = (
            select(audit_records).where(t.emergency == emergency, t.kind.in_(list(kinds))).order_by(t.seq)
            .limit(limit + 1)
        )  # fmt: skip
        try:
            with self._store.engine.connect() as conn:
                records = [_record(row) for row in conn.execute(query)]
        except SQLAlchemyError as exc:
            raise AuditUnavailable(f"the audit log could not be read ({driver_problem(exc)})") from exc
        return records[:limit], len(records) <= limit
