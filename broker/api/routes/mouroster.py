"""An MOU's roster of named users (issue 14, item 5): read it, replace it, approve a revision.

An MOU with a ``roster`` field (contract section 2) lets only the users of ``roster.agencies`` who are named on its
roster use its grants; anyone else of those agencies is denied ``not_on_roster`` (section 4). The broker keeps the
roster in its store whatever ``mous.source`` says, every revision with its SHA-256, author and time.

Reading is for the MOU's parties and oversight auditors; replacing for a party's editors (a recipient's editors
change only their own agency's entries); approving, where the MOU says ``countersign: true``, for a party's
approvers. A change in force reloads the policy here and announces a new document generation: every replica
follows within a second, and viewings of users taken off the roster are cut.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from broker.admin.mous.roster import parties_of
from broker.admin.mous.rosterservice import RosterChange, RosterService
from broker.api.deps import ClientDep, PrincipalDep, ServicesDep, is_oversight_auditor
from broker.api.errordoc import raises
from broker.api.models_roster import Roster, RosterApprove, RosterPut, roster_json
from broker.api.services import Services
from broker.errors import (
    AuditUnavailable,
    DocumentError,
    InvalidRequest,
    MouStateConflict,
    PermissionDenied,
    StoreUnavailable,
    UnknownMou,
)
from broker.policy import Principal

log = logging.getLogger("camgate.roster")
router = APIRouter(prefix="/api/v1", tags=["mou administration"])
MouId = Annotated[str, Path(min_length=1, max_length=128, examples=["ncps-ncpd-video"])]


def rosters_of(services: Services) -> RosterService:
    if services.rosters is None:
        raise StoreUnavailable("MOU rosters are not kept here")
    return services.rosters


def _read(principal: Principal, services: Services, mou: str) -> dict[str, Any]:
    rosters = rosters_of(services)
    doc, state = rosters.state(mou)
    if principal.agency not in parties_of(doc) and not is_oversight_auditor(principal, services):
        raise PermissionDenied(f"agency {principal.agency!r} is not a party to MOU {mou!r}", reason="not_a_party")
    return roster_json(doc, state)


async def _applied(done: RosterChange, mou: str, principal: Principal, services: Services, client: str | None) -> None:
    if not done.enforced:
        return
    try:  # compiled into the policy: here now, on every replica at its next follow
        await services.reload("mou.roster", principal, client)
    except DocumentError as exc:  # the documents on disk no longer load (files): the reload is refused and recorded
        log.warning("roster of %s kept; it applies at the next reload that succeeds: %s", mou, exc.lines()[:3])
        return
    await run_in_threadpool(services.sessions.revalidate, services.guard.decide)  # cut who left the roster


@router.get(
    "/mous/{mou}/roster", response_model=Roster, responses=raises(UnknownMou, PermissionDenied, StoreUnavailable)
)
async def roster(mou: MouId, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    """The roster in force (who of ``required_for`` may use the MOU's grants), the revision awaiting approvals if
    any, and every revision with who changed it and whom it added and removed."""
    return await run_in_threadpool(_read, principal, services, mou)


@router.put(
    "/mous/{mou}/roster",
    response_model=Roster,
    responses=raises(UnknownMou, PermissionDenied, InvalidRequest, MouStateConflict, AuditUnavailable),
)
async def put_roster(
    mou: MouId, body: RosterPut, principal: PrincipalDep, services: ServicesDep, client: ClientDep
) -> dict[str, Any]:
    """Replace the roster with ``entries`` (a new revision; the same entries again change nothing). In force at
    once, or, where the MOU says ``countersign: true``, once an approver of every party approved its SHA-256."""
    rosters = rosters_of(services)
    raw = body.model_dump()
    done = await run_in_threadpool(rosters.put, principal, mou, raw, client)
    await _applied(done, mou, principal, services, client)
    return await run_in_threadpool(_read, principal, services, mou)


@router.post(
    "/mous/{mou}/roster/approve",
    response_model=Roster,
    responses=raises(UnknownMou, PermissionDenied, MouStateConflict, AuditUnavailable),
)
async def approve_roster(
    mou: MouId, body: RosterApprove, principal: PrincipalDep, services: ServicesDep, client: ClientDep
) -> dict[str, Any]:
    """Approve the pending roster revision whose SHA-256 is given (409 if it is not the pending one); with every
    party's approval it takes effect at once."""
    rosters = rosters_of(services)
    done = await run_in_threadpool(rosters.approve, principal, mou, body.sha256, client)
    await _applied(done, mou, principal, services, client)
    return await run_in_threadpool(_read, principal, services, mou)
