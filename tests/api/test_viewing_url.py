"""Viewing URLs (issue 13 item 10): a short-lived, camera-bound URL for players that cannot send headers, instead
of a long-lived bearer token in ``?access_token=``. Decided when issued and on every request after; audited."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient

from tests.api.support import PREFIX, Api

VIEW_URL = re.compile(rf"^{re.escape(PREFIX)}/(?P<camera>[a-z0-9._-]+)/view\.m3u8\?v=(?P<token>[A-Za-z0-9_.-]+)$")


def issue(api: Api, camera: str = "saxe-ext-01", as_: str = "officer") -> dict[str, str]:
    r = api.post(f"{PREFIX}/{camera}/viewing-url", as_=as_)
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    return dict(r.json())


def uris(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [line for line in r.text.splitlines() if line and not line.startswith("#")]


def test_a_viewing_url_plays_without_any_header_and_holds_no_bearer_token(api: Api) -> None:
    body = issue(api)
    url = body["url"]
    assert VIEW_URL.match(url), url
    assert api.token("officer") not in url and "access_token" not in url
    assert body["expires_at"] == "2026-09-14T13:01:00Z"  # streams.viewing_url_seconds: 60 s to start
    master = api.client.get(url)  # no Authorization, no cookie: the URL is the credential
    assert master.status_code == 200 and master.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert "#EXT-X-STREAM-INF:BANDWIDTH=" in master.text
    (variant,) = uris(master)
    assert variant.startswith(f"{PREFIX}/saxe-ext-01/hls/live.m3u8?t=")
    segments = uris(api.client.get(variant))
    assert len(segments) == 4
    seg = api.client.get(segments[0])
    assert seg.status_code == 200 and seg.content[0] == 0x47


def test_the_viewing_url_must_be_opened_within_a_minute_then_the_session_takes_over(api: Api) -> None:
    url = issue(api)["url"]
    (variant,) = uris(api.client.get(url))
    api.clock.advance(timedelta(minutes=30))
    r = api.client.get(url)
    assert r.status_code == 401 and r.json()["reason"] == "expired"
    segments = uris(api.client.get(variant))  # the player goes on: the variant lives as long as the bearer token
    assert api.client.get(segments[-1]).status_code == 200


def test_it_is_bound_to_its_camera_and_its_use(api: Api) -> None:
    url = issue(api)["url"]
    token = VIEW_URL.match(url)["token"]  # type: ignore[index]
    r = api.client.get(f"{PREFIX}/saxe-ext-02/view.m3u8?v={token}")
    assert r.status_code == 401 and r.json()["reason"] == "camera_mismatch"
    r = api.client.get(f"{PREFIX}/saxe-ext-01/hls/live.m3u8?t={token}")  # not a stream URL's token
    assert r.status_code == 401 and r.json()["reason"] == "malformed"
    segment = api.playlist_uris("saxe-ext-01")[0]
    stream_token = segment.split("?t=", 1)[1]
    r = api.client.get(f"{PREFIX}/saxe-ext-01/view.m3u8?v={stream_token}")  # nor a stream URL's token a viewing URL
    assert r.status_code == 401 and r.json()["reason"] == "malformed"
    assert api.client.get(f"{PREFIX}/saxe-ext-01/view.m3u8").status_code == 401


def test_issuing_is_decided_and_audited(api: Api) -> None:
    r = api.post(f"{PREFIX}/saxe-int-01/viewing-url")
    assert r.status_code == 403 and r.json()["reason"] == "no_emergency"
    issue(api)
    (denied,) = api.audit(kind="decision", camera="saxe-int-01")
    assert denied["details"]["during"] == "viewing_url" and denied["allowed"] is False
    (issued,) = api.audit(kind="viewing_url.issued", camera="saxe-ext-01")
    assert issued["principal_sub"] == "officer-17" and issued["grant"] == "G1" and issued["clause"]
    assert issued["details"]["expires_at"] == "2026-09-14T13:01:00Z"


def test_it_is_decided_again_when_opened_and_on_every_reload(api: Api) -> None:
    em = api.declared()
    url = issue(api, "saxe-int-01")["url"]
    (variant,) = uris(api.client.get(url))
    assert api.client.get(variant).status_code == 200
    assert api.end(em["id"]).status_code == 200
    for path in (url, variant):
        r = api.client.get(path)
        assert r.status_code == 403 and r.json()["reason"] == "no_emergency", path


def test_asking_for_one_needs_credentials(api: Api) -> None:
    assert api.post(f"{PREFIX}/saxe-ext-01/viewing-url", as_=None).status_code == 401
    anonymous = TestClient(api.app)
    assert anonymous.post(f"{PREFIX}/saxe-ext-01/viewing-url").status_code == 401
