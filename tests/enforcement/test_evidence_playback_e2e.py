"""End to end with real parts: a body camera's evidence folder behind a real broker over HTTP.

The demo's inventory and MOUs (``config/inventory.yaml``, ``policies/mou``): pb-body-03 is a Digital Ally body
camera whose exports land in a folder. Under the parking MOU a supervisor may play body-worn footage up to 30
days old (grant P2), an officer only from 30 s before a declared emergency (P3). Clips are real MP4 (H.264 +
AAC) repackaged by the adapter; ffmpeg reads the broker's VOD playlist and decodes real frames. The broker's
clock is a FakeClock; the folder is looked at only when the test says so (``poll()``), never on a timer.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from adapters.evidence import EvidenceAdapter
from broker.api import create_app
from broker.api.services import Services
from broker.clock import FakeClock
from broker.demo.video import ffmpeg_exe
from broker.settings import load_settings
from broker.timeutil import format_instant, parse_instant
from tests.fakes.evidence import EvidenceFolder, make_test_clip
from tests.fakes.servers import serve_in_thread
from tests.paths import MODEL, REPO

pytestmark = pytest.mark.video
CAMERA, DEVICE = "pb-body-03", "FV-0003"
NOW = datetime.now(UTC).replace(microsecond=0)
THREAT = "Driver threatening the parking officer with a tire iron"


@dataclass
class Bureau:
    url: str
    services: Services
    clock: FakeClock
    folder: EvidenceFolder

    @property
    def evidence(self) -> EvidenceAdapter:
        adapter = self.services.pool.get("ncpb-evidence")
        assert isinstance(adapter, EvidenceAdapter)
        return adapter

    def token(self, role: str) -> str:
        assert self.services.dev_issuer is not None
        return self.services.dev_issuer.mint(f"{role}-1", "ncpd", [role], now=self.clock.now())

    def playback_url(self, role: str, start: datetime, end: datetime | None = None, camera: str = CAMERA) -> str:
        end_q = f"&end={format_instant(end)}" if end else ""
        return (f"{self.url}/api/v1/cameras/{camera}/playback.m3u8?start={format_instant(start)}{end_q}"
                f"&access_token={self.token(role)}")  # fmt: skip

    def get(self, url: str) -> httpx.Response:
        return httpx.get(url, timeout=30)


@pytest.fixture
def bureau(tmp_path: Path) -> Iterator[Bureau]:
    inventory = yaml.safe_load((REPO / "config" / "inventory.yaml").read_text())
    (system,) = [s for s in inventory["systems"] if s["id"] == "ncpb-evidence"]
    # The watcher looks once at start; after that only the test's poll() does.
    system.update(path=str(tmp_path / "exports"), poll_interval_seconds=3600)
    (tmp_path / "inventory.yaml").write_text(yaml.safe_dump(inventory))
    settings = load_settings(mode="dev", data_dir=tmp_path / "data", policy={
        "inventory": tmp_path / "inventory.yaml", "mous": [REPO / "policies" / "mou"], "model": MODEL})  # fmt: skip
    clock = FakeClock(NOW)
    app = create_app(settings, clock=clock, housekeeping=False)
    folder = EvidenceFolder(tmp_path / "exports", make_test_clip(tmp_path / "clip", label="pb-body-03 evidence"))
    folder.path.mkdir()
    with serve_in_thread(app) as url:
        yield Bureau(url, app.state.services, clock, folder)


def dates(playlist: str) -> list[datetime]:
    return [parse_instant(x.split(":", 1)[1]) for x in playlist.splitlines() if "PROGRAM-DATE-TIME" in x]


def decode(url: str, out: Path) -> tuple[int, str]:
    """ffmpeg reads the playlist through the broker into ``out``; (decoded video frames, what ffmpeg said)."""
    read = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "warning", "-rw_timeout", "5000000", "-i", url,
                           "-c", "copy", "-f", "mpegts", str(out)], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert read.returncode == 0, read.stderr[-2000:]
    probe = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(out), "-map", "0:v", "-f", "null", "-"],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    frames = [line for line in probe.stderr.splitlines() if "frame=" in line]
    return int(frames[-1].split("frame=")[1].split()[0]) if frames else 0, probe.stderr


def decisions(b: Bureau) -> list[tuple[bool, str, str | None, Any]]:
    records, _ = b.services.audit.query(camera=CAMERA, limit=1000)
    return [(r.allowed, r.reason, r.grant, (r.details or {}).get("window")) for r in records
            if r.kind == "decision" and r.action == "playback"]  # fmt: skip


def test_a_supervisor_plays_the_clip_in_the_grants_window_and_nothing_older(bureau: Bureau, tmp_path: Path) -> None:
    b = bureau
    recorded = NOW - timedelta(minutes=10)
    b.folder.drop("FV-0003_1", DEVICE, recorded, fmt="digital_ally", age=120)
    b.evidence.poll()

    playlist = b.get(b.playback_url("supervisor", recorded - timedelta(minutes=5)))
    assert playlist.status_code == 200, playlist.text
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist.text and "#EXT-X-DISCONTINUITY" not in playlist.text
    assert dates(playlist.text) == [recorded + timedelta(seconds=s) for s in (0, 2, 4)]
    assert str(b.folder.path) not in playlist.text and "FV-0003_1" not in playlist.text  # nothing of the folder
    frames, said = decode(b.playback_url("supervisor", recorded - timedelta(minutes=5)), tmp_path / "out.ts")
    assert "Video: h264" in said and "Audio: aac" in said and frames == 60  # all 6 s at 10 fps, decoded

    # From the fourth second on: the segments that start in the window, nothing earlier.
    part = b.get(b.playback_url("supervisor", recorded + timedelta(seconds=3), recorded + timedelta(seconds=6)))
    assert dates(part.text) == [recorded + timedelta(seconds=4)]

    # P2 reaches back 30 days and not a second more; an officer has no always grant for body-worn footage.
    old = b.get(b.playback_url("supervisor", NOW - timedelta(days=30, seconds=1), NOW - timedelta(days=29)))
    assert old.status_code == 403, old.text
    assert old.json() | {"message": ""} == {"error": "access_denied", "message": "", "reason": "outside_playback_window",
                                            "mou": "ncpb-ncpd-video", "grant": "P2", "clause": "3"}  # fmt: skip
    officer = b.get(b.playback_url("officer", recorded - timedelta(minutes=5)))
    assert officer.status_code == 403 and officer.json()["reason"] == "no_emergency"
    assert [(a, r, g) for a, r, g, _ in decisions(b)] == [
        (True, "allowed", "P2"), (True, "allowed", "P2"), (True, "allowed", "P2"),
        (False, "outside_playback_window", "P2"), (False, "no_emergency", "P3")]  # fmt: skip


def test_a_dropped_clip_plays_within_seconds_and_an_emergency_window_is_decided_like_any(bureau: Bureau) -> None:
    b = bureau
    officer_live = f"{b.url}/api/v1/cameras/{CAMERA}/live.m3u8?access_token="
    with httpx.Client(base_url=b.url, headers={"Authorization": f"Bearer {b.token('dispatcher')}"}) as dispatch:
        r = dispatch.post("/api/v1/emergencies", json={"mou": "ncpb-ncpd-video", "site": "ncpb-lots", "threat": THREAT,
                                                        "incident": "NC-26-01500"})  # fmt: skip
        assert r.status_code == 201, r.text
    declared = parse_instant(r.json()["declared_at"])
    b.clock.advance(timedelta(minutes=2))

    # The officer's body camera has no live video: the decision allows it (P3), the system cannot give it.
    live = b.get(officer_live + b.token("officer"))
    assert live.status_code == 501, live.text
    assert live.json()["error"] == "live_unsupported" and "playback.m3u8" in live.json()["message"]

    window = (declared - timedelta(seconds=30), declared + timedelta(minutes=1))
    assert b.get(b.playback_url("officer", *window)).json()["error"] == "no_recording"
    started = time.monotonic()
    b.folder.drop("FV-0003_2", DEVICE, declared - timedelta(seconds=20), fmt="digital_ally")  # lands just now
    b.evidence.poll()  # first look: still settling
    assert b.get(b.playback_url("officer", *window)).json()["error"] == "no_recording"
    b.evidence.poll()  # unchanged since: taken, repackaged, playable
    r = b.get(b.playback_url("officer", *window))
    assert r.status_code == 200, r.text
    assert time.monotonic() - started < 15  # seconds, not minutes, from landing to playing (two looks)
    assert dates(r.text) == [declared - timedelta(seconds=s) for s in (20, 18, 16)]

    # The emergency grant reaches 30 s before the declaration, not 31.
    r31 = b.get(b.playback_url("officer", declared - timedelta(seconds=31), declared))
    assert r31.status_code == 403 and r31.json()["reason"] == "outside_playback_window" and r31.json()["grant"] == "P3"
    segment = next(x for x in r.text.splitlines() if x.startswith("/api/"))
    assert b.get(b.url + segment).status_code == 200
    assert b.services.audit.verify().ok
