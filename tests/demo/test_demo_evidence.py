"""The demo's evidence folder: ``camgate demo`` makes a body-camera clip with ffmpeg at start, with the Digital
Ally sidecar the inventory's evidence system expects, and the adapter plays it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from adapters.evidence import EvidenceAdapter
from broker.adapterapi import SystemSpec
from broker.demo.evidence import prepare_evidence
from broker.documents import Inventory
from broker.timeutil import format_instant
from tests.api.broker_process import BrokerProcess
from tests.paths import REPO
from tests.waiting import wait_for

pytestmark = pytest.mark.video
NOW = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)


def demo_inventory(folder: Path) -> Inventory:
    data = yaml.safe_load((REPO / "config" / "inventory.yaml").read_text())
    for system in data["systems"]:
        if system["adapter"] == "evidence":
            system["path"] = str(folder)
    return Inventory.model_validate(data)


def test_the_demo_body_camera_has_a_clip_made_at_start_that_plays(tmp_path: Path) -> None:
    folder = tmp_path / "evidence"
    inventory = demo_inventory(folder)
    (line,) = prepare_evidence(inventory, NOW - timedelta(hours=1), seconds=4)
    (line,) = prepare_evidence(inventory, NOW, seconds=4)  # a second start replaces the first start's clip
    assert line == f"ncpb-evidence at {folder} (1 clip(s) of 4 s, digital_ally)"
    assert sorted(p.name for p in folder.iterdir()) == ["demo-FV-0003-20260914T125856Z.mp4",
                                                         "demo-FV-0003-20260914T125856Z.mtd"]  # fmt: skip
    mtd = (folder / "demo-FV-0003-20260914T125856Z.mtd").read_text()
    assert "Unit Serial: FV-0003\n" in mtd and "Event Start: 2026-09-14T12:58:56Z\n" in mtd
    assert "GPS: 2026-09-14T12:58:56Z, 41.146800, -73.494600\n" in mtd  # the lot, from the camera's site

    (system,) = [s for s in inventory.systems if s.adapter == "evidence"]
    adapter = EvidenceAdapter(SystemSpec(system.id, system.adapter, None, system.settings | {"settle_seconds": 0}))

    async def play() -> int:
        try:
            recording = await adapter.recording("FV-0003", NOW - timedelta(hours=1), NOW)
            return len(recording.segments)
        finally:
            await adapter.aclose()

    assert asyncio.run(play()) == 2  # 4 s in 2-second segments
    assert adapter.health()["problems"] == {}


def test_camgate_demo_serves_the_clip_it_made_to_a_supervisor(tmp_path: Path) -> None:
    with BrokerProcess.start(tmp_path) as broker:
        assert f"Evidence folders (a body-camera clip made now; play it back as a supervisor): ncpb-evidence at " \
               f"{tmp_path / 'evidence' / 'ncpb'}" in broker.log()  # fmt: skip
        supervisor = broker.token("sgt-diaz", "ncpd", "supervisor")
        start = format_instant(datetime.now(UTC) - timedelta(minutes=10))
        url = f"{broker.url}/api/v1/cameras/pb-body-03/playback.m3u8?start={start}&access_token={supervisor}"
        r = wait_for_answer(url)
        assert r.status_code == 200, r.text
        assert r.text.count("#EXTINF:") == 10  # the 20-second clip in 2-second segments
        live = httpx.get(url.replace("playback.m3u8", "live.m3u8"), timeout=30)
        assert live.status_code == 403 and live.json()["reason"] == "no_emergency"  # P3: live only in an emergency


def wait_for_answer(url: str) -> httpx.Response:
    """The first answer that is not "nothing recorded yet" (the watcher takes the clip at its first look)."""
    answers: list[httpx.Response] = []

    def answered() -> bool:
        answers.append(httpx.get(url, timeout=30))
        return answers[-1].json().get("error") != "no_recording" if answers[-1].status_code != 200 else True

    wait_for(answered, 30, "the demo's clip to be playable")
    return answers[-1]
