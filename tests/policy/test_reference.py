"""The PDP against a deliberately naive reference written line by line from contract section 4.

The reference loops over the documents directly (no casbin, no index, no precomputation), so an indexing,
ordering or precedence mistake in the real decision point shows up as a disagreement on random requests.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from math import asin, cos, radians, sin, sqrt
from zoneinfo import ZoneInfo

import pytest

from broker.documents import load_inventory, load_mous
from broker.policy import AccessRequest, DecisionPoint, EmergencyView, GeoPoint, Principal, Window, compile_policy
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS, MODEL

ORDER = ["outside_playback_window", "no_emergency", "outside_schedule", "no_matching_grant",
         "unclassified_camera", "mou_not_in_effect"]  # fmt: skip
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def reference(inv, mous, r: AccessRequest) -> tuple:
    cams = {c.id: c for c in inv.cameras}
    sites = {s.id: s for s in inv.sites}
    cam = cams.get(r.camera)
    if cam is None:
        return (False, "unknown_camera", None, None, None, None)

    def covers_site(m):
        return cam.site in m.sites or (m.sites == ["*"] and sites[cam.site].owner == m.parties.owner)

    cands = sorted(
        (m for m in mous if r.principal.agency in m.parties.recipients and covers_site(m)), key=lambda m: m.mou
    )
    if not cands:
        return (False, "no_mou", None, None, None, None)
    for m in cands:
        if cam.zone is not None and cam.zone in m.zones and m.zones[cam.zone].never:
            return (False, "never_shared_zone", m.mou, None, None, None)
    yields = []
    for m in cands:
        tz = ZoneInfo(m.timezone)
        local = r.at.astimezone(tz)
        if local.date() < m.effective or (m.expires is not None and local.date() > m.expires):
            yields.append(("mou_not_in_effect", m, None))
            continue
        if cam.zone is None or cam.zone not in m.zones:
            yields.append(("unclassified_camera", m, None))
            continue
        applied = False
        for g in m.grants:
            if not (g.agency == r.principal.agency and set(g.roles) & r.principal.roles and cam.zone in g.zones
                    and r.action in g.actions):  # fmt: skip
                continue
            applied = True
            fail, em = None, None
            if g.schedule is not None:
                start, end = (int(x[:2]) * 60 + int(x[3:]) for x in g.schedule.hours.split("-"))
                minute = local.hour * 60 + local.minute
                if DAYS[local.weekday()] not in g.schedule.days or not start <= minute < end:
                    fail = "outside_schedule"
            if fail is None and g.when == "emergency":
                em = next((e for e in r.emergencies if e.mou == m.mou and _covers(e, cam, r.at)), None)
                if em is None:
                    fail = "no_emergency"
            if fail is None and r.action in ("playback", "export"):
                max_age = g.playback.max_age if g.when == "always" and g.playback else None
                if max_age is not None and r.window.start < r.at - max_age:
                    fail = "outside_playback_window"
                if g.when == "emergency":
                    frm = g.playback.from_ if g.playback and g.playback.from_ is not None else timedelta(0)
                    if r.window.start < em.declared_at + frm:
                        fail = "outside_playback_window"
            if fail is None:
                return (True, "allowed", m.mou, g.id, g.clause, em.id if em else None)
            yields.append((fail, m, g))
        if not applied:
            yields.append(("no_matching_grant", m, None))
    for reason in ORDER:
        for y, m, g in yields:
            if y == reason:
                return (False, reason, m.mou, g.id if g else None, g.clause if g else None, None)
    raise AssertionError("no yield")


def _covers(e: EmergencyView, cam, at) -> bool:
    if e.site != cam.site or (e.buildings and cam.building not in e.buildings) or (e.zones and cam.zone not in e.zones):
        return False
    if e.center is not None:
        if cam.location is None:
            return False
        p1, p2 = radians(e.center.lat), radians(cam.location.lat)
        h = sin((p2 - p1) / 2) ** 2 + cos(p1) * cos(p2) * sin(radians(cam.location.lon - e.center.lon) / 2) ** 2
        if 2 * 6_371_008.8 * asin(min(1.0, sqrt(h))) > e.radius_m:
            return False
    end = e.ended_at if e.ended_at is not None and e.ended_at < e.expires_at else e.expires_at
    return e.declared_at <= at < end


def random_request(rng: random.Random, inv) -> AccessRequest:
    base = datetime(2026, 6, 25, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 60 * 24 * 420))
    camera = rng.choice([c.id for c in inv.cameras] + ["ghost-cam"])
    agency = rng.choice(["ncpd", "ncpd", "ncpd", "ncps", "ncpb", "other"])
    roles = frozenset(rng.sample(["officer", "dispatcher", "supervisor", "auditor", "principal"], rng.randint(0, 2)))
    action = rng.choice(["live", "snapshot", "playback", "export"])
    ems = []
    for i in range(rng.choice([0, 0, 1, 1, 2, 3])):
        declared = base - timedelta(minutes=rng.randrange(-30, 120))
        site = rng.choice([s.id for s in inv.sites])
        center = radius = None
        if rng.random() < 0.3:
            center, radius = (
                GeoPoint(41.1488 + rng.uniform(-0.01, 0.01), -73.4957 + rng.uniform(-0.01, 0.01)),
                rng.uniform(5, 800),
            )
        ended = declared + timedelta(minutes=rng.randrange(0, 90)) if rng.random() < 0.3 else None
        ems.append(EmergencyView(
            id=f"E{i}", mou=rng.choice(["ncps-ncpd-video", "ncpb-ncpd-video", "other"]), site=site,
            declared_at=declared, expires_at=declared + timedelta(minutes=rng.choice([30, 60, 240])), ended_at=ended,
            buildings=frozenset(rng.sample(["main", "gym"], rng.randint(0, 1))),
            zones=frozenset(rng.sample(["interior", "exterior", "lot", "body_worn"], rng.randint(0, 1))),
            center=center, radius_m=radius,
        ))  # fmt: skip
    window = None
    if action in ("playback", "export"):
        start = base - timedelta(seconds=rng.randrange(1, 40 * 86400) if rng.random() < 0.5 else rng.randrange(1, 7200))
        window = Window(start, min(base, start + timedelta(minutes=5)))
    return AccessRequest(Principal("u", agency, roles), camera, action, base, tuple(ems), window)


@pytest.mark.parametrize("seed", range(4))
def test_pdp_agrees_with_the_reference_on_random_requests(seed):
    inv = load_inventory(EXAMPLE_INVENTORY)
    mous = load_mous([EXAMPLE_MOUS], inv)
    pdp = DecisionPoint(compile_policy(inv, mous, MODEL.read_text()))
    rng = random.Random(seed)
    seen = set()
    for _ in range(2500):
        req = random_request(rng, inv)
        d = pdp.decide(req)
        got = (d.allowed, d.reason, d.mou, d.grant, d.clause, d.emergency)
        assert got == reference(inv, mous, req), req
        seen.add(d.reason)
    # The random walk reaches every reason code the example district can produce.
    assert {"allowed", "unknown_camera", "no_mou", "never_shared_zone", "unclassified_camera", "no_emergency",
            "outside_schedule", "outside_playback_window", "no_matching_grant", "mou_not_in_effect"} <= seen  # fmt: skip


def random_mous(rng: random.Random) -> list[dict]:
    """Several overlapping MOUs over the same sites, so ordering and precedence across MOUs matter."""
    from tests.policy.builders import MOU

    out = []
    for n in range(rng.randint(2, 4)):
        zones = {"exterior": {}, "interior": {}, "restricted": {"never": rng.random() < 0.7}}
        if rng.random() < 0.5:
            zones["rooftop"] = {}
        shareable = [z for z, spec in zones.items() if not spec.get("never")]
        grants = []
        for g in range(rng.randint(1, 4)):
            when = rng.choice(["always", "emergency"])
            grant = {"id": f"G{g}", "clause": f"{n}.{g}", "agency": "pd",
                     "roles": rng.sample(["officer", "dispatcher", "supervisor"], rng.randint(1, 2)),
                     "zones": rng.sample(shareable, rng.randint(1, len(shareable))),
                     "actions": rng.sample(["live", "snapshot", "playback", "export"], rng.randint(1, 3)), "when": when}  # fmt: skip
            if rng.random() < 0.5:
                grant["playback"] = (
                    {"max_age": f"{rng.randint(1, 30)}d"} if when == "always" else {"from": f"-{rng.randint(0, 600)}s"}
                )
            if rng.random() < 0.4:
                grant["schedule"] = {
                    "days": rng.sample(DAYS, rng.randint(1, 7)),
                    "hours": rng.choice(["07:00-16:00", "00:00-24:00", "22:00-23:30"]),
                }
            grants.append(grant)
        effective = f"2026-{rng.randint(6, 9):02d}-{rng.randint(1, 28):02d}"
        doc = dict(MOU, mou=f"m{rng.randint(0, 99):02d}-{n}", zones=zones, grants=grants, effective=effective,
                   sites=rng.choice([["*"], ["hs"], ["ms"], ["hs", "ms"]]))  # fmt: skip
        doc["expires"] = rng.choice([None, "2026-12-31", "2027-06-30"])
        out.append(doc)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_pdp_agrees_with_the_reference_on_random_overlapping_mous(seed):
    from broker.documents.inventory import Inventory
    from broker.documents.mou import Mou
    from tests.policy.builders import INVENTORY

    rng = random.Random(1000 + seed)
    inv = Inventory.model_validate(INVENTORY)
    mous = [Mou.model_validate(m) for m in random_mous(rng)]
    pdp = DecisionPoint(compile_policy(inv, mous, MODEL.read_text()))
    ids = [m.mou for m in mous]
    for _ in range(1500):
        req = random_request(rng, inv)
        principal = Principal("u", rng.choice(["pd", "pd", "fd"]), req.principal.roles)
        emergencies = tuple(_retarget(e, rng, ids) for e in req.emergencies)
        req = AccessRequest(principal, req.camera, req.action, req.at, emergencies, req.window)
        d = pdp.decide(req)
        assert (d.allowed, d.reason, d.mou, d.grant, d.clause, d.emergency) == reference(inv, mous, req), req


def _retarget(e: EmergencyView, rng: random.Random, ids: list[str]) -> EmergencyView:
    from dataclasses import replace

    return replace(e, mou=rng.choice(ids), site=rng.choice(["hs", "ms"]), center=None, radius_m=None)
