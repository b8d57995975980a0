"""Deny by default: every route needs a verified bearer token unless it was opened explicitly.

Opening a route is an explicit act at the route (``@public``, ``@signed_url`` or ``@signed_webhook``), the way frigate's
``require_admin_by_default`` works; a new route that forgets is closed, not open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request

from broker.errors import AuthenticationError

F = TypeVar("F", bound=Callable[..., Any])
ACCESS_ATTR = "__camgate_access__"


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


async def require_authentication(request: Request) -> None:
    """App-wide dependency: verify the bearer token for every route not opened explicitly."""
    access = access_of(request)
    if access in SELF_AUTHENTICATED:
        return
    services = request.app.state.services
    token = bearer_token(request, allow_query=access == "query_token")
    request.state.principal = await services.verifier.verify(token)
