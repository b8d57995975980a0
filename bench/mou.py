"""Redline and impact of an MOU change at regional scale (issue 14, item 3): 10,000 cameras, 100 MOUs.

One school district owning 1,000 sites of 10 cameras each (zones exterior, interior, gym, office, restricted); 100
MOUs: ``mou-000`` shares every site with police department ``pd0``, and 99 more share 10 sites each with ``pd0`` to
``pd9`` (so ten of them overlap ``mou-000`` for the same police). The change measured is ``mou-000`` version 1 to
version 2 (the gym never shared, snapshots of exterior cameras dropped, the emergency maximum shortened): the whole
report as the API builds it (:func:`broker.admin.mous.redline.redline`: the diff in words, both versions compiled
with the MOUs that can change a decision, every camera class asked of the decision point, the lines in words).

Printed beside it: the same impact with every camera decided on its own (``grouped=False``, the baseline; the
answers are compared) and the time to compile the whole catalog (what a reload costs). Figures only: no
assertion on time.

    .venv/bin/python bench/mou.py [--cameras 10000] [--runs 30] [--baseline-runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from broker.admin.mous.impact import compute_impact
from broker.admin.mous.redline import redline
from broker.documents import load_inventory
from broker.documents.inventory import Inventory
from broker.documents.loader import parse_mou_text
from broker.documents.mou import Mou
from broker.policy import compile_policy

ROOT = Path(__file__).resolve().parents[1]
MODEL_TEXT = (ROOT / "policies" / "model.conf").read_text(encoding="utf-8")
AT = datetime(2026, 9, 14, 15, 0, tzinfo=UTC)  # Monday 11:00 in New Canaan
ZONES = ("exterior", "interior", "gym", "office", "restricted")
MOUS = 100
SITES_PER_MOU = 10


def inventory_yaml(cameras: int) -> str:
    sites = max(1, cameras // 10)
    out = [
        "agencies:",
        "  - {id: sd0, name: Regional School District, kind: school_district}",
        *(f"  - {{id: pd{p}, name: Police Department {p}, kind: police}}" for p in range(10)),
        "systems:",
        '  - {id: sd0-vms, owner: sd0, adapter: hls, base_url: "http://127.0.0.1:9/"}',
        "sites:",
        *(f"  - {{id: s{s}, name: School {s}, owner: sd0, timezone: America/New_York}}" for s in range(sites)),
        "cameras:",
    ]
    for s in range(sites):
        for c in range(10):
            out.append(
                f"  - {{id: s{s}-c{c}, name: Camera {c}, site: s{s}, building: b{c % 3}, zone: {ZONES[c % 5]}, "
                f"system: sd0-vms, ref: s{s}-c{c}}}"
            )
    return "\n".join(out) + "\n"


def mou_yaml(m: int, sites: int, version: int = 1) -> str:
    police = f"pd{m % 10}"
    covered = '["*"]' if m == 0 else "[" + ", ".join(f"s{(m * SITES_PER_MOU + i) % sites}" for i in range(10)) + "]"
    gym_never = version > 1
    return f"""\
mou: mou-{m:03d}
title: Police access to school video ({m})
version: {version}
timezone: America/New_York
effective: 2026-01-01
parties: {{owner: sd0, recipients: [{police}]}}
sites: {covered}
zones:
  exterior: {{}}
  interior: {{education_records: true}}
  gym: {{never: {str(gym_never).lower()}}}
  office: {{}}
  restricted: {{never: true}}
grants:
  - {{id: G1, clause: "4.1", agency: {police}, roles: [officer, dispatcher, supervisor, detective], zones: [exterior],
     actions: [{"live, playback" if version > 1 else "live, snapshot, playback"}], when: always,
     playback: {{max_age: 7d}}}}
  - {{id: G2, clause: "4.2", agency: {police}, roles: [officer, dispatcher, supervisor, detective],
     zones: [{"interior, office" if gym_never else "interior, gym, office"}], actions: [live, snapshot, playback],
     when: emergency, playback: {{from: -30s}}}}
  - {{id: G3, clause: "4.3", agency: {police}, roles: [supervisor], zones: [interior], actions: [export],
     when: emergency}}
emergency:
  declare: [{{agency: {police}, roles: [dispatcher, supervisor]}}]
  default_duration: 60m
  max_duration: {"2h" if version > 1 else "4h"}
"""


def parse(text: str, inv: Inventory) -> Mou:
    doc, issues = parse_mou_text(text.encode(), "bench.yaml", inv.index())
    assert doc is not None, issues
    return doc


CPU: list[float] = []  # process CPU seconds of the last timed() call's runs (a loaded machine inflates wall time)


def timed(fn: Callable[[], object], runs: int) -> tuple[list[float], object]:
    out: list[float] = []
    result: object = None
    CPU.clear()
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        out.append(time.perf_counter() - t0)
        CPU.append(time.process_time() - c0)
    return out, result


def pct(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cameras", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--baseline-runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="camgate-bench-mou-") as tmp:
        inv_path = Path(tmp) / "inventory.yaml"
        inv_path.write_text(inventory_yaml(args.cameras), encoding="utf-8")
        inv = load_inventory(inv_path)
        sites = len(inv.sites)
        catalog = [parse(mou_yaml(m, sites), inv) for m in range(MOUS)]
    old, new = catalog[0], parse(mou_yaml(0, sites, version=2), inv)

    compile_s, _ = timed(lambda: compile_policy(inv, catalog, MODEL_TEXT), 3)
    report_s, report = timed(lambda: redline(inv, old, new, MODEL_TEXT, AT, catalog), args.runs)
    report_cpu = list(CPU)
    grouped_s, grouped = timed(lambda: compute_impact(inv, old, new, MODEL_TEXT, AT, catalog), args.runs)
    base_s, baseline = timed(
        lambda: compute_impact(inv, old, new, MODEL_TEXT, AT, catalog, grouped=False), args.baseline_runs
    )
    assert isinstance(report, dict)
    print(f"scale: {len(inv.cameras)} cameras, {sites} sites, {len(catalog)} MOUs; change: mou-000 v1 -> v2")
    print(
        f"changes: {len(report['changes'])}; impact rows: {len(report['impact'])}; cameras named: "
        f"{len(report['cameras'])}"
    )
    for line in report["summary"][:3]:
        print(f"  {line}")
    r50, r99 = pct(report_s, 50), pct(report_s, 99)
    g50, g99 = pct(grouped_s, 50), pct(grouped_s, 99)
    b50 = pct(base_s, 50)
    print(f"redline (diff + impact + words): p50 {r50 * 1000:8.1f} ms   p99 {r99 * 1000:8.1f} ms   ({args.runs} runs)")
    print(
        f"redline, CPU time              : p50 {pct(report_cpu, 50) * 1000:8.1f} ms   p99 {pct(report_cpu, 99) * 1000:8.1f} ms"
    )
    print(f"impact, camera classes         : p50 {g50 * 1000:8.1f} ms   p99 {g99 * 1000:8.1f} ms")
    print(f"impact, every camera on its own: p50 {b50 * 1000:8.1f} ms   ({args.baseline_runs} runs; the baseline)")
    print(f"ratio (every camera / classes): {b50 / g50:,.1f}x   answers agree: {grouped == baseline}")
    print(
        f"compile the whole catalog ({len(catalog)} MOUs): p50 {pct(compile_s, 50) * 1000:8.1f} ms; "
        f"redline p50 / compile p50: {r50 / pct(compile_s, 50):.2f}"
    )
    print(f"target: redline p99 < 1 s {'met' if r99 < 1 else 'MISSED'}")


if __name__ == "__main__":
    main()
