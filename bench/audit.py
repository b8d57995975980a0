"""Durable audit appends/s with 50 concurrent requesters (group commit against one record per
transaction), segment accounting at 200 viewers (durable against in-memory counting) and verify throughput
on 1,000,000 records, on a SQLite file and on PostgreSQL.

    .venv/bin/python bench/audit.py [--requesters 50] [--appends 20000] [--baseline-appends 2500]
                                    [--viewers 200] [--seconds 2] [--rounds 4]
                                    [--verify-records 1000000] [--database-url URL | --no-pg]

``--viewers 0`` and ``--verify-records 0`` leave those parts out. 2.5-3 minutes on the 2-core development machine
while other jobs kept it busy (load 2-4); the verify chain and the 200-viewer rounds take most of it.

PostgreSQL runs when ``--database-url`` (``--pg``), ``CAMGATE_BENCH_DATABASE_URL``,
``CAMGATE_TEST_DATABASE_URL`` or the local server at 127.0.0.1:5432 answers; it uses throw-away schemas.
Appends: each requester is a thread calling ``AuditLog.append`` the way the routes do (through the thread
pool), or a task on one event loop awaiting ``AuditLog.append_async`` the way a served segment is counted;
an append returns only once its record is committed. The baseline is the same code with ``max_batch=1``:
one record per transaction, as before group commit. Threads form batches of about half their number (one half
queues while the other half's batch commits); tasks on one loop form batches of all of them. Segment accounting:
see bench/accounting.py. Verify: one chain of a million records, hashed once, stored in a fresh database of each
kind, then ``AuditLog.verify`` timed on each.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Any

from sqlalchemy import text, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.accounting import segment_accounting
from broker.audit import GENESIS, AuditLog, AuditRecord, canonical
from broker.audit.records import rfc3339
from broker.audit.writer import RowInsert
from broker.clock import SystemClock
from broker.store import Store
from broker.store.tables import audit_head

LOCAL_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FILL_BATCH = 5000


def fields(i: int) -> tuple[str, dict[str, Any]]:
    """A realistic mix: mostly decisions (repeating details), one in ten a session start (unique id)."""
    if i % 10 == 0:
        return "session.start", {
            "principal_sub": f"officer-{i % 37}",
            "principal_agency": "metro-pd",
            "principal_roles": ("viewer",),
            "camera": f"north-high/a/cam-{i % 120}",
            "action": "live",
            "allowed": True,
            "reason": "allowed",
            "mou": "mou-2026-01",
            "grant": "g-3",
            "client": "10.1.2.3",
            "details": {"session": f"vs-{i:012x}"},
        }
    return "decision", {
        "principal_sub": f"officer-{i % 37}",
        "principal_agency": "metro-pd",
        "principal_roles": ("emergency", "viewer"),
        "camera": f"north-high/a/cam-{i % 120}",
        "action": "live",
        "allowed": i % 7 != 0,
        "reason": "allowed" if i % 7 else "outside_schedule",
        "mou": "mou-2026-01",
        "grant": "g-3",
        "clause": "4.2",
        "client": "10.1.2.3",
        "details": {"during": "segment", "yielded": [["outside_schedule", "mou-2026-01", "g-2"]]},
    }


def appends_per_second(audit: AuditLog, requesters: int, total: int) -> tuple[float, int]:
    """Durable appends/s with ``requesters`` threads appending at once, and the transactions it took."""
    per = total // requesters
    start = threading.Barrier(requesters + 1)
    errors: list[BaseException] = []

    def requester(n: int) -> None:
        start.wait()
        try:
            for i in range(per):
                kind, values = fields(n * per + i)
                audit.append(kind, **values)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=requester, args=(n,)) for n in range(requesters)]
    for t in threads:
        t.start()
    batches = audit.committer.batches
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return per * requesters / elapsed, audit.committer.batches - batches


def async_appends_per_second(audit: AuditLog, requesters: int, total: int) -> tuple[float, int]:
    """Durable appends/s with ``requesters`` tasks on one event loop awaiting ``append_async`` at once."""
    per = total // requesters

    async def requester(n: int) -> None:
        for i in range(per):
            kind, values = fields(n * per + i)
            await audit.append_async(kind, **values)

    async def all_of_them() -> float:
        began = time.perf_counter()
        await asyncio.gather(*(requester(n) for n in range(requesters)))
        return time.perf_counter() - began

    batches = audit.committer.batches
    elapsed = asyncio.run(all_of_them())
    return per * requesters / elapsed, audit.committer.batches - batches


def chain(n: int) -> Iterator[list[dict[str, Any]]]:
    """The first ``n`` records of a chain as stored rows (every field, hash included), FILL_BATCH at a time.

    Hashed once here, then stored in each database as is: the verify figure needs a long valid chain, not the
    appends' own code path (measured above), and hashing a million records takes longer than storing them.
    Repeated values are shared objects, so the stored form of each is computed once (``RowInsert.values``).
    """
    ts, prev = datetime.now(UTC), GENESIS
    stamp = rfc3339(ts)  # the hash covers ts in this form
    blank = AuditRecord(seq=0, ts=ts, kind="").hash_fields()  # every field at its default
    shared: dict[str, Any] = {}
    for start in range(0, n, FILL_BATCH):
        rows = []
        for i in range(start, min(n, start + FILL_BATCH)):
            kind, values = fields(i)
            roles = tuple(sorted(values.pop("principal_roles")))
            values["principal_roles"] = shared.setdefault(repr(roles), roles)
            if kind == "decision":  # the same details every time
                values["details"] = shared.setdefault(repr(values["details"]), values["details"])
            row = {**blank, **values, "kind": kind, "seq": i + 1, "ts": stamp, "prev_hash": prev}
            prev = row["hash"] = sha256(canonical(row)).hexdigest()
            row["ts"] = ts
            rows.append(row)
        yield rows


def store_rows(store: Store, insert: RowInsert, rows: list[dict[str, Any]]) -> None:
    """One transaction: the rows (COPY on PostgreSQL, multi-row INSERTs on SQLite), then the head moved to them."""
    with store.begin_write() as conn:
        if store.dialect_name == "postgresql":
            columns = ", ".join(f'"{c}"' for c in insert.columns)
            cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]  # psycopg's
            seen: dict[int, tuple[Any, Any]] = {}
            with cur, cur.copy(f"COPY audit_records ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(insert.values(row, seen))
        else:
            insert(conn, rows)
        conn.execute(update(audit_head).values(seq=rows[-1]["seq"], hash=rows[-1]["hash"]))


def verify_figures(stores: list[tuple[str, Store]], records: int) -> None:
    """Write one chain of ``records`` into a fresh store of each kind, then time ``AuditLog.verify`` on each."""
    inserts = [(store, RowInsert(store.engine.dialect)) for _, store in stores]
    for rows in chain(records):
        for store, insert in inserts:
            store_rows(store, insert, rows)
    print(f"Verify, {records:,} records:", flush=True)
    for name, store in stores:
        began = time.perf_counter()
        result = AuditLog(store, SystemClock()).verify()
        elapsed = time.perf_counter() - began
        assert result.ok and result.records == records, result
        print(f"  {name:<16} {records / elapsed:8,.0f} records/s  ({records:,} records in {elapsed:.2f} s)", flush=True)


def run(name: str, url: str | None, store: Store, args: argparse.Namespace) -> None:
    print(f"{name}:", flush=True)
    group = AuditLog(store, SystemClock())
    single = AuditLog(store, SystemClock(), max_batch=1)  # the one-record-per-transaction baseline
    rates = []
    runs = (
        ("group commit", group, args.appends, appends_per_second, "threads"),
        ("  async", group, args.appends, async_appends_per_second, "tasks"),
        ("one per commit", single, args.baseline_appends, appends_per_second, "threads"),
    )
    for label, log, total, measure, who in runs:
        rate, batches = measure(log, args.requesters, total)
        n = total // args.requesters * args.requesters
        rates.append(rate)
        print(
            f"  {label:<16} {rate:8,.0f} durable appends/s  ({args.requesters} concurrent {who}, {n:,} records,"
            f" {batches:,} transactions, {n / batches:.1f} records each)",
            flush=True,
        )
    threads, tasks, base = rates
    print(f"  ratio            {threads / base:8.1f}x (threads), {tasks / base:.1f}x (async)", flush=True)
    if args.viewers:
        segment_accounting(name, url, args.viewers, args.seconds, args.rounds)


@contextmanager
def sqlite(tmp: str, name: str) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp}/{name}.db")
    try:
        store.create_all()
        yield store
    finally:
        store.dispose()


@contextmanager
def postgres(url: str) -> Iterator[Store | None]:
    """A throw-away schema, dropped after (None, with the reason printed, when the server does not answer)."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        store = Store.open(url, schema=schema)
    except Exception as exc:
        print(f"PostgreSQL: skipped ({exc})")
        yield None
        return
    try:
        store.create_all()
        yield store
    finally:
        with store.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requesters", type=int, default=50)
    parser.add_argument("--appends", type=int, default=20_000, help="records appended with group commit")
    parser.add_argument("--baseline-appends", type=int, default=2_500, help="records appended one per commit")
    parser.add_argument("--viewers", type=int, default=200, help="segment accounting: concurrent viewers (0: skip)")
    parser.add_argument("--seconds", type=float, default=2.0, help="segment accounting: length of a round")
    parser.add_argument("--rounds", type=int, default=4, help="segment accounting: rounds per mode")
    parser.add_argument("--verify-records", type=int, default=1_000_000, help="0: skip the verify figure")
    env = os.environ.get("CAMGATE_BENCH_DATABASE_URL") or os.environ.get("CAMGATE_TEST_DATABASE_URL")
    parser.add_argument("--database-url", "--pg", dest="pg", default=env or LOCAL_PG, help="PostgreSQL URL")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with sqlite(tmp, "bench") as store:
            run("SQLite file (WAL, synchronous=FULL)", None, store, args)
        pg = None if args.no_pg else args.pg
        if pg is not None:
            with postgres(pg) as store_or_none:
                if store_or_none is None:
                    pg = None
                else:
                    run(f"PostgreSQL ({store_or_none.description})", pg, store_or_none, args)
        if args.verify_records:
            with ExitStack() as stack:
                stores = [("SQLite file", stack.enter_context(sqlite(tmp, "verify")))]
                if pg is not None and (store_or_none := stack.enter_context(postgres(pg))) is not None:
                    stores.append(("PostgreSQL", store_or_none))
                verify_figures(stores, args.verify_records)


if __name__ == "__main__":
    main()
