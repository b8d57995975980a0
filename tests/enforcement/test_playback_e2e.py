"""End to end with real parts: pre-event footage. A real broker over HTTP, the simulated VMS encoding and
recording live H.264, the demo's emergency hook, and ffmpeg reading ``playback.m3u8``.

An officer watches an exterior camera, so the whole site records (as in the demo); dispatch declares an
emergency; the officer plays back the interior camera's 30 seconds before the declaration (ffmpeg gets real
H.264 frames, all dated before the declaration), a window starting 31 s before is refused, and ending the
emergency cuts the playback at its next segment.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from broker.demo.hooks import EmergencyRecording
from broker.demo.video import ffmpeg_exe
from broker.timeutil import format_instant, parse_instant
from tests.enforcement.district import running_district, token
from tests.waiting import wait_for

pytestmark = pytest.mark.video
THREAT = "Caller reports an armed intruder in the front office."
SITE = ["saxe-int-01", "saxe-ext-01"]


@pytest.fixture
def district(tmp_path: Path):
    """The example district; its school VMS records, Saxe's cameras grouped as in the demo."""
    with running_district(tmp_path, record_seconds=120, groups={ref: SITE for ref in SITE}, hold_seconds=60) as (
        url,
        services,
        vms,
    ):
        hook = EmergencyRecording(services, {"ncps-saxe": [(vms, SITE)]}, interval=0.5).start()
        try:
            yield url, services, vms
        finally:
            hook.stop()


def test_pre_event_footage_plays_back_through_the_broker(district, tmp_path):
    url, services, vms = district
    officer, dispatcher = token(services, "officer-kim", ["officer"]), token(services, "dispatch-lee", ["dispatcher"])
    ffmpeg = [ffmpeg_exe(), "-hide_banner", "-loglevel", "warning", "-rw_timeout", "5000000"]

    # Watching the exterior camera makes the whole site record, the interior camera too.
    live = httpx.get(f"{url}/api/v1/cameras/saxe-ext-01/live.m3u8?access_token={officer}", timeout=30)
    assert live.status_code == 200, live.text
    wait_for(lambda: len(vms.recorder.segments("saxe-int-01")) >= 6, 40, "the interior camera to be recorded")

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {dispatcher}"}, timeout=30) as api:
        r = api.post("/api/v1/emergencies", json={"mou": "ncps-ncpd-video", "site": "ncps-saxe", "threat": THREAT,
                                                   "duration_minutes": 30})  # fmt: skip
        assert r.status_code == 201, r.text
        emergency, declared = r.json()["id"], parse_instant(r.json()["declared_at"])
        assert "ncps-saxe" in EmergencyRecording(services, {}).poll()  # the hook sees it and holds the site

        def playback(seconds_before: int) -> str:
            start, end = format_instant(declared - timedelta(seconds=seconds_before)), format_instant(declared)
            return f"{url}/api/v1/cameras/saxe-int-01/playback.m3u8?start={start}&end={end}&access_token={officer}"

        # The 30 seconds before the declaration: a VOD playlist of what was recorded then, read by ffmpeg.
        playlist = httpx.get(playback(30), timeout=30)
        assert playlist.status_code == 200, playlist.text
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist.text and "#EXT-X-ENDLIST" in playlist.text
        dates = [parse_instant(x.split(":", 1)[1]) for x in playlist.text.splitlines() if "PROGRAM-DATE-TIME" in x]
        assert len(dates) >= 5 and all(declared - timedelta(seconds=30) <= d < declared for d in dates)
        out = tmp_path / "pre-event.ts"
        read = subprocess.run([*ffmpeg, "-i", playback(30), "-c", "copy", "-f", "mpegts", str(out)],
                              capture_output=True, timeout=60)  # fmt: skip
        assert read.returncode == 0, read.stderr[-2000:]
        probe = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(out), "-f", "null", "-"],
                               capture_output=True, text=True, timeout=60)  # fmt: skip
        assert "Video: h264" in probe.stderr and out.stat().st_size > 20_000, probe.stderr[-2000:]
        frames = [line for line in probe.stderr.splitlines() if "frame=" in line]
        assert frames and int(frames[-1].split("frame=")[1].split()[0]) >= 40  # >= 4 s at 10 fps, decoded

        # The 31st second before is not shared.
        refused = httpx.get(playback(31), timeout=30)
        assert refused.status_code == 403 and refused.json()["reason"] == "outside_playback_window"
        denied = subprocess.run([*ffmpeg, "-i", playback(31), "-f", "null", "-"], capture_output=True, timeout=60)
        assert denied.returncode != 0 and b"403" in denied.stderr

        # Ending the emergency cuts playback: the next segment request is decided again and refused.
        segment = next(line for line in playlist.text.splitlines() if line.startswith("/api/"))
        assert httpx.get(url + segment, timeout=30).status_code == 200
        assert api.post(f"/api/v1/emergencies/{emergency}/end").status_code == 200
        cut = httpx.get(url + segment, timeout=30)
        assert cut.status_code == 403 and cut.json()["reason"] == "no_emergency"

    records, _ = services.audit.query(camera="saxe-int-01", limit=1000)
    playbacks = [(r.allowed, r.reason) for r in records if r.kind == "decision" and r.action == "playback"]
    assert (True, "allowed") in playbacks and (False, "outside_playback_window") in playbacks
    assert playbacks[-1] == (False, "no_emergency")
    assert services.audit.verify().ok
