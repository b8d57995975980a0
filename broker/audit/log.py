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
import time
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, update
from sqlalchemy.exc import SQLAlchemyError

from broker.audit import rows
from broker.audit.chain import VerifyResult, record_hash
from broker.audit.groupcommit import CommitFailed, GroupCommit
from broker.audit.health import AuditHealth, reserve_problem
from broker.audit.reader import verify_chain
from broker.audit.records import AuditRecord
from broker.audit.scope import AuditScope
from broker.audit.writer import HEAD, BatchWriter, Bind, Hook, Plan, prepare
from broker.clock import Clock
from broker.errors import AuditUnavailable, CamgateError, InvalidRequest
from broker.store.db import Store, driver_problem
from broker.store.tables import audit_head, audit_records
from broker.store.types import as_utc

log = logging.getLogger(__name__)
T = TypeVar("T")

VERIFY_PAGE = 20_000
MAX_QUERY = 1000
MAX_EMERGENCY_RECORDS = 20_000  # an emergency's sessions and transitions read at once (timeline)
DEFAULT_MAX_BATCH = 256  # as broker.settings.GroupCommitSettings.max_batch
PROBE_RECORD_BYTES = 1024  # the probe's trial row: larger than a served or decision record


def _record(row: Any) -> AuditRecord:
    """A row of :data:`~broker.audit.rows.RAW` as a record; raises MalformedRecord."""
    return rows.parse(row._mapping)


def _records(found: Any) -> list[AuditRecord]:
    """The well-formed records of ``found`` (rows of RAW); a malformed row is left out and logged (verify names it)."""
    records = []
    for row in found:
        try:
            records.append(rows.parse(row._mapping))
        except rows.MalformedRecord as exc:
            log.error("audit: %s (camgate audit verify)", exc)
    return records


class AuditLog:
    """``max_batch``: most records per transaction; 1 writes one record per transaction (the old way).

    ``write_timeout``: the longest a batch waits for another writer's lock (then it fails: fail closed);
    ``reserve_bytes``: on SQLite, new access stops when the database's filesystem has less free space than
    this, so that the records closing access still fit (:mod:`broker.audit.health`).
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        write_timeout: float | None = None,
        reserve_bytes: int = 0,
        hooks: dict[str, Hook] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._write_timeout = write_timeout
        self._reserve = reserve_bytes
        self._writer = BatchWriter(store, clock, lock_timeout=write_timeout, hooks=hooks)
        self._committer: GroupCommit[dict[str, Any], AuditRecord] = GroupCommit(self._write, max_batch)
        self._write_lock = threading.Lock()  # held by the committing leader and by probe()
        self.health = AuditHealth()
        self._reserve_low = False
        self._failed_at: datetime | None = None  # end of the last write (batch or probe) the store refused

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

    def append_bound(
        self, kind: str, bind: Bind[T], *, plan: Plan | None = None, **fields: Any
    ) -> tuple[AuditRecord, T]:
        """Write one record *and* the change of the store it describes in one transaction; returns the record
        and what ``bind`` returned (see :meth:`BatchWriter.write_bound`). The row carries the record's seq and
        hash (:mod:`broker.store.binding`), so :func:`broker.audit.bindings.verify_bindings` can check it.

        Blocking, like :meth:`append`. Not group-committed: it takes the writer's lock for its own transaction
        (bound changes are rare: emergency transitions, reloads). Raises what ``plan``/``bind`` raise (a
        CamgateError: nothing was written, the log is healthy), or AuditUnavailable if the chain failed.
        """
        with self._write_lock:
            try:
                record, result = self._writer.write_bound(kind, fields, bind, plan)
            except (CamgateError, TypeError, ValueError):
                raise  # the caller's refusal or mistake: nothing written, nothing wrong with the log
            except Exception as exc:
                log.error("audit append failed (1 bound record: %s): %s", kind, driver_problem(exc))
                self.health.failed(f"an append failed: {driver_problem(exc)}", self._clock.now())
                raise AuditUnavailable("the audit record could not be written, so the change is refused") from exc
            if not self._reserve_low:
                self.health.recovered(self._clock.now())
        return record, result

    def require_reserve(self, what: str) -> None:
        """Refuse (AuditUnavailable: 503, nothing written) a change that opens access while the disk is below
        ``reserve_bytes``: the reserve is for the records that close access (README "When the audit log cannot
        write (fail closed)"), as the proxy stops new viewing. Changes that close access do not ask."""
        if self._reserve_low:
            raise AuditUnavailable(
                f"{what} is refused: the audit log keeps its last space for records that close access "
                f"({self.health.state.reason})"
            )

    @property
    def committer(self) -> GroupCommit[dict[str, Any], AuditRecord]:
        """The group commit (its ``batches`` count and ``wait_queued`` serve tests and the benchmark)."""
        return self._committer

    def _write(self, batch: Sequence[dict[str, Any]]) -> list[AuditRecord]:
        """Run by the group commit's leader: one transaction for the whole batch."""
        with self._write_lock:
            if self._refused_just_now():
                raise AuditUnavailable(f"the audit log cannot take records now ({self.health.state.reason})")
            started = time.monotonic()
            try:
                records = self._writer.write(batch)
            except Exception as exc:
                kinds = sorted({values["kind"] for values in batch})
                log.error("audit append failed (%d records: %s): %s", len(batch), ", ".join(kinds), driver_problem(exc))
                self._refused(started)
                self.health.failed(f"an append failed: {driver_problem(exc)}", self._clock.now())
                raise
            self._failed_at = None
            if not self._reserve_low:
                self.health.recovered(self._clock.now())
            return records

    def _refused(self, started: float) -> None:
        """A write begun at ``started`` (``time.monotonic()``) failed: if only after waiting (a lock held
        elsewhere, a database that does not answer), the batches behind it fail at once for a while."""
        waited = time.monotonic() - started  # a real wait for a lock or a connection, whatever the clock says
        if self._write_timeout is not None and waited >= self._write_timeout / 2:
            self._failed_at = self._clock.now()

    def _refused_just_now(self) -> bool:
        """Whether the store refused a write after a wait less than ``write_timeout`` ago: then fail at once.

        A batch waits up to ``write_timeout`` for another writer's lock, and the batches queued behind it (every
        viewer's next answer) would each wait as long again, one after the other: with a lock held elsewhere, a
        request hung for seconds before its 503. So after such a refusal the batches of the next
        ``write_timeout`` fail without asking, then one asks again (and the housekeeping probe asks every
        second): a request waits about one ``write_timeout`` at most, and a success ends it. A refusal that came
        at once (a full disk, a read-only file) costs nothing to ask again, so it opens no such window.
        """
        if self._failed_at is None or self._write_timeout is None or self.health.ok:
            return False
        return (self._clock.now() - self._failed_at).total_seconds() < self._write_timeout

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
            started = time.monotonic()
            try:
                with self._store.begin_write(self._write_timeout) as conn:
                    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=audit_head.c.seq))
                    self._trial_insert(conn)
            except Exception as exc:
                self._refused(started)
                self.health.failed(f"a test write failed: {driver_problem(exc)}", now)
                return False
            self._failed_at = None
        self.health.recovered(now)
        return True

    def _trial_insert(self, conn: Connection) -> None:
        """Insert a record's worth of row as the next one, then roll it back to a savepoint.

        The head's in-place update alone can succeed on a full disk (PostgreSQL rewrites the row within its page,
        into WAL segments made in advance) while the next append needs a new page of ``audit_records`` or of an
        index and fails: readyz went back to 200 every second during a full disk. An insert of the same shape
        meets what the append meets; rolled back to its savepoint, it leaves no record (the head's row lock,
        ``BEGIN IMMEDIATE`` on SQLite, keeps its seq free meanwhile).
        """
        head = conn.execute(HEAD).one()
        values = prepare("audit.probe", {"details": {"padding": "x" * PROBE_RECORD_BYTES}})
        trial = AuditRecord(seq=head.seq + 1, ts=as_utc(self._clock.now()), prev_hash=head.hash, **values)
        savepoint = conn.begin_nested()
        try:
            conn.execute(audit_records.insert(), {**trial.hash_fields(), "hash": record_hash(trial)})
        finally:
            savepoint.rollback()

    # -- reading -----------------------------------------------------------------------------------

    def verify(self) -> VerifyResult:
        """Check the whole chain and the head in one consistent snapshot, reading pages of raw rows."""
        driver_error = self._store.engine.dialect.loaded_dbapi.Error  # raw cursor errors are not wrapped
        try:
            with self._store.begin_read() as conn:
                head_row = conn.execute(HEAD).first()
                if head_row is None:
                    result = verify_chain(conn, None)
                    return VerifyResult(False, result.records, result.head, None, "the audit head row is missing")
                return verify_chain(conn, (head_row.seq, head_row.hash))
        except (SQLAlchemyError, driver_error) as exc:
            raise AuditUnavailable(f"the audit log could not be read ({driver_problem(exc)})") from exc

    def query(self, **filters: Any) -> tuple[list[AuditRecord], int | None]:
        """Records in seq order and the cursor for the next page (pass it as ``after_seq``), or None; malformed
        rows are left out (see :meth:`query_page`)."""
        records, _, cursor = self.query_page(**filters)
        return records, cursor

    def query_page(
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
        scope: AuditScope | None = None,
    ) -> tuple[list[AuditRecord], list[rows.MalformedRecord], int | None]:
        """Records in seq order, the rows in the page that are not records (each naming its seq and bad field),
        and the cursor for the next page (pass it as ``after_seq``), or None. ``scope``: only the records one
        agency's auditors read (:mod:`broker.audit.scope`); None: every record."""
        if decision not in (None, "allow", "deny"):
            raise InvalidRequest("decision must be 'allow' or 'deny'", field="decision")
        if limit < 1:
            raise InvalidRequest("limit must be at least 1", field="limit")
        limit = min(limit, MAX_QUERY)
        t = audit_records.c
        query = rows.RAW
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
        if scope is not None:
            query = query.where(scope.where())
        query = query.order_by(t.seq).limit(limit + 1)
        try:
            with self._store.engine.connect() as conn:
                found = list(conn.execute(query))
        except SQLAlchemyError as exc:
            raise AuditUnavailable(f"the audit log could not be read ({driver_problem(exc)})") from exc
        records: list[AuditRecord] = []
        malformed: list[rows.MalformedRecord] = []
        for row in found[:limit]:
            try:
                records.append(_record(row))
            except rows.MalformedRecord as exc:
                malformed.append(exc)
        return records, malformed, (found[limit - 1].seq if len(found) > limit else None)

    def record(self, seq: int) -> AuditRecord | None:
        """One record by its seq (None if there is none)."""
        return self._read_one(rows.RAW.where(audit_records.c.seq == seq))

    def last_served(self, session: str, camera: str, after_seq: int, page: int = 500) -> AuditRecord | None:
        """The last ``session.served`` record of ``session`` (on ``camera``, after its start ``after_seq``):
        newest first through the (camera, seq) index, a page at a time."""
        t = audit_records.c
        below: int | None = None
        while True:
            query = rows.RAW.where(t.camera == camera, t.seq > after_seq, t.kind == "session.served")
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
                return _records(conn.execute(query))
        except SQLAlchemyError as exc:
            raise AuditUnavailable(f"the audit log could not be read ({driver_problem(exc)})") from exc

    def _read_one(self, query: Any) -> AuditRecord | None:
        found = self._read(query.limit(1))
        return found[0] if found else None

    def emergency_records(
        self,
        emergency: str,
        kinds: Collection[str],
        limit: int = MAX_EMERGENCY_RECORDS,
        scope: AuditScope | None = None,
    ) -> tuple[list[AuditRecord], bool]:
        """The records of ``kinds`` carrying ``emergency``, in seq order, in one read (the (emergency, seq)
        index), at most ``limit``; and whether that is all of them. ``scope`` as for :meth:`query_page`."""
        t = audit_records.c
        query = rows.RAW.where(t.emergency == emergency, t.kind.in_(list(kinds)))
        if scope is not None:
            query = query.where(scope.where())
        query = query.order_by(t.seq).limit(limit + 1)
        try:
            with self._store.engine.connect() as conn:
                records = _records(conn.execute(query))
        except SQLAlchemyError as exc:
            raise AuditUnavailable(f"the audit log could not be read ({driver_problem(exc)})") from exc
        return records[:limit], len(records) <= limit
