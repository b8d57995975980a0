"""Demo sign-in for ``make demo``: the dev issuer as an OpenID Provider on the broker's own origin (dev mode only;
:func:`mount` is not called otherwise, so none of these routes exists there).

``GET /dev/signin`` starts the console's ordinary sign-in (``/auth/login``) at the dev issuer, which answers it
like any provider: ``/dev/oidc/authorize`` shows one button per persona (nothing to type), its POST sends the
browser back to ``/auth/callback`` with a code, and the broker exchanges the code at ``/dev/oidc/token`` with
its PKCE verifier for an ID token it validates against ``/dev/oidc/jwks``. The checks are in
:mod:`broker.identity.devprovider`.

The broker reaches its own provider in-process (discovery, token and JWKS requests over an ``httpx`` ASGI
transport into this app), so no port has to be known and nothing leaves the process; the browser is sent to the
authorization endpoint on whatever origin it reached the broker at. The dev issuer's ``iss`` stays
``camgate-dev`` (what ``camgate token`` mints and the verifier expects), not a URL as OIDC Core §2 asks of a
real provider: its discovery document is therefore named explicitly rather than derived from the issuer.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, urlencode

import httpx
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from broker.api.security import own_origin, public, same_origin
from broker.api.services import Services
from broker.clock import SystemClock
from broker.console.page import html_page
from broker.errors import NotFound, PermissionDenied
from broker.identity.config import SignInConfig
from broker.identity.devprovider import (
    CLIENT_ID,
    PERSONAS,
    AuthorizationRequest,
    AuthorizeError,
    DevProvider,
    TokenError,
    check_authorization,
)

PREFIX = "/dev/oidc"
IN_PROCESS = "http://127.0.0.1"  # the discovery URL's origin: served by the ASGI transport, never a socket
MAX_BODY = 8192
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1

router = APIRouter(include_in_schema=False)


def mount(app: FastAPI, services: Services) -> None:
    """Serve the dev provider and register it as a sign-in issuer of this app (dev mode only)."""
    if services.settings.mode != "dev" or services.dev_issuer is None or services.signin is None:
        return
    # The provider keeps the wall clock: the broker checks an ID token's exp and iat against it (authlib), as
    # it does any provider's. Its codes take an injected clock in the unit tests.
    app.state.dev_provider = DevProvider(services.dev_issuer, SystemClock())
    app.include_router(router)
    signin = SignInConfig(
        client_id=CLIENT_ID, discovery_url=f"{IN_PROCESS}{PREFIX}/.well-known/openid-configuration",
        display_name="Demo personas (dev mode)",
    )  # fmt: skip
    config = services.dev_issuer.issuer_config().model_copy(update={"signin": signin})
    services.signin.add(config, transport=httpx.ASGITransport(app=app), authorize_url=f"{PREFIX}/authorize")


def _provider(request: Request) -> DevProvider:
    provider = getattr(request.app.state, "dev_provider", None)
    if not isinstance(provider, DevProvider) or request.app.state.services.settings.mode != "dev":
        raise NotFound("not found")  # never mounted outside dev mode; refused again here all the same
    return provider


def _params(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in items:
        if key in params:  # RFC 6749 §3.1: "parameters MUST NOT be included more than once"
            raise AuthorizeError("invalid_request", f"{key} given more than once", redirect=False)
        params[key] = value
    return params


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise AuthorizeError("invalid_request", "request too large", redirect=False)
    return _params(parse_qsl(body.decode("latin-1"), keep_blank_values=True))


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    page = html_page(f"{title} - camgate", f"<h1>{html.escape(title)}</h1>{body}")
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


def _refused(error: AuthorizeError, params: dict[str, str]) -> Response:
    if error.redirect:  # RFC 6749 §4.1.2.1: back to the (verified) redirect_uri with error and state
        back = {"error": error.error, "error_description": error.description}
        if params.get("state") and len(params["state"]) <= 512:
            back["state"] = params["state"]
        return RedirectResponse(f"{params['redirect_uri']}?{urlencode(back)}", status_code=302)
    message = html.escape(error.description)
    return _page(
        "Sign-in request refused",
        f"<p>The demo sign-in cannot go on: {message}.</p>"
        '<p>Start again from <a href="/dev/signin">the demo sign-in</a>.</p>',
        status=400,
    )


def _picker(request: AuthorizationRequest) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(v, quote=True)}">' for k, v in request.as_params().items()
    )
    buttons = "".join(
        f'<li><button name="persona" value="{key}" aria-describedby="who-{key}">{html.escape(label)}</button> '
        f'<small id="who-{key}">{html.escape(sub)} &middot; {agency} &middot; {", ".join(roles)}</small></li>'
        for key, (label, sub, agency, roles) in PERSONAS.items()
    )
    return _page(
        "Sign in as a demo persona",
        "<p>Dev mode only: the demo's built-in identity provider. Choose who you are; the console opens signed "
        "in as that person.</p>"
        f'<form method="post" action="{PREFIX}/authorize">{hidden}'
        f'<fieldset><legend>Demo personas</legend><ul class="personas">{buttons}</ul></fieldset></form>',
    )


@router.get("/dev/signin")
@public
async def start(request: Request) -> Response:
    """The demo's entry point: the console's own sign-in, at the dev issuer."""
    issuer = _provider(request).issuer.config.issuer
    return RedirectResponse(f"/auth/login?issuer={quote(issuer, safe='')}", status_code=303)


@router.get(f"{PREFIX}/.well-known/openid-configuration")
@public
async def discovery(request: Request) -> JSONResponse:
    return JSONResponse(_provider(request).metadata(own_origin(request) + PREFIX))


@router.get(f"{PREFIX}/jwks")
@public
async def jwks(request: Request) -> JSONResponse:
    return JSONResponse(_provider(request).issuer.public_jwks())


@router.get(f"{PREFIX}/authorize")
@public
async def authorize(request: Request) -> Response:
    """OIDC Core §3.1.2.1 authorization request: the persona picker."""
    _provider(request)
    params: dict[str, str] = {}
    try:
        params = _params(request.query_params.multi_items())
        return _picker(check_authorization(params, own_origin(request) + "/auth/callback"))
    except AuthorizeError as error:
        return _refused(error, params)


@router.post(f"{PREFIX}/authorize")
@public
async def choose(request: Request) -> Response:
    """A persona chosen: the code, back to the console's callback (RFC 6749 §4.1.2)."""
    provider = _provider(request)
    if (why := same_origin(request)) is not None:  # only the picker page posts here (login CSRF)
        raise PermissionDenied(f"sign-in refused: {why}", reason="cross_origin")
    params: dict[str, str] = {}
    try:
        params = await _form(request)
        # Everything the page carried is checked again: it came back through the browser.
        checked = check_authorization(params, own_origin(request) + "/auth/callback")
    except AuthorizeError as error:
        return _refused(error, params)
    persona = params.get("persona", "")
    if persona not in PERSONAS:
        return _refused(AuthorizeError("invalid_request", "choose one of the personas", redirect=False), params)
    code = provider.codes.issue(checked, persona)
    back = urlencode({"code": code, "state": checked.state})
    return RedirectResponse(f"{checked.redirect_uri}?{back}", status_code=303)


@router.post(f"{PREFIX}/token")
@public
async def token(request: Request) -> JSONResponse:
    """RFC 6749 §4.1.3 access token request (authorization_code with the RFC 7636 §4.5 code_verifier)."""
    provider = _provider(request)
    try:
        form = await _form(request)
        return JSONResponse(provider.token(form), headers=NO_STORE)
    except (TokenError, AuthorizeError) as error:  # RFC 6749 §5.2
        body = {"error": error.error, "error_description": error.description}
        return JSONResponse(body, status_code=400, headers=NO_STORE)
