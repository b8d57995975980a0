"""The dev issuer's OpenID Provider checks (broker.identity.devprovider), on an injected clock: the authorization
request, PKCE (RFC 7636 §4.6), the code (single use, 60 s, bound to client, redirect_uri and challenge), the
tokens it answers with."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from broker.clock import FakeClock
from broker.errors import AuthenticationError
from broker.identity import DevIssuer, DevIssuerConfig, TokenVerifier
from broker.identity.devprovider import (
    CLIENT_ID,
    PERSONAS,
    AuthorizeError,
    CodeStore,
    DevProvider,
    TokenError,
    check_authorization,
    pkce_matches,
)
from broker.policy import Principal

CALLBACK = "http://127.0.0.1:8080/auth/callback"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 Appendix B
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def request(**changes: str | None) -> dict[str, str]:
    params = {
        "client_id": CLIENT_ID, "redirect_uri": CALLBACK, "response_type": "code", "scope": "openid",
        "state": "st-1", "nonce": "n-1", "code_challenge": CHALLENGE, "code_challenge_method": "S256",
    } | changes  # fmt: skip
    return {k: v for k, v in params.items() if v is not None}


def refused(params: dict[str, str]) -> AuthorizeError:
    with pytest.raises(AuthorizeError) as caught:
        check_authorization(params, CALLBACK)
    return caught.value


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def provider(tmp_path: Path, clock: FakeClock) -> DevProvider:
    return DevProvider(DevIssuer.load_or_create(tmp_path, DevIssuerConfig()), clock)


def form(code: str, **changes: str | None) -> dict[str, str]:
    params = {
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "client_id": CLIENT_ID,
        "code_verifier": VERIFIER,
    } | changes  # fmt: skip
    return {k: v for k, v in params.items() if v is not None}


def token_error(provider: DevProvider, params: dict[str, str]) -> str:
    with pytest.raises(TokenError) as caught:
        provider.token(params)
    return caught.value.error


def test_a_valid_authorization_request_is_taken_as_sent() -> None:
    checked = check_authorization(request(scope="openid profile"), CALLBACK)
    assert (checked.state, checked.nonce, checked.code_challenge, checked.scope) == ("st-1", "n-1", CHALLENGE,
                                                                                      "openid profile")  # fmt: skip
    assert check_authorization(checked.as_params(), CALLBACK) == checked  # what the persona page sends back


def test_an_unknown_client_or_another_redirect_uri_is_shown_never_redirected_to() -> None:
    # RFC 6749 §4.1.2.1 / §10.15: redirecting there would make the provider an open redirector.
    assert refused(request(client_id="someone-else")).error == "unauthorized_client"
    for other in ("https://evil.example/auth/callback", CALLBACK + "/", CALLBACK + "?x=1", "http://127.0.0.1:8081"
                  "/auth/callback", CALLBACK.upper(), None):  # fmt: skip
        error = refused(request(redirect_uri=other))
        assert (error.error, error.redirect) == ("invalid_request", False), other
        assert CALLBACK in error.description  # says what it must be
    assert not refused(request(client_id=None)).redirect


def test_pkce_is_required_with_s256() -> None:
    missing = refused(request(code_challenge=None))  # RFC 7636 §4.4.1
    assert (missing.error, missing.redirect) == ("invalid_request", True) and "code_challenge" in missing.description
    assert refused(request(code_challenge_method=None)).error == "invalid_request"  # plain by default: refused
    assert refused(request(code_challenge_method="plain", code_challenge=VERIFIER)).error == "invalid_request"
    assert refused(request(code_challenge="short")).error == "invalid_request"


def test_other_bad_requests_go_back_to_the_client_with_their_error() -> None:
    cases = {
        "unsupported_response_type": request(response_type="token"),
        "invalid_scope": request(scope="profile"),
        "invalid_request": request(state=None),
    }
    for error, params in cases.items():
        got = refused(params)
        assert (got.error, got.redirect) == (error, True), params
    assert "nonce" in refused(request(nonce=None)).description
    assert "too long" in refused(request(state="x" * 600)).description


def test_pkce_s256_matches_the_rfc_7636_example_and_nothing_else() -> None:
    assert pkce_matches(VERIFIER, CHALLENGE)  # RFC 7636 Appendix B
    assert not pkce_matches(VERIFIER[:-1] + "Y", CHALLENGE)
    assert not pkce_matches(CHALLENGE, CHALLENGE)  # the challenge itself is no verifier ("plain")
    short = "a" * 42  # RFC 7636 §4.1: 43 to 128 characters
    digest = base64.urlsafe_b64encode(hashlib.sha256(short.encode()).digest()).rstrip(b"=").decode()
    assert not pkce_matches(short, digest)


def test_a_code_is_single_use(provider: DevProvider) -> None:
    code = provider.codes.issue(check_authorization(request(), CALLBACK), "officer")
    assert provider.token(form(code))["token_type"] == "Bearer"
    assert token_error(provider, form(code)) == "invalid_grant"  # RFC 6749 §4.1.2: never twice


def test_a_code_lives_60_seconds(provider: DevProvider, clock: FakeClock) -> None:
    checked = check_authorization(request(), CALLBACK)
    code = provider.codes.issue(checked, "officer")
    clock.advance(timedelta(seconds=59))
    assert "id_token" in provider.token(form(code))
    late = provider.codes.issue(checked, "officer")
    clock.advance(timedelta(seconds=60))
    with pytest.raises(TokenError, match="expired"):
        provider.token(form(late))


def test_a_code_is_bound_to_its_client_redirect_uri_and_challenge(provider: DevProvider) -> None:
    checked = check_authorization(request(), CALLBACK)
    wrong = {
        "another redirect_uri": {"redirect_uri": "http://127.0.0.1:8080/auth/callback2"},
        "another verifier": {"code_verifier": "x" * 43},
        "the challenge as verifier": {"code_verifier": CHALLENGE},
    }
    for name, changes in wrong.items():
        code = provider.codes.issue(checked, "officer")
        assert token_error(provider, form(code, **changes)) == "invalid_grant", name
        assert token_error(provider, form(code)) == "invalid_grant", name  # burnt: no second guess
    store = CodeStore(FakeClock())
    code = store.issue(checked, "officer")
    with pytest.raises(TokenError, match="another client"):
        store.redeem(code, "another-client", CALLBACK, VERIFIER)


def test_the_token_request_itself_is_checked(provider: DevProvider) -> None:
    code = provider.codes.issue(check_authorization(request(), CALLBACK), "officer")
    assert token_error(provider, form(code, grant_type="password")) == "unsupported_grant_type"
    assert token_error(provider, form(code, client_id="someone-else")) == "invalid_client"
    assert token_error(provider, {k: v for k, v in form(code).items() if k != "code"}) == "invalid_request"
    assert token_error(provider, form(code, code_verifier=None)) == "invalid_request"  # RFC 7636 §4.5
    assert "id_token" in provider.token(form(code))  # none of those touched the code


def test_the_id_token_names_the_persona_for_the_client_with_the_nonce(
    provider: DevProvider, clock: FakeClock, tmp_path: Path
) -> None:
    code = provider.codes.issue(check_authorization(request(nonce="n-42"), CALLBACK), "school_it")
    clock.advance(timedelta(seconds=5))
    answer = provider.token(form(code))
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 300 and answer["scope"] == "openid"
    keys = KeySet.import_key_set(provider.issuer.public_jwks())  # type: ignore[arg-type]
    token = jwt.decode(answer["id_token"], keys, algorithms=["ES256"])
    claims: dict[str, Any] = dict(token.claims)
    assert token.header["kid"] == provider.issuer.kid
    now = int(clock.now().timestamp())
    assert claims | {"jti": "-"} == {
        "iss": "camgate-dev", "aud": CLIENT_ID, "sub": "it-ana", "agency": "ncps", "roles": ["operator"],
        "nonce": "n-42", "auth_time": now - 5, "iat": now, "nbf": now, "exp": now + 300, "jti": "-",
    }  # fmt: skip
    assert PERSONAS["school_it"][1:] == ("it-ana", "ncps", ("operator",))

    async def verify(bearer: str) -> Principal:
        verifier = TokenVerifier([provider.issuer.issuer_config()], clock)
        try:
            return await verifier.verify(bearer)
        finally:
            await verifier.aclose()

    # The access token is a dev bearer token for the API; the ID token is not (its audience is the client).
    assert asyncio.run(verify(answer["access_token"])) == Principal.of("it-ana", "ncps", ["operator"])
    with pytest.raises(AuthenticationError):
        asyncio.run(verify(answer["id_token"]))


def test_the_metadata_names_the_dev_issuer_and_its_endpoints(provider: DevProvider) -> None:
    meta = provider.metadata("http://127.0.0.1:8080/dev/oidc")
    assert meta["issuer"] == "camgate-dev"  # the verifier's iss for every dev token
    assert meta["authorization_endpoint"] == "http://127.0.0.1:8080/dev/oidc/authorize"
    assert meta["token_endpoint"] == "http://127.0.0.1:8080/dev/oidc/token"
    assert meta["jwks_uri"] == "http://127.0.0.1:8080/dev/oidc/jwks"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["ES256"]  # the RP's default would be RS256
