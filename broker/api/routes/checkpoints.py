"""Signed checkpoints of the audit chain: sign one now, list them, and the public keys that verify them."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from broker.api.deps import AuditorDep, PrincipalDep, ServicesDep, is_auditor, is_operator
from broker.api.errordoc import raises
from broker.api.refusals import refused
from broker.audit import checkpoint_store
from broker.errors import AuditTampered, PermissionDenied, ServiceUnavailable, StoreUnavailable
from broker.policy import Principal
from broker.store.db import driver_problem

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
SEQ_MAX = 2**63 - 1


async def get_auditor_or_operator(principal: PrincipalDep, services: ServicesDep, request: Request) -> Principal:
    if not (is_auditor(principal, services) or is_operator(principal, services)):
        exc = PermissionDenied("checkpoints are for auditors and operators", reason="not_an_auditor")
        await refused(request, "access.refused", exc, principal=principal)  # CJIS 5.4.1.1, counted per minute
        raise exc
    return principal


AuditorOrOperatorDep = Annotated[Principal, Depends(get_auditor_or_operator)]


class CheckpointModel(BaseModel):
    """A signed checkpoint: the chain had ``records`` records, the last one hashing to ``head``."""

    v: int = Field(description="Body version (1)")
    kind: str = Field(description="checkpoint, or prune (moves the chain's verified base to base_seq)")
    records: int = Field(description="Records in the chain when signed")
    head: str = Field(description="The hash of record `records`")
    base_seq: int = Field(description="The chain's verified base: records up to it were pruned")
    base_hash: str = Field(description="The hash of record base_seq")
    ts: str = Field(description="When it was signed (RFC 3339)")
    previous: str | None = Field(description="The id of the checkpoint before it")
    key_id: str = Field(description="The signing key's id (GET /api/v1/audit/keys)")
    signature: str = Field(description="Ed25519 over the canonical body, base64url")
    id: str = Field(description="SHA-256 of the canonical body")


class CheckpointPage(BaseModel):
    checkpoints: list[CheckpointModel] = Field(description="Newest first")
    malformed: list[str] = Field(default_factory=list, description="Rows that are not checkpoints, and why")
    next: int | None = Field(description="Pass as `before` for the next (older) page; null on the last")


class PublicKey(BaseModel):
    key_id: str
    public_key: str = Field(description="Ed25519 public key, raw 32 bytes, base64url")
    current: bool = Field(description="The key signing now (the others verify older checkpoints)")


class KeyList(BaseModel):
    keys: list[PublicKey]


@router.post(
    "/checkpoints",
    status_code=201,
    response_model=CheckpointModel,
    responses={
        200: {"model": CheckpointModel, "description": "The last checkpoint, signed moments ago (on-demand spacing)"},
        **raises(PermissionDenied, AuditTampered, StoreUnavailable, ServiceUnavailable),
    },
)
async def sign_checkpoint(_: AuditorOrOperatorDep, services: ServicesDep, response: Response) -> dict[str, Any]:
    """Sign the chain's head now (auditors, operators), whether or not it moved since the last checkpoint: 201.
    Within ``audit.checkpoints.on_demand_spacing_seconds`` of the last checkpoint, that one is the answer (200)."""
    if services.signer is None:
        raise ServiceUnavailable("this broker has no checkpoint signing key")
    spacing = timedelta(seconds=services.settings.audit.checkpoints.on_demand_spacing_seconds)
    cp, fresh = await run_in_threadpool(services.signer.sign_on_demand, spacing)
    if not fresh:
        response.status_code = 200
    return cp.to_dict()


@router.get("/checkpoints", response_model=CheckpointPage, responses=raises(PermissionDenied, StoreUnavailable))
def list_checkpoints(
    _: AuditorDep,
    services: ServicesDep,
    before: Annotated[int | None, Query(ge=0, le=SEQ_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    try:
        with services.store.engine.connect() as conn:
            rows, cursor = checkpoint_store.page(conn, after=before, limit=limit)
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"the checkpoints could not be read ({driver_problem(exc)})") from exc
    return {
        "checkpoints": [row.checkpoint.to_dict() for row in rows if row.checkpoint is not None and not row.problem],
        "malformed": [row.problem for row in rows if row.problem],
        "next": cursor,
    }


@router.get("/keys", response_model=KeyList, responses=raises(PermissionDenied))
async def list_keys(_: AuditorOrOperatorDep, services: ServicesDep) -> dict[str, Any]:
    """The public keys that verify checkpoints, with their ids (the current one first)."""
    return {"keys": services.keys.listing() if services.keys is not None else []}
