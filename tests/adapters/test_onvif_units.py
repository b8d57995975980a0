"""The ONVIF adapter's parts on their own: the guarded XML reader, the UsernameToken digest (checked against
zeep's), where URIs may point (no SSRF), settings, and the choice of one profile per video source."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from adapters.onvif.client import SoapFault, read_fault
from adapters.onvif.media import MediaProfile, camera_name, cameras, check_token
from adapters.onvif.settings import OnvifSettings
from adapters.onvif.soapxml import MalformedXml, el, envelope, parse, q, text_el
from adapters.onvif.uris import DeviceUris
from adapters.onvif.wsse import created_text, password_digest, username_token
from broker.adapterapi import AdapterConfigError, AdapterError
from tests.fakes.onvif_answers import BILLION_LAUGHS

ENV = "http://www.w3.org/2003/05/soap-envelope"


def test_an_envelope_round_trips_with_escaped_text() -> None:
    body = envelope(el("trt:GetStreamUri", text_el("trt:ProfileToken", "<&'\">")), header="<x:h xmlns:x='urn:x'/>")
    root = parse(body, max_bytes=10_000)
    assert root.tag == q("env:Envelope")
    assert root.path_text(q("env:Body"), q("trt:GetStreamUri"), q("trt:ProfileToken")) == "<&'\">"
    assert root.path(q("env:Header"), "{urn:x}h") is not None
    assert ET.fromstring(body).tag == f"{{{ENV}}}Envelope"  # and the stdlib reads it the same way


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (BILLION_LAUGHS, "document type declaration is not allowed"),
        (b'<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>', "document type declaration is not allowed"),
        (b'<?xml version="1.0"?><?evil x?><r/>', "processing instruction is not allowed"),
        (b"<r><a></r>", r"not well-formed XML at line 1 column \d+: mismatched tag"),
        (b"", "not well-formed XML"),
        (b"<r>" * 70 + b"</r>" * 70, "nested deeper than 64"),
    ],
)
def test_hostile_or_broken_xml_is_refused(document: bytes, message: str) -> None:
    with pytest.raises(MalformedXml, match=message):
        parse(document, max_bytes=1_000_000)


def test_size_and_element_caps() -> None:
    with pytest.raises(MalformedXml, match="over the 10-byte limit"):
        parse(b"<r>0123456789</r>", max_bytes=10)
    with pytest.raises(MalformedXml, match="more than 5 elements"):
        parse(b"<r>" + b"<a/>" * 5 + b"</r>", max_bytes=1000, max_elements=5)


def test_fault_codes_resolve_by_the_prefixes_in_scope() -> None:
    doc = (
        f'<e:Envelope xmlns:e="{ENV}" xmlns:err="http://www.onvif.org/ver10/error"><e:Body><e:Fault>'
        "<e:Code><e:Value>e:Sender</e:Value><e:Subcode><e:Value>err:InvalidArgVal</e:Value>"
        "<e:Subcode><e:Value>err:NoProfile</e:Value></e:Subcode></e:Subcode></e:Code>"
        '<e:Reason><e:Text xml:lang="en">No  such\nprofile</e:Text></e:Reason></e:Fault></e:Body></e:Envelope>'
    ).encode()
    fault = read_fault(parse(doc, max_bytes=10_000).path(q("env:Body"), q("env:Fault")))  # type: ignore[arg-type]
    assert fault == SoapFault(
        f"{{{ENV}}}Sender",
        ("{http://www.onvif.org/ver10/error}InvalidArgVal", "{http://www.onvif.org/ver10/error}NoProfile"),
        "No such profile",
    )
    assert fault.has("NoProfile") and not fault.is_auth
    assert fault.describe() == "SOAP fault Sender/InvalidArgVal/NoProfile (No such profile)"
    assert SoapFault("x", ("{urn:wsse}FailedAuthentication",), "").is_auth


def test_the_password_digest_matches_zeeps() -> None:
    from zeep.wsse.username import UsernameToken

    created, nonce = datetime(2026, 3, 1, 8, 30, 5, 120000, tzinfo=UTC), b"0123456789abcdef"
    text = created_text(created)
    assert text == "2026-03-01T08:30:05.120Z"
    ours = username_token("camgate", "pässword", now=created, nonce=nonce)
    token = ET.fromstring(f'<r xmlns:env="{ENV}" {NAMESPACE_DECLS}>{ours}</r>')
    theirs = UsernameToken("camgate", "pässword", use_digest=True, nonce=nonce.decode(), created=created)
    digest_el, _, created_el = theirs._create_password_digest()
    assert digest_el.text == password_digest(nonce, created_el.text, "pässword")
    assert token.findtext(".//{*}Password") == password_digest(nonce, text, "pässword")
    assert base64.b64decode(token.findtext(".//{*}Nonce") or "") == nonce
    assert token.findtext(".//{*}Created") == text


NAMESPACE_DECLS = (
    'xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" '
    'xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"'
)


def test_service_addresses_are_rebased_onto_the_devices_origin() -> None:
    uris = DeviceUris("http://10.0.0.5:8080/")
    assert uris.device_url == "http://10.0.0.5:8080/onvif/device_service"
    assert uris.service_url("http://192.168.1.64/onvif/Media") == "http://10.0.0.5:8080/onvif/Media"
    assert uris.service_url("http://evil.example:81/onvif/media?x=1") == "http://10.0.0.5:8080/onvif/media"
    for bad in ("ftp://10.0.0.5/onvif", "http://10.0.0.5/onvif/../admin", "http://10.0.0.5//x", "not a url"):
        with pytest.raises(AdapterError, match="service address"):
            uris.service_url(bad)


def test_media_uris_must_stay_on_the_device_or_listed_hosts() -> None:
    uris = DeviceUris("http://Cam.School.example/", media_hosts=("10.0.0.6",))
    check = uris.media_url
    assert (
        check("rtsp://cam.school.example:554/s1?x=1", schemes=("rtsp",), what="s")
        == "rtsp://cam.school.example:554/s1?x=1"
    )
    assert check("rtsp://admin:pw@10.0.0.6/live", schemes=("rtsp",), what="s") == "rtsp://10.0.0.6/live"
    with pytest.raises(AdapterError, match=r"names host '169\.254\.169\.254', which is neither the device") as caught:
        check("http://169.254.169.254/latest/meta-data?token=secret", schemes=("http",), what="snapshot")
    assert "secret" not in str(caught.value) and "meta-data" not in str(caught.value)
    with pytest.raises(AdapterError, match="scheme 'http' is not one of rtsp"):
        check("http://cam.school.example/live", schemes=("rtsp", "rtsps"), what="stream")
    with pytest.raises(AdapterError, match="not a plain URI"):
        check("rtsp://cam.school.example/a b", schemes=("rtsp",), what="stream")


@pytest.mark.parametrize(
    ("base_url", "message"),
    [
        (None, "required for the onvif adapter"),
        ("ftp://cam/", "must be an http:// or https:// URL"),
        ("http://admin:pw@cam/", "credentials belong in username/password_env"),
        ("http://cam/onvif/media_service", "give the device's address only"),
        ("http://cam/?x=1", "give the device's address only"),
    ],
)
def test_base_url_problems_name_the_setting(base_url: str | None, message: str) -> None:
    with pytest.raises(AdapterConfigError, match=message):
        DeviceUris(base_url)


def test_settings_forbid_unknown_keys_and_read_the_password_only_from_env_or_file(tmp_path: Path) -> None:
    with pytest.raises(
        AdapterConfigError, match=r"setting 'pasword_env': unknown key \(not a setting of this adapter\)"
    ):
        OnvifSettings.from_spec({"username": "u", "pasword_env": "X"})
    with pytest.raises(AdapterConfigError, match="setting 'password'"):
        OnvifSettings.from_spec({"username": "u", "password": "inline"})
    with pytest.raises(AdapterConfigError, match="setting 'media_hosts': 'bad host!' is not a host name"):
        OnvifSettings.from_spec({"username": "u", "password_env": "X", "media_hosts": ["bad host!"]})
    settings = OnvifSettings.from_spec({"username": "u", "password_env": "CAM_PW", "media_hosts": ["[FE80::1]"]})
    assert settings.media_hosts == ("fe80::1",)
    assert settings.password({"CAM_PW": "from-env"}) == "from-env"
    with pytest.raises(AdapterConfigError, match="environment variable 'CAM_PW' is not set"):
        settings.password({})
    (tmp_path / "pw").write_text("from-file\n", encoding="utf-8")
    from_file = OnvifSettings.from_spec({"username": "u", "password_file": str(tmp_path / "pw")})
    assert from_file.password() == "from-file"
    with pytest.raises(AdapterConfigError, match="give exactly one of 'password_env' or 'password_file'"):
        OnvifSettings.from_spec({"username": "u"}).password()


def profile(token: str, source: str | None, encoding: str | None, w: int, name: str = "") -> MediaProfile:
    return MediaProfile(token, token, source, name, encoding, w, w * 9 // 16)


def test_one_camera_per_video_source_streamed_by_its_best_h264_profile() -> None:
    profiles = [
        profile("jpeg", "s1", "JPEG", 1920),
        profile("sub", "s1", "H264", 640),
        profile("main", "s1", "H264", 1920),
        profile("h265", "s2", "H265", 3840),
        profile("s2-264", "s2", "H264", 1280),
        profile("mjpeg-only", "s3", "JPEG", 640),
        profile("audio", None, None, 0),
    ]
    highest = [(best.token, [o.token for o in others]) for best, others in cameras(profiles, "highest")]
    assert highest == [("main", ["jpeg", "sub"]), ("s2-264", ["h265"]), ("mjpeg-only", [])]
    lowest = [best.token for best, _ in cameras(profiles, "lowest")]
    assert lowest == ["sub", "s2-264", "mjpeg-only"]


def test_camera_names_are_unique_and_refs_are_reference_tokens() -> None:
    taken: set[str] = set()
    assert camera_name(profile("a", "s1", "H264", 1, name="Lobby"), taken) == "Lobby"
    assert camera_name(profile("b", "s2", "H264", 1, name="Lobby"), taken) == "Lobby (s2)"
    assert camera_name(profile("c", "s3", "H264", 1), taken) == "c"
    assert check_token("Profile_1.main:x") == "Profile_1.main:x"
    for bad in ("", "a" * 65, "a b", "a/../b", "x<y"):
        with pytest.raises(AdapterError, match="is not an ONVIF profile token"):
            check_token(bad)
