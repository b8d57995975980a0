"""Web console sign-in: ``/auth/login`` (redirect, or an issuer picker), ``/auth/callback``, ``/auth/logout``,
and ``GET /api/v1/session`` (who is signed in, the CSRF token, when the session ends).

The ``/auth`` routes are browser navigations, not JSON APIs: left out of the OpenAPI description.
"""

from __future__ import annotations

import html
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from broker.api.deps import ServicesDep
from broker.api.refusals import refused
from broker.api.security import console_session, own_origin, public
from broker.console.page import html_page
from broker.errors import AuthenticationError, NotFound
from broker.identity.sessions import COOKIE, ConsoleSession
from broker.timeutil import format_instant

router = APIRouter(tags=["session"])


class SessionPrincipal(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sub: str
    agency: str
    roles: list[str]


class SessionInfo(BaseModel):
    """The signed-in console user; ``csrf_token`` goes back in ``X-CSRF-Token`` on every write."""

    model_config = ConfigDict(extra="forbid")
    principal: SessionPrincipal
    issuer: str
    csrf_token: str = Field(description="Send as the X-CSRF-Token header on POST/PUT/PATCH/DELETE")
    expires_at: str = Field(description="When the session ends unless used (the earlier of idle and absolute)")


def set_session_cookie(response: Response, services: Any, session_id: str) -> None:
    """The session cookie: HttpOnly, SameSite=Lax (sent on the provider's top-level redirect back), Secure
    outside dev mode, no Max-Age (the server decides expiry)."""
    response.set_cookie(
        COOKIE, session_id, httponly=True, samesite="lax", secure=services.settings.mode != "dev", path="/"
    )


async def start_session(request: Request, services: Any, issuer: str, principal: Any) -> Response:
    """A new session (a new id: never one the browser brought, OWASP session fixation), the previous one of
    this browser ended; 303 to the console (/console/)."""
    previous = await console_session(request)
    if previous is not None:
        await run_in_threadpool(services.console.end, previous)
    session_id, _ = await run_in_threadpool(services.console.create, issuer, principal)
    response = RedirectResponse("/console/", status_code=303)
    set_session_cookie(response, services, session_id)
    return response


def _dev_issuer(services: Any) -> str | None:
    """The dev issuer when it is a sign-in issuer here (dev mode: the demo's personas), else None."""
    dev = services.dev_issuer
    if dev is None or services.signin is None or services.signin.issuer(dev.config.issuer) is None:
        return None
    return str(dev.config.issuer)


def _picker(services: Any, dev: str | None) -> HTMLResponse:
    items = "".join(
        f'<li><a href="/auth/login?issuer={html.escape(i.issuer, quote=True)}">'
        f"{html.escape(i.signin.display_name or i.issuer)}</a></li>"
        for i in services.signin.issuers()
        if i.issuer != dev
    )
    extra = '<p><a href="/dev/signin">Demo personas (dev mode)</a></p>' if dev else ""
    return HTMLResponse(html_page("Sign in - camgate", f'<h1>Sign in</h1><ul class="issuers">{items}</ul>{extra}'))


@router.get("/auth/login", include_in_schema=False)
@public
async def login(request: Request, services: ServicesDep, issuer: str | None = None) -> Response:
    signin = services.signin
    dev = _dev_issuer(services)
    configured = [i.issuer for i in signin.issuers() if i.issuer != dev] if signin is not None else []
    if issuer is None:
        if len(configured) > 1:
            return _picker(services, dev)
        # One configured issuer: straight there; none but the dev issuer (make demo): its persona page.
        issuer = configured[0] if configured else dev
        if issuer is None:
            raise NotFound("no issuer is configured for sign-in")
    if signin is None or signin.issuer(issuer) is None:
        raise NotFound("unknown issuer")
    # RFC 6749 §3.1.2: the redirection endpoint is registered at the provider, absolute, fixed.
    return await signin.redirect(request, issuer, own_origin(request) + "/auth/callback")


@router.get("/auth/callback", include_in_schema=False)
@public
async def callback(request: Request, services: ServicesDep) -> Response:
    if services.signin is None or services.console is None:
        raise NotFound("sign-in is not configured")
    try:
        issuer, principal = await services.signin.callback(request)
    except AuthenticationError as exc:  # CJIS 5.4.1.1: an unsuccessful sign-in is audited (counted per minute)
        await refused(request, "signin.refused", exc)
        raise
    return await start_session(request, services, issuer, principal)


@router.post("/auth/logout", include_in_schema=False, status_code=204)
async def logout(request: Request, services: ServicesDep) -> Response:
    """Ends the console session (the app-wide dependency checked the CSRF token and the Origin)."""
    session: ConsoleSession | None = getattr(request.state, "console_session", None)
    if session is not None and services.console is not None:
        await run_in_threadpool(services.console.end, session)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=services.settings.mode != "dev")
    return response


@router.get("/api/v1/session", response_model=SessionInfo)
async def session_info(request: Request) -> dict[str, Any]:
    """The console session of the cookie: 401 without one (a bearer token is not a console session)."""
    session: ConsoleSession | None = getattr(request.state, "console_session", None)
    if session is None:
        session = await console_session(request)
    if session is None:
        raise AuthenticationError("not signed in to the console")
    p = session.principal
    return {
        "principal": {"sub": p.sub, "agency": p.agency, "roles": sorted(p.roles)},
        "issuer": session.issuer,
        "csrf_token": session.csrf,
        "expires_at": format_instant(session.expires_at),
    }
