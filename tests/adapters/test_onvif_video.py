"""Live video: the stream URI and credentials the ONVIF adapter returns play in a real client. ffmpeg reads H.264
frames from the fake NVR's RTSP camera (GStreamer's RTSP server, digest authentication) for every camera the
adapter lists, and from the replay URI of a Profile G recording."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import imageio_ffmpeg
import pytest

from adapters.onvif import OnvifAdapter
from broker.adapterapi import RtspSource
from tests.adapters.onvif_rig import OnvifRig, run

pytestmark = pytest.mark.video


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnvifRig]:
    with OnvifRig.start(tmp_path_factory.mktemp("onvif-video")) as started:
        yield started


def frames(source: RtspSource, seconds: float = 1.5) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-rtsp_transport", source.transport,
         "-i", source.with_credentials(), "-t", str(seconds), "-map", "0:v", "-f", "framemd5", "-"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_every_listed_camera_plays_with_the_returned_credentials(rig: OnvifRig) -> None:
    async def use(a: OnvifAdapter) -> list[RtspSource]:
        return [await a.rtsp_source(c.ref) for c in await a.discover()]

    sources = run(rig.adapter(), use)
    assert [s.url.rsplit("/", 1)[1] for s in sources] == ["cam1", "cam2"]
    for source in sources:
        done = frames(source)
        assert done.returncode == 0, done.stderr[-500:]
        assert "Video: h264" in done.stderr
        assert len([line for line in done.stdout.splitlines() if not line.startswith("#")]) >= 5  # decoded frames


def test_without_the_credentials_the_stream_is_refused(rig: OnvifRig) -> None:
    source = run(rig.adapter(), lambda a: a.rtsp_source("Profile_1_main"))
    done = frames(RtspSource(source.url), 0.5)
    assert done.returncode != 0 and "401" in done.stderr


def test_a_recordings_replay_uri_plays(rig: OnvifRig) -> None:
    done = frames(run(rig.adapter(), lambda a: a.replay_source("Recording_1")))
    assert done.returncode == 0, done.stderr[-500:]
    assert "Video: h264" in done.stderr
