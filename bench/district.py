"""The benches' district: one school site whose exterior cameras all show one HLS origin's ``cam`` stream, and
an MOU giving police officers live access to them always (clause 4.1)."""

from __future__ import annotations

from pathlib import Path

import yaml


def write_district(d: Path, origin_port: int, cameras: list[str]) -> dict[str, Path | list[Path]]:
    """Write ``inventory.yaml`` and ``mou/sd-pd.yaml`` in ``d``; the ``policy`` settings that load them."""
    inventory = {
        "agencies": [
            {"id": "sd", "name": "District", "kind": "school_district"},
            {"id": "pd", "name": "Police", "kind": "police"},
        ],
        "systems": [
            {
                "id": "vms",
                "owner": "sd",
                "adapter": "hls",
                "base_url": f"http://127.0.0.1:{origin_port}/",
                "live_path": "{ref}/index.m3u8",
            }
        ],
        "sites": [{"id": "hs", "name": "High School", "owner": "sd", "timezone": "America/New_York"}],
        "cameras": [
            {"id": c, "name": c, "site": "hs", "zone": "exterior", "system": "vms", "ref": "cam"} for c in cameras
        ],
    }
    grant = {
        "id": "G1",
        "clause": "4.1",
        "agency": "pd",
        "roles": ["officer"],
        "zones": ["exterior"],
        "actions": ["live"],
        "when": "always",
    }
    mou = {
        "mou": "sd-pd",
        "version": 1,
        "timezone": "America/New_York",
        "effective": "2020-01-01",
        "parties": {"owner": "sd", "recipients": ["pd"]},
        "sites": ["*"],
        "zones": {"exterior": {}},
        "grants": [grant],
    }
    (d / "mou").mkdir(parents=True, exist_ok=True)
    (d / "inventory.yaml").write_text(yaml.safe_dump(inventory))
    (d / "mou" / "sd-pd.yaml").write_text(yaml.safe_dump(mou))
    return {"inventory": d / "inventory.yaml", "mous": [d / "mou"]}
