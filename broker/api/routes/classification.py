"""``PUT /api/v1/cameras/{camera_id}/classification``: school IT gives a camera its site, building, zone, location.

For operators (settings ``admin.operator_roles``: school IT) of the agency that runs the camera (its site or its
camera system). The change is validated as a reload would validate the inventory, recorded (``camera.classify``),
kept (the inventory file edited in place, or the store when it is authoritative: :mod:`broker.admin.classify`) and
reloaded at once, so the very next decision uses it here and on every replica after its next tick (about 1 s).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from broker.admin.classify import Classified
from broker.api.deps import ClientDep, OperatorDep, ServicesDep
from broker.api.errordoc import raises
from broker.api.routes.cameras import CameraId
from broker.errors import (
    AuditUnavailable,
    Conflict,
    DocumentError,
    InvalidRequest,
    PermissionDenied,
    StoreUnavailable,
    UnknownCamera,
)
from broker.inventory.classification import Classification

router = APIRouter(prefix="/api/v1/cameras", tags=["inventory"])
IDENT = r"^[a-z0-9][a-z0-9._-]{0,63}$"
# The demo's saxe-ext-01 as it is (the camera_id example): the examples phase classifies it as it already is.
EXAMPLE: dict[str, Any] = {
    "site": "ncps-saxe",
    "building": "main",
    "zone": "exterior",
    "location": {"lat": 41.14885, "lon": -73.49571},
}


class LatLon(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90, description="Latitude, degrees (WGS 84)")
    lon: float = Field(ge=-180, le=180, description="Longitude, degrees (WGS 84)")


class ClassificationBody(BaseModel):
    """The camera's place. Every field is set as given: a building or location left out (or null) is removed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})
    site: str = Field(min_length=1, max_length=64, pattern=IDENT, description="One of your agency's sites (its id)")
    building: str | None = Field(
        None, min_length=1, max_length=128, description="A building the inventory names at that site"
    )
    zone: str = Field(
        min_length=1, max_length=64, description="A zone an MOU covering the site defines (never-shared zones too)"
    )
    location: LatLon | None = None


class ClassificationOut(BaseModel):
    site: str
    building: str | None
    zone: str | None
    location: LatLon | None


class ClassificationResult(BaseModel):
    camera: str
    before: ClassificationOut
    after: ClassificationOut
    changed: bool = Field(description="False: the camera was classified so already (nothing recorded)")
    inventory_sha256: str = Field(description="SHA-256 of the inventory served after the change")
    kept: str = Field(description='"files": the inventory file was edited; "store": the store keeps it')
    file_edited: bool = Field(description="The inventory file (of this replica) was edited in place")
    generation: int = Field(description="The document generation serving it")


def result_json(done: Classified, generation: int) -> dict[str, Any]:
    return {
        "camera": done.camera,
        "before": done.before.to_dict(),
        "after": done.after.to_dict(),
        "changed": done.changed,
        "inventory_sha256": done.inventory_sha256,
        "kept": done.kept,
        "file_edited": done.file_edited,
        "generation": generation,
    }


@router.put(
    "/{camera_id}/classification",
    response_model=ClassificationResult,
    responses=raises(
        UnknownCamera, PermissionDenied, InvalidRequest, DocumentError, Conflict, AuditUnavailable, StoreUnavailable
    ),
)
async def classify(
    camera_id: CameraId, body: ClassificationBody, operator: OperatorDep, services: ServicesDep, client: ClientDep
) -> dict[str, Any]:
    """Classify a camera (school IT): its site, building, zone and location. A zone the site's MOUs do not define is
    a 422 naming the zones they do; the whole inventory with the change must validate as for a reload."""
    classifier = services.classifier
    if classifier is None:
        raise StoreUnavailable("camera classification is not running")
    loc = (body.location.lat, body.location.lon) if body.location is not None else None
    new = Classification(body.site, body.building, body.zone, loc)
    done = await run_in_threadpool(classifier.classify, operator, camera_id, new, client)
    if done.changed:
        await services.reload("camera.classify", operator, client)  # the next decision, on every replica
    return result_json(done, services.live.generation)
