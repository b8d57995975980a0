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
from broker.audit.health import AuditHealth, reserve_problem
from broker.audit.reader import verify_rows
from broker.audit.records import AuditRecord
from broker.audit.writer import HEAD, BatchWriter, Hook, prepare
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
    """``max_batch``: most records per transaction; 1 writes one record per transaction (the old way).

    ``write_timeout``: the longest a batch waits for another writer's lock (then it fails: fail closed);
    ``reserve_bytes``: on SQLite, new access stops when the database's filesystem has less free space than
    this, so that the records closing access still fit (:mod:`broker.audit.health`).
    """

    def __init__(
        self, store: Store, clock: Clock, *, max_batch: int = DEFAULT_MAX_BATCH, write_timeout: float | None = None,
        reserve_bytes: int = 0, hooks: dict[str, Hook] | None = None,
    ) -> None:  # fmt: skip
        self._store = store
        self._clock = clock
        self._write_timeout = write_timeout
        self._reserve = reserve_bytes
        self._writer = BatchWriter(store, clock, lock_timeout=write_timeout, hooks=hooks)
        self._committer: GroupCommit[dict[str, Any], AuditRecord] = GroupCommit(self._write, max_batch)
        self._write_lock = threading.Lock()  # held by the committing leader and by probe()
        self.health = AuditHealth()
        self._reserve_low = False

    @property
    def healthy(self) -> bool:
        """Whether records can be written now (False after a failed append or probe, until one succeeds)."""
        return self.health.ok

    @property
    def writer(self) -> BatchWriter:
        return self._writer

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

    async def append_async(self, kind: str, **fields: Any) -> AuditRecord:
        """:meth:`append` for the event loop: waits for the commit without holding a thread (the hot path:
        every served segment). Raises AuditUnavailable if the record could not be written."""
        values = prepare(kind, fields)
        try:
            return await self._committer.submit_async(values)
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
                kinds = sorted({values["kind"] for values in batch})
                log.error("audit append failed (%d records: %s): %s", len(batch), ", ".join(kinds), driver_problem(exc))
                self.health.failed(f"an append failed: {driver_problem(exc)}", self._clock.now())
                raise
            if not self._reserve_low:
                self.health.recovered(self._clock.now())
            return records

    def probe(self) -> bool:
        """Could a record be written now? Checks the disk reserve, then commits a real (no-op) write.

        Run by housekeeping every second, so an audit store that became unwritable (full disk, a lock held
        elsewhere, the database down or read-only) stops streaming to open sessions within a second, and
        one that recovered serves again without a restart. A rolled-back probe would prove nothing: SQLite
        and PostgreSQL only meet a full disk or a lock at commit.
        """
        now = self._clock.now()
        low = reserve_problem(self._store.database_path, self._reserve)
        self._reserve_low = low is not None
        if low is not None:
            self.health.failed(low, now)
            return False
        with self._write_lock:
            try:
                with self._store.begin_write(self._write_timeout) as conn:
                    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=audit_head.c.seq))
                    conn.execute(select(audit_records.c.seq).limit(0)).all()
            except Exception as exc:
                self.health.failed(f"a test write failed: {driver_problem(exc)}", now)
                return False
        self.health.recovered(now)
        return True

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

    def record(self, seq: int) -> AuditRecord | None:
        """One record by its seq (None if there is none)."""
        return self._read_one(select(audit_records).where(audit_records.c.seq == seq))

    def last_served(self, session: str, camera: str, after_seq: int, page: int = 500) -> AuditRecord | None:
        """The last ``session.served`` record of ``session`` (on ``camera``, after its start ``after_seq``):
        newest first through the (camera, seq) index, a page at a time."""
        t = audit_records.c
        below: int | None = None
        while True:
            query = select(audit_records).where(t.camera == camera, t.seq > after_seq, t.kind == "session.served")
            if below is not None:
                query = query.where(t.seq < below)
            records = self._read(query.order_by(t.seq.desc()).limit(page))
            for rec in records:
                if rec.details.get("session") == session:
                    return rec
            if len(records) < page:
                return None
            below = records[-1].seq

    def _read(self, query: Any) -> list[AuditRecord]:
        try:
            with self._store.engine.connect() as conn:
                return [_record(row) for row in conn.execute(query)]
        except SQLAlchemyError as exc:
            raise AuditUnavailable(f"the audit log could not be read ({driver_problem(exc)})") from exc

    def _read_one(self, query: Any) -> AuditRecord | None:
        found = self._read(query.limit(1))
        return found[0] if found else None

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
