"""The demo MOU (policies/mou/mou-ncps-ncpd.yaml) and a changed copy, and the impact computed by brute force.

The brute force asks the decision point about every camera of the inventory, every action and every (agency, role)
a grant of either version names, one by one, with requests built here (no equivalence classes, no code of
broker/admin/mous/impact.py): the independent answer the redline must equal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from broker.documents.inventory import Inventory
from broker.documents.loader import parse_mou_text, read_inventory
from broker.documents.mou import Mou
from broker.policy import ACTIONS, AccessRequest, DecisionPoint, EmergencyView, Principal, Window, compile_policy
from tests.paths import MODEL, REPO

DEMO_INVENTORY = REPO / "config" / "inventory.yaml"
DEMO_MOU = REPO / "policies" / "mou" / "mou-ncps-ncpd.yaml"
MODEL_TEXT = MODEL.read_text(encoding="utf-8")
AT = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)  # Monday 09:00 in New Canaan, both versions in force
V3 = DEMO_MOU.read_text(encoding="utf-8")

# interior becomes never shared (and no longer an education record); G2 (interior) goes; G3 moves to exterior;
# G1 loses snapshots and keeps 3 days; a new scheduled export grant for dispatchers; emergency rules tightened.
EDITS = {
    "title: Police access to New Canaan Public Schools video": "title: Police access to school video",
    "version: 3": "version: 4",
    "expires: 2027-06-30": "expires: 2028-06-30",
    "interior: {education_records: true}": "interior: {never: true}",
    "    actions: [live, snapshot, playback]\n    when: always\n    playback: {max_age: 7d}": (
        "    actions: [live, playback]\n    when: always\n    playback: {max_age: 3d}"
    ),
    """  - id: G2
    clause: "4.2"
    agency: ncpd
    roles: [officer, dispatcher, supervisor]
    zones: [interior]
    actions: [live, snapshot, playback]
    when: emergency
    playback: {from: -30s}
""": "",
    "    roles: [supervisor]\n    zones: [interior]": "    roles: [supervisor]\n    zones: [exterior]",
    "emergency:\n": """  - id: G4
    clause: "4.4"
    agency: ncpd
    roles: [dispatcher]
    zones: [exterior]
    actions: [export]
    when: always
    playback: {max_age: 1d}
    schedule: {days: [mon, tue, wed, thu, fri], hours: "08:00-16:00"}
emergency:
""",
    "max_duration: 4h": "max_duration: 2h",
    "require: [threat]": "require: [threat, incident]",
}


def changed_text() -> str:
    text = V3
    for old, new in EDITS.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def demo_inventory() -> Inventory:
    inv = read_inventory(DEMO_INVENTORY)[0]
    assert inv is not None
    return inv


def parse(text: str, inventory: Inventory) -> Mou:
    doc, issues = parse_mou_text(text.encode(), "test.yaml", inventory.index())
    assert doc is not None, issues
    return doc


Key = tuple[str, str, str]  # agency, role, mode


def brute_force(
    inventory: Inventory, old: Mou, new: Mou, at: datetime = AT, context: Sequence[Mou] = ()
) -> dict[Key, dict[str, Any]]:
    """(agency, role, mode) -> {"gained": {action: [ids]}, "lost": …, "reasons": {id: reason}}: every camera
    decided by each version's decision point, with the emergency-only changes apart from the always ones."""
    others = [m for m in context if m.mou != old.mou]
    pdps = [DecisionPoint(compile_policy(inventory, [*others, m], MODEL_TEXT)) for m in (old, new)]
    principals = sorted({(g.agency, r) for m in (old, new) for g in m.grants for r in g.roles})
    out: dict[Key, dict[str, Any]] = {}
    for agency, role in principals:
        who = Principal("brute", agency, frozenset({role}))
        flips: dict[str, dict[tuple[str, str], tuple[bool, str]]] = {"always": {}, "emergency": {}}
        for cam in inventory.cameras:
            crisis = (EmergencyView("e1", old.mou, cam.site, at - timedelta(hours=1), at + timedelta(hours=1)),)
            for mode, emergencies in (("always", ()), ("emergency", crisis)):
                for action in ACTIONS:
                    window = Window(at - timedelta(seconds=10), at - timedelta(seconds=5))
                    req = AccessRequest(who, cam.id, action, at, emergencies, window)
                    a, b = (p.decide(req) for p in pdps)
                    if a.allowed != b.allowed:
                        flips[mode][(cam.id, action)] = (b.allowed, b.reason)
        for key, flip in list(flips["emergency"].items()):
            if key in flips["always"] and flips["always"][key][0] == flip[0]:
                del flips["emergency"][key]
        for mode, changed in flips.items():
            if not changed:
                continue
            row: dict[str, Any] = {"gained": {}, "lost": {}, "reasons": {}}
            for (cam_id, action), (allowed, reason) in sorted(changed.items()):
                row["gained" if allowed else "lost"].setdefault(action, []).append(cam_id)
                if not allowed:
                    row["reasons"].setdefault(cam_id, reason)
            out[(agency, role, mode)] = row
    return out
