"""Durable audit appends/s with 50 concurrent requesters (group commit against one record per
transaction), segment accounting at 200 viewers (durable against in-memory counting) and verify throughput
on 1,000,000 records, on a SQLite file and on PostgreSQL.

    .venv/bin/python bench/audit.py [--requesters 50] [--appends 20000] [--baseline-appends 5000]
                                    [--viewers 200] [--seconds 3] [--rounds 3]
                                    [--verify-records 1000000] [--database-url URL | --no-pg]

PostgreSQL runs when ``--database-url`` (``--pg``), ``CAMGATE_BENCH_DATABASE_URL``,
``CAMGATE_TEST_DATABASE_URL`` or the local server at 127.0.0.1:5432 answers; it uses throw-away schemas.
Appends: each requester is a thread calling ``AuditLog.append`` the way the routes do (through the thread
pool), or a task on one event loop awaiting ``AuditLog.append_async`` the way a served segment is counted;
an append returns only once its record is committed. The baseline is the same code with ``max_batch=1``:
one record per transaction, as before group commit. Segment accounting: see bench/accounting.py.
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
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.accounting import segment_accounting
from broker.audit import AuditLog
from broker.audit.writer import BatchWriter, prepare
from broker.clock import SystemClock
from broker.store import Store

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


def fill(store: Store, upto: int) -> None:
    """Bring the chain to ``upto`` records with the log's own batch writer, FILL_BATCH per transaction."""
    writer = BatchWriter(store, SystemClock())
    with store.engine.connect() as conn:
        have = conn.execute(text("SELECT seq FROM audit_head")).scalar_one()
    i = have
    while i < upto:
        n = min(FILL_BATCH, upto - i)
        writer.write([prepare(*fields(i + k)) for k in range(n)])
        i += n


def run(name: str, url: str | None, store: Store, args: argparse.Namespace) -> None:
    store.create_all()
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
    segment_accounting(name, url, args.viewers, args.seconds, args.rounds)
    fill(store, args.verify_records)
    began = time.perf_counter()
    result = group.verify()
    elapsed = time.perf_counter() - began
    assert result.ok and result.records == args.verify_records, result
    print(
        f"  verify           {result.records / elapsed:8,.0f} records/s  ({result.records:,} records in {elapsed:.2f} s)"
    )


def sqlite(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        try:
            run("SQLite file (WAL, synchronous=FULL)", None, store, args)
        finally:
            store.dispose()


def postgres(url: str, args: argparse.Namespace) -> None:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        store = Store.open(url, schema=schema)
    except Exception as exc:
        print(f"PostgreSQL: skipped ({exc})")
        return
    try:
        run(f"PostgreSQL ({store.description})", url, store, args)
    finally:
        with store.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requesters", type=int, default=50)
    parser.add_argument("--appends", type=int, default=20_000, help="records appended with group commit")
    parser.add_argument("--baseline-appends", type=int, default=5_000, help="records appended one per commit")
    parser.add_argument("--viewers", type=int, default=200, help="segment accounting: concurrent viewers")
    parser.add_argument("--seconds", type=float, default=3.0, help="segment accounting: length of a round")
    parser.add_argument("--rounds", type=int, default=3, help="segment accounting: rounds per mode")
    parser.add_argument("--verify-records", type=int, default=1_000_000)
    env = os.environ.get("CAMGATE_BENCH_DATABASE_URL") or os.environ.get("CAMGATE_TEST_DATABASE_URL")
    parser.add_argument("--database-url", "--pg", dest="pg", default=env or LOCAL_PG, help="PostgreSQL URL")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    sqlite(args)
    if not args.no_pg:
        postgres(args.pg, args)


if __name__ == "__main__":
    main()
