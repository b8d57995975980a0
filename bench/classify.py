"""Classifying a camera end to end (issue 14, item 7): ``PUT /api/v1/cameras/{id}/classification`` over HTTP
(TestClient), with the inventory validated as a reload would, the audit record, the file edited in place (files) or
the store's row (store), and the reload, until the answer: p50/p99 per inventory size.

    .venv/bin/python -m bench.classify [--cameras 1000 10000] [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from broker.api.app import create_app
from broker.settings import load_settings
from tests.paths import MODEL

HEADER = """\
# A district of {n} cameras; the odd ones were added by inventory sync and are not classified yet.
agencies:
  - {{id: sd, name: District, kind: school_district}}
  - {{id: pd, name: Police, kind: police}}
systems:
  - {{id: vms, owner: sd, adapter: hls, base_url: "http://127.0.0.1:9/"}}
sites:
  - {{id: hs, name: High School, owner: sd, timezone: America/New_York}}
cameras:
"""
MOU = """\
mou: sd-pd
version: 1
timezone: America/New_York
effective: 2020-01-01
parties: {owner: sd, recipients: [pd]}
sites: ["*"]
zones: {exterior: {}, interior: {}, restricted: {never: true}}
grants:
  - {id: G1, clause: "4.1", agency: pd, roles: [officer], zones: [exterior], actions: [live], when: always}
"""


def write(d: Path, n: int) -> None:
    lines = [HEADER.format(n=n)]
    for i in range(n):
        zone = "" if i % 2 else ", zone: exterior"
        cam = f"id: cam-{i:05d}, name: Camera {i}, site: hs, building: main{zone}, system: vms, ref: c{i}"
        lines.append(f"  - {{{cam}}}\n")
    (d / "inventory.yaml").write_text("".join(lines), encoding="utf-8")
    (d / "mou").mkdir()
    (d / "mou" / "sd-pd.yaml").write_text(MOU, encoding="utf-8")


def run(n: int, runs: int, source: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        write(d, n)
        settings = load_settings(
            mode="dev",
            data_dir=d / "data",
            policy={"inventory": d / "inventory.yaml", "mous": [d / "mou"], "model": MODEL},
            store={"url": f"sqlite:///{d / 'camgate.db'}"},
            mous={"source": source, "parties": {"sd": {"approvers": ["operator"]}, "pd": {"approvers": ["chief"]}}},
        )
        app = create_app(settings, housekeeping=False)
        with TestClient(app) as client:
            services = app.state.services
            if source == "store":
                paths = [d / "mou" / "sd-pd.yaml"]
                services.mous.import_texts([(str(p), p.read_bytes()) for p in paths], {"principal_sub": "bench"})
                services.reloader.reload("bench")
            token = services.dev_issuer.mint("it-1", "sd", ["operator"], now=services.clock.now())
            headers = {"Authorization": f"Bearer {token}"}
            seconds = []
            for k in range(runs):
                camera = f"cam-{2 * k + 1:05d}"
                body = {"site": "hs", "building": "main", "zone": "interior" if k % 3 else "exterior"}
                started = time.perf_counter()
                r = client.put(f"/api/v1/cameras/{camera}/classification", headers=headers, json=body)
                seconds.append(time.perf_counter() - started)
                assert r.status_code == 200 and r.json()["changed"], r.text
        ordered = sorted(seconds)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        return {"cameras": n, "source": source, "runs": runs, "p50": statistics.median(seconds), "p99": p99}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    for n in args.cameras:
        for source in ("files", "store"):
            r = run(n, args.runs, source)
            p50, p99 = r["p50"] * 1000, r["p99"] * 1000
            print(f"{n:>6} cameras, {source:<5}: p50 {p50:7.1f} ms, p99 {p99:7.1f} ms ({args.runs} classifications)")


if __name__ == "__main__":
    main()
