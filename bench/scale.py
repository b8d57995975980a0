"""Regional-scale documents, written as YAML files the way school IT would keep them.

``DISTRICTS`` school districts, each with its police department, ``sites`` sites and ``cameras_per_site``
cameras; one MOU per district with 5 grants. Two thirds of the MOUs say ``sites: ["*"]``, the rest list
their sites. At the defaults (100 districts, 10 sites, 10 cameras per site) that is 10,000 cameras, 100 MOUs,
500 grants and about 52,000 casbin attribute lines.

    .venv/bin/python bench/scale.py OUT_DIR [--cameras 10000]     # writes OUT_DIR/inventory.yaml, OUT_DIR/mou/
"""

from __future__ import annotations

import argparse
from pathlib import Path

DISTRICTS = 100
ZONES = ("exterior", "interior", "gym", "office", "restricted")
ROLES = ("officer", "dispatcher", "supervisor", "detective")


def layout(cameras: int, districts: int = DISTRICTS) -> tuple[int, int]:
    """(sites per district, cameras per site) for about ``cameras`` cameras: 10 cameras a site."""
    per_site = 10
    return max(1, cameras // (districts * per_site)), per_site


def inventory_yaml(cameras: int, districts: int = DISTRICTS) -> str:
    sites_per, cams_per = layout(cameras, districts)
    out = ["agencies:"]
    for d in range(districts):
        out.append(f"  - {{id: sd{d}, name: School District {d}, kind: school_district}}")
        out.append(f"  - {{id: pd{d}, name: Police Department {d}, kind: police}}")
    out.append("systems:")
    for d in range(districts):
        out.append(f'  - {{id: sd{d}-vms, owner: sd{d}, adapter: hls, base_url: "http://127.0.0.1:9/sd{d}/"}}')
    out.append("sites:")
    for d in range(districts):
        for s in range(sites_per):
            out.append(f"  - {{id: sd{d}-s{s}, name: School {d}.{s}, owner: sd{d}, timezone: America/New_York,")
            out.append(f"     location: {{lat: {40 + d * 0.01:.5f}, lon: {-73 - s * 0.01:.5f}}}}}")
    out.append("cameras:")
    for d in range(districts):
        for s in range(sites_per):
            for c in range(cams_per):
                cid = f"sd{d}-s{s}-c{c}"
                out.append(f"  - {{id: {cid}, name: Camera {c}, site: sd{d}-s{s}, building: b{c % 3}, "
                           f"zone: {ZONES[c % len(ZONES)]},")  # fmt: skip
                out.append(f"     location: {{lat: {40 + d * 0.01 + c * 1e-5:.6f}, lon: {-73 - s * 0.01:.5f}}}, "
                           f"system: sd{d}-vms, ref: {cid}}}")  # fmt: skip
    return "\n".join(out) + "\n"


def mou_yaml(d: int, sites_per: int) -> str:
    roles = ", ".join(ROLES)
    sites = '["*"]' if d % 3 else "[" + ", ".join(f"sd{d}-s{s}" for s in range(sites_per)) + "]"
    return f"""\
mou: mou-{d:03d}
title: Police access to District {d} school video
version: 1
timezone: America/New_York
effective: 2026-01-01
parties: {{owner: sd{d}, recipients: [pd{d}]}}
sites: {sites}
zones:
  exterior: {{}}
  interior: {{education_records: true}}
  gym: {{}}
  office: {{}}
  restricted: {{never: true}}
grants:
  - {{id: G1, clause: "4.1", agency: pd{d}, roles: [{roles}], zones: [exterior],
     actions: [live, snapshot, playback], when: always, playback: {{max_age: 7d}},
     schedule: {{days: [mon, tue, wed, thu, fri], hours: "06:00-22:00"}}}}
  - {{id: G2, clause: "4.2", agency: pd{d}, roles: [{roles}], zones: [interior, gym, office],
     actions: [live, snapshot, playback], when: emergency, playback: {{from: -30s}}}}
  - {{id: G3, clause: "4.3", agency: pd{d}, roles: [supervisor], zones: [interior], actions: [export], when: emergency}}
  - {{id: G4, clause: "4.4", agency: pd{d}, roles: [supervisor], zones: [office], actions: [live, snapshot],
     when: emergency}}
  - {{id: G5, clause: "4.5", agency: pd{d}, roles: [dispatcher], zones: [exterior], actions: [export], when: always,
     playback: {{max_age: 30d}}}}
emergency:
  declare: [{{agency: pd{d}, roles: [dispatcher, supervisor]}}]
  default_duration: 60m
  max_duration: 4h
"""


def write(out: Path, cameras: int, districts: int = DISTRICTS) -> tuple[Path, Path]:
    """Write ``inventory.yaml`` and ``mou/*.yaml`` under ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    inv = out / "inventory.yaml"
    inv.write_text(inventory_yaml(cameras, districts), encoding="utf-8")
    mou_dir = out / "mou"
    mou_dir.mkdir(exist_ok=True)
    sites_per, _ = layout(cameras, districts)
    for d in range(districts):
        (mou_dir / f"mou-{d:03d}.yaml").write_text(mou_yaml(d, sites_per), encoding="utf-8")
    return inv, mou_dir


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--cameras", type=int, default=10_000)
    args = ap.parse_args()
    inv, mous = write(args.out, args.cameras)
    print(f"wrote {inv} and {mous}/ ({args.cameras} cameras, {DISTRICTS} MOUs)")


if __name__ == "__main__":
    main()
