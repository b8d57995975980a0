"""Which broker ``camgate reload`` and ``camgate trigger send`` reach (issue 13 item 20: they posted to
http://127.0.0.1:8080 whatever port the demo ran on, so another person's demo there got the emergency)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from broker.api.app import create_app
from broker.cli.main import main
from broker.cli.target import STATE_FILE, remove_state, resolve, running_demo, write_state
from broker.settings import load_settings
from tests.api.support import MOUS, free_port_url, write_inventory
from tests.fakes.servers import serve_in_thread
from tests.paths import MODEL

PANIC = [
    "trigger",
    "send",
    "ncps",
    "--device",
    "saxe-office-1",
    "--event",
    "panic.pressed",
    "--notes",
    "man with a gun at the front desk of the school",
]


@pytest.fixture
def broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A dev-mode broker on a free port, sharing its data dir (dev secrets) with the CLI."""
    monkeypatch.setenv("CAMGATE_MODE", "dev")
    monkeypatch.setenv("CAMGATE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CAMGATE_SERVER__PORT", raising=False)
    settings = load_settings(
        policy={"inventory": write_inventory(tmp_path, free_port_url()), "mous": [MOUS], "model": MODEL},
        store={"url": f"sqlite:///{tmp_path / 'camgate.db'}"},
    )
    with serve_in_thread(create_app(settings, housekeeping=False)) as url:
        yield url


def test_the_running_demos_state_file_is_followed_and_named(
    broker: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = write_state(tmp_path / "data", broker)  # as camgate demo does, for this (live) process
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert main(PANIC) == 0, capsys.readouterr()
    out = capsys.readouterr()
    assert json.loads(out.out)["outcome"] == "declared"
    assert f"camgate trigger send: broker {broker} (the demo running on {(tmp_path / 'data').resolve()}" in out.err
    assert main(["reload"]) == 0
    assert f"camgate reload: broker {broker} (the demo running" in capsys.readouterr().err


def test_without_a_demo_the_settings_port_is_used_and_named(
    broker: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAMGATE_SERVER__PORT", str(urlsplit(broker).port))
    assert main(["reload"]) == 0
    assert f"camgate reload: broker {broker} (settings server.host and server.port)" in capsys.readouterr().err


def test_url_wins_then_a_live_demo_then_settings_and_a_stale_state_file_is_ignored(tmp_path: Path) -> None:
    settings = load_settings(mode="dev", data_dir=tmp_path, server={"host": "0.0.0.0", "port": 9123})
    assert resolve(settings, "http://127.0.0.1:1/").url == "http://127.0.0.1:1"
    assert resolve(settings, None).url == "http://127.0.0.1:9123"
    state = write_state(tmp_path, "http://127.0.0.1:4567")
    assert resolve(settings, None).url == "http://127.0.0.1:4567" and running_demo(state) is not None
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    state.write_text(json.dumps({"url": "http://127.0.0.1:4567", "pid": int(dead.stdout)}))  # a demo killed -9
    assert resolve(settings, None).url == "http://127.0.0.1:9123"


def test_a_demo_removes_only_its_own_state_file(tmp_path: Path) -> None:
    state = write_state(tmp_path, "http://127.0.0.1:4567")
    state.write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": os.getppid()}))  # another demo since
    remove_state(state)
    assert state.exists()
    write_state(tmp_path, "http://127.0.0.1:4567")
    remove_state(tmp_path / STATE_FILE)
    assert not state.exists()
