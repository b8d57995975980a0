"""``/dev/signin``: one-click demo personas for ``make demo`` (dev mode only; the router is not mounted otherwise).

A persona sign-in creates exactly the server-side session an OpenID Connect sign-in creates, with the dev
issuer as its issuer. The POST is a login: it checks the Origin like every cookie write (login CSRF).
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from broker.api.deps import ServicesDep
from broker.api.routes.signin import start_session
from broker.api.security import public, same_origin
from broker.console.page import html_page
from broker.errors import NotFound, PermissionDenied
from broker.policy import Principal

router = APIRouter(prefix="/dev/signin", include_in_schema=False)

#: persona -> (label, sub, agency, roles): the demo district's people (config/inventory.yaml, the demo MOUs).
PERSONAS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "officer": ("Police officer", "officer-kim", "ncpd", ("officer",)),
    "dispatcher": ("Police dispatcher", "dispatch-lee", "ncpd", ("dispatcher",)),
    "supervisor": ("Police supervisor", "sgt-ortiz", "ncpd", ("supervisor",)),
    "principal": ("School principal", "principal-saxe", "ncps", ("principal",)),
    "school_it": ("School IT administrator", "it-ana", "ncps", ("operator",)),
    "auditor": ("Auditor", "auditor-ray", "ncps", ("auditor",)),
}


def _dev_only(services: ServicesDep) -> str:
    if services.settings.mode != "dev" or services.dev_issuer is None:
        raise NotFound("not found")  # refused outside dev mode (the router is not even mounted there)
    return services.dev_issuer.config.issuer


@router.get("")
@public
async def personas(services: ServicesDep) -> HTMLResponse:
    _dev_only(services)
    buttons = "".join(
        f'<li><button name="persona" value="{key}">{html.escape(label)}</button> '
        f"<small>{html.escape(sub)} &middot; {agency} &middot; {', '.join(roles)}</small></li>"
        for key, (label, sub, agency, roles) in PERSONAS.items()
    )
    page = (
        "<h1>Sign in as a demo persona</h1><p>Dev mode only: each button signs you in as that person.</p>"
        f'<form method="post" action="/dev/signin"><ul class="personas">{buttons}</ul></form>'
    )
    return HTMLResponse(html_page("Demo sign-in - camgate", page))


@router.post("")
@public
async def sign_in(request: Request, services: ServicesDep) -> Response:
    issuer = _dev_only(services)
    if (why := same_origin(request)) is not None:
        raise PermissionDenied(f"sign-in refused: {why}", reason="cross_origin")
    body = await request.body()
    persona = parse_qs(body[:1024].decode("latin-1")).get("persona", [""])[0]  # a one-field urlencoded form
    if persona not in PERSONAS or services.console is None:
        raise NotFound("unknown persona")
    _, sub, agency, roles = PERSONAS[persona]
    return await start_session(request, services, issuer, Principal.of(sub, agency, roles))
