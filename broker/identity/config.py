"""Settings of the identity layer: which token issuers camgate trusts and how their claims map to a principal.

One issuer per agency is the normal deployment: the police and each school district run their own identity
provider, so an issuer's tokens all belong to one agency (``agency``). An issuer that serves several agencies
leaves ``agency`` unset and camgate reads the agency from a claim instead.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: What an issuer may use unless configured otherwise (RFC 7518 §3, RFC 8037).
DEFAULT_ALGORITHMS: tuple[str, ...] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)

#: Asymmetric JWS algorithms (RFC 7518 §3, RFC 8037, RFC 8812, RFC 9864) that an issuer may be allowed to use.
ASYMMETRIC_ALGORITHMS: frozenset[str] = frozenset({*DEFAULT_ALGORITHMS, "ES256K", "Ed25519", "Ed448"})

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})


def _check_jwks_uri(value: str) -> str:
    parts = urlsplit(value)
    if not parts.hostname:
        raise ValueError("jwks_uri must be an absolute URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("jwks_uri must not carry credentials")
    if parts.scheme == "https":
        return value
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return value
    raise ValueError("jwks_uri must use https (plain http is allowed only for 127.0.0.1 / [::1])")


def _check_inline_jwks(value: dict[str, Any]) -> dict[str, Any]:
    keys = value.get("keys")
    if not isinstance(keys, list) or not keys:
        raise ValueError("jwks must be a JWK Set: an object with a non-empty 'keys' array")
    for index, key in enumerate(keys):
        if not isinstance(key, dict):
            raise ValueError(f"jwks.keys[{index}] must be an object")
        if key.get("kty") == "oct":
            raise ValueError(f"jwks.keys[{index}] is a symmetric key; only public keys are allowed")
        if "d" in key:
            raise ValueError(f"jwks.keys[{index}] holds private key material; publish the public key only")
    try:
        KeySet.import_key_set(value)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"jwks is not a valid JWK Set: {exc}") from exc
    return value


class SignInConfig(BaseModel):
    """The web console's sign-in at an issuer: OpenID Connect authorization code flow with PKCE (S256)."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1, description="camgate's client_id at the provider (the ID token's `aud`).")
    client_secret_env: str | None = Field(
        default=None,
        min_length=1,
        description="Environment variable holding the client secret; unset for a public client (PKCE only).",
    )
    discovery_url: str | None = Field(
        default=None,
        description="OpenID Provider metadata URL; default `<issuer>/.well-known/openid-configuration` "
        "(OIDC Discovery §4). https, or http on 127.0.0.1 only.",
    )
    scope: str = Field(default="openid", min_length=1, description="Scopes asked for; must include `openid`.")
    display_name: str | None = Field(default=None, description="Name shown on the issuer picker page.")

    @field_validator("discovery_url")
    @classmethod
    def _discovery_safe(cls, value: str | None) -> str | None:
        return None if value is None else _check_jwks_uri(value)

    @field_validator("scope")
    @classmethod
    def _openid_scope(cls, value: str) -> str:
        if "openid" not in value.split():  # OIDC Core §3.1.2.1: "scope REQUIRED ... MUST contain openid"
            raise ValueError("scope must contain openid")
        return value


class IssuerConfig(BaseModel):
    """One trusted token issuer (an OpenID Connect provider or any JWT issuer publishing a JWKS)."""

    model_config = ConfigDict(extra="forbid")

    issuer: str = Field(min_length=1, description="Exact value of the tokens' `iss` claim (compared verbatim).")
    audience: str | list[str] = Field(
        description="Audience value(s) identifying camgate; a token's `aud` must contain at least one of them."
    )
    jwks_uri: str | None = Field(
        default=None,
        description="HTTPS URL of the issuer's JWK Set (http is allowed only for 127.0.0.1). "
        "Exactly one of jwks_uri / jwks is required.",
    )
    jwks: dict[str, Any] | None = Field(
        default=None,
        description="Inline JWK Set (public keys only), used by the dev issuer and tests. "
        "Exactly one of jwks_uri / jwks is required.",
    )
    agency: str | None = Field(
        default=None,
        min_length=1,
        description="Fixed agency of every token of this issuer (one issuer per agency). "
        "When unset the agency is read from `agency_claim`.",
    )
    agency_claim: str = Field(
        default="agency", min_length=1, description="Claim holding the agency when `agency` is not fixed."
    )
    roles_claim: str = Field(
        default="roles",
        min_length=1,
        description="Claim holding the roles; a dotted path is allowed (e.g. `realm_access.roles`). "
        "Its value is a list of strings or a space/comma separated string; missing means no roles.",
    )
    sub_claim: str = Field(default="sub", min_length=1, description="Claim holding the subject identifier.")
    algorithms: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ALGORITHMS),
        description="JWS algorithms accepted from this issuer; asymmetric only (HMAC and `none` are refused).",
    )
    leeway_seconds: int = Field(
        default=30, ge=0, le=600, description="Clock skew tolerated on exp / nbf / iat, in seconds."
    )
    signin: SignInConfig | None = Field(
        default=None, description="Web console sign-in at this issuer (OIDC code flow with PKCE); unset: none."
    )
    jwks_min_refresh_seconds: float = Field(
        default=30,
        ge=0,
        description="Minimum interval between two JWKS fetches (rate limit for refreshes on an unknown kid).",
    )
    jwks_cache_seconds: float = Field(
        default=3600, gt=0, description="How long a fetched JWKS is used before it is fetched again."
    )
    require_low_s: bool = Field(
        default=False,
        description="Refuse ES256/ES384/ES512/ES256K tokens whose signature has S above n/2 (the second, "
        "malleable spelling of an ECDSA signature; broker/identity/lows.py). Only for an issuer that signs low S: "
        "most ECDSA libraries do not, so about half of their tokens would be refused. On for the dev issuer.",
    )

    @field_validator("audience")
    @classmethod
    def _audience_not_empty(cls, value: str | list[str]) -> str | list[str]:
        values = [value] if isinstance(value, str) else value
        if not values or any(not v for v in values):
            raise ValueError("audience must be a non-empty string or a non-empty list of non-empty strings")
        return value

    @field_validator("jwks_uri")
    @classmethod
    def _jwks_uri_safe(cls, value: str | None) -> str | None:
        return None if value is None else _check_jwks_uri(value)

    @field_validator("jwks")
    @classmethod
    def _jwks_valid(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else _check_inline_jwks(value)

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        # RFC 8725 §3.1: "libraries MUST enable the caller to specify a supported set of algorithms and
        # MUST NOT use any other algorithms". A public-key issuer never needs HMAC: allowing it is what
        # makes the classic alg-confusion attack possible (the public key used as an HMAC secret).
        if not value:
            raise ValueError("algorithms must not be empty")
        for alg in value:
            if alg.lower() == "none" or alg.upper().startswith("HS"):
                raise ValueError(f"algorithm {alg} is not allowed: only asymmetric signatures are accepted")
            if alg not in ASYMMETRIC_ALGORITHMS:
                raise ValueError(f"algorithm {alg} is not supported")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _one_key_source(self) -> IssuerConfig:
        if (self.jwks_uri is None) == (self.jwks is None):
            raise ValueError("exactly one of jwks_uri or jwks is required")
        if self.jwks_cache_seconds < self.jwks_min_refresh_seconds:
            raise ValueError("jwks_cache_seconds must not be shorter than jwks_min_refresh_seconds")
        return self

    def discovery_url(self) -> str:
        """Where the provider's metadata is (OIDC Discovery §4: issuer + /.well-known/openid-configuration)."""
        if self.signin is not None and self.signin.discovery_url:
            return self.signin.discovery_url
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    @property
    def audiences(self) -> frozenset[str]:
        """The configured audience value(s) as a set."""
        return frozenset([self.audience] if isinstance(self.audience, str) else self.audience)


class DevIssuerConfig(BaseModel):
    """The built-in development issuer (``make demo`` only; the app refuses it outside dev mode)."""

    model_config = ConfigDict(extra="forbid")

    issuer: str = Field(default="camgate-dev", min_length=1, description="`iss` of the dev tokens.")
    audience: str = Field(default="camgate", min_length=1, description="`aud` of the dev tokens.")
    token_ttl_minutes: int = Field(
        default=480, gt=0, le=7 * 24 * 60, description="Lifetime of a minted dev token, in minutes."
    )


class IdentityConfig(BaseModel):
    """All the issuers camgate accepts bearer tokens from."""

    model_config = ConfigDict(extra="forbid")

    issuers: list[IssuerConfig] = Field(default_factory=list, description="Trusted token issuers.")
    dev_issuer: DevIssuerConfig | None = Field(
        default=None, description="Built-in development issuer; refused by the app outside dev mode."
    )

    @model_validator(mode="after")
    def _unique_issuers(self) -> IdentityConfig:
        seen: set[str] = set()
        names = [i.issuer for i in self.issuers]
        if self.dev_issuer is not None:
            names.append(self.dev_issuer.issuer)
        for name in names:
            if name in seen:
                raise ValueError(f"issuer {name!r} is configured twice")
            seen.add(name)
        return self
