"""Administration of the running broker: reloading the inventory and MOU documents, for operators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from broker.api.deps import ClientDep, OperatorDep, ServicesDep
from broker.api.errordoc import raises
from broker.api.models import ReloadOutcome
from broker.errors import AuditUnavailable, DocumentError, PermissionDenied, StoreUnavailable

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.post(
    "/reload", response_model=ReloadOutcome,
    responses=raises(PermissionDenied, DocumentError, AuditUnavailable, StoreUnavailable),
)  # fmt: skip
async def reload(operator: OperatorDep, services: ServicesDep, client: ClientDep) -> dict[str, Any]:
    """Re-read and validate every document, then swap the policy in whole (see ``broker/admin/reload.py``).

    A refused reload answers 422 with every error as ``FILE:LINE: path.to.field: message`` in ``lines`` and
    leaves the running policy exactly as it was. Both outcomes are recorded on the audit chain.
    """
    outcome = await services.reload("api", operator, client)
    return outcome.to_dict()
