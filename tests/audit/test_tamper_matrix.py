"""The tamper matrix (issue 12, item 5): every way to alter the log, each detected with its first bad record named.

The log: 30 records, a signed checkpoint every 10 (at 10, 20 and 30; the last in the local witness file).
Each case is checked against the store (SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, PostgreSQL) and
offline, on an export (``camgate audit export`` / ``camgate audit verify DIR [--witness DIR]``). The end
of the module reproduces issue 12's items 4, 5 and 6 as the tester did them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.audit import checkpoint_store
from broker.audit.checkpoints import Checkpoint, key_id, sign
from broker.audit.proof import ProofResult
from broker.clock import FakeClock
from broker.store import Store
from tests.audit import tamper
from tests.audit.tamper import Log


@pytest.fixture
def log(store: Store, clock: FakeClock, tmp_path: Path) -> Log:
    return tamper.build(store, clock, tmp_path)


def _bad(result: ProofResult, first_bad: int | None, *words: str) -> None:
    assert not result.ok, result
    assert result.first_bad == first_bad, result
    for word in words:
        assert word in (result.problem or ""), result


# -- each case, against the store ----------------------------------------------------------------------------


def _edited(log: Log) -> None:
    log.sql("UPDATE audit_records SET reason = 'allowed', allowed = true WHERE seq = 11")


def _deleted(log: Log) -> None:
    log.sql("DELETE FROM audit_records WHERE seq = 12")


def _inserted(log: Log) -> None:
    tamper.insert_at(log, 13)


def _reordered(log: Log) -> None:
    tamper.swap(log, 12, 13)


def _tail_cut(log: Log) -> None:
    log.sql("DELETE FROM audit_records WHERE seq > 25")


def _tail_cut_head_moved(log: Log) -> None:
    log.sql("DELETE FROM audit_records WHERE seq > 25")
    tamper.move_head(log, 25)


def _tail_cut_head_moved_checkpoints_gone(log: Log) -> None:
    _tail_cut_head_moved(log)
    log.sql("DELETE FROM audit_checkpoints WHERE records > 25")


def _emptied(log: Log) -> None:
    log.sql("DELETE FROM audit_records")
    log.sql("DELETE FROM audit_head")
    log.sql("DELETE FROM audit_checkpoints")


def _rewritten_and_resigned(log: Log) -> None:
    tamper.rewrite_from(log, 21, reason="allowed", allowed=True)  # hashes, links and head recomputed
    tamper.resign(log, Ed25519PrivateKey.generate(), after_records=20)


STORE_CASES: list[tuple[str, Callable[[Log], None], int, str]] = [
    ("edited", _edited, 11, "record 11 was modified"),
    ("deleted", _deleted, 12, "record 12 missing before record 13"),
    ("inserted", _inserted, 13, "record 13 was inserted"),
    ("reordered", _reordered, 12, "record 12 was modified or moved"),
    ("tail cut", _tail_cut, 26, "records 26-30 missing at the end"),
    ("tail cut, head moved", _tail_cut_head_moved, 26, "records 26-30 are missing"),
    ("tail cut, head moved, checkpoints gone", _tail_cut_head_moved_checkpoints_gone, 26, "from the local witness"),
    ("emptied", _emptied, 1, "records 1-30 are missing"),
    ("rewritten from 21 and re-signed", _rewritten_and_resigned, 21, "records after record 20"),
]


@pytest.mark.parametrize(("change", "first_bad", "says"), [c[1:] for c in STORE_CASES], ids=[c[0] for c in STORE_CASES])
def test_store(log: Log, change: Callable[[Log], None], first_bad: int, says: str) -> None:
    assert log.verifier().verify().ok
    change(log)
    _bad(log.verifier().verify(), first_bad, says)


def test_store_emptied_also_names_the_missing_head(log: Log) -> None:
    _emptied(log)
    result = log.verifier().verify()
    assert "the audit head row is missing" in result.problems


def test_store_rewrite_names_the_foreign_key(log: Log) -> None:
    _rewritten_and_resigned(log)
    result = log.verifier().verify()
    assert result.records == 20 and result.head == log.record(20).hash  # the intact prefix
    assert any("unknown key" in p for p in result.problems)  # the re-signed checkpoints


def _add_checkpoint(log: Log, cp: Checkpoint) -> None:
    with log.store.begin_write() as conn:
        last = checkpoint_store.latest(conn)
        assert last is not None
        checkpoint_store.insert(conn, last.n + 1, cp)


def forged_checkpoints(real: Checkpoint, at: datetime) -> list[tuple[Checkpoint, str]]:
    """After ``real``: one signed by a key nobody lists, one naming the real key with a signature it never made."""
    forger = Ed25519PrivateKey.generate()
    unknown = sign(Checkpoint(records=real.records, head=real.head, ts=at, key_id=key_id(forger.public_key()),
                              previous=real.id), forger)  # fmt: skip
    copied = Checkpoint(records=real.records, head=real.head, ts=at, key_id=real.key_id, previous=real.id,
                        signature=real.signature)  # fmt: skip
    return [(unknown, "unknown key"), (copied, "signature does not verify")]


def test_store_forged_checkpoint(log: Log) -> None:
    real = log.signer.sign()
    assert real is not None
    for forged, says in forged_checkpoints(real, log.clock.now()):
        _add_checkpoint(log, forged)
        result = log.verifier().verify()
        _bad(result, None, says)
        assert result.checkpoint == forged.id
        log.sql("DELETE FROM audit_checkpoints WHERE id = :id", id=forged.id)
    assert log.verifier().verify().ok


@pytest.mark.parametrize(
    ("column", "value", "field"), [("details", "'{not json'", "details"), ("ts", "'garbage'", "ts")]
)
def test_store_malformed_row(log: Log, database_url: str, column: str, value: str, field: str) -> None:
    if column == "ts" and not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL refuses a ts that is not a time")
    log.sql(f"UPDATE audit_records SET {column} = {value} WHERE seq = 7")
    _bad(log.verifier().verify(), 7, f"record 7 is malformed: {field}:")


# -- issue 12: the reproductions --------------------------------------------------------------------------------


def test_issue_4_cut_after_500_and_head_moved_is_caught(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    log = tamper.build(store, clock, tmp_path)
    log.append(480)  # 510 records
    log.signer.tick()  # housekeeping signs the head at the interval
    log.sql("DELETE FROM audit_records WHERE seq > 500")
    tamper.move_head(log, 500)
    _bad(log.verifier().verify(), 501, "records 501-510 are missing")


def test_issue_4_every_record_and_the_head_deleted_is_caught(log: Log) -> None:
    log.sql("DELETE FROM audit_records")
    log.sql("DELETE FROM audit_head")
    result = log.verifier().verify()
    assert result.to_dict()["ok"] is False and result.first_bad == 1


def test_issue_4_rewrite_including_the_head_is_caught(log: Log) -> None:
    tamper.rewrite_from(log, 5, reason="rewritten")
    _bad(log.verifier().verify(), 1, "records after record 0")  # the first checkpoint (10) is contradicted


def test_issue_5_cli_names_the_malformed_record_without_a_traceback(
    log: Log, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from broker.cli.main import main

    log.sql("UPDATE audit_records SET details = '{not json' WHERE seq = 1")
    monkeypatch.setenv("CAMGATE_MODE", "dev")
    monkeypatch.setenv("CAMGATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CAMGATE_STORE__URL", database_url)
    assert main(["audit", "verify"]) == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and err == ""
    assert out.splitlines()[:2] == [
        "TAMPERED: first bad record 1",
        "  record 1 is malformed: details: not JSON"
        " (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
    ]
    assert main(["audit", "verify", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["first_bad"] == 1 and result["problem"].startswith("record 1 is malformed: details:")


def test_issue_6_verify_in_an_empty_folder_creates_nothing_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from broker.cli.main import main

    for name in ("CAMGATE_DATA_DIR", "CAMGATE_STORE__URL", "CAMGATE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CAMGATE_MODE", "dev")
    monkeypatch.chdir(tmp_path)
    assert main(["audit", "verify"]) == 2
    err = capsys.readouterr().err
    assert f"no database at {tmp_path / '.camgate' / 'camgate.db'}: nothing was created" in err
    assert list(tmp_path.iterdir()) == []
