"""Gateway settings in the one settings root: defaults, environment, the example file, refusals naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.settings import REPO, load_settings


def test_defaults_and_the_work_directory(tmp_path: Path) -> None:
    settings = load_settings(mode="dev", data_dir=tmp_path)
    assert settings.gateway.max_processes == 16 and settings.gateway.idle_seconds == 30
    assert settings.gateway_dir == tmp_path / "gateway"
    assert load_settings(mode="dev", gateway={"work_dir": tmp_path / "gw"}).gateway_dir == tmp_path / "gw"


def test_environment_and_the_example_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMGATE_GATEWAY__MAX_PROCESSES", "3")
    assert load_settings(mode="dev").gateway.max_processes == 3
    monkeypatch.delenv("CAMGATE_GATEWAY__MAX_PROCESSES")
    monkeypatch.setenv("CAMGATE_CONFIG", str(REPO / "config" / "camgate.example.toml"))
    assert load_settings(mode="dev").gateway.retention_seconds == 600


@pytest.mark.parametrize(
    ("gateway", "message"),
    [
        ({"max_processes": 0}, "gateway.max_processes: Input should be greater than or equal to 1"),
        ({"backoff_initial_seconds": 10, "backoff_max_seconds": 5}, "backoff_max_seconds must be at least"),
        ({"record": "always"}, "gateway.record: Extra inputs are not permitted"),
    ],
)
def test_bad_settings_name_the_field(gateway: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(mode="dev", gateway=gateway)
