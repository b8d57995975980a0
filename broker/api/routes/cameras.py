"""Cameras: the list a principal may see, and the live / playback / snapshot / segment routes of the proxy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from broker.api.cors import embeddable
from broker.api.deps import ClientDep, PrincipalDep, ServicesDep, get_client
from broker.api.errordoc import raises
from broker.api.models import CameraPage, Rfc3339
from broker.api.refusals import refused
from broker.api.security import credential_expiry, query_token, signed_url
from broker.api.services import Services
from broker.audit import principal_fields
from broker.enforcement.proxy import CONTENT_TYPES, PLAYLIST
from broker.errors import (
    AccessDenied,
    AuditUnavailable,
    GatewayBusy,
    HostilePlaylist,
    InvalidRequest,
    LiveUnsupported,
    NoRecording,
    RecordingUnsupported,
    SnapshotUnsupported,
    StoreUnavailable,
    StreamTokenError,
    UnknownCamera,
    UpstreamAuth,
    UpstreamError,
    UpstreamTimeout,
)
from broker.policy import Window

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])
CAMERA_ID = r"^[a-z0-9][a-z0-9._-]{0,63}$"
CameraId = Annotated[str, Path(min_length=1, max_length=64, pattern=CAMERA_ID, examples=["saxe-ext-01"])]
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
NO_STORE_DOC = {"Cache-Control": {"required": True, "schema": {"type": "string", "const": "no-store"}}}
JPEG = "image/jpeg"
# What a camera's video answers may fail with: the decision, the camera system, the audit log (fail closed), and
# for RTSP cameras the gateway's process limit (503 gateway_busy with Retry-After).
VIDEO_ERRORS = (
    AccessDenied,
    UnknownCamera,
    UpstreamError,
    HostilePlaylist,
    UpstreamAuth,
    UpstreamTimeout,
    AuditUnavailable,
    StoreUnavailable,
    GatewayBusy,
)


def media(*types: str) -> dict[int | str, dict[str, Any]]:
    """The 200 answer of a route whose body is not JSON: its real media types, bytes, no caching."""
    content = {t: {"schema": {"type": "string", "format": "binary"}} for t in types}
    return {200: {"description": "The media, from the camera system", "content": content, "headers": NO_STORE_DOC}}


class PlaylistResponse(Response):
    media_type = PLAYLIST


class JpegResponse(Response):
    media_type = JPEG


@router.get("", response_model=CameraPage, responses=raises(AuditUnavailable, StoreUnavailable))
@embeddable
def list_cameras(
    principal: PrincipalDep,
    services: ServicesDep,
    client: ClientDep,
    site: str | None = None,
    zone: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
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
        items.append(
            {
                "id": cam.id,
                "name": cam.name,
                "site": cam.site,
                "building": cam.building,
                "zone": cam.zone,
                "location": cam.location.model_dump() if cam.location else None,
                "live": d.to_dict(),
                "urls": {
                    "live": f"{base}/live.m3u8",
                    "snapshot": f"{base}/snapshot.jpg",
                    "playback": f"{base}/playback.m3u8",
                },
            }
        )
    # One record for the listing: it shows what would be decided and grants nothing.
    services.audit.append(
        "cameras.list",
        **principal_fields(principal),
        client=client,
        details={"count": len(page), "total": len(cams), "site": site, "zone": zone},
    )
    return {"cameras": items, "total": len(cams), "offset": offset, "limit": limit}


@router.get(
    "/{camera_id}/live.m3u8",
    response_class=PlaylistResponse,
    responses=media(PLAYLIST) | raises(*VIDEO_ERRORS, LiveUnsupported),
)
@query_token
@embeddable
async def live_playlist(
    camera_id: CameraId, principal: PrincipalDep, services: ServicesDep, client: ClientDep, request: Request
) -> Response:
    served = await services.proxy.live_playlist(principal, camera_id, client, credential_expiry(request))
    return Response(served.body, media_type=served.content_type, headers=NO_STORE)


def playback_window(start: datetime, end: datetime | None, now: datetime) -> Window:
    """The footage window ``[start, end)`` of a playback request: ``start < end <= now`` (contract §4)."""
    end = now if end is None else end
    if end > now:
        raise InvalidRequest("end: must not be in the future (footage is recorded, not yet made)", field="end")
    if start >= end:
        raise InvalidRequest("start: must be before end", field="start")
    return Window(start, end)


@router.get(
    "/{camera_id}/playback.m3u8",
    response_class=PlaylistResponse,
    responses=media(PLAYLIST) | raises(*VIDEO_ERRORS, InvalidRequest, NoRecording, RecordingUnsupported),
)
@query_token
@embeddable
async def playback_playlist(
    camera_id: CameraId,
    principal: PrincipalDep,
    services: ServicesDep,
    client: ClientDep,
    request: Request,
    start: Annotated[Rfc3339, Query(description="Footage from (RFC 3339 with offset), inclusive")],
    end: Annotated[Rfc3339 | None, Query(description="Footage until (RFC 3339), exclusive; default now")] = None,
) -> Response:
    """Recorded footage as a VOD HLS playlist: the segments that start in ``[start, end)``, decided for that
    window (contract §4: an always grant's ``max_age``, an emergency grant's ``from``), each URL signed."""
    window = playback_window(start, end, services.clock.now())
    served = await services.proxy.playback_playlist(principal, camera_id, window, client, credential_expiry(request))
    return Response(served.body, media_type=served.content_type, headers=NO_STORE)


@router.get(
    "/{camera_id}/snapshot.jpg",
    response_class=JpegResponse,
    responses=media(JPEG) | raises(*VIDEO_ERRORS, SnapshotUnsupported),
)
@query_token
@embeddable
async def snapshot(camera_id: CameraId, principal: PrincipalDep, services: ServicesDep, client: ClientDep) -> Response:
    served = await services.proxy.snapshot(principal, camera_id, client)
    return Response(served.body, media_type=served.content_type, headers=NO_STORE)


def _query_token(query: bytes) -> str:
    """The ``t`` of a signed segment URL's query ("" when absent: refused as a bad stream token)."""
    for part in query.split(b"&"):
        if part.startswith(b"t="):
            return part[2:].decode("ascii", "replace")
    return ""


# Documented by hand (openapi_extra), not declared: declared parameters would be converted on every request.
CAMERA_PARAM = {
    "name": "camera_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": CAMERA_ID},
}
SEGMENT_PARAMS = [
    CAMERA_PARAM,
    {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "The file name the token was signed for",
        "schema": {"type": "string", "minLength": 1},
    },
    {
        "name": "t",
        "in": "query",
        "required": True,
        "description": "The signed stream token from the playlist",
        "schema": {"type": "string", "minLength": 1},
    },
]


@router.get(
    "/{camera_id}/hls/{name}",
    response_class=Response,
    openapi_extra={"parameters": SEGMENT_PARAMS},
    responses=media(*sorted(set(CONTENT_TYPES.values()) - {JPEG}))
    | raises(*VIDEO_ERRORS, StreamTokenError, InvalidRequest),
)
@signed_url
@embeddable
async def stream_resource(request: Request) -> Response:
    """A segment or sub-playlist named by a signed URL from a rewritten playlist.

    Hot path, kept free of dependency injection and parameter conversion (they cost more than the checks
    themselves): the router has already matched ``camera_id`` and ``name`` as plain strings, and the token is
    the query's ``t``. The proxy checks the sealed token (which binds camera, viewer, grant and upstream
    reference), the name against the signed reference, and asks the PDP again, on every request.
    """
    services: Services = request.app.state.services
    params = request.path_params
    client = await get_client(request, services)
    token = _query_token(request.scope["query_string"])
    try:
        served = await services.proxy.resource(params["camera_id"], token, params["name"], client)
    except StreamTokenError as exc:  # CJIS 5.4.1.1: counted per client, reason and minute (stream.refused)
        await refused(request, "stream.refused", exc)
        raise
    return Response(served.body, media_type=served.content_type, headers=NO_STORE)
