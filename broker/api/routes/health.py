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
NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"model": Readiness, "description": "The store is not reachable, or the audit log cannot take records"}
}


@router.get("/healthz", response_model=Health)
@public
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses=NOT_READY)
@public
async def readyz(services: ServicesDep) -> JSONResponse:
    """Ready when the store answers and the audit log can take records (the last append or housekeeping probe, a
    real committed write, succeeded and the disk reserve holds): nothing is served otherwise, so a load balancer
    must not send viewers here. With the document generation this replica serves (and its digest)."""
    served = services.live.current  # one read: generation and digest of the same catalog
    audit = services.audit.health.state
    body = {
        "store": services.store.dialect_name,
        "generation": served.generation,
        "documents": served.catalog.digest,
        "audit": audit.to_dict(),
    }
    if audit.writable and await run_in_threadpool(services.store.ping):
        return JSONResponse({"status": "ready"} | body)
    return JSONResponse({"status": "unavailable"} | body, status_code=503, headers={"Retry-After": "5"})
