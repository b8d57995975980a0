"""Deny by default: every route needs a verified bearer token or a console session unless opened explicitly.

Opening a route is an explicit act at the route (``@public``, ``@signed_url`` or ``@signed_webhook``), the way frigate's
``require_admin_by_default`` works; a new route that forgets is closed, not open.

Console sessions (cookie ``camgate_session``, :mod:`broker.identity.sessions`) authenticate the same routes as a
bearer token. A cookie is sent by the browser whoever wrote the page, so a state-changing request (POST, PUT,
PATCH, DELETE) authenticated by the cookie must also carry the session's CSRF token in ``X-CSRF-Token``
(double submit bound to the session) and an ``Origin`` (or ``Referer``) of the broker's own origin; else 403
``forbidden`` with ``reason`` ``csrf_token`` or ``cross_origin``, audited as ``console.refused``. A request
with an ``Authorization`` header is a bearer request: no cookie is looked at and no CSRF token is needed.

A cookie never authorises a request from another origin, whatever its method (pages of other origins may embed
streams with a bearer token: CORS, :mod:`broker.api.cors`, never with credentials): a cookie-authenticated request
whose ``Origin`` is not the broker's, or that the browser marks ``Sec-Fetch-Site: cross-site`` / ``same-site``
without being a navigation (W3C Fetch Metadata Request Headers §2.1, §2.3; another port of the same host is
``same-site``), is refused 403 ``cross_origin`` the same way.

Every refusal here is counted on the audit chain per client, reason and minute (``auth.refused``,
``console.refused``: :mod:`broker.api.refusals`), so that anonymous traffic cannot fill the disk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from broker.api.refusals import refused
from broker.errors import AuthenticationError, PermissionDenied
from broker.identity.sessions import COOKIE, ConsoleSession
from broker.identity.verifier import claimed_identity, expiry_of

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "__camgate_access__"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # RFC 9110 §9.2.1
CSRF_HEADER = "X-CSRF-Token"


def public(fn: F) -> F:
    """No credentials at all (health probes)."""
    setattr(fn, ACCESS_ATTR, "public")
    return fn


def signed_url(fn: F) -> F:
    """Authenticated by the signed stream token in its path, checked by the handler."""
    setattr(fn, ACCESS_ATTR, "signed_url")
    return fn


def signed_webhook(fn: F) -> F:
    """Authenticated by its Standard Webhooks signature (``webhook-signature``), checked by the handler over the
    raw body before any of it is read; unsigned or badly signed: 401 ``invalid_signature``."""
    setattr(fn, ACCESS_ATTR, "signed_webhook")
    return fn


#: Markers whose routes authenticate by themselves, without a bearer token.
SELF_AUTHENTICATED = ("public", "signed_url", "signed_webhook")


def query_token(fn: F) -> F:
    """Bearer token in the header or, for players that cannot set headers, ``?access_token=`` (RFC 6750 §2.3)."""
    setattr(fn, ACCESS_ATTR, "query_token")
    return fn


def access_of(request: Request) -> str:
    route = request.scope.get("route")
    endpoint = getattr(route, "endpoint", None)
    return getattr(endpoint, ACCESS_ATTR, "bearer")


def bearer_token(request: Request, allow_query: bool) -> str:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("Authorization header must be 'Bearer <token>' (RFC 6750 §2.1)")
        return token.strip()
    if allow_query:
        query_token = request.query_params.get("access_token")
        if query_token:
            return query_token
    raise AuthenticationError("no bearer token")


def own_origin(request: Request) -> str:
    """The broker's origin as browsers see it (settings ``console.origin``, else the request's own)."""
    configured = request.app.state.services.settings.console.origin
    if configured:
        return str(configured).rstrip("/")
    return f"{request.url.scheme}://{request.url.netloc}"


def same_origin(request: Request) -> str | None:
    """None when the request comes from the broker's own pages, else why not (``cross_origin``)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        referer = request.headers.get("referer")
        if not referer:
            return "no Origin or Referer header"
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    if origin.rstrip("/") != own_origin(request):
        return f"Origin {origin[:100]} is not the broker's"
    return None


def foreign(request: Request) -> str | None:
    """Why a cookie-authenticated request comes from a page of another origin, or None (any method).

    Browsers send ``Origin`` on every CORS request and every request that is not GET or HEAD (Fetch standard
    §3.2 "`Origin` header", "append a request Origin header"); a same-origin GET carries none, and ``null`` (an
    opaque origin) is never the broker's. Fetch Metadata catches the no-cors embeddings (``<img>``, ``<video>``)
    that send no ``Origin``; top-level navigations stay allowed (a link to the console from another site).
    """
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != own_origin(request):
        return f"Origin {origin[:100]} is not the broker's"
    site = request.headers.get("sec-fetch-site")
    if site in ("cross-site", "same-site") and request.headers.get("sec-fetch-mode") != "navigate":
        return f"Sec-Fetch-Site {site}: a page of another origin"
    return None


async def _refuse(request: Request, session: ConsoleSession, reason: str, why: str) -> None:
    # Counted, not one record per request: a page on another site can make a signed-in browser send these.
    exc = PermissionDenied(f"cookie-authenticated {request.method} refused: {why}", reason=reason)
    await refused(request, "console.refused", exc, principal=session.principal)
    raise exc


async def check_csrf(request: Request, session: ConsoleSession) -> None:
    """A state-changing request authenticated by the session cookie: CSRF token and same origin, or 403."""
    # OWASP CSRF cheat sheet: verify the origin with standard headers, and a synchronizer token bound to
    # the session (sent in a custom header, which a cross-site form cannot set).
    if (why := same_origin(request)) is not None:
        await _refuse(request, session, "cross_origin", why)
    if not session.csrf_matches(request.headers.get(CSRF_HEADER)):
        await _refuse(request, session, "csrf_token", f"missing or wrong {CSRF_HEADER} header")


def credential_expiry(request: Request) -> int | None:
    """When the credential that authenticated ``request`` ends (unix seconds): the bearer token's ``exp``
    (RFC 7519 §4.1.4) or the console session's expiry; stream URLs written for it never outlive it."""
    expires = getattr(request.state, "token_expires", None)
    session = getattr(request.state, "console_session", None)
    if expires is None and session is not None:
        expires = session.expires_at
    return None if expires is None else int(expires.timestamp())


async def console_session(request: Request) -> ConsoleSession | None:
    """The live console session of the request's cookie, or None."""
    services = request.app.state.services
    cookie = request.cookies.get(COOKIE)
    if not cookie or services.console is None:
        return None
    session: ConsoleSession | None = await run_in_threadpool(services.console.lookup, cookie)
    return session


async def require_authentication(request: Request) -> None:
    """App-wide dependency: a bearer token, or the console session cookie, for every route not opened.

    Every refusal is counted (``auth.refused``): CJIS Security Policy 5.4.1.1 audits unsuccessful access attempts.
    """
    access = access_of(request)
    if access in SELF_AUTHENTICATED or getattr(request.state, "principal", None) is not None:
        return  # opened, or authenticated already (before its body was read: broker/api/bodygate.py)
    services = request.app.state.services
    allow_query = access == "query_token"
    if request.headers.get("authorization") or (allow_query and request.query_params.get("access_token")):
        try:
            token = bearer_token(request, allow_query=allow_query)
        except AuthenticationError as exc:
            await refused(request, "auth.refused", exc, reason="bad_scheme")
            raise
        try:
            request.state.principal = await services.verifier.verify(token)
        except AuthenticationError as exc:  # what the token claims is not an identity: only "claimed"
            await refused(request, "auth.refused", exc, reason="invalid_token", claimed=claimed_identity(token))
            raise
        request.state.token_expires = expiry_of(token)  # bounds long-lived answers (the event stream)
        return
    if request.cookies.get(COOKIE):
        session = await console_session(request)
        if session is None:
            ended = AuthenticationError("the console session has expired or ended; sign in again")
            await refused(request, "auth.refused", ended, reason="session_ended")
            raise ended
        if (why := foreign(request)) is not None:  # cookies never authorise another origin's page
            await _refuse(request, session, "cross_origin", why)
        if request.method not in SAFE_METHODS:
            await check_csrf(request, session)
        request.state.console_session = session
        request.state.principal = session.principal
        return
    missing = AuthenticationError("no bearer token")
    await refused(request, "auth.refused", missing, reason="no_credentials")
    raise missing
