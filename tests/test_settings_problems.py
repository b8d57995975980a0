"""Every settings problem at once, each with what to set (issue 13 item 21: they came one at a time, and commands
that need no server secret refused to run for want of one)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.settings import load_settings
from broker.settings_problems import where_to_set
from tests.brokers import CAMGATE


def test_every_problem_is_reported_at_once_each_with_where_to_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    config = Path("/etc/camgate/camgate.toml")
    monkeypatch.setenv("CAMGATE_CONFIG", str(config))  # not read: a missing TOML file is an empty source
    monkeypatch.setenv("CAMGATE_TRIGGERS__SOURCES__DOOR__AGENCY", "ncps")  # a source with no secret
    with pytest.raises(ConfigError) as refused:
        load_settings(
            mode="prod",
            server={"port": 99999, "prot": 1},
            identity={"dev_issuer": {}},
            streams={"token_secret": "change-me"},
            console={"events_queue": 0},
        )
    message = refused.value.message
    expected = [
        "server.port: Input should be less than or equal to 65535",
        f"set CAMGATE_SERVER__PORT, or port in [server] of {config}",
        "server.prot: Extra inputs are not permitted",
        "identity.dev_issuer is for dev mode only",
        "identity.issuers is empty",
        "set CAMGATE_IDENTITY__ISSUERS, or issuers in [identity]",
        "streams.token_secret holds a placeholder",
        f"set CAMGATE_STREAMS__TOKEN_SECRET, or token_secret in [streams] of {config}",
        "audit.checkpoints.key_file: no checkpoint signing key",
        "console.events_queue: Input should be greater than or equal to 1",
        "triggers.sources.door: no secret, or a placeholder",
        "set CAMGATE_TRIGGERS__SOURCES__DOOR__SECRETS",
        "CAMGATE_MODE=dev",  # the way to a trial, since secrets are missing
    ]
    assert [line for line in expected if line not in message] == []
    assert message.startswith("invalid settings (8 problems;")


def test_where_to_set_names_the_variable_and_the_toml_key() -> None:
    assert where_to_set("mode", None) == "set CAMGATE_MODE, or mode at the top of the TOML file named by CAMGATE_CONFIG"
    assert where_to_set("notifications.webhooks.2.url", "/c.toml") == (
        "set CAMGATE_NOTIFICATIONS__WEBHOOKS (item 2; the whole list as JSON), or webhooks in [notifications] of /c.toml"
    )


def fresh_env(tmp_path: Path, **env: str) -> dict[str, str]:
    """A new shell's environment: no CAMGATE_* variable but those given."""
    code = {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}  # this checkout's code
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"} | code | env


def test_commands_that_need_no_server_secret_say_the_right_fix_in_a_new_shell(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = subprocess.run(
        [CAMGATE, "audit", "verify"],
        env=fresh_env(tmp_path, CAMGATE_MODE="dev", CAMGATE_DATA_DIR=str(data)),
        capture_output=True,
        text=True,
        timeout=60,
    )  # nothing there yet: exit 2, nothing created
    assert made.returncode == 2 and "no database" in made.stderr
    seeded = subprocess.run(
        [CAMGATE, "token", "--sub", "x", "--agency", "ncpd", "--roles", "officer"],
        env=fresh_env(tmp_path, CAMGATE_MODE="dev", CAMGATE_DATA_DIR=str(data)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert seeded.returncode == 0
    (data / "audit-signing-key.pem").write_text("")  # what a dev-mode broker leaves: its generated key
    for argv, fix in (
        (["token", "--sub", "x", "--agency", "ncpd", "--roles", "officer"], "dev mode only (CAMGATE_MODE=dev)"),
        (["audit", "verify"], "CAMGATE_MODE=dev"),
        (["reload"], "no token"),
        (["trigger", "send", "ncps", "--device", "d", "--event", "panic.pressed"], "unknown source 'ncps'"),
    ):
        out = subprocess.run(
            [CAMGATE, *argv],
            env=fresh_env(tmp_path, CAMGATE_DATA_DIR=str(data)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "token_secret" not in out.stderr and fix in out.stderr, (argv, out.stderr)
