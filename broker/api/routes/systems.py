"""Camera systems' health, for operators: what the last inventory sync found, who is watching now, and what is
wrong with parts of a system that reports it (an evidence folder's bad files)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio
import anyio.from_thread
from fastapi import APIRouter
from pydantic import BaseModel, Field

from broker.adapterapi import Discoverable, ProblemReport, ReportsProblems
from broker.api.deps import OperatorDep, ServicesDep
from broker.api.errordoc import raises
from broker.api.models import Instant
from broker.errors import PermissionDenied, StoreUnavailable
from broker.inventory.discovery import scrub, secret_values
from broker.inventory.unclassified import unclassified
from broker.timeutil import format_instant

router = APIRouter(prefix="/api/v1/systems", tags=["systems"])
MAX_PROBLEMS = 20  # listed per system; ``total`` counts them all
REPORT_SECONDS = 2.0  # an adapter's report is in memory: one that takes longer is left out, not waited for


class CameraCounts(BaseModel):
    inventory: int = Field(description="Cameras of the system in the inventory (another agency's system: yours)")
    unclassified: int = Field(description="... of which no MOU shares yet (see /api/v1/inventory/unclassified)")
    missing: int = Field(description="... of which the system no longer lists (missing_since)")
    discovered: int | None = Field(
        description="Cameras the system listed at its last successful sync (null: another agency's system)"
    )


class GatewayCamera(BaseModel):
    ref: str = Field(description="The camera's ref in the inventory")
    state: str = Field(description="idle, running, or backoff (the camera dropped; a restart is due)")
    viewers: int = Field(description="Open live viewing sessions of the camera on this replica")
    restarts: int = Field(description="Restarts after the camera dropped")
    last_error: str | None = Field(description="Why it last dropped (no URL, no credential)")
    segments: int = Field(description="Segments kept: the live window and the rolling recording")
    recorded_seconds: float = Field(description="Footage those segments hold")


class GatewayStatus(BaseModel):
    processes: int = Field(description="RTSP to HLS gateway processes running for the system's cameras")
    viewers: int = Field(description="Viewers those processes serve")
    restarts: int = Field(description="Restarts after a camera dropped, all cameras together")
    last_error: str | None = Field(description="The latest reason a camera dropped (no URL, no credential)")
    cameras: list[GatewayCamera] = Field(description="The cameras the gateway has run for since the broker started")


class SystemProblem(BaseModel):
    subject: str = Field(
        description="The part of the system: a file by its path inside an evidence folder; empty: the system as a whole"
    )
    message: str = Field(description="What is wrong and what to do (no secret, no path outside the system's folder)")


class SystemProblems(BaseModel):
    checked_at: Instant | None = Field(description="The system's last look; null: not looked at yet (ask again)")
    total: int = Field(description="Problems found at that look")
    items: list[SystemProblem] = Field(description=f"The first {MAX_PROBLEMS} of them, by subject")


class SystemHealth(BaseModel):
    id: str
    owner: str
    adapter: str
    discoverable: bool = Field(description="The adapter can list the system's cameras (inventory sync)")
    reachable: bool | None = Field(description="At the last sync; null: never synced, or not known")
    authentication_ok: bool | None = Field(description="At the last sync; null: never synced, or not known")
    last_sync: Instant | None = Field(description="The last sync attempt")
    last_success: Instant | None = Field(description="The last sync that listed the cameras")
    last_error: str | None = Field(
        description="What went wrong at the last attempt (null: it worked, or another agency's system)"
    )
    cameras: CameraCounts
    viewers: int = Field(description="Open viewing sessions of the system's cameras on this replica")
    gateway: GatewayStatus | None = Field(
        description="The RTSP gateway's processes for the system on this replica; null: no gateway runs for it "
        "(a system that serves HLS itself, a broker without the RTSP gateway, or another agency's system)"
    )
    problems: SystemProblems | None = Field(
        description="What is wrong with parts of the system while the rest works (an evidence folder's unreadable "
        "or malformed files, each skipped); null: its adapter keeps no such report, or another agency's system"
    )


class SystemList(BaseModel):
    systems: list[SystemHealth]


@router.get("", response_model=SystemList, responses=raises(PermissionDenied, StoreUnavailable))
def list_systems(operator: OperatorDep, services: ServicesDep) -> dict[str, Any]:
    """The camera systems of the caller's agency with their health, and the systems of other agencies that
    serve its cameras (counts of its own cameras only; no gateway, problems or errors: another agency's
    internals). Least privilege (NIST SP 800-53 AC-6): an agency's operators run its systems, not the others'.
    Never a credential: upstream secrets live in environment variables or files named by the system's settings
    and are scrubbed from every error."""
    catalog = services.catalog
    assert services.syncer is not None
    statuses = services.syncer.statuses.all()
    mine = frozenset(catalog.index.sites_by_owner.get(operator.agency, ()))
    own = {s.id for s in catalog.inventory.systems if s.owner == operator.agency}
    # A foreign system is counted by the caller's cameras on it; an own system by all of its cameras.
    counted = [c for c in catalog.inventory.cameras if c.system in own or c.site in mine]
    serving = own | {c.system for c in counted}
    system_of = {c.id: c.system for c in counted}
    viewers = Counter(system_of.get(s.camera) for s in services.sessions.open_sessions())
    ids = {c.id for c in counted}
    flagged = Counter(
        cam.system for cam, reasons in unclassified(catalog) if cam.id in ids and set(reasons) - {"missing"}
    )
    total = Counter(c.system for c in counted)
    missing = Counter(c.system for c in counted if c.missing_since is not None)
    out = []
    for system in catalog.inventory.systems:
        if system.id not in serving:
            continue
        st = statuses.get(system.id)
        adapter = services.pool.get(system.id) if system.id in services.pool else None
        foreign = system.id not in own
        out.append(
            {
                "id": system.id,
                "owner": system.owner,
                "adapter": system.adapter,
                # The served adapter (or the one the RTSP gateway wraps), or a sync that listed it.
                "discoverable": isinstance(getattr(adapter, "inner", adapter), Discoverable)
                or (st is not None and st.ok_at is not None),
                "reachable": st.reachable if st else None,
                "authentication_ok": st.authentication_ok if st else None,
                "last_sync": format_instant(st.checked_at) if st else None,
                "last_success": format_instant(st.ok_at) if st else None,
                "last_error": st.error if st and not foreign else None,
                "cameras": {
                    "inventory": total[system.id],
                    "unclassified": flagged[system.id],
                    "missing": missing[system.id],
                    "discovered": st.discovered if st and not foreign else None,
                },
                "viewers": viewers[system.id],
                "gateway": None if foreign else services.gateway_status(system.id),
                "problems": None
                if foreign
                else _problems(getattr(adapter, "inner", adapter), secret_values(system.settings)),
            }
        )
    return {"systems": out}


def _problems(adapter: object, secrets: set[str]) -> dict[str, Any] | None:
    """The adapter's problem report (:class:`ReportsProblems`), bounded, with its settings' secrets scrubbed."""
    if not isinstance(adapter, ReportsProblems):
        return None
    report = anyio.from_thread.run(_report, adapter)  # the adapter lives on the event loop; this route does not
    problems = sorted(report.problems, key=lambda p: p.subject) if report else []
    return {
        "checked_at": format_instant(report.checked_at) if report and report.checked_at else None,
        "total": len(problems),
        "items": [
            {"subject": scrub(p.subject, secrets), "message": scrub(p.message, secrets)}
            for p in problems[:MAX_PROBLEMS]
        ],
    }


async def _report(adapter: ReportsProblems) -> ProblemReport | None:
    with anyio.move_on_after(REPORT_SECONDS):
        return await adapter.problems()
    return None
