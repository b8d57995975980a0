"""The contract through the broker (``through.py``: one broker per rig for the module): ffmpeg reads each live rig's
H.264 through ``live.m3u8`` with a viewer's token (an RTSP system through the broker's gateway), and each recording
rig's footage through ``playback.m3u8`` (the system's own, or the gateway's rolling recording of an RTSP camera);
snapshots are JPEGs or 501; a system reached by RTSP alone fails with the broker's clear errors. The device's
password is in no playlist, answer or status the broker gives."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from broker.timeutil import format_instant
from tests.adapters.contract.rigs import RIGS, Rig, RigKind, rigs
from tests.adapters.contract.through import RTSP_TIMEOUT, Served, serve
from tests.gateway.rig import frames, read_video
from tests.waiting import wait_for

pytestmark = pytest.mark.video
FIRST = "contract-ext-01"


def each(where: Callable[[RigKind], bool] = lambda kind: True) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("rig", rigs(where), indirect=True)


@pytest.fixture(scope="module")
def served(rig: Rig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp(f"broker-{rig.name}"), rig) as running:
        yield running


def assert_nothing_leaks(served: Served, *texts: str) -> None:
    for text in texts:
        assert "rtsp://" not in text and (served.rig.secret is None or served.rig.secret not in text), text[:400]


def gateway_camera(served: Served, system: str, ref: str) -> dict[str, Any]:
    status = served.services.gateway_status(system)
    assert status is not None, f"no gateway runs for {system}"
    assert_nothing_leaks(served, str(status))
    return next((c for c in status["cameras"] if c["ref"] == ref), {"segments": 0, "last_error": None})


@each(lambda kind: kind.live)
def test_live_video_through_the_broker(served: Served) -> None:
    playlist = served.get(FIRST, "live.m3u8")
    assert playlist.status_code == 200, playlist.text
    assert_nothing_leaks(served, playlist.text)
    read = read_video(served.url_of(FIRST, "live.m3u8"), 1)
    assert read.returncode == 0 and "Video: h264" in read.stderr and frames(read.stderr) >= 8, read.stderr[-800:]
    if RIGS[served.rig.name].serves == "rtsp":
        status = served.services.gateway_status(served.rig.system_id)
        assert status is not None and status["processes"] == 1


@each(lambda kind: kind.records)
def test_recorded_footage_through_the_broker(served: Served) -> None:
    rig = served.rig
    if RIGS[rig.name].recording:
        assert rig.window is not None
        start, end = rig.window[0] - timedelta(seconds=1), rig.window[1]
    else:  # the gateway records what it runs: a viewer starts the camera, its segments are the footage
        assert served.get(FIRST, "live.m3u8").status_code == 200
        ref = served.cameras[FIRST]
        wait_for(lambda: gateway_camera(served, rig.system_id, ref)["segments"] >= 4, 30, "four recorded segments")
        start, end = served.started - timedelta(seconds=5), datetime.now(UTC)
    window = {"start": format_instant(start), "end": format_instant(end)}
    vod = served.get(FIRST, "playback.m3u8", **window)
    assert vod.status_code == 200, vod.text
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in vod.text and vod.text.count("#EXTINF") >= 2, vod.text
    assert_nothing_leaks(served, vod.text)
    played = read_video(served.url_of(FIRST, "playback.m3u8", **window), 30)
    assert played.returncode == 0 and "Video: h264" in played.stderr, played.stderr[-800:]
    assert frames(played.stderr) >= 15, played.stderr[-800:]  # 10 fps: at least two segments' worth


@each()
def test_a_snapshot_through_the_broker_is_a_jpeg_or_501(served: Served) -> None:
    kind = RIGS[served.rig.name]
    shot = served.get(FIRST, "snapshot.jpg")
    if kind.snapshot or kind.serves == "rtsp":  # the system's own, or a frame of the gateway's live video
        assert shot.status_code == 200 and shot.headers["content-type"] == "image/jpeg", shot.text[:300]
        assert shot.content.startswith(b"\xff\xd8\xff") and len(shot.content) > 1000
    else:
        assert shot.status_code == 501 and shot.json()["error"] == "snapshot_unsupported", shot.text


@each(lambda kind: not kind.live)
def test_a_system_without_live_video_is_501_saying_so(served: Served) -> None:
    live = served.get(FIRST, "live.m3u8")
    assert live.status_code == 501 and live.json()["error"] == "live_unsupported", live.text


@each(lambda kind: kind.asks == "stream")
def test_a_camera_refusing_the_password_is_502_upstream_auth(served: Served) -> None:
    refused = served.get("contract-wrong", "live.m3u8")
    assert refused.status_code == 502 and refused.json()["error"] == "upstream_auth", refused.text
    assert_nothing_leaks(served, refused.text)
    assert "401" in gateway_camera(served, f"{served.rig.system_id}-wrong", served.rig.expected[0][0])["last_error"]


@each(lambda kind: kind.asks == "stream")
def test_a_camera_that_never_answers_is_504_within_the_rtsp_timeout(served: Served) -> None:
    started = time.monotonic()
    silent = served.get("contract-hang", "live.m3u8")
    elapsed = time.monotonic() - started
    assert silent.status_code == 504 and silent.json()["error"] == "upstream_timeout", silent.text
    assert RTSP_TIMEOUT <= elapsed <= RTSP_TIMEOUT + 3, elapsed
    camera = gateway_camera(served, f"{served.rig.system_id}-hang", served.rig.expected[0][0])
    assert "Connection timed out" in camera["last_error"]


@each(lambda kind: kind.asks == "stream")
def test_a_malformed_answer_is_502_and_the_gateway_says_what_was_wrong(served: Served) -> None:
    broken = served.get("contract-malformed", "live.m3u8")
    assert broken.status_code == 502 and broken.json()["error"] == "upstream_error", broken.text
    camera = gateway_camera(served, f"{served.rig.system_id}-malformed", served.rig.expected[0][0])
    assert re.search(served.rig.malformed, camera["last_error"]), camera["last_error"]  # ffmpeg's own words
