"""The Hikvision adapter beyond the contract: hostile and unexpected ISAPI XML, which channels are cameras,
refs, and the device's ResponseStatus in errors (HTTP only: the fake NVR without its RTSP server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from adapters.hikvision import HikvisionAdapter
from adapters.hikvision.isapi import explain, parse, streaming_channels
from broker.adapterapi import AdapterError, SystemSpec
from tests.fakes.hikvision import BOMB, NS, FakeHikvisionNvr

W = "system 'x': GET /ISAPI/Streaming/channels"


def channels(items: str, ns: str = NS) -> bytes:
    return f'<StreamingChannelList version="2.0" xmlns="{ns}">{items}</StreamingChannelList>'.encode()


def test_main_streams_enabled_or_not_with_their_video() -> None:
    body = channels(
        "<StreamingChannel><id>101</id><channelName>Lobby</channelName><enabled>true</enabled>"
        "<Video><videoCodecType>H.265</videoCodecType><videoResolutionWidth>2688</videoResolutionWidth>"
        "<videoResolutionHeight>1520</videoResolutionHeight></Video></StreamingChannel>"
        "<StreamingChannel><id>102</id><enabled>true</enabled></StreamingChannel>"
        "<StreamingChannel><id>201</id><enabled>false</enabled></StreamingChannel>"
    )
    lobby, sub, off = streaming_channels(body, where=W)
    assert (lobby.id, lobby.name, lobby.is_main, lobby.enabled) == (101, "Lobby", True, True)
    assert lobby.details() == {"vendor": "Hikvision", "channel": "1", "stream": "101", "codec": "H.265",
                               "resolution": "2688x1520"}  # fmt: skip
    assert (sub.is_main, sub.name) == (False, "Channel 1") and (off.is_main, off.enabled) == (True, False)


@pytest.mark.parametrize("ns", ["http://www.hikvision.com/ver10/XMLSchema", "http://www.isapi.org/ver20/XMLSchema", NS])
def test_every_isapi_namespace_is_read(ns: str) -> None:
    assert [
        c.id for c in streaming_channels(channels("<StreamingChannel><id>101</id></StreamingChannel>", ns), where=W)
    ] == [101]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (BOMB.encode(), "XML refused: it declares a DTD or entities (DTDForbidden)"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "XML refused"),
        (
            b"<StreamingChannelList xmlns='" + NS.encode() + b"'><StreamingChannel>",
            "malformed XML: no element found: line 1",
        ),
        (b"<html><body>Login</body></html>", "expected an ISAPI <StreamingChannelList> document, got <html>"),
        (b"<StreamingChannelList/>", "<StreamingChannelList> in XML namespace '', not an ISAPI namespace"),
        (channels("", "urn:evil"), "in XML namespace 'urn:evil'"),
        (
            channels("<StreamingChannel><id>1</id></StreamingChannel>"),
            "StreamingChannel 1: StreamingChannel id '1' is not",
        ),
        (channels("<StreamingChannel><id>105</id></StreamingChannel>"), "id '105' is not channel x 100 + stream (1-3)"),
        (channels("<StreamingChannel/>" * 1025), "1025 streaming channels, over 1024"),
    ],
)
def test_hostile_and_unexpected_documents_are_refused_saying_why(body: bytes, message: str) -> None:
    started = time.monotonic()
    with pytest.raises(AdapterError) as caught:
        streaming_channels(body, where=W)
    assert message in str(caught.value) and str(caught.value).startswith(W)
    assert time.monotonic() - started < 1.0  # nothing was expanded


def test_response_status_explains_errors() -> None:
    status = f'<ResponseStatus xmlns="{NS}"><statusString>Invalid Operation</statusString><subStatusCode>notSupport</subStatusCode></ResponseStatus>'
    assert explain(status.encode()) == "Invalid Operation (notSupport)"
    assert explain(b"<html>nope</html>") is None and explain(BOMB.encode()) is None
    assert parse(status.encode(), root="ResponseStatus", where=W).tag == f"{{{NS}}}ResponseStatus"


@pytest.fixture(scope="module")
def nvr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeHikvisionNvr]:
    with FakeHikvisionNvr(tmp_path_factory.mktemp("hik"), None, channels=("Lobby",), password="pw") as device:
        yield device


@pytest.fixture
def fresh(nvr: FakeHikvisionNvr, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHikvisionNvr]:
    monkeypatch.setenv("CAMGATE_TEST_HIK_PW", "pw")
    nvr.targets = []
    yield nvr
    nvr.fault = None


def run(nvr: FakeHikvisionNvr, call: str, *args: Any, **settings: Any) -> Any:
    async def main() -> Any:
        settings.setdefault("username", "camgate")
        settings.setdefault("password_env", "CAMGATE_TEST_HIK_PW")
        adapter = HikvisionAdapter(SystemSpec(id="x", adapter="hikvision", base_url=nvr.base_url, settings=settings))
        try:
            return await getattr(adapter, call)(*args)
        finally:
            await adapter.aclose()

    return asyncio.run(main())


def test_the_rtsp_url_is_the_channels_and_a_sub_stream_may_be_chosen(fresh: FakeHikvisionNvr) -> None:
    source = run(fresh, "rtsp_source", "102", rtsp_port=10554, rtsp_transport="udp")
    assert source.url.endswith(":10554/Streaming/Channels/102") and source.transport == "udp"
    assert fresh.targets[-1] == "/ISAPI/Streaming/channels/102"


def test_a_missing_channel_carries_the_devices_explanation(fresh: FakeHikvisionNvr) -> None:
    with pytest.raises(AdapterError, match=r"GET /ISAPI/Streaming/channels/201: the device answered HTTP 404: "
                                           r"Invalid Operation \(notSupport\)") as caught:  # fmt: skip
        run(fresh, "rtsp_source", "201")
    assert caught.value.status == 404


@pytest.mark.parametrize("ref", ["1", "100", "104", "abc", "1011111", "１０１"])
def test_refs_that_are_not_streaming_channel_ids_are_404_without_a_request(fresh: FakeHikvisionNvr, ref: str) -> None:
    for call in ("rtsp_source", "snapshot"):
        with pytest.raises(AdapterError, match="is not an ISAPI streaming channel id") as caught:
            run(fresh, call, ref)
        assert caught.value.status == 404
    assert fresh.targets == []


def test_an_entity_bomb_from_the_device_is_refused_at_once(fresh: FakeHikvisionNvr) -> None:
    fresh.fault = "entity_bomb"
    started = time.monotonic()
    with pytest.raises(AdapterError, match=r"GET /ISAPI/Streaming/channels: XML refused: it declares a DTD"):
        run(fresh, "discover")
    assert time.monotonic() - started < 2.0
