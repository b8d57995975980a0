"""The demo banner's "Try it" commands work as printed, in a new shell in another directory, and the CLI
finds the demo through its state file (issue 13 items 20 and 21: the commands needed CAMGATE_MODE=dev, a
relative .venv and the default data dir; reload and trigger send posted to port 8080 whatever the demo's)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from broker.cli.target import STATE_FILE
from tests.api.broker_process import BrokerProcess

pytestmark = pytest.mark.video


def try_it(log: str) -> list[str]:
    """The banner's commands, from the line after "Try it" to the first blank line."""
    lines = log.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Try it")) + 1
    commands = []
    for line in lines[start:]:
        if not line.strip():
            break
        commands.append(line.strip())
    return commands


def test_the_banner_commands_work_in_a_new_shell_and_the_cli_finds_the_demo(tmp_path: Path) -> None:
    broker = BrokerProcess.start(tmp_path)
    state = Path(broker.env["CAMGATE_DATA_DIR"]) / STATE_FILE
    try:
        commands = try_it(broker.log())
        assert commands[0].startswith("export CAMGATE_MODE=dev CAMGATE_DATA_DIR=")
        assert commands[-1].startswith("ffplay ")  # no display here: fetch what it would play instead
        commands[-1] = commands[-1].replace("ffplay ", "curl -sf -o /dev/null -w 'playlist %{http_code}\\n' ", 1)
        camgate = commands[1].split("$(", 1)[1].split(" token ", 1)[0]
        script = "set -e\n" + "\n".join(commands) + f"\n{camgate} reload\n"
        code = {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}  # this checkout
        shell = tmp_path / "elsewhere"
        shell.mkdir()
        env = {"PATH": "/usr/bin:/bin", "HOME": str(shell), "LANG": "C.UTF-8"} | code  # no CAMGATE_* at all
        out = subprocess.run(["bash", "-c", script], cwd=shell, env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-2000:])
        assert '"allowed": true' in out.stdout and "playlist 200" in out.stdout, out.stdout[-1500:]
        assert f"camgate reload: broker {broker.url} (the demo running on" in out.stderr
        assert "applied: generation" in out.stdout
        assert stat.S_IMODE(state.stat().st_mode) == 0o600
        assert json.loads(state.read_text())["url"] == broker.url
    finally:
        broker.stop()
    assert not state.exists()
