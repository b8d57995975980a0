"""The audit log, for auditors: filtered, paginated records and chain verification."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from broker.api.deps import AuditorDep, ServicesDep, audit_scope
from broker.api.errordoc import raises
from broker.api.models import AuditPage, ChainCheck, Rfc3339
from broker.audit.bindings import bindings_report, with_bindings
from broker.errors import AuditUnavailable, InvalidRequest, PermissionDenied

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
SEQ_MAX = 2**63 - 1  # a record's seq is a 64-bit SQL integer (SQLite, PostgreSQL BIGINT): no cursor is larger


@router.get("", response_model=AuditPage, responses=raises(PermissionDenied, InvalidRequest, AuditUnavailable))
def list_records(
    auditor: AuditorDep,
    services: ServicesDep,
    since: Rfc3339 | None = None,
    until: Rfc3339 | None = None,
    principal: str | None = None,
    camera: str | None = None,
    emergency: str | None = None,
    decision: Literal["allow", "deny"] | None = None,
    kind: str | None = None,
    after: Annotated[int | None, Query(ge=0, le=SEQ_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Records in seq order: an agency's auditor reads those about their agency (its people, its cameras, the
    emergencies of its MOUs); an oversight auditor (settings ``audit.oversight``) reads every record."""
    records, malformed, cursor = services.audit.query_page(
        since=since,
        until=until,
        principal=principal,
        camera=camera,
        emergency=emergency,
        decision=decision,
        kind=kind,
        after_seq=after,
        limit=limit,
        scope=audit_scope(auditor, services),
    )
    return {
        "records": [r.to_dict() for r in records],
        "next": cursor,
        # rows that are not records (tampering): named apart, never a 500 (GET /api/v1/audit/verify says more)
        "malformed": [{"seq": m.seq, "field": m.field, "problem": str(m)} for m in malformed],
    }


@router.get(
    "/verify",
    response_model=ChainCheck,
    response_model_exclude_unset=True,
    responses=raises(PermissionDenied, AuditUnavailable),
)
async def verify(_: AuditorDep, services: ServicesDep) -> dict[str, Any]:
    """The chain, its head, every signed checkpoint, the local witness file (as ``camgate audit verify``), and the
    rows bound to the chain (emergencies, document generation, notices)."""
    from broker.audit.keys import KeyRing
    from broker.audit.verify_store import StoreVerifier

    verifier = StoreVerifier(services.store, services.keys or KeyRing(None))
    result = await run_in_threadpool(verifier.verify)
    return with_bindings(result.to_dict(), await run_in_threadpool(bindings_report, services.store))
