"""The demo's sign-in through the console's real OIDC code flow with PKCE, the dev issuer as the provider:
/dev/signin -> /auth/login -> /dev/oidc/authorize (the persona page) -> /auth/callback -> the console."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from broker.identity.devprovider import PERSONAS
from tests.api.personas import PersonaPage, choose, persona_page, sign_in
from tests.api.support import Api

ORIGIN = "http://testserver"


def browser(api: Api) -> TestClient:
    return TestClient(api.app, base_url=ORIGIN)


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_each_persona_signs_in_through_the_code_flow(api: Api, persona: str) -> None:
    client = browser(api)
    r = sign_in(client, persona, ORIGIN)
    assert r.status_code == 303 and r.headers["location"] == "/console/", r.text
    assert "camgate_session=" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]
    session = client.get("/api/v1/session")
    assert session.status_code == 200, session.text
    _, sub, agency, roles = PERSONAS[persona]
    assert session.json()["principal"] == {"sub": sub, "agency": agency, "roles": sorted(roles)}
    assert session.json()["issuer"] == "camgate-dev"
    assert client.get("/api/v1/cameras").status_code == 200


def test_the_entry_point_starts_the_consoles_own_sign_in(api: Api) -> None:
    client = browser(api)
    r = client.get("/dev/signin", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/auth/login?issuer=camgate-dev"
    for login in ("/auth/login?issuer=camgate-dev", "/auth/login"):  # no other issuer: no need to name it
        r = client.get(login, follow_redirects=False)
        assert r.status_code == 302, r.text
        to = urlsplit(r.headers["location"])
        assert to.path == "/dev/oidc/authorize" and not to.netloc  # the browser stays on its origin
        query = {k: v[0] for k, v in parse_qs(to.query).items()}
        assert query["client_id"] == "camgate-console" and query["response_type"] == "code"
        assert query["redirect_uri"] == f"{ORIGIN}/auth/callback"
        assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43  # RFC 7636 §4.2
        assert query["state"] and query["nonce"] and "openid" in query["scope"].split()


def test_the_persona_page_is_a_form_of_buttons(api: Api) -> None:
    page = persona_page(browser(api))
    assert page.personas == list(PERSONAS)
    assert page.action == "/dev/oidc/authorize"
    assert set(page.hidden) == {"client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
                                "code_challenge", "code_challenge_method"}  # fmt: skip
    html = browser(api).get("/dev/signin").text
    assert "<legend>Demo personas</legend>" in html and 'aria-describedby="who-officer"' in html
    assert "School IT administrator" in html and "it-ana" in html


def test_discovery_and_jwks_describe_the_dev_issuer(api: Api) -> None:
    client = browser(api)
    meta = client.get("/dev/oidc/.well-known/openid-configuration").json()
    assert meta["issuer"] == "camgate-dev"
    assert meta["authorization_endpoint"] == f"{ORIGIN}/dev/oidc/authorize"
    assert meta["token_endpoint"] == f"{ORIGIN}/dev/oidc/token"
    assert client.get(urlsplit(meta["jwks_uri"]).path).json() == api.services.dev_issuer.public_jwks()  # type: ignore[union-attr]


def test_a_code_burnt_at_the_token_endpoint_signs_nobody_in(api: Api) -> None:
    client = browser(api)
    back = choose(client, "auditor", ORIGIN)
    assert back.status_code == 303
    code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
    # Someone who saw the code but not the browser's PKCE verifier: refused, and the code is gone (one use).
    guess = {"grant_type": "authorization_code", "code": code, "client_id": "camgate-console",
             "redirect_uri": f"{ORIGIN}/auth/callback", "code_verifier": "x" * 43}  # fmt: skip
    r = client.post("/dev/oidc/token", data=guess)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    assert r.headers["cache-control"] == "no-store"  # RFC 6749 §5.1
    r = client.get(back.headers["location"], follow_redirects=False)  # the browser's own callback, too late
    assert r.status_code == 401 and r.json()["reason"] == "provider", r.text
    assert "camgate_session" not in client.cookies


def test_a_bad_redirect_uri_is_shown_not_followed_and_other_errors_go_back(api: Api) -> None:
    client = browser(api)
    page = persona_page(client)
    evil = page.hidden | {"redirect_uri": "https://evil.example/auth/callback"}
    r = client.get(f"/dev/oidc/authorize?{urlencode(evil)}", follow_redirects=False)
    assert r.status_code == 400 and "redirect_uri must be exactly http://testserver/auth/callback" in r.text
    assert 'href="/dev/signin"' in r.text  # what to do next
    r = choose(client, "auditor", ORIGIN, PersonaPage(page.action, evil, page.personas))
    assert r.status_code == 400 and "location" not in r.headers  # the POST checks the form again

    no_pkce = {k: v for k, v in page.hidden.items() if k != "code_challenge"}
    r = client.get(f"/dev/oidc/authorize?{urlencode(no_pkce)}", follow_redirects=False)
    assert r.status_code == 302, r.text  # RFC 6749 §4.1.2.1: back to the client, with the error and state
    back = urlsplit(r.headers["location"])
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    assert f"{back.scheme}://{back.netloc}{back.path}" == f"{ORIGIN}/auth/callback"
    assert query["error"] == "invalid_request" and query["state"] == page.hidden["state"]
    r = client.get(r.headers["location"], follow_redirects=False)
    assert r.status_code == 401 and "invalid_request" in r.json()["message"]


def test_an_unknown_persona_is_refused(api: Api) -> None:
    client = browser(api)
    r = choose(client, "superuser", ORIGIN)
    assert r.status_code == 400 and "choose one of the personas" in r.text
    assert "camgate_session" not in client.cookies
