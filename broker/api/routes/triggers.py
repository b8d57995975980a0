"""Signed webhooks: triggers (panic buttons, alarm panels, CAD systems) and mobile camera positions.

Both routes are opened with ``@signed_webhook``: no bearer token, the Standard Webhooks signature instead,
verified over the raw body before any of it is parsed (an unsigned or badly signed request is 401). The headers
are checked before a byte of the body is read (no signature, unknown source, malformed, over-long or stale id or
timestamp: 401). A trigger body over its limit is not kept, but its signature is checked as it is read: 401 when
forged; past 16 MiB, or a positions body past 256 KiB, it cannot be verified: 401 ``too_large_unverified``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from broker.admin.positions import MAX_POSITIONS_BODY, Reports
from broker.admin.triggers import MAX_BODY, MAX_VERIFIED_BODY, TriggerEvent, TriggerService
from broker.api.deps import ClientDep, ServicesDep
from broker.api.errordoc import raises
from broker.api.models import PositionsAccepted, TriggerOutcome
from broker.api.security import signed_webhook
from broker.errors import (
    AuditUnavailable,
    Conflict,
    InvalidRequest,
    PermissionDenied,
    RateLimited,
    SignatureError,
    StoreUnavailable,
)
from broker.identity.webhooks import StreamedSignature

router = APIRouter(prefix="/api/v1", tags=["triggers"])
SourceId = Annotated[str, Path(min_length=1, max_length=64, examples=["ncps"])]
SIGNED_HEADERS = [
    {"name": n, "in": "header", "required": True, "schema": {"type": "string"}, "description": d}
    for n, d in (
        ("webhook-id", "Unique per event; a redelivery reuses it"),
        ("webhook-timestamp", "Unix seconds; refused if more than 5 minutes off"),
    )
]


async def _read(request: Request, limit: int) -> bytes:
    """The raw body, at most ``limit + 1`` bytes read (the handler refuses a larger one, signed or not)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
    return b"".join(chunks)[: limit + 1]


async def _read_event(
    request: Request, triggers: TriggerService, source: str
) -> tuple[bytes, StreamedSignature | None]:
    """At most ``MAX_BODY + 1`` bytes of the body kept; past MAX_BODY the rest is only fed to the signature check
    (constant memory), up to MAX_VERIFIED_BODY; nothing more is read once the headers alone refuse it."""
    kept: list[bytes] = []
    size = 0
    streamed: StreamedSignature | None = None
    async for chunk in request.stream():
        size += len(chunk)
        if streamed is not None:
            streamed.update(chunk)
        else:
            kept.append(chunk)
            if size > MAX_BODY:
                streamed = triggers.streamed(source, request.headers)
                if streamed is None:
                    break
                for part in kept:
                    streamed.update(part)
                kept = [b"".join(kept)[: MAX_BODY + 1]]
        if size > MAX_VERIFIED_BODY:
            streamed = None
            break
    return b"".join(kept)[: MAX_BODY + 1], streamed


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with every ``$ref`` to its ``$defs`` replaced by the definition (these models are not recursive)."""
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _body(adapter: TypeAdapter[Any]) -> dict[str, Any]:
    """The documented body: the handler reads the raw bytes itself (the signature is over them)."""
    schema = adapter.json_schema()
    schema = _inline(schema, schema.get("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.post(
    "/triggers/{source}",
    response_model=TriggerOutcome,
    responses=raises(
        SignatureError,
        PermissionDenied,
        InvalidRequest,
        Conflict,
        RateLimited,
        AuditUnavailable,
        StoreUnavailable,
    ),
    openapi_extra=_body(TypeAdapter(TriggerEvent)) | {"parameters": SIGNED_HEADERS},
)
@signed_webhook
async def trigger(source: SourceId, request: Request, services: ServicesDep, client: ClientDep) -> Any:
    """Declare, extend or end ("all clear") an emergency from a signed event of ``source``."""
    assert services.triggers is not None
    await run_in_threadpool(services.triggers.precheck, source, request.headers, client)  # before the body
    body, streamed = await _read_event(request, services.triggers, source)
    status, answer = await run_in_threadpool(services.triggers.handle, source, request.headers, body, client, streamed)
    return JSONResponse(answer, status_code=status)


@router.post(
    "/positions",
    response_model=PositionsAccepted,
    responses=raises(SignatureError, InvalidRequest, AuditUnavailable),
    openapi_extra=_body(Reports) | {"parameters": SIGNED_HEADERS},
)
@signed_webhook
async def positions(request: Request, services: ServicesDep, client: ClientDep) -> Any:
    """Where mobile cameras are: ``{camera, lat, lon, at}`` or a list of them."""
    assert services.positions is not None
    await run_in_threadpool(services.positions.precheck, request.headers, client)  # before the body
    body = await _read(request, MAX_POSITIONS_BODY)
    return await run_in_threadpool(services.positions.handle, request.headers, body, services.catalog, client)
