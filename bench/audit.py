"""Durable audit appends/s with 50 concurrent requesters (group commit against one record per
transaction) and verify throughput on 1,000,000 records, on a SQLite file and on PostgreSQL; then, with a
signed checkpoint every 10,000 records, the store verify with its checkpoints, and the time to export those
records and verify the export offline (``camgate audit export`` / ``camgate audit verify DIR``: target under
10 s for export and verify together).

    .venv/bin/python bench/audit.py [--requesters 50] [--appends 20000] [--baseline-appends 5000]
                                    [--verify-records 1000000] [--checkpoint-every 10000] [--pg URL]

PostgreSQL runs when ``--pg``, ``CAMGATE_BENCH_DATABASE_URL`` or the local server at 127.0.0.1:5432
answers; it uses a throw-away schema. Each requester is a thread calling ``AuditLog.append`` the way the
routes do (through the thread pool); an append returns only once its record is committed. The baseline
is the same code with ``max_batch=1``: one record per transaction, as before group commit.
"""

from __future__ import annotations

import argparse
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

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.audit import AuditLog
from broker.audit.export import export
from broker.audit.keys import KeyRing
from broker.audit.offline import verify_export
from broker.audit.signer import CheckpointSigner
from broker.audit.verify_store import StoreVerifier
from broker.audit.writer import BatchWriter, prepare
from broker.clock import SystemClock
from broker.store import Store

LOCAL_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FILL_BATCH = 5000


def fields(i: int) -> tuple[str, dict[str, Any]]:
    """A realistic mix: mostly decisions (repeating details), one in ten a session start (unique id)."""
    if i % 10 == 0:
        return "session.start", {
            "principal_sub": f"officer-{i % 37}", "principal_agency": "metro-pd", "principal_roles": ("viewer",),
            "camera": f"north-high/a/cam-{i % 120}", "action": "live", "allowed": True, "reason": "allowed",
            "mou": "mou-2026-01", "grant": "g-3", "client": "10.1.2.3", "details": {"session": f"vs-{i:012x}"},
        }  # fmt: skip
    return "decision", {
        "principal_sub": f"officer-{i % 37}", "principal_agency": "metro-pd", "principal_roles": ("emergency", "viewer"),
        "camera": f"north-high/a/cam-{i % 120}", "action": "live", "allowed": i % 7 != 0,
        "reason": "allowed" if i % 7 else "outside_schedule", "mou": "mou-2026-01", "grant": "g-3", "clause": "4.2",
        "client": "10.1.2.3", "details": {"during": "segment", "yielded": [["outside_schedule", "mou-2026-01", "g-2"]]},
    }  # fmt: skip


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


def fill(store: Store, upto: int, signer: CheckpointSigner | None = None, every: int = 10_000) -> None:
    """Bring the chain to ``upto`` records with the log's own batch writer, FILL_BATCH per transaction; with
    ``signer``, a signed checkpoint each time the chain reaches a multiple of ``every``."""
    writer = BatchWriter(store, SystemClock())
    with store.engine.connect() as conn:
        have = conn.execute(text("SELECT seq FROM audit_head")).scalar_one()
    i = have
    while i < upto:
        n = min(FILL_BATCH, upto - i, every - i % every)
        writer.write([prepare(*fields(i + k)) for k in range(n)])
        i += n
        if signer is not None and i % every == 0:
            signer.sign()


def proof(store: Store, key: Ed25519PrivateKey, witness: Path, out: Path) -> None:
    """Verify with checkpoints in the store, then export everything and verify the export offline."""
    keys = KeyRing(key, witness_file=witness)
    began = time.perf_counter()
    result = StoreVerifier(store, keys).verify()
    elapsed = time.perf_counter() - began
    assert result.ok, result
    print(
        f"  verify+proof     {result.records / elapsed:8,.0f} records/s  ({result.records:,} records and"
        f" {result.checkpoints:,} checkpoints in {elapsed:.2f} s, the local witness held)",
        flush=True,
    )
    began = time.perf_counter()
    done = export(store, keys, out, start=None, end=None, now=SystemClock().now())
    exported = time.perf_counter() - began
    size = (out / "records.jsonl").stat().st_size
    began = time.perf_counter()
    offline = verify_export(out)
    checked = time.perf_counter() - began
    assert offline.ok and offline.records == done.last_seq, offline
    total = exported + checked
    print(
        f"  export           {done.records / exported:8,.0f} records/s  ({done.records:,} records, {size / 1e6:,.0f} MB,"
        f" {done.checkpoints:,} checkpoints in {exported:.2f} s)\n"
        f"  verify offline   {done.records / checked:8,.0f} records/s  ({checked:.2f} s)\n"
        f"  export+verify    {total:8.2f} s            (target: under 10 s)",
        flush=True,
    )


def run(name: str, store: Store, args: argparse.Namespace) -> None:
    store.create_all()
    print(f"{name}:", flush=True)
    group = AuditLog(store, SystemClock())
    single = AuditLog(store, SystemClock(), max_batch=1)  # the one-record-per-transaction baseline
    rates = []
    for label, log, total in (("group commit", group, args.appends), ("one per commit", single, args.baseline_appends)):
        rate, batches = appends_per_second(log, args.requesters, total)
        n = total // args.requesters * args.requesters
        rates.append(rate)
        print(
            f"  {label:<16} {rate:8,.0f} durable appends/s  ({args.requesters} concurrent requesters, {n:,} records,"
            f" {batches:,} transactions, {n / batches:.1f} records each)",
            flush=True,
        )
    rate, base = rates
    print(f"  ratio            {rate / base:8.1f}x", flush=True)
    key = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory() as tmp:
        witness = Path(tmp) / "signing.pem.checkpoint.json"
        signer = CheckpointSigner(store, key, SystemClock(), witness_file=witness)
        fill(store, args.verify_records, signer, args.checkpoint_every)
        began = time.perf_counter()
        result = group.verify()
        elapsed = time.perf_counter() - began
        assert result.ok and result.records == args.verify_records, result
        print(
            f"  verify           {result.records / elapsed:8,.0f} records/s  ({result.records:,} records in {elapsed:.2f} s)",
            flush=True,
        )
        proof(store, key, witness, Path(tmp) / "export")


def sqlite(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        try:
            run("SQLite file (WAL, synchronous=FULL)", store, args)
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
        run(f"PostgreSQL ({store.description})", store, args)
    finally:
        with store.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requesters", type=int, default=50)
    parser.add_argument("--appends", type=int, default=20_000, help="records appended with group commit")
    parser.add_argument("--baseline-appends", type=int, default=5_000, help="records appended one per commit")
    parser.add_argument("--verify-records", type=int, default=1_000_000)
    parser.add_argument("--checkpoint-every", type=int, default=10_000, help="records between signed checkpoints")
    parser.add_argument("--pg", default=os.environ.get("CAMGATE_BENCH_DATABASE_URL") or LOCAL_PG)
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    sqlite(args)
    if not args.no_pg:
        postgres(args.pg, args)


if __name__ == "__main__":
    main()
