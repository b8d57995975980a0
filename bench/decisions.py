"""Decision latency at regional scale: 10,000 cameras, 100 MOUs, 500 grants.

Prints p50/p99 for camgate's decision point (the whole contract procedure: candidate MOUs, never zones,
effective period, schedule, emergency coverage, playback window) and, in the same process, for a naive
casbin policy with one line per camera evaluated by stock ``Enforcer.enforce``.

    .venv/bin/python bench/decisions.py [--requests 20000] [--naive-requests 300]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import casbin
from casbin import model as casbin_model

from broker.documents.inventory import Inventory
from broker.documents.mou import Mou
from broker.policy import AccessRequest, DecisionPoint, EmergencyView, Principal, Window, compile_policy

MODEL = Path(__file__).resolve().parents[1] / "policies" / "model.conf"
DISTRICTS, SITES_PER, CAMS_PER_SITE = 100, 5, 20  # 100 x 5 x 20 = 10,000 cameras
ZONES = ["exterior", "interior", "gym", "office", "restricted"]
ROLES = ["officer", "dispatcher", "supervisor"]

NAIVE_MODEL = """
[request_definition]
r = agency, camera
[policy_definition]
p = agency, camera
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.agency == p.agency && r.camera == p.camera
"""


def build() -> tuple[Inventory, list[Mou]]:
    agencies, sites, cameras = [], [], []
    mous = []
    for d in range(DISTRICTS):
        agencies += [{"id": f"sd{d}", "name": f"District {d}", "kind": "school_district"},
                     {"id": f"pd{d}", "name": f"Police {d}", "kind": "police"}]  # fmt: skip
        for s in range(SITES_PER):
            sid = f"sd{d}-s{s}"
            sites.append({"id": sid, "name": sid, "owner": f"sd{d}", "timezone": "America/New_York"})
            for c in range(CAMS_PER_SITE):
                cameras.append({"id": f"{sid}-c{c}", "name": f"cam {c}", "site": sid, "building": f"b{c % 3}",
                                "zone": ZONES[c % len(ZONES)], "location": {"lat": 41 + c * 1e-4, "lon": -73.0}})  # fmt: skip
        grants = [
            {"id": "G1", "clause": "4.1", "agency": f"pd{d}", "roles": ROLES, "zones": ["exterior"],
             "actions": ["live", "snapshot", "playback"], "when": "always", "playback": {"max_age": "7d"},
             "schedule": {"days": ["mon", "tue", "wed", "thu", "fri"], "hours": "06:00-22:00"}},
            {"id": "G2", "clause": "4.2", "agency": f"pd{d}", "roles": ROLES, "zones": ["interior", "gym"],
             "actions": ["live", "snapshot", "playback"], "when": "emergency", "playback": {"from": "-30s"}},
            {"id": "G3", "clause": "4.3", "agency": f"pd{d}", "roles": ["supervisor"], "zones": ["interior"],
             "actions": ["export"], "when": "emergency"},
            {"id": "G4", "clause": "4.4", "agency": f"pd{d}", "roles": ["supervisor"], "zones": ["office"],
             "actions": ["live"], "when": "emergency"},
            {"id": "G5", "clause": "4.5", "agency": f"pd{d}", "roles": ["dispatcher"], "zones": ["exterior"],
             "actions": ["export"], "when": "always", "playback": {"max_age": "30d"}},
        ]  # fmt: skip
        mous.append({
            "mou": f"mou-{d:03d}", "version": 1, "timezone": "America/New_York", "effective": "2026-01-01",
            "parties": {"owner": f"sd{d}", "recipients": [f"pd{d}"]}, "sites": ["*"],
            "zones": {"exterior": {}, "interior": {"education_records": True}, "gym": {}, "office": {},
                      "restricted": {"never": True}},
            "grants": grants,
            "emergency": {"declare": [{"agency": f"pd{d}", "roles": ["dispatcher"]}], "default_duration": "60m",
                          "max_duration": "4h"},
        })  # fmt: skip
    inv = Inventory.model_validate({"agencies": agencies, "systems": [], "sites": sites, "cameras": cameras})
    return inv, [Mou.model_validate(m) for m in mous]


def requests(inv: Inventory, n: int, rng: random.Random) -> list[AccessRequest]:
    at = datetime(2026, 9, 14, 15, 0, tzinfo=UTC)  # Monday 11:00 local
    out = []
    for _ in range(n):
        cam = rng.choice(inv.cameras)
        d = int(cam.site.split("-")[0][2:])
        agency = f"pd{d}" if rng.random() < 0.9 else f"pd{(d + 1) % DISTRICTS}"
        action = rng.choice(["live", "live", "live", "snapshot", "playback", "export"])
        ems = ()
        if rng.random() < 0.5:
            ems = (EmergencyView(id=f"E{d}", mou=f"mou-{d:03d}", site=cam.site, declared_at=at - timedelta(minutes=5),
                                 expires_at=at + timedelta(minutes=55), buildings=frozenset({"b0", "b1"})),)  # fmt: skip
        window = (
            Window(at - timedelta(minutes=4), at - timedelta(minutes=1)) if action in ("playback", "export") else None
        )
        principal = Principal.of("u", agency, [rng.choice(ROLES)])
        out.append(AccessRequest(principal, cam.id, action, at, ems, window))
    return out


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    qs = statistics.quantiles(samples_ns, n=100, method="inclusive")
    return qs[49] / 1000, qs[98] / 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--naive-requests", type=int, default=300)
    args = ap.parse_args()
    rng = random.Random(7)
    inv, mous = build()
    t0 = time.perf_counter()
    policy = compile_policy(inv, mous, MODEL.read_text())
    compile_s = time.perf_counter() - t0
    pdp = DecisionPoint(policy)
    reqs = requests(inv, args.requests, rng)
    for r in reqs[:2000]:
        pdp.decide(r)  # warm up
    samples, allowed = [], 0
    clock = time.perf_counter_ns
    for r in reqs:
        t = clock()
        d = pdp.decide(r)
        samples.append(clock() - t)
        allowed += d.allowed
    p50, p99 = percentiles(samples)

    # Naive: one casbin line per camera (recipient agency, camera), stock Enforcer.enforce.
    m = casbin_model.Model()
    m.load_model_from_text(NAIVE_MODEL)
    naive = casbin.Enforcer(m)
    recipient = {m.parties.owner: m.parties.recipients[0] for m in mous}
    owner = {s.id: s.owner for s in inv.sites}
    lines = [[recipient[owner[c.site]], c.id] for c in inv.cameras]
    naive.add_policies(lines)
    nsamples = []
    for r in reqs[: args.naive_requests]:
        t = clock()
        naive.enforce(r.principal.agency, r.camera)
        nsamples.append(clock() - t)
    n50, n99 = percentiles(nsamples)

    print(f"scale: {len(inv.cameras)} cameras, {len(mous)} MOUs, {sum(len(m.grants) for m in mous)} grants, "
          f"{policy.lines} attribute policy lines (compiled in {compile_s:.2f} s)")  # fmt: skip
    print(f"camgate PDP : p50 {p50:8.2f} us   p99 {p99:8.2f} us   ({len(samples)} decisions, {allowed} allowed)")
    print(f"naive casbin: p50 {n50:8.2f} us   p99 {n99:8.2f} us   ({len(nsamples)} decisions, {len(lines)} lines)")
    print(f"ratio (naive/camgate): p50 {n50 / p50:,.0f}x   p99 {n99 / p99:,.0f}x")
    print(f"target p99 <= 50 us: {'met' if p99 <= 50 else 'MISSED'};  target >= 100x: "
          f"{'met' if n99 / p99 >= 100 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
