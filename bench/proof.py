"""The proof of the audit log at a million records: the store verify with a signed checkpoint every 10,000
records and the local witness, then ``camgate audit export`` of every record and ``camgate audit verify DIR``
of that export offline (target: the offline verify of the export under 10 s), on a SQLite file and on
PostgreSQL. The baseline alongside is the plain chain verify (``AuditLog.verify``) of the same store.

    .venv/bin/python bench/proof.py [--records 1000000] [--checkpoint-every 10000] [--database-url URL | --no-pg]

PostgreSQL runs when ``--database-url``, ``CAMGATE_BENCH_DATABASE_URL``, ``CAMGATE_TEST_DATABASE_URL`` or the
local server at 127.0.0.1:5432 answers; it uses a throw-away schema.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.audit import LOCAL_PG, fields
from broker.audit import AuditLog
from broker.audit.export import export
from broker.audit.keys import KeyRing
from broker.audit.offline import verify_export
from broker.audit.signer import CheckpointSigner
from broker.audit.verify_store import StoreVerifier
from broker.audit.writer import BatchWriter, prepare
from broker.clock import SystemClock
from broker.store import Store

FILL_BATCH = 5000


def fill(store: Store, upto: int, signer: CheckpointSigner, every: int) -> None:
    """Bring the chain to ``upto`` records with the log's own batch writer, a signed checkpoint every ``every``."""
    writer = BatchWriter(store, SystemClock())
    i = 0
    while i < upto:
        n = min(FILL_BATCH, upto - i, every - i % every)
        writer.write([prepare(*fields(i + k)) for k in range(n)])
        i += n
        if i % every == 0:
            signer.sign()


def timed(label: str, began: float, what: str) -> float:
    elapsed = time.perf_counter() - began
    print(f"  {label:<16} {elapsed:8.2f} s   {what}", flush=True)
    return elapsed


def run(name: str, store: Store, args: argparse.Namespace) -> None:
    store.create_all()
    print(f"{name}:", flush=True)
    key = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory() as tmp:
        witness = Path(tmp) / "signing.pem.checkpoint.json"
        began = time.perf_counter()
        fill(
            store,
            args.records,
            CheckpointSigner(store, key, SystemClock(), witness_file=witness),
            args.checkpoint_every,
        )
        timed("fill", began, f"{args.records:,} records, a signed checkpoint every {args.checkpoint_every:,}")
        began = time.perf_counter()
        plain = AuditLog(store, SystemClock()).verify()
        assert plain.ok and plain.records == args.records, plain
        base = timed("chain verify", began, "(baseline: the hash chain and its head only)")
        keys = KeyRing(key, witness_file=witness)
        began = time.perf_counter()
        result = StoreVerifier(store, keys).verify()
        assert result.ok, result
        full = timed("store verify", began, f"chain, {result.checkpoints:,} checkpoints and the local witness")
        out = Path(tmp) / "export"
        began = time.perf_counter()
        done = export(store, keys, out, start=None, end=None, now=SystemClock().now())
        size = (out / "records.jsonl").stat().st_size
        exported = timed(
            "export", began, f"{done.records:,} records, {size / 1e6:,.0f} MB, {done.checkpoints:,} checkpoints"
        )
        began = time.perf_counter()
        offline = verify_export(out)
        assert offline.ok and offline.records == done.last_seq, offline
        checked = timed("offline verify", began, "(target: under 10 s)")
        print(
            f"  ratios           store verify {full / base:.2f}x the chain verify; offline verify {checked / base:.2f}x;"
            f" export + offline verify {exported + checked:.2f} s",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--checkpoint-every", type=int, default=10_000, help="records between signed checkpoints")
    env = os.environ.get("CAMGATE_BENCH_DATABASE_URL") or os.environ.get("CAMGATE_TEST_DATABASE_URL")
    parser.add_argument("--database-url", "--pg", dest="pg", default=env or LOCAL_PG, help="PostgreSQL URL")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/bench.db")
        try:
            run("SQLite file (WAL, synchronous=FULL)", store, args)
        finally:
            store.dispose()
    if args.no_pg:
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        store = Store.open(args.pg, schema=schema)
    except Exception as exc:
        print(f"PostgreSQL: skipped ({exc})")
        return
    try:
        run(f"PostgreSQL ({store.description})", store, args)
    finally:
        with store.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        store.dispose()


if __name__ == "__main__":
    main()
