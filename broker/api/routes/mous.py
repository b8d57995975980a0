"""The MOUs a caller's agency is a party to, with their grants in plain words (oversight auditors: every MOU).

An MOU is an agreement between its parties: the owner's staff and the recipients' both may read what it says,
as they may read its emergencies (the same rule: ``visible_mous``). Nothing here decides access.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from broker.api.deps import PrincipalDep, ServicesDep
from broker.api.models import Instant
from broker.api.routes.emergencies import visible_mous
from broker.documents.mou import Mou
from broker.inventory.catalog import Catalog
from broker.policy.plainwords import Names, describe_mou, status_at
from broker.timeutil import format_instant

router = APIRouter(prefix="/api/v1", tags=["mous"])


class NamedRef(BaseModel):
    id: str
    name: str


class GrantInWords(BaseModel):
    id: str
    clause: str
    agency: str
    roles: list[str]
    zones: list[str]
    actions: list[Literal["live", "snapshot", "playback", "export"]]
    when: Literal["always", "emergency"]
    text: str = Field(description="The grant in plain words, ending with its clause")


class MouInWords(BaseModel):
    mou: str
    title: str | None
    version: int
    status: Literal["in_force", "not_yet", "expired"] = Field(description="At `at`, in the MOU's timezone")
    effective: date = Field(description="First day in force (00:00 local)")
    expires: date | None = Field(description="Last day in force (through 23:59:59 local)")
    timezone: str
    period: str = Field(description="The period in plain words")
    owner: NamedRef
    recipients: list[NamedRef]
    sites: list[NamedRef] = Field(description="The sites it covers (`*`: every site of the owner)")
    grants: list[GrantInWords]
    never_zones: list[str]
    never: str | None = Field(description="The never-shared zones in plain words")
    records: str | None = Field(description="The zones whose footage is a FERPA education record, in plain words")
    emergency: str | None = Field(description="Who declares, ends and confirms an emergency, and for how long")
    roster: str | None = Field(None, description="Whose users must be named on the MOU's roster, in plain words")


class MouList(BaseModel):
    at: Instant
    mous: list[MouInWords]


@router.get("/mous", response_model=MouList)
def list_mous(principal: PrincipalDep, services: ServicesDep, in_force: bool = False) -> dict[str, Any]:
    """MOUs the caller's agency is a party to (owner or recipient; oversight auditors: all), by id, with each
    grant in plain words; ``in_force=true``: only those in force now."""
    catalog, now = services.catalog, services.clock.now()
    visible = visible_mous(principal, services)
    out = []
    for mou_id in sorted(visible):
        mou, status = catalog.mous[mou_id], status_at(catalog.pdp.policy.mous[mou_id], now)
        if in_force and status != "in_force":
            continue
        out.append(mou_in_words(mou, catalog, status))
    return {"at": format_instant(now), "mous": out}


def mou_in_words(mou: Mou, catalog: Catalog, status: str) -> dict[str, Any]:
    """One MOU as :class:`MouInWords`: its grants, zones and emergency rules in plain words."""
    inv = catalog.index
    names = Names({a.id: a.name for a in catalog.inventory.agencies}, {s.id: s.name for s in catalog.inventory.sites})
    words = describe_mou(mou, names)

    def ref(agency: str) -> dict[str, str]:
        return {"id": agency, "name": names.agencies.get(agency, agency)}

    return {
        "mou": mou.mou,
        "title": mou.title,
        "version": mou.version,
        "status": status,
        "effective": mou.effective,
        "expires": mou.expires,
        "timezone": mou.timezone,
        "period": words.period,
        "owner": ref(mou.parties.owner),
        "recipients": [ref(a) for a in mou.parties.recipients],
        "sites": [{"id": s, "name": inv.sites[s].name} for s in catalog.sites_of(mou) if s in inv.sites],
        "grants": [
            {
                "id": g.id,
                "clause": g.clause,
                "agency": g.agency,
                "roles": list(g.roles),
                "zones": list(g.zones),
                "actions": list(g.actions),
                "when": g.when,
                "text": w.text,
            }
            for g, w in zip(mou.grants, words.grants, strict=True)
        ],
        "never_zones": sorted(mou.never_zones),
        "never": words.never,
        "records": words.records,
        "emergency": words.emergency,
        "roster": words.roster,
    }
