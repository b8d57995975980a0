"""The ONVIF adapter against the fake ONVIF NVR over real HTTP on 127.0.0.1 (SOAP 1.2, WS-UsernameToken digest,
HTTP digest snapshots). Live video through the RTSP camera is in test_onvif_video.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters import ADAPTERS
from adapters.onvif import OnvifAdapter
from broker.adapterapi import AdapterError, AuthFailed, Discoverable, NotSupported, RtspCameraSystem
from tests.adapters.onvif_rig import PASSWORD, TIMEOUT, OnvifRig, build_adapter, run
from tests.fakes.httpauth import HttpAuthServer
from tests.fakes.onvif import FakeOnvifDevice


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnvifRig]:
    with OnvifRig.start(tmp_path_factory.mktemp("onvif"), with_rtsp=False) as started:
        yield started


@pytest.fixture
def device(rig: OnvifRig) -> Iterator[FakeOnvifDevice]:
    rig.device.reset()
    yield rig.device
    rig.device.reset()


def failure(adapter: OnvifAdapter, use: str, ref: str = "Profile_1_main") -> AdapterError:
    async def call(a: OnvifAdapter) -> object:
        return await (a.discover() if use == "discover" else getattr(a, use)(ref))

    with pytest.raises(AdapterError) as caught:
        run(adapter, call)
    assert PASSWORD not in str(caught.value)
    return caught.value


def test_the_adapter_is_registered_and_implements_the_rtsp_interface(device: FakeOnvifDevice) -> None:
    assert ADAPTERS["onvif"] == "adapters.onvif:OnvifAdapter"
    adapter = build_adapter(device)
    assert isinstance(adapter, RtspCameraSystem) and isinstance(adapter, Discoverable)
    assert PASSWORD not in repr(adapter)
    run(adapter, lambda a: a.aclose())


def test_discover_lists_one_camera_per_video_source(device: FakeOnvifDevice) -> None:
    cameras = run(build_adapter(device), lambda a: a.discover())
    assert [(c.ref, c.name) for c in cameras] == device.expected_cameras
    front = cameras[0].details
    assert front["video_source"] == "VideoSource_1" and front["encoding"] == "H264"
    assert front["resolution"] == "320x180" and front["other_profiles"] == "Profile_1_sub,Profile_1_jpeg"
    assert (front["manufacturer"], front["model"], front["serial"]) == ("Camgate Fakes", "FakeNVR-2", "FAKE0001")
    # Profile G: FindRecordings paged through GetRecordingSearchResults, and GetReplayUri checked per camera
    assert front["recordings"] == "1" and front["recording_tokens"] == "Recording_1"
    assert front["replay"] == "available (GetReplayUri)"
    assert cameras[1].details["recording_tokens"] == "Recording_2"
    assert datetime.fromisoformat(front["recorded_from"]) < datetime.fromisoformat(front["recorded_until"])
    assert device.calls["GetRecordingSearchResults"] == 2 and device.calls["GetReplayUri"] == 2
    assert device.auth_failures == 0 and device.calls["GetSystemDateAndTime"] == 1


def test_rtsp_source_keeps_the_credentials_out_of_the_url(device: FakeOnvifDevice) -> None:
    source = run(build_adapter(device, rtsp_transport="udp"), lambda a: a.rtsp_source("Profile_2_main"))
    assert source.url == f"rtsp://127.0.0.1:{device.rtsp_port}/cam2"
    assert (source.username, source.password, source.transport) == ("camgate", PASSWORD, "udp")
    assert PASSWORD not in repr(source)
    assert source.with_credentials() == f"rtsp://camgate:s3cret%20pass%3Aword@127.0.0.1:{device.rtsp_port}/cam2"
    sub = run(build_adapter(device), lambda a: a.rtsp_source("Profile_1_sub"))  # any profile token is a ref
    assert sub.url.endswith("/cam1")


def test_snapshot_is_the_devices_jpeg_behind_http_digest(device: FakeOnvifDevice) -> None:
    before = device.snapshot_auth.failures
    snapshot = run(build_adapter(device), lambda a: a.snapshot("Profile_2_main"))
    assert snapshot.content_type == "image/jpeg" and snapshot.ref == "Profile_2_main"
    assert snapshot.body == device.jpegs["VideoSource_2"] and snapshot.body.startswith(b"\xff\xd8\xff")
    assert device.snapshot_auth.failures == before + 1  # the challenge, then the digest answer
    assert device.calls["snapshot"] == 1


def test_recordings_are_listed_but_not_replayed_as_segments(device: FakeOnvifDevice) -> None:
    async def use(a: OnvifAdapter) -> NotSupported:
        await a.discover()
        now = datetime.now(UTC)
        with pytest.raises(NotSupported) as caught:
            await a.recording("Profile_1_main", now - timedelta(hours=1), now)
        with pytest.raises(NotSupported):
            await a.resource("anything")
        return caught.value

    refused = run(build_adapter(device), use)
    assert "the gateway's rolling recording is used" in str(refused)
    assert "Profile G recordings are listed in its cameras' details" in str(refused)


def test_replay_source_is_the_recordings_rtsp_uri(device: FakeOnvifDevice) -> None:
    source = run(build_adapter(device), lambda a: a.replay_source("Recording_2"))
    assert source.url == f"rtsp://127.0.0.1:{device.rtsp_port}/replay1" and source.password == PASSWORD
    error = failure(build_adapter(device), "replay_source", "Recording_9")
    assert "GetReplayUri: SOAP fault Sender/InvalidArgVal/NoRecording" in str(error)


def test_an_unknown_profile_is_a_404(device: FakeOnvifDevice) -> None:
    error = failure(build_adapter(device), "rtsp_source", "Profile_9")
    assert error.status == 404 and "the device has no profile 'Profile_9'" in str(error)
    assert "is not an ONVIF profile token" in str(failure(build_adapter(device), "snapshot", "../etc"))


@pytest.mark.parametrize("use", ["discover", "rtsp_source", "snapshot"])
def test_wrong_credentials_are_auth_failed(rig: OnvifRig, use: str) -> None:
    with rig.variant("wrong_credentials") as adapter:
        error = failure(adapter, use)
        assert isinstance(error, AuthFailed)
        assert "the device refused the credentials: SOAP fault Sender/NotAuthorized" in str(error)
        assert "wrong username or password" in rig.device.last_auth_failure


@pytest.mark.parametrize("use", ["discover", "rtsp_source", "snapshot"])
def test_a_device_that_never_answers_times_out(rig: OnvifRig, use: str) -> None:
    with rig.variant("hang") as adapter:
        started = time.monotonic()
        error = failure(adapter, use)
        assert error.timeout and f"no answer within {TIMEOUT:g}s" in str(error)
        assert time.monotonic() - started < TIMEOUT + 1.0


def test_a_hanging_snapshot_times_out(device: FakeOnvifDevice) -> None:
    device.hang = {"snapshot"}
    error = failure(build_adapter(device), "snapshot")
    assert error.timeout and "camera 'Profile_1_main' snapshot: no answer within" in str(error)


@pytest.mark.parametrize(
    ("operation", "kind", "use", "message"),
    [
        ("GetProfiles", "truncated", "discover", "GetProfiles: malformed answer: not well-formed XML at line 1"),
        ("GetProfiles", "wrong_answer", "discover", "<SomethingElseResponse> instead of <GetProfilesResponse>"),
        ("GetProfiles", "doctype", "discover", "document type declaration is not allowed in a SOAP message"),
        ("GetServices", "html", "discover", "GetServices: malformed answer: <html> is not a SOAP 1.2 Envelope"),
        ("GetStreamUri", "no_uri", "rtsp_source", "GetStreamUri: malformed answer: no MediaUri/Uri"),
        ("GetSnapshotUri", "truncated", "snapshot", "GetSnapshotUri: malformed answer"),
    ],
)
def test_malformed_answers_are_named(
    device: FakeOnvifDevice, operation: str, kind: str, use: str, message: str
) -> None:
    device.malformed = {operation: kind}
    error = failure(build_adapter(device), use)
    assert message in str(error) and not error.timeout


def test_the_malformed_variant_fails_discovery_clearly(rig: OnvifRig) -> None:
    with rig.variant("malformed") as adapter:
        assert "malformed answer: not well-formed XML" in str(failure(adapter, "discover"))


def test_a_snapshot_that_is_not_a_jpeg_is_refused(device: FakeOnvifDevice) -> None:
    device.malformed = {"snapshot": "not_jpeg"}
    assert "the snapshot is not a JPEG" in str(failure(build_adapter(device), "snapshot"))


def test_answers_over_the_size_cap_are_refused(device: FakeOnvifDevice) -> None:
    error = failure(build_adapter(device, max_response_bytes=1500, recordings=False), "discover")
    assert "GetProfiles: answer of 4026 bytes is over the 1500-byte cap" in str(error)


def test_legacy_devices_are_read_through_get_capabilities(device: FakeOnvifDevice) -> None:
    device.legacy = True
    cameras = run(build_adapter(device), lambda a: a.discover())
    assert [(c.ref, c.name) for c in cameras] == device.expected_cameras
    assert device.calls["GetCapabilities"] == 1 and device.calls["GetServices"] == 0
    assert cameras[0].details["replay"] == "available (GetReplayUri)"


def test_service_addresses_of_a_device_behind_nat_are_rebased(device: FakeOnvifDevice) -> None:
    device.xaddr_host = "192.168.1.64"  # the device's LAN address, unreachable from here
    source = run(build_adapter(device), lambda a: a.rtsp_source("Profile_1_main"))
    assert source.url.endswith("/cam1") and device.calls["GetStreamUri"] == 1


def test_stream_and_snapshot_uris_on_other_hosts_are_refused(device: FakeOnvifDevice) -> None:
    device.stream_host = "10.66.0.1"
    for use in ("rtsp_source", "snapshot"):
        error = failure(build_adapter(device), use)
        assert "names host '10.66.0.1', which is neither the device ('127.0.0.1') nor in 'media_hosts'" in str(error)
    assert device.calls["snapshot"] == 0
    allowed = run(build_adapter(device, media_hosts=["10.66.0.1"]), lambda a: a.rtsp_source("Profile_1_main"))
    assert allowed.url == f"rtsp://10.66.0.1:{device.rtsp_port}/cam1"


def test_the_device_clock_is_learnt_so_created_is_fresh(device: FakeOnvifDevice) -> None:
    device.clock_skew = timedelta(hours=2)
    assert len(run(build_adapter(device), lambda a: a.discover())) == 2
    assert device.auth_failures == 0
    error = failure(build_adapter(device, sync_clock=False), "discover")
    assert isinstance(error, AuthFailed) and device.last_auth_failure == "Sender not Authorized (stale Created)"
    assert "check 'username', the password and the device's clock" in str(error)


def test_after_a_refusal_the_clock_is_read_again(device: FakeOnvifDevice) -> None:
    async def use(a: OnvifAdapter) -> str:
        await a.rtsp_source("Profile_1_main")
        device.clock_skew = timedelta(minutes=-30)  # the device's clock was reset
        with pytest.raises(AuthFailed):
            await a.rtsp_source("Profile_1_main")
        return (await a.rtsp_source("Profile_1_main")).url

    assert run(build_adapter(device), use).endswith("/cam1")
    assert device.calls["GetSystemDateAndTime"] == 2


def test_devices_that_require_http_digest_get_it(device: FakeOnvifDevice) -> None:
    device.require_http_digest = True
    assert len(run(build_adapter(device), lambda a: a.discover())) == 2
    error = failure(build_adapter(device, password="wrong"), "discover")
    assert isinstance(error, AuthFailed) and "HTTP 401: the device refused the credentials" in str(error)


def test_a_failing_recording_search_still_lists_the_cameras(device: FakeOnvifDevice) -> None:
    device.malformed = {"FindRecordings": "wrong_answer"}
    cameras = run(build_adapter(device), lambda a: a.discover())
    assert len(cameras) == 2
    assert cameras[0].details["recordings"].startswith("unavailable: system 'school-nvr' FindRecordings: malformed")
    off = run(build_adapter(device, recordings=False), lambda a: a.discover())
    assert "recordings" not in off[0].details


def test_profile_s_only_devices_report_no_recordings(rig: OnvifRig, device: FakeOnvifDevice) -> None:
    device.profile_g = False
    try:
        cameras = run(build_adapter(device), lambda a: a.discover())
        error = failure(build_adapter(device), "replay_source", "Recording_1")
    finally:
        device.profile_g = True
    assert "recordings" not in cameras[0].details
    assert isinstance(error, NotSupported) and "offers no ONVIF Replay service" in str(error)


def test_a_snapshot_refusing_the_credentials_is_auth_failed(device: FakeOnvifDevice) -> None:
    device.snapshot_auth = HttpAuthServer("digest", username="camgate", password="another", realm="snap")
    error = failure(build_adapter(device), "snapshot")
    assert isinstance(error, AuthFailed)
    assert "camera 'Profile_1_main' snapshot: HTTP 401: the device refused the credentials" in str(error)
