"""The fake Axis camera and Hikvision NVR against client libraries nobody on this project wrote, so the fakes
speak VAPIX and ISAPI as real clients expect: ``axis`` (the library behind Home Assistant's Axis integration;
param.cgi by POST, httpx Digest) and ``hikvisionapi`` (requests: Basic first, then its own Digest, xmltodict)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
from axis.device import AxisDevice
from axis.errors import Unauthorized
from axis.models.configuration import Configuration
from axis.models.parameters.param_cgi import ParameterGroup
from hikvisionapi import Client

from tests.fakes.axis import FakeAxisCamera
from tests.fakes.hikvision import NS, FakeHikvisionNvr

PASSWORD = "camgate p@ss:1"


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeAxisCamera]:
    with FakeAxisCamera(tmp_path_factory.mktemp("axis"), None, sources=("Entrance", "Gym"), password=PASSWORD) as cam:
        yield cam


@pytest.fixture(scope="module")
def nvr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeHikvisionNvr]:
    with FakeHikvisionNvr(tmp_path_factory.mktemp("hik"), None, channels=("Front door", "Gym"), password=PASSWORD) as n:
        yield n


def axis_client(camera: FakeAxisCamera, password: str) -> Any:
    async def main() -> tuple[Any, Any]:
        async with httpx.AsyncClient() as session:
            config = Configuration(session, "127.0.0.1", port=camera.port, username="camgate", password=password)
            device = AxisDevice(config)
            await device.vapix.params.brand_handler.update()
            await device.vapix.params.request_group(ParameterGroup.IMAGESOURCE)
            return device.vapix.params.brand_handler["0"], device.vapix.params.get(ParameterGroup.IMAGESOURCE)

    return asyncio.run(main())


def test_the_axis_library_reads_brand_and_image_sources(camera: FakeAxisCamera) -> None:
    brand, sources = axis_client(camera, PASSWORD)
    assert (brand.brand, brand.product_number, brand.product_short_name) == ("AXIS", "M3215-LVE", "AXIS M3215-LVE")
    assert sources["NbrOfSources"] == 2
    assert (sources["I0"]["Name"], sources["I1"]["Name"]) == ("Entrance", "Gym")


def test_the_axis_library_is_refused_a_wrong_password(camera: FakeAxisCamera) -> None:
    with pytest.raises(Unauthorized):
        axis_client(camera, "not-the-password")


def test_hikvisionapi_reads_channels_device_info_and_a_picture(nvr: FakeHikvisionNvr) -> None:
    client = Client(nvr.base_url, "camgate", PASSWORD)  # probes /ISAPI/System/status, Basic then Digest
    listing = client.Streaming.channels(method="get")["StreamingChannelList"]
    assert listing["@xmlns"] == NS
    streams = {c["id"]: (c["channelName"], c["Video"]["videoCodecType"]) for c in listing["StreamingChannel"]}
    assert streams == {"101": ("Front door", "H.264"), "102": ("Front door", "H.264"),
                       "201": ("Gym", "H.264"), "202": ("Gym", "H.264")}  # fmt: skip
    assert client.System.deviceInfo(method="get")["DeviceInfo"]["model"] == "DS-7608NI-K2"
    picture = client.Streaming.channels[201].picture(method="get", type="opaque_data")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    assert picture.content.startswith(b"\xff\xd8\xff")


def test_hikvisionapi_is_refused_a_wrong_password(nvr: FakeHikvisionNvr) -> None:
    with pytest.raises(requests.HTTPError, match="401"):
        Client(nvr.base_url, "camgate", "not-the-password")
