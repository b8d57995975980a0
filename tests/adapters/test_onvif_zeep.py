"""The fake ONVIF device checked against an independent client: onvif-zeep (zeep reading ONVIF's own WSDLs and
onvif.xsd, with zeep's WS-UsernameToken digest). It must understand the fake's answers, and get the same
cameras, stream URIs and snapshots the adapter gets, so the fake speaks ONVIF as real clients expect."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.adapters.onvif_rig import PASSWORD, USERNAME, OnvifRig, build_adapter, run
from tests.fakes.onvif import FakeOnvifDevice

SEARCH = "http://www.onvif.org/ver10/search/wsdl"
REPLAY = "http://www.onvif.org/ver10/replay/wsdl"
RTSP_SETUP = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}


@pytest.fixture(scope="module")
def device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeOnvifDevice]:
    with OnvifRig.start(tmp_path_factory.mktemp("onvif-zeep"), with_rtsp=False) as rig:
        yield rig.device


@pytest.fixture(scope="module")
def camera(device: FakeOnvifDevice) -> Any:
    from onvif import ONVIFCamera  # onvif-zeep; its WSDLs are installed beside it

    return ONVIFCamera("127.0.0.1", device.port, USERNAME, PASSWORD, no_cache=True)


def test_zeep_reads_the_capabilities(device: FakeOnvifDevice, camera: Any) -> None:
    capabilities = camera.devicemgmt.GetCapabilities({"Category": "All"})
    assert capabilities.Media.XAddr == f"{device.base_url}onvif/media_service"
    assert capabilities.Media.StreamingCapabilities.RTP_RTSP_TCP is True
    assert capabilities.Device.XAddr == f"{device.base_url}onvif/device_service"
    assert camera.devicemgmt.GetDeviceInformation().SerialNumber == "FAKE0001"


def test_zeep_and_the_adapter_see_the_same_profiles_and_uris(device: FakeOnvifDevice, camera: Any) -> None:
    media = camera.create_media_service()
    profiles = media.GetProfiles()
    assert [p.token for p in profiles] == [p.token for p in device.profiles]
    by_source: dict[str, list[str]] = {}
    for p in profiles:
        if p.VideoSourceConfiguration is not None:
            by_source.setdefault(p.VideoSourceConfiguration.SourceToken, []).append(p.token)
            assert p.VideoEncoderConfiguration.Resolution.Width > 0
    cameras = run(build_adapter(device), lambda a: a.discover())
    assert {c.details["video_source"]: c.ref for c in cameras} == {s: tokens[0] for s, tokens in by_source.items()}
    for c in cameras:
        uri = media.GetStreamUri({"StreamSetup": RTSP_SETUP, "ProfileToken": c.ref})
        assert uri.Uri == run(build_adapter(device), lambda a, ref=c.ref: a.rtsp_source(ref)).url
        assert uri.InvalidAfterConnect is False and uri.InvalidAfterReboot is False
        snapshot_uri = media.GetSnapshotUri({"ProfileToken": c.ref}).Uri
        fetched = httpx.get(snapshot_uri, auth=httpx.DigestAuth(USERNAME, PASSWORD), timeout=5)
        assert fetched.status_code == 200
        assert fetched.content == run(build_adapter(device), lambda a, ref=c.ref: a.snapshot(ref)).body


def test_zeep_finds_recordings_and_their_replay_uri(device: FakeOnvifDevice, camera: Any) -> None:
    # zeep's lenient parser files GetCapabilities' Extension/Search under the schema's leading xs:any, so the
    # addresses come from GetServices, as ONVIF Core §8.1.2 prefers anyway.
    services = {s.Namespace: s.XAddr for s in camera.devicemgmt.GetServices({"IncludeCapability": False})}
    camera.xaddrs[SEARCH], camera.xaddrs[REPLAY] = services[SEARCH], services[REPLAY]
    search = camera.create_search_service()
    token = search.FindRecordings({"Scope": {}, "KeepAliveTime": "PT10S"})
    found, state = [], "Searching"
    while state != "Completed":
        results = search.GetRecordingSearchResults({"SearchToken": token, "WaitTime": "PT1S"})
        state = results.SearchState
        found += [r.RecordingToken for r in results.RecordingInformation]
    assert found == ["Recording_1", "Recording_2"]
    replay = camera.create_replay_service()
    uri = replay.GetReplayUri({"StreamSetup": RTSP_SETUP, "RecordingToken": "Recording_1"})
    assert uri == run(build_adapter(device), lambda a: a.replay_source("Recording_1")).url


def test_zeep_with_a_wrong_password_is_not_authorized(device: FakeOnvifDevice) -> None:
    from onvif import ONVIFCamera, ONVIFError

    with pytest.raises(ONVIFError, match="Sender not Authorized"):
        ONVIFCamera("127.0.0.1", device.port, USERNAME, "wrong", no_cache=True)
    assert device.last_auth_failure == "Sender not Authorized (wrong username or password)"
