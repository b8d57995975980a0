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
from broker.inventory.unclassified import unclassified
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


class UnclassifiedList(BaseModel):
    cameras: list[UnclassifiedCamera]
    total: int
    warnings: list[DocumentWarningModel] = Field(
        description="Document warnings (as camgate reload prints them) for the cameras and MOUs listed by the filter"
    )


@router.get("/unclassified", response_model=UnclassifiedList, responses=raises(PermissionDenied))
async def list_unclassified(
    _: OperatorDep, services: ServicesDep, site: Filter = None, system: Filter = None
) -> dict[str, Any]:
    """Cameras no MOU shares until school IT classifies them, and cameras their system no longer lists: by site.

    School IT classifies a camera by giving it a ``zone`` (and building, location) in the inventory, then
    ``camgate reload``; a camera flagged missing is removed from the inventory by hand once it is gone for good.
    """
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
        if site in (None, cam.site) and system in (None, cam.system)
    ]
    return {"cameras": items, "total": len(items), "warnings": _warnings(services, site, system)}


def _warnings(services: Services, site: str | None, system: str | None) -> list[dict[str, Any]]:
    """The catalog's document warnings now, for the cameras (or the MOUs covering the site) the filter names."""
    catalog = services.catalog
    out: list[dict[str, Any]] = []
    for w in catalog.warnings(services.clock.now()):
        if w.code == "unknown_zone":
            cam = catalog.camera(w.subject)
            if cam is None or site not in (None, cam.site) or system not in (None, cam.system):
                continue
        elif site is not None and site not in catalog.sites_of(catalog.mous[w.subject]):
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
