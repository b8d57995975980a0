"""The contract every camera-system adapter meets, run against each rig (see ``tests/adapters/contract``). A check
is parametrized with the rigs whose kind offers what it checks (``rigs.py``); none is skipped."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import pytest

from broker.adapterapi import (
    AdapterError,
    AuthFailed,
    CameraSystemAdapter,
    Discoverable,
    NotSupported,
    RefusedPlaylist,
    RtspCameraSystem,
)
from tests.adapters.contract.media import decode_jpeg, read_media, read_rtsp
from tests.adapters.contract.rigs import RIGS, ContractAdapter, Fault, Rig, RigKind, rigs
from tests.adapters.contract.unprivileged import as_another_user

pytestmark = pytest.mark.video
T = TypeVar("T")


def each(where: Callable[[RigKind], bool] = lambda kind: True) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("rig", rigs(where), indirect=True)


def run(rig: Rig, use: Callable[[ContractAdapter], Awaitable[T]], *, right_password: bool = True) -> T:
    async def main() -> T:
        adapter = rig.build(right_password)
        try:
            return await use(adapter)
        finally:
            await adapter.aclose()

    return asyncio.run(main())


def failure(rig: Rig, use: Callable[[ContractAdapter], Awaitable[Any]], **kwargs: bool) -> AdapterError:
    with pytest.raises(AdapterError) as caught:
        run(rig, use, **kwargs)
    assert_no_secret(rig, caught.value)
    return caught.value


def assert_no_secret(rig: Rig, *things: object) -> None:
    for thing in things:
        for shown in (repr(thing), str(thing)):
            assert rig.secret is None or rig.secret not in shown, f"the password appears in {type(thing).__name__}"


@contextmanager
def faulty(rig: Rig, fault: Fault) -> Iterator[None]:
    rig.set_fault(fault)
    try:
        yield
    finally:
        rig.set_fault(None)


def every_call(rig: Rig, ref: str | None = None) -> dict[str, Callable[[ContractAdapter], Awaitable[Any]]]:
    """Each call that asks the system something, as the rig's kind offers them."""
    kind, ref = RIGS[rig.name], ref or rig.expected[0][0]
    calls: dict[str, Callable[[ContractAdapter], Awaitable[Any]]] = {}
    if kind.lists:
        calls["discover"] = lambda a: a.discover()
    if kind.live and kind.serves == "rtsp":
        calls["rtsp_source"] = lambda a: a.rtsp_source(ref)
    if kind.live and kind.serves == "hls":
        calls["live_playlist"] = lambda a: a.live_playlist(ref)
    if kind.snapshot:
        calls["snapshot"] = lambda a: a.snapshot(ref)
    if kind.recording:
        assert rig.window is not None
        calls["recording"] = lambda a: a.recording(ref, *rig.window)
    return calls


@each()
def test_the_adapter_is_what_its_kind_says(rig: Rig) -> None:
    kind = RIGS[rig.name]

    async def use(adapter: ContractAdapter) -> None:
        assert isinstance(adapter, RtspCameraSystem if kind.serves == "rtsp" else CameraSystemAdapter)
        assert isinstance(adapter, Discoverable) is kind.lists
        assert adapter.spec.id == rig.system_id

    run(rig, use)


@each(lambda kind: kind.lists)
def test_it_lists_the_systems_cameras(rig: Rig) -> None:
    async def use(adapter: ContractAdapter) -> Any:
        assert isinstance(adapter, Discoverable)
        return await adapter.discover()

    cameras = run(rig, use)
    assert [(c.ref, c.name) for c in cameras] == list(rig.expected)
    for camera in cameras:
        assert camera.details and all(isinstance(v, str) and v for v in camera.details.values())


@each(lambda kind: kind.live and kind.serves == "rtsp")
def test_live_video_is_h264_that_ffmpeg_reads_with_the_credentials(rig: Rig) -> None:
    for ref, _name in rig.expected:
        source = run(rig, lambda a, ref=ref: a.rtsp_source(ref))
        assert_no_secret(rig, source, source.redacted())
        read = read_rtsp(source.with_credentials(), transport=source.transport)
        assert read.returncode == 0, read.log[-800:]
        assert "Video: h264" in read.codecs and read.frames == 10, read.log[-800:]


@each(lambda kind: kind.live and kind.serves == "rtsp")
def test_live_video_is_refused_without_or_with_wrong_credentials(rig: Rig) -> None:
    source = run(rig, lambda a: a.rtsp_source(rig.expected[0][0]))
    anonymous = read_rtsp(source.url, transport=source.transport)
    assert anonymous.returncode != 0 and anonymous.frames == 0 and "401" in anonymous.log
    wrong = source.url.replace("rtsp://", "rtsp://camgate:not-the-password@", 1)
    refused = read_rtsp(wrong, transport=source.transport)
    assert refused.returncode != 0 and refused.frames == 0 and "401" in refused.log


@each(lambda kind: kind.asks == "stream")
def test_an_adapter_that_asks_nothing_hands_on_its_configured_password(rig: Rig) -> None:
    """Its wrong password shows only when the camera refuses the stream (the broker then answers 502
    upstream_auth: test_through_broker.py)."""
    source = run(rig, lambda a: a.rtsp_source(rig.expected[0][0]), right_password=False)
    assert source.password == "not-the-password"
    refused = read_rtsp(source.with_credentials(), transport=source.transport)
    assert refused.returncode != 0 and refused.frames == 0 and "401" in refused.log


@each(lambda kind: kind.live and kind.serves == "hls")
def test_live_video_is_an_hls_playlist_of_h264_that_ffmpeg_reads(rig: Rig, tmp_path: Path) -> None:
    for ref, _name in rig.expected:

        async def use(adapter: ContractAdapter, ref: str = ref) -> tuple[bytes, list[bytes]]:
            playlist = await adapter.live_playlist(ref)
            uris = [line for line in playlist.body.decode().splitlines() if line and not line.startswith("#")]
            segments = [await adapter.resource(adapter.resolve(playlist.ref, uri)) for uri in uris[:2]]
            return playlist.body, [s.body for s in segments]

        playlist, segments = run(rig, use)
        assert playlist.startswith(b"#EXTM3U") and len(segments) == 2
        read = read_media(tmp_path / f"{ref}.ts", b"".join(segments))
        assert read.returncode == 0 and "Video: h264" in read.codecs and read.frames >= 10, read.log[-800:]


@each()
def test_a_camera_the_system_lacks_is_a_client_error_naming_the_system(rig: Rig) -> None:
    calls = {name: call for name, call in every_call(rig, rig.missing_ref).items() if name != "discover"}
    assert calls
    for call, use in calls.items():
        error = failure(rig, use)
        assert error.status in (400, 404) and not isinstance(error, NotSupported), (call, error)
        assert rig.system_id in str(error)


@each(lambda kind: not (kind.live and kind.snapshot))
def test_what_the_system_does_not_offer_is_not_supported_naming_the_system(rig: Rig) -> None:
    kind, ref = RIGS[rig.name], rig.expected[0][0]
    lacks: dict[str, Callable[[ContractAdapter], Awaitable[Any]]] = {}
    if not kind.live:  # the broker answers 501 live_unsupported
        lacks["live"] = (lambda a: a.rtsp_source(ref)) if kind.serves == "rtsp" else (lambda a: a.live_playlist(ref))
    if not kind.snapshot:  # 501 snapshot_unsupported, unless the gateway takes a frame of the live video
        lacks["snapshot"] = lambda a: a.snapshot(ref)
    for what, use in lacks.items():
        error = failure(rig, use)
        assert isinstance(error, NotSupported) and rig.system_id in str(error), (what, error)


@each(lambda kind: kind.snapshot)
def test_a_snapshot_is_a_jpeg_that_ffmpeg_decodes(rig: Rig, tmp_path: Path) -> None:
    for ref, _name in rig.expected:
        snapshot = run(rig, lambda a, ref=ref: a.snapshot(ref))
        assert snapshot.content_type == "image/jpeg" and snapshot.body.startswith(b"\xff\xd8\xff")
        path = tmp_path / f"{ref}.jpg"
        path.write_bytes(snapshot.body)
        decoded = decode_jpeg(path)
        assert decoded.returncode == 0 and decoded.frames == 1 and "Video: mjpeg" in decoded.codecs, decoded.log


@each(lambda kind: kind.serves == "rtsp" and not kind.recording)
def test_recordings_are_left_to_the_gateway(rig: Rig) -> None:
    end = datetime.now(UTC)
    error = failure(rig, lambda a: a.recording(rig.expected[0][0], end - timedelta(minutes=5), end))
    assert isinstance(error, NotSupported) and rig.system_id in str(error)
    assert isinstance(failure(rig, lambda a: a.resource("any")), NotSupported)


@each(lambda kind: kind.recording)
def test_recorded_footage_is_h264_placed_in_its_window(rig: Rig, tmp_path: Path) -> None:
    assert rig.window is not None
    start, end = rig.window
    for ref, _name in rig.expected:

        async def use(adapter: ContractAdapter, ref: str = ref) -> tuple[Any, list[bytes], Any]:
            recording = await adapter.recording(ref, start, end)
            bodies = [(await adapter.resource(s.ref)).body for s in recording.segments]
            return recording, bodies, await adapter.recording(ref, end + timedelta(hours=1), end + timedelta(hours=2))

        recording, bodies, later = run(rig, use)
        segments = recording.segments
        assert segments and all(start <= s.start < end for s in segments) and later.segments == ()
        assert all(a.end <= b.start + timedelta(milliseconds=500) for a, b in pairwise(segments))
        assert all(0 < s.duration <= recording.target_duration + 0.5 for s in segments)
        read = read_media(tmp_path / f"{ref}.ts", b"".join(bodies))
        assert read.returncode == 0 and "Video: h264" in read.codecs, read.log[-800:]
        assert read.frames >= 5 * len(segments), read.log[-800:]  # every segment holds video (10 fps)


@each(lambda kind: kind.asks == "adapter")
def test_wrong_credentials_are_auth_failed_naming_the_system_not_the_password(rig: Rig) -> None:
    for call, use in every_call(rig).items():
        error = failure(rig, use, right_password=False)
        assert isinstance(error, AuthFailed), (call, error)
        # HTTP 401 (RFC 9110 §15.5.2), or 400 with a SOAP ter:NotAuthorized fault (ONVIF Core §5.9.4, §5.11.2.2)
        assert error.status in (400, 401) and rig.system_id in str(error) and "password" in str(error), str(error)
        assert "not-the-password" not in str(error)


@each(lambda kind: kind.asks == "adapter")
def test_a_system_that_never_answers_times_out_within_the_configured_timeout(rig: Rig) -> None:
    assert rig.timeout_seconds is not None
    with faulty(rig, "hang"):
        for call, use in every_call(rig).items():
            started = time.monotonic()
            error = failure(rig, use)
            elapsed = time.monotonic() - started
            assert error.timeout and not isinstance(error, AuthFailed), (call, error)
            assert rig.timeout_seconds * 0.9 <= elapsed <= rig.timeout_seconds + 1.5, (call, elapsed)
            assert rig.system_id in str(error) and f"{rig.timeout_seconds:g}s" in str(error)


@each(lambda kind: kind.asks == "adapter")
def test_a_malformed_answer_is_an_adapter_error_saying_what_was_wrong(rig: Rig) -> None:
    kind, ref = RIGS[rig.name], rig.expected[0][0]
    with faulty(rig, "malformed"):
        if kind.lists:  # the listing inventory sync reads: the answer's status says the system was reached
            listing, expected = failure(rig, lambda a: a.discover()), AdapterError
            assert listing.status == 200, listing
        else:  # a recording playlist (RFC 8216) the broker will not guess at
            assert rig.window is not None
            listing, expected = failure(rig, lambda a: a.recording(ref, *rig.window)), RefusedPlaylist
        snapshot = failure(rig, lambda a: a.snapshot(ref))
    assert type(listing) is expected and type(snapshot) is AdapterError
    for error in (listing, snapshot):
        assert not error.timeout and rig.system_id in str(error)
    assert re.search(rig.malformed, str(listing)), str(listing)
    assert "not a JPEG" in str(snapshot), str(snapshot)


@each(lambda kind: kind.asks != "folder")
def test_the_password_is_in_no_repr_or_str(rig: Rig) -> None:
    kind, ref = RIGS[rig.name], rig.expected[0][0]

    async def use(adapter: ContractAdapter) -> list[object]:
        shown = [adapter, getattr(adapter, "settings", None), getattr(adapter, "_http", None)]
        shown.append(getattr(adapter, "_client", None))
        if kind.serves == "rtsp":
            source = await adapter.rtsp_source(ref)
            shown += [source, source.redacted()]
        return shown

    assert_no_secret(rig, *run(rig, use))
    if kind.serves == "rtsp":
        assert run(rig, lambda a: a.rtsp_source(ref)).password == rig.secret  # kept, only apart


@each(lambda kind: kind.asks == "folder")
def test_a_malformed_file_is_skipped_and_reported_and_the_rest_plays(rig: Rig) -> None:
    ref = rig.expected[0][0]
    assert rig.window is not None

    async def use(adapter: ContractAdapter) -> tuple[Any, Any, Any]:
        recording = await adapter.recording(ref, *rig.window)  # the adapter's first look at the folder
        return await adapter.discover(), recording, await adapter.problems()

    with faulty(rig, "malformed"):
        listed, recording, report = run(rig, use)
    assert [(c.ref, c.name) for c in listed] == list(rig.expected) and recording.segments
    (problem,) = report.problems
    assert problem.subject.endswith(".mp4") and not problem.subject.startswith("/")
    assert re.search(rig.malformed, problem.message), problem.message


@each(lambda kind: kind.asks == "folder")
def test_a_folder_the_broker_may_not_read_is_a_clear_error_not_auth_failed(rig: Rig) -> None:
    assert rig.spec is not None and rig.window is not None
    said = as_another_user(rig.spec, rig.expected[0][0], *rig.window)
    for call in ("discover", "recording"):
        kind, message = said[call]
        assert kind == "AdapterError", said  # not AuthFailed: no password would fix it
        assert message.startswith(f"system {rig.system_id!r}: evidence folder ") and message.endswith(
            ": Permission denied (give the broker's user read access to it)"
        ), message
