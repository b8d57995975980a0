"""Audit append throughput on a SQLite file and on PostgreSQL.

    .venv/bin/python bench/audit_append.py [--n 2000] [--threads 8] [--pg URL]

PostgreSQL runs when ``--pg`` or ``CAMGATE_TEST_DATABASE_URL`` is given; it uses a throw-away schema.
Prints appends/s for one thread and for several threads sharing one AuditLog, then verify speed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from broker.audit import AuditLog
from broker.clock import SystemClock
from broker.store import Store

FIELDS: dict[str, Any] = {
    "principal_sub": "officer-17",
    "principal_agency": "metro-pd",
    "principal_roles": ("viewer", "emergency"),
    "camera": "north-high/a/cam-12",
    "action": "live",
    "allowed": True,
    "reason": "allowed",
    "mou": "mou-2026-01",
    "grant": "g-3",
    "clause": "4.2",
    "client": "10.1.2.3",
    "details": {"zone": "hallways", "building": "A"},
}


def timed(label: str, n: int, fn: Callable[[], None]) -> None:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    print(f"  {label:<34} {n:>6} in {elapsed:6.2f}s = {n / elapsed:8.0f}/s", flush=True)


def run(store: Store, n: int, threads: int) -> None:
    store.create_all()
    audit = AuditLog(store, SystemClock())

    def sequential() -> None:
        for _ in range(n):
            audit.append("decision", **FIELDS)

    def parallel() -> None:
        per = n // threads

        def work() -> None:
            for _ in range(per):
                audit.append("decision", **FIELDS)

        pool = [threading.Thread(target=work) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()

    timed("append, 1 thread", n, sequential)
    timed(f"append, {threads} threads", n // threads * threads, parallel)
    total = n + n // threads * threads
    result = audit.verify()
    assert result.ok and result.records == total, result
    timed("verify", total, audit.verify)


def sqlite(n: int, threads: int, synchronous: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        if synchronous != "FULL":
            store.dispose()

            @event.listens_for(store.engine, "connect")
            def _sync(dbapi_conn: Any, _rec: Any) -> None:
                dbapi_conn.execute(f"PRAGMA synchronous={synchronous}")

        print(f"SQLite file (WAL, synchronous={synchronous}):", flush=True)
        try:
            run(store, n, threads)
        finally:
            store.dispose()


def postgres(url: str, n: int, threads: int) -> None:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    store = Store.open(url, schema=schema)
    print(f"PostgreSQL ({store.description}):", flush=True)
    try:
        run(store, n, threads)
    finally:
        with store.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg", default=os.environ.get("CAMGATE_TEST_DATABASE_URL"))
    args = parser.parse_args()
    sqlite(args.n, args.threads, "FULL")
    sqlite(args.n, args.threads, "NORMAL")
    if args.pg:
        postgres(args.pg, args.n, args.threads)
    else:
        print("PostgreSQL: skipped (no --pg and CAMGATE_TEST_DATABASE_URL unset)")


if __name__ == "__main__":
    main()
