"""The camgate console script: documents, decide, token, audit verify (exit codes and output)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from sqlalchemy import text

from broker.cli.main import main
from tests.paths import EXAMPLE, EXAMPLE_INVENTORY, EXAMPLE_MOUS

CAMGATE = shutil.which("camgate", path=str(__import__("pathlib").Path(sys.executable).parent))


def test_mou_validate_ok(capsys):
    assert main(["mou", "validate", str(EXAMPLE_MOUS), "--inventory", str(EXAMPLE_INVENTORY)]) == 0
    assert capsys.readouterr().out.strip() == "ok"


def test_mou_validate_reports_every_error_with_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    text_ = (EXAMPLE_MOUS / "mou-ncps-ncpd.yaml").read_text()
    bad.write_text(text_.replace("when: always", "when: sometimes").replace("max_age: 7d", "max_age: a week"))
    assert main(["mou", "validate", str(bad)]) == 2
    err = capsys.readouterr().out.splitlines()
    assert any(line.startswith(f"{bad}:") and ": grants.0.when: unknown when 'sometimes'" in line for line in err)
    assert any(": grants.0.playback.max_age: malformed duration" in line for line in err)
    assert "Traceback" not in "\n".join(err)


def test_inventory_validate(tmp_path, capsys):
    assert main(["inventory", "validate", str(EXAMPLE_INVENTORY)]) == 0
    bad = tmp_path / "inv.yaml"
    bad.write_text(EXAMPLE_INVENTORY.read_text().replace("site: ncps-east,", "site: ncps-nowhere,", 1))
    assert main(["inventory", "validate", str(bad)]) == 2
    assert "unknown site 'ncps-nowhere'" in capsys.readouterr().out


def test_decide_console_script_matches_the_example_answers():
    assert CAMGATE, "the camgate console script is installed in the venv"
    out = subprocess.run(
        [CAMGATE, "decide", "--inventory", str(EXAMPLE_INVENTORY), "--mou", str(EXAMPLE_MOUS)],
        input=(EXAMPLE / "requests.jsonl").read_text(), capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    got = [json.loads(line) for line in out.stdout.splitlines()]
    assert got == [json.loads(line) for line in (EXAMPLE / "answers.jsonl").read_text().splitlines()]


def test_decide_bad_lines_get_errors_and_the_rest_go_on(tmp_path, capsys):
    reqs = tmp_path / "r.jsonl"
    good = (EXAMPLE / "requests.jsonl").read_text().splitlines()[0]
    reqs.write_text("\n".join(["{not json", good, '{"camera": "x"}', "[1, 2]", good]) + "\n")
    assert (
        main(["decide", "--inventory", str(EXAMPLE_INVENTORY), "--mou", str(EXAMPLE_MOUS), "--requests", str(reqs)])
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 5
    assert "invalid JSON" in lines[0]["error"] and lines[1]["allowed"] is True
    assert lines[2] == {"error": "missing field 'principal'"} and "error" in lines[3] and lines[4] == lines[1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"at": "2026-09-14T12:00:00"}, "no offset"),
        ({"action": "playback", "window": {"start": "2026-09-14T12:00:00Z", "end": "2026-09-14T11:00:00Z"}},
         "start < end <= at"),
        ({"principal": {"sub": "x", "agency": "ncpd", "roles": "officer"}}, "principal.roles"),
    ],
)  # fmt: skip
def test_decide_invalid_requests(tmp_path, capsys, change, message):
    req = json.loads((EXAMPLE / "requests.jsonl").read_text().splitlines()[0]) | change
    (tmp_path / "r.jsonl").write_text(json.dumps(req) + "\n")
    main(
        [
            "decide",
            "--inventory",
            str(EXAMPLE_INVENTORY),
            "--mou",
            str(EXAMPLE_MOUS),
            "--requests",
            str(tmp_path / "r.jsonl"),
        ]
    )
    assert message in json.loads(capsys.readouterr().out)["error"]


def test_decide_with_an_invalid_mou_prints_errors_and_no_output(tmp_path, capsys):
    (tmp_path / "m.yaml").write_text("mou: x\n")
    assert (
        main(["decide", "--inventory", str(EXAMPLE_INVENTORY), "--mou", str(tmp_path), "--requests", "/dev/null"]) == 2
    )
    captured = capsys.readouterr()
    assert captured.out == "" and "required field missing" in captured.err


def test_token_is_refused_outside_dev_mode(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CAMGATE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CAMGATE_MODE", "prod")
    monkeypatch.setenv("CAMGATE_STREAMS__TOKEN_SECRET", "s" * 40)
    monkeypatch.setenv("CAMGATE_IDENTITY__ISSUERS", "[]")
    assert main(["token", "--sub", "a", "--agency", "ncpd", "--roles", "officer"]) == 2
    assert "camgate:" in capsys.readouterr().err
    assert not (tmp_path / "dev-issuer-key.json").exists()


def test_token_in_dev_mode_is_accepted_by_the_dev_issuer(tmp_path, monkeypatch, capsys):
    import asyncio

    from broker.clock import SystemClock
    from broker.identity import DevIssuer, DevIssuerConfig, TokenVerifier

    monkeypatch.setenv("CAMGATE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CAMGATE_MODE", "dev")
    assert main(["token", "--sub", "dispatch-lee", "--agency", "ncpd", "--roles", "dispatcher,officer"]) == 0
    token = capsys.readouterr().out.strip()
    issuer = DevIssuer.load_or_create(tmp_path, DevIssuerConfig())
    principal = asyncio.run(TokenVerifier([issuer.issuer_config()], SystemClock()).verify(token))
    assert (principal.sub, principal.agency, principal.roles) == (
        "dispatch-lee",
        "ncpd",
        frozenset({"dispatcher", "officer"}),
    )


def test_audit_verify_exit_codes(tmp_path, monkeypatch, capsys):
    from broker.audit import AuditLog
    from broker.clock import SystemClock
    from broker.store import Store

    monkeypatch.setenv("CAMGATE_MODE", "dev")
    monkeypatch.setenv("CAMGATE_DATA_DIR", str(tmp_path))
    url = f"sqlite:///{tmp_path / 'camgate.db'}"
    store = Store.open(url)
    store.create_all()
    log = AuditLog(store, SystemClock())
    for i in range(3):
        log.append("decision", camera=f"cam-{i}", allowed=False, reason="no_mou")
    assert main(["audit", "verify", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["ok"], result["records"], result["checkpoints"]) == (True, 3, 0)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET reason = 'allowed' WHERE seq = 2"))
    store.dispose()
    assert main(["audit", "verify", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False and result["first_bad"] == 2


def test_validate_console_script_exit_codes_and_output():
    bad = subprocess.run([CAMGATE, "mou", "validate", "/nonexistent.yaml"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stdout.startswith("/nonexistent.yaml:0: (document): no such file")
    ok = subprocess.run([CAMGATE, "inventory", "validate", str(EXAMPLE_INVENTORY)], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip() == "ok" and ok.stderr == ""


def test_serve_refuses_bad_settings_and_documents_without_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CAMGATE_MODE", raising=False)
    assert main(["serve"]) == 2
    assert "token_secret holds a placeholder" in capsys.readouterr().err
    monkeypatch.setenv("CAMGATE_MODE", "dev")
    monkeypatch.setenv("CAMGATE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CAMGATE_POLICY__INVENTORY", str(tmp_path / "missing.yaml"))
    assert main(["serve"]) == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'missing.yaml'}:0: (document): no such file"
