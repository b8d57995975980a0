"""CORS for embedding pages of other origins (issue 13 item 10; Fetch standard §3.3, §4.8): preflights answered
for the embeddable routes and allowed origins only, bearer tokens only, and cookies never from another origin."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.personas import sign_in
from tests.api.support import PREFIX, Api

MakeApi = Callable[..., contextlib.AbstractContextManager[Api]]
CAD = "https://cad.example.gov"
OTHER = "https://evil.example"
OWN = "http://testserver"
CORS_HEADERS = ("access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers")


@pytest.fixture
def cors_api(make_api: MakeApi) -> Iterator[Api]:
    with make_api(http={"cors_origins": [CAD, "http://127.0.0.1:8081"]}) as running:
        yield running


def preflight(api: Api, path: str, origin: str, method: str = "GET", headers: str | None = "authorization"):  # type: ignore[no-untyped-def]
    request = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers is not None:
        request["Access-Control-Request-Headers"] = headers
    return api.client.options(path, headers=request)


def no_cors(r) -> bool:  # type: ignore[no-untyped-def]
    return not any(h in r.headers for h in (*CORS_HEADERS, "access-control-allow-credentials"))


EMBEDDABLE = [
    f"{PREFIX}/saxe-ext-01/live.m3u8",
    f"{PREFIX}/saxe-ext-01/hls/seg000.ts",
    f"{PREFIX}/saxe-ext-01/hls/index.m3u8",
    f"{PREFIX}/saxe-ext-01/playback.m3u8",
    f"{PREFIX}/saxe-ext-01/snapshot.jpg",
    f"{PREFIX}/saxe-ext-01/view.m3u8",
    PREFIX,
]


@pytest.mark.parametrize("path", EMBEDDABLE)
def test_a_preflight_from_an_allowed_origin_is_answered(cors_api: Api, path: str) -> None:
    r = preflight(cors_api, path, CAD, headers="Authorization")
    assert r.status_code == 204, r.text
    assert r.headers["access-control-allow-origin"] == CAD  # the origin itself, never "*"
    assert "GET" in r.headers["access-control-allow-methods"].split(", ")
    assert "authorization" in r.headers["access-control-allow-headers"].split(", ")
    assert int(r.headers["access-control-max-age"]) == 600
    assert "Origin" in r.headers["vary"]
    assert "access-control-allow-credentials" not in r.headers  # never cookies (Fetch §3.3.5)
    assert cors_api.audit(kind="auth.refused") == []  # a preflight carries no credentials: nothing refused


def test_the_viewing_url_route_takes_a_post_preflight(cors_api: Api) -> None:
    r = preflight(cors_api, f"{PREFIX}/saxe-ext-01/viewing-url", "http://127.0.0.1:8081", "POST", "authorization")
    assert r.status_code == 204 and r.headers["access-control-allow-methods"] == "POST"


@pytest.mark.parametrize(
    ("path", "from_", "method", "headers"),
    [
        (f"{PREFIX}/saxe-ext-01/live.m3u8", OTHER, "GET", "authorization"),  # not on the list
        (f"{PREFIX}/saxe-ext-01/live.m3u8", "https://cad.example.gov.evil.example", "GET", None),
        (f"{PREFIX}/saxe-ext-01/live.m3u8", "null", "GET", None),
        (f"{PREFIX}/saxe-ext-01/live.m3u8", CAD, "DELETE", None),  # not a method of the route
        (f"{PREFIX}/saxe-ext-01/live.m3u8", CAD, "GET", "authorization, x-camgate-sudo"),  # nor a header
        (f"{PREFIX}/saxe-ext-01/live.m3u8", CAD, "GET", "cookie"),
        ("/api/v1/audit", CAD, "GET", "authorization"),  # not embeddable
        ("/api/v1/emergencies", CAD, "POST", "authorization, content-type"),
        ("/api/v1/admin/reload", CAD, "POST", "authorization"),
    ],
)
def test_any_other_preflight_gets_no_cors_header(
    cors_api: Api, path: str, from_: str, method: str, headers: str | None
) -> None:
    r = preflight(cors_api, path, from_, method, headers)
    assert r.status_code == 405, r.text  # the router's answer to OPTIONS, with Allow
    assert no_cors(r), dict(r.headers)


def test_without_cors_origins_nothing_changes(api: Api) -> None:
    r = preflight(api, f"{PREFIX}/saxe-ext-01/live.m3u8", CAD)
    assert r.status_code == 405 and no_cors(r)
    r = api.get(f"{PREFIX}/saxe-ext-01/live.m3u8", headers={"Origin": CAD})
    assert r.status_code == 200 and no_cors(r)


def test_answers_to_an_allowed_origin_carry_the_origin_refusals_too(cors_api: Api) -> None:
    r = cors_api.get(f"{PREFIX}/saxe-ext-01/live.m3u8", headers={"Origin": CAD})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == CAD and "Origin" in r.headers["vary"]
    assert "access-control-allow-credentials" not in r.headers
    segment = cors_api.client.get(r.text.splitlines()[-2], headers={"Origin": CAD, "Authorization": "Bearer x"})
    assert segment.status_code == 200 and segment.headers["access-control-allow-origin"] == CAD
    refused = cors_api.get(f"{PREFIX}/saxe-int-01/live.m3u8", headers={"Origin": CAD})
    assert refused.status_code == 403 and refused.headers["access-control-allow-origin"] == CAD
    anonymous = cors_api.get(f"{PREFIX}/saxe-ext-01/live.m3u8", as_=None, headers={"Origin": CAD})
    assert anonymous.status_code == 401 and anonymous.headers["access-control-allow-origin"] == CAD
    assert "WWW-Authenticate" in anonymous.headers["access-control-expose-headers"]


def test_answers_to_other_origins_and_other_routes_carry_none(cors_api: Api) -> None:
    r = cors_api.get(f"{PREFIX}/saxe-ext-01/live.m3u8", headers={"Origin": OTHER})
    assert r.status_code == 200 and no_cors(r) and "Origin" in r.headers["vary"]
    r = cors_api.get("/api/v1/audit", as_="auditor", headers={"Origin": CAD})
    assert r.status_code == 200 and no_cors(r)


# -- cookies never authorise another origin's page -------------------------------------------------------------


class SignedIn:
    """The officer's browser: the console session cookie, sent on the running app's client (its event loop)."""

    def __init__(self, api: Api) -> None:
        client = TestClient(api.app, base_url=OWN)
        assert sign_in(client, "officer", OWN).status_code == 303
        self.api, self.cookie = api, {"Cookie": f"camgate_session={client.cookies['camgate_session']}"}

    def get(self, path: str, headers: dict[str, str]) -> httpx.Response:
        return self.api.client.get(path, headers=self.cookie | headers)

    def post(self, path: str, headers: dict[str, str]) -> httpx.Response:
        return self.api.client.post(path, headers=self.cookie | headers)


def signed_in(api: Api) -> SignedIn:
    return SignedIn(api)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": CAD},  # a CORS request of an allowed origin: bearer only
        {"Origin": OTHER},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"},  # <img src=…>
        {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors"},  # another port of the same host
    ],
)
def test_a_cookie_from_another_origin_does_not_authorise(cors_api: Api, headers: dict[str, str]) -> None:
    browser = signed_in(cors_api)
    for path in (f"{PREFIX}/saxe-ext-01/live.m3u8", f"{PREFIX}/saxe-ext-01/snapshot.jpg", PREFIX):
        r = browser.get(path, headers=headers)
        assert r.status_code == 403 and r.json()["reason"] == "cross_origin", (path, r.text)
    r = browser.post(f"{PREFIX}/saxe-ext-01/viewing-url", headers=headers)
    assert r.status_code == 403 and r.json()["reason"] == "cross_origin"
    assert cors_api.audit(kind="decision", camera="saxe-ext-01") == []  # nothing was even decided


def test_the_console_itself_still_works_with_its_cookie(cors_api: Api) -> None:
    browser = signed_in(cors_api)
    for headers in ({}, {"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors"}, {"Origin": OWN}):
        assert browser.get(f"{PREFIX}/saxe-ext-01/live.m3u8", headers=headers).status_code == 200
    navigation = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    assert browser.get(f"{PREFIX}/saxe-ext-02/live.m3u8", headers=navigation).status_code == 200  # a link
