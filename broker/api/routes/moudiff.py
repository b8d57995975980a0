"""The redline and impact of two stored versions of an MOU (issue 14, item 3): ``GET /api/v1/mous/{mou}/diff``.

What changed, in plain words (:mod:`broker.admin.mous.diff`), and who would gain or lose which action on which
camera of the current inventory, always and in an emergency, as the decision point answers for each version
(:mod:`broker.admin.mous.impact`). The other MOUs in force that cover the same sites are compiled with each
version, so a never zone of another MOU still denies. Readable by the MOU's parties and oversight auditors.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from broker.admin.mous.lifecycle import MouState, VersionState
from broker.admin.mous.redline import redline
from broker.api.deps import PrincipalDep, ServicesDep
from broker.api.errordoc import raises
from broker.api.models_mous import StateName
from broker.api.routes.mouadmin import MouId, _readable
from broker.api.services import Services
from broker.errors import MouStateConflict, PermissionDenied, StoreUnavailable, UnknownMou
from broker.policy import Principal

router = APIRouter(prefix="/api/v1", tags=["mou administration"])
Action = Literal["live", "snapshot", "playback", "export"]


class VersionRef(BaseModel):
    version: int
    sha256: str = Field(description="SHA-256 of the version's current text")
    state: StateName


class ChangeOut(BaseModel):
    area: Literal["grants", "zones", "emergency", "dates", "parties", "sites", "title", "roster"]
    change: Literal["added", "removed", "changed"]
    path: str = Field(description="Where: grants.G1, zones.interior.never, emergency.max_duration, effective, …")
    text: str = Field(description="The change in plain words")


class ImpactOut(BaseModel):
    agency: str
    agency_name: str
    role: str
    mode: Literal["always", "emergency"] = Field(
        description="always: with no emergency; emergency: what changes only during an emergency of this MOU"
    )
    gained: dict[Action, list[str]] = Field(description="Action -> camera ids it may now reach")
    lost: dict[Action, list[str]] = Field(description="Action -> camera ids it may no longer reach")
    reasons: dict[str, str] = Field(description="Camera id -> the new version's denial reason (contract §4)")
    text: str = Field(description="One line: +N cameras (actions); −M cameras (actions): why")


class CameraOut(BaseModel):
    name: str
    site: str
    site_name: str
    building: str | None
    zone: str | None


class MouDiff(BaseModel):
    model_config = {"populate_by_name": True}

    mou: str
    from_: VersionRef = Field(alias="from")
    to: VersionRef
    changes: list[ChangeOut]
    impact: list[ImpactOut]
    cameras: dict[str, CameraOut] = Field(description="Every camera named in the impact, by site then id")
    summary: list[str] = Field(description="The impact's lines")


def _pick(state: MouState, number: int | None, name: str, default: VersionState) -> VersionState:
    if number is None:
        return default
    found = next((v for v in state.versions if v.version == number), None)
    if found is None:
        known = ", ".join(str(v.version) for v in state.versions)
        raise UnknownMou(f"MOU {state.mou!r} has no version {number} (versions: {known})", field=name)
    if found.doc is None:
        raise MouStateConflict(
            f"version {number} of {state.mou!r} no longer validates against the inventory", state=found.state
        )
    return found


def _ref(v: VersionState) -> dict[str, Any]:
    return {"version": v.version, "sha256": v.current.sha256, "state": v.state}


def _diff(principal: Principal, services: Services, mou: str, old: int | None, new: int | None) -> dict[str, Any]:
    state = _readable(principal, services, mou)
    parsed = [v for v in state.versions if v.doc is not None] or list(state.versions)
    enforced = state.in_force
    before = _pick(state, old, "from", enforced if enforced is not None and enforced.doc else parsed[0])
    after = _pick(state, new, "to", parsed[-1])
    if before.doc is None or after.doc is None:
        raise MouStateConflict(f"no version of {mou!r} validates against the inventory", state=state.latest.state)
    catalog = services.catalog
    model_text = services.settings.policy.model.read_text(encoding="utf-8")
    context = list(catalog.mous.values())
    report = redline(catalog.inventory, before.doc, after.doc, model_text, services.clock.now(), context)
    return {"mou": mou, "from": _ref(before), "to": _ref(after), **report}


@router.get(
    "/mous/{mou}/diff",
    response_model=MouDiff,
    response_model_by_alias=True,
    responses=raises(UnknownMou, PermissionDenied, MouStateConflict, StoreUnavailable),
)
async def diff(
    mou: MouId,
    principal: PrincipalDep,
    services: ServicesDep,
    from_: Annotated[int | None, Query(alias="from", ge=1, le=1_000_000, examples=[3])] = None,
    to: Annotated[int | None, Query(ge=1, le=1_000_000, examples=[4])] = None,
) -> dict[str, Any]:
    """The redline between two stored versions (default: the version in force, and the newest): every change in
    plain words, and who gains or loses which action on which camera, always and in an emergency."""
    return await run_in_threadpool(_diff, principal, services, mou, from_, to)
