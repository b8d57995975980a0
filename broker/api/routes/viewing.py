"""Viewing URLs (``broker/enforcement/viewing.py``): a short-lived, camera-bound URL instead of ``?access_token=``.

``POST /api/v1/cameras/{id}/viewing-url`` needs a bearer token (or the console session, with its CSRF token),
like every route. ``GET /api/v1/cameras/{id}/view.m3u8?v=`` is opened explicitly (``@signed_url``): the signed
viewing token in its query is the credential, checked by the handler, and the viewer is decided again.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from broker.api.cors import embeddable
from broker.api.deps import ClientDep, PrincipalDep, ServicesDep, get_client
from broker.api.errordoc import raises
from broker.api.refusals import refused
from broker.api.routes.cameras import CAMERA_PARAM, NO_STORE, VIDEO_ERRORS, CameraId, PlaylistResponse, media
from broker.api.security import credential_expiry, signed_url
from broker.api.services import Services
from broker.enforcement.proxy import PLAYLIST
from broker.enforcement.viewing import issue_viewing_url, open_viewing_url
from broker.errors import (
    AccessDenied,
    AuditUnavailable,
    LiveUnsupported,
    StoreUnavailable,
    StreamTokenError,
    UnknownCamera,
)

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])


class ViewingUrlModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(description="`/api/v1/cameras/{id}/view.m3u8?v=…`: give it to a player that cannot send headers")
    expires_at: datetime = Field(description="Open it before this (streams.viewing_url_seconds after now)")
    session_until: datetime = Field(description="Its stream URLs end then at the latest: the credential's expiry")


@router.post(
    "/{camera_id}/viewing-url",
    status_code=201,
    response_model=ViewingUrlModel,
    responses=raises(AccessDenied, UnknownCamera, AuditUnavailable, StoreUnavailable),
)
@embeddable
async def viewing_url(
    camera_id: CameraId, principal: PrincipalDep, services: ServicesDep, client: ClientDep, request: Request
) -> Response:
    """A URL that plays the camera's live video without a bearer token in it: decided now (``live``) and recorded
    (``viewing_url.issued``); to be opened within ``streams.viewing_url_seconds``, then decided on every request."""
    issued = await run_in_threadpool(
        issue_viewing_url, services.proxy, principal, camera_id, client, credential_expiry(request)
    )
    body = ViewingUrlModel(url=issued.url, expires_at=issued.expires_at, session_until=issued.session_until)
    return Response(body.model_dump_json(), status_code=201, media_type="application/json", headers=NO_STORE)


VIEW_PARAMS = [
    CAMERA_PARAM,
    {
        "name": "v",
        "in": "query",
        "required": True,
        "description": "The signed token of a viewing URL",
        "schema": {"type": "string", "minLength": 1},
    },
]


@router.get(
    "/{camera_id}/view.m3u8",
    response_class=PlaylistResponse,
    openapi_extra={"parameters": VIEW_PARAMS},
    responses=media(PLAYLIST) | raises(*VIDEO_ERRORS, LiveUnsupported, StreamTokenError),
)
@signed_url
@embeddable
async def view_playlist(request: Request) -> Response:
    """A viewing URL opened: a master playlist of one variant, the camera's live playlist, whose URL lives as long
    as the credential that asked for the viewing URL and is decided on every reload."""
    services: Services = request.app.state.services
    client = await get_client(request, services)
    token = request.query_params.get("v", "")
    try:
        served = await open_viewing_url(services.proxy, request.path_params["camera_id"], token, client)
    except StreamTokenError as exc:  # CJIS 5.4.1.1: counted per client, reason and minute (stream.refused)
        await refused(request, "stream.refused", exc)
        raise
    return Response(served.body, media_type=served.content_type, headers=NO_STORE)
