"""Cameras: the list a principal may see, and the live / snapshot / segment routes of the proxy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from broker.api.deps import ClientDep, PrincipalDep, ServicesDep, get_client
from broker.api.security import query_token, signed_url
from broker.api.services import Services
from broker.audit import principal_fields

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])
CameraId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("")
def list_cameras(
    principal: PrincipalDep, services: ServicesDep, client: ClientDep,
    site: str | None = None, zone: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000, offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:  # fmt: skip
    """Cameras at sites the caller's agency has an MOU for, each with the current decision for ``live``."""
    catalog = services.catalog
    sites = catalog.visible_sites(principal.agency)
    cams = [
        c for c in catalog.inventory.cameras if c.site in sites and site in (None, c.site) and zone in (None, c.zone)
    ]
    page = cams[offset : offset + limit]
    items = []
    for cam in page:
        d = services.guard.decide(principal, cam.id, "live")
        base = f"{router.prefix}/{cam.id}"
        items.append({
            "id": cam.id, "name": cam.name, "site": cam.site, "building": cam.building, "zone": cam.zone,
            "location": cam.location.model_dump() if cam.location else None,
            "live": d.to_dict(),
            "urls": {"live": f"{base}/live.m3u8", "snapshot": f"{base}/snapshot.jpg"},
        })  # fmt: skip
    # One record for the listing: it shows what would be decided and grants nothing.
    services.audit.append(
        "cameras.list", **principal_fields(principal), client=client,
        details={"count": len(page), "total": len(cams), "site": site, "zone": zone},
    )  # fmt: skip
    return {"cameras": items, "total": len(cams), "offset": offset, "limit": limit}


@router.get("/{camera_id}/live.m3u8")
@query_token
async def live_playlist(
    camera_id: CameraId, principal: PrincipalDep, services: ServicesDep, client: ClientDep
) -> Response:
    served = await services.proxy.live_playlist(principal, camera_id, client)
    return Response(served.body, media_type=served.content_type, headers=NO_STORE)


@router.get("/{camera_id}/snapshot.jpg")
@query_token
async def snapshot(camera_id: CameraId, principal: PrincipalDep, services: ServicesDep, client: ClientDep) -> Response:
    served = await services.proxy.snapshot(principal, camera_id, client)
    return Response(served.body, media_type=served.content_type, headers=NO_STORE)


@router.get("/{camera_id}/hls/{token}/{name}")
@signed_url
async def stream_resource(request: Request) -> Response:
    """A segment or sub-playlist named by a signed URL from a rewritten playlist.

    Hot path, kept free of dependency injection and parameter conversion (they cost more than the checks
    themselves): the router has already matched ``camera_id``, ``token`` and ``name`` as plain strings. The
    proxy checks the sealed token (which binds camera, viewer, grant and upstream reference), the name
    against the signed reference, and asks the PDP again, on every request.
    """
    services: Services = request.app.state.services
    params = request.path_params
    client = await get_client(request, services)
    served = await services.proxy.resource(params["camera_id"], params["token"], params["name"], client)
    return Response(served.body, media_type=served.content_type, headers=NO_STORE)
