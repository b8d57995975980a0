"""Cameras school IT still has to classify or check (``GET /api/v1/inventory/unclassified``). Pure.

- ``no_zone``: the camera has no zone (inventory sync adds new cameras so); contract §4 denies it
  ``unclassified_camera`` under every MOU;
- ``zone_not_in_mou``: its zone is not a key of ``zones`` in any MOU covering its site, so it is
  unclassified under each of them (§4) all the same;
- ``missing``: sync flagged it (``missing_since``): its system no longer lists it.
"""

from __future__ import annotations

from broker.documents import Camera
from broker.inventory.catalog import Catalog

REASONS = ("no_zone", "zone_not_in_mou", "missing")


def classified_zones(catalog: Catalog) -> dict[str, frozenset[str]]:
    """site -> the zones some MOU covering the site classifies (``never`` zones included: they are classified)."""
    zones: dict[str, set[str]] = {}
    for mou in catalog.mous.values():
        for site in catalog.sites_of(mou):
            zones.setdefault(site, set()).update(mou.zones)
    return {site: frozenset(z) for site, z in zones.items()}


def unclassified(catalog: Catalog) -> list[tuple[Camera, tuple[str, ...]]]:
    """Each camera needing school IT's attention with why, by site then id."""
    zones = classified_zones(catalog)
    out: list[tuple[Camera, tuple[str, ...]]] = []
    for cam in catalog.inventory.cameras:
        reasons: list[str] = []
        if cam.zone is None:
            reasons.append("no_zone")
        elif cam.zone not in zones.get(cam.site, frozenset()):
            reasons.append("zone_not_in_mou")
        if cam.missing_since is not None:
            reasons.append("missing")
        if reasons:
            out.append((cam, tuple(reasons)))
    return sorted(out, key=lambda item: (item[0].site, item[0].id))
