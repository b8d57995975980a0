"""Verifying the log in its store: chain, head, checkpoint rows, the local witness; malformed rows are named.

Runs on SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, on PostgreSQL. The tamper cases proper are in
``test_tamper_matrix.py``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from broker.audit import AuditLog
from broker.audit.checkpoints import public_key_text
from broker.audit.keys import KeyRing, parse_public_keys
from broker.audit.signer import CheckpointSigner
from broker.audit.verify_store import StoreVerifier, open_existing
from broker.clock import FakeClock
from broker.errors import ConfigError
from broker.store import Store


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def witness(tmp_path: Path) -> Path:
    return tmp_path / "signing.pem.checkpoint.json"


@pytest.fixture
def signer(store: Store, key: Ed25519PrivateKey, clock: FakeClock, witness: Path) -> CheckpointSigner:
    return CheckpointSigner(store, key, clock, witness_file=witness)


@pytest.fixture
def verifier(store: Store, key: Ed25519PrivateKey, witness: Path) -> StoreVerifier:
    return StoreVerifier(store, KeyRing(key, witness_file=witness))


def _append(audit: AuditLog, n: int) -> None:
    for i in range(n):
        audit.append("decision", camera=f"cam-{i}", allowed=i % 2 == 0, reason="no_mou", details={"i": i})


def _sql(store: Store, statement: str, **params: object) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), params)


def test_a_good_log_with_checkpoints_and_its_witness(
    audit: AuditLog, signer: CheckpointSigner, verifier: StoreVerifier
) -> None:
    assert verifier.verify().to_dict() | {"head": None, "notes": None} == {
        "ok": True,
        "records": 0,
        "head": None,
        "base_seq": 0,
        "checkpoints": 0,
        "witnessed": 0,
        "notes": None,
    }
    _append(audit, 4)
    signer.sign()
    _append(audit, 3)
    signer.sign()
    _append(audit, 2)  # after the last checkpoint: the chain and head still cover them
    result = verifier.verify()
    assert result.ok and (result.records, result.checkpoints, result.witnessed) == (9, 2, 1), result
    assert result.head == audit.record(9).hash  # type: ignore[union-attr]


def test_old_keys_verify_after_rotation(
    store: Store, audit: AuditLog, clock: FakeClock, key: Ed25519PrivateKey, witness: Path
) -> None:
    _append(audit, 2)
    CheckpointSigner(store, key, clock, witness_file=witness).sign()
    new = Ed25519PrivateKey.generate()
    _append(audit, 1)
    CheckpointSigner(store, new, clock, witness_file=witness).sign()
    rotated = KeyRing(new, parse_public_keys([public_key_text(key.public_key())]), witness)
    assert StoreVerifier(store, rotated).verify().ok
    forgot = StoreVerifier(store, KeyRing(new, witness_file=witness)).verify()  # old key not listed
    assert not forgot.ok and forgot.first_bad is None and "unknown key" in (forgot.problem or "")


def test_a_missing_local_witness_after_signing_is_said_plainly(
    store: Store, audit: AuditLog, key: Ed25519PrivateKey, signer: CheckpointSigner, tmp_path: Path
) -> None:
    """A key rotated as the guide says puts the local witness beside the new key, where there is none yet: the
    old note ("no checkpoint signed yet, or verify runs elsewhere") hid that a rollback was no longer checked."""
    moved = KeyRing(key, witness_file=tmp_path / "new-key.pem.checkpoint.json")
    assert any("no checkpoint signed yet" in n for n in StoreVerifier(store, moved).verify().notes)
    _append(audit, 2)
    signer.sign()
    (note,) = StoreVerifier(store, moved).verify().notes
    assert "though the log holds 1 signed checkpoints: a rollback of the store is not checked" in note


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("details", "{not json", "details"),
        ("details", "[1, 2]", "details"),
        ("principal_roles", '{"a": 1}', "principal_roles"),
    ],
)
def test_a_malformed_row_is_tampering_at_that_record(
    audit: AuditLog, store: Store, verifier: StoreVerifier, column: str, value: str, field: str
) -> None:
    _append(audit, 5)
    _sql(store, f"UPDATE audit_records SET {column} = :v WHERE seq = 3", v=value)
    result = verifier.verify()
    assert not result.ok and result.first_bad == 3 and result.records == 2
    assert result.problem is not None and result.problem.startswith(f"record 3 is malformed: {field}:")
    records, malformed, _ = audit.query_page(limit=10)
    assert [r.seq for r in records] == [1, 2, 4, 5]
    assert [(m.seq, m.field) for m in malformed] == [(3, field)]


def test_sqlite_columns_of_the_wrong_type_are_named(tmp_path: Path, clock: FakeClock) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'camgate.db'}")  # SQLite keeps whatever it is given
    store.create_all()
    audit = AuditLog(store, clock)
    verifier = StoreVerifier(store, KeyRing(None))
    _append(audit, 6)
    cases = [("ts", "'garbage'"), ("allowed", "'yes'"), ("camera", "X'0102'")]  # a blob
    for seq, (column, value) in enumerate(cases, start=2):
        _sql(store, f"UPDATE audit_records SET {column} = {value} WHERE seq = {seq}")
        result = verifier.verify()
        assert (result.ok, result.first_bad) == (False, 2), (column, result)
        assert result.problem is not None and result.problem.startswith("record 2 is malformed: ts:")
    _, malformed, _ = audit.query_page(limit=10)
    assert [(m.seq, m.field) for m in malformed] == [(2, "ts"), (3, "allowed"), (4, "camera")]
    store.dispose()


def test_a_checkpoint_row_edited_is_named(
    audit: AuditLog, store: Store, signer: CheckpointSigner, verifier: StoreVerifier
) -> None:
    _append(audit, 3)
    cp = signer.sign()
    assert cp is not None
    _sql(store, "UPDATE audit_checkpoints SET records = 2")  # the column, not the signed body
    result = verifier.verify()
    assert not result.ok and result.checkpoint == cp.id and "column records does not match" in (result.problem or "")
    forged = replace(cp, records=2, head=audit.record(2).hash)  # type: ignore[union-attr]  # signature kept
    _sql(
        store,
        "UPDATE audit_checkpoints SET records = 2, head = :h, id = :id, body = :b",
        h=forged.head,
        id=forged.id,
        b=forged.signed_bytes().decode(),
    )
    result = verifier.verify()
    assert not result.ok and result.checkpoint == forged.id and result.first_bad is None
    assert "signature does not verify" in (result.problem or "")


def test_open_existing_creates_nothing(tmp_path: Path, database_url: str) -> None:
    missing = tmp_path / "nowhere" / "camgate.db"
    with pytest.raises(ConfigError, match=f"no database at {missing}: nothing was created"):
        open_existing(f"sqlite:///{missing}", None)
    assert not (tmp_path / "nowhere").exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(ConfigError, match=r"no audit log in sqlite:.*empty\.db"):
        open_existing(f"sqlite:///{empty}", None)
    if database_url.startswith("postgresql"):
        with pytest.raises(ConfigError, match="no schema 'camgate_not_there'"):
            open_existing(database_url, "camgate_not_there")
        with pytest.raises(ConfigError, match="no audit log in postgresql"):
            open_existing(database_url, None)  # the test's schema, still empty
        store = Store.open(database_url)
        with store.engine.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = 'camgate_not_there'")).first()
        store.dispose()
        assert found is None


def test_a_store_from_before_checkpoints_verifies_with_a_note(
    audit: AuditLog, store: Store, verifier: StoreVerifier
) -> None:
    _append(audit, 2)
    _sql(store, "DROP TABLE audit_checkpoints")
    result = verifier.verify()
    assert result.ok and result.records == 2
    assert any("no audit_checkpoints table" in note for note in result.notes)
