"""``camgate demo`` as ``make demo`` runs it: the default data folder, the relative ``.camgate`` (issue 13, item 5: the
RTSP camera ``saxe-ext-02`` never played, because its ffmpeg, run in its own work folder, was given paths relative
to the broker's). Every camera an officer may watch plays through the broker with a real ffmpeg client, the RTSP
one (GStreamer's RTSP server, through the broker's gateway) included; its footage is recorded always, so the
minutes before anyone watched play back. One demo for the module: starting one takes seconds."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from broker.timeutil import format_instant
from tests.api.broker_process import BrokerProcess
from tests.gateway.rig import frames, read_video
from tests.waiting import wait_for

pytestmark = pytest.mark.video
RTSP_CAMERA = "saxe-ext-02"  # Saxe's bus loop: adapter rtsp, gateway: {record: always} in config/inventory.yaml


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BrokerProcess, datetime]]:
    directory = tmp_path_factory.mktemp("demo-default-data")
    with BrokerProcess.start(directory, default_data=True) as broker:
        yield broker, datetime.now(UTC)


def test_the_data_folder_is_the_relative_default(demo: tuple[BrokerProcess, datetime]) -> None:
    broker, _ = demo
    assert "CAMGATE_DATA_DIR" not in broker.env and (broker.cwd / ".camgate" / "camgate.db").is_file()


def test_the_data_folder_is_made_private(demo: tuple[BrokerProcess, datetime]) -> None:
    """Issue 13 item 16: the data folder is created 0700. The demo made it 0755 (the simulated VMS's recording
    folders, made first with the default mode), and /readyz warned about it on a fresh ``make demo``."""
    broker, _ = demo
    assert stat.S_IMODE((broker.cwd / ".camgate").stat().st_mode) == 0o700
    ready = httpx.get(f"{broker.url}/readyz", timeout=30)
    assert ready.status_code == 200 and ready.json()["warnings"] == [], ready.text


def test_the_rtsp_camera_was_recorded_before_anyone_watched(demo: tuple[BrokerProcess, datetime]) -> None:
    broker, booted = demo
    officer = broker.token("officer-kim", "ncpd", "officer")

    def recorded() -> bool:  # nobody watches: recorded all the same
        window = f"start={format_instant(booted - timedelta(seconds=30))}&end={format_instant(datetime.now(UTC))}"
        url = f"{broker.url}/api/v1/cameras/{RTSP_CAMERA}/playback.m3u8?{window}&access_token={officer}"
        vod = httpx.get(url, timeout=30)
        assert vod.status_code in (200, 404), vod.text
        return vod.status_code == 200 and vod.text.count("#EXTINF") >= 2

    wait_for(recorded, 30, "two recorded segments of the demo's RTSP camera")


def test_every_camera_an_officer_may_watch_plays(demo: tuple[BrokerProcess, datetime]) -> None:
    broker, _ = demo
    officer = broker.token("officer-kim", "ncpd", "officer")
    listing = httpx.get(f"{broker.url}/api/v1/cameras", headers={"Authorization": f"Bearer {officer}"}, timeout=30)
    assert listing.status_code == 200, listing.text
    watchable = [c["id"] for c in listing.json()["cameras"] if c["live"]["allowed"]]
    assert RTSP_CAMERA in watchable and len(watchable) >= 5, watchable

    def play(camera: str) -> tuple[str, int, str]:
        url = f"{broker.url}/api/v1/cameras/{camera}/live.m3u8?access_token={officer}"
        # a camera's encoder starts on first demand; on a busy machine its first segment can take longer than
        # the broker waits (504, asked again as a player would); a refusal or a 502 fails at once
        wait_for(lambda: httpx.get(url, timeout=60).status_code not in (503, 504), 60, f"{camera}'s first segment")
        read = read_video(url, 1)
        return camera, frames(read.stderr) if read.returncode == 0 else -1, read.stderr[-300:]

    with ThreadPoolExecutor(3) as pool:  # two cores: a few at a time
        played = list(pool.map(play, watchable))
    failed = [(camera, tail) for camera, count, tail in played if count < 5]
    assert failed == [], f"{failed}\n{broker.log()[-2000:]}"
