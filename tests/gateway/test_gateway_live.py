"""The RTSP gateway end to end: GStreamer's RTSP server (tests/fakes/rtsp.py) behind a real broker on 127.0.0.1,
real ffmpeg clients reading live H.264 through the broker's HLS routes; one gateway process however many viewers;
idle stop; the process limit's 503; the camera's URL and credentials nowhere a viewer or a log can see them."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.fakes.rtsp import FakeRtspCamera
from tests.gateway.rig import PASSWORD, SYSTEM, USER, Rig, frames, read_video, rtsp_broker, write_documents
from tests.waiting import wait_for

pytestmark = pytest.mark.video
SECRETS = (PASSWORD, quote(PASSWORD, safe=""), f"{USER}:")


def leaks(text: str, camera: FakeRtspCamera) -> list[str]:
    """What of the camera's URL or credentials ``text`` shows."""
    return [s for s in (*SECRETS, "rtsp://", f":{camera.port}/") if s in text]


def test_live_video_through_the_broker_never_shows_the_url_or_credentials(
    tmp_path: Path, camera: FakeRtspCamera, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    with rtsp_broker(tmp_path, camera) as rig:
        playlist = rig.get(rig.live_url("saxe-rtsp-01"))
        assert playlist.status_code == 200 and playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
        assert "#EXT-X-PROGRAM-DATE-TIME" in playlist.text and leaks(playlist.text, camera) == []
        done = read_video(rig.live_url("saxe-rtsp-01"), 2)
        assert done.returncode == 0, done.stderr[-800:]
        assert "Video: h264" in done.stderr and frames(done.stderr) >= 15  # 10 fps
        listing = rig.get("/api/v1/cameras?site=ncps-saxe")
        assert listing.status_code == 200 and leaks(listing.text, camera) == []
        status = rig.services.gateway_status(SYSTEM)
        assert status is not None and status["processes"] == 1 and status["viewers"] == 1
        assert leaks(json.dumps(status), camera) == []
        operator = school_it(rig)
        systems = {s["id"]: s for s in rig.get("/api/v1/systems", token=operator).json()["systems"]}
        health = systems[SYSTEM]["gateway"]
        assert (health["processes"], health["viewers"], health["cameras"][0]["state"]) == (1, 1, "running")
        assert leaks(json.dumps(systems), camera) == [] and "pid" not in health["cameras"][0]
        (pid,) = rig.gateway.pids()
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        assert sorted(e for e in environ if e) == [b"LC_ALL=C", b"PATH=/usr/bin:/bin"]  # none of the broker's
    assert not Path(f"/proc/{pid}").exists() or b"ffmpeg" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert [s for s in SECRETS if s in caplog.text] == []  # ffmpeg's stderr redacted
    assert f"rtsp://127.0.0.1:{camera.port}/cam1" in caplog.text  # operators' logs name the camera, no credentials


async def watch(rig: Rig, token: str, segments: int, timeout: float = 30) -> int:
    """A player: reload the live playlist, fetch each new segment, until it has ``segments`` of them."""
    got: set[str] = set()
    async with httpx.AsyncClient(timeout=30) as client:
        deadline = time.monotonic() + timeout
        while len(got) < segments and time.monotonic() < deadline:
            playlist = await client.get(rig.live_url("saxe-rtsp-01", token))
            assert playlist.status_code == 200, playlist.text
            for uri in [line for line in playlist.text.splitlines() if line and not line.startswith("#")][-2:]:
                name = uri.split("?", 1)[0]
                if name not in got:
                    segment = await client.get(rig.url + uri)
                    if segment.status_code == 401 and segment.json().get("reason") == "expired":
                        continue  # a machine too busy to ask within the token's life: the next playlist signs anew
                    assert segment.status_code == 200 and segment.content[:1] == b"\x47", segment.text
                    got.add(name)
            await asyncio.sleep(0.5)
    return len(got)


def test_fifty_viewers_share_one_gateway_process_and_one_rtsp_connection(
    tmp_path: Path, camera: FakeRtspCamera
) -> None:
    with rtsp_broker(tmp_path, camera) as rig:
        before = camera.clients
        tokens = [rig.token(f"officer-{i:02d}") for i in range(50)]

        async def everyone() -> list[int]:
            players = [watch(rig, t, 3) for t in tokens[3:]]
            clients = [asyncio.to_thread(read_video, rig.live_url("saxe-rtsp-01", t), 3) for t in tokens[:3]]
            results = await asyncio.gather(*players, *clients)
            for done in results[len(players) :]:
                assert done.returncode == 0 and frames(done.stderr) >= 25, done.stderr[-500:]  # type: ignore[union-attr]
            assert rig.services.gateway_status(SYSTEM)["viewers"] == 50  # type: ignore[index]
            return [r for r in results[: len(players)] if isinstance(r, int)]

        counts = asyncio.run(everyone())
        assert min(counts) == 3  # every player got new video
        assert camera.clients - before == 1  # one RTSP client on the camera...
        assert len(rig.gateway.pids()) == 1  # ...one ffmpeg for all fifty


def test_an_idle_camera_stops_and_the_process_limit_answers_503(tmp_path: Path, camera: FakeRtspCamera) -> None:
    with rtsp_broker(tmp_path, camera, gateway={"max_processes": 1, "idle_seconds": 1.5}) as rig:
        assert rig.get(rig.live_url("saxe-rtsp-01")).status_code == 200
        (pid,) = rig.gateway.pids()
        busy = rig.get(rig.live_url("saxe-rtsp-02"))
        assert busy.status_code == 503 and busy.headers["retry-after"] == "10"
        assert busy.json()["error"] == "gateway_busy" and "try again" in busy.json()["message"]
        wait_for(lambda: rig.gateway.pids() == [], 10, "the idle camera's ffmpeg to stop")
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), 10, "the process to be gone")
        assert rig.get(rig.live_url("saxe-rtsp-02")).status_code == 200  # the slot is free again


def test_refused_credentials_answer_502_quickly_without_the_secret(tmp_path: Path, camera: FakeRtspCamera) -> None:
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password-7\n")
    with rtsp_broker(tmp_path, camera, password_file=str(wrong)) as rig:
        started = time.monotonic()
        refused = rig.get(rig.live_url("saxe-rtsp-01"))
        assert refused.status_code == 502 and time.monotonic() - started < 8
        assert refused.json()["error"] == "upstream_auth" and "not-the-password" not in refused.text
        status = rig.services.gateway_status(SYSTEM)
        assert status is not None and "401" in str(status["last_error"])
        assert "not-the-password" not in json.dumps(status) and "rtsp://" not in json.dumps(status)


def test_a_reload_that_retires_the_system_stops_its_processes(tmp_path: Path, camera: FakeRtspCamera) -> None:
    with rtsp_broker(tmp_path, camera) as rig:
        assert rig.get(rig.live_url("saxe-rtsp-01")).status_code == 200
        (pid,) = rig.gateway.pids()
        write_documents(tmp_path, camera, transport="udp")  # the system's entry changed: a new adapter
        operator = school_it(rig)
        reloaded = httpx.post(
            f"{rig.url}/api/v1/admin/reload", headers={"Authorization": f"Bearer {operator}"}, timeout=30
        )
        assert reloaded.status_code == 200 and reloaded.json()["systems_changed"] == [SYSTEM], reloaded.text
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), 10, "the retired system's ffmpeg to stop")
        assert rig.gateway.pids() == []


def school_it(rig: Rig) -> str:
    """A token of the RTSP system's own agency's operator (ncps): only they see its gateway (GET /api/v1/systems)."""
    assert rig.services.dev_issuer is not None
    return rig.services.dev_issuer.mint("it-admin", "ncps", ["operator"], now=rig.services.clock.now())
