"""Bearer-JWT verification: a compact JWS from a trusted issuer in, a :class:`Principal` out.

Every failure raises :class:`~broker.errors.AuthenticationError` (401) with a short reason; no other
exception type escapes :meth:`TokenVerifier.verify`. Time comes from the injected clock, never the wall clock.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import re
from datetime import UTC, datetime
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jws import JWSRegistry

from broker.clock import Clock
from broker.errors import AuthenticationError, ConfigError
from broker.identity.config import IssuerConfig
from broker.identity.jwks import JwksCache
from broker.identity.lows import high_s
from broker.policy.types import Principal

log = logging.getLogger(__name__)

MAX_TOKEN_LENGTH = 64 * 1024
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64url_json(segment: str) -> Any:
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    return json.loads(raw)


def _parse_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS, *not* verified: used only to choose the issuer and key."""
    if not isinstance(token, str) or not token:
        raise AuthenticationError("malformed token")
    if len(token) > MAX_TOKEN_LENGTH:
        raise AuthenticationError("token too large")
    parts = token.split(".")
    if len(parts) == 5:
        raise AuthenticationError("malformed token: encrypted tokens (JWE) are not accepted")
    # RFC 7519 §7.2: "Verify that the JWT contains at least one period ('.') character." and RFC 7515 §7.1:
    # the JWS Compact Serialization is BASE64URL(header) || '.' || BASE64URL(payload) || '.' || signature.
    if len(parts) != 3:
        raise AuthenticationError("malformed token")
    try:
        header = _b64url_json(parts[0])
        payload = _b64url_json(parts[1])
    except (ValueError, binascii.Error, RecursionError) as exc:
        raise AuthenticationError("malformed token") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise AuthenticationError("malformed token")
    # RFC 7515 §4.1.1: "alg" ... "This Header Parameter MUST be present".
    if not isinstance(header.get("alg"), str):
        raise AuthenticationError("malformed token: no alg")
    if "kid" in header and not isinstance(header["kid"], str):
        raise AuthenticationError("malformed token: kid is not a string")
    # RFC 7797 unencoded payloads are not JWTs (RFC 7519 §7.2 requires a base64url-encoded payload).
    if header.get("b64", True) is not True:
        raise AuthenticationError("malformed token: unencoded payload")
    return header, payload


def _numeric_date(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    # RFC 7519 §2: NumericDate is "A JSON numeric value" (NaN and infinities are not JSON numbers).
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AuthenticationError(f"invalid {name} claim")
    return float(value)


def _claim(claims: dict[str, Any], path: str) -> Any:
    """A claim by name; when no claim has that exact name, a dotted path into nested objects."""
    if path in claims:
        return claims[path]
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _roles(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        items = value.replace(",", " ").split()
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = value
    else:
        raise AuthenticationError("invalid roles claim")
    return frozenset(item.strip() for item in items if item.strip())


class _Issuer:
    def __init__(self, config: IssuerConfig, clock: Clock, http: httpx.AsyncClient | None) -> None:
        self.config = config
        self.jwks = JwksCache(config, clock, http)
        self.registry = JWSRegistry(algorithms=config.algorithms, strict_check_header=False)
        # joserfc's default 512-byte header cap is too small for headers carrying an x5c chain.
        self.registry.max_header_length = 8 * 1024


class TokenVerifier:
    """Verifies bearer JWTs against the configured issuers and maps their claims to a :class:`Principal`."""

    def __init__(self, issuers: list[IssuerConfig], clock: Clock, http: httpx.AsyncClient | None = None) -> None:
        self._clock = clock
        self._owns_http = False
        if http is None and any(i.jwks_uri is not None for i in issuers):
            http = httpx.AsyncClient(timeout=httpx.Timeout(5.0), follow_redirects=False)
            self._owns_http = True
        self._http = http
        self._issuers: dict[str, _Issuer] = {}
        for config in issuers:
            if config.issuer in self._issuers:
                raise ConfigError(f"issuer {config.issuer!r} is configured twice", field="issuers")
            self._issuers[config.issuer] = _Issuer(config, clock, http)

    def jwks_fetches(self, issuer: str) -> int:
        """How many times the JWKS of ``issuer`` was fetched over HTTP."""
        return self._issuers[issuer].jwks.fetches

    async def aclose(self) -> None:
        """Close the HTTP client if this verifier created it."""
        if self._owns_http and self._http is not None:
            await self._http.aclose()

    async def verify(self, token: str) -> Principal:
        """The principal of a valid ``token``; :class:`AuthenticationError` with the reason otherwise."""
        try:
            return await self._verify(token)
        except AuthenticationError as exc:
            log.debug("token rejected: %s", exc.message)
            raise
        except JoseError as exc:
            raise AuthenticationError("malformed token") from exc
        except Exception as exc:  # never let a parsing corner case become a 500
            log.exception("unexpected error while verifying a token")
            raise AuthenticationError("token verification failed") from exc

    async def _verify(self, token: str) -> Principal:
        header, unverified = _parse_unverified(token)

        # The payload is not trusted yet: "iss" only selects which issuer's keys and rules apply. The same
        # claim is checked again below on the verified payload.
        iss = unverified.get("iss")
        if not isinstance(iss, str) or not iss:
            raise AuthenticationError("missing iss claim")
        issuer = self._issuers.get(iss)
        if issuer is None:
            raise AuthenticationError("unknown issuer")
        config = issuer.config

        # RFC 8725 §3.1: "libraries MUST enable the caller to specify a supported set of algorithms and MUST
        # NOT use any other algorithms when performing cryptographic operations." The header's "alg" is only
        # checked against the issuer's allow-list, never trusted: "none" and HMAC (alg confusion) never pass.
        alg = header["alg"]
        if alg not in config.algorithms:
            raise AuthenticationError(f"algorithm {alg} not allowed")

        # RFC 7515 §4.1.4: "kid" ... "a hint indicating which key was used to secure the JWS". Keys come only
        # from the issuer's configured JWKS; "jku", "jwk", "x5u" and "x5c" in the header are never used.
        key = await issuer.jwks.key_for(header.get("kid"), alg)

        # RFC 7515 §5.2: "If the JWS Signature is not valid, the JWS MUST be rejected" (RFC 7519 §7.2 step 5).
        try:
            verified = jwt.decode(token, key, algorithms=[alg], registry=issuer.registry)
        except BadSignatureError as exc:
            raise AuthenticationError("signature invalid") from exc
        except JoseError as exc:
            raise AuthenticationError(f"malformed token: {exc.error}") from exc
        # ECDSA malleability (SEC 1 v2.0 §4.1.4 accepts (r, s) and (r, n - s) alike): an issuer that signs low S
        # only (BIP 146 LOW_S) has its high-S spellings refused; see broker/identity/lows.py for the others.
        # After the signature check, so a forgery is still told apart as one.
        if config.require_low_s and high_s(alg, token):
            raise AuthenticationError("signature invalid: not canonical (ECDSA S above n/2)")
        claims = verified.claims
        self._check_claims(claims, config)
        return principal_from_claims(claims, config)

    def _check_claims(self, claims: dict[str, Any], config: IssuerConfig) -> None:
        now = self._clock.now().timestamp()
        leeway = config.leeway_seconds

        # RFC 7519 §4.1.1: "The "iss" value is a case-sensitive string"; compared exactly.
        if claims.get("iss") != config.issuer:
            raise AuthenticationError("issuer mismatch")

        # RFC 7519 §4.1.3: "Each principal intended to process the JWT MUST identify itself with a value in
        # the audience claim. If the principal processing the claim does not identify itself with a value in
        # the "aud" claim when this claim is present, then the JWT MUST be rejected." camgate requires it.
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise AuthenticationError("audience mismatch: no valid aud claim")
        if config.audiences.isdisjoint(audiences):
            raise AuthenticationError("audience mismatch")

        # RFC 7519 §4.1.4: "The processing of the "exp" claim requires that the current date/time MUST be
        # before the expiration date/time listed in the "exp" claim." camgate requires "exp" (RFC 8725 §3.10).
        exp = _numeric_date(claims, "exp")
        if exp is None:
            raise AuthenticationError("missing exp claim")
        if now - leeway >= exp:
            raise AuthenticationError("token expired")

        # RFC 7519 §4.1.5: "the current date/time MUST be after or equal to the not-before date/time listed
        # in the "nbf" claim."
        nbf = _numeric_date(claims, "nbf")
        if nbf is not None and now + leeway < nbf:
            raise AuthenticationError("token not yet valid")

        # RFC 7519 §4.1.6: "iat" identifies the time at which the JWT was issued; a token from the future
        # (beyond the clock-skew leeway) is not one this issuer could have produced.
        iat = _numeric_date(claims, "iat")
        if iat is not None and iat > now + leeway:
            raise AuthenticationError("token issued in the future")


def expiry_of(token: str) -> datetime | None:
    """The ``exp`` of a token :meth:`TokenVerifier.verify` has already accepted (read, not verified, again):
    what a long-lived answer such as an event stream is bounded by (RFC 7519 §4.1.4)."""
    try:
        _, payload = _parse_unverified(token)
    except AuthenticationError:
        return None
    exp = payload.get("exp")
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    return datetime.fromtimestamp(exp, UTC)


def claimed_identity(token: str) -> dict[str, str]:
    """What a token that failed verification says it is (``iss``, ``sub``), read but *not* verified: for the
    refusal record's ``claimed`` only, never an identity. Empty when it cannot even be parsed."""
    try:
        _, payload = _parse_unverified(token)
    except AuthenticationError:
        return {}
    return {name: value for name in ("iss", "sub") if isinstance(value := payload.get(name), str)}


def principal_from_claims(claims: dict[str, Any], config: IssuerConfig) -> Principal:
    """The principal of verified ``claims`` (a bearer token's, or an ID token's at console sign-in)."""
    # RFC 7519 §4.1.2: "The subject value MUST either be scoped to be locally unique in the context of the
    # issuer or be globally unique." camgate requires one: an audit entry needs a who.
    sub = _claim(claims, config.sub_claim)
    if not isinstance(sub, str) or not sub.strip():
        raise AuthenticationError(f"missing {config.sub_claim} claim")
    if config.agency is not None:
        agency = config.agency
    else:
        agency = _claim(claims, config.agency_claim)
        if not isinstance(agency, str) or not agency.strip():
            raise AuthenticationError(f"missing {config.agency_claim} claim")
    roles = _roles(_claim(claims, config.roles_claim))
    return Principal.of(sub, agency, roles)
