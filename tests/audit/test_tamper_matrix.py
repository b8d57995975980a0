"""The tamper matrix (issue 12, item 5): every way to alter the log, each detected with its first bad record named.

The log: 30 records, a signed checkpoint every 10 (at 10, 20 and 30; the last in the local witness file).
Each case is checked against the store (SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, PostgreSQL) and
offline, on an export (``camgate audit export`` / ``camgate audit verify DIR [--witness DIR]``). The end
of the module reproduces issue 12's items 4, 5 and 6 as the tester did them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.audit import checkpoint_store
from broker.audit.chain import canonical, record_hash
from broker.audit.checkpoints import Checkpoint, key_id, public_key_text, sign
from broker.audit.export import export, line, parse_bound
from broker.audit.keys import KeyRing
from broker.audit.offline import verify_export
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


def _rewritten_and_resigned_with_the_leaked_key(log: Log) -> None:
    """Someone holding the broker's own key (stolen, or an insider) rewrites from record 15 and signs the
    checkpoints after it again; the local witness file, on another host, still holds the real record 30."""
    tamper.rewrite_from(log, 15, reason="allowed", allowed=True)
    tamper.resign(log, log.key, after_records=10)


def test_store_rewrite_resigned_with_the_leaked_key_vouches_only_for_witnessed_records(log: Log) -> None:
    _rewritten_and_resigned_with_the_leaked_key(log)
    result = log.verifier().verify()
    # the log's checkpoints 10, 20 and 30 all agree with the forged records: none of them can vouch; only the
    # local witness (record 30) disagrees, so nothing after the base is vouched for (was: "records up to 30
    # form a good chain", first_bad 31, with record 15 forged)
    _bad(result, 1, "record 30 does not match", "from the local witness", "signed again")
    assert result.records == 0


def test_offline_rewrite_resigned_with_the_leaked_key_is_named_from_the_witness(log: Log, tmp_path: Path) -> None:
    witness = _witness_dir(log, tmp_path / "witness")
    _rewritten_and_resigned_with_the_leaked_key(log)
    result = verify_export(_export(log, tmp_path / "after"), witness_dir=witness)
    _bad(result, 11, "record 20 does not match", "records after record 10")  # the witness's 10 still holds
    assert result.records == 10


@pytest.mark.parametrize("change", ["DELETE FROM audit_checkpoints", "DROP TABLE audit_checkpoints"])
def test_store_checkpoint_rows_deleted_while_the_local_witness_holds_one(log: Log, change: str) -> None:
    """Was ok (with only a note "a store from before signed checkpoints" for the dropped table): the rows that
    let a later verify catch a rewrite were gone, and nothing said so."""
    log.sql(change)
    result = log.verifier().verify()
    _bad(result, None, "the local witness holds checkpoint", "checkpoint rows were deleted")
    assert result.checkpoint is not None


def _add_checkpoint(log: Log, cp: Checkpoint) -> None:
    with log.store.begin_write() as conn:
        last = checkpoint_store.latest(conn)
        assert last is not None
        checkpoint_store.insert(conn, last.n + 1, cp)


def forged_checkpoints(real: Checkpoint, at: datetime) -> list[tuple[Checkpoint, str]]:
    """After ``real``: one signed by a key nobody lists, one naming the real key with a signature it never made."""
    forger = Ed25519PrivateKey.generate()
    unknown = sign(
        Checkpoint(records=real.records, head=real.head, ts=at, key_id=key_id(forger.public_key()), previous=real.id),
        forger,
    )
    copied = Checkpoint(
        records=real.records, head=real.head, ts=at, key_id=real.key_id, previous=real.id, signature=real.signature
    )
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


# -- each case, offline: the tampered store exported, verified with a witness's checkpoints --------------------


def _witness_dir(log: Log, directory: Path) -> Path:
    """What a witness kept: every checkpoint signed so far, one file each (as ``camgate audit witness`` writes)."""
    directory.mkdir()
    with log.store.engine.connect() as conn:
        for row in checkpoint_store.read_all(conn):
            assert row.checkpoint is not None
            (directory / f"{row.n:08d}-{row.id[:12]}.json").write_text(json.dumps(row.checkpoint.to_dict()))
    return directory


def _export(log: Log, directory: Path) -> Path:
    export(log.store, KeyRing(log.key), directory, start=None, end=None, now=log.clock.now())
    return directory


@pytest.mark.parametrize(("change", "first_bad", "says"), [c[1:] for c in STORE_CASES], ids=[c[0] for c in STORE_CASES])
def test_offline_export_of_the_tampered_store(
    log: Log, tmp_path: Path, change: Callable[[Log], None], first_bad: int, says: str
) -> None:
    witness = _witness_dir(log, tmp_path / "witness")
    assert verify_export(_export(log, tmp_path / "before"), witness_dir=witness).ok
    change(log)
    result = verify_export(_export(log, tmp_path / "after"), witness_dir=witness)
    _bad(result, first_bad, says.replace("from the local witness", "from witness file"))


def test_offline_malformed_store_row(log: Log, tmp_path: Path) -> None:
    log.sql("UPDATE audit_records SET details = '{not json' WHERE seq = 7")
    _bad(verify_export(_export(log, tmp_path / "x")), 7, "record 7 is malformed: details: not JSON")


# -- each case, offline: the export's files altered ------------------------------------------------------------


@pytest.fixture
def exported(log: Log, tmp_path: Path) -> tuple[Path, Path]:
    """(an export of the intact log, a witness directory with its checkpoints)."""
    out = _export(log, tmp_path / "export")
    assert verify_export(out).ok
    return out, _witness_dir(log, tmp_path / "witness")


def _lines(out: Path, name: str = "records.jsonl") -> list[bytes]:
    return (out / name).read_bytes().splitlines(keepends=True)


def _put(out: Path, lines: list[bytes], name: str = "records.jsonl") -> None:
    (out / name).write_bytes(b"".join(lines))


def _as_line(data: dict[str, object], hash_: str) -> bytes:
    body = dict(data)
    body.pop("hash", None)
    return line(canonical(body), hash_)


def _manifest(out: Path, **changes: object) -> None:
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps(manifest | changes))


def _record(out: Path, seq: int) -> dict[str, object]:
    return json.loads(_lines(out)[seq - 1])  # type: ignore[no-any-return]


def _f_edited(out: Path) -> None:
    lines = _lines(out)
    lines[10] = lines[10].replace(b'"reason":"no_mou"', b'"reason":"allowed"')
    _put(out, lines)


def _f_deleted(out: Path) -> None:
    lines = _lines(out)
    del lines[11]
    _put(out, lines)


def _f_inserted(out: Path) -> None:
    lines = _lines(out)
    made = _record(out, 12) | {"seq": 13, "prev_hash": _record(out, 12)["hash"], "reason": "made up"}
    made_line = _as_line(made, record_hash({k: v for k, v in made.items() if k != "hash"}))
    moved = [_as_line(json.loads(x) | {"seq": json.loads(x)["seq"] + 1}, json.loads(x)["hash"]) for x in lines[12:]]
    _put(out, [*lines[:12], made_line, *moved])


def _f_reordered(out: Path) -> None:
    lines = _lines(out)
    a, b = json.loads(lines[11]), json.loads(lines[12])
    lines[11], lines[12] = _as_line(b | {"seq": 12}, b["hash"]), _as_line(a | {"seq": 13}, a["hash"])
    _put(out, lines)


def _f_tail_cut(out: Path) -> None:
    _put(out, _lines(out)[:25])


def _f_tail_cut_head_moved(out: Path) -> None:
    _f_tail_cut(out)
    last = _record(out, 25)
    _manifest(out, last_seq=25, last_hash=last["hash"], head={"seq": 25, "hash": last["hash"]})


def _f_tail_cut_head_moved_checkpoints_gone(out: Path) -> None:
    _f_tail_cut_head_moved(out)
    _put(out, [x for x in _lines(out, "checkpoints.jsonl") if json.loads(x)["records"] <= 25], "checkpoints.jsonl")


def _f_emptied(out: Path) -> None:
    _put(out, [])
    _put(out, [], "checkpoints.jsonl")
    _manifest(out, first_seq=None, last_seq=None, last_hash=None, records=0, head=None, checkpoints=0)


def _f_rewritten_and_resigned(out: Path) -> None:
    lines, prev = _lines(out), _record(out, 20)["hash"]
    for i in range(20, 30):
        rec = json.loads(lines[i]) | {"prev_hash": prev}
        if i == 20:
            rec["reason"] = "rewritten"
        prev = record_hash({k: v for k, v in rec.items() if k != "hash"})
        lines[i] = _as_line(rec, prev)  # type: ignore[arg-type]
    _put(out, lines)
    other = Ed25519PrivateKey.generate()
    kept = [x for x in _lines(out, "checkpoints.jsonl") if json.loads(x)["records"] <= 20]
    resigned = sign(
        Checkpoint(
            records=30,
            head=str(prev),
            ts=datetime.now(UTC),
            key_id=key_id(other.public_key()),
            previous=json.loads(kept[-1])["id"],
        ),
        other,
    )
    _put(out, [*kept, json.dumps(resigned.to_dict()).encode() + b"\n"], "checkpoints.jsonl")
    keys = json.loads((out / "keys.json").read_text())
    keys["keys"].append({"key_id": resigned.key_id, "public_key": public_key_text(other.public_key()), "current": True})
    (out / "keys.json").write_text(json.dumps(keys))
    _manifest(out, last_hash=prev, head={"seq": 30, "hash": prev})


FILE_CASES: list[tuple[str, Callable[[Path], None], int, str]] = [
    ("edited", _f_edited, 11, "record 11 was modified"),
    ("deleted", _f_deleted, 12, "record 12 missing before record 13"),
    ("inserted", _f_inserted, 13, "record 13 was inserted"),
    ("reordered", _f_reordered, 12, "record 12 was modified or moved"),
    ("tail cut", _f_tail_cut, 26, "records 26-30 missing at the end"),
    ("tail cut, head moved", _f_tail_cut_head_moved, 26, "records 26-30 are missing"),
    ("tail cut, head moved, checkpoints gone", _f_tail_cut_head_moved_checkpoints_gone, 26, "from witness file"),
    ("emptied", _f_emptied, 1, "records 1-30 are missing"),
    ("rewritten from 21 and re-signed", _f_rewritten_and_resigned, 21, "records after record 20"),
]


@pytest.mark.parametrize(("change", "first_bad", "says"), [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_offline_export_altered(
    exported: tuple[Path, Path], change: Callable[[Path], None], first_bad: int, says: str
) -> None:
    out, witness = exported
    change(out)
    _bad(verify_export(out, witness_dir=witness), first_bad, says)


def test_offline_rewrite_with_the_export_alone_and_pinned_keys(
    log: Log, exported: tuple[Path, Path], tmp_path: Path
) -> None:
    out, _ = exported
    pinned = tmp_path / "keys-from-the-mou.json"
    pinned.write_text((out / "keys.json").read_text())  # obtained apart, before the export
    _f_rewritten_and_resigned(out)
    assert verify_export(out).ok  # the export vouches for itself: its own keys sign its own checkpoints
    result = verify_export(out, keys_file=pinned)
    assert not result.ok and "unknown key" in (result.problem or "")


def test_offline_the_last_checkpoint_left_out_of_the_export(exported: tuple[Path, Path]) -> None:
    """Was ok: the links of the ones left still hold, and the witness's copy of it is held by the records."""
    out, witness = exported
    _put(out, _lines(out, "checkpoints.jsonl")[:-1], "checkpoints.jsonl")
    assert verify_export(out).ok  # alone, an export cannot tell
    _bad(
        verify_export(out, witness_dir=witness), None, "which the export's checkpoints do not: checkpoints were removed"
    )


def test_offline_forged_checkpoint(log: Log, exported: tuple[Path, Path]) -> None:
    out, witness = exported
    real = Checkpoint.from_dict(json.loads(_lines(out, "checkpoints.jsonl")[-1]))
    for forged, says in forged_checkpoints(real, log.clock.now()):
        original = _lines(out, "checkpoints.jsonl")
        _put(out, [*original, json.dumps(forged.to_dict()).encode() + b"\n"], "checkpoints.jsonl")
        result = verify_export(out, witness_dir=witness)
        _bad(result, None, says)
        assert result.checkpoint == forged.id
        _put(out, original, "checkpoints.jsonl")
    (witness / "forged.json").write_text(json.dumps(forged_checkpoints(real, log.clock.now())[0][0].to_dict()))
    _bad(verify_export(out, witness_dir=witness), None, "witness file forged.json", "unknown key")


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda x: x[:40], "record 7's line is not JSON"),
        (lambda x: x.replace(b'"details":{', b'"details":[1],"x":{'), "record 7 is malformed: x: unexpected field"),
        (lambda x: x.replace(b'"ts":"2026-', b'"ts":"garbage-'), "record 7 is malformed: ts: not an RFC 3339"),
        (
            lambda x: x.replace(b'"principal_roles":["officer"]', b'"principal_roles":"officer"'),
            "record 7 is malformed: principal_roles: not a list",
        ),
    ],
)
def test_offline_malformed_line(exported: tuple[Path, Path], edit: Callable[[bytes], bytes], says: str) -> None:
    out, witness = exported
    lines = _lines(out)
    lines[6] = edit(lines[6].rstrip(b"\n")) + b"\n"
    _put(out, lines)
    _bad(verify_export(out, witness_dir=witness), 7, says)


def test_offline_witness_beyond_the_export(log: Log, tmp_path: Path) -> None:
    early = _export(log, tmp_path / "early")
    log.append(5)
    log.clock.advance(60)
    log.signer.sign()  # the witness gets a checkpoint the early export cannot hold
    witness = _witness_dir(log, tmp_path / "witness")
    result = verify_export(early, witness_dir=witness)
    assert result.ok and any("signed after the export was made" in n for n in result.notes)
    partial = tmp_path / "partial"
    export(log.store, KeyRing(log.key), partial, start=None, end=20, now=log.clock.now())
    result = verify_export(partial, witness_dir=witness)
    assert result.ok and any("beyond the export's range" in n for n in result.notes), result
    _manifest(early, exported_at="2027-01-01T00:00:00Z")  # claims to be later than the witness's checkpoint
    _bad(verify_export(early, witness_dir=witness), 31, "records 31-35 are missing")


def test_offline_part_of_the_log(log: Log, tmp_path: Path) -> None:
    out = tmp_path / "part"
    export(log.store, KeyRing(log.key), out, start=11, end=25, now=log.clock.now())
    assert [json.loads(x)["seq"] for x in _lines(out)] == list(range(11, 26))
    assert [json.loads(x)["records"] for x in _lines(out, "checkpoints.jsonl")] == [10, 20]
    witness = _witness_dir(log, tmp_path / "witness")
    result = verify_export(out, witness_dir=witness)
    assert result.ok and (result.checkpoints, result.witnessed) == (2, 2), result
    lines = _lines(out)
    lines[0] = lines[0].replace(b'"prev_hash":"', b'"prev_hash":"0', 1)  # a wrong link to the record before
    _put(out, lines)
    assert verify_export(out, witness_dir=witness).first_bad == 11


def test_offline_by_time(log: Log, tmp_path: Path) -> None:
    out = tmp_path / "t"
    t11 = _record(_export(log, tmp_path / "all"), 11)["ts"]
    t21 = _record(tmp_path / "all", 21)["ts"]
    export(
        log.store,
        KeyRing(log.key),
        out,
        start=parse_bound(str(t11), "from"),
        end=parse_bound(str(t21), "to"),
        now=log.clock.now(),
    )
    assert [json.loads(x)["seq"] for x in _lines(out)] == list(range(11, 21))
    assert verify_export(out).ok


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


def test_offline_export_of_sqlite_rows_of_the_wrong_type(log: Log, database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's column types hold")
    log.sql("UPDATE audit_records SET camera = X'0102' WHERE seq = 4")
    log.sql("UPDATE audit_records SET allowed = 'yes' WHERE seq = 9")
    result = verify_export(_export(log, tmp_path / "x"))
    _bad(result, 4, "record 4 is malformed: camera: not text")
    assert any(p.startswith("record 4") for p in result.problems)
    lines = _lines(tmp_path / "x")
    assert json.loads(lines[8])["malformed"]["field"] == "allowed"


def _without_keys(log: Log) -> None:
    """The audit_records table re-created without its key and column types, as someone with write access can."""
    log.sql("CREATE TABLE loose AS SELECT * FROM audit_records")
    log.sql("DROP TABLE audit_records")
    log.sql("ALTER TABLE loose RENAME TO audit_records")


_COPY_30 = (
    "SELECT 'abc', ts, kind, principal_sub, principal_agency, principal_roles, camera, action, allowed, reason, mou,"
    ' "grant", clause, emergency, client, details, prev_hash, hash FROM audit_records WHERE seq = 30'
)


@pytest.mark.parametrize(
    ("change", "first_bad", "says", "offline_first_bad"),
    [
        ("UPDATE audit_records SET seq = 12.5 WHERE seq = 12", 12, "record 12 is malformed: seq: not a whole", 12),
        ("UPDATE audit_records SET seq = 'abc' WHERE seq = 12", 12, "record 12 missing before record 13", 12),
        (f"INSERT INTO audit_records {_COPY_30}", 31, "record 31 is malformed: seq: not a whole number: 'abc'", None),
        ("INSERT INTO audit_records SELECT * FROM audit_records WHERE seq = 12", 12, "record 12 is out of order", 12),
    ],
    ids=["a fraction", "text", "text after the head", "a duplicate"],
)
def test_a_seq_of_another_type_or_twice_is_named_never_a_crash(
    log: Log, database_url: str, tmp_path: Path, change: str, first_bad: int, says: str, offline_first_bad: int | None
) -> None:
    """Was: a traceback (TypeError comparing 'abc' with an int, in verify and in export), MultipleResultsFound
    reported as "the audit log could not be read" (exit 2), and an export that wrote seq 12.5 as 12 (offline: ok).
    """
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's column types hold")
    _without_keys(log)
    log.sql(change)
    _bad(log.verifier().verify(), first_bad, says)
    offline = verify_export(_export(log, tmp_path / "x"))
    if offline_first_bad is None:
        assert offline.ok  # the export stops at the head: a row beyond it is not exported
    else:
        _bad(offline, offline_first_bad)
