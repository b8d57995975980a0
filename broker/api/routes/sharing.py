"""What partner agencies may see of an agency's own cameras now, and under which clause: school IT's view.

Who may read it (deny by default): the caller's agency must own the sites, and the caller must be one of its
operators (settings ``admin.operator_roles``: school IT) or hold a role the agency's own MOUs name for it
(``emergency.declare``, ``end``, ``confirm.by``: a principal, a superintendent). Only that agency's sites and
cameras are listed; another agency's cameras never are. Auditors (unless also such staff) are refused: what was
shared is in the audit log they read, and the rules in ``GET /api/v1/mous``; this is the owner's live view.
Listing grants nothing and records nothing: every answer is the decision point's, for representative
principals (``broker/policy/sharing.py``), exactly as a real request would be decided now.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from broker.api.deps import PrincipalDep, ServicesDep, is_operator
from broker.api.errordoc import raises
from broker.api.models import Instant
from broker.api.refusals import refused
from broker.errors import PermissionDenied, StoreUnavailable
from broker.inventory.unclassified import unclassified
from broker.policy import Principal
from broker.policy.sharing import owner_roles
from broker.timeutil import format_instant

router = APIRouter(prefix="/api/v1", tags=["sharing"])
Reason = Literal[
    "allowed",
    "unknown_camera",
    "no_mou",
    "never_shared_zone",
    "outside_playback_window",
    "no_emergency",
    "outside_schedule",
    "no_matching_grant",
    "unclassified_camera",
    "mou_not_in_effect",
    "not_on_roster",
]
Attention = Literal["no_zone", "zone_not_in_mou", "missing"]
UNCLASSIFIED = frozenset({"no_zone", "zone_not_in_mou"})


class PartnerAnswer(BaseModel):
    """The decision point's answer now for a partner agency, an action and the roles it holds for."""

    agency: str = Field(description="The partner (recipient) agency")
    agency_name: str
    action: Literal["live", "snapshot", "playback", "export"]
    shared: bool = Field(description="Allowed now for these roles (playback/export: footage recorded just now)")
    reason: Reason = Field(description="`allowed`, or why not (the contract's reason code, section 4)")
    roles: list[str] = Field(description="The roles of the agency this answer holds for (those its grants name)")
    mou: str | None
    grant: str | None
    clause: str | None = Field(description="The MOU clause it is shared under, or that was tried")
    emergency: str | None = Field(description="The emergency an emergency grant shares it under now")


class SharedCamera(BaseModel):
    id: str
    name: str
    site: str
    site_name: str
    building: str | None
    zone: str | None
    unclassified: bool = Field(description="No MOU covering its site classifies its zone: shared with no one")
    attention: list[Attention] = Field(description="As GET /api/v1/inventory/unclassified: what school IT must do")
    missing_since: Instant | None = Field(description="When inventory sync found its system without it")
    partners: list[PartnerAnswer] = Field(description="Per partner agency and action; none: no MOU shares its site")


class SiteName(BaseModel):
    id: str
    name: str


class SharingPage(BaseModel):
    at: Instant = Field(description="The instant decided for")
    agency: str = Field(description="The caller's agency, whose sites these are")
    sites: list[SiteName] = Field(description="Every site of the agency (for a site filter)")
    cameras: list[SharedCamera] = Field(description="Unclassified first, then by site, building, zone and id")
    total: int
    offset: int
    limit: int


async def get_owner_staff(principal: PrincipalDep, services: ServicesDep, request: Request) -> Principal:
    named = owner_roles(services.catalog.mous.values(), principal.agency)
    if is_operator(principal, services) or not principal.roles.isdisjoint(named):
        return principal
    exc = PermissionDenied(
        "what partner agencies may see of an agency's cameras is for that agency's operators (school IT) and the "
        "roles its MOUs name for it (principals): ask your agency's administrator for one of those roles",
        reason="not_owner_staff",
    )
    await refused(request, "access.refused", exc, principal=principal)  # CJIS 5.4.1.1, counted per minute
    raise exc


OwnerStaffDep = Annotated[Principal, Depends(get_owner_staff)]


@router.get("/sharing", response_model=SharingPage, responses=raises(PermissionDenied, StoreUnavailable))
def sharing(
    principal: OwnerStaffDep,
    services: ServicesDep,
    site: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The caller's agency's cameras, each with what every partner agency may see of it now and under which
    clause; unclassified cameras (shared with no one until classified) first."""
    catalog = services.catalog  # read once: a reload may replace it
    index = catalog.index
    mine = index.sites_by_owner.get(principal.agency, [])
    attention = {cam.id: reasons for cam, reasons in unclassified(catalog)}
    agencies = {a.id: a.name for a in catalog.inventory.agencies}

    def order(cam: Any) -> tuple[Any, ...]:
        flagged = not UNCLASSIFIED.isdisjoint(attention.get(cam.id, ()))
        return (not flagged, index.sites[cam.site].name, cam.site, cam.building or "", cam.zone or "", cam.id)

    cams = sorted((c for c in catalog.inventory.cameras if c.site in mine and site in (None, c.site)), key=order)
    items = []
    for cam in cams[offset : offset + limit]:
        reasons = attention.get(cam.id, ())
        partners = [
            {
                "agency": s.agency,
                "agency_name": agencies.get(s.agency, s.agency),
                "action": s.action,
                "shared": s.shared,
                "reason": s.reason,
                "roles": list(s.roles),
                "mou": s.mou,
                "grant": s.grant,
                "clause": s.clause,
                "emergency": s.emergency,
            }
            for s in services.guard.sharing(catalog, cam)
        ]
        items.append(
            {
                "id": cam.id,
                "name": cam.name,
                "site": cam.site,
                "site_name": index.sites[cam.site].name,
                "building": cam.building,
                "zone": cam.zone,
                "unclassified": not UNCLASSIFIED.isdisjoint(reasons),
                "attention": list(reasons),
                "missing_since": format_instant(cam.missing_since),
                "partners": partners,
            }
        )
    return {
        "at": format_instant(services.clock.now()),
        "agency": principal.agency,
        "sites": [{"id": s, "name": index.sites[s].name} for s in sorted(mine, key=lambda s: index.sites[s].name)],
        "cameras": items,
        "total": len(cams),
        "offset": offset,
        "limit": limit,
    }
