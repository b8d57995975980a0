"""The redline of two versions of an MOU: what changed (diff.py) and who gains or loses what (impact.py). Pure.

The same report for the API (``GET /api/v1/mous/{mou}/diff``) and ``camgate mou diff``: ``changes``, ``impact``
(one row per agency, role and mode with the camera ids per action), ``cameras`` (every camera named, with its
site, to open) and ``summary`` (one line per impact row).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from broker.admin.mous.diff import diff_mous
from broker.admin.mous.impact import compute_impact, names_of
from broker.admin.mous.impactwords import impact_text
from broker.documents.inventory import Inventory
from broker.documents.mou import Mou
from broker.policy.plainwords import agency as agency_name


def redline(
    inventory: Inventory, old: Mou, new: Mou, model_text: str, at: datetime, context: Sequence[Mou] = ()
) -> dict[str, Any]:
    """``changes``, ``impact``, ``cameras`` and ``summary`` of replacing ``old`` by ``new`` (see the module doc)."""
    names = names_of(inventory)
    found = compute_impact(inventory, old, new, model_text, at, context)
    impact = []
    for agency, role, mode, outcome in found.rows:
        name = agency_name(names.agencies, agency)
        impact.append(
            {
                "agency": agency,
                "agency_name": name,
                "role": role,
                "mode": mode,
                "gained": outcome.gained,
                "lost": outcome.lost,
                "reasons": outcome.reasons,
                "text": impact_text(name, role, mode, outcome, found.cameras),
            }
        )
    cameras = {
        c.id: {
            "name": c.name,
            "site": c.site,
            "site_name": names.sites.get(c.site, c.site),
            "building": c.building,
            "zone": c.zone,
        }
        for c in found.cameras.values()
    }
    return {
        "changes": [c.to_dict() for c in diff_mous(old, new, names)],
        "impact": impact,
        "cameras": cameras,
        "summary": [row["text"] for row in impact],
    }


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report as text: the changes, then the impact, then the cameras by site (``camgate mou diff``)."""
    lines = ["Changes:"]
    lines += [f"  - {c['text']}" for c in report["changes"]] or ["  (none)"]
    lines.append("Impact:")
    lines += [f"  - {text}" for text in report["summary"]] or ["  (no camera changes hands)"]
    by_site: dict[str, list[str]] = {}
    for cam_id, cam in report["cameras"].items():
        by_site.setdefault(f"{cam['site_name']} ({cam['site']})", []).append(f"{cam_id} {cam['name']}")
    if by_site:
        lines.append("Cameras:")
        for site, cams in by_site.items():
            lines.append(f"  {site}: {', '.join(cams)}")
    return lines
