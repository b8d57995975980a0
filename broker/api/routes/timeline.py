"""An emergency's timeline, for auditors: who watched which camera when under it, and its transitions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from broker.admin.emergencies import to_json
from broker.api.deps import AuditorDep, ServicesDep, audit_scope
from broker.api.errordoc import raises
from broker.api.models import Timeline
from broker.api.routes.emergencies import EmergencyId
from broker.audit.timeline import TIMELINE_KINDS, assemble
from broker.errors import AuditUnavailable, PermissionDenied, StoreUnavailable, UnknownEmergency
from broker.timeutil import format_instant

router = APIRouter(prefix="/api/v1/emergencies", tags=["audit"])


@router.get(
    "/{emergency_id}/timeline",
    response_model=Timeline,
    responses=raises(PermissionDenied, UnknownEmergency, AuditUnavailable, StoreUnavailable),
)
def timeline(emergency_id: EmergencyId, auditor: AuditorDep, services: ServicesDep) -> dict[str, Any]:
    """The emergency, its transitions and every viewing session under its grants, from the audit chain.

    A session without an end record is still open (``ended`` null): drawn up to ``now``. An agency's auditor
    reads the emergencies of its MOUs, with the sessions of its people and on its cameras; another MOU's emergency
    is 404, as one that does not exist (broker/audit/scope.py). An oversight auditor reads every one, whole.
    """
    rec = services.emergencies.get(emergency_id)  # 404 unknown_emergency
    scope = audit_scope(auditor, services)
    if scope is not None and rec.mou not in scope.mous:
        raise UnknownEmergency(f"no emergency {emergency_id!r}")  # the very answer for an unknown id
    records, complete = services.audit.emergency_records(emergency_id, TIMELINE_KINDS, scope=scope)
    now = services.clock.now()
    return {
        "emergency": to_json(rec, now),
        "now": format_instant(now),
        **assemble(records).to_dict(),
        "complete": complete,
    }
