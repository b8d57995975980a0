"""Console sessions from the API's side: the dev persona sign-in (the OIDC code flow at the dev issuer), the
session cookie on API routes, CSRF and Origin on cookie writes (bearer writes unchanged), logout, idle and
absolute expiry on the injected clock."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.personas import choose, persona_page, sign_in
from tests.api.support import THREAT, Api

ORIGIN = "http://testserver"
DECLARE = {"mou": "ncps-ncpd-video", "site": "ncps-saxe", "threat": THREAT}


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


def browser(api: Api, persona: str = "dispatcher") -> TestClient:
    """A browser of its own (its own cookie jar) signed in as ``persona`` at /dev/signin."""
    client = TestClient(api.app, base_url=ORIGIN)
    assert persona in persona_page(client).personas
    r = sign_in(client, persona, ORIGIN)
    assert r.status_code == 303 and r.headers["location"] == "/console/", r.text
    cookie = r.headers["set-cookie"]
    assert "camgate_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    return client


def csrf(client: TestClient) -> str:
    r = client.get("/api/v1/session")
    assert r.status_code == 200, r.text
    return str(r.json()["csrf_token"])


def test_a_persona_sign_in_makes_a_session_that_authenticates_api_calls(api: Api) -> None:
    client = browser(api, "dispatcher")
    r = client.get("/api/v1/session")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["principal"] == {"sub": "dispatch-lee", "agency": "ncpd", "roles": ["dispatcher"]}
    assert len(body["csrf_token"]) >= 43 and body["expires_at"].endswith("Z")
    assert client.get("/api/v1/cameras").status_code == 200  # no token anywhere: the cookie


def test_no_session_is_401(api: Api) -> None:
    assert TestClient(api.app).get("/api/v1/session").status_code == 401
    assert api.get("/api/v1/session", as_="officer").status_code == 401  # a bearer token is no console session


def test_a_cookie_write_needs_the_csrf_token_and_the_own_origin(api: Api, subtests: pytest.Subtests) -> None:
    client = browser(api, "dispatcher")
    token = csrf(client)
    refused: dict[str, tuple[dict[str, str], str]] = {
        "no csrf token": ({"Origin": ORIGIN}, "csrf_token"),
        "wrong csrf token": (
            {"Origin": ORIGIN, "X-CSRF-Token": ("y" if token[0] == "x" else "x") + token[1:]},
            "csrf_token",
        ),
        "cross-site origin": ({"Origin": "https://evil.example", "X-CSRF-Token": token}, "cross_origin"),
        "no origin nor referer": ({"X-CSRF-Token": token}, "cross_origin"),
        "cross-site referer": ({"Referer": "https://evil.example/x", "X-CSRF-Token": token}, "cross_origin"),
    }
    for name, (headers, reason) in refused.items():
        with subtests.test(name):
            r = client.post("/api/v1/emergencies", json=DECLARE, headers=headers)
            assert r.status_code == 403, r.text
            assert r.json()["error"] == "forbidden" and r.json()["reason"] == reason
    # Counted per reason and minute (a page elsewhere can make the browser send these in a loop): the first of
    # each reason at once, the rest when the minute is over.
    records = api.audit(kind="console.refused")
    assert [(r["reason"], r["details"]["count"]) for r in records] == [("csrf_token", 1), ("cross_origin", 1)]
    api.clock.advance(60)
    api.services.tick()
    records = api.audit(kind="console.refused")
    assert sum(r["details"]["count"] for r in records) == len(refused)
    assert {(r["reason"], r["principal_sub"], r["principal_agency"]) for r in records} == {
        ("csrf_token", "dispatch-lee", "ncpd"),
        ("cross_origin", "dispatch-lee", "ncpd"),
    }
    # The same POST with a bearer token needs nothing more ...
    assert api.declare(as_="dispatcher").status_code == 201
    # ... and from the broker's own page with the token it is accepted too.
    r = client.post("/api/v1/emergencies", json=DECLARE, headers={"Origin": ORIGIN, "X-CSRF-Token": token})
    assert r.status_code == 409 or r.status_code == 201, r.text  # one open emergency per site at most


def test_logout_deletes_the_session(api: Api) -> None:
    client = browser(api)
    token = csrf(client)
    assert client.post("/auth/logout", headers={"Origin": ORIGIN}).status_code == 403  # CSRF-protected
    r = client.post("/auth/logout", headers={"Origin": ORIGIN, "X-CSRF-Token": token})
    assert r.status_code == 204 and 'camgate_session=""' in r.headers["set-cookie"]
    client.cookies.clear()
    rows = api.services.console.repo if api.services.console else None
    assert rows is not None
    assert TestClient(api.app).get("/api/v1/session").status_code == 401


def test_the_session_expires_when_idle_and_absolutely(
    make_api: Callable[..., contextlib.AbstractContextManager[Api]],
) -> None:
    with make_api(console={"session_idle_minutes": 30, "session_absolute_minutes": 120}) as api:
        client = browser(api)
        api.clock.advance(timedelta(minutes=29))
        assert client.get("/api/v1/session").status_code == 200  # used: the idle clock restarts
        api.clock.advance(timedelta(minutes=29))
        assert client.get("/api/v1/session").status_code == 200
        api.clock.advance(timedelta(minutes=31))
        r = client.get("/api/v1/session")
        assert r.status_code == 401 and "expired" in r.json()["message"]

        client = browser(api)
        for _ in range(5):  # used every 25 minutes: never idle, but 120 minutes after sign-in it ends
            api.clock.advance(timedelta(minutes=25))
            last = client.get("/api/v1/session")
        assert last.status_code == 401


def test_persona_sign_in_refuses_a_cross_site_form(api: Api) -> None:
    client = TestClient(api.app, base_url=ORIGIN)
    r = choose(client, "auditor", "https://evil.example")  # the persona page's form, posted from another site
    assert r.status_code == 403 and r.json()["reason"] == "cross_origin"
    assert "camgate_session" not in client.cookies


def test_persona_sign_in_is_not_there_outside_dev_mode(make_api: Callable[..., Any], tmp_path: Any) -> None:
    from broker.api.app import create_app
    from broker.settings import load_settings

    dev = load_settings(mode="dev", data_dir=tmp_path / "d")
    from broker.audit.keys import write_key_file
    from broker.identity.devissuer import DevIssuer

    issuer = DevIssuer.load_or_create(tmp_path / "d", dev.identity.dev_issuer)  # type: ignore[arg-type]
    write_key_file(tmp_path / "signing.pem")
    settings = load_settings(
        mode="prod", data_dir=tmp_path / "p", streams={"token_secret": "s" * 40},
        identity={"issuers": [issuer.issuer_config().model_dump(exclude_none=True)]},
        store={"url": f"sqlite:///{tmp_path / 'p.db'}"}, audit={"checkpoints": {"key_file": tmp_path / "signing.pem"}},
    )  # fmt: skip
    with TestClient(create_app(settings, housekeeping=False)) as client:
        assert client.get("/dev/signin").status_code == 404
        assert client.post("/dev/signin", data={"persona": "auditor"}).status_code in (404, 405)
        for path in ("/.well-known/openid-configuration", "/jwks", "/authorize?client_id=camgate-console"):
            assert client.get(f"/dev/oidc{path}").status_code == 404, path
        for path in ("/authorize", "/token"):
            assert client.post(f"/dev/oidc{path}", data={"persona": "auditor"}).status_code == 404, path
        assert client.get("/auth/login?issuer=camgate-dev").status_code == 404  # no sign-in at the dev issuer


def test_the_browser_plays_with_the_cookie_alone(api: Api) -> None:
    # The app's own test client (its event loop is the one the stream proxy's connections belong to), as the
    # browser: the cookie of a persona sign-in and no token anywhere, as hls.js asks for the playlist.
    client = api.client
    client.cookies.set("camgate_session", str(browser(api, "officer").cookies.get("camgate_session")))
    r = client.get("/api/v1/cameras/saxe-ext-01/live.m3u8")
    assert r.status_code == 200, r.text
    segments = [line for line in r.text.splitlines() if line and not line.startswith("#")]
    assert segments and all("/hls/" in s for s in segments)  # the short-lived signed segment URLs
    assert client.get("/api/v1/cameras/saxe-int-01/live.m3u8").status_code == 403  # decided as for a token


def test_a_cookie_write_with_a_body_that_cannot_be_read_is_refused_for_csrf_first(api: Api) -> None:
    client = browser(api, "dispatcher")
    r = client.post("/api/v1/emergencies", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 403 and r.json()["reason"] == "cross_origin", r.text


def test_signing_in_again_ends_the_previous_session_and_issues_a_new_id(api: Api) -> None:
    client = browser(api, "officer")
    first = str(client.cookies.get("camgate_session"))
    assert sign_in(client, "auditor", ORIGIN).status_code == 303
    second = str(client.cookies.get("camgate_session"))
    assert second != first
    assert client.get("/api/v1/session").json()["principal"]["sub"] == "auditor-ray"
    assert api.services.console is not None and api.services.console.lookup(first) is None
