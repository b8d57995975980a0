"""Small in-memory districts for decision tests."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from broker.documents.inventory import Inventory
from broker.documents.mou import Mou
from broker.policy import AccessRequest, DecisionPoint, EmergencyView, Principal, Window, compile_policy
from broker.timeutil import parse_instant
from tests.paths import MODEL

INVENTORY: dict[str, Any] = {
    "agencies": [
        {"id": "sd", "name": "School District", "kind": "school_district"},
        {"id": "pd", "name": "Police", "kind": "police"},
        {"id": "fd", "name": "Fire", "kind": "fire"},
    ],
    "systems": [{"id": "vms", "owner": "sd", "adapter": "hls", "base_url": "http://127.0.0.1:9/"}],
    "sites": [
        {"id": "hs", "name": "High School", "owner": "sd", "timezone": "America/New_York"},
        {"id": "ms", "name": "Middle School", "owner": "sd", "timezone": "America/New_York"},
    ],
    "cameras": [
        {"id": "hs-ext", "name": "Entrance", "site": "hs", "building": "main", "zone": "exterior",
         "location": {"lat": 41.0, "lon": -73.0}, "system": "vms", "ref": "hs-ext"},
        {"id": "hs-int", "name": "Lobby", "site": "hs", "building": "main", "zone": "interior",
         "location": {"lat": 41.0001, "lon": -73.0}, "system": "vms", "ref": "hs-int"},
        {"id": "hs-gym", "name": "Gym", "site": "hs", "building": "gym", "zone": "interior",
         "location": {"lat": 41.01, "lon": -73.0}, "system": "vms", "ref": "hs-gym"},
        {"id": "hs-res", "name": "Locker room", "site": "hs", "building": "gym", "zone": "restricted"},
        {"id": "hs-new", "name": "Unclassified", "site": "hs", "building": "main"},
        {"id": "hs-odd", "name": "Odd zone", "site": "hs", "building": "main", "zone": "rooftop"},
        {"id": "ms-int", "name": "Hall", "site": "ms", "building": "main", "zone": "interior"},
    ],
}  # fmt: skip

MOU: dict[str, Any] = {
    "mou": "sd-pd",
    "version": 1,
    "timezone": "America/New_York",
    "effective": "2026-07-01",
    "expires": "2027-06-30",
    "parties": {"owner": "sd", "recipients": ["pd"]},
    "sites": ["*"],
    "zones": {"exterior": {}, "interior": {"education_records": True}, "restricted": {"never": True}},
    "grants": [
        {"id": "G1", "clause": "4.1", "agency": "pd", "roles": ["officer", "dispatcher"], "zones": ["exterior"],
         "actions": ["live", "snapshot", "playback"], "when": "always", "playback": {"max_age": "7d"},
         "schedule": {"days": ["mon", "tue", "wed", "thu", "fri"], "hours": "07:00-16:00"}},
        {"id": "G2", "clause": "4.2", "agency": "pd", "roles": ["officer", "dispatcher"], "zones": ["interior"],
         "actions": ["live", "playback"], "when": "emergency", "playback": {"from": "-30s"}},
    ],
    "emergency": {"declare": [{"agency": "pd", "roles": ["dispatcher"]}], "default_duration": "60m",
                  "max_duration": "4h", "require": ["threat"]},
}  # fmt: skip

OFFICER = Principal.of("kim", "pd", ["officer"])
# Monday 2026-09-14, 09:05 in New York.
MONDAY_MORNING = parse_instant("2026-09-14T13:05:00Z")


def mou(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(MOU)
    doc.update(changes)
    return doc


def pdp(*mous: dict[str, Any], inventory: dict[str, Any] | None = None) -> DecisionPoint:
    inv = Inventory.model_validate(inventory or INVENTORY)
    docs = [Mou.model_validate(m) for m in (mous or (MOU,))]
    return DecisionPoint(compile_policy(inv, docs, MODEL.read_text()))


def emergency(
    eid: str = "E1", *, site: str = "hs", mou_id: str = "sd-pd", declared: str = "2026-09-14T13:00:00Z",
    expires: str = "2026-09-14T14:00:00Z", ended: str | None = None, **scope: Any,
) -> EmergencyView:  # fmt: skip
    return EmergencyView(
        id=eid, mou=mou_id, site=site, declared_at=parse_instant(declared), expires_at=parse_instant(expires),
        ended_at=parse_instant(ended) if ended else None, **scope,
    )  # fmt: skip


def request(
    camera: str, action: str = "live", *, at: datetime = MONDAY_MORNING, principal: Principal = OFFICER,
    emergencies: tuple[EmergencyView, ...] = (), window: tuple[str, str] | None = None,
) -> AccessRequest:  # fmt: skip
    w = Window(parse_instant(window[0]), parse_instant(window[1])) if window else None
    return AccessRequest(principal, camera, action, at, emergencies, w)
