"""ECDSA malleability (issue 13 item 14): a token whose S is replaced by n - S, refused from an issuer that signs
low S (the dev issuer, or ``require_low_s``), and shown harmless from the others (the same principal, same exp)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from broker.errors import AuthenticationError
from broker.identity import IssuerConfig, TokenVerifier
from broker.identity.config import DevIssuerConfig
from broker.identity.devissuer import DevIssuer
from broker.identity.lows import CURVES, canonical, high_s, low_s_token
from broker.identity.oidc import SignIn
from broker.policy.types import Principal

ISSUER = "https://idp.example"
CURVE_OF = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521", "ES256K": "secp256k1"}


def flipped(alg: str, token: str) -> str:
    """The same token with its signature's S replaced by n - S: what anyone holding it can forge."""
    size, n = CURVES[alg]
    head, _, sig = token.rpartition(".")
    raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    r, s = raw[:size], int.from_bytes(raw[size:], "big")
    return f"{head}.{base64.urlsafe_b64encode(r + (n - s).to_bytes(size, 'big')).rstrip(b'=').decode()}"


def both_spellings(alg: str, key: ECKey, claims: dict[str, Any]) -> tuple[str, str]:
    """(low-S, high-S) spellings of one signature over ``claims``."""
    token = jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])
    low = canonical(alg, token)
    return low, flipped(alg, low)


def verify(config: IssuerConfig, clock: Any, token: str) -> Principal:
    async def go() -> Principal:
        verifier = TokenVerifier([config], clock)
        try:
            return await verifier.verify(token)
        finally:
            await verifier.aclose()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def ec_keys() -> dict[str, ECKey]:
    return {alg: ECKey.generate_key(crv, parameters={"kid": alg}, private=True) for alg, crv in CURVE_OF.items()}


def issuer(key: ECKey, alg: str, require_low_s: bool, **more: Any) -> IssuerConfig:
    public = dict(key.as_dict(private=False, kid=key.kid))
    return IssuerConfig(
        **more,
        issuer=ISSUER,
        audience="camgate",
        jwks={"keys": [public]},
        agency="ncpd",
        algorithms=[alg],
        require_low_s=require_low_s,
    )


@pytest.mark.parametrize("alg", sorted(CURVE_OF))
def test_a_high_s_copy_of_a_token_is_refused_from_an_issuer_that_signs_low_s(
    alg: str, ec_keys: dict[str, ECKey], clock: Any, claims: Callable[..., dict[str, Any]]
) -> None:
    low, high = both_spellings(alg, ec_keys[alg], claims(ISSUER))
    assert low != high and high_s(alg, high) and not high_s(alg, low) and canonical(alg, high) == low
    config = issuer(ec_keys[alg], alg, require_low_s=True)
    assert verify(config, clock, low) == Principal.of("officer-17", "ncpd", ["viewer"])
    with pytest.raises(AuthenticationError) as info:
        verify(config, clock, high)
    assert "not canonical" in info.value.message and info.value.status == 401


@pytest.mark.parametrize("alg", sorted(CURVE_OF))
def test_from_other_issuers_the_high_s_copy_opens_nothing_the_token_did_not(
    alg: str, ec_keys: dict[str, ECKey], clock: Any, claims: Callable[..., dict[str, Any]]
) -> None:
    # Why malleability is harmless where low S is not required: the forged spelling (which proves n is the curve's
    # order: with any other n the signature would not verify) is the very same principal until the very same exp;
    # camgate never identifies a token by its bytes (broker/identity/lows.py).
    low, high = both_spellings(alg, ec_keys[alg], claims(ISSUER))
    config = issuer(ec_keys[alg], alg, require_low_s=False)
    assert verify(config, clock, high) == verify(config, clock, low)


def test_about_half_the_tokens_of_a_standard_ecdsa_signer_are_high_s(ec_keys: dict[str, ECKey]) -> None:
    # Why require_low_s is off by default: JOSE libraries (here joserfc over OpenSSL) do not normalise S.
    tokens = [jwt.encode({"alg": "ES256"}, {"n": i}, ec_keys["ES256"], algorithms=["ES256"]) for i in range(200)]
    assert 40 < sum(high_s("ES256", t) for t in tokens) < 160


def test_the_dev_issuer_signs_low_s_and_requires_it(tmp_path: Any, clock: Any) -> None:
    dev = DevIssuer.load_or_create(tmp_path, DevIssuerConfig())
    config = dev.issuer_config()
    assert config.require_low_s
    tokens = [dev.mint("officer-kim", "ncpd", ["officer"], now=clock.now()) for _ in range(64)]
    assert not any(high_s("ES256", t) for t in tokens)
    assert all(low_s_token(t) for t in tokens)
    assert verify(config, clock, tokens[0]).sub == "officer-kim"
    with pytest.raises(AuthenticationError, match="not canonical"):
        verify(config, clock, flipped("ES256", tokens[0]))


@pytest.mark.parametrize(
    ("token", "low"),
    [(None, False), ("a.b", False), ("!!.b.c", False), ("e30.e30.", False), ("eyJhbGciOiJSUzI1NiJ9.e30.AAAA", True)],
)
def test_low_s_token_refuses_what_is_not_a_compact_jws(token: object, low: bool) -> None:
    assert low_s_token(token) is low


class _Provider:
    """authlib's client at the callback, standing in for a provider whose ID token verified (authlib did that)."""

    def __init__(self, id_token: str, claims: dict[str, Any]) -> None:
        self.answer = {"id_token": id_token, "userinfo": claims}

    async def authorize_access_token(self, request: Any) -> dict[str, Any]:
        return self.answer


@pytest.mark.parametrize("require_low_s", [True, False])
def test_a_high_s_id_token_is_refused_at_sign_in_from_an_issuer_that_signs_low_s(
    require_low_s: bool, ec_keys: dict[str, ECKey], claims: Callable[..., dict[str, Any]]
) -> None:
    config = issuer(ec_keys["ES256"], "ES256", require_low_s, signin={"client_id": "c"})
    body = claims(ISSUER, agency="ncpd")
    low, high = both_spellings("ES256", ec_keys["ES256"], body)
    signin = SignIn([config], cache=None)  # type: ignore[arg-type]  # the cache is authlib's; not reached here

    def callback(id_token: str) -> Any:
        signin._oauth.create_client = lambda name: _Provider(id_token, body)  # type: ignore[method-assign]
        return asyncio.run(signin.callback(SimpleNamespace(session={"issuer": ISSUER})))  # type: ignore[arg-type]

    assert callback(low)[1].sub == "officer-17"
    if require_low_s:
        with pytest.raises(AuthenticationError, match="not canonical") as info:
            callback(high)
        assert info.value.details["reason"] == "id_token"
    else:
        assert callback(high)[1] == callback(low)[1]
