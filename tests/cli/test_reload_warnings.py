"""Issue 13 item 19: `camgate reload` prints the warnings of an applied reload (an MOU out of force, a zone typo)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from broker.cli import reload as reload_cli
from broker.settings import load_settings

WARNING = "/etc/camgate/mou/mou-ncps-ncpd.yaml:8: warning: expires: MOU 'ncps-ncpd-video' expired on 2026-06-30"


def test_an_applied_reload_prints_its_warnings(monkeypatch: pytest.MonkeyPatch, tmp_path, capsys) -> None:
    monkeypatch.setenv("CAMGATE_MODE", "dev")
    monkeypatch.setenv("CAMGATE_DATA_DIR", str(tmp_path))
    body = {
        "outcome": "applied",
        "generation": 4,
        "cameras": 19,
        "mous": 2,
        "policy_lines": 115,
        "seconds": 0.01,
        "warnings": [WARNING],
    }

    def post(url: str, **_: Any) -> httpx.Response:
        return httpx.Response(200, json=body, request=httpx.Request("POST", url))

    monkeypatch.setattr(reload_cli.httpx, "post", post)
    assert reload_cli.reload(load_settings(), "http://127.0.0.1:1", "token") == 0
    out, err = capsys.readouterr()
    said, *warnings = err.splitlines()
    assert said == "camgate reload: broker http://127.0.0.1:1 (--url)"  # which broker it spoke to (issue 13)
    assert out.startswith("applied: generation 4") and warnings == [WARNING]
