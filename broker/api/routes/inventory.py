"""The inventory as school IT works on it: cameras to classify or check, for operators."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from broker.api.deps import OperatorDep, ServicesDep
from broker.api.errordoc import raises
from broker.api.models import Instant
from broker.api.services import Services
from broker.errors import PermissionDenied
from broker.inventory.catalog import Catalog
from broker.inventory.unclassified import classified_zones, unclassified
from broker.policy.types import Principal
from broker.timeutil import format_instant

router = APIRouter(prefix="/api/v1/inventory", tags=["inventory"])
Filter = Annotated[str | None, Query(max_length=64)]


class UnclassifiedCamera(BaseModel):
    id: str
    name: str
    site: str
    building: str | None
    zone: str | None
    system: str | None
    ref: str | None = Field(description="The camera's reference in its system")
    reasons: list[Literal["no_zone", "zone_not_in_mou", "missing"]] = Field(
        description="no_zone: no zone yet; zone_not_in_mou: no MOU covering its site classifies its zone (both "
        "deny `unclassified_camera`, contract §4); missing: its system no longer lists it (missing_since)"
    )
    discovered_at: Instant | None = Field(description="When inventory sync found it and added it")
    missing_since: Instant | None = Field(description="When inventory sync found its system without it")


class DocumentWarningModel(BaseModel):
    """A mistake in the documents that loads but shares less than meant (contract section 2, Warnings)."""

    code: Literal["unknown_zone", "mou_expired", "mou_not_yet"] = Field(
        description="unknown_zone: a camera's zone no MOU covering its site defines; mou_expired / mou_not_yet: "
        "an MOU out of force today (every request under it is refused mou_not_in_effect)"
    )
    subject: str = Field(description="The camera's id (unknown_zone) or the MOU's")
    document: str = Field(description="The document's file name")
    line: int = Field(description="The line in that document")
    path: str = Field(description="The field, e.g. cameras.7.zone or expires")
    message: str = Field(description="What is wrong and what to do")


class ZoneChoice(BaseModel):
    id: str
    never: bool = Field(description="Never shared by this MOU (contract §2 `never`): classified, shared with no one")


class SiteChoice(BaseModel):
    """What a camera may be classified into at one of the caller's agency's sites (PUT .../classification)."""

    id: str
    name: str
    buildings: list[str] = Field(description="The buildings the inventory names at the site")
    zones: list[ZoneChoice] = Field(description="The zones the MOUs covering the site define")


class UnclassifiedList(BaseModel):
    cameras: list[UnclassifiedCamera]
    total: int
    sites: list[SiteChoice] = Field(
        default_factory=list, description="The caller's agency's sites with their buildings and defined zones"
    )
    warnings: list[DocumentWarningModel] = Field(
        description="Document warnings (as camgate reload prints them) for the cameras and MOUs listed by the filter"
    )


@router.get("/unclassified", response_model=UnclassifiedList, responses=raises(PermissionDenied))
async def list_unclassified(
    operator: OperatorDep, services: ServicesDep, site: Filter = None, system: Filter = None
) -> dict[str, Any]:
    """Cameras no MOU shares until school IT classifies them, and cameras their system no longer lists: by site.

    School IT classifies a camera with ``PUT /api/v1/cameras/{id}/classification`` (``sites``: what each of the
    agency's sites offers: its buildings and the zones its MOUs define), or in the inventory and ``camgate
    reload``; a camera flagged missing is removed from the inventory by hand once it is gone for good.
    Only the caller's agency's: cameras at its sites or on its systems, warnings about those and about the MOUs
    it is a party to (as ``GET /api/v1/systems``; least privilege, NIST SP 800-53 AC-6).
    """
    mine = _scope(services, operator)
    items = [
        {
            "id": cam.id,
            "name": cam.name,
            "site": cam.site,
            "building": cam.building,
            "zone": cam.zone,
            "system": cam.system,
            "ref": cam.ref,
            "reasons": list(reasons),
            "discovered_at": format_instant(cam.discovered_at),
            "missing_since": format_instant(cam.missing_since),
        }
        for cam, reasons in unclassified(services.catalog)
        if cam.id in mine and site in (None, cam.site) and system in (None, cam.system)
    ]
    return {
        "cameras": items,
        "total": len(items),
        "warnings": _warnings(services, operator, mine, site, system),
        "sites": site_choices(services.catalog, operator.agency),
    }


def site_choices(catalog: Catalog, agency: str) -> list[dict[str, Any]]:
    """The agency's sites, each with its buildings and the zones its MOUs define (never zones marked)."""
    index = catalog.index
    never: dict[str, set[str]] = {}
    for mou in catalog.mous.values():
        for site in catalog.sites_of(mou):
            never.setdefault(site, set()).update(mou.never_zones)
    zones = classified_zones(catalog)
    out = []
    for site in sorted(index.sites_by_owner.get(agency, []), key=lambda s: index.sites[s].name):
        defined = [{"id": z, "never": z in never.get(site, ())} for z in sorted(zones.get(site, ()))]
        name, buildings = index.sites[site].name, sorted(catalog.buildings(site))
        out.append({"id": site, "name": name, "buildings": buildings, "zones": defined})
    return out


def _scope(services: Services, operator: Principal) -> frozenset[str]:
    """The ids of the cameras an operator's agency runs: at its sites, or on its camera systems."""
    inventory = services.catalog.inventory
    sites = frozenset(services.catalog.index.sites_by_owner.get(operator.agency, ()))
    systems = {s.id for s in inventory.systems if s.owner == operator.agency}
    return frozenset(c.id for c in inventory.cameras if c.site in sites or c.system in systems)


def _warnings(
    services: Services, operator: Principal, mine: frozenset[str], site: str | None, system: str | None
) -> list[dict[str, Any]]:
    """The catalog's document warnings now, for the cameras (or the MOUs covering the site) the filter names,
    within the operator's scope: its agency's cameras, the MOUs its agency is a party to."""
    catalog = services.catalog
    out: list[dict[str, Any]] = []
    for w in catalog.warnings(services.clock.now()):
        if w.code == "unknown_zone":
            cam = catalog.camera(w.subject)
            if cam is None or cam.id not in mine or site not in (None, cam.site) or system not in (None, cam.system):
                continue
        else:
            mou = catalog.mous[w.subject]
            if operator.agency not in (mou.parties.owner, *mou.parties.recipients):
                continue
            if site is not None and site not in catalog.sites_of(mou):
                continue
        out.append(
            {
                "code": w.code,
                "subject": w.subject,
                "document": Path(w.file).name,
                "line": w.line,
                "path": w.path,
                "message": w.message,
            }
        )
    return out
