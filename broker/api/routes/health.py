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
    if await run_in_threadpool(services.store.ping):
        return JSONResponse({"status": "ready", "store": services.store.dialect_name})
    return JSONResponse({"status": "unavailable", "store": services.store.dialect_name}, status_code=503)
