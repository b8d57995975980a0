"""``camgate audit export`` and ``camgate audit verify DIR``: exit codes, output for people and for machines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker.audit.keys import DEV_KEY_NAME, pem
from broker.cli.main import main
from broker.clock import FakeClock
from broker.store import Store
from tests.audit import tamper


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A dev-mode broker's data folder with a log of 30 records and its checkpoints, signed with the dev key."""
    data = tmp_path / "data"
    monkeypatch.setenv("CAMGATE_MODE", "dev")
    monkeypatch.setenv("CAMGATE_DATA_DIR", str(data))
    monkeypatch.delenv("CAMGATE_STORE__URL", raising=False)
    monkeypatch.delenv("CAMGATE_CONFIG", raising=False)
    store = Store.open(f"sqlite:///{data / 'camgate.db'}")
    store.create_all()
    log = tamper.build(store, FakeClock(), tmp_path)
    (data / DEV_KEY_NAME).write_bytes(pem(log.key))
    log.witness.rename(data / f"{DEV_KEY_NAME}.checkpoint.json")
    store.dispose()
    return data


def test_export_then_verify_offline(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "export"
    assert main(["audit", "export", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"exported records 1-30 (30) and 3 checkpoints to {out}"
    assert main(["audit", "verify", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("ok: 30 records, head ") and "3 signed checkpoints" in printed
    assert main(["audit", "export", "--out", str(out)]) == 2  # never over an export
    assert "already holds an export" in capsys.readouterr().err
    lines = (out / "records.jsonl").read_bytes().splitlines(keepends=True)
    (out / "records.jsonl").write_bytes(b"".join(lines[:4] + lines[5:]))
    assert main(["audit", "verify", str(out)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed[:2] == ["TAMPERED: first bad record 5", "  record 5 missing before record 6"]
    assert main(["audit", "verify", str(out), "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert (result["ok"], result["first_bad"], result["records"]) == (False, 5, 4)


def test_an_export_is_readable_by_its_owner_only(data_dir: Path, tmp_path: Path) -> None:
    """The records name who watched which camera when, from where, under which threat (FERPA 34 CFR 99.32): the
    store is 0600 in a 0700 folder (issue 13 item 16), and so is its export. It was 0644 in a 0755 folder."""
    out = tmp_path / "exports" / "2026-09"
    assert main(["audit", "export", "--out", str(out)]) == 0
    assert {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()} == {
        "records.jsonl": 0o600,
        "checkpoints.jsonl": 0o600,
        "keys.json": 0o600,
        "manifest.json": 0o600,
    }
    assert out.stat().st_mode & 0o777 == 0o700 and out.parent.stat().st_mode & 0o777 == 0o700


def test_store_verify_output(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok: 30 records") and "3 signed checkpoints and 1 witnessed one held" in out
    assert main(["audit", "verify", "--witness", "/tmp"]) == 2  # a witness goes with an export


def test_bad_input_is_exit_2(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", str(tmp_path)]) == 2
    assert "manifest.json: no such file" in capsys.readouterr().err
    assert main(["audit", "export", "--from", "yesterday", "--out", str(tmp_path / "x")]) == 2
    assert "from: a record's seq or an RFC 3339 instant" in capsys.readouterr().err
    out = tmp_path / "e"
    assert main(["audit", "export", "--out", str(out)]) == 0
    assert main(["audit", "verify", str(out), "--witness", str(tmp_path / "none")]) == 2
    assert "not a directory of witnessed checkpoints" in capsys.readouterr().err
    assert main(["audit", "verify", str(out), "--keys", str(tmp_path / "none.json")]) == 2
    assert f"{tmp_path / 'none.json'}: no such keys file" in capsys.readouterr().err
    (tmp_path / "a-file").write_text("")
    for where in (tmp_path / "a-file", tmp_path / "a-file" / "below"):  # was: a traceback (FileExistsError...)
        assert main(["audit", "export", "--out", str(where)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"camgate: {where}: the export cannot be written (") and "Traceback" not in err


def test_offline_verify_needs_no_settings(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "export"
    assert main(["audit", "export", "--from", "11", "--to", "20", "--out", str(out)]) == 0
    monkeypatch.setenv("CAMGATE_MODE", "prod")  # settings that would be refused: never read
    monkeypatch.setenv("CAMGATE_DATA_DIR", str(tmp_path / "nowhere"))
    capsys.readouterr()
    assert main(["audit", "verify", str(out)]) == 0
    said = capsys.readouterr().out
    assert "note: the export ends at record 20 by request" in said
    # was "ok: 20 records, from the prune base at record 10": no prune, a part of the log
    assert said.startswith("ok: records 11-20 only (the export starts there; those before are not checked), head")
    assert not (tmp_path / "nowhere").exists()
