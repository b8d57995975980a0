"""Inventory sync in the running broker (the periodic task's work, run on demand), the unclassified cameras and the
systems' health, against every discovery rig over real HTTP."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from broker.api.app import create_app
from broker.api.services import Services
from broker.clock import FakeClock
from broker.settings import load_settings
from tests.api.support import MOUS, START, free_port_url, no_500
from tests.api.sync_support import write_sync_inventory
from tests.fakes.discovery_rigs import DiscoveryRig, only_one_rig, rigs_that
from tests.paths import MODEL

STAMP = "2026-09-14T13:00:00Z"
OFFICER = ("officer-17", "ncpd", ["officer"])
OPERATOR = ("it-admin-1", "ncps", ["operator"])


@dataclass
class Broker:
    client: TestClient
    rig: DiscoveryRig
    inventory: Path
    clock: FakeClock
    bodies: list[str]

    @property
    def services(self) -> Services:
        return self.client.app.state.services  # type: ignore[attr-defined,no-any-return]

    def get(self, path: str, who: tuple[str, str, list[str]] | None = OPERATOR, **params: Any) -> httpx.Response:
        headers = {}
        if who is not None:
            assert self.services.dev_issuer is not None
            headers["Authorization"] = f"Bearer {self.services.dev_issuer.mint(*who, now=self.clock.now())}"
        r = self.client.get(path, headers=headers, params=params)
        self.bodies.append(r.text)
        return r

    def sync(self) -> Any:
        return self.client.portal.call(self.services.sync_inventory)  # type: ignore[union-attr]

    def unclassified(self) -> dict[str, dict[str, Any]]:
        r = self.get("/api/v1/inventory/unclassified")
        assert r.status_code == 200, r.text
        return {c["id"]: c for c in r.json()["cameras"]}

    def systems(self) -> dict[str, dict[str, Any]]:
        r = self.get("/api/v1/systems")
        assert r.status_code == 200, r.text
        return {s["id"]: s for s in r.json()["systems"]}

    def audit(self, kind: str) -> list[dict[str, Any]]:
        r = self.get("/api/v1/audit", who=("auditor-1", "ncps", ["auditor"]), kind=kind)
        assert r.status_code == 200, r.text
        return r.json()["records"]


@pytest.fixture
def make_broker(tmp_path: Path) -> Iterator[Callable[..., contextlib.AbstractContextManager[Broker]]]:
    @contextlib.contextmanager
    def make(rig: DiscoveryRig, **system: object) -> Iterator[Broker]:
        inventory = write_sync_inventory(tmp_path, rig, free_port_url(), **system)
        clock = FakeClock(START)
        settings = load_settings(
            mode="dev",
            data_dir=tmp_path / "data",
            store={"url": f"sqlite:///{tmp_path / 'db'}"},
            policy={"inventory": inventory, "mous": [MOUS], "model": MODEL},
            # the periodic sync's records are nobody's: an oversight auditor reads them
            audit={"oversight": [{"agency": "ncps"}]},
        )
        with TestClient(create_app(settings, clock=clock, housekeeping=False)) as client:
            client.event_hooks["response"].append(no_500)
            yield Broker(client, rig, inventory, clock, [])

    yield make


@pytest.fixture
def broker(
    make_broker: Callable[..., contextlib.AbstractContextManager[Broker]], discovery_rig: DiscoveryRig
) -> Iterator[Broker]:
    with make_broker(discovery_rig) as running:
        yield running


@rigs_that("holes")
def test_a_camera_added_upstream_is_unclassified_after_one_sync_and_denied(broker: Broker) -> None:
    rig = broker.rig
    rig.set_cameras([("ch1", "Front door"), ("ch3", "Library")])  # ch3 new, ch2 gone
    outcome = broker.sync()
    assert outcome.applied and outcome.merged.counts()["added"] == 1 and outcome.merged.counts()["flagged"] == 1

    text = broker.inventory.read_text(encoding="utf-8")
    new, name = rig.new_id("ch3"), rig.name("ch3", "Library")
    assert text.startswith("# New Canaan (sync tests). School IT: classify new cameras by giving them a zone.\n")
    assert f'system: ncps-nvr, ref: {rig.yaml_ref("ch2")}, missing_since: "{STAMP}"}}  # gym\n' in text  # its comment
    assert text.endswith(
        "  - {id: east-odd-01, name: Boiler room, site: ncps-east, zone: boiler, system: ncps-vms, "
        f"ref: cam2}}\n  - {{id: {new}, name: {name}, site: ncps-saxe, system: ncps-nvr, "
        f'ref: {rig.yaml_ref("ch3")}, discovered_at: "{STAMP}"}}\n# (end of cameras)\n'
    )

    assert broker.services.live.generation == 1  # applied, then reloaded
    live = broker.get(f"/api/v1/cameras/{new}/live.m3u8", who=OFFICER)
    assert live.status_code == 403 and live.json()["reason"] == "unclassified_camera"
    listed = {c["id"]: c for c in broker.get("/api/v1/cameras", who=OFFICER).json()["cameras"]}
    assert listed[new]["live"]["reason"] == "unclassified_camera" and listed[new]["zone"] is None

    todo = broker.unclassified()
    assert todo[new] == {
        "id": new,
        "name": name,
        "site": "ncps-saxe",
        "building": None,
        "zone": None,
        "system": "ncps-nvr",
        "ref": rig.ref("ch3"),
        "reasons": ["no_zone"],
        "discovered_at": STAMP,
        "missing_since": None,
    }
    assert todo["saxe-nvr-ch2"]["reasons"] == ["missing"] and todo["saxe-nvr-ch2"]["missing_since"] == STAMP
    assert todo["saxe-nvr-ch2"]["zone"] == "exterior"  # still classified: flagged, not dropped
    assert todo["east-odd-01"]["reasons"] == ["zone_not_in_mou"]
    assert set(todo) == {new, "saxe-nvr-ch2", "east-odd-01"}
    east = broker.get("/api/v1/inventory/unclassified", site="ncps-east").json()["cameras"]
    assert [c["id"] for c in east] == ["east-odd-01"]
    assert [c["id"] for c in broker.get("/api/v1/inventory/unclassified", system="ncps-nvr").json()["cameras"]] == [
        new,
        "saxe-nvr-ch2",
    ]

    (record,) = broker.audit("inventory.sync")
    d = record["details"]
    assert (d["trigger"], d["apply"], d["applied"], d["changed"]) == ("periodic", True, True, True)
    assert d["counts"] == {"discovered": 2, "added": 1, "flagged": 1, "unflagged": 0, "still_missing": 0, "unplaced": 0}
    assert d["systems"]["ncps-nvr"]["added"] == [new] and len(d["diff_sha256"]) == 64
    assert d["diff_sha256"] == outcome.merged.diff_sha256 and d["after"] != d["before"]
    assert "ncps-vms" in d["systems"] and d["systems"]["ncps-vms"]["discoverable"] is False
    (reload,) = broker.audit("policy.reload")
    assert reload["details"]["trigger"] == "inventory-sync" and reload["details"]["cameras"] == 5


def test_school_it_classifies_and_the_camera_is_shared(broker: Broker) -> None:
    rig, new = broker.rig, broker.rig.new_id("ch3")
    rig.set_cameras([("ch1", "Front door"), ("ch2", "Gym door"), ("ch3", "Library")])
    broker.sync()
    text, ref = broker.inventory.read_text(encoding="utf-8"), rig.yaml_ref("ch3")
    broker.inventory.write_text(
        text.replace(f"ref: {ref}, discovered_at:", f"ref: {ref}, zone: exterior, discovered_at:")
    )
    broker.client.portal.call(broker.services.reload, "api")  # type: ignore[union-attr]
    listed = {c["id"]: c for c in broker.get("/api/v1/cameras", who=OFFICER).json()["cameras"]}
    assert listed[new]["live"]["allowed"] is True  # an exterior camera: shared under clause 4.1
    assert new not in broker.unclassified()
    again = broker.sync()  # the classified camera is matched by (system, ref): nothing to do
    assert not again.merged.changed and not again.applied and broker.services.live.generation == 2


def test_a_removed_camera_that_comes_back_is_unflagged(broker: Broker) -> None:
    broker.rig.set_cameras([("ch1", "Front door")])
    broker.sync()
    assert broker.unclassified()["saxe-nvr-ch2"]["reasons"] == ["missing"]
    broker.clock.advance(600)
    broker.rig.set_cameras([("ch1", "Front door"), ("ch2", "Gym door")])
    outcome = broker.sync()
    assert outcome.merged.systems["ncps-nvr"].unflagged == ["saxe-nvr-ch2"]
    assert "saxe-nvr-ch2" not in broker.unclassified()
    assert "missing_since" not in broker.inventory.read_text(encoding="utf-8")


def test_systems_health(broker: Broker) -> None:
    before = broker.systems()
    assert before["ncps-nvr"]["last_sync"] is None and before["ncps-nvr"]["reachable"] is None
    broker.sync()
    nvr, vms = broker.systems()["ncps-nvr"], broker.systems()["ncps-vms"]
    gateway, problems = nvr.pop("gateway"), nvr.pop("problems")
    assert nvr == {
        "id": "ncps-nvr",
        "owner": "ncps",
        "adapter": broker.rig.adapter,
        "discoverable": True,
        "reachable": True,
        "authentication_ok": True,
        "last_sync": STAMP,
        "last_success": STAMP,
        "last_error": None,
        "cameras": {"inventory": 2, "unclassified": 0, "missing": 0, "discovered": 2},
        "viewers": 0,
    }
    if broker.rig.rtsp:  # served through the broker's RTSP gateway, which runs nothing yet
        assert gateway == {"processes": 0, "viewers": 0, "restarts": 0, "last_error": None, "cameras": []}
    else:
        assert gateway is None
    if broker.rig.adapter == "evidence":  # it reports its files' problems: none (it may not have looked yet)
        assert problems is not None and problems["total"] == 0
    else:
        assert problems is None
    assert vms["discoverable"] is False and vms["reachable"] is None and vms["last_sync"] is None
    assert vms["cameras"] == {"inventory": 2, "unclassified": 1, "missing": 0, "discovered": None}


@rigs_that("credentials", "hang")
def test_a_failing_system_flags_nothing_and_says_why(broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    broker.sync()
    broker.clock.advance(300)
    monkeypatch.setenv(broker.rig.password_env, "wrong-password")
    outcome = broker.sync()
    assert not outcome.merged.changed and not outcome.applied and len(outcome.failed) == 1
    nvr = broker.systems()["ncps-nvr"]
    assert (nvr["reachable"], nvr["authentication_ok"]) == (True, False)
    assert nvr["last_sync"] == "2026-09-14T13:05:00Z" and nvr["last_success"] == STAMP
    assert "refused the configured credentials" in nvr["last_error"] and nvr["cameras"]["discovered"] == 2
    monkeypatch.setenv(broker.rig.password_env, broker.rig.password)
    broker.rig.hang(True)
    broker.sync()
    assert broker.systems()["ncps-nvr"]["reachable"] is False
    broker.rig.hang(False)
    assert "missing_since" not in broker.inventory.read_text(encoding="utf-8")
    assert [r["details"]["applied"] for r in broker.audit("inventory.sync")] == [False, False, False]


@only_one_rig()
def test_operators_only(broker: Broker) -> None:
    for path in ("/api/v1/inventory/unclassified", "/api/v1/systems"):
        r = broker.get(path, who=OFFICER)
        assert r.status_code == 403 and r.json()["reason"] == "not_an_operator"
        assert broker.get(path, who=None).status_code == 401


@rigs_that("credentials", "malformed")
def test_upstream_credentials_are_in_no_answer_and_no_log(
    make_broker: Callable[..., contextlib.AbstractContextManager[Broker]],
    discovery_rig: DiscoveryRig,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = discovery_rig.password
    extra = {"leaky_errors": True} if discovery_rig.adapter == "fake-nvr" else {}  # a careless adapter, scrubbed
    with make_broker(discovery_rig, **extra) as broker:
        broker.rig.set_cameras([("ch1", "Front door"), ("ch2", "Gym door"), ("ch3", "Library")])
        broker.sync()
        monkeypatch.setenv(discovery_rig.password_env, f"{secret}-wrong")  # errors now, with the secret nearby
        broker.clock.advance(60)
        broker.sync()
        broker.rig.malformed(True)
        monkeypatch.setenv(discovery_rig.password_env, secret)
        broker.sync()
        assert "refused" in broker.audit("inventory.sync")[1]["details"]["systems"]["ncps-nvr"]["error"]
        for path in ("/api/v1/systems", "/api/v1/inventory/unclassified", "/api/v1/cameras", "/openapi.json"):
            broker.get(path)
        broker.get("/api/v1/audit", who=("auditor-1", "ncps", ["auditor"]), limit=1000)
        text = broker.inventory.read_text(encoding="utf-8")
    assert len(broker.bodies) == 6 and all(secret not in body for body in broker.bodies)
    assert any("inventory sync: system ncps-nvr" in r.getMessage() for r in caplog.records)
    assert all(secret not in r.getMessage() and secret not in str(r.exc_info) for r in caplog.records)
    assert secret not in caplog.text and secret not in text
    assert not extra or "(password ***)" in caplog.text  # the careless adapter did try to say it
