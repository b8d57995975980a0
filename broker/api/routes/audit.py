"""The audit log, for auditors: filtered, paginated records and chain verification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from broker.api.deps import AuditorDep, ServicesDep
from broker.errors import InvalidRequest

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("")
def list_records(
    _: AuditorDep, services: ServicesDep,
    since: datetime | None = None, until: datetime | None = None, principal: str | None = None,
    camera: str | None = None, emergency: str | None = None, decision: Literal["allow", "deny"] | None = None,
    kind: str | None = None, after: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:  # fmt: skip
    for name, value in (("since", since), ("until", until)):
        if value is not None and value.utcoffset() is None:
            raise InvalidRequest(f"{name} needs an offset (e.g. 2026-09-14T13:00:00Z)", field=name)
    records, cursor = services.audit.query(
        since=since, until=until, principal=principal, camera=camera, emergency=emergency, decision=decision,
        kind=kind, after_seq=after, limit=limit,
    )  # fmt: skip
    return {"records": [r.to_dict() for r in records], "next": cursor}


@router.get("/verify")
async def verify(_: AuditorDep, services: ServicesDep) -> dict[str, Any]:
    result = await run_in_threadpool(services.audit.verify)
    return result.to_dict()
