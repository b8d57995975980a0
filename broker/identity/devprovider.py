"""The dev issuer as a minimal OpenID Provider (``make demo`` only): the checks, free of HTTP.

The demo's console sign-in goes through the same OpenID Connect authorization code flow with PKCE as an
agency's (:mod:`broker.identity.oidc`); only the provider is this one. It knows one public client (the
broker's console, ``CLIENT_ID``), authenticates nobody (the user picks a persona) and signs with the dev
issuer's key, so it exists in dev mode only (:mod:`broker.api.routes.devsignin` mounts it there).

Deliberately stricter than OIDC Core requires of a provider, so that the demo fails loudly if the broker's
sign-in ever stops sending one of them: ``state``, ``nonce`` and a S256 ``code_challenge`` are all required.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from broker.clock import Clock
from broker.identity.devissuer import DevIssuer

CLIENT_ID = "camgate-console"
CODE_LIFETIME = timedelta(seconds=60)  # RFC 6749 §4.1.2: "a maximum authorization code lifetime of 10 minutes"
ID_TOKEN_LIFETIME = timedelta(minutes=5)
ACCESS_TOKEN_LIFETIME = timedelta(minutes=5)
MAX_CODES = 1000  # outstanding codes kept at most (each is used within seconds)

#: persona -> (label, sub, agency, roles): the demo district's people (config/inventory.yaml, the demo MOUs).
PERSONAS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "officer": ("Police officer", "officer-kim", "ncpd", ("officer",)),
    "dispatcher": ("Police dispatcher", "dispatch-lee", "ncpd", ("dispatcher",)),
    "supervisor": ("Police supervisor", "sgt-ortiz", "ncpd", ("supervisor",)),
    "principal": ("School principal", "principal-saxe", "ncps", ("principal",)),
    "school_it": ("School IT administrator", "it-ana", "ncps", ("operator",)),
    "auditor": ("Auditor", "auditor-ray", "ncps", ("auditor",)),
    "superintendent": ("School superintendent", "supt-reyes", "ncps", ("superintendent",)),
    "chief": ("Police chief (MOU approver)", "chief-dunn", "ncpd", ("chief",)),
}

_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")  # RFC 7636 §4.2: BASE64URL(SHA-256), no padding: 43 characters
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 §4.1: code_verifier = 43*128unreserved
_MAX_PARAM = 512


class AuthorizeError(Exception):
    """A refused authorization request (RFC 6749 §4.1.2.1). ``redirect``: whether the error may be sent back to
    the redirect_uri; never when the client or the redirect_uri is the problem."""

    def __init__(self, error: str, description: str, *, redirect: bool) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.redirect = redirect


class TokenError(Exception):
    """A refused token request: RFC 6749 §5.2 ``error`` and ``error_description``, answered with 400."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    scope: str
    state: str
    nonce: str
    code_challenge: str

    def as_params(self) -> dict[str, str]:
        """The request as it came (the picker page sends it back with the chosen persona)."""
        return {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": self.scope,
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }


def check_authorization(params: Mapping[str, str], redirect_uri: str) -> AuthorizationRequest:
    """The authorization request in ``params`` (OIDC Core §3.1.2.1) if valid; ``redirect_uri`` is the one
    registered for the console (the broker's own origin + ``/auth/callback``)."""
    too_long = [k for k, v in params.items() if len(v) > _MAX_PARAM]
    # RFC 6749 §4.1.2.1: an unknown client or a redirect_uri that is not the registered one is shown to the
    # user, never redirected to (an open redirector otherwise, §10.15).
    if params.get("client_id") != CLIENT_ID:
        raise AuthorizeError("unauthorized_client", f"unknown client_id (the demo's is {CLIENT_ID})", redirect=False)
    # RFC 6749 §3.1.2.3 and RFC 9700 §2.1: the redirect_uri is compared with the registered one exactly.
    if params.get("redirect_uri") != redirect_uri or "redirect_uri" in too_long:
        raise AuthorizeError("invalid_request", f"redirect_uri must be exactly {redirect_uri}", redirect=False)
    if too_long:
        raise AuthorizeError("invalid_request", f"{too_long[0]} is too long", redirect=True)
    if params.get("response_type") != "code":  # RFC 6749 §4.1.1; OIDC Core §3.1.2.1: the code flow only
        raise AuthorizeError("unsupported_response_type", "response_type must be code", redirect=True)
    scope = params.get("scope", "")
    if "openid" not in scope.split():  # OIDC Core §3.1.2.1: "scope REQUIRED ... MUST contain the openid scope"
        raise AuthorizeError("invalid_scope", "scope must contain openid", redirect=True)
    challenge = params.get("code_challenge")
    if not challenge:  # RFC 7636 §4.4.1: a server that requires PKCE answers invalid_request
        raise AuthorizeError("invalid_request", "code_challenge required (PKCE, RFC 7636)", redirect=True)
    if params.get("code_challenge_method") != "S256" or not _CHALLENGE.fullmatch(challenge):  # RFC 7636 §4.2-4.3
        raise AuthorizeError("invalid_request", "code_challenge_method must be S256", redirect=True)
    state, nonce = params.get("state", ""), params.get("nonce", "")
    if not state:  # RFC 6749 §10.12: the client's CSRF protection (RECOMMENDED there, required here)
        raise AuthorizeError("invalid_request", "state required", redirect=True)
    if not nonce:  # OIDC Core §3.1.2.1 and §15.5.2: replay protection of the ID token (required here)
        raise AuthorizeError("invalid_request", "nonce required", redirect=True)
    return AuthorizationRequest(CLIENT_ID, redirect_uri, scope, state, nonce, challenge)


def pkce_matches(verifier: str, challenge: str) -> bool:
    """RFC 7636 §4.6: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge (S256)."""
    if not _VERIFIER.fullmatch(verifier):
        return False
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    return hmac.compare_digest(computed, challenge)


@dataclass(frozen=True)
class Grant:
    request: AuthorizationRequest
    persona: str
    issued_at: datetime


class CodeStore:
    """Authorization codes, in memory (one demo process): single use, ``lifetime`` long, on ``clock``."""

    def __init__(self, clock: Clock, lifetime: timedelta = CODE_LIFETIME) -> None:
        self._clock = clock
        self._lifetime = lifetime
        self._codes: dict[str, Grant] = {}
        self._lock = threading.Lock()

    def issue(self, request: AuthorizationRequest, persona: str) -> str:
        now = self._clock.now()
        code = secrets.token_urlsafe(32)  # RFC 6749 §10.10: not guessable (256 bits)
        with self._lock:
            self._codes = {c: g for c, g in self._codes.items() if now < g.issued_at + self._lifetime}
            if len(self._codes) >= MAX_CODES:
                self._codes.pop(next(iter(self._codes)))
            self._codes[code] = Grant(request, persona, now)
        return code

    def redeem(self, code: str, client_id: str, redirect_uri: str, verifier: str) -> Grant:
        """The grant of ``code`` if every check of RFC 6749 §4.1.3 and RFC 7636 §4.6 passes; else TokenError."""
        with self._lock:
            # RFC 6749 §4.1.2: "The client MUST NOT use the authorization code more than once": taken now,
            # before any other check, so a wrong verifier also burns it (no guessing against one code).
            grant = self._codes.pop(code, None)
        if grant is None:
            raise TokenError("invalid_grant", "unknown or already used authorization code")
        if self._clock.now() >= grant.issued_at + self._lifetime:  # RFC 6749 §4.1.2: short-lived
            raise TokenError("invalid_grant", "authorization code expired; sign in again")
        if client_id != grant.request.client_id:  # §4.1.3: "the code was issued to client_id in the request"
            raise TokenError("invalid_grant", "authorization code issued to another client")
        if redirect_uri != grant.request.redirect_uri:  # §4.1.3: "their values are identical"
            raise TokenError("invalid_grant", "redirect_uri differs from the authorization request's")
        if not pkce_matches(verifier, grant.request.code_challenge):  # RFC 7636 §4.6
            raise TokenError("invalid_grant", "code_verifier does not match the code_challenge")
        return grant


class DevProvider:
    """The token endpoint's work: a redeemed code -> an ID token and an access token from the dev issuer."""

    def __init__(self, issuer: DevIssuer, clock: Clock, codes: CodeStore | None = None) -> None:
        self.issuer = issuer
        self.codes = codes or CodeStore(clock)
        self._clock = clock

    def token(self, form: Mapping[str, str]) -> dict[str, Any]:
        """The token response (RFC 6749 §5.1, OIDC Core §3.1.3.3) to an authorization_code grant in ``form``."""
        if form.get("grant_type") != "authorization_code":  # RFC 6749 §4.1.3
            raise TokenError("unsupported_grant_type", "grant_type must be authorization_code")
        # RFC 6749 §2.3 / §3.2.1: a public client identifies itself with client_id in the body.
        if form.get("client_id") != CLIENT_ID:
            raise TokenError("invalid_client", f"unknown client_id (the demo's is {CLIENT_ID})")
        missing = [p for p in ("code", "redirect_uri", "code_verifier") if not form.get(p)]
        if missing:
            raise TokenError("invalid_request", f"{missing[0]} required")
        grant = self.codes.redeem(form["code"], form["client_id"], form["redirect_uri"], form["code_verifier"])
        _, sub, agency, roles = PERSONAS[grant.persona]
        now = self._clock.now()
        # OIDC Core §2 / §3.1.3.6: iss, sub, aud = client_id, exp, iat, auth_time, and the request's nonce;
        # agency and roles in the claims the broker maps (IssuerConfig.agency_claim / roles_claim defaults).
        id_token = self.issuer.mint(
            sub,
            agency,
            list(roles),
            now=now,
            ttl=ID_TOKEN_LIFETIME,
            audience=grant.request.client_id,
            extra={"nonce": grant.request.nonce, "auth_time": int(grant.issued_at.timestamp())},
        )
        access_token = self.issuer.mint(sub, agency, list(roles), now=now, ttl=ACCESS_TOKEN_LIFETIME)
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "id_token": id_token,
            "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            "scope": grant.request.scope,
        }

    def metadata(self, base: str) -> dict[str, Any]:
        """OpenID Provider metadata (OIDC Discovery §3, RFC 8414 §2) with its endpoints under ``base``."""
        return {
            "issuer": self.issuer.config.issuer,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "scopes_supported": ["openid"],
            "token_endpoint_auth_methods_supported": ["none"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "agency", "roles"],
        }
