"""Lint of an MOU version against the inventory (issue 14, item 4): shown with the draft, never blocking.

Each finding is what loads and validates but probably does not say what the parties mean: a grant that covers no
camera, a zone no camera uses, a camera in a covered site whose zone the MOU does not define, an emergency
maximum over 24 hours, two grants that overlap, an MOU expiring within ``mous.expiry_notice_days``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from broker.admin.mous.lifecycle import VersionState
from broker.documents.mou import Mou
from broker.documents.yamlsrc import YamlSyntaxError, dotted, load_located
from broker.inventory.catalog import Catalog

LONGEST_EMERGENCY = timedelta(hours=24)


def lint_version(v: VersionState, catalog: Catalog, now: datetime, expiry_days: int = 30) -> list[dict[str, Any]]:
    if v.doc is None:
        return []
    try:
        located = load_located(v.current.text)
    except YamlSyntaxError:
        return []
    out = []
    for path, code, message in lint_mou(v.doc, catalog, now, expiry_days):
        out.append(
            {
                "code": code,
                "path": dotted(path) if path else "(document)",
                "line": located.line_of(path) if path else 0,
                "message": message,
            }
        )
    return out


def lint_mou(
    mou: Mou, catalog: Catalog, now: datetime, expiry_days: int = 30
) -> list[tuple[tuple[str | int, ...], str, str]]:
    """Findings as (path, code, message), in document order."""
    sites = set(catalog.sites_of(mou))
    cameras = [c for c in catalog.inventory.cameras if c.site in sites]
    used = {c.zone for c in cameras if c.zone}
    out: list[tuple[tuple[str | int, ...], str, str]] = []
    _, end = mou.period()
    if end is not None and now < end <= now + timedelta(days=expiry_days):
        out.append((("expires",), "expires_soon", f"expires on {mou.expires}, within {expiry_days} days"))
    for zone in mou.zones:
        if zone not in used:
            out.append((("zones", zone), "zone_unused", f"no camera in the covered sites has zone {zone!r}"))
    for g, grant in enumerate(mou.grants):
        if not any(c.zone in grant.zones for c in cameras):
            zones = ", ".join(grant.zones)
            out.append((("grants", g), "grant_covers_no_camera", f"grant {grant.id} ({zones}) covers no camera"))
        for h in range(g):
            other = mou.grants[h]
            if _overlap(grant, other):
                out.append(
                    (
                        ("grants", g),
                        "grants_overlap",
                        f"grant {grant.id} overlaps {other.id} (agency, roles, zones, actions; when {grant.when})",
                    )
                )
    undefined = sorted({c.zone for c in cameras if c.zone and c.zone not in mou.zones})
    for zone in undefined:
        ids = [c.id for c in cameras if c.zone == zone]
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        out.append(
            (
                ("zones",),
                "zone_undefined",
                f"cameras in covered sites have zone {zone!r}, which it does not define: {shown}",
            )
        )
    if mou.emergency is not None and mou.emergency.max_duration > LONGEST_EMERGENCY:
        hours = mou.emergency.max_duration.total_seconds() / 3600
        out.append((("emergency", "max_duration"), "emergency_over_24h", f"an emergency may last {hours:g} hours"))
    return out


def _overlap(a: Any, b: Any) -> bool:
    return (
        a.agency == b.agency
        and a.when == b.when
        and bool(set(a.roles) & set(b.roles))
        and bool(set(a.zones) & set(b.zones))
        and bool(set(a.actions) & set(b.actions))
    )
