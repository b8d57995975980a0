"""A camera that drops and comes back: the gateway restarts ffmpeg with a doubling backoff, and a real ffmpeg
client reading through the broker keeps playing across the gap (one media sequence, a discontinuity)."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import pytest

from tests.fakes.rtsp import FakeRtspCamera
from tests.gateway.rig import PASSWORD, SYSTEM, USER, frames, rtsp_broker

pytestmark = pytest.mark.video


@pytest.fixture
def own_camera(rtsp_clip: Path) -> Iterator[FakeRtspCamera]:
    with FakeRtspCamera(rtsp_clip, mounts=("/cam1",), username=USER, password=PASSWORD) as cam:
        yield cam


def test_viewers_resume_after_the_camera_drops_and_comes_back(
    tmp_path: Path, own_camera: FakeRtspCamera, caplog: pytest.LogCaptureFixture
) -> None:
    with rtsp_broker(tmp_path, own_camera) as rig:
        url = rig.live_url("saxe-rtsp-01")
        assert rig.get(url).status_code == 200
        client = subprocess.Popen(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-hide_banner",
                "-nostdin",
                "-i",
                url,
                "-t",
                "6",
                "-map",
                "0:v",
                "-c",
                "copy",
                "-f",
                "null",
                "-",
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(1.5)
            own_camera.drop()  # the camera vanishes mid-stream...
            time.sleep(2)
            own_camera.come_back()  # ...and returns on the same port
            _, err = client.communicate(timeout=60)
        finally:
            client.kill()
        status = rig.services.gateway_status(SYSTEM)
        playlist = rig.get(url).text
    # Before the drop the client could have had ~1.5 s plus the playlist's few seconds: 6 s means it resumed.
    assert client.returncode == 0 and frames(err) >= 55, err[-800:]
    assert status is not None and status["restarts"] >= 2 and status["processes"] == 1
    assert "#EXT-X-DISCONTINUITY" in playlist or "#EXT-X-DISCONTINUITY-SEQUENCE:0" not in playlist
    waits = [float(w) for w in re.findall(r"dropped, restart in ([\d.]+) s", caplog.text)]
    assert waits[:2] == [0.5, 1.0]  # the backoff doubled while the camera was away
