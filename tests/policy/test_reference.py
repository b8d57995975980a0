"""The PDP against a deliberately naive reference written line by line from contract section 4.

The reference loops over the documents directly (no casbin, no index, no precomputation), so an indexing,
ordering or precedence mistake in the real decision point shows up as a disagreement on random requests.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from bench.naive import DAYS, reference
from broker.documents import load_inventory, load_mous
from broker.policy import AccessRequest, DecisionPoint, EmergencyView, GeoPoint, Principal, Window, compile_policy
from tests.paths import EXAMPLE_INVENTORY, EXAMPLE_MOUS, MODEL


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
