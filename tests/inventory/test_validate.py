"""Issue 13 item 18: `camgate inventory validate` builds every camera system as `serve` and `reload` do, and says
what they would refuse, at the same FILE:LINE; `serve` refuses it without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.cli.main import main
from broker.inventory.validate import validate_inventory
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS

SYSTEMS = """systems:
  - {id: ncps-vms, owner: ncps, adapter: hls, base_url: "ht!tp://::bad"}
  - {id: ncpb-bodycams, owner: ncpb, adapter: hls, base_url: "http://127.0.0.1:9001/", playlist_pth: x}
  - id: lot-cams
    owner: ncpb
    adapter: rtsp
    url_template: "rtsp://127.0.0.1:9554/{ref}"
    username: camgate
    password_env: CAMGATE_TEST_UNSET_PASSWORD
  - {id: gym-cams, owner: ncps, adapter: rtsp, base_url: "rtsp://127.0.0.1:9554/", url_template: "-i /etc/passwd -f null {ref}"}
  - {id: vendor-x, owner: ncps, adapter: genetec}
"""
EXPECTED = [  # (the text on the line, path, message)
    ('base_url: "ht!tp://::bad"', "systems.0.base_url", "system 'ncps-vms': setting 'base_url': must be an http"),
    ("playlist_pth: x", "systems.1.playlist_pth", "system 'ncpb-bodycams': setting 'playlist_pth': unknown key"),
    (
        "password_env: CAMGATE_TEST_UNSET_PASSWORD",
        "systems.2.password_env",
        "system 'lot-cams': setting 'password_env': environment variable 'CAMGATE_TEST_UNSET_PASSWORD' is not set",
    ),
    ("-i /etc/passwd", "systems.3.url_template", "system 'gym-cams': setting 'url_template': must not begin with '-'"),
    ("adapter: genetec", "systems.4.adapter", "system 'vendor-x': setting 'adapter': unknown adapter 'genetec'"),
]


def broken_inventory(tmp_path: Path) -> Path:
    text = EXAMPLE_INVENTORY.read_text()
    start, end = text.index("systems:\n"), text.index("\nsites:")
    path = tmp_path / "inventory.yaml"
    path.write_text(text[:start] + SYSTEMS + text[end:])
    return path


def test_validate_refuses_every_system_serve_would_refuse_at_its_line(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CAMGATE_TEST_UNSET_PASSWORD", raising=False)
    path = broken_inventory(tmp_path)
    lines = path.read_text().splitlines()
    assert main(["inventory", "validate", str(path)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(EXPECTED), out
    for printed, (text, where, message) in zip(out, EXPECTED, strict=True):
        line = next(i for i, line in enumerate(lines, 1) if text in line)
        assert printed.startswith(f"{path}:{line}: {where}: {message}"), printed


def test_serve_says_the_same_lines_without_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("CAMGATE_TEST_UNSET_PASSWORD", raising=False)
    path = broken_inventory(tmp_path)
    monkeypatch.setenv("CAMGATE_MODE", "dev")
    monkeypatch.setenv("CAMGATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CAMGATE_POLICY__INVENTORY", str(path))
    monkeypatch.setenv("CAMGATE_POLICY__MOUS", f'["{EXAMPLE_MOUS}"]')
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines() == validate_inventory([path])


def test_a_secret_is_checked_for_presence_and_never_printed(tmp_path, monkeypatch, capsys):
    path = broken_inventory(tmp_path)
    secret = "S3cr3t-only-in-the-environment"
    monkeypatch.setenv("CAMGATE_TEST_UNSET_PASSWORD", secret)
    assert main(["inventory", "validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert "password_env" not in out and secret not in out  # present now: no longer refused, never shown
    file_secret = tmp_path / "missing-secret"
    path.write_text(
        path.read_text().replace("password_env: CAMGATE_TEST_UNSET_PASSWORD", f"password_file: {file_secret}")
    )
    assert main(["inventory", "validate", str(path)]) == 2
    assert f"setting 'password_file': cannot read '{file_secret}'" in capsys.readouterr().out
    file_secret.write_text(secret + "\n")
    assert main(["inventory", "validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert "password_file" not in out and secret not in out


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("-i /etc/passwd -f null {ref}", "must not begin with '-'"),
        ("rtsp://127.0.0.1:9554/{ref} -f null /tmp/x", "must not contain spaces"),
        ("rtsp://127.0.0.1:9554/{ref}\t-y", "must not contain spaces"),
        ("http://127.0.0.1:9554/{ref}", "not an rtsp:// URL"),
        ("file:///etc/{ref}", "not an rtsp:// URL"),
        ("rtsp://127.0.0.1:9554/live", "must contain '{ref}' exactly once"),
        ("rtsp://{ref}/live", "'{ref}' must be in the path or query"),
    ],
)
def test_url_template_is_an_rtsp_url_and_one_argument(tmp_path, capsys, template, message):
    text = EXAMPLE_INVENTORY.read_text()
    system = f'  - {{id: lot-cams, owner: ncpb, adapter: rtsp, url_template: "{template}"}}\n'
    path = tmp_path / "inventory.yaml"
    path.write_text(text.replace("\nsites:", system.replace("\t", "\\t").join(["\n", "sites:"]), 1))
    assert main(["inventory", "validate", str(path)]) == 2
    out = capsys.readouterr().out
    assert "systems.2.url_template: system 'lot-cams': setting 'url_template': " in out and message in out, out


def test_the_example_and_demo_inventories_still_validate(capsys):
    assert main(["inventory", "validate", str(EXAMPLE_INVENTORY)]) == 0
    assert capsys.readouterr().out.strip() == "ok"
