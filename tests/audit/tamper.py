"""An attacker with write access to the database (not to the signing key's host), for the tamper matrix.

Each function does to the store what a tester would do by hand with ``sqlite3`` or ``psql``; those that
rewrite records recompute hashes and links the way an attacker who read the source would.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from broker.audit import AuditLog, checkpoint_store
from broker.audit.chain import record_hash
from broker.audit.checkpoints import Checkpoint, key_id, sign
from broker.audit.keys import KeyRing
from broker.audit.reader import load_record
from broker.audit.records import AuditRecord
from broker.audit.signer import CheckpointSigner
from broker.audit.verify_store import StoreVerifier
from broker.clock import FakeClock
from broker.store import Store
from broker.store.tables import audit_records

RECORDS = 30
EVERY = 10  # a checkpoint every 10 records: at 10, 20 and 30


@dataclass
class Log:
    store: Store
    audit: AuditLog
    signer: CheckpointSigner
    key: Ed25519PrivateKey
    witness: Path
    clock: FakeClock

    def verifier(self) -> StoreVerifier:
        return StoreVerifier(self.store, KeyRing(self.key, witness_file=self.witness))

    def sql(self, statement: str, **params: Any) -> None:
        with self.store.engine.begin() as conn:
            conn.execute(text(statement), params)

    def record(self, seq: int) -> AuditRecord:
        with self.store.engine.connect() as conn:
            return load_record(conn, seq)

    def append(self, n: int) -> None:
        for _ in range(n):
            i = self.audit_count() + 1
            self.audit.append(
                "decision" if i % 3 else "session.start",
                principal_sub=f"officer-{i % 4}",
                principal_agency="ncpd",
                principal_roles=("officer",),
                camera=f"saxe-ext-{i % 5:02d}",
                action="live",
                allowed=i % 2 == 0,
                reason="allowed" if i % 2 == 0 else "no_mou",
                client="10.0.0.7",
                details={"n": i, "note": "ünïcode"},
            )
            self.clock.advance(1)

    def audit_count(self) -> int:
        with self.store.engine.connect() as conn:
            return int(conn.execute(text("SELECT seq FROM audit_head")).scalar_one())


def build(store: Store, clock: FakeClock, tmp_path: Path) -> Log:
    """A log of RECORDS records with a signed checkpoint every EVERY records (the last one in the witness file)."""
    key = Ed25519PrivateKey.generate()
    witness = tmp_path / "keys" / "signing.pem.checkpoint.json"
    log = Log(
        store, AuditLog(store, clock), CheckpointSigner(store, key, clock, witness_file=witness), key, witness, clock
    )
    for _ in range(RECORDS // EVERY):
        log.append(EVERY)
        log.signer.sign()
    return log


def write_row(log: Log, rec: AuditRecord, *, old_seq: int | None = None) -> None:
    """Store ``rec`` as the row ``old_seq`` (default: its own seq), every column."""
    values = {**rec.hash_fields(), "hash": rec.hash, "principal_roles": list(rec.principal_roles)}
    with log.store.engine.begin() as conn:
        conn.execute(audit_records.delete().where(audit_records.c.seq == (old_seq or rec.seq)))
        conn.execute(audit_records.insert().values(**values))


def rehash(rec: AuditRecord, prev_hash: str) -> AuditRecord:
    linked = replace(rec, prev_hash=prev_hash)
    return replace(linked, hash=record_hash(linked))


def move_head(log: Log, seq: int) -> None:
    if seq == 0:
        log.sql("UPDATE audit_head SET seq = 0, hash = :h", h="0" * 64)
    else:
        log.sql("UPDATE audit_head SET seq = :s, hash = :h", s=seq, h=log.record(seq).hash)


def rewrite_from(log: Log, first: int, **changes: Any) -> None:
    """Change record ``first`` and recompute every hash and link after it, and the head: undetectable by the chain."""
    prev = log.record(first - 1).hash if first > 1 else "0" * 64
    for seq in range(first, log.audit_count() + 1):
        rec = log.record(seq)
        if seq == first:
            rec = replace(rec, **changes)
        rec = rehash(rec, prev)
        write_row(log, rec)
        prev = rec.hash
    move_head(log, log.audit_count())


def insert_at(log: Log, seq: int) -> None:
    """A made-up record put at ``seq`` (linked and hashed correctly), the later ones moved up by one, the head too."""
    last = log.audit_count()
    for s in range(last, seq - 1, -1):
        log.sql("UPDATE audit_records SET seq = :n WHERE seq = :s", n=s + 1, s=s)
    made_up = rehash(
        replace(log.record(seq - 1), seq=seq, reason="made up", details={"n": 0}), log.record(seq - 1).hash
    )
    write_row(log, made_up)
    log.sql("UPDATE audit_head SET seq = :s, hash = :h", s=last + 1, h=log.record(last + 1).hash)


def swap(log: Log, a: int, b: int) -> None:
    """Records ``a`` and ``b`` trade places (each keeps its own hash and link)."""
    log.sql("UPDATE audit_records SET seq = -1 WHERE seq = :a", a=a)
    log.sql("UPDATE audit_records SET seq = :a WHERE seq = :b", a=a, b=b)
    log.sql("UPDATE audit_records SET seq = :b WHERE seq = -1", b=b)


def resign(log: Log, other: Ed25519PrivateKey, *, after_records: int) -> None:
    """Replace the checkpoint rows beyond ``after_records`` with ones of the chain as it is now, signed by ``other``."""
    log.sql("DELETE FROM audit_checkpoints WHERE records > :r", r=after_records)
    with log.store.begin_write() as conn:
        last = checkpoint_store.latest(conn)
        assert last is not None and last.checkpoint is not None
        n, previous = last.n, last.id
        for records in range(after_records + EVERY, log.audit_count() + 1, EVERY):
            cp = sign(
                Checkpoint(
                    records=records,
                    head=log.record(records).hash,
                    ts=log.clock.now(),
                    key_id=key_id(other.public_key()),
                    previous=previous,
                ),
                other,
            )
            n += 1
            checkpoint_store.insert(conn, n, cp)
            previous = cp.id
