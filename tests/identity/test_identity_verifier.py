"""TokenVerifier against real RSA / EC keys served by a real JWKS endpoint on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from typing import Any

import pytest

from broker.errors import AuthenticationError
from broker.identity import IssuerConfig, TokenVerifier
from broker.policy.types import Principal

POLICE = "https://idp.police.example"
SCHOOL = "https://login.schools.example/realms/district"


@pytest.fixture
def issuers(jwks_server: Any, keys: dict[str, Any]) -> list[IssuerConfig]:
    return [
        IssuerConfig(
            issuer=POLICE,
            audience="camgate",
            jwks_uri=jwks_server.publish("/police", keys["police"]),
            agency="police",
        ),
        IssuerConfig(
            issuer=SCHOOL,
            audience=["camgate", "https://camgate.example"],
            jwks_uri=jwks_server.publish("/school", keys["school"]),
            roles_claim="realm_access.roles",
            algorithms=["ES256"],
        ),
    ]


def verify(issuers: list[IssuerConfig], clock: Any, token: str) -> Principal:
    async def go() -> Principal:
        verifier = TokenVerifier(issuers, clock)
        try:
            return await verifier.verify(token)
        finally:
            await verifier.aclose()

    return asyncio.run(go())


def rejected(issuers: list[IssuerConfig], clock: Any, token: Any, reason: str) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as info:
        verify(issuers, clock, token)
    error = info.value
    assert type(error) is AuthenticationError
    assert reason in error.message, error.message
    return error


# --- accepted ------------------------------------------------------------------------------------------


def test_rs256_token_of_fixed_agency_issuer(issuers, clock, keys, claims, sign):
    # The issuer's fixed agency wins over whatever "agency" claim the token carries.
    token = sign(keys["police"], claims(POLICE, agency="school-district", roles=["viewer", "dispatcher"]), "RS256")
    assert verify(issuers, clock, token) == Principal.of("officer-17", "police", ["viewer", "dispatcher"])


def test_es256_token_with_claim_agency_and_dotted_roles(issuers, clock, keys, claims, sign):
    body = claims(SCHOOL, sub="principal-3", agency="lincoln-high", roles=None)
    body["realm_access"] = {"roles": ["school_admin", "viewer"]}
    token = sign(keys["school"], body, "ES256")
    assert verify(issuers, clock, token) == Principal.of("principal-3", "lincoln-high", ["school_admin", "viewer"])


def test_roles_as_space_and_comma_separated_string(issuers, clock, keys, claims, sign):
    token = sign(keys["police"], claims(POLICE, roles="viewer, dispatcher  supervisor,"), "RS256")
    assert verify(issuers, clock, token).roles == frozenset({"viewer", "dispatcher", "supervisor"})


def test_missing_roles_claim_means_no_roles(issuers, clock, keys, claims, sign):
    token = sign(keys["police"], claims(POLICE, roles=None), "RS256")
    assert verify(issuers, clock, token).roles == frozenset()


def test_audience_array_containing_one_of_the_configured_audiences(issuers, clock, keys, claims, sign):
    body = claims(SCHOOL, agency="lincoln-high", aud=["other-api", "https://camgate.example"])
    assert verify(issuers, clock, sign(keys["school"], body, "ES256")).agency == "lincoln-high"


def test_exp_within_leeway_is_accepted(issuers, clock, keys, claims, sign):
    now = int(clock.now().timestamp())
    token = sign(keys["police"], claims(POLICE, exp=now - 20), "RS256")
    assert verify(issuers, clock, token).sub == "officer-17"


def test_custom_sub_claim_and_namespaced_claim_names(jwks_server, clock, keys, claims, sign):
    config = IssuerConfig(
        issuer=POLICE,
        audience="camgate",
        jwks_uri=jwks_server.publish("/p", keys["police"]),
        sub_claim="preferred_username",
        agency_claim="https://camgate.example/agency",
        roles_claim="https://camgate.example/roles",
    )
    body = claims(POLICE, preferred_username="jdoe")
    body["https://camgate.example/agency"] = "state-police"
    body["https://camgate.example/roles"] = ["viewer"]
    assert verify([config], clock, sign(keys["police"], body, "RS256")) == Principal.of(
        "jdoe", "state-police", ["viewer"]
    )


# --- signature and key ---------------------------------------------------------------------------------


def test_forged_token_signed_by_another_key_with_the_same_kid(issuers, clock, keys, claims, sign):
    token = sign(keys["police_forger"], claims(POLICE), "RS256")
    assert keys["police_forger"].kid == keys["police"].kid
    rejected(issuers, clock, token, "signature invalid")


def test_tampered_payload(issuers, clock, keys, claims, sign, raw_token):
    good = sign(keys["police"], claims(POLICE), "RS256")
    header, _, signature = good.split(".")
    forged = raw_token({}, claims(POLICE, roles=["admin"])).split(".")[1]
    rejected(issuers, clock, f"{header}.{forged}.{signature}", "signature invalid")


def test_token_of_issuer_a_signed_with_issuer_b_key(issuers, clock, keys, claims, sign):
    # Police iss, school key and kid: the police JWKS has no such key.
    rejected(issuers, clock, sign(keys["school"], claims(POLICE), "ES256"), "unknown key id")
    # Police iss, school key presenting the police kid: the police key cannot verify ES256.
    token = sign(keys["school"], claims(POLICE), "ES256", kid=keys["police"].kid)
    rejected(issuers, clock, token, "cannot verify ES256")


def test_header_key_references_are_never_followed(issuers, clock, jwks_server, keys, claims, sign):
    attacker = jwks_server.publish("/attacker", keys["police_rotated"])
    token = sign(keys["police_rotated"], claims(POLICE), "RS256", jku=attacker)
    rejected(issuers, clock, token, "unknown key id")
    assert jwks_server.hits["/attacker"] == 0


def test_alg_none(issuers, clock, claims, raw_token):
    rejected(issuers, clock, raw_token({"alg": "none", "typ": "JWT"}, claims(POLICE)), "algorithm none not allowed")


def test_hs256_signed_with_the_rsa_public_key_as_secret(issuers, clock, keys, claims, raw_token):
    # Classic alg confusion: a verifier that trusts the header would use the public PEM as an HMAC secret.
    secret = keys["police"].as_pem(private=False)
    unsigned = raw_token({"alg": "HS256", "kid": keys["police"].kid}, claims(POLICE))[:-1]
    signature = hmac.new(secret, unsigned.encode(), hashlib.sha256).digest()
    token = raw_token({"alg": "HS256", "kid": keys["police"].kid}, claims(POLICE), signature)
    rejected(issuers, clock, token, "algorithm HS256 not allowed")


def test_algorithm_outside_the_issuer_allow_list(issuers, clock, keys, claims, sign):
    token = sign(keys["police"], claims(SCHOOL, agency="x"), "RS256")
    rejected(issuers, clock, token, "algorithm RS256 not allowed")


# --- claims --------------------------------------------------------------------------------------------


def test_expired_token_by_advancing_the_clock(issuers, clock, keys, claims, sign):
    token = sign(keys["police"], claims(POLICE), "RS256")
    clock.advance(600 + 30)
    rejected(issuers, clock, token, "token expired")


def test_missing_exp(issuers, clock, keys, claims, sign):
    rejected(issuers, clock, sign(keys["police"], claims(POLICE, exp=None), "RS256"), "missing exp claim")


@pytest.mark.parametrize("exp", ["9999999999", True, [1]])
def test_exp_not_a_number(issuers, clock, keys, claims, sign, exp):
    rejected(issuers, clock, sign(keys["police"], claims(POLICE, exp=exp), "RS256"), "invalid exp claim")


def test_nbf_in_the_future(issuers, clock, keys, claims, sign):
    now = int(clock.now().timestamp())
    token = sign(keys["police"], claims(POLICE, nbf=now + 120), "RS256")
    rejected(issuers, clock, token, "token not yet valid")
    clock.advance(100)  # now within the 30 s leeway
    assert verify(issuers, clock, token).agency == "police"


def test_iat_in_the_future(issuers, clock, keys, claims, sign):
    now = int(clock.now().timestamp())
    token = sign(keys["police"], claims(POLICE, iat=now + 3600, exp=now + 7200), "RS256")
    rejected(issuers, clock, token, "token issued in the future")


def test_unknown_issuer(issuers, clock, keys, claims, sign):
    token = sign(keys["police"], claims("https://idp.police.example/"), "RS256")  # not an exact match
    rejected(issuers, clock, token, "unknown issuer")


def test_missing_issuer(issuers, clock, keys, claims, sign):
    rejected(issuers, clock, sign(keys["police"], claims(None), "RS256"), "missing iss claim")


@pytest.mark.parametrize("aud", ["other-api", ["other-api", "camgate-admin"], None, 7])
def test_wrong_audience(issuers, clock, keys, claims, sign, aud):
    rejected(issuers, clock, sign(keys["police"], claims(POLICE, aud=aud), "RS256"), "audience mismatch")


@pytest.mark.parametrize("sub", [None, "", "  ", 42])
def test_missing_sub(issuers, clock, keys, claims, sign, sub):
    rejected(issuers, clock, sign(keys["police"], claims(POLICE, sub=sub), "RS256"), "missing sub claim")


def test_missing_agency_claim(issuers, clock, keys, claims, sign):
    rejected(issuers, clock, sign(keys["school"], claims(SCHOOL), "ES256"), "missing agency claim")


def test_roles_of_the_wrong_type(issuers, clock, keys, claims, sign):
    token = sign(keys["police"], claims(POLICE, roles=["viewer", 3]), "RS256")
    rejected(issuers, clock, token, "invalid roles claim")


# --- malformed -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b",
        "!!!.@@@.###",
        "eyJhbGciOiJSUzI1NiJ9.%%%.c2ln",
        "a.b.c.d.e",
        "W10.e30.c2ln",  # header is a JSON array
        "e30.e30.c2ln",  # header without alg
        "x" * 70_000,
        None,
        b"bytes.are.not-a-token",
    ],
)
def test_malformed_tokens(issuers, clock, token):
    error = rejected(issuers, clock, token, "")
    assert error.message.startswith(("malformed token", "token too large")), error.message


def test_payload_not_json(issuers, clock, raw_token):
    token = raw_token({"alg": "RS256"}, {}).split(".")[0] + ".bm90IGpzb24.c2ln"
    rejected(issuers, clock, token, "malformed token")
