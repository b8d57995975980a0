"""The fake ONVIF device enforces WS-UsernameToken as ONVIF Core §5.9.5 and the UsernameToken Profile §3.1 ask:
a right digest over nonce + Created + password, a fresh Created, a nonce used once; PRE_AUTH operations answer
without a token. Raw SOAP over HTTP here, so nothing of the adapter is assumed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.onvif.soapxml import el, envelope
from adapters.onvif.wsse import username_token
from tests.adapters.onvif_rig import PASSWORD, USERNAME, OnvifRig
from tests.fakes.onvif import FakeOnvifDevice

PROFILES = "http://www.onvif.org/ver10/media/wsdl/GetProfiles"


@pytest.fixture(scope="module")
def device(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeOnvifDevice]:
    with OnvifRig.start(tmp_path_factory.mktemp("onvif-fake"), with_rtsp=False) as rig:
        yield rig.device


def post(device: FakeOnvifDevice, path: str, operation: str, header: str = "") -> httpx.Response:
    prefix, _, name = operation.partition(":")
    action = {"tds": "http://www.onvif.org/ver10/device/wsdl", "trt": "http://www.onvif.org/ver10/media/wsdl"}
    headers = {"content-type": f'application/soap+xml; charset=utf-8; action="{action[prefix]}/{name}"'}
    return httpx.post(device.base_url + path, content=envelope(el(operation), header), headers=headers, timeout=5)


def token(*, password: str = PASSWORD, created: datetime | None = None, nonce: bytes | None = None) -> str:
    return username_token(USERNAME, password, now=created or datetime.now(UTC), nonce=nonce)


def refused(response: httpx.Response, device: FakeOnvifDevice, why: str) -> None:
    assert response.status_code == 400  # Core §5.9.1: HTTP 400 and env:Sender/ter:NotAuthorized
    assert b"<env:Value>ter:NotAuthorized</env:Value>" in response.content
    assert device.last_auth_failure == f"Sender not Authorized ({why})"


def test_a_right_token_is_accepted_once(device: FakeOnvifDevice) -> None:
    header = token(nonce=b"nonce-used-once!")
    ok = post(device, "onvif/media_service", "trt:GetProfiles", header)
    assert ok.status_code == 200 and b"<trt:GetProfilesResponse>" in ok.content
    refused(post(device, "onvif/media_service", "trt:GetProfiles", header), device, "replayed nonce")


# Each header is made when its test runs, not at collection: a Created stamped at collection is stale (or a future
# one fresh) by the time a test runs more than 5 minutes later, as under pytest-xdist's scheduling.
@pytest.mark.parametrize(
    ("header", "why"),
    [
        (lambda: "", "no UsernameToken"),
        (lambda: token(password="wrong"), "wrong username or password"),
        (lambda: token(created=datetime.now(UTC) - timedelta(minutes=10)), "stale Created"),
        (lambda: token(created=datetime.now(UTC) + timedelta(minutes=10)), "stale Created"),
        (lambda: token().replace("#PasswordDigest", "#PasswordText"), "the password must be a PasswordDigest"),
        (
            lambda: token().replace("<wsse:Nonce", "<wsse:Other").replace("</wsse:Nonce>", "</wsse:Other>"),
            "nonce and Created are required",
        ),
    ],
)
def test_bad_tokens_are_refused(device: FakeOnvifDevice, header: Callable[[], str], why: str) -> None:
    refused(post(device, "onvif/media_service", "trt:GetProfiles", header()), device, why)


def test_pre_auth_operations_answer_without_a_token(device: FakeOnvifDevice) -> None:
    answer = post(device, "onvif/device_service", "tds:GetSystemDateAndTime")
    assert answer.status_code == 200 and b"<tt:UTCDateTime>" in answer.content
    services = post(device, "onvif/device_service", "tds:GetServices")
    assert f"<tds:XAddr>{device.base_url}onvif/media_service</tds:XAddr>".encode() in services.content


def test_operations_of_another_service_are_not_supported(device: FakeOnvifDevice) -> None:
    answer = post(device, "onvif/device_service", "trt:GetProfiles", token())
    assert answer.status_code == 500 and b"ter:ActionNotSupported" in answer.content
