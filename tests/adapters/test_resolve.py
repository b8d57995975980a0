"""resolve(): URIs found in playlists are confined to the system's base URL (pure, no network)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.hls import HlsAdapter
from broker.adapterapi import AdapterError, SystemSpec

BASE = "http://cams.example:8080/hls/"
PLAYLIST = "cam1/index.m3u8"


def adapter(base_url: str = BASE, **settings: Any) -> HlsAdapter:
    return HlsAdapter(SystemSpec(id="district", adapter="hls", base_url=base_url, settings=settings))


@pytest.mark.parametrize(
    ("uri", "ref"),
    [
        ("seg000.ts", "cam1/seg000.ts"),
        ("sub/seg000.ts", "cam1/sub/seg000.ts"),
        ("../cam2/index.m3u8", "cam2/index.m3u8"),  # '..' that stays inside the base is fine
        ("/hls/cam1/seg000.ts", "cam1/seg000.ts"),
        ("http://cams.example:8080/hls/cam2/seg.ts", "cam2/seg.ts"),
        ("HTTP://CAMS.EXAMPLE:8080/hls/cam2/seg.ts", "cam2/seg.ts"),
        ("seg000.ts?token=a%2Fb&x=1", "cam1/seg000.ts?token=a%2Fb&x=1"),  # queries are kept verbatim
        ("seg000.ts#t=1", "cam1/seg000.ts"),  # fragments never reach a server
        ("seg%20000.ts", "cam1/seg%20000.ts"),
    ],
)
def test_resolves_inside_the_system(uri: str, ref: str) -> None:
    a = adapter()
    assert a.resolve(PLAYLIST, uri) == ref
    assert a.uris.check_ref(ref) == ref  # what resolve returns, resource accepts


def test_default_port_is_the_same_port() -> None:
    a = adapter("https://cams.example/hls")
    assert a.resolve("", "https://cams.example:443/hls/a.ts") == "a.ts"
    with pytest.raises(AdapterError, match="another port"):
        a.resolve("", "https://cams.example:8443/hls/a.ts")


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://evil.example:8080/hls/cam1/seg.ts", "another host"),
        ("//evil.example/hls/cam1/seg.ts", "another host"),
        ("http://cams.example:8080@evil.example/hls/x.ts", "user info"),
        ("http://user@cams.example:8080/hls/x.ts", "user info"),
        ("http://cams.example:9090/hls/cam1/seg.ts", "another port"),
        ("http://cams.example/hls/cam1/seg.ts", "another port"),
        ("http://cams.example:99999/hls/x.ts", "out of range"),
        ("https://cams.example:8080/hls/cam1/seg.ts", "scheme 'https'"),
        ("ftp://cams.example:8080/hls/x.ts", "scheme 'ftp'"),
        ("data:video/mp2t;base64,AAAA", "scheme 'data'"),
        ("file:///etc/passwd", "scheme 'file'"),
        ("../../private/secret.txt", "escapes the system's base path"),
        ("/private/secret.txt", "escapes the system's base path"),
        ("http://cams.example:8080/hlsx/a.ts", "escapes the system's base path"),
        ("http://cams.example:8080/hls", "escapes the system's base path"),
        ("%2e%2e/%2e%2e/private/secret.txt", "dot segment"),
        ("%2E%2E/x.ts", "dot segment"),
        (".%2e/.%2e/x.ts", "dot segment"),
        ("%2e%2e%2f%2e%2e%2fprivate", "encoded slash"),
        ("..%2F..%2Fprivate%2Fsecret.txt", "encoded slash"),
        ("..%5c..%5cprivate", "encoded slash or backslash"),
        ("..\\..\\private\\secret.txt", "character '\\\\'"),
        ("seg000.ts\x00.jpg", "character '\\x00'"),
        ("seg000.ts%00.jpg", "control character"),
        ("%252e%252e/%252e%252e/private", "double percent-encoding"),
        ("a//b.ts", "empty path segment"),
        ("sub/", "empty path segment"),
        ("seg .ts", "character ' '"),
        ("seg\u00e9.ts", "not allowed"),
        ("seg%zz.ts", "malformed percent-encoding"),
        ("", "empty"),
        ("a" * 5000, "longer than"),
    ],
)
def test_refuses_uris_outside_the_system(uri: str, why: str) -> None:
    with pytest.raises(AdapterError) as info:
        adapter().resolve(PLAYLIST, uri)
    assert why in str(info.value)
    assert info.value.status is None


@pytest.mark.parametrize("base_ref", ["../x.m3u8", "/hls/cam1/index.m3u8", "cam1/./index.m3u8", BASE + PLAYLIST])
def test_base_ref_must_be_canonical(base_ref: str) -> None:
    with pytest.raises(AdapterError, match="canonical"):
        adapter().resolve(base_ref, "seg.ts")


def test_base_url_at_root_still_confines_host() -> None:
    a = adapter("http://cams.example:8080")
    assert a.resolve("cam1/index.m3u8", "../../../../x.ts") == "x.ts"  # RFC 3986 5.2.4 clamps at the root
    with pytest.raises(AdapterError, match="another host"):
        a.resolve("", "http://127.0.0.1:8080/x.ts")
