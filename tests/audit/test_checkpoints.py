"""Signed checkpoints (pure): body, signature, parsing of what is exported or received."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.audit.chain import GENESIS
from broker.audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    key_id,
    public_key_from_text,
    public_key_text,
    sign,
    verify_signature,
)

T0 = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)


def _signed(key: Ed25519PrivateKey, records: int = 5, head: str = "a" * 64) -> Checkpoint:
    return sign(Checkpoint(records=records, head=head, ts=T0, key_id=key_id(key.public_key())), key)


def test_round_trip_and_verify() -> None:
    key = Ed25519PrivateKey.generate()
    cp = _signed(key)
    again = Checkpoint.from_dict(cp.to_dict())
    assert again == cp and again.id == cp.id
    verify_signature(again, {cp.key_id: public_key_from_text(public_key_text(key.public_key()))})


def test_changed_field_breaks_signature() -> None:
    key = Ed25519PrivateKey.generate()
    body = _signed(key).to_dict()
    body["records"] = 4
    del body["id"]
    with pytest.raises(CheckpointError, match="signature does not verify"):
        verify_signature(Checkpoint.from_dict(body), {key_id(key.public_key()): key.public_key()})


def test_other_key_is_unknown() -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    with pytest.raises(CheckpointError, match="unknown key"):
        verify_signature(_signed(key), {key_id(other.public_key()): other.public_key()})


def test_forged_with_other_key_claiming_id() -> None:
    key, forger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    real = _signed(key)
    forged = Checkpoint(**{**real.__dict__, "signature": forger.sign(real.signed_bytes()).hex()})
    with pytest.raises(CheckpointError, match="signature does not verify"):
        verify_signature(forged, {real.key_id: key.public_key()})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"v": 2}, "v"),
        ({"kind": "other"}, "kind"),
        ({"records": -1}, "records"),
        ({"records": True}, "records"),
        ({"head": "xyz"}, "head"),
        ({"previous": "nothex"}, "previous"),
        ({"ts": "yesterday"}, "ts"),
        ({"signature": ""}, "signature"),
        ({"key_id": ""}, "key_id"),
        ({"key_id": "../../../../tmp/x"}, "key_id"),
        ({"key_id": "ABCDEF0123456789"}, "key_id"),
        ({"base_seq": 9}, "base_seq"),
        ({"id": GENESIS}, "id"),
    ],
)
def test_malformed_names_the_field(change: dict[str, object], field: str) -> None:
    body = _signed(Ed25519PrivateKey.generate()).to_dict() | change
    with pytest.raises(CheckpointError, match=f"^{field}:"):
        Checkpoint.from_dict(body)


def test_not_an_object() -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.from_dict([1, 2])
