"""End to end with real processes: a camera added upstream is unclassified in the running broker after one sync
(denied ``unclassified_camera``), a removed one is flagged; by ``camgate inventory sync --apply --reload`` and by
the broker's own periodic sync. The upstream password is in no answer and no log line."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.support import MOUS, free_port_url
from tests.api.sync_support import write_sync_inventory
from tests.brokers import WITH_FAKES, Broker, Brokers, dev_token
from tests.fakes.discovery_rigs import DiscoveryRig, rigs_that
from tests.paths import REPO
from tests.waiting import wait_for


@pytest.fixture
def brokers(tmp_path: Path) -> Iterator[Brokers]:
    running = Brokers(tmp_path)
    yield running
    running.close()


def start(brokers: Brokers, inventory: Path, rig: DiscoveryRig, **env: str) -> Broker:
    secret = {rig.password_env: rig.password} if rig.password_env and rig.password else {}
    return brokers.start(command=WITH_FAKES, CAMGATE_POLICY__INVENTORY=str(inventory),
                         CAMGATE_POLICY__MOUS=json.dumps([str(MOUS)]), **secret, **env)  # fmt: skip


def get(broker: Broker, path: str, sub: str, agency: str, role: str) -> httpx.Response:
    token = dev_token(Path(broker.env["CAMGATE_DATA_DIR"]), sub, agency, [role])
    return httpx.get(f"{broker.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def unclassified(broker: Broker) -> dict[str, dict[str, Any]]:
    r = get(broker, "/api/v1/inventory/unclassified", "it-ana", "ncps", "operator")
    assert r.status_code == 200, r.text
    return {c["id"]: c for c in r.json()["cameras"]}


def last_sync(broker: Broker) -> str | None:
    systems = get(broker, "/api/v1/systems", "it-ana", "ncps", "operator").json()["systems"]
    return next(s["last_sync"] for s in systems if s["id"] == "ncps-nvr")


def check_outcome(broker: Broker, rig: DiscoveryRig) -> None:
    new = rig.new_id("ch3")
    live = get(broker, f"/api/v1/cameras/{new}/live.m3u8", "officer-kim", "ncpd", "officer")
    assert live.status_code == 403 and live.json()["reason"] == "unclassified_camera", live.text
    todo = unclassified(broker)
    assert todo[new]["reasons"] == ["no_zone"] and todo[new]["discovered_at"]
    assert todo["saxe-nvr-ch2"]["reasons"] == ["missing"] and todo["saxe-nvr-ch2"]["zone"] == "exterior"
    systems = get(broker, "/api/v1/systems", "it-ana", "ncps", "operator")
    nvr = next(s for s in systems.json()["systems"] if s["id"] == "ncps-nvr")
    assert (nvr["reachable"], nvr["authentication_ok"], nvr["last_error"]) == (True, True, None)
    assert nvr["cameras"] == {"inventory": 3, "unclassified": 1, "missing": 1, "discovered": 2}
    for body in (live.text, json.dumps(todo), systems.text, broker.log.read_text(errors="replace")):
        assert rig.password is None or rig.password not in body


@rigs_that("holes")
def test_cli_sync_apply_reload(tmp_path: Path, brokers: Brokers, discovery_rig: DiscoveryRig) -> None:
    inventory = write_sync_inventory(tmp_path, discovery_rig, free_port_url())
    broker = start(brokers, inventory, discovery_rig)
    generation = broker.generation()
    discovery_rig.set_cameras([("ch1", "Front door"), ("ch3", "Library")])  # ch3 added upstream, ch2 removed
    env = broker.env | {"CAMGATE_TOKEN": dev_token(tmp_path / "data", "it-ana", "ncps", ["operator"])}
    r = subprocess.run([*WITH_FAKES, "inventory", "sync", "--inventory", str(inventory), "--apply", "--reload",
                        "--url", broker.url], cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
                       check=False)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert f"+  - {{id: {discovery_rig.new_id('ch3')}," in r.stdout and "applied: generation" in r.stdout
    assert broker.generation() == generation + 1
    check_outcome(broker, discovery_rig)
    assert discovery_rig.password is None or discovery_rig.password not in r.stdout + r.stderr


@rigs_that("holes")
def test_periodic_sync_in_the_broker(tmp_path: Path, brokers: Brokers, discovery_rig: DiscoveryRig) -> None:
    inventory = write_sync_inventory(tmp_path, discovery_rig, free_port_url())
    broker = start(brokers, inventory, discovery_rig, CAMGATE_INVENTORY_SYNC__ENABLED="true",
                   CAMGATE_INVENTORY_SYNC__INTERVAL_SECONDS="1")  # fmt: skip
    wait_for(lambda: last_sync(broker) is not None, 30, "the first periodic sync")
    assert broker.generation() == 0  # nothing new upstream: nothing written, nothing reloaded
    discovery_rig.set_cameras([("ch1", "Front door"), ("ch3", "Library")])
    wait_for(lambda: broker.generation() == 1, 30, "the periodic sync to apply the change and reload")
    check_outcome(broker, discovery_rig)
    assert discovery_rig.new_id("ch3") in inventory.read_text(encoding="utf-8")
