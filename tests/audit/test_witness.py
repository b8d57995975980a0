"""A witness's directory: checkpoints kept exactly, a new one checked against those held (RFC 9162 consistency
applied to a hash chain), a rollback, fork or branch kept but flagged, a late delivery not mistaken for one."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.audit.checkpoints import Checkpoint, CheckpointError, key_id, public_key_text, sign
from broker.audit.witness import LOG, WitnessDir

T0 = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()


def head(n: int, fork: str = "") -> str:
    return hashlib.sha256(f"record {n}{fork}".encode()).hexdigest()


def checkpoint(
    records: int, previous: Checkpoint | None, *, fork: str = "", key: Ed25519PrivateKey = KEY, base_seq: int = 0
) -> Checkpoint:
    unsigned = Checkpoint(
        records=records,
        head=head(records, fork),
        ts=T0 + timedelta(minutes=records),
        key_id=key_id(key.public_key()),
        previous=previous.id if previous else None,
        base_seq=base_seq,
        base_hash=head(base_seq) if base_seq else "0" * 64,
    )
    return sign(unsigned, key)


def codes(witness: WitnessDir, cp: Checkpoint) -> set[str]:
    return {f.code for f in witness.receive(cp, T0).flags}


def test_a_growing_chain_is_kept_exactly_and_reports_clean(tmp_path: Path) -> None:
    witness = WitnessDir(tmp_path)
    one = checkpoint(10, None)
    two = checkpoint(25, one)
    receipt = witness.receive(one, T0, public_key_text(KEY.public_key()))
    assert receipt.stored == f"10-{one.id}.json" and receipt.flags == [] and receipt.signature_checked
    assert witness.receive(two, T0).signature_checked  # with the key kept from the first delivery
    assert json.loads((tmp_path / f"25-{two.id}.json").read_text()) == two.to_dict()
    assert witness.receive(two, T0).stored is None  # a redelivery: already held
    assert [json.loads(line)["id"] for line in (tmp_path / LOG).read_text().splitlines()] == [one.id, two.id]
    again = WitnessDir(tmp_path)  # what a restarted receiver, or `check`, sees
    report = again.report()
    assert report["ok"] and report["checkpoints"] == 2 and report["latest"]["records"] == 25
    assert report["latest"]["head"] == two.head and report["keys"] == [two.key_id]


def test_a_rollback_a_fork_and_a_new_chain_are_kept_and_flagged(tmp_path: Path) -> None:
    witness = WitnessDir(tmp_path)
    one = checkpoint(10, None)
    two = checkpoint(25, one)
    witness.receive(one, T0)
    witness.receive(two, T0)
    rolled_back = checkpoint(12, one, fork="restored backup")  # the log cut back to an old backup, re-signed
    assert codes(witness, rolled_back) == {"rollback", "branch"}
    assert codes(witness, checkpoint(25, two, fork="rewritten")) == {"fork"}
    other = Ed25519PrivateKey.generate()
    assert codes(witness, checkpoint(40, None, key=other)) == {"new_chain"}  # rewritten and re-signed by another key
    report = WitnessDir(tmp_path).report()
    assert not report["ok"] and (tmp_path / f"12-{rolled_back.id}.json").exists()
    flagged = {(f["records"], f["code"]) for f in report["flags"]}
    assert {(12, "rollback"), (12, "branch"), (25, "fork"), (40, "new_chain")} <= flagged


def test_a_late_delivery_is_not_a_rollback_and_fills_the_gap(tmp_path: Path) -> None:
    witness = WitnessDir(tmp_path)
    one = checkpoint(10, None)
    two = checkpoint(25, one)
    three = checkpoint(30, two)
    witness.receive(one, T0)
    assert codes(witness, three) == {"unlinked"}  # two's delivery is being retried
    assert codes(witness, two) == set()  # three names it as its previous: consistent
    assert WitnessDir(tmp_path).report()["ok"]


def test_the_base_moving_back_is_flagged(tmp_path: Path) -> None:
    witness = WitnessDir(tmp_path)
    pruned = checkpoint(100, None, base_seq=50)
    witness.receive(pruned, T0)
    assert "base_back" in codes(witness, checkpoint(120, pruned, base_seq=0))


def test_a_signature_that_does_not_verify_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    witness = WitnessDir(tmp_path)
    cp = checkpoint(10, None)
    forged = Checkpoint(**{**cp.__dict__, "signature": checkpoint(11, None).signature})
    with pytest.raises(CheckpointError, match=r"^data\.signature: "):
        witness.receive(forged, T0, public_key_text(KEY.public_key()))
    with pytest.raises(CheckpointError, match=r"^data\.public_key: is not key "):
        witness.receive(cp, T0, public_key_text(Ed25519PrivateKey.generate().public_key()))
    assert not list(tmp_path.glob("*.json")) and not (tmp_path / LOG).exists()


def test_an_unreadable_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / f"7-{'a' * 64}.json").write_text("{not json")
    report = WitnessDir(tmp_path).report()
    assert not report["ok"] and [f["code"] for f in report["flags"]] == ["unreadable"]
