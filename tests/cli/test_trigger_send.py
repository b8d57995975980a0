"""``camgate trigger send`` against a real running broker (uvicorn in a thread, real HTTP on 127.0.0.1)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from broker.api.app import create_app
from broker.cli.main import main
from broker.settings import load_settings
from tests.api.support import MOUS, free_port_url, write_inventory
from tests.fakes.servers import serve_in_thread
from tests.paths import MODEL


@pytest.fixture
def broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A dev-mode broker on the system clock (the parking MOU is in force from 2026-01-01, no end)."""
    data_dir = tmp_path / "data"
    monkeypatch.setenv("CAMGATE_MODE", "dev")
    monkeypatch.setenv("CAMGATE_DATA_DIR", str(data_dir))  # the CLI reads the same dev secrets
    settings = load_settings(
        policy={"inventory": write_inventory(tmp_path, free_port_url()), "mous": [MOUS], "model": MODEL},
        store={"url": f"sqlite:///{tmp_path / 'camgate.db'}"},
    )
    with serve_in_thread(create_app(settings, housekeeping=False)) as url:
        yield url


def test_trigger_send_declares_on_a_real_broker(broker: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["trigger", "send", "ncpb", "--device", "pb-radio-01", "--event", "officer.alert", "--lat", "41.14683",
            "--lon", "-73.49462", "--notes", "driver threatening the officer", "--url", broker]  # fmt: skip
    assert main([*args, "--id", "msg_cli_1"]) == 0
    answer = json.loads(capsys.readouterr().out)
    em = answer["emergency"]
    assert answer["outcome"] == "declared" and em["status"] == "active" and em["radius_m"] == 9.1
    assert em["declared_by"] == {"sub": "trigger:ncpb/pb-radio-01", "agency": "ncpb"}
    assert main([*args, "--id", "msg_cli_1"]) == 0  # redelivered: the same answer, nothing new
    assert json.loads(capsys.readouterr().out) == answer
    r = httpx.post(f"{broker}/api/v1/triggers/ncpb", json={"type": "officer.alert"})
    assert r.status_code == 401  # what the CLI signs, nobody else can send
    end = ["trigger", "send", "ncpb", "--device", "pb-radio-01", "--event", "officer.clear", "--url", broker]
    assert main(end) == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "ended"
    assert main(end) == 1  # nothing open any more: 409, exit 1
    assert json.loads(capsys.readouterr().out)["error"] == "conflict"


def test_trigger_send_refuses_an_unknown_source(broker: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trigger", "send", "nope", "--device", "d", "--event", "e", "--url", broker]) == 2
    assert "unknown source 'nope'" in capsys.readouterr().err
