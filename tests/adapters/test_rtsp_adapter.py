"""The generic RTSP adapter: settings refused with the setting named (never a secret's value), one URL per camera
from a template or a path per camera, credentials kept apart from the URL, and a real ffmpeg reading live H.264
from the source it gives against GStreamer's RTSP server."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest

from adapters.rtsp import RtspAdapter
from broker.adapterapi import (
    AdapterConfigError,
    AdapterError,
    CameraSystemAdapter,
    NotSupported,
    RtspCameraSystem,
    RtspSource,
    SystemSpec,
)
from broker.inventory.adapters import load_adapter, load_hls_adapter
from tests.fakes.rtsp import FakeRtspCamera, build_rtsp_clip


def spec(base_url: str | None = None, **settings: Any) -> SystemSpec:
    return SystemSpec("lot", "rtsp", base_url, settings)


def source(adapter: RtspAdapter, ref: str) -> RtspSource:
    return asyncio.run(adapter.rtsp_source(ref))


def test_registered_as_an_rtsp_system_the_gateway_wraps() -> None:
    adapter = load_adapter(spec(url_template="rtsp://10.0.0.5:554/{ref}"))
    assert isinstance(adapter, RtspAdapter) and isinstance(adapter, RtspCameraSystem)
    assert not isinstance(adapter, CameraSystemAdapter)
    with pytest.raises(AdapterConfigError, match="an RTSP system needs the broker's RTSP gateway"):
        load_hls_adapter(spec(url_template="rtsp://10.0.0.5:554/{ref}"))


def test_a_url_per_camera_from_the_template_or_its_path(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("p@ss w:rd\n")
    templated = RtspAdapter(spec(url_template="rtsp://10.0.0.5:554/{ref}", username="viewer",
                                 password_file=str(secret)))  # fmt: skip
    got = source(templated, "Streaming/Channels/101")
    assert got.url == "rtsp://10.0.0.5:554/Streaming/Channels/101" and got.transport == "tcp"
    assert (got.username, got.password) == ("viewer", "p@ss w:rd") and "p@ss" not in repr(got)
    assert got.with_credentials() == "rtsp://viewer:p%40ss%20w%3Ard@10.0.0.5:554/Streaming/Channels/101"
    assert source(templated, "gate 2").url == "rtsp://10.0.0.5:554/gate%202"  # percent-encoded, never raw
    for bad in ("../admin", "a/../../b", "/etc"):
        with pytest.raises(AdapterError) as refused:
            source(templated, bad)
        assert refused.value.status == 404
    paths = RtspAdapter(spec("rtsp://10.0.0.9:8554/", cameras={"gym-01": "live/ch1", "gym-02": "rtsp://10.0.0.8/x"},
                             transport="udp"))  # fmt: skip
    assert source(paths, "gym-01").url == "rtsp://10.0.0.9:8554/live/ch1" and source(paths, "gym-01").username is None
    assert source(paths, "gym-02").url == "rtsp://10.0.0.8/x" and source(paths, "gym-02").transport == "udp"
    with pytest.raises(AdapterError, match="no camera 'gym-03'") as unknown:
        source(paths, "gym-03")
    assert unknown.value.status == 404
    query = RtspAdapter(spec(url_template="rtsp://cam.local/axis-media/media.amp?camera={ref}"))
    assert source(query, "2").url == "rtsp://cam.local/axis-media/media.amp?camera=2"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "give url_template or cameras"),
        ({"url_template": "rtsp://h/"}, "setting 'url_template': must contain '{ref}' exactly once"),
        ({"url_template": "rtsp://{ref}/live"}, "setting 'url_template': '{ref}' must be in the path or query"),
        ({"url_template": "rtsp://h/{ref}/{x}"}, "no other '{'"),
        ({"url_template": "live/{ref}"}, "is relative but the system has no base_url"),
        ({"url_template": "http://h/{ref}"}, "setting 'url_template': not an rtsp:// URL"),
        ({"url_template": "rtsp://admin:pw@h/{ref}"}, "credentials go in username and password_env, not the URL"),
        ({"cameras": {"a": "/abs"}}, "setting 'cameras.a': a relative path must not start with '/'"),
        ({"url_template": "rtsp://h/{ref}", "password_env": "PW"}, "a password needs a username"),
        ({"url_template": "rtsp://h/{ref}", "username": "u", "password_env": "PW", "password_file": "/f"},
         "give one of password_env or password_file"),
        ({"url_template": "rtsp://h/{ref}", "username": "u", "password_env": "CAMGATE_TEST_UNSET_PW"},
         "setting 'password_env': environment variable 'CAMGATE_TEST_UNSET_PW' is not set"),
        ({"url_template": "rtsp://h/{ref}", "transport": "http"}, "setting 'transport'"),
        ({"url_template": "rtsp://h/{ref}", "snapshot_path": "x"}, "setting 'snapshot_path'"),
    ],
)  # fmt: skip
def test_bad_settings_name_the_setting(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(AdapterConfigError, match=message.replace("{", r"\{").replace("?", r"\?")):
        RtspAdapter(spec(**settings))


def test_the_password_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOT_PW", "from-env-9")
    adapter = RtspAdapter(spec(url_template="rtsp://h/{ref}", username="u", password_env="LOT_PW"))
    assert source(adapter, "c").password == "from-env-9" and "from-env-9" not in repr(adapter)


def test_no_snapshot_or_recordings_of_its_own() -> None:
    adapter = RtspAdapter(spec(url_template="rtsp://h/{ref}"))

    async def asks() -> list[str]:
        refused = []
        for call in (adapter.snapshot("c"), adapter.recording("c", *_window()), adapter.resource("r")):
            try:
                await call
            except NotSupported as exc:
                refused.append(str(exc))
        return refused

    assert len(asyncio.run(asks())) == 3  # the gateway takes frames and keeps the rolling recording


def _window() -> tuple[Any, Any]:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    return now - timedelta(minutes=1), now


@pytest.mark.video
def test_a_real_client_reads_live_video_from_its_source_and_wrong_credentials_are_refused(tmp_path: Path) -> None:
    clip = build_rtsp_clip(tmp_path)
    (tmp_path / "pw").write_text("right-pw\n")
    (tmp_path / "bad").write_text("wrong-pw\n")
    with FakeRtspCamera(clip, mounts=("/cam1",), username="viewer", password="right-pw") as cam:
        base = f"rtsp://127.0.0.1:{cam.port}/"
        for secret, ok in (("pw", True), ("bad", False)):
            adapter = RtspAdapter(
                spec(base, url_template="{ref}", username="viewer", password_file=str(tmp_path / secret))
            )
            src = source(adapter, "cam1")
            done = subprocess.run(
                [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-rtsp_transport", src.transport, "-i",
                 src.with_credentials(), "-t", "1", "-c", "copy", "-f", "null", "-"],
                capture_output=True, text=True, timeout=30,
            )  # fmt: skip
            assert (done.returncode == 0 and "Video: h264" in done.stderr) if ok else "401" in done.stderr
