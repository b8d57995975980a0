"""The checkpoint signer: interval and on demand, one linked sequence, the local witness, listeners, refusals.

Runs on SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text

from broker.audit import AuditLog, checkpoint_store, witnessfile
from broker.audit.chain import GENESIS
from broker.audit.checkpoints import Checkpoint, key_id, sign, verify_signature
from broker.audit.signer import CheckpointSigner
from broker.clock import FakeClock
from broker.errors import AuditTampered
from broker.store import Store
from broker.store.tables import audit_checkpoints


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def witness(tmp_path: Path) -> Path:
    return tmp_path / "keys" / "signing.pem.checkpoint.json"


@pytest.fixture
def signer(store: Store, key: Ed25519PrivateKey, clock: FakeClock, witness: Path) -> CheckpointSigner:
    return CheckpointSigner(store, key, clock, interval_seconds=60, witness_file=witness)


def _append(audit: AuditLog, n: int) -> None:
    for i in range(n):
        audit.append("decision", camera=f"cam-{i}", allowed=False, reason="no_mou")


def _rows(store: Store) -> list[Checkpoint]:
    with store.engine.connect() as conn:
        found = list(checkpoint_store.read_all(conn))
    assert all(row.problem is None for row in found)
    return [row.checkpoint for row in found if row.checkpoint is not None]


def test_on_demand_signs_the_head_and_keeps_it_beside_the_key(
    signer: CheckpointSigner, audit: AuditLog, store: Store, key: Ed25519PrivateKey, witness: Path
) -> None:
    _append(audit, 3)
    cp = signer.sign()
    assert cp is not None and (cp.records, cp.kind, cp.previous) == (3, "checkpoint", None)
    assert cp.head == audit.record(3).hash and (cp.base_seq, cp.base_hash) == (0, GENESIS)  # type: ignore[union-attr]
    verify_signature(cp, {key_id(key.public_key()): key.public_key()})
    assert _rows(store) == [cp]
    assert witnessfile.read(witness) == cp
    assert json.loads(witness.read_text())["id"] == cp.id
    again = signer.sign()  # on demand: signed even though the chain did not move
    assert again is not None and again.previous == cp.id and again.records == 3
    assert witnessfile.read(witness) == again


def test_interval_signs_only_when_the_chain_grew(
    signer: CheckpointSigner, audit: AuditLog, store: Store, clock: FakeClock
) -> None:
    assert signer.tick() is None  # nothing to sign: an empty chain
    _append(audit, 2)
    assert signer.tick() is None  # not due yet: the first tick set the interval
    clock.advance(60)
    first = signer.tick()
    assert first is not None and first.records == 2
    clock.advance(60)
    assert signer.tick() is None  # due, but the chain did not grow
    _append(audit, 1)
    clock.advance(59)
    assert signer.tick() is None  # grew, but not due
    clock.advance(1)
    second = signer.tick()
    assert second is not None and (second.records, second.previous) == (3, first.id)
    assert [cp.records for cp in _rows(store)] == [2, 3]


def test_replicas_sign_one_linked_sequence(
    store: Store, audit: AuditLog, clock: FakeClock, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    a = CheckpointSigner(store, key, clock, witness_file=tmp_path / "a.json")
    b = CheckpointSigner(store, key, clock, witness_file=tmp_path / "b.json")
    _append(audit, 1)
    first = a.sign(force=False)
    assert first is not None and b.sign(force=False) is None  # b sees a's checkpoint of the same head
    _append(audit, 1)
    second = b.sign(force=False)
    assert second is not None and second.previous == first.id
    with store.engine.connect() as conn:
        assert conn.execute(select(func.max(audit_checkpoints.c.n))).scalar() == 2


def test_listeners_get_each_checkpoint_and_cannot_break_signing(
    signer: CheckpointSigner, audit: AuditLog, caplog: pytest.LogCaptureFixture
) -> None:
    got: list[Checkpoint] = []

    def broken(_: Checkpoint) -> None:
        raise RuntimeError("outbox down")

    signer.listeners += [broken, got.append]
    _append(audit, 1)
    cp = signer.sign()
    assert got == [cp]
    assert "a listener failed" in caplog.text


def test_refuses_to_sign_over_a_chain_cut_back(signer: CheckpointSigner, audit: AuditLog, store: Store) -> None:
    _append(audit, 5)
    cp = signer.sign()
    assert cp is not None
    with store.engine.begin() as conn:  # cut the tail and move the head back, checkpoint rows gone too
        conn.execute(text("DELETE FROM audit_records WHERE seq > 2"))
        conn.execute(text("UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_records WHERE seq = 2)"))
        conn.execute(text("DELETE FROM audit_checkpoints"))
    with pytest.raises(AuditTampered, match=r"chain ends at record 2 but checkpoint \w+ signed 5 records"):
        signer.sign()
    assert _rows(store) == []


def test_refuses_to_sign_over_a_rewritten_record(signer: CheckpointSigner, audit: AuditLog, store: Store) -> None:
    _append(audit, 3)
    signer.sign()
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET hash = :h WHERE seq = 3"), {"h": "f" * 64})
    with pytest.raises(AuditTampered, match="record 3 no longer matches checkpoint"):
        signer.sign()


def test_the_witness_file_keeps_the_later_checkpoint(key: Ed25519PrivateKey, witness: Path, clock: FakeClock) -> None:
    kid = key_id(key.public_key())
    later = sign(Checkpoint(records=9, head="a" * 64, ts=clock.now(), key_id=kid), key)
    earlier = sign(Checkpoint(records=4, head="b" * 64, ts=clock.now() + timedelta(seconds=1), key_id=kid), key)
    assert witnessfile.write(witness, later)
    assert not witnessfile.write(witness, earlier)  # fewer records: not replaced
    assert witnessfile.read(witness) == later
    assert [p.name for p in witness.parent.iterdir()] == [witness.name]  # no temporary file left
    witness.write_text("{not json")
    with pytest.raises(witnessfile.WitnessFileError, match="not a checkpoint"):
        witnessfile.read(witness)
    assert witnessfile.write(witness, earlier)  # an unreadable witness is replaced
