"""Issuer configuration: asymmetric algorithms only, one key source, safe JWKS URLs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from broker.identity import DevIssuerConfig, IdentityConfig, IssuerConfig
from broker.identity.config import DEFAULT_ALGORITHMS

URI = "https://idp.police.example/.well-known/jwks.json"


def issuer(**fields: Any) -> IssuerConfig:
    return IssuerConfig(**{"issuer": "https://idp.police.example", "audience": "camgate", **fields})


def refused(match: str, **fields: Any) -> None:
    with pytest.raises(ValidationError, match=match):
        issuer(**fields)


def test_defaults():
    config = issuer(jwks_uri=URI)
    assert config.algorithms == list(DEFAULT_ALGORITHMS)
    assert not any(a.startswith("HS") or a == "none" for a in config.algorithms)
    assert (config.agency, config.agency_claim, config.roles_claim, config.sub_claim) == (
        None,
        "agency",
        "roles",
        "sub",
    )
    assert (config.leeway_seconds, config.jwks_min_refresh_seconds, config.jwks_cache_seconds) == (30, 30, 3600)
    assert config.audiences == frozenset({"camgate"})


@pytest.mark.parametrize("algorithms", [["HS256"], ["RS256", "HS512"], ["none"], ["None"], ["hs384"]])
def test_hmac_and_none_refused(algorithms):
    refused("not allowed", jwks_uri=URI, algorithms=algorithms)


def test_unknown_or_empty_algorithm_list_refused():
    refused("not supported", jwks_uri=URI, algorithms=["RS1"])
    refused("must not be empty", jwks_uri=URI, algorithms=[])


def test_exactly_one_key_source(keys):
    jwks = {"keys": [dict(keys["police"].as_dict(private=False))]}
    refused("exactly one of jwks_uri or jwks", jwks_uri=URI, jwks=jwks)
    refused("exactly one of jwks_uri or jwks")
    assert issuer(jwks=jwks).jwks == jwks


@pytest.mark.parametrize(
    "uri",
    ["http://idp.police.example/jwks", "ftp://idp.police.example/jwks", "/jwks.json", "https://u:p@idp.example/j"],
)
def test_unsafe_jwks_uri_refused(uri):
    refused("jwks_uri", jwks_uri=uri)


@pytest.mark.parametrize("uri", ["http://127.0.0.1:8080/jwks", "http://[::1]/jwks", URI])
def test_safe_jwks_uri_accepted(uri):
    assert issuer(jwks_uri=uri).jwks_uri == uri


def test_inline_jwks_must_be_public_asymmetric_keys(keys):
    refused("private key material", jwks={"keys": [dict(keys["school"].as_dict(private=True))]})
    refused("symmetric", jwks={"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})
    refused("non-empty 'keys'", jwks={"keys": []})
    refused("not a valid JWK Set", jwks={"keys": [{"kty": "EC", "crv": "P-256", "x": "AA"}]})


def test_unknown_fields_and_empty_values_refused():
    refused("Extra inputs", jwks_uri=URI, issuer_url="x")
    refused("audience", jwks_uri=URI, audience=[])
    refused("audience", jwks_uri=URI, audience="")
    refused("agency", jwks_uri=URI, agency="")
    refused("leeway_seconds", jwks_uri=URI, leeway_seconds=-1)


def test_identity_config():
    config = IdentityConfig.model_validate(
        {
            "issuers": [{"issuer": "https://a.example", "audience": "camgate", "jwks_uri": URI, "agency": "police"}],
            "dev_issuer": {},
        }
    )
    assert config.dev_issuer == DevIssuerConfig(issuer="camgate-dev", audience="camgate", token_ttl_minutes=480)
    assert IdentityConfig().issuers == []
    with pytest.raises(ValidationError, match="configured twice"):
        IdentityConfig(issuers=[issuer(jwks_uri=URI), issuer(jwks_uri=URI)])
    with pytest.raises(ValidationError, match="configured twice"):
        IdentityConfig(issuers=[issuer(issuer="camgate-dev", jwks_uri=URI)], dev_issuer=DevIssuerConfig())
    with pytest.raises(ValidationError, match="Extra inputs"):
        DevIssuerConfig(ttl=5)


def test_every_field_is_described():
    for model in (IssuerConfig, DevIssuerConfig, IdentityConfig):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"


def test_cache_lifetime_not_shorter_than_the_refresh_interval():
    refused("jwks_cache_seconds", jwks_uri=URI, jwks_cache_seconds=10, jwks_min_refresh_seconds=60)
