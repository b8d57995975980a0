"""Web console sign-in: OpenID Connect authorization code flow with PKCE against each configured issuer.

authlib's Starlette client does the protocol: the ``state`` (RFC 6749 §10.12, CSRF on the redirect), the
``nonce`` (OIDC Core §3.1.2.1 / §3.1.3.7 step 11), the PKCE ``code_verifier`` with method S256 (RFC 7636
§4.1-4.2), the code exchange (RFC 6749 §4.1.3) and the ID token's validation (OIDC Core §3.1.3.7: signature
against the provider's JWKS, refetched once when a ``kid`` is unknown, i.e. the provider rotated its keys;
``iss``, ``aud`` = our client_id, ``exp``, ``iat``, ``nonce``).

The state, nonce and verifier live server-side (``console_logins``, :class:`LoginCache`), bound to the browser
by a marker in a short-lived signed cookie (Starlette's ``SessionMiddleware`` on ``/auth``); a state is taken
(deleted) by the first callback that presents it, so a replayed or forged state, or a callback from a
browser that did not start the flow (its verifier is unknown), is refused.
"""

from __future__ import annotations

import logging
import os
import warnings
from datetime import timedelta
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse

from broker.clock import Clock
from broker.errors import AuthenticationError, ConfigError
from broker.identity.config import IssuerConfig
from broker.identity.lows import low_s_token
from broker.identity.verifier import principal_from_claims
from broker.policy import Principal
from broker.store.console import ConsoleRepository

with warnings.catch_warnings():
    # authlib 1.9 warns, at import and to every user, that its httpx integration (which its Starlette client uses)
    # is to become "httpx2": a note to authlib's users' developers, not to the person starting `make demo`, where it
    # was the first line printed. Only that warning is silenced, only for this import.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.starlette_client import OAuth

log = logging.getLogger(__name__)
LOGIN_SECONDS = 600  # a sign-in must come back from the provider within 10 minutes


class LoginCache:
    """authlib's cache interface (async get / set / delete) over ``console_logins``; ``get`` takes the value."""

    def __init__(self, repo: ConsoleRepository, clock: Clock) -> None:
        self._repo = repo
        self._clock = clock

    async def get(self, key: str) -> str | None:
        # One use only: the value is deleted as it is read, so two callbacks racing with one state cannot
        # both get the verifier (RFC 6749 §10.12, RFC 7636 §1: the verifier is bound to one authorization).
        return await run_in_threadpool(self._repo.login_take, key, self._clock.now())

    async def set(self, key: str, value: str, expires: int | None = None) -> None:
        seconds = min(expires or LOGIN_SECONDS, LOGIN_SECONDS)
        await run_in_threadpool(self._repo.login_set, key, value, self._clock.now() + timedelta(seconds=seconds))

    async def delete(self, key: str) -> None:
        await run_in_threadpool(self._repo.login_take, key, self._clock.now())


class SignIn:
    """The issuers one can sign in at, and the two halves of the flow (redirect out, callback in)."""

    def __init__(self, issuers: list[IssuerConfig], cache: LoginCache) -> None:
        self._oauth = OAuth(cache=cache)
        self._issuers: dict[str, IssuerConfig] = {}
        self._names: dict[str, str] = {}
        for config in issuers:
            if config.signin is not None:
                self.add(config)

    def add(
        self,
        config: IssuerConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        authorize_url: str | None = None,
    ) -> None:
        """Sign-in at ``config``'s issuer. ``transport`` and ``authorize_url`` exist for the dev issuer only,
        which lives in this very app: its discovery, token and JWKS requests go to the app in-process, and the
        browser is sent to its authorization endpoint on whatever origin it reached the broker at."""
        assert config.signin is not None
        secret = None
        if config.signin.client_secret_env:
            secret = os.environ.get(config.signin.client_secret_env)
            if not secret:
                raise ConfigError(
                    f"issuer {config.issuer}: {config.signin.client_secret_env} is not set", field="identity"
                )
        name = f"issuer{len(self._names)}"
        extra: dict[str, Any] = {} if transport is None else {"transport": transport}
        self._oauth.register(
            name,
            client_id=config.signin.client_id,
            client_secret=secret,
            server_metadata_url=config.discovery_url(),
            authorize_url=authorize_url,
            client_kwargs={
                "scope": config.signin.scope,
                "code_challenge_method": "S256",  # RFC 7636 §4.2: S256, never plain
                "token_endpoint_auth_method": "client_secret_basic" if secret else "none",
                "timeout": 10.0,
                **extra,
            },
        )
        self._issuers[config.issuer] = config
        self._names[config.issuer] = name

    def issuers(self) -> list[IssuerConfig]:
        return list(self._issuers.values())

    def issuer(self, issuer: str) -> IssuerConfig | None:
        return self._issuers.get(issuer)

    async def redirect(self, request: Request, issuer: str, redirect_uri: str) -> RedirectResponse:
        """The redirect to the provider's authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2.1)."""
        client = self._oauth.create_client(self._names[issuer])
        request.session["issuer"] = issuer
        try:
            response = await client.authorize_redirect(request, redirect_uri)
        except (OAuthError, OSError, ValueError) as exc:
            log.warning("sign-in at %s cannot start: %s", issuer, exc)
            raise AuthenticationError(f"the identity provider cannot be reached: {exc}", reason="provider") from None
        assert isinstance(response, RedirectResponse)
        return response

    async def callback(self, request: Request) -> tuple[str, Principal]:
        """The issuer and principal of a successful callback; :class:`AuthenticationError` otherwise."""
        issuer = request.session.get("issuer")
        if not isinstance(issuer, str) or issuer not in self._issuers:
            # No marker cookie: this browser did not start a sign-in here, or its cookie is gone (the PKCE
            # code_verifier cannot be found: RFC 7636 §4.5 requires it at the token endpoint).
            raise AuthenticationError("no sign-in under way in this browser", reason="no_login")
        config = self._issuers[issuer]
        client = self._oauth.create_client(self._names[issuer])
        try:
            # RFC 6749 §10.12 state; §4.1.3 code exchange with the RFC 7636 §4.5 code_verifier; OIDC Core
            # §3.1.3.7 ID token validation (signature via the JWKS, iss, aud, exp, iat, nonce).
            token: dict[str, Any] = await client.authorize_access_token(request)
        except OAuthError as exc:
            reason = "state" if exc.error == "mismatching_state" else "provider"
            raise AuthenticationError(f"sign-in refused: {exc.error}: {exc.description or ''}", reason=reason) from None
        except Exception as exc:  # the ID token's signature, its claims, the provider unreachable ...
            log.warning("sign-in at %s failed: %r", issuer, exc)
            raise AuthenticationError(f"sign-in refused: {type(exc).__name__}", reason="id_token") from None
        finally:
            request.session.pop("issuer", None)
        claims = token.get("userinfo")
        if not isinstance(claims, dict):
            raise AuthenticationError("the provider sent no ID token", reason="id_token")
        if config.require_low_s and not low_s_token(
            token.get("id_token")
        ):  # ECDSA malleability: broker/identity/lows.py
            raise AuthenticationError(
                "the ID token's signature is not canonical (ECDSA S above n/2)", reason="id_token"
            )
        if claims.get("iss") != config.issuer:  # OIDC Core §3.1.3.7 step 2: iss MUST exactly match
            raise AuthenticationError("ID token issuer mismatch", reason="id_token")
        return issuer, principal_from_claims(dict(claims), config)
