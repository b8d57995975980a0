"""Pre-event footage of an RTSP camera: with ``gateway: {record: [ref]}`` the gateway records it with no viewer,
and the broker's playback route serves the rolling recording (a real ffmpeg plays it through the broker); a
camera nobody watched has none. The snapshot of a camera without one of its own is a frame of its live video."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from broker.timeutil import format_instant
from tests.fakes.rtsp import FakeRtspCamera
from tests.gateway.rig import frames, read_video, rtsp_broker
from tests.waiting import wait_for

pytestmark = pytest.mark.video


def test_recorded_footage_before_anyone_watched_plays_back_through_the_broker(
    tmp_path: Path, camera: FakeRtspCamera
) -> None:
    with rtsp_broker(tmp_path, camera, gateway={"retention_seconds": 60}, gateway_block={"record": ["cam1"]}) as rig:
        started = rig.services.clock.now()
        gateway = rig.gateway
        wait_for(lambda: sum(len(s.index) for s in gateway._streams.values()) >= 3, 30, "three recorded segments")
        assert rig.services.sessions.viewers("live") == {}  # nobody watched: recorded all the same
        end = rig.services.clock.now()
        window = f"start={format_instant(started - timedelta(seconds=5))}&end={format_instant(end)}"
        vod = rig.get(f"/api/v1/cameras/saxe-rtsp-01/playback.m3u8?{window}")
        assert vod.status_code == 200, vod.text
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in vod.text and vod.text.count("#EXTINF") >= 2 and "rtsp://" not in vod.text
        played = read_video(
            f"{rig.url}/api/v1/cameras/saxe-rtsp-01/playback.m3u8?{window}&access_token={rig.token()}", 30
        )
        assert played.returncode == 0 and frames(played.stderr) >= 15, played.stderr[-800:]
        never = rig.get(f"/api/v1/cameras/saxe-rtsp-02/playback.m3u8?{window}")
        assert never.status_code == 404 and never.json()["error"] == "no_recording"
        shot = rig.get("/api/v1/cameras/saxe-rtsp-01/snapshot.jpg")  # no snapshot service: a frame of the video
        assert shot.status_code == 200 and shot.headers["content-type"] == "image/jpeg"
        assert shot.content[:2] == b"\xff\xd8" and len(shot.content) > 1000
