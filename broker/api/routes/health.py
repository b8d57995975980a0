"""Liveness and readiness probes: the only routes open without credentials."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from broker.api.deps import ServicesDep
from broker.api.models import Health, Readiness
from broker.api.security import public
from broker.api.services import Services
from broker.private import data_dir_files, looser_than_private, sqlite_files

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
    must not send viewers here. With the document generation this replica serves (and its digest), and
    ``warnings``: files and folders other users may read (still ready)."""
    served = services.live.current  # one read: generation and digest of the same catalog
    audit = services.audit.health.state
    body = {
        "store": services.store.dialect_name,
        "generation": served.generation,
        "documents": served.catalog.digest,
        "audit": audit.to_dict(),
        "warnings": permission_warnings(services),
    }
    if audit.writable and await run_in_threadpool(services.store.ping):
        return JSONResponse({"status": "ready"} | body)
    return JSONResponse({"status": "unavailable"} | body, status_code=503, headers={"Retry-After": "5"})


def permission_warnings(services: Services) -> list[str]:
    """The data folder, the SQLite database's folder and files, and the keys and secrets camgate keeps, where
    they are open to other users (``broker.private``): a warning, not unreadiness (the broker still works)."""
    settings = services.settings
    folders = [settings.data_dir]
    files = data_dir_files(settings.data_dir)
    if (database := services.store.database_path) is not None:
        folders.append(database.parent)
        files.extend(sqlite_files(database))
    if settings.audit.checkpoints.key_file is not None:
        files.append(settings.audit.checkpoints.key_file)
    if services.keys is not None and services.keys.witness_file is not None:
        files.append(services.keys.witness_file)
    unique = list(dict.fromkeys(p.absolute() for p in folders)), list(dict.fromkeys(p.absolute() for p in files))
    return looser_than_private(*unique)
