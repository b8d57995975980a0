"""Liveness and readiness probes: the only routes open without credentials."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from broker.api.deps import ServicesDep
from broker.api.security import public

router = APIRouter(tags=["health"])


@router.get("/healthz")
@public
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
@public
async def readyz(services: ServicesDep) -> JSONResponse:
    """Ready when the store answers; with the document generation this replica serves (and its digest)."""
    served = services.live.current  # one read: generation and digest of the same catalog
    body = {"store": services.store.dialect_name, "generation": served.generation, "documents": served.catalog.digest}
    if await run_in_threadpool(services.store.ping):
        return JSONResponse({"status": "ready"} | body)
    return JSONResponse({"status": "unavailable"} | body, status_code=503)
