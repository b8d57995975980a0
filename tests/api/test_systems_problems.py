"""``GET /api/v1/systems``: the problems of a system's parts (:class:`~broker.adapterapi.ReportsProblems`), as an
evidence folder keeps them per file: every one counted, the first 20 listed by file, each with its reason; no
secret, no path outside the folder; a folder that cannot be read is the system's own problem."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from broker.adapterapi import NotSupported, Problem, ProblemReport, SystemSpec
from broker.api.app import create_app
from broker.settings import load_settings
from tests.fakes.evidence import EvidenceFolder, make_test_clip
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS
from tests.waiting import wait_for

OPERATOR = ("it-admin-1", "ncpb", ["operator"])  # the evidence folder's agency: its operators see its problems
SECRET = "leaky-s3cret-value"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


class LeakyAdapter:
    """A careless adapter whose problems say its password: the route scrubs what the settings lead to."""

    def __init__(self, spec: SystemSpec) -> None:
        self.spec = spec

    async def problems(self) -> ProblemReport:
        return ProblemReport(START, (Problem("door-1", f"login with {SECRET} refused"),))

    async def live_playlist(self, camera_ref: str) -> Any:
        raise NotSupported("no video")

    async def resource(self, ref: str) -> Any:
        raise NotSupported("no video")

    def resolve(self, base_ref: str, uri: str) -> str:
        raise NotSupported("no video")

    async def snapshot(self, camera_ref: str) -> Any:
        raise NotSupported("no video")

    async def recording(self, camera_ref: str, start: datetime, end: datetime) -> Any:
        raise NotSupported("no video")

    async def aclose(self) -> None:
        return None


@dataclass
class Broker:
    client: TestClient
    folder: EvidenceFolder

    def systems(self) -> dict[str, dict[str, Any]]:
        services = self.client.app.state.services  # type: ignore[attr-defined]
        token = services.dev_issuer.mint(*OPERATOR, now=services.clock.now())
        r = self.client.get("/api/v1/systems", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        return {s["id"]: s for s in r.json()["systems"]}


@pytest.fixture
def broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Broker]:
    import adapters

    monkeypatch.setitem(adapters.ADAPTERS, "leaky", f"{__name__}:LeakyAdapter")
    monkeypatch.setenv("CAMGATE_TEST_LEAKY_PASSWORD", SECRET)
    folder = EvidenceFolder(tmp_path / "exports", make_test_clip(tmp_path))
    folder.path.mkdir()
    inv = yaml.safe_load(EXAMPLE_INVENTORY.read_text())
    inv["systems"] += [
        {
            "id": "ncpb-evidence",
            "owner": "ncpb",
            "adapter": "evidence",
            "path": str(folder.path),
            "format": "generic",
            "cache_dir": str(tmp_path / "cache"),
        },
        {"id": "ncpb-lost", "owner": "ncpb", "adapter": "evidence", "path": str(tmp_path / "unmounted-share")},
        {"id": "ncpb-leaky", "owner": "ncpb", "adapter": "leaky", "password_env": "CAMGATE_TEST_LEAKY_PASSWORD"},
    ]
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(inv))
    settings = load_settings(
        mode="dev",
        data_dir=tmp_path / "data",
        policy={"inventory": tmp_path / "inventory.yaml", "mous": [EXAMPLE_MOUS]},
    )
    with TestClient(create_app(settings, housekeeping=False)) as client:
        yield Broker(client, folder)


def test_an_evidence_folders_bad_files_are_listed_each_with_its_reason(broker: Broker, tmp_path: Path) -> None:
    folder = broker.folder
    folder.drop("good", "pb-body-03", START, age=60)
    folder.drop("not-video", "pb-body-05", START, clip_bytes=b"\x00" * 4096, age=60)
    for n in range(23):  # more than the 20 listed
        folder.drop(f"bad-{n:02}", f"pb-body-{n}", START, metadata='{"device": "pb-body-04"}', age=60)
    first = broker.systems()
    assert first["ncpb-evidence"]["problems"] == {"checked_at": None, "total": 0, "items": []}  # not looked at yet
    wait_for(lambda: broker.systems()["ncpb-evidence"]["problems"]["checked_at"] is not None, 30, "the first look")

    systems = broker.systems()
    report = systems["ncpb-evidence"]["problems"]
    assert report["total"] == 24 and len(report["items"]) == 20
    assert report["items"][0] == {
        "subject": "bad-00.mp4",
        "message": "metadata file 'bad-00.json': start is missing or not a date-time",
    }
    assert [i["subject"] for i in report["items"]] == [f"bad-{n:02}.mp4" for n in range(20)]  # by file, in order
    assert str(tmp_path) not in str(systems["ncpb-evidence"])  # no cache, no absolute path of the folder's files
    assert systems["ncpb-evidence"]["discoverable"] is True and systems["ncpb-evidence"]["gateway"] is None

    lost = systems["ncpb-lost"]["problems"]
    assert lost is not None and lost["total"] == 1
    (problem,) = lost["items"]
    assert problem["subject"] == "" and problem["message"] == (
        f"evidence folder '{tmp_path / 'unmounted-share'}': No such file or directory "
        "(check the system's path, or the share it is on)"
    )  # the folder as configured: the one absolute path an operator needs to see

    leaky = systems["ncpb-leaky"]["problems"]
    assert leaky["items"] == [{"subject": "door-1", "message": "login with *** refused"}]
    assert SECRET not in str(systems)
    assert systems["ncpb-bodycams"]["problems"] is None  # the HLS adapter keeps no such report


def test_a_fixed_file_leaves_the_report(broker: Broker) -> None:
    broker.folder.drop("clip", "pb-body-03", START, metadata='{"device": "pb-body-03"}', age=60)
    wait_for(lambda: broker.systems()["ncpb-evidence"]["problems"]["total"] == 1, 30, "the bad metadata reported")
    broker.folder.drop("clip", "pb-body-03", START, age=60)  # re-exported with its start
    wait_for(lambda: broker.systems()["ncpb-evidence"]["problems"]["total"] == 0, 30, "the fixed file to be taken")
