"""Settings shared by the Axis and Hikvision adapters: validated with the setting named, secrets only from the
environment or a file, the device address without paths or credentials."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from adapters.axis import AxisAdapter
from adapters.device import DeviceAddress
from adapters.hikvision import HikvisionAdapter
from broker.adapterapi import AdapterConfigError, RtspSource, SystemSpec

ADAPTERS = [("axis", AxisAdapter), ("hikvision", HikvisionAdapter)]


def build(cls: Any, base_url: str | None = "http://10.20.0.15/", **settings: Any) -> Any:
    return cls(SystemSpec(id="lincoln", adapter="x", base_url=base_url, settings=settings))


@pytest.fixture
def pw(tmp_path: Path) -> str:
    path = tmp_path / "pw"
    path.write_text("s3cret\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("name", "cls"), ADAPTERS)
def test_defaults_and_a_password_file(name: str, cls: Any, pw: str) -> None:
    adapter = build(cls, username="camgate", password_file=pw)
    s = adapter.settings
    assert (s.timeout_seconds, s.verify_tls, s.rtsp_port, s.rtsp_transport) == (5.0, True, 554, "tcp")
    assert (s.max_response_bytes, s.max_snapshot_bytes) == (1 << 20, 16 << 20)
    assert repr(adapter) == f"{cls.__name__}(system='lincoln', base_url='http://10.20.0.15')"
    assert "s3cret" not in repr(s) and "s3cret" not in repr(adapter._http)
    asyncio.run(adapter.aclose())


@pytest.mark.parametrize(("name", "cls"), ADAPTERS)
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"password": "inline"}, "setting 'password': unknown key (not a setting of this adapter)"),
        ({}, "give exactly one of 'password_env' or 'password_file'"),
        ({"password_env": "A", "password_file": "/x"}, "give exactly one of"),
        ({"password_env": "CAMGATE_SURELY_UNSET"}, "environment variable 'CAMGATE_SURELY_UNSET' is not set"),
        ({"password_env": "not a name"}, "setting 'password_env'"),
        ({"password_file": "/nonexistent/pw"}, "cannot read '/nonexistent/pw'"),
        ({"password_file": "PW", "timeout_seconds": 0}, "setting 'timeout_seconds'"),
        ({"password_file": "PW", "verify_tls": "yes"}, "setting 'verify_tls'"),
        ({"password_file": "PW", "rtsp_port": 70000}, "setting 'rtsp_port'"),
        ({"password_file": "PW", "rtsp_transport": "http"}, "setting 'rtsp_transport'"),
        ({"password_file": "PW", "max_snapshot_bytes": -1}, "setting 'max_snapshot_bytes'"),
    ],
)
def test_bad_settings_name_the_setting(name: str, cls: Any, settings: dict[str, Any], message: str, pw: str) -> None:
    settings = {k: pw if v == "PW" else v for k, v in settings.items()}
    with pytest.raises(AdapterConfigError) as caught:
        build(cls, username="camgate", **settings)
    assert message in str(caught.value) and "inline" not in str(caught.value)


def test_axis_stream_settings_go_into_the_rtsp_url_only_as_allowed(pw: str) -> None:
    with pytest.raises(AdapterConfigError, match="'videocodec'"):
        build(AxisAdapter, username="u", password_file=pw, videocodec="h265")
    with pytest.raises(AdapterConfigError, match="'stream_profile'"):
        build(AxisAdapter, username="u", password_file=pw, stream_profile="a&camera=2")


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        (None, "required"),
        ("ftp://cam.local/", "http:// or https://"),
        ("http://admin:pw@cam.local/", "credentials belong in username/password_env"),
        ("http://cam.local/axis-cgi/", "no path, query or fragment"),
        ("http://cam.local/?a=1", "no path, query or fragment"),
        ("http://cam.local:port/", "is not a URL"),
    ],
)
def test_bad_base_urls(base_url: str | None, message: str) -> None:
    with pytest.raises(AdapterConfigError, match="'base_url'") as caught:
        DeviceAddress.parse(base_url)
    assert message in str(caught.value) and "pw@" not in str(caught.value)


def test_addresses_and_rtsp_urls() -> None:
    assert DeviceAddress.parse("https://cam.local:8443/") == DeviceAddress("https://cam.local:8443", "cam.local")
    v6 = DeviceAddress.parse("http://[fd00::15]/")
    assert v6.origin == "http://[fd00::15]" and v6.rtsp_url(554, "/x?camera=1") == "rtsp://[fd00::15]:554/x?camera=1"
    source = RtspSource(v6.rtsp_url(554, "/Streaming/Channels/101"), username="u", password="p")
    assert source.with_credentials() == "rtsp://u:p@[fd00::15]:554/Streaming/Channels/101"
