"""The contract every camera-system adapter meets, run against each rig (see ``tests/adapters/contract``)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from broker.adapterapi import AdapterError, AuthFailed, Discoverable, NotSupported, RtspCameraSystem
from tests.adapters.contract.media import decode_jpeg, read_rtsp
from tests.adapters.contract.rigs import RIGS, ContractAdapter, Fault, Rig, offering

pytestmark = pytest.mark.video
T = TypeVar("T")
EVERY = pytest.mark.parametrize("rig", sorted(RIGS), indirect=True)
LIVE = pytest.mark.parametrize("rig", offering("live"), indirect=True)
SNAPSHOT = pytest.mark.parametrize("rig", offering("snapshot"), indirect=True)
NO_RECORDING = pytest.mark.parametrize("rig", [n for n in sorted(RIGS) if not RIGS[n].recording], indirect=True)


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
            assert rig.secret not in shown, f"the password appears in {type(thing).__name__}: {shown}"


@contextmanager
def faulty(rig: Rig, fault: Fault) -> Iterator[None]:
    rig.set_fault(fault)
    try:
        yield
    finally:
        rig.set_fault(None)


def every_call(rig: Rig) -> dict[str, Callable[[ContractAdapter], Awaitable[Any]]]:
    ref = rig.expected[0][0]
    return {
        "discover": lambda a: a.discover(),
        "rtsp_source": lambda a: a.rtsp_source(ref),
        "snapshot": lambda a: a.snapshot(ref),
    }


@EVERY
def test_it_lists_the_systems_cameras(rig: Rig) -> None:
    async def use(adapter: ContractAdapter) -> Any:
        assert isinstance(adapter, RtspCameraSystem) and isinstance(adapter, Discoverable)
        return await adapter.discover()

    cameras = run(rig, use)
    assert [(c.ref, c.name) for c in cameras] == list(rig.expected)
    for camera in cameras:
        assert camera.details and all(isinstance(v, str) and v for v in camera.details.values())


@LIVE
def test_live_video_is_h264_that_ffmpeg_reads_with_the_credentials(rig: Rig) -> None:
    for ref, _name in rig.expected:
        source = run(rig, lambda a, ref=ref: a.rtsp_source(ref))
        assert_no_secret(rig, source, source.redacted())
        read = read_rtsp(source.with_credentials(), transport=source.transport)
        assert read.returncode == 0, read.log[-800:]
        assert "Video: h264" in read.codecs and read.frames == 10, read.log[-800:]


@LIVE
def test_live_video_is_refused_without_or_with_wrong_credentials(rig: Rig) -> None:
    source = run(rig, lambda a: a.rtsp_source(rig.expected[0][0]))
    anonymous = read_rtsp(source.url, transport=source.transport)
    assert anonymous.returncode != 0 and anonymous.frames == 0 and "401" in anonymous.log
    wrong = source.url.replace("rtsp://", "rtsp://camgate:not-the-password@", 1)
    refused = read_rtsp(wrong, transport=source.transport)
    assert refused.returncode != 0 and refused.frames == 0 and "401" in refused.log


@EVERY
def test_a_camera_the_system_lacks_is_a_client_error_naming_the_system(rig: Rig) -> None:
    for call in ("rtsp_source", "snapshot"):
        error = failure(rig, lambda a, call=call: getattr(a, call)(rig.missing_ref))
        assert error.status in (400, 404), (call, error)
        assert rig.system_id in str(error)


@SNAPSHOT
def test_a_snapshot_is_a_jpeg_that_ffmpeg_decodes(rig: Rig, tmp_path: Path) -> None:
    for ref, _name in rig.expected:
        snapshot = run(rig, lambda a, ref=ref: a.snapshot(ref))
        assert snapshot.content_type == "image/jpeg" and snapshot.body.startswith(b"\xff\xd8\xff")
        path = tmp_path / f"{ref}.jpg"
        path.write_bytes(snapshot.body)
        decoded = decode_jpeg(path)
        assert decoded.returncode == 0 and decoded.frames == 1 and "Video: mjpeg" in decoded.codecs, decoded.log


@NO_RECORDING
def test_recordings_are_left_to_the_gateway(rig: Rig) -> None:
    from datetime import UTC, datetime, timedelta

    end = datetime.now(UTC)
    error = failure(rig, lambda a: a.recording(rig.expected[0][0], end - timedelta(minutes=5), end))
    assert isinstance(error, NotSupported) and rig.system_id in str(error)
    assert isinstance(failure(rig, lambda a: a.resource("any")), NotSupported)


@EVERY
def test_wrong_credentials_are_auth_failed_naming_the_system_not_the_password(rig: Rig) -> None:
    for call, use in every_call(rig).items():
        error = failure(rig, use, right_password=False)
        assert isinstance(error, AuthFailed), (call, error)
        # HTTP 401 (RFC 9110 §15.5.2), or 400 with a SOAP ter:NotAuthorized fault (ONVIF Core §5.9.4, §5.11.2.2)
        assert error.status in (400, 401) and rig.system_id in str(error) and "password" in str(error), str(error)
        assert "not-the-password" not in str(error)


@EVERY
def test_a_system_that_never_answers_times_out_within_the_configured_timeout(rig: Rig) -> None:
    with faulty(rig, "hang"):
        for call, use in every_call(rig).items():
            started = time.monotonic()
            error = failure(rig, use)
            elapsed = time.monotonic() - started
            assert error.timeout and not isinstance(error, AuthFailed), (call, error)
            assert rig.timeout_seconds * 0.9 <= elapsed <= rig.timeout_seconds + 1.5, (call, elapsed)
            assert rig.system_id in str(error) and f"{rig.timeout_seconds:g}s" in str(error)


@EVERY
def test_a_malformed_answer_is_an_adapter_error_saying_what_was_wrong(rig: Rig) -> None:
    with faulty(rig, "malformed"):
        listing = failure(rig, lambda a: a.discover())
        snapshot = failure(rig, lambda a: a.snapshot(rig.expected[0][0]))
    for error in (listing, snapshot):
        assert type(error) is AdapterError and not error.timeout and rig.system_id in str(error)
    assert re.search(rig.malformed, str(listing)), str(listing)
    assert "not a JPEG" in str(snapshot), str(snapshot)


@EVERY
def test_the_password_is_in_no_repr_or_str(rig: Rig) -> None:
    async def use(adapter: ContractAdapter) -> list[object]:
        source = await adapter.rtsp_source(rig.expected[0][0])
        settings = getattr(adapter, "settings", None)
        return [adapter, settings, source, source.redacted(), getattr(adapter, "_http", None)]

    shown = run(rig, use)
    assert_no_secret(rig, *shown)
    assert run(rig, lambda a: a.rtsp_source(rig.expected[0][0])).password == rig.secret  # kept, only apart
