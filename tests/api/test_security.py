"""Deny by default, the health probes, and bearer tokens: every bad token is a 401 naming Bearer, never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import create_engine
from starlette.routing import BaseRoute

from broker.api import security
from broker.api.security import ACCESS_ATTR
from broker.identity import DevIssuer
from broker.identity.config import DevIssuerConfig
from tests.api.support import PREFIX, Api
from tests.fakes.jwks import JwksServer
from tests.identity.test_lows import flipped

HLS_ROUTE = f"{PREFIX}/{{camera_id}}/hls/{{name}}"
VIEW_ROUTE = f"{PREFIX}/{{camera_id}}/view.m3u8"  # a viewing URL: its signed token is the credential
OPENED = {
    "/healthz": "public",
    "/readyz": "public",
    HLS_ROUTE: "signed_url",
    VIEW_ROUTE: "signed_url",
    "/api/v1/triggers/{source}": "signed_webhook",
    "/api/v1/positions": "signed_webhook",
    "/console": "public",  # the console's static files: no data, the pages read the API
    "/console/{path:path}": "public",
    "/auth/login": "public",  # sign-in: a redirect to the provider (or the picker page)
    "/auth/callback": "public",  # authenticated by the state, the PKCE verifier and the ID token
    "/dev/signin": "public",  # dev mode only: the demo's sign-in, at the dev issuer's persona page
    # dev mode only: the dev issuer as an OpenID Provider (a cross-site persona POST is refused)
    "/dev/oidc/.well-known/openid-configuration": "public",
    "/dev/oidc/jwks": "public",
    "/dev/oidc/authorize": "public",
    "/dev/oidc/token": "public",  # a code, its PKCE verifier
}
# The sign-in routes without anything: what each answers (never a session, never a 2xx with data). Redirects
# are followed: /auth/login and /dev/signin end on the dev provider's persona page in dev mode.
SIGN_IN = {
    ("/auth/login", "GET"): 200,
    ("/auth/callback", "GET"): 401,
    ("/dev/signin", "GET"): 200,
    ("/dev/oidc/.well-known/openid-configuration", "GET"): 200,
    ("/dev/oidc/jwks", "GET"): 200,
    ("/dev/oidc/authorize", "GET"): 400,
    ("/dev/oidc/authorize", "POST"): 403,
    ("/dev/oidc/token", "POST"): 400,
}
QUERY_TOKEN = {
    f"{PREFIX}/{{camera_id}}/live.m3u8",
    f"{PREFIX}/{{camera_id}}/playback.m3u8",
    f"{PREFIX}/{{camera_id}}/snapshot.jpg",
}
SAMPLES = {
    "source": "ncps",
    "camera_id": "saxe-ext-01",
    "emergency_id": "em-0123456789ab",
    "token": "abc.def",
    "name": "seg000.ts",
    "path:path": "index.html",
    "mou": "ncps-ncpd-video",  # issue 14: the MOU administration and roster routes
    "version": "3",
}


def walk(routes: list[BaseRoute], prefix: str = "") -> Iterator[tuple[str, str, BaseRoute]]:
    """(path, method, route) of every real route, through FastAPI 0.163's wrappers of included routers."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            context = getattr(route, "include_context", None)
            yield from walk(original.routes, prefix + (getattr(context, "prefix", "") or ""))
            continue
        sub = getattr(route, "routes", None)
        if sub is not None and not hasattr(route, "endpoint"):  # a Mount
            yield from walk(sub, prefix + getattr(route, "path", ""))
            continue
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method != "HEAD":
                yield prefix + route.path, method, route  # type: ignore[attr-defined]


def concrete(path: str) -> str:
    for name, value in SAMPLES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no sample value for a parameter of {path}"
    return path


def assert_401(r: httpx.Response, message: str | None = None, error: str = "unauthenticated") -> None:
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Bearer "), r.headers
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    body = r.json()
    assert body["error"] == error
    if message is not None:
        assert message in body["message"], body


# -- deny by default ------------------------------------------------------------------------------------


def test_every_route_but_the_opened_ones_needs_a_bearer_token(api: Api) -> None:
    found = list(walk(api.app.router.routes))
    paths = {p for p, _, _ in found}
    expected = {
        "/healthz",
        "/readyz",
        "/openapi.json",
        "/api/v1/cameras",
        *QUERY_TOKEN,
        HLS_ROUTE,
        "/api/v1/emergencies",
        "/api/v1/emergencies/{emergency_id}",
        "/api/v1/emergencies/{emergency_id}/end",
        "/api/v1/audit",
        "/api/v1/audit/verify",
        "/api/v1/admin/reload",
    }
    assert expected <= paths, expected - paths
    checked = 0
    for path, method, _ in found:
        url = concrete(path)
        for body in (None, "{}", "{not json"):
            if body is not None and method not in ("POST", "PUT", "PATCH"):
                continue
            kw: dict[str, Any] = (
                {} if body is None else {"content": body, "headers": {"content-type": "application/json"}}
            )
            r = api.client.request(method, url, **kw)
            if path in ("/healthz", "/readyz"):
                assert r.status_code == 200, (method, path, r.text)
                continue
            if path.startswith("/console"):  # static files, no data: opened, tested in test_console.py
                continue
            if (path, method) in SIGN_IN:
                assert r.status_code == SIGN_IN[path, method], (method, path, r.text)
                assert "camgate_session" not in r.headers.get("set-cookie", ""), (method, path)
                continue
            # The segment route is opened to its signed URL only: a made-up token is refused the same way.
            # Signed webhooks (triggers, positions) are opened to their signature only: unsigned is 401 too.
            error = "invalid_stream_token" if path in (HLS_ROUTE, VIEW_ROUTE) else "unauthenticated"
            if path in ("/api/v1/triggers/{source}", "/api/v1/positions"):
                error = "invalid_signature"
            assert r.status_code == 401, (method, path, body, r.status_code, r.text)
            assert r.headers.get("www-authenticate", "").startswith("Bearer "), (method, path, r.headers)
            assert r.json()["error"] == error, (method, path, r.text)
            checked += 1
    assert checked >= 12


def test_only_the_health_probes_and_the_segment_route_are_opened(api: Api) -> None:
    access = {
        path: getattr(getattr(route, "endpoint", None), ACCESS_ATTR, "bearer")
        for path, _, route in walk(api.app.router.routes)
    }
    assert {p: a for p, a in access.items() if a in ("public", "signed_url", "signed_webhook")} == OPENED
    assert {p for p, a in access.items() if a == "query_token"} == QUERY_TOKEN


def test_the_route_matched_at_runtime_is_the_decorated_one(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # security.access_of reads request.scope["route"]: through the included-router wrappers it must be the
    # real route whose endpoint carries the decoration (else every route would fall back to "bearer").
    seen: dict[str, str] = {}
    real = security.access_of

    def spy(request: Any) -> str:
        seen[request.url.path] = real(request)
        return seen[request.url.path]

    monkeypatch.setattr(security, "access_of", spy)
    assert api.get("/healthz", as_=None).status_code == 200
    assert api.get(f"{PREFIX}/saxe-ext-01/snapshot.jpg").status_code == 200
    assert api.get("/api/v1/cameras").status_code == 200
    assert api.get(f"{PREFIX}/saxe-ext-01/hls/seg000.ts?t=abc.def", as_=None).status_code == 401
    assert seen == {
        "/healthz": "public",
        f"{PREFIX}/saxe-ext-01/snapshot.jpg": "query_token",
        "/api/v1/cameras": "bearer",
        f"{PREFIX}/saxe-ext-01/hls/seg000.ts": "signed_url",
    }


def test_a_route_added_later_without_a_decoration_is_closed(api: Api) -> None:
    @api.app.get("/api/v1/forgotten")
    async def forgotten() -> dict[str, str]:
        return {"secret": "data"}

    assert_401(api.get("/api/v1/forgotten", as_=None), "no bearer token")
    assert api.get("/api/v1/forgotten").json() == {"secret": "data"}


def test_no_documentation_route_is_open(api: Api) -> None:
    # FastAPI's own /openapi.json, /docs and /redoc sit outside the app-wide dependency: they must not exist.
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        r = api.get(path, as_=None)
        assert r.status_code in (401, 404), (path, r.status_code)
        assert "openapi" not in r.text.lower(), path


def test_the_openapi_schema_is_served_to_an_authenticated_caller(api: Api) -> None:
    r = api.get("/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/emergencies" in r.json()["paths"]


def test_unknown_paths_are_404_not_500(api: Api) -> None:
    r = api.get("/nope", as_=None)
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


# -- health -------------------------------------------------------------------------------------------


def test_healthz_and_readyz(api: Api) -> None:
    assert api.get("/healthz", as_=None).json() == {"status": "ok"}
    r = api.get("/readyz", as_=None)
    assert r.status_code == 200
    assert r.json() == {
        "status": "ready",
        "store": api.services.store.dialect_name,
        "generation": 0,
        "documents": api.services.catalog.digest,
        "audit": {"writable": True},
        "warnings": [],  # nothing open to other users (tests/api/test_readyz_permissions.py)
    }
    assert len(api.services.catalog.digest) == 64


def test_readyz_is_503_when_the_store_is_broken(api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    broken = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'nope' / 'camgate.db'}")
    monkeypatch.setattr(api.services.store, "_engine", broken)
    r = api.get("/readyz", as_=None)
    assert r.status_code == 503
    assert r.json()["status"] == "unavailable"
    assert api.get("/healthz", as_=None).status_code == 200  # liveness does not depend on the store


# -- tokens -------------------------------------------------------------------------------------------


def _b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(api: Api, **over: Any) -> dict[str, Any]:
    now = int(api.clock.now().timestamp())
    base = {
        "iss": "camgate-dev",
        "aud": "camgate",
        "sub": "officer-17",
        "agency": "ncpd",
        "roles": ["officer"],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    return base | over


def _kid(api: Api) -> str:
    assert api.services.dev_issuer is not None
    return api.services.dev_issuer.kid


def forged_signature(api: Api) -> str:
    forger = ECKey.generate_key("P-256", private=True)
    return jwt.encode({"alg": "ES256", "kid": _kid(api)}, _claims(api), forger, algorithms=["ES256"])


def tampered_payload(api: Api) -> str:
    head, _, sig = api.token("officer").split(".")
    return f"{head}.{_b64(_claims(api, roles=['supervisor'], agency='ncps'))}.{sig}"


def unknown_kid(api: Api) -> str:
    forger = ECKey.generate_key("P-256", private=True)
    return jwt.encode({"alg": "ES256", "kid": "someone-else"}, _claims(api), forger, algorithms=["ES256"])


def wrong_issuer(api: Api) -> str:
    rogue = DevIssuer.load_or_create(api.data_dir / "rogue", DevIssuerConfig(issuer="rogue-issuer"))
    return rogue.mint("officer-17", "ncpd", ["officer"], now=api.clock.now())


def same_key_other_issuer_name(api: Api) -> str:
    # The dev key itself, but claiming an issuer camgate does not trust.
    other = DevIssuer.load_or_create(api.data_dir, DevIssuerConfig(issuer="https://idp.example"))
    return other.mint("officer-17", "ncpd", ["officer"], now=api.clock.now())


def wrong_audience(api: Api) -> str:
    other = DevIssuer.load_or_create(api.data_dir, DevIssuerConfig(audience="another-service"))
    return other.mint("officer-17", "ncpd", ["officer"], now=api.clock.now())


def alg_none(api: Api) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(api))}."


def hs256_with_the_public_key(api: Api) -> str:
    assert api.services.dev_issuer is not None
    secret = json.dumps(api.services.dev_issuer.public_jwks()["keys"][0]).encode()
    signing_input = f"{_b64({'alg': 'HS256', 'kid': _kid(api)})}.{_b64(_claims(api))}"
    return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def with_alg(api: Api, alg: str) -> str:
    return f"{_b64({'alg': alg})}.{_b64(_claims(api))}."


def no_sub(api: Api) -> str:
    return api.mint("", "ncpd", ["officer"])


def high_s_copy(api: Api) -> str:
    # Issue 13 item 14: a genuine token with its ECDSA S replaced by n - S (still a valid signature) got 200.
    return flipped("ES256", api.mint("officer-17", "ncpd", ["officer"]))


BAD_TOKENS: dict[str, tuple[Callable[[Api], str], str]] = {
    "forged_signature": (forged_signature, "signature invalid"),
    "tampered_payload": (tampered_payload, "signature invalid"),
    "unknown_kid": (unknown_kid, "unknown key id"),
    "wrong_issuer": (wrong_issuer, "unknown issuer"),
    "same_key_other_issuer": (same_key_other_issuer_name, "unknown issuer"),
    "wrong_audience": (wrong_audience, "audience mismatch"),
    "alg_none": (alg_none, "algorithm none not allowed"),
    "hs256": (hs256_with_the_public_key, "algorithm HS256 not allowed"),
    "no_sub": (no_sub, "missing sub claim"),
    "high_s_copy": (high_s_copy, "not canonical"),
    "garbage": (lambda api: "garbage", "malformed token"),
    "three_garbage_parts": (lambda api: "a.b.c", "malformed token"),
    "jwe_shaped": (lambda api: "a.b.c.d.e", "encrypted tokens"),
    "huge": (lambda api: "a" * 70_000, "token too large"),
    "non_latin1_alg": (lambda api: with_alg(api, "\u20ac"), "not allowed"),
    "quote_in_alg": (lambda api: with_alg(api, 'a"b\\c'), "not allowed"),
    "crlf_in_alg": (lambda api: with_alg(api, "x\r\nSet-Cookie: a=b"), "not allowed"),
}


def test_bad_tokens_are_401_with_a_bearer_challenge(api: Api, subtests: pytest.Subtests) -> None:
    for kind, (make, message) in BAD_TOKENS.items():
        with subtests.test(kind=kind):
            token = make(api)
            for path in ("/api/v1/cameras", f"{PREFIX}/saxe-ext-01/live.m3u8", "/api/v1/emergencies"):
                r = api.get(path, as_=None, headers={"Authorization": f"Bearer {token}"})
                assert_401(r, message)
                challenge = r.headers["www-authenticate"]
                assert "\r" not in challenge and "\n" not in challenge and challenge.count('"') == 4, challenge
                assert "set-cookie" not in r.headers
    assert api.origin_total() == 0
    # Nothing was decided for anyone; the refusals are counted (CJIS 5.4.1.1): the first at once, the rest when
    # the minute is over, no claimed identity as the principal.
    assert [(r["kind"], r["reason"], r["details"]["count"]) for r in api.audit()] == [
        ("auth.refused", "invalid_token", 1)
    ]
    api.clock.advance(60)
    api.services.tick()
    records = api.audit()
    assert {(r["kind"], r["reason"], r["principal_sub"]) for r in records} == {("auth.refused", "invalid_token", None)}
    assert sum(r["details"]["count"] for r in records) == 3 * len(BAD_TOKENS)


OTHER_SCHEMES = ["Basic b2ZmaWNlcjpwYXNzd29yZA==", "Bearer", "Bearer ", "Token abc", "bearer", "Digest username=x"]


def test_other_authorization_schemes_are_401(api: Api, subtests: pytest.Subtests) -> None:
    for header in OTHER_SCHEMES:
        with subtests.test(header=header):
            assert_401(api.get("/api/v1/cameras", as_=None, headers={"Authorization": header}))


def test_the_bearer_scheme_is_case_insensitive(api: Api) -> None:
    r = api.get("/api/v1/cameras", as_=None, headers={"Authorization": f"bearer {api.token()}"})
    assert r.status_code == 200


def test_expired_token_is_401_after_exp_plus_leeway(api: Api) -> None:
    token = api.token("officer", ttl=timedelta(minutes=5))
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/cameras", as_=None, headers=headers).status_code == 200
    api.clock.advance(timedelta(minutes=5, seconds=20))  # past exp, within the 30 s leeway
    assert api.get("/api/v1/cameras", as_=None, headers=headers).status_code == 200
    api.clock.advance(timedelta(seconds=11))
    assert_401(api.get("/api/v1/cameras", as_=None, headers=headers), "token expired")
    assert_401(api.get(f"{PREFIX}/saxe-ext-01/live.m3u8", as_=None, headers=headers), "token expired")


def test_not_yet_valid_token_is_401(api: Api) -> None:
    token = api.token("officer", now=api.clock.now() + timedelta(minutes=10))
    assert_401(api.get("/api/v1/cameras", as_=None, headers={"Authorization": f"Bearer {token}"}), "not yet valid")


# -- ?access_token= -------------------------------------------------------------------------------------


def test_query_token_is_accepted_on_live_and_snapshot_only(api: Api) -> None:
    token = api.token("officer")
    live = api.get(f"{PREFIX}/saxe-ext-01/live.m3u8", as_=None, params={"access_token": token})
    assert live.status_code == 200
    assert live.headers["content-type"] == "application/vnd.apple.mpegurl"
    snap = api.get(f"{PREFIX}/saxe-ext-01/snapshot.jpg", as_=None, params={"access_token": token})
    assert snap.status_code == 200 and snap.content.startswith(b"\xff\xd8")
    for path in ("/api/v1/cameras", "/api/v1/emergencies", "/api/v1/emergencies/em-0123456789ab", "/openapi.json"):
        assert_401(api.get(path, as_=None, params={"access_token": token}), "no bearer token")
    auditor = api.token("auditor")
    for path in ("/api/v1/audit", "/api/v1/audit/verify"):
        assert_401(api.get(path, as_=None, params={"access_token": auditor}), "no bearer token")
    r = api.post("/api/v1/emergencies", as_=None, params={"access_token": api.token("dispatcher")}, json={})
    assert_401(r, "no bearer token")


def test_a_bad_header_is_not_rescued_by_a_good_query_token(api: Api) -> None:
    r = api.get(
        f"{PREFIX}/saxe-ext-01/live.m3u8",
        as_=None,
        params={"access_token": api.token()},
        headers={"Authorization": "Basic eDp5"},
    )
    assert_401(r)
    assert api.origin_total() == 0


def test_bad_query_token_is_401(api: Api) -> None:
    assert_401(api.get(f"{PREFIX}/saxe-ext-01/live.m3u8", as_=None, params={"access_token": "garbage"}))
    assert_401(api.get(f"{PREFIX}/saxe-ext-01/snapshot.jpg", as_=None, params={"access_token": ""}), "no bearer")


# -- a real external issuer (JWKS over HTTP) ---------------------------------------------------------------


def test_external_issuer_over_jwks_http_with_a_fixed_agency(make_api: Any, jwks_server: JwksServer) -> None:
    police_key = ECKey.generate_key("P-256", parameters={"kid": "ncpd-1"}, private=True)
    issuer = {
        "issuer": "https://idp.ncpd.example",
        "audience": ["camgate", "other"],
        "agency": "ncpd",
        "jwks_uri": jwks_server.publish("/ncpd/jwks.json", police_key),
        "roles_claim": "realm_access.roles",
    }
    with make_api(identity={"issuers": [issuer]}) as api:
        now = int(api.clock.now().timestamp())
        claims = {
            "iss": "https://idp.ncpd.example",
            "aud": "camgate",
            "sub": "ext-officer-5",
            "iat": now,
            "exp": now + 300,
            "agency": "ncps",
            "realm_access": {"roles": ["officer"]},  # the agency claim is ignored: fixed
        }
        token = jwt.encode({"alg": "ES256", "kid": "ncpd-1"}, claims, police_key, algorithms=["ES256"])
        headers = {"Authorization": f"Bearer {token}"}
        r = api.get("/api/v1/cameras", as_=None, headers=headers)
        assert r.status_code == 200, r.text
        cams = {c["id"]: c for c in r.json()["cameras"]}
        assert cams["saxe-ext-01"]["live"] == {
            "allowed": True,
            "reason": "allowed",
            "mou": "ncps-ncpd-video",
            "grant": "G1",
            "clause": "4.1",
            "emergency": None,
        }
        assert api.get(f"{PREFIX}/saxe-ext-01/live.m3u8", as_=None, headers=headers).status_code == 200
        assert jwks_server.hits["/ncpd/jwks.json"] == 1  # fetched over HTTP once, then cached
        listed = api.audit(kind="cameras.list", principal="ext-officer-5")
        assert [(r["principal_agency"], r["principal_roles"]) for r in listed] == [("ncpd", ["officer"])]

        # The same issuer name, signed by a key that is not in its JWKS.
        forger = ECKey.generate_key("P-256", parameters={"kid": "ncpd-1"}, private=True)
        forged = jwt.encode({"alg": "ES256", "kid": "ncpd-1"}, claims, forger, algorithms=["ES256"])
        assert_401(api.get("/api/v1/cameras", as_=None, headers={"Authorization": f"Bearer {forged}"}), "signature")
        # The external issuer's key cannot pass for the dev issuer and vice versa.
        crossed = jwt.encode(
            {"alg": "ES256", "kid": "ncpd-1"}, claims | {"iss": "camgate-dev"}, police_key, algorithms=["ES256"]
        )
        assert_401(api.get("/api/v1/cameras", as_=None, headers={"Authorization": f"Bearer {crossed}"}))
        # Expired external token.
        api.clock.advance(timedelta(seconds=331))
        assert_401(api.get("/api/v1/cameras", as_=None, headers=headers), "token expired")


def test_external_issuer_jwks_down_is_401_not_500(make_api: Any, jwks_server: JwksServer) -> None:
    police_key = ECKey.generate_key("P-256", parameters={"kid": "ncpd-1"}, private=True)
    issuer = {
        "issuer": "https://idp.ncpd.example",
        "audience": "camgate",
        "agency": "ncpd",
        "jwks_uri": jwks_server.publish("/ncpd/jwks.json", police_key),
    }
    jwks_server.status = 500
    with make_api(identity={"issuers": [issuer]}) as api:
        now = int(api.clock.now().timestamp())
        claims = {"iss": "https://idp.ncpd.example", "aud": "camgate", "sub": "x", "iat": now, "exp": now + 300}
        token = jwt.encode({"alg": "ES256", "kid": "ncpd-1"}, claims, police_key, algorithms=["ES256"])
        assert_401(api.get("/api/v1/cameras", as_=None, headers={"Authorization": f"Bearer {token}"}), "jwks")
