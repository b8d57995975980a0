"""The development issuer: a persisted P-256 key, tokens that verify through TokenVerifier."""

from __future__ import annotations

import asyncio
import json
import stat
from datetime import timedelta

import pytest
from joserfc.jwk import ECKey

from broker.errors import AuthenticationError, ConfigError
from broker.identity import DevIssuer, DevIssuerConfig, TokenVerifier
from broker.policy.types import Principal


def verify(issuer: DevIssuer, clock, token: str) -> Principal:
    async def go() -> Principal:
        verifier = TokenVerifier([issuer.issuer_config()], clock)
        try:
            return await verifier.verify(token)
        finally:
            await verifier.aclose()

    return asyncio.run(go())


def test_key_is_created_with_mode_0600_and_a_thumbprint_kid(tmp_path):
    issuer = DevIssuer.load_or_create(tmp_path / "data", DevIssuerConfig())
    path = tmp_path / "data" / "dev-issuer-key.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert stored["kty"] == "EC" and stored["crv"] == "P-256" and "d" in stored
    assert issuer.kid == stored["kid"] == ECKey.import_key(stored).thumbprint()
    assert [p.name for p in path.parent.iterdir()] == ["dev-issuer-key.json"]  # no temp file left behind


def test_key_is_reloaded_and_tokens_verify_across_reload(tmp_path, clock):
    first = DevIssuer.load_or_create(tmp_path, DevIssuerConfig())
    token = first.mint("officer-17", "police", ["viewer"], now=clock.now())
    second = DevIssuer.load_or_create(tmp_path, DevIssuerConfig())
    assert second.kid == first.kid
    assert second.public_jwks() == first.public_jwks()
    assert verify(second, clock, token) == Principal.of("officer-17", "police", ["viewer"])


def test_minted_token_claims_and_ttl(tmp_path, clock):
    config = DevIssuerConfig(issuer="dev", audience="camgate-demo", token_ttl_minutes=60)
    issuer = DevIssuer.load_or_create(tmp_path, config)
    token = issuer.mint("principal-3", "lincoln-high", ["school_admin", "viewer"], now=clock.now())
    assert verify(issuer, clock, token) == Principal.of("principal-3", "lincoln-high", ["school_admin", "viewer"])
    clock.advance(timedelta(minutes=60, seconds=30))
    with pytest.raises(AuthenticationError, match="token expired"):
        verify(issuer, clock, token)
    short = issuer.mint("a", "b", [], now=clock.now(), ttl=timedelta(minutes=1))
    assert verify(issuer, clock, short).roles == frozenset()


def test_public_jwks_and_issuer_config(tmp_path):
    issuer = DevIssuer.load_or_create(tmp_path, DevIssuerConfig())
    (key,) = issuer.public_jwks()["keys"]
    assert "d" not in key and key["kid"] == issuer.kid and key["alg"] == "ES256"
    config = issuer.issuer_config()
    assert (config.issuer, config.audience, config.agency, config.algorithms) == (
        "camgate-dev",
        "camgate",
        None,
        ["ES256"],
    )
    assert config.jwks == issuer.public_jwks() and config.jwks_uri is None


def test_other_dev_issuer_tokens_are_rejected(tmp_path, clock):
    mine = DevIssuer.load_or_create(tmp_path / "a", DevIssuerConfig())
    other = DevIssuer.load_or_create(tmp_path / "b", DevIssuerConfig())
    with pytest.raises(AuthenticationError, match="unknown key id"):
        verify(mine, clock, other.mint("x", "police", [], now=clock.now()))


def test_corrupt_or_wrong_key_file_is_a_config_error(tmp_path):
    (tmp_path / "dev-issuer-key.json").write_text("{not json")
    with pytest.raises(ConfigError, match="unreadable"):
        DevIssuer.load_or_create(tmp_path, DevIssuerConfig())
    public = ECKey.generate_key("P-256").as_dict(private=False)
    (tmp_path / "dev-issuer-key.json").write_text(json.dumps(public))
    with pytest.raises(ConfigError, match="private key"):
        DevIssuer.load_or_create(tmp_path, DevIssuerConfig())


def test_mint_needs_an_aware_instant_and_a_positive_ttl(tmp_path, clock):
    issuer = DevIssuer.load_or_create(tmp_path, DevIssuerConfig())
    with pytest.raises(ValueError, match="timezone-aware"):
        issuer.mint("a", "b", [], now=clock.now().replace(tzinfo=None))
    with pytest.raises(ValueError, match="positive"):
        issuer.mint("a", "b", [], now=clock.now(), ttl=timedelta(0))


def test_loose_key_file_mode_is_reported(tmp_path, caplog):
    first = DevIssuer.load_or_create(tmp_path, DevIssuerConfig())
    (tmp_path / "dev-issuer-key.json").chmod(0o644)
    with caplog.at_level("WARNING", logger="broker.identity.devissuer"):
        assert DevIssuer.load_or_create(tmp_path, DevIssuerConfig()).kid == first.kid
    assert "0600" in caplog.text
