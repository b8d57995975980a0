"""Decisions at regional scale: 10,000 cameras, 100 MOUs, 500 grants (``bench/scale.py``'s documents).

Prints, in one run:
1. the decision point's p50/p99 per decision (the whole contract procedure), beside a naive casbin policy
   with one line per camera evaluated by stock ``Enforcer.enforce``;
2. ``camgate decide`` over 20,000 JSON Lines requests end to end (process start, loading, deciding,
   writing), beside a straightforward evaluator (``bench/naive.py``: every grant re-checked per request)
   doing the same work in this process, loading included; both answer sets are compared line by line.

    .venv/bin/python bench/decisions.py [--requests 20000] [--naive-requests 300]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import casbin
import yaml
from casbin import model as casbin_model

from bench import scale
from bench.naive import NaiveEvaluator
from broker.documents import load_inventory, load_mous
from broker.documents.inventory import Inventory
from broker.documents.loader import mou_files
from broker.documents.mou import Mou
from broker.policy import DecisionPoint, compile_policy
from broker.policy.wire import parse_request

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "policies" / "model.conf"
CAMGATE = Path(sys.executable).parent / "camgate"
AT = datetime(2026, 9, 14, 15, 0, tzinfo=UTC)  # Monday 11:00 local

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


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def request_lines(cameras: list[str], n: int, rng: random.Random) -> list[str]:
    """Section 5 request lines: 90 % the district's own police, half with an emergency at the site."""
    out = []
    for _ in range(n):
        cam = rng.choice(cameras)
        d, s = (int(x[2:] if x.startswith("sd") else x[1:]) for x in cam.split("-")[:2])
        agency = f"pd{d}" if rng.random() < 0.9 else f"pd{(d + 1) % scale.DISTRICTS}"
        action = rng.choice(["live", "live", "live", "snapshot", "playback", "export"])
        req: dict[str, object] = {
            "principal": {"sub": "u", "agency": agency, "roles": [rng.choice(scale.ROLES)]},
            "camera": cam, "action": action, "at": iso(AT), "emergencies": [],
        }  # fmt: skip
        if rng.random() < 0.5:
            req["emergencies"] = [{"id": f"E{d}", "mou": f"mou-{d:03d}", "site": f"sd{d}-s{s}", "buildings": ["b0", "b1"],
                                   "declared_at": iso(AT - timedelta(minutes=5)),
                                   "expires_at": iso(AT + timedelta(minutes=55))}]  # fmt: skip
        if action in ("playback", "export"):
            req["window"] = {"start": iso(AT - timedelta(minutes=4)), "end": iso(AT - timedelta(minutes=1))}
        out.append(json.dumps(req))
    return out


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    qs = statistics.quantiles(samples_ns, n=100, method="inclusive")
    return qs[49] / 1000, qs[98] / 1000


def straightforward(inventory: Path, mou_dir: Path, lines: list[str]) -> list[str]:
    """Load plainly (libyaml, pydantic) and answer every line by re-checking every grant."""
    inv = Inventory.model_validate(yaml.load(inventory.read_text(), Loader=yaml.CSafeLoader))
    mous = [Mou.model_validate(yaml.load(p.read_text(), Loader=yaml.CSafeLoader)) for p in mou_files([mou_dir])]
    naive = NaiveEvaluator(inv, mous)
    keys = ("allowed", "reason", "mou", "grant", "clause", "emergency")
    return [json.dumps(dict(zip(keys, naive.decide(parse_request(json.loads(line))), strict=True))) for line in lines]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=20000)
    ap.add_argument("--naive-requests", type=int, default=300)
    args = ap.parse_args()
    rng = random.Random(7)
    work = Path(tempfile.mkdtemp(prefix="camgate-bench-"))
    inventory, mou_dir = scale.write(work, 10_000)
    inv = load_inventory(inventory)
    mous = load_mous([mou_dir], inv)
    t0 = time.perf_counter()
    policy = compile_policy(inv, mous, MODEL.read_text())
    compile_s = time.perf_counter() - t0
    pdp = DecisionPoint(policy)
    lines = request_lines([c.id for c in inv.cameras], args.requests, rng)
    reqs = [parse_request(json.loads(line)) for line in lines]
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
    naive_lines = [[recipient[owner[c.site]], c.id] for c in inv.cameras]
    naive.add_policies(naive_lines)
    nsamples = []
    for r in reqs[: args.naive_requests]:
        t = clock()
        naive.enforce(r.principal.agency, r.camera)
        nsamples.append(clock() - t)
    n50, n99 = percentiles(nsamples)

    # End to end: `camgate decide` (a new process: start, load, decide, write) against the straightforward one.
    requests_file = work / "requests.jsonl"
    requests_file.write_text("\n".join(lines) + "\n")
    t = time.perf_counter()
    out = subprocess.run([str(CAMGATE), "decide", "--inventory", str(inventory), "--mou", str(mou_dir),
                          "--requests", str(requests_file)], capture_output=True, text=True, check=True)  # fmt: skip
    camgate_s = time.perf_counter() - t
    one = work / "one.jsonl"
    one.write_text(lines[0] + "\n")
    t = time.perf_counter()
    subprocess.run([str(CAMGATE), "decide", "--inventory", str(inventory), "--mou", str(mou_dir),
                    "--requests", str(one)], capture_output=True, check=True)  # fmt: skip
    one_s = time.perf_counter() - t
    t = time.perf_counter()
    plain = straightforward(inventory, mou_dir, lines)
    plain_s = time.perf_counter() - t
    agree = [json.loads(x) for x in out.stdout.splitlines()] == [json.loads(x) for x in plain]

    print(f"scale: {len(inv.cameras)} cameras, {len(mous)} MOUs, {sum(len(m.grants) for m in mous)} grants, "
          f"{policy.lines} attribute policy lines (compiled in {compile_s:.2f} s)")  # fmt: skip
    print(f"camgate PDP : p50 {p50:8.2f} us   p99 {p99:8.2f} us   ({len(samples)} decisions, {allowed} allowed)")
    print(
        f"naive casbin: p50 {n50:8.2f} us   p99 {n99:8.2f} us   ({len(nsamples)} decisions, {len(naive_lines)} lines)"
    )
    print(f"ratio (naive/camgate): p50 {n50 / p50:,.0f}x   p99 {n99 / p99:,.0f}x")
    print(f"camgate decide, 1 request (process start + load): {one_s:6.2f} s   (target < 2 s)")
    print(f"camgate decide, {len(lines)} requests end to end: {camgate_s:6.2f} s")
    print(f"straightforward evaluator, same requests, loading included, in-process: {plain_s:6.2f} s")
    print(f"ratio (straightforward/camgate decide): {plain_s / camgate_s:.2f}x   answers agree: {agree}")
    print(f"targets: p99 <= 50 us {'met' if p99 <= 50 else 'MISSED'}; >= 100x naive casbin "
          f"{'met' if n99 / p99 >= 100 else 'MISSED'}; decide at least as fast as straightforward "
          f"{'met' if camgate_s <= plain_s else 'MISSED'}; one request < 2 s {'met' if one_s < 2 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
