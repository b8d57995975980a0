"""Retention through signed prune checkpoints: the base moves, the prune is audited, verify starts from the base.

Runs on SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from broker.audit import checkpoint_store
from broker.audit.export import export
from broker.audit.keys import KeyRing, pem
from broker.audit.offline import verify_export
from broker.audit.retention import Retention
from broker.cli.main import main
from broker.clock import FakeClock
from broker.errors import AuditTampered
from broker.store import Store
from tests.audit import tamper
from tests.audit.tamper import Log

OLD = 30  # records from the build, more than a year before the new ones


@pytest.fixture
def log(store: Store, clock: FakeClock, tmp_path: Path) -> Log:
    built = tamper.build(store, clock, tmp_path)  # 30 records, checkpoints at 10, 20, 30
    clock.advance(timedelta(days=400))
    built.append(5)  # 31-35, this year
    built.signer.sign()
    return built


def _retention(log: Log, days: int | None = 365) -> Retention:
    return Retention(log.store, log.audit, log.signer, log.verifier(), log.clock, days)


def _seqs(log: Log) -> list[int]:
    with log.store.engine.connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT seq FROM audit_records ORDER BY seq"))]


def test_prune_moves_the_base_through_a_signed_prune_and_is_audited(log: Log, tmp_path: Path) -> None:
    retention = _retention(log)
    assert retention.prune(dry_run=True) == retention.prune(dry_run=True)  # nothing changes
    assert _seqs(log)[0] == 1
    outcome = retention.prune()
    assert outcome is not None and (outcome.base_seq, outcome.deleted) == (OLD, OLD)
    cp = outcome.checkpoint
    assert cp is not None and cp.kind == "prune" and (cp.base_seq, cp.base_hash) == (OLD, outcome.base_hash)
    assert _seqs(log) == list(range(OLD + 1, 37))  # 31-35 and the prune's own record
    prune_record = log.record(36)
    assert prune_record.kind == "audit.prune" and prune_record.details["base_seq"] == OLD
    assert prune_record.details["retention_days"] == 365 and cp.records == 36
    result = log.verifier().verify()
    assert result.ok and (result.base_seq, result.records) == (OLD, 36), result
    out = tmp_path / "export"
    export(log.store, KeyRing(log.key), out, start=None, end=None, now=log.clock.now())
    first = json.loads((out / "records.jsonl").read_bytes().splitlines()[0])
    assert first["seq"] == OLD + 1 and first["prev_hash"] == cp.base_hash
    offline = verify_export(out)
    assert offline.ok and offline.base_seq == OLD, offline
    again = retention.prune()
    assert again is not None and (again.checkpoint, again.deleted) == (None, 0)  # nothing more is due


def test_verify_after_a_prune_still_names_the_first_bad_record(log: Log, tmp_path: Path) -> None:
    _retention(log).prune()
    log.sql("UPDATE audit_records SET reason = 'edited' WHERE seq = 33")
    result = log.verifier().verify()
    assert (result.ok, result.first_bad) == (False, 33)
    out = tmp_path / "export"
    export(log.store, KeyRing(log.key), out, start=None, end=None, now=log.clock.now())
    assert verify_export(out).first_bad == 33
    log.sql("DELETE FROM audit_records WHERE seq = 31")  # the first after the base
    assert log.verifier().verify().first_bad == 31


def test_a_log_that_does_not_verify_is_never_pruned(log: Log) -> None:
    log.sql("UPDATE audit_records SET reason = 'edited' WHERE seq = 5")
    with pytest.raises(AuditTampered, match=r"refusing to prune: .*first bad record 5.*nothing is deleted"):
        _retention(log).prune()
    assert _seqs(log) == list(range(1, 36))


def test_a_forged_prune_cannot_make_the_broker_delete(log: Log) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from broker.audit import checkpoint_store
    from broker.audit.checkpoints import Checkpoint, key_id, sign

    forger = Ed25519PrivateKey.generate()
    with log.store.begin_write() as conn:
        last = checkpoint_store.latest(conn)
        assert last is not None and last.checkpoint is not None
        fake = Checkpoint(
            records=35,
            head=last.checkpoint.head,
            ts=log.clock.now(),
            key_id=key_id(forger.public_key()),
            previous=last.id,
            base_seq=33,
            base_hash=log.record(33).hash,
            kind="prune",
        )
        checkpoint_store.insert(conn, last.n + 1, sign(fake, forger))
    with pytest.raises(AuditTampered, match="unknown key"):
        _retention(log).prune()
    assert _seqs(log) == list(range(1, 36))


def test_a_prune_cut_short_resumes(log: Log) -> None:
    base_hash = log.record(OLD).hash
    log.signer.sign(kind="prune", base=(OLD, base_hash))  # signed, then the broker died before deleting
    assert log.verifier().verify().ok  # verify starts at the base: the leftovers are not read
    outcome = _retention(log).prune()
    assert outcome is not None and outcome.deleted == OLD and outcome.checkpoint is None
    assert _seqs(log)[0] == OLD + 1


def test_housekeeping_prunes_once_a_day_in_its_own_thread(log: Log) -> None:
    retention = _retention(log)
    thread = retention.tick()
    assert thread is not None
    thread.join(timeout=30)
    assert _seqs(log)[0] == OLD + 1
    assert retention.tick() is None  # not due again today
    log.clock.advance(timedelta(days=1))
    second = retention.tick()
    assert second is not None
    second.join(timeout=30)
    assert _retention(log, None).tick() is None  # no retention: never


def test_cli_prune(
    store: Store,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = tamper.build(store, FakeClock(datetime(2020, 1, 6, 9, 0, tzinfo=UTC)), tmp_path)  # years before now
    data = tmp_path / "data"
    data.mkdir()
    (data / "audit-signing-key.pem").write_bytes(pem(old.key))
    old.witness.rename(data / "audit-signing-key.pem.checkpoint.json")
    monkeypatch.setenv("CAMGATE_MODE", "dev")
    monkeypatch.setenv("CAMGATE_DATA_DIR", str(data))
    monkeypatch.setenv("CAMGATE_STORE__URL", database_url)
    assert main(["audit", "prune"]) == 2
    assert "audit.retention_days is not set" in capsys.readouterr().err
    monkeypatch.setenv("CAMGATE_AUDIT__RETENTION_DAYS", "365")
    assert main(["audit", "prune", "--dry-run"]) == 0
    planned = json.loads(capsys.readouterr().out)
    assert (planned["dry_run"], planned["base_seq"], planned["deleted"]) == (True, 30, 0)
    assert _seqs(old)[0] == 1
    assert main(["audit", "prune"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert (done["base_seq"], done["deleted"], done["checkpoint"]["kind"]) == (30, 30, "prune")
    assert _seqs(old) == [31] and old.record(31).principal_sub == "camgate:audit-prune"
    assert main(["audit", "verify"]) == 0
    assert "from the prune base at record 30" in capsys.readouterr().out


def _prune_with_the_key(log: Log, base_seq: int) -> None:
    """Someone holding the signing key deletes records as if retention had: a signed prune, then the delete."""
    base_hash = log.record(base_seq).hash
    log.signer.sign(kind="prune", base=(base_seq, base_hash))
    log.sql("DELETE FROM audit_records WHERE seq <= :s", s=base_seq)


def test_a_prune_of_records_younger_than_a_year_is_tampering(log: Log, tmp_path: Path) -> None:
    """Was: a prune signed with the broker's key could delete the last minutes of the log, and the store verify,
    the offline verify and the witnesses all said ok (the base simply moved)."""
    witness = tmp_path / "witness"
    witness.mkdir()
    with log.store.engine.connect() as conn:  # what a witness kept: every checkpoint so far
        for row in checkpoint_store.read_all(conn):
            assert row.checkpoint is not None
            (witness / f"{row.id}.json").write_text(json.dumps(row.checkpoint.to_dict()))
    log.append(2)  # 36, 37
    _prune_with_the_key(log, 36)  # the checkpoint of record 35 was signed seconds before 36 was written
    result = log.verifier().verify()
    assert not result.ok and result.first_bad == 1 and result.base_seq == 0, result  # the base did not move
    assert any("deleted records up to 36" in p and "less than a year before the prune" in p for p in result.problems)
    out = tmp_path / "export"
    export(log.store, KeyRing(log.key), out, start=None, end=None, now=log.clock.now())
    offline = verify_export(out, witness_dir=witness)
    assert not offline.ok and "records were deleted as if pruned" in (offline.problem or ""), offline


def test_a_prune_a_year_after_the_last_checkpoint_before_its_base_is_retention(log: Log) -> None:
    retention = _retention(log)
    assert retention.prune() is not None
    result = log.verifier().verify()  # checkpoints at 10, 20, 30 were signed 400 days before
    assert result.ok and result.base_seq == OLD, result
