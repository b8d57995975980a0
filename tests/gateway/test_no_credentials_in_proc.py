"""A camera's credentials are in no process's argument vector or environment while it plays (issue 13, item 9:
``ps`` showed ``rtsp://user:password@…`` on the gateway's ffmpeg). Every process this user can read is looked at
(``/proc/*/cmdline`` and ``/proc/*/environ``, what ``ps e`` shows), the camera's own server included, with a
password made for this test so that no other run on the machine can hold it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.fakes.rtsp import FakeRtspCamera
from tests.gateway.rig import USER, frames, read_video, rtsp_broker

pytestmark = pytest.mark.video


def holding(needles: tuple[bytes, ...]) -> dict[int, str]:
    """pid → which of its listings (``cmdline``, ``environ``) holds one of ``needles``."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        for listing in ("cmdline", "environ"):
            try:
                data = (entry / listing).read_bytes()
            except OSError:  # ended meanwhile, or another user's
                continue
            if any(n in data for n in needles):
                found[int(entry.name)] = listing
    return found


@pytest.fixture(scope="module")
def password() -> str:
    return f"pw-{secrets.token_hex(8)}:@/"  # characters a URL's userinfo must percent-encode


@pytest.fixture(scope="module")
def own_camera(rtsp_clip: Path, password: str) -> Iterator[FakeRtspCamera]:
    with FakeRtspCamera(rtsp_clip, mounts=("/cam1", "/cam2"), username=USER, password=password) as cam:
        yield cam


def test_no_process_shows_the_password_while_the_camera_plays(
    tmp_path: Path, own_camera: FakeRtspCamera, password: str
) -> None:
    needles = (password.encode(), quote(password, safe="").encode(), password.split(":")[0].encode())
    with rtsp_broker(tmp_path, own_camera, password=password) as rig:
        playlist = rig.get(rig.live_url("saxe-rtsp-01"))
        assert playlist.status_code == 200, playlist.text
        (pid,) = rig.gateway.pids()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert argv[argv.index(b"-i") + 1].startswith(b"rtsp://127.0.0.1:")  # the relay's URL
        assert holding(needles) == {}
        done = read_video(rig.live_url("saxe-rtsp-01"), 2)  # and it really plays, through the relay
        assert done.returncode == 0 and frames(done.stderr) >= 15, done.stderr[-800:]
        assert holding(needles) == {}
