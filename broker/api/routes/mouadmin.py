"""MOUs kept by the broker (issue 14): drafts, versions, countersignature, termination.

``POST /api/v1/mous`` takes the MOU's YAML (the contract's format, section 2) and stores a draft: a new MOU, a new
version, or a new revision of an open version. It is validated exactly as ``camgate mou validate`` validates a file
named ``draft.yaml``; a refused draft is kept nowhere and answered 422 with every ``FILE:LINE: path: message`` line.

Reading a stored MOU is for its parties (the owner's and the recipients' staff) and oversight auditors; drafting,
approving and terminating for the roles each party names in ``mous.parties`` (403 ``not_a_party`` otherwise).
Every change is one audit record bound to its row (:mod:`broker.admin.mous.service`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from broker.admin.mous.lifecycle import MouState
from broker.admin.mous.service import MouService
from broker.api.deps import ClientDep, PrincipalDep, ServicesDep, is_oversight_auditor
from broker.api.errordoc import raises
from broker.api.models_mous import (
    Approve,
    MouHistory,
    MouRegistryList,
    Terminate,
    VersionDetail,
    history_json,
    list_json,
    version_json,
)
from broker.api.services import Services
from broker.errors import (
    AuditUnavailable,
    ContentTooLarge,
    DocumentError,
    InvalidRequest,
    MouStateConflict,
    PermissionDenied,
    StoreUnavailable,
    UnknownMou,
)
from broker.policy import Principal

router = APIRouter(prefix="/api/v1", tags=["mou administration"])
MouId = Annotated[str, Path(min_length=1, max_length=128, examples=["ncps-ncpd-video"])]
VersionNo = Annotated[int, Path(ge=1, le=1_000_000, examples=[3])]
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/plain")
_YAML_BODY = {
    "requestBody": {
        "required": True,
        "description": "The MOU document, YAML (contract section 2)",
        "content": {
            t: {"schema": {"type": "string"}, "example": "mou: ncps-ncpd-video\nversion: 4\n"} for t in YAML_TYPES
        },
    }
}


def service_of(services: Services, *, writing: bool = False) -> MouService:
    if services.mous is None:
        raise StoreUnavailable("MOU administration is not running")
    if writing and services.settings.mous.source != "store":
        raise MouStateConflict(
            'MOUs are kept in files here (mous.source = "files"): edit them under policy.mous and run camgate reload',
            state="files",
        )
    return services.mous


def _visible(principal: Principal, services: Services, state: MouState) -> bool:
    parties = {p for v in state.versions for p in v.parties}
    return principal.agency in parties or is_oversight_auditor(principal, services)


def _readable(principal: Principal, services: Services, mou: str) -> MouState:
    state = service_of(services).registry.state(mou)
    if not _visible(principal, services, state):
        raise PermissionDenied(f"agency {principal.agency!r} is not a party to MOU {mou!r}", reason="not_a_party")
    return state


@router.get("/mou-versions", response_model=MouRegistryList, responses=raises(StoreUnavailable))
async def list_stored(principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    """Every stored MOU the caller's agency is a party to, each with its versions' states (the MOU list by state)."""
    states = await run_in_threadpool(service_of(services).registry.states)
    visible = [s for s in states.values() if _visible(principal, services, s)]
    return list_json(visible, services, principal)


@router.post(
    "/mous",
    status_code=201,
    response_model=VersionDetail,
    openapi_extra=_YAML_BODY,
    responses=raises(
        DocumentError, InvalidRequest, PermissionDenied, MouStateConflict, ContentTooLarge, AuditUnavailable
    ),
)
async def draft(
    request: Request, response: Response, principal: PrincipalDep, services: ServicesDep, client: ClientDep
) -> dict[str, Any]:
    """Store a draft: a new MOU, its next version, or a new revision of an open version (every text is kept)."""
    mous = service_of(services, writing=True)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in YAML_TYPES:
        raise InvalidRequest(f"the body is an MOU in YAML: Content-Type one of {', '.join(YAML_TYPES)}", field="body")
    raw = await request.body()
    drafted = await run_in_threadpool(mous.draft, principal, raw, client)
    if not drafted.created:
        response.status_code = 200
    state = mous.registry.state(drafted.version.mou)
    return version_json(drafted.version, services, principal=principal, state=state)


@router.get("/mous/{mou}/versions", response_model=MouHistory, responses=raises(UnknownMou, PermissionDenied))
async def versions(mou: MouId, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    """The version history: every version's state, current hash and approvals."""
    state = await run_in_threadpool(_readable, principal, services, mou)
    return history_json(state, services, principal)


@router.get(
    "/mous/{mou}/versions/{version}", response_model=VersionDetail, responses=raises(UnknownMou, PermissionDenied)
)
async def version(mou: MouId, version: VersionNo, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    """One version: its exact text, SHA-256, revisions, approvals and lint."""
    state = await run_in_threadpool(_readable, principal, services, mou)
    found = next((v for v in state.versions if v.version == version), None)
    if found is None:
        raise UnknownMou(f"MOU {mou!r} has no version {version}", field="version")
    return version_json(found, services, with_text=True, principal=principal, state=state)


@router.post(
    "/mous/{mou}/versions/{version}/approve",
    response_model=VersionDetail,
    responses=raises(UnknownMou, PermissionDenied, MouStateConflict, InvalidRequest, AuditUnavailable),
)
async def approve(
    mou: MouId, version: VersionNo, body: Approve, principal: PrincipalDep, services: ServicesDep, client: ClientDep
) -> dict[str, Any]:
    """Countersign the exact text whose SHA-256 is given (409 if it is not the version's current text). Once every
    party approved, the version takes effect from its ``effective`` date and supersedes the one before."""
    mous = service_of(services, writing=True)
    found = await run_in_threadpool(mous.approve, principal, mou, version, body.sha256, client)
    if found.state in ("approved", "in_force"):
        await services.reload("mou.approve", principal, client)  # scheduled, or in force now, on every replica
        await run_in_threadpool(services.mou_moments, now=True)
    state, found = mous.registry.version(mou, version)
    return version_json(found, services, principal=principal, state=state)


@router.post(
    "/mous/{mou}/versions/{version}/withdraw",
    response_model=VersionDetail,
    responses=raises(UnknownMou, PermissionDenied, MouStateConflict, AuditUnavailable),
)
async def withdraw(
    mou: MouId, version: VersionNo, principal: PrincipalDep, services: ServicesDep, client: ClientDep
) -> dict[str, Any]:
    """Take back your agency's approval, until the version takes effect."""
    mous = service_of(services, writing=True)
    before = mous.registry.version(mou, version)[1].state
    found = await run_in_threadpool(mous.withdraw, principal, mou, version, client)
    if before == "approved":
        await services.reload("mou.withdraw", principal, client)  # no longer scheduled
    state, found = mous.registry.version(mou, version)
    return version_json(found, services, principal=principal, state=state)


@router.post(
    "/mous/{mou}/terminate",
    response_model=MouHistory,
    responses=raises(UnknownMou, PermissionDenied, MouStateConflict, InvalidRequest, AuditUnavailable),
)
async def terminate(
    mou: MouId,
    principal: PrincipalDep,
    services: ServicesDep,
    client: ClientDep,
    body: Annotated[Terminate, Body()],
) -> dict[str, Any]:
    """End the MOU at once, for either party: no grant or emergency under it is honoured from now on, open viewings
    are cut, and the parties get a notice."""
    mous = service_of(services, writing=True)
    state = await run_in_threadpool(mous.terminate, principal, mou, body.reason, client)
    await services.reload("mou.terminate", principal, client)
    await run_in_threadpool(services.emergencies.end_under, mou, principal, client)
    await run_in_threadpool(services.sessions.revalidate, services.guard.decide)  # cut now, as an ended emergency
    return history_json(state, services, principal)
