"""The wrapper that offers an RTSP system as a CameraSystemAdapter: the pool loader, refs that name only gateway
segments, the system's own snapshot and recording when it has them (else a frame and the rolling recording),
clear errors (refused credentials, no video in time)."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from broker.adapterapi import (
    AdapterConfigError,
    AdapterError,
    AuthFailed,
    CameraSystemAdapter,
    Fetched,
    NotSupported,
    RecordedSegment,
    Recording,
    RtspSource,
    SystemSpec,
)
from broker.clock import FakeClock
from broker.gateway import Gateway, GatewayAdapter, gateway_loader
from broker.gateway.ffmpeg import ffmpeg_binary
from broker.settings import GatewaySettings
from broker.timeutil import format_instant
from tests.gateway.fakes import FakeLauncher

CFG = GatewaySettings(startup_timeout_seconds=0.3, list_size=3)


class Inner:
    """An RtspCameraSystem; ``own`` says whether it has snapshots and recordings of its own."""

    def __init__(self, spec: SystemSpec, own: bool = False) -> None:
        self.spec, self.own, self.closed = spec, own, False

    async def rtsp_source(self, camera_ref: str) -> RtspSource:
        return RtspSource(f"rtsp://10.1.1.1/{camera_ref}", "admin", "pw-secret-1")

    async def snapshot(self, camera_ref: str) -> Fetched:
        if not self.own:
            raise NotSupported("no snapshots")
        return Fetched(b"\xff\xd8own", "image/jpeg", camera_ref)

    async def recording(self, camera_ref: str, start: datetime, end: datetime) -> Recording:
        if not self.own:
            raise NotSupported("no recordings")
        return Recording((RecordedSegment("nvr/rec1.ts", start, 4.0),), 4.0)

    async def resource(self, ref: str) -> Fetched:
        if not self.own:
            raise NotSupported("no recordings")
        return Fetched(b"nvr-bytes", "video/mp2t", ref)

    async def aclose(self) -> None:
        self.closed = True


class Hls:
    def __init__(self, spec: SystemSpec) -> None:
        self.spec = spec

    async def live_playlist(self, camera_ref: str) -> Fetched: ...
    async def resource(self, ref: str) -> Fetched: ...
    def resolve(self, base_ref: str, uri: str) -> str: ...
    async def snapshot(self, camera_ref: str) -> Fetched: ...
    async def recording(self, camera_ref: str, start: datetime, end: datetime) -> Recording: ...
    async def aclose(self) -> None: ...


def spec(**settings: Any) -> SystemSpec:
    return SystemSpec("lot", "fake", None, settings)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def launcher() -> FakeLauncher:
    return FakeLauncher()


@pytest.fixture
def gateway(tmp_path: Path, clock: FakeClock, launcher: FakeLauncher) -> Gateway:
    return Gateway(CFG, tmp_path / "gw", clock, launcher=launcher)  # the real ffmpeg grabs frames


def test_the_loader_wraps_rtsp_systems_and_keeps_the_gateway_block_from_the_adapter(gateway: Gateway) -> None:
    seen: list[SystemSpec] = []

    def load(s: SystemSpec) -> Any:
        seen.append(s)
        return Hls(s) if s.adapter == "hls" else Inner(s)

    loader = gateway_loader(load, gateway)
    whole = spec(url_template="rtsp://h/{ref}", gateway={"record": ["cam1"]})
    wrapped = loader(whole)
    assert isinstance(wrapped, GatewayAdapter) and isinstance(wrapped, CameraSystemAdapter)
    assert wrapped.spec == whole and wrapped.record == ("cam1",)  # the pool compares the whole entry on reload
    assert seen[-1].settings == {"url_template": "rtsp://h/{ref}"}  # the adapter never sees 'gateway'
    hls = SystemSpec("vms", "hls", "http://vms/", {})
    assert isinstance(loader(hls), Hls)
    with pytest.raises(AdapterConfigError, match="setting 'gateway': only RTSP systems have a gateway block"):
        loader(SystemSpec("vms", "hls", "http://vms/", {"gateway": {"record": "always"}}))
    with pytest.raises(
        AdapterConfigError, match=r"system 'lot': setting 'gateway\.record': must be 'on_demand', 'always' or a list"
    ):
        loader(spec(gateway={"record": "sometimes"}))
    with pytest.raises(AdapterConfigError, match=r"gateway\.keep"):
        loader(spec(gateway={"keep": 1}))


def test_refs_name_gateway_segments_only(gateway: Gateway, launcher: FakeLauncher, clock: FakeClock) -> None:
    adapter = GatewayAdapter(spec(), Inner(spec()), gateway)

    async def scenario() -> tuple[Fetched, Fetched]:
        stream = await gateway.demand(adapter, "cam1")
        name = launcher.started[0].emit(clock.now())
        live = await adapter.live_playlist("cam1")
        ref = adapter.resolve(live.ref, name)
        assert ref == f"gw/{stream.key}/{name}"
        for bad in ("../s1.ts", "a/s1.ts", "http://x/s1.ts", "s1.m3u8", "live.m3u8", ".ts"):
            with pytest.raises(AdapterError):
                adapter.resolve(live.ref, bad)
        with pytest.raises(AdapterError):
            adapter.resolve("elsewhere/live.m3u8", name)
        for missing in (f"gw/{stream.key}/s0.ts", f"gw/{'0' * 24}/{name}"):
            with pytest.raises(AdapterError) as gone:
                await adapter.resource(missing)
            assert gone.value.status == 404
        return live, await adapter.resource(ref)

    live, segment = asyncio.run(scenario())
    assert b"rtsp" not in live.body and b"10.1.1.1" not in live.body and b"pw-secret" not in live.body
    assert segment.body.startswith(b"\x47") and segment.content_type == "video/mp2t"


def test_without_recordings_of_its_own_playback_comes_from_the_rolling_recording(
    gateway: Gateway, launcher: FakeLauncher, clock: FakeClock
) -> None:
    adapter = GatewayAdapter(spec(), Inner(spec()), gateway)
    start = clock.now()

    async def scenario() -> tuple[Recording, Recording, Fetched]:
        nothing = await adapter.recording("cam1", start - timedelta(hours=1), start)
        await gateway.demand(adapter, "cam1")
        for _ in range(5):
            launcher.started[0].emit(clock.now())
            clock.advance(1)
            await gateway.tick()
        recording = await adapter.recording("cam1", start + timedelta(seconds=1), start + timedelta(seconds=4))
        return nothing, recording, await adapter.resource(recording.segments[0].ref)

    nothing, recording, first = asyncio.run(scenario())
    assert nothing.segments == ()  # never watched: nothing recorded (the broker answers 404 no_recording)
    assert [format_instant(s.start) for s in recording.segments] == [
        format_instant(start + timedelta(seconds=i)) for i in (1, 2, 3)
    ]
    assert all(s.ref.startswith("gw/") and s.duration == 1.0 for s in recording.segments)
    assert first.body.startswith(b"\x47")


def test_a_system_with_its_own_snapshot_and_recordings_keeps_them(
    gateway: Gateway, launcher: FakeLauncher, clock: FakeClock
) -> None:
    inner = Inner(spec(), own=True)
    adapter = GatewayAdapter(spec(), inner, gateway)

    async def scenario() -> tuple[Fetched, Recording, Fetched]:
        shot = await adapter.snapshot("cam1")
        rec = await adapter.recording("cam1", clock.now() - timedelta(minutes=1), clock.now())
        seg = await adapter.resource(rec.segments[0].ref)
        await adapter.aclose()
        return shot, rec, seg

    shot, rec, seg = asyncio.run(scenario())
    assert shot.body == b"\xff\xd8own" and rec.segments[0].ref == "nvr/rec1.ts" and seg.body == b"nvr-bytes"
    assert launcher.started == [] and inner.closed  # the gateway was never needed


@pytest.mark.video
def test_without_a_snapshot_of_its_own_a_frame_of_the_live_video_is_taken(
    gateway: Gateway, launcher: FakeLauncher, clock: FakeClock, rtsp_clip: Path
) -> None:
    adapter = GatewayAdapter(spec(), Inner(spec()), gateway)

    async def scenario() -> Fetched:
        task = asyncio.ensure_future(adapter.snapshot("cam1"))
        while not launcher.started:
            await asyncio.sleep(0.01)
        name = launcher.started[0].emit(clock.now())
        shutil.copy(rtsp_clip, launcher.started[0].directory / name)  # real H.264 in MPEG-TS
        return await task

    shot = asyncio.run(scenario())
    assert shot.body.startswith(b"\xff\xd8") and shot.content_type == "image/jpeg" and len(shot.body) > 1000


@pytest.mark.video
def test_concurrent_snapshots_of_one_segment_share_one_ffmpeg(
    tmp_path: Path, clock: FakeClock, launcher: FakeLauncher, rtsp_clip: Path
) -> None:
    """Each snapshot request started its own decoding ffmpeg: 40 requests at once from one viewer ran 21 ffmpegs
    at once on the 2-core demo host. The frame of the newest segment is the same for all of them: one ffmpeg a
    segment, every request waiting for it answered with its frame."""
    runs = tmp_path / "ffmpeg-runs.log"
    counting = tmp_path / "ffmpeg"
    counting.write_text(f'#!/bin/sh\necho run >> "{runs}"\nexec "{ffmpeg_binary(None)}" "$@"\n')
    counting.chmod(0o700)
    gateway = Gateway(CFG, tmp_path / "gw", clock, launcher=launcher, ffmpeg=str(counting))
    adapter = GatewayAdapter(spec(), Inner(spec()), gateway)

    async def scenario() -> list[Fetched]:
        first = asyncio.ensure_future(adapter.snapshot("cam1"))
        while not launcher.started:
            await asyncio.sleep(0.01)
        name = launcher.started[0].emit(clock.now())
        shutil.copy(rtsp_clip, launcher.started[0].directory / name)
        return [await first, *await asyncio.gather(*(adapter.snapshot("cam1") for _ in range(20)))]

    shots = asyncio.run(scenario())
    assert len({s.body for s in shots}) == 1 and shots[0].body.startswith(b"\xff\xd8")
    assert runs.read_text().splitlines() == ["run"]


class Refusing(Inner):
    """An ONVIF device refusing the credentials: its adapter cannot even say where the stream is."""

    async def rtsp_source(self, camera_ref: str) -> RtspSource:
        raise AuthFailed(f"system 'lot' GetStreamUri: HTTP 401: the device refused the credentials ({camera_ref})")


def test_the_adapters_auth_failed_crosses_the_gateway_as_a_type(gateway: Gateway, launcher: FakeLauncher) -> None:
    """Was: the gateway made text of the adapter's AuthFailed ("no RTSP source: … HTTP 401: …") and then looked for
    " 401 " in it, which "HTTP 401:" does not match: viewers got 502 upstream_error (issue 13, item 6)."""
    adapter = GatewayAdapter(spec(), Refusing(spec()), gateway)

    async def scenario() -> AdapterError:
        with pytest.raises(AuthFailed) as refused:
            await adapter.live_playlist("cam1")
        return refused.value

    refused = asyncio.run(scenario())
    assert refused.status is None and launcher.started == []  # ffmpeg never started without a source
    stream = gateway.existing(adapter, "cam1")
    assert stream is not None and isinstance(stream.failure, AuthFailed)


def test_what_ffmpeg_prints_is_never_read_for_a_cause_and_silence_times_out(
    gateway: Gateway, launcher: FakeLauncher
) -> None:
    adapter = GatewayAdapter(spec(), Inner(spec()), gateway)

    async def scenario() -> tuple[AdapterError, AdapterError]:
        await gateway.demand(adapter, "cam1")
        launcher.started[0].crash("[rtsp @ 0x5] method DESCRIBE failed: 401 Unauthorized")
        with pytest.raises(AdapterError) as ended:
            await adapter.live_playlist("cam1")
        with pytest.raises(AdapterError) as silent:
            await adapter.live_playlist("cam2")  # started, never writes a segment
        return ended.value, silent.value

    ended, silent = asyncio.run(scenario())
    # the relay saw no camera answer (this ffmpeg is a fake): its words are a message for operators, not a cause
    assert not isinstance(ended, AuthFailed) and not ended.timeout and "401 Unauthorized" in str(ended)
    assert "pw-secret" not in str(ended) and "10.1.1.1" not in str(ended)
    assert silent.timeout and "no video within 0.3 s" in str(silent)


def test_the_gateway_block_is_the_brokers_whoever_builds_the_adapter() -> None:
    from adapters.rtsp import RtspAdapter
    from broker.inventory.adapters import build_adapter

    entry = SystemSpec("lot", "rtsp", None, {"url_template": "rtsp://h/{ref}", "gateway": {"record": "always"}})
    built = build_adapter(entry)  # inventory sync builds adapters of its own: never refused for the block
    assert isinstance(built, RtspAdapter) and "gateway" not in built.spec.settings
