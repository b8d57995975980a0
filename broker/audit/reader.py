"""Verifying the chain at speed: raw rows in large keyset pages, hashed without building records.

The hash of a record is the SHA-256 of its canonical JSON (sorted keys, compact, UTF-8; see
:func:`broker.audit.chain.canonical`). The two JSON columns (``principal_roles``, ``details``) are stored
in that same canonical text (:class:`broker.store.types.JSONText`), and SQL hands ``ts`` over already
in RFC 3339, so the canonical bytes of an intact row are spliced from the raw driver tuple: no type
conversion, no ``AuditRecord``, no JSON round trip per row (the canonical-text check of the JSON
columns is cached: most records share their roles and many their details).

A row is cleared here only if the splice provably equals what :func:`~broker.audit.chain.canonical`
would produce for it (JSON columns in canonical text, ts in the exact stored format) and its seq, link
and hash are right. Every other row is re-read as an :class:`AuditRecord` and given to
:class:`~broker.audit.chain.ChainVerifier`, which names the first bad record exactly as before.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from hashlib import sha256
from json.encoder import encode_basestring  # the C encoder json.dumps uses (ensure_ascii=False)
from typing import Any

from sqlalchemy import Connection

from broker.audit.chain import GENESIS, ChainVerifier, VerifyResult
from broker.audit.records import AuditRecord
from broker.audit.rows import RAW, MalformedRecord, parse, shown
from broker.store.tables import audit_records
from broker.store.types import dump_json

_COLUMNS = (
    "seq", "{ts}", "kind", "principal_sub", "principal_agency", "principal_roles", "camera", "action", "allowed",
    "reason", "mou", '"grant"', "clause", "emergency", "client", "details", "prev_hash", "hash",
)  # fmt: skip
# ts exactly as SQLAlchemy stores it on SQLite ('2026-09-14 13:00:00.000000', naive UTC), as RFC 3339; else NULL.
_DIGITS = "[0-9]"
_SQLITE_FORMAT = (
    "-".join(_DIGITS * n for n in (4, 2, 2)) + " " + ":".join(_DIGITS * 2 for _ in range(3)) + "." + _DIGITS * 6
)
_TS = {
    "sqlite": f"CASE WHEN ts GLOB '{_SQLITE_FORMAT}' THEN substr(ts, 1, 10) || 'T' || substr(ts, 12) || 'Z' END",
    "postgresql": "to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
}
_PARAM = {"sqlite": "?", "postgresql": "%s"}
_BOOL: dict[Any, str] = {None: "null", True: "true", False: "false"}  # SQLite's 1/0 hash like True/False


def page_sql(dialect: str) -> str:
    """Raw rows after a seq, in seq order, ts as RFC 3339 text (or NULL if not stored canonically)."""
    p = _PARAM[dialect]
    columns = ", ".join(_COLUMNS).replace("{ts}", _TS[dialect])
    return f"SELECT {columns} FROM audit_records WHERE seq > {p} ORDER BY seq LIMIT {p}"


class CanonicalText:
    """Whether a stored JSON column is in canonical text; remembers the texts found canonical (``known``: a hot
    loop may test ``text in known`` before calling)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.known: set[str] = set()
        self._capacity = capacity

    def __call__(self, text: object) -> bool:
        if text in self.known:
            return True
        if not isinstance(text, str):
            return False
        try:
            good = dump_json(json.loads(text)) == text
        except (ValueError, TypeError, RecursionError):
            return False
        if good:
            if len(self.known) >= self._capacity:
                self.known.clear()
            self.known.add(text)
        return good


def spliced(row: tuple[Any, ...]) -> bytes:
    """The canonical bytes of a raw row whose JSON columns and ts are canonical text (keys sorted)."""
    return splice(row).encode()


def splice(row: tuple[Any, ...], opening: str = "{") -> str:
    """:func:`spliced` as text. ``opening`` replaces the opening brace (an export line puts ``"hash"`` there).

    The string columns are encoded by hand (no helper call: this runs a million times a verify).
    """
    (seq, ts, kind, p_sub, p_agency, roles, camera, action, allowed, reason, mou, grant, clause, emergency,
     client, details, prev_hash, _hash) = row  # fmt: skip
    e, n = encode_basestring, "null"
    return (
        f'{opening}"action":{n if action is None else e(action)},"allowed":{_BOOL[allowed]},'
        f'"camera":{n if camera is None else e(camera)},"clause":{n if clause is None else e(clause)},'
        f'"client":{n if client is None else e(client)},"details":{details},'
        f'"emergency":{n if emergency is None else e(emergency)},"grant":{n if grant is None else e(grant)},'
        f'"kind":{n if kind is None else e(kind)},"mou":{n if mou is None else e(mou)},'
        f'"prev_hash":{n if prev_hash is None else e(prev_hash)},'
        f'"principal_agency":{n if p_agency is None else e(p_agency)},"principal_roles":{roles},'
        f'"principal_sub":{n if p_sub is None else e(p_sub)},"reason":{n if reason is None else e(reason)},'
        f'"seq":{seq:d},"ts":"{ts}"}}'  # :d refuses a seq that is not a whole number (never rounded)
    )


class Prefetch:
    """Fetches the next page in a thread while the caller hashes this one (both drivers release the GIL
    while the database works). Only this thread touches the cursor until :meth:`stop` has returned."""

    def __init__(self, cursor: Any, sql: str, page: int, after: int) -> None:
        self._pages: queue.Queue[list[tuple[Any, ...]] | BaseException] = queue.Queue(maxsize=1)
        self._stopping = threading.Event()
        self.stopped = False
        self._thread = threading.Thread(target=self._run, args=(cursor, sql, page, after), daemon=True)
        self._thread.start()

    def _run(self, cursor: Any, sql: str, page: int, after: int) -> None:
        try:
            while not self._stopping.is_set():
                cursor.execute(sql, (after, page))
                rows = cursor.fetchall()
                self._pages.put(rows)
                if len(rows) < page:
                    return
                after = rows[-1][0]
        except BaseException as exc:  # handed to the caller
            self._pages.put(exc)

    def next(self) -> list[tuple[Any, ...]]:
        item = self._pages.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def stop(self) -> None:
        """Stop fetching and wait for the thread: afterwards the connection is the caller's again."""
        if self.stopped:
            return
        self._stopping.set()
        while self._thread.is_alive():  # unblock a put on the full queue
            with contextlib.suppress(queue.Empty):
                self._pages.get(timeout=0.01)
        self.stopped = True


def load_record(conn: Connection, seq: int) -> AuditRecord:
    """One record read the slow way, strictly (raises MalformedRecord naming the bad field)."""
    row = conn.execute(RAW.where(audit_records.c.seq == seq)).first()  # first: seq may be duplicated (no key)
    if row is None:
        raise MalformedRecord(seq, "seq", "no such row")
    return parse(row._mapping)


def verify_chain(
    conn: Connection, head: tuple[int, str] | None, base: tuple[int, str] = (0, GENESIS), page: int = 20_000
) -> VerifyResult:
    """:func:`verify_rows` with the strict loader: the chain after ``base`` (a prune's (seq, hash)) to ``head``."""
    return verify_rows(conn, head, page, lambda seq: load_record(conn, seq), base)


def verify_rows(
    conn: Connection,
    head: tuple[int, str] | None,
    page: int,
    load: Callable[[int], AuditRecord],
    base: tuple[int, str] = (0, GENESIS),
) -> VerifyResult:
    """Verify the chain read through ``conn`` (one snapshot); ``load(seq)`` reads one record the slow way.

    ``base``: the chain's verified base (the latest prune checkpoint's (seq, hash)): records up to it are not read,
    and the first record after it must link to its hash. A row ``load`` finds malformed is the first bad record.
    """
    chain = ChainVerifier(head)
    chain.count, chain.last_hash = base
    chain.before_last = ""  # nothing is known before the base: no insertion diagnosis across it
    last_seq = head[0] if head is not None else None
    canonical_text = CanonicalText()
    sql = page_sql(conn.dialect.name)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]  # open while conn is
    fetch = Prefetch(cursor, sql, page, base[0])
    try:
        while True:
            rows = fetch.next()
            for row in rows:
                seq = row[0]
                if type(seq) is not int:  # a table without its key (SQLite keeps any type): never compared
                    return VerifyResult(
                        False,
                        chain.count,
                        chain.last_hash,
                        chain.count + 1,
                        f"record {chain.count + 1} is malformed: seq: not a whole number: {shown(seq)}",
                    )
                if (
                    seq == chain.count + 1
                    and row[16] == chain.last_hash
                    and (last_seq is None or seq <= last_seq)
                    and row[1] is not None
                    and canonical_text(row[5])
                    and canonical_text(row[15])
                    and _hash_ok(row)
                ):
                    chain.accept(row[17])
                    continue
                fetch.stop()  # load() uses the connection
                try:
                    rec = load(seq)
                except MalformedRecord as exc:  # named at its seq, unless a gap or the head comes first
                    outside = seq != chain.count + 1 or (last_seq is not None and seq > last_seq)
                    gap = chain.check(AuditRecord(seq=seq, ts=datetime.now(UTC), kind="?")) if outside else None
                    return gap or VerifyResult(False, chain.count, chain.last_hash, seq, str(exc))
                failed = chain.check(rec)
                if failed is not None:
                    return failed
            if len(rows) < page:
                return chain.finish()
            if fetch.stopped:
                fetch = Prefetch(cursor, sql, page, rows[-1][0])
    finally:
        fetch.stop()
        cursor.close()


def _hash_ok(row: tuple[Any, ...]) -> bool:
    try:
        return sha256(spliced(row)).hexdigest() == row[17]
    except (TypeError, KeyError, ValueError):  # a column holding a value of the wrong type: let the slow path say
        return False
