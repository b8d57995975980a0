"""``camgate demo`` serves an RTSP camera (GStreamer's RTSP server, a live encoder) that the broker offers as HLS
through its gateway: a real ffmpeg reads it through the broker, and its footage is recorded always, so the
minutes before anyone watched play back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from broker.timeutil import format_instant
from tests.api.broker_process import BrokerProcess
from tests.gateway.rig import frames, read_video
from tests.waiting import wait_for

pytestmark = pytest.mark.video
CAMERA = "saxe-ext-02"  # Saxe's bus loop: adapter rtsp, gateway: {record: always} in config/inventory.yaml


def test_the_demo_rtsp_camera_plays_through_the_broker_and_was_recorded_before_anyone_watched(tmp_path: Path) -> None:
    with BrokerProcess.start(tmp_path) as broker:
        booted = datetime.now(UTC)
        officer = broker.token("officer-kim", "ncpd", "officer")

        def recorded() -> bool:  # nobody watches: recorded all the same
            window = f"start={format_instant(booted - timedelta(seconds=30))}&end={format_instant(datetime.now(UTC))}"
            vod = httpx.get(f"{broker.url}/api/v1/cameras/{CAMERA}/playback.m3u8?{window}&access_token={officer}",
                            timeout=30)  # fmt: skip
            assert vod.status_code in (200, 404), vod.text
            return vod.status_code == 200 and vod.text.count("#EXTINF") >= 2

        wait_for(recorded, 30, "two recorded segments of the demo's RTSP camera")
        live = read_video(f"{broker.url}/api/v1/cameras/{CAMERA}/live.m3u8?access_token={officer}", 2)
        assert live.returncode == 0 and "Video: h264" in live.stderr and frames(live.stderr) >= 15, live.stderr[-600:]
