"""Console sign-in against an OpenID Connect provider nobody on this project wrote: panva's oidc-provider
(npm, pinned in tests/oidc/), run on 127.0.0.1 by ``tests/identity/oidc_provider.py``.

The browser is a TestClient of the app (its own cookie jar); the provider's redirects are followed over HTTP
with a client of their own, the way a browser goes from one site to the other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.support import THREAT, Api
from tests.identity.oidc_provider import CLIENT_ID, OidcProvider, available

ORIGIN = "http://testserver"
ACCOUNT = {"sub": "officer-kim", "agency": "ncpd", "roles": ["dispatcher"]}

pytestmark = pytest.mark.skipif(available() is not None, reason=str(available()))


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    running = OidcProvider(tmp_path_factory.mktemp("oidc"), f"{ORIGIN}/auth/callback", ACCOUNT).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def oidc_api(make_api: Callable[..., contextlib.AbstractContextManager[Api]], provider: OidcProvider) -> Iterator[Api]:
    issuer = {
        "issuer": provider.issuer, "audience": "camgate", "jwks_uri": f"{provider.issuer}/jwks",
        "jwks_min_refresh_seconds": 0,
        "signin": {"client_id": CLIENT_ID, "scope": "openid camgate", "display_name": "Test police IdP"},
    }  # fmt: skip
    with make_api(identity={"issuers": [issuer]}) as api:
        yield api


def to_callback(browser: TestClient, provider: OidcProvider) -> str:
    """Start at /auth/login and follow the provider's redirects until it sends the browser back: that URL."""
    r = browser.get("/auth/login", params={"issuer": provider.issuer}, follow_redirects=False)
    assert r.status_code in (302, 303, 307), r.text
    location = r.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43  # RFC 7636 §4.2
    assert query["state"][0] and query["nonce"][0]
    with httpx.Client(timeout=10) as at_provider:  # the browser at the provider (its cookies)
        for _ in range(10):
            if not location.startswith(provider.issuer):
                return location
            r = at_provider.get(location, follow_redirects=False)
            assert r.status_code in (302, 303), f"{r.status_code} {r.text}\n{provider.log()}"
            location = urljoin(location, r.headers["location"])
    raise AssertionError("the provider never sent the browser back")


def sign_in(browser: TestClient, provider: OidcProvider) -> httpx.Response:
    return browser.get(to_callback(browser, provider), follow_redirects=False)


def test_a_full_sign_in_sets_the_cookie_and_the_session_names_the_principal(
    oidc_api: Api, provider: OidcProvider
) -> None:
    browser = TestClient(oidc_api.app, base_url=ORIGIN)
    assert browser.get("/api/v1/session").status_code == 401
    r = sign_in(browser, provider)
    assert r.status_code == 303 and r.headers["location"] == "/console/", r.text
    assert "camgate_session=" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    session = browser.get("/api/v1/session")
    assert session.status_code == 200, session.text
    assert session.json()["principal"] == ACCOUNT and session.json()["issuer"] == provider.issuer
    assert browser.get("/api/v1/cameras").status_code == 200


def test_a_single_issuer_needs_no_choice_and_the_picker_lists_it(oidc_api: Api, provider: OidcProvider) -> None:
    r = TestClient(oidc_api.app, base_url=ORIGIN).get("/auth/login", follow_redirects=False)
    assert r.status_code == 302 and r.headers["location"].startswith(provider.issuer + "/auth?")
    assert TestClient(oidc_api.app).get("/auth/login?issuer=https://nobody.example").status_code == 404


def test_a_rotated_signing_key_still_signs_in(
    make_api: Callable[..., contextlib.AbstractContextManager[Api]], tmp_path: Path
) -> None:
    provider = OidcProvider(tmp_path, f"{ORIGIN}/auth/callback", ACCOUNT).start()
    try:
        issuer: dict[str, Any] = {
            "issuer": provider.issuer, "audience": "camgate", "jwks_uri": f"{provider.issuer}/jwks",
            "signin": {"client_id": CLIENT_ID, "scope": "openid camgate"},
        }  # fmt: skip
        with make_api(identity={"issuers": [issuer]}) as api:
            first_kid = provider.kid
            assert sign_in(TestClient(api.app, base_url=ORIGIN), provider).status_code == 303
            provider.start()  # the provider rotates: a new key, the old one gone from its JWKS
            assert provider.kid != first_kid
            browser = TestClient(api.app, base_url=ORIGIN)
            r = sign_in(browser, provider)  # an unknown kid: the JWKS is fetched again
            assert r.status_code == 303, r.text
            assert browser.get("/api/v1/session").json()["principal"]["sub"] == ACCOUNT["sub"]
    finally:
        provider.stop()


def test_a_forged_state_is_refused(oidc_api: Api, provider: OidcProvider) -> None:
    browser = TestClient(oidc_api.app, base_url=ORIGIN)
    callback = urlsplit(to_callback(browser, provider))
    query = {k: v[0] for k, v in parse_qs(callback.query).items()} | {"state": "forged-by-an-attacker"}
    r = browser.get(f"/auth/callback?{urlencode(query)}", follow_redirects=False)
    assert r.status_code == 401 and r.json()["reason"] == "state", r.text
    assert "camgate_session" not in browser.cookies


def test_a_replayed_state_is_refused(oidc_api: Api, provider: OidcProvider) -> None:
    browser = TestClient(oidc_api.app, base_url=ORIGIN)
    callback = to_callback(browser, provider)
    login_cookie = browser.cookies.get("camgate_login")
    assert sign_in_ok(browser.get(callback, follow_redirects=False))
    replay = TestClient(oidc_api.app, base_url=ORIGIN)  # the same URL and the same pre-callback cookie again
    replay.cookies.set("camgate_login", str(login_cookie), path="/auth")
    r = replay.get(callback, follow_redirects=False)
    assert r.status_code == 401 and r.json()["reason"] == "state", r.text


def sign_in_ok(r: httpx.Response) -> bool:
    return r.status_code == 303 and "camgate_session=" in r.headers.get("set-cookie", "")


def test_a_callback_without_the_pkce_verifier_is_refused(oidc_api: Api, provider: OidcProvider) -> None:
    # Another browser (or the same one after its sign-in cookie is lost) arrives with a valid code and state:
    # the code_verifier belongs to the browser that started, so nothing is exchanged (RFC 7636 §4.5).
    callback = to_callback(TestClient(oidc_api.app, base_url=ORIGIN), provider)
    stranger = TestClient(oidc_api.app, base_url=ORIGIN)
    r = stranger.get(callback, follow_redirects=False)
    assert r.status_code == 401 and r.json()["reason"] == "no_login", r.text
    assert "camgate_session" not in stranger.cookies


def test_cross_site_writes_with_the_cookie_are_refused_bearer_writes_are_not(
    oidc_api: Api, provider: OidcProvider
) -> None:
    browser = TestClient(oidc_api.app, base_url=ORIGIN)
    assert sign_in_ok(sign_in(browser, provider))
    token = browser.get("/api/v1/session").json()["csrf_token"]
    body = {"mou": "ncps-ncpd-video", "site": "ncps-saxe", "threat": THREAT}
    r = browser.post(
        "/api/v1/emergencies", json=body, headers={"Origin": "https://evil.example", "X-CSRF-Token": token}
    )
    assert r.status_code == 403 and r.json()["reason"] == "cross_origin"
    r = browser.post("/api/v1/emergencies", json=body, headers={"Origin": ORIGIN})
    assert r.status_code == 403 and r.json()["reason"] == "csrf_token"
    assert oidc_api.declare(as_="dispatcher").status_code == 201  # a bearer token: no CSRF token needed
    assert [r["reason"] for r in oidc_api.audit(kind="console.refused")] == ["cross_origin", "csrf_token"]


def test_logout_deletes_the_session(oidc_api: Api, provider: OidcProvider) -> None:
    browser = TestClient(oidc_api.app, base_url=ORIGIN)
    assert sign_in_ok(sign_in(browser, provider))
    cookie = str(browser.cookies.get("camgate_session"))
    token = browser.get("/api/v1/session").json()["csrf_token"]
    assert browser.post("/auth/logout", headers={"Origin": ORIGIN, "X-CSRF-Token": token}).status_code == 204
    stale = TestClient(oidc_api.app, base_url=ORIGIN)
    stale.cookies.set("camgate_session", cookie)  # the old cookie value is worth nothing now
    assert stale.get("/api/v1/session").status_code == 401
    assert oidc_api.services.console is not None and oidc_api.services.console.lookup(cookie) is None


def test_several_issuers_get_a_picker_page(
    make_api: Callable[..., contextlib.AbstractContextManager[Api]], provider: OidcProvider
) -> None:
    second = {
        "issuer": "https://idp.schools.example", "audience": "camgate", "jwks_uri": "https://idp.schools.example/k",
        "agency": "ncps", "signin": {"client_id": "c", "display_name": "Schools <IdP>"},
    }  # fmt: skip
    first = {"issuer": provider.issuer, "audience": "camgate", "jwks_uri": f"{provider.issuer}/jwks",
             "signin": {"client_id": CLIENT_ID, "display_name": "Police"}}  # fmt: skip
    with make_api(identity={"issuers": [first, second]}) as api:
        page = TestClient(api.app).get("/auth/login")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "Police" in page.text and "Schools &lt;IdP&gt;" in page.text  # escaped
        assert f"/auth/login?issuer={provider.issuer}" in page.text and "/dev/signin" in page.text
