"""JWKS fetching over real HTTP: key rotation, rate-limited refresh, coalescing, outages, cache expiry."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest

from broker.errors import AuthenticationError
from broker.identity import IssuerConfig, TokenVerifier
from broker.identity.jwks import import_public_keys

POLICE = "https://idp.police.example"


def police(url: str, **extra: Any) -> IssuerConfig:
    return IssuerConfig(issuer=POLICE, audience="camgate", jwks_uri=url, agency="police", **extra)


async def outcome(verifier: TokenVerifier, token: str) -> str:
    """``"ok"`` or the rejection reason."""
    try:
        await verifier.verify(token)
    except AuthenticationError as exc:
        return exc.message
    return "ok"


def test_unknown_kid_refreshes_once_and_picks_up_the_rotated_key(jwks_server, clock, keys, claims, sign):
    url = jwks_server.publish("/police", keys["police"])

    async def go() -> None:
        verifier = TokenVerifier([police(url)], clock)
        assert await outcome(verifier, sign(keys["police"], claims(POLICE), "RS256")) == "ok"
        assert jwks_server.hits["/police"] == 1
        # The issuer rotates: the new key is published and used for new tokens.
        jwks_server.publish("/police", keys["police"], keys["police_rotated"])
        clock.advance(31)
        assert await outcome(verifier, sign(keys["police_rotated"], claims(POLICE), "RS256")) == "ok"
        assert jwks_server.hits["/police"] == 2
        # Both keys are now cached: no further fetch.
        assert await outcome(verifier, sign(keys["police_rotated"], claims(POLICE), "RS256")) == "ok"
        assert await outcome(verifier, sign(keys["police"], claims(POLICE), "RS256")) == "ok"
        assert jwks_server.hits["/police"] == 2
        assert verifier.jwks_fetches(POLICE) == 2
        await verifier.aclose()

    asyncio.run(go())


def test_rotation_inside_the_rate_limit_window_waits_for_the_window(jwks_server, clock, keys, claims, sign):
    url = jwks_server.publish("/police", keys["police"])

    async def go() -> None:
        verifier = TokenVerifier([police(url)], clock)
        assert await outcome(verifier, sign(keys["police"], claims(POLICE), "RS256")) == "ok"
        jwks_server.publish("/police", keys["police"], keys["police_rotated"])
        clock.advance(10)
        rotated = sign(keys["police_rotated"], claims(POLICE), "RS256")
        assert await outcome(verifier, rotated) == "unknown key id"
        assert jwks_server.hits["/police"] == 1
        clock.advance(20)
        assert await outcome(verifier, rotated) == "ok"
        assert jwks_server.hits["/police"] == 2
        await verifier.aclose()

    asyncio.run(go())


def test_concurrent_refreshes_are_coalesced(jwks_server, clock, keys, claims, sign):
    url = jwks_server.publish("/police", keys["police"], keys["police_rotated"])

    async def go() -> None:
        verifier = TokenVerifier([police(url)], clock)
        tokens = [sign(keys["police_rotated"], claims(POLICE, sub=f"officer-{i}"), "RS256") for i in range(20)]
        results = await asyncio.gather(*(outcome(verifier, t) for t in tokens))
        assert results == ["ok"] * 20
        assert jwks_server.hits["/police"] == 1
        await verifier.aclose()

    asyncio.run(go())


def test_random_kid_flood_is_rate_limited(jwks_server, clock, keys, claims, sign):
    url = jwks_server.publish("/police", keys["police"])

    def flood(n: int) -> list[str]:
        return [sign(keys["police_forger"], claims(POLICE), "RS256", kid=secrets.token_hex(8)) for _ in range(n)]

    async def go() -> None:
        verifier = TokenVerifier([police(url)], clock)
        results = await asyncio.gather(*(outcome(verifier, t) for t in flood(50)))
        assert set(results) == {"unknown key id"}
        assert jwks_server.hits["/police"] <= 2  # the initial fetch, at most one refresh
        before = jwks_server.hits["/police"]
        for token in flood(20):
            clock.advance(1)  # still inside the 30 s window
            assert await outcome(verifier, token) == "unknown key id"
        assert jwks_server.hits["/police"] == before
        clock.advance(30)  # the window has passed: exactly one more refresh, then quiet again
        for token in flood(20):
            assert await outcome(verifier, token) == "unknown key id"
        assert jwks_server.hits["/police"] == before + 1
        # The genuine key still works throughout.
        assert await outcome(verifier, sign(keys["police"], claims(POLICE), "RS256")) == "ok"
        await verifier.aclose()

    asyncio.run(go())


def test_jwks_server_down(dead_url, clock, keys, claims, sign):
    async def go() -> None:
        verifier = TokenVerifier([police(dead_url)], clock)
        token = sign(keys["police"], claims(POLICE), "RS256")
        assert await outcome(verifier, token) == f"jwks unavailable for issuer {POLICE}"
        await verifier.aclose()

    asyncio.run(go())


def test_jwks_error_answer_fails_closed_and_is_not_hammered(jwks_server, clock, keys, claims, sign, caplog):
    url = jwks_server.publish("/police", keys["police"])
    jwks_server.status = 500

    async def go() -> None:
        verifier = TokenVerifier([police(url)], clock)
        token = sign(keys["police"], claims(POLICE, exp=int(clock.now().timestamp()) + 3600), "RS256")
        with caplog.at_level("WARNING", logger="broker.identity.jwks"):
            assert await outcome(verifier, token) == f"jwks unavailable for issuer {POLICE}"
        assert "HTTP 500" in caplog.text
        assert await outcome(verifier, token) == f"jwks unavailable for issuer {POLICE}"
        assert jwks_server.hits["/police"] == 1  # a failed fetch is rate-limited too
        jwks_server.status = 200
        clock.advance(31)
        assert await outcome(verifier, token) == "ok"
        assert jwks_server.hits["/police"] == 2
        await verifier.aclose()

    asyncio.run(go())


@pytest.mark.parametrize("document", [{"keys": []}, {"nokeys": 1}, [1, 2], {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}])
def test_unusable_jwks_document(jwks_server, clock, keys, claims, sign, document):
    jwks_server.sets["/police"] = document

    async def go() -> None:
        verifier = TokenVerifier([police(jwks_server.url("/police"))], clock)
        assert await outcome(verifier, sign(keys["police"], claims(POLICE), "RS256")) == (
            f"jwks unavailable for issuer {POLICE}"
        )
        await verifier.aclose()

    asyncio.run(go())


def test_cache_expiry_refetches_and_fails_closed_when_the_issuer_is_gone(jwks_server, clock, keys, claims, sign):
    url = jwks_server.publish("/police", keys["police"])

    async def go() -> None:
        verifier = TokenVerifier([police(url, jwks_cache_seconds=600)], clock)
        assert await outcome(verifier, sign(keys["police"], claims(POLICE), "RS256")) == "ok"
        clock.advance(599)
        assert await outcome(verifier, sign(keys["police"], claims(POLICE), "RS256")) == "ok"
        assert jwks_server.hits["/police"] == 1
        clock.advance(1)
        assert await outcome(verifier, sign(keys["police"], claims(POLICE), "RS256")) == "ok"
        assert jwks_server.hits["/police"] == 2
        jwks_server.status = 503
        clock.advance(600)
        token = sign(keys["police"], claims(POLICE), "RS256")
        assert await outcome(verifier, token) == f"jwks unavailable for issuer {POLICE}"
        await verifier.aclose()

    asyncio.run(go())


def test_inline_jwks_needs_no_http(clock, keys, claims, sign):
    config = IssuerConfig(
        issuer=POLICE, audience="camgate", jwks={"keys": [dict(keys["police"].as_dict(private=False))]}
    )

    async def go() -> None:
        verifier = TokenVerifier([config], clock)
        assert verifier._http is None
        assert (await verifier.verify(sign(keys["police"], claims(POLICE, agency="a"), "RS256"))).agency == "a"
        token = sign(keys["police_rotated"], claims(POLICE, agency="a"), "RS256")
        assert await outcome(verifier, token) == "unknown key id"
        await verifier.aclose()

    asyncio.run(go())


def test_token_without_kid_uses_the_only_fitting_key(jwks_server, clock, keys, claims, sign):
    url = jwks_server.publish("/police", keys["police"], keys["school"])

    async def go() -> None:
        verifier = TokenVerifier([police(url)], clock)
        assert await outcome(verifier, sign(keys["police"], claims(POLICE), "RS256", kid=None)) == "ok"
        jwks_server.publish("/police", keys["police"], keys["police_rotated"])
        clock.advance(3600)
        assert await outcome(verifier, sign(keys["police"], claims(POLICE), "RS256", kid=None)) == "missing key id"
        await verifier.aclose()

    asyncio.run(go())


def test_caller_supplied_http_client_is_used_and_left_open(jwks_server, clock, keys, claims, sign):
    url = jwks_server.publish("/police", keys["police"])

    async def go() -> None:
        async with httpx.AsyncClient() as client:
            verifier = TokenVerifier([police(url)], clock, http=client)
            assert await outcome(verifier, sign(keys["police"], claims(POLICE), "RS256")) == "ok"
            await verifier.aclose()
            assert not client.is_closed

    asyncio.run(go())


def test_import_public_keys_skips_unusable_entries(keys):
    document = {
        "keys": [
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "PQC", "kid": "future"},
            {"kty": "RSA", "kid": "broken", "n": "AQAB"},
            "not a key",
            dict(keys["school"].as_dict(private=False)),
        ]
    }
    assert [k.kid for k in import_public_keys(document, "test")] == ["school-1"]
