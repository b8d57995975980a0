"""Refused requests onto the audit chain, counted per client, reason and minute (:mod:`broker.audit.refusals`).

CJIS Security Policy 5.4.1.1 counts unsuccessful access attempts among the events to audit. Kinds:

- ``auth.refused``: no credentials on a closed route (``no_credentials``), an ``Authorization`` header that is
  not ``Bearer <token>`` (``bad_scheme``), a token that failed verification (``invalid_token``: its message,
  e.g. "token expired", is counted; what it claimed to be, ``iss`` and ``sub``, only under ``claimed``), a
  console session cookie that names no live session (``session_ended``);
- ``console.refused``: a cookie-authenticated write without its CSRF token or from another origin;
- ``signin.refused``: a console sign-in callback refused (``state``, ``no_login``, ``id_token``, ``provider``);
- ``emergency.refused``: a 403 on declaring, ending, extending or confirming an emergency (``action``);
- ``access.refused``: a 403 for a role (``not_an_auditor``, ``not_an_operator``, ``not_owner_staff``);
- ``stream.refused``: a signed segment URL refused (``expired``, ``bad_signature``, ``camera_mismatch``, ...).

Triggers and positions count theirs in :mod:`broker.admin.triggers` and :mod:`broker.admin.positions`.

The record names the principal only when the request was authenticated. The request's path and method are the
sample (never its query: it may hold an ``access_token``).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request

from broker.api.client import client_address
from broker.errors import CamgateError
from broker.policy import Principal


async def refused(
    request: Request,
    kind: str,
    exc: CamgateError,
    *,
    reason: str | None = None,
    principal: Principal | None = None,
    action: str | None = None,
    mou: str | None = None,
    claimed: Mapping[str, object] | None = None,
) -> None:
    """Count one refused request (``reason``: else the error's own ``reason``, else its code)."""
    services = request.app.state.services
    if services.refusals is None:
        return
    who = {}
    if principal is not None:
        who = {"sub": principal.sub, "agency": principal.agency, "roles": principal.roles}
    await services.refusals.record_async(
        kind,
        client=client_address(request, services.settings.server.trusted_proxies),
        reason=reason or exc.details.get("reason") or exc.code,
        message=exc.message,
        action=action,
        mou=mou,
        claimed=claimed,
        sample={"method": request.method, "path": request.url.path},
        **who,
    )
