"""Liveness and readiness probes: the only routes open without credentials."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from broker.api.deps import ServicesDep
from broker.api.models import Health, Readiness
from broker.api.security import public

router = APIRouter(tags=["health"])
NOT_READY: dict[int | str, dict[str, Any]] = {503: {"model": Readiness, "description": "The store is not reachable"}}


@router.get("/healthz", response_model=Health)
@public
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses=NOT_READY)
@public
async def readyz(services: ServicesDep) -> JSONResponse:
    if await run_in_threadpool(services.store.ping):
        return JSONResponse({"status": "ready", "store": services.store.dialect_name})
    return JSONResponse({"status": "unavailable", "store": services.store.dialect_name}, status_code=503)
