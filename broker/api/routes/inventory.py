"""The inventory as school IT works on it: cameras to classify or check, for operators."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from broker.api.deps import OperatorDep, ServicesDep
from broker.api.errordoc import raises
from broker.api.models import Instant
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


class UnclassifiedList(BaseModel):
    cameras: list[UnclassifiedCamera]
    total: int


@router.get("/unclassified", response_model=UnclassifiedList, responses=raises(PermissionDenied))
async def list_unclassified(
    _: OperatorDep, services: ServicesDep, site: Filter = None, system: Filter = None
) -> dict[str, Any]:
    """Cameras no MOU shares until school IT classifies them, and cameras their system no longer lists: by site.

    School IT classifies a camera by giving it a ``zone`` (and building, location) in the inventory, then
    ``camgate reload``; a camera flagged missing is removed from the inventory by hand once it is gone for good.
    """
    items = [
        {"id": cam.id, "name": cam.name, "site": cam.site, "building": cam.building, "zone": cam.zone,
         "system": cam.system, "ref": cam.ref, "reasons": list(reasons),
         "discovered_at": format_instant(cam.discovered_at), "missing_since": format_instant(cam.missing_since)}
        for cam, reasons in unclassified(services.catalog)
        if site in (None, cam.site) and system in (None, cam.system)
    ]  # fmt: skip
    return {"cameras": items, "total": len(items)}
