"""Emergencies: declare in one action, list, read, end.

A 403 on declaring, ending, extending or confirming is counted on the audit chain (``emergency.refused``, with the
principal, the ``action`` and the reason: :mod:`broker.api.refusals`): CJIS Security Policy 5.4.1.1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from broker.admin.declaration import Declaration
from broker.admin.emergencies import to_json
from broker.api.deps import ClientDep, PrincipalDep, ServicesDep, is_oversight_auditor
from broker.api.errordoc import raises
from broker.api.models import Emergency, EmergencyList, Ending, Extension, ViewerList
from broker.api.refusals import refused
from broker.errors import (
    AuditUnavailable,
    Conflict,
    InvalidRequest,
    PermissionDenied,
    RateLimited,
    StoreUnavailable,
    UnknownEmergency,
)
from broker.policy import Principal
from broker.store.emergencies import EmergencyRecord
from broker.timeutil import format_instant

router = APIRouter(prefix="/api/v1/emergencies", tags=["emergencies"])
EmergencyId = Annotated[str, Path(min_length=1, examples=["em-0123456789ab"])]  # any other id: 404


@router.post(
    "",
    status_code=201,
    response_model=Emergency,
    responses=raises(PermissionDenied, InvalidRequest, Conflict, RateLimited, AuditUnavailable, StoreUnavailable),
)
async def declare(
    body: Declaration, principal: PrincipalDep, services: ServicesDep, client: ClientDep, request: Request
) -> dict[str, Any]:
    rec = await _refusals_counted(
        request, principal, "declare", lambda: services.emergencies.declare(principal, body, client), mou=body.mou
    )
    return to_json(rec, services.clock.now())


async def _refusals_counted(
    request: Request, principal: Principal, action: str, call: Callable[[], EmergencyRecord], mou: str | None = None
) -> EmergencyRecord:
    """``call()`` off the event loop; a 403 or a 429 (``rate_limited``) is counted as ``emergency.refused`` before it
    is answered."""
    try:
        return await run_in_threadpool(call)
    except (PermissionDenied, RateLimited) as exc:
        await refused(request, "emergency.refused", exc, principal=principal, action=action, mou=mou)
        raise


@router.get("", response_model=EmergencyList, responses=raises(StoreUnavailable))
def list_emergencies(principal: PrincipalDep, services: ServicesDep, active: bool = False) -> dict[str, Any]:
    """Emergencies under the MOUs the caller's agency is a party to (oversight auditors: every MOU)."""
    now = services.clock.now()
    visible = visible_mous(principal, services)
    records = services.emergencies.repo.list(active_at=now if active else None)
    return {"emergencies": [to_json(r, now) for r in records if r.mou in visible]}


@router.get("/{emergency_id}", response_model=Emergency, responses=raises(UnknownEmergency, StoreUnavailable))
def get_emergency(emergency_id: EmergencyId, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    return to_json(_visible(emergency_id, principal, services), services.clock.now())


@router.post(
    "/{emergency_id}/end",
    response_model=Emergency,
    responses=raises(PermissionDenied, UnknownEmergency, Conflict, AuditUnavailable, StoreUnavailable),
)
async def end(
    emergency_id: EmergencyId,
    principal: PrincipalDep,
    services: ServicesDep,
    client: ClientDep,
    request: Request,
    body: Ending | None = None,
) -> dict[str, Any]:
    """End now, optionally saying why (recorded)."""
    await run_in_threadpool(_visible, emergency_id, principal, services)  # 404 as for reading it, not 403
    reason = body.reason if body is not None else None
    rec = await _refusals_counted(
        request, principal, "end", lambda: services.emergencies.end(principal, emergency_id, client, reason)
    )
    return to_json(rec, services.clock.now())


@router.post(
    "/{emergency_id}/extend",
    response_model=Emergency,
    responses=raises(PermissionDenied, UnknownEmergency, Conflict, InvalidRequest, AuditUnavailable, StoreUnavailable),
)
async def extend(
    emergency_id: EmergencyId,
    body: Extension,
    principal: PrincipalDep,
    services: ServicesDep,
    client: ClientDep,
    request: Request,
) -> dict[str, Any]:
    """Move the expiry later; expires_at - declared_at stays within the MOU's max_duration (else 422 minutes)."""
    await run_in_threadpool(_visible, emergency_id, principal, services)
    rec = await _refusals_counted(
        request,
        principal,
        "extend",
        lambda: services.emergencies.extend(principal, emergency_id, body.minutes, body.reason, client),
    )
    return to_json(rec, services.clock.now())


@router.post(
    "/{emergency_id}/confirm",
    response_model=Emergency,
    responses=raises(PermissionDenied, UnknownEmergency, Conflict, AuditUnavailable, StoreUnavailable),
)
async def confirm(
    emergency_id: EmergencyId, principal: PrincipalDep, services: ServicesDep, client: ClientDep, request: Request
) -> dict[str, Any]:
    """Confirm a trigger-declared emergency (a role named in the MOU's emergency.confirm, within its time)."""
    await run_in_threadpool(_visible, emergency_id, principal, services)
    rec = await _refusals_counted(
        request, principal, "confirm", lambda: services.emergencies.confirm(principal, emergency_id, client)
    )
    return to_json(rec, services.clock.now())


@router.get("/{emergency_id}/viewers", response_model=ViewerList, responses=raises(UnknownEmergency, StoreUnavailable))
def viewers(emergency_id: EmergencyId, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    """Who is watching what under this emergency now (this replica's open viewing sessions)."""
    _visible(emergency_id, principal, services)
    return {
        "emergency": emergency_id,
        "viewers": [
            {
                "session": s.id,
                "sub": s.principal.sub,
                "agency": s.principal.agency,
                "roles": sorted(s.principal.roles),
                "camera": s.camera,
                "action": s.action,
                "grant": s.decision.grant,
                "clause": s.decision.clause,
                "client": s.client,
                "started": format_instant(s.started),
                "last": format_instant(s.last),
                "requests": s.requests,
                "bytes": s.bytes,
            }
            for s in services.sessions.viewing(emergency_id)
        ],
    }


def _visible(emergency_id: str, principal: Any, services: Any) -> EmergencyRecord:
    rec = services.emergencies.get(emergency_id)
    if rec.mou not in visible_mous(principal, services):
        raise UnknownEmergency(f"no emergency {emergency_id!r}")
    return rec


def visible_mous(principal: Any, services: Any) -> set[str]:
    """The MOUs whose emergencies (and text) ``principal`` reads: its agency's, every one for an oversight auditor
    (settings ``audit.oversight``; an agency's auditor reads its own agency's, as its audit records)."""
    if is_oversight_auditor(principal, services):
        return set(services.catalog.mous)
    return {m.mou for m in services.catalog.visible_mous(principal.agency)}
