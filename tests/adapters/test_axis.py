"""The Axis adapter beyond the contract: reading param.cgi answers, the RTSP URL it builds, refusals without
a request, and what the device says when it refuses (HTTP only: the fake camera without its RTSP server)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.axis import AxisAdapter
from adapters.axis.params import device_info, parse_params
from broker.adapterapi import AdapterError, AuthFailed, SystemSpec
from tests.fakes.axis import FakeAxisCamera
from tests.fakes.httpauth import HttpAuthServer

W = "system 'x': GET /axis-cgi/param.cgi"
BRAND = b"root.Brand.Brand=AXIS\nroot.Brand.ProdShortName=AXIS P3367-VE\nroot.Brand.ProdFullName=AXIS P3367-VE Network Camera\n"


def test_a_single_source_camera_with_its_brand() -> None:
    params = parse_params(BRAND + b"root.ImageSource.NbrOfSources=1\nroot.ImageSource.I0.Name=Camera\n\n", where=W)
    info = device_info(params, where=W)
    assert info.sources == {1: "Camera"} and info.model == "AXIS P3367-VE"
    assert info.details(1) == {"vendor": "Axis", "camera": "1", "model": "AXIS P3367-VE",
                               "product": "AXIS P3367-VE Network Camera"}  # fmt: skip


def test_sources_without_a_count_or_a_name() -> None:
    params = parse_params(BRAND + b"root.ImageSource.I0.Name=Lobby\nroot.ImageSource.I2.Name=\x07Gym\n", where=W)
    assert device_info(params, where=W).sources == {1: "Lobby", 2: "Camera 2", 3: "Gym"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"# Error: Error -1 getting param in group 'ImageSource'\n", 'the device answered "# Error: Error -1 getting'),
        (b"root.Brand.Brand=AXIS\nBrand=AXIS\n", "line 2 is not 'root.Group.Parameter=value': 'Brand=AXIS'"),
        (b"root.Brand.Brand=AXIS\n<html>\n", "line 2 is not"),
        (b"root.Brand.Brand=\xff\n", "not UTF-8 text (byte 17)"),
        (b"root.x=1\n" * 20_001, "20001 lines, over 20000"),
    ],
)
def test_malformed_parameter_lists(body: bytes, message: str) -> None:
    with pytest.raises(AdapterError, match=re.escape(message)):
        parse_params(body, where=W)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"root.ImageSource.NbrOfSources=two\n", "NbrOfSources is 'two', not a number of sources"),
        (b"root.ImageSource.NbrOfSources=0\n", "NbrOfSources is '0'"),
        (b"root.ImageSource.NbrOfSources=65\n", "NbrOfSources is '65'"),
        (b"root.ImageSource.I99.Name=x\n", "image source I99 is beyond 64 sources"),
        (BRAND, "lists no image sources"),
    ],
)
def test_bad_source_lists(body: bytes, message: str) -> None:
    with pytest.raises(AdapterError, match=message) as caught:
        device_info(parse_params(body, where=W), where=W)
    assert str(caught.value).startswith(W)


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeAxisCamera]:
    with FakeAxisCamera(tmp_path_factory.mktemp("axis"), None, sources=("Lobby",), password="pw") as cam:
        yield cam


@pytest.fixture
def fresh(camera: FakeAxisCamera) -> Iterator[FakeAxisCamera]:
    auth, camera.targets = camera.auth, []
    yield camera
    camera.auth, camera.fault = auth, None


def run(camera: FakeAxisCamera, call: str, *args: Any, **settings: Any) -> Any:
    async def main() -> Any:
        spec = SystemSpec(id="x", adapter="axis", base_url=camera.base_url, settings=settings)
        adapter = AxisAdapter(spec)
        try:
            return await getattr(adapter, call)(*args)
        finally:
            await adapter.aclose()

    return asyncio.run(main())


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMGATE_TEST_AXIS_PW", "pw")


CREDS = {"username": "camgate", "password_env": "CAMGATE_TEST_AXIS_PW"}


def test_the_rtsp_url_asks_for_h264_of_the_camera_and_the_profile(fresh: FakeAxisCamera) -> None:
    source = run(fresh, "rtsp_source", "1", rtsp_port=8554, stream_profile="camgate", **CREDS)
    assert source.url.endswith(":8554/axis-media/media.amp?camera=1&videocodec=h264&streamprofile=camgate")
    assert (source.username, source.password, source.transport) == ("camgate", "pw", "tcp")
    assert fresh.targets[-1] == "/axis-cgi/param.cgi?action=list&group=Brand,ImageSource"


@pytest.mark.parametrize("ref", ["0", "x", "1234", "1 ", "١"])
def test_refs_that_are_not_camera_numbers_are_404_without_a_request(fresh: FakeAxisCamera, ref: str) -> None:
    for call in ("rtsp_source", "snapshot"):
        with pytest.raises(AdapterError, match="is not a VAPIX camera number") as caught:
            run(fresh, call, ref, **CREDS)
        assert caught.value.status == 404
    assert fresh.targets == []


def test_the_devices_own_error_line_is_in_the_message(fresh: FakeAxisCamera) -> None:
    with pytest.raises(AdapterError, match=r"answered HTTP 400: Error: invalid camera") as caught:
        run(fresh, "snapshot", "7", **CREDS)
    assert caught.value.status == 400


def test_a_device_offering_only_basic_says_so(fresh: FakeAxisCamera) -> None:
    fresh.auth = HttpAuthServer("basic", username="camgate", password="pw", realm="AXIS")
    with pytest.raises(AuthFailed, match=r"refused user 'camgate' \(HTTP 401\) \(the device offers: Basic\)"):
        run(fresh, "discover", **CREDS)


def test_an_account_without_the_privilege_is_told_so(fresh: FakeAxisCamera) -> None:
    fresh.fault = "forbidden"
    with pytest.raises(AuthFailed, match=r"refused user 'camgate' \(HTTP 403\); give the account the viewer privilege"):
        run(fresh, "snapshot", "1", **CREDS)


def test_answers_over_the_cap_are_refused(fresh: FakeAxisCamera) -> None:
    with pytest.raises(AdapterError, match=r"over the 100-byte cap"):
        run(fresh, "discover", max_response_bytes=100, **CREDS)
    with pytest.raises(AdapterError, match=r"over the 1000-byte cap"):
        run(fresh, "snapshot", "1", max_snapshot_bytes=1000, **CREDS)


def test_a_missing_camera_names_the_cameras_there_are(fresh: FakeAxisCamera, tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match=r"no camera '2'; the device has cameras 1-1") as caught:
        run(fresh, "rtsp_source", "2", **CREDS)
    assert caught.value.status == 404
