"""The fake RTSP camera the gateway and RTSP adapters are tested against: a real client (ffmpeg) reads real H.264
from it, wrong credentials are refused, and it can drop and come back on the same port."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import imageio_ffmpeg
import pytest

from tests.fakes.rtsp import FakeRtspCamera, build_rtsp_clip

pytestmark = pytest.mark.video


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeRtspCamera]:
    clip = build_rtsp_clip(tmp_path_factory.mktemp("rtsp"))
    with FakeRtspCamera(clip, mounts=("/cam1", "/cam2"), username="camgate", password="s3 cr@t") as cam:
        yield cam


def read(url: str, seconds: float = 1.5) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-rtsp_transport", "tcp", "-i", url, "-t", str(seconds),
         "-c", "copy", "-f", "null", "-"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def authed(camera: FakeRtspCamera, mount: str) -> str:
    return camera.url(mount).replace("rtsp://", "rtsp://camgate:s3%20cr%40t@")


def test_a_real_client_reads_h264_from_each_mount(camera: FakeRtspCamera) -> None:
    before = camera.clients
    for mount in ("/cam1", "/cam2"):
        done = read(authed(camera, mount))
        assert done.returncode == 0, done.stderr[-500:]
        assert "Video: h264" in done.stderr
    assert camera.clients >= before + 2


def test_wrong_credentials_are_refused(camera: FakeRtspCamera) -> None:
    done = read(camera.url("/cam1").replace("rtsp://", "rtsp://camgate:wrong@"))
    assert done.returncode != 0 and "401" in done.stderr


def test_the_camera_drops_and_comes_back_on_the_same_port(camera: FakeRtspCamera, tmp_path: Path) -> None:
    camera.drop()
    assert read(authed(camera, "/cam1"), 0.5).returncode != 0
    camera.come_back()
    assert read(authed(camera, "/cam1"), 0.5).returncode == 0
