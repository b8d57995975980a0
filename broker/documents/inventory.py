"""The inventory document (access contract, section 1): agencies, camera systems, sites, cameras."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from broker.documents.common import Ident, Instant, Location, Strict, TimezoneName

AgencyKind = Literal["school_district", "police", "parking", "fire", "other"]
Issue = tuple[tuple[str | int, ...], str]


class Agency(Strict):
    id: Ident
    name: str
    kind: AgencyKind


class System(Strict):
    """A camera system. Keys beyond these four belong to its adapter (validated by the adapter)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: Ident
    owner: Ident
    adapter: Ident
    base_url: str | None = None
    # camgate extension (contract §1): the site cameras that inventory sync adds for this system are put at.
    sync_site: Ident | None = None

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Site(Strict):
    id: Ident
    name: str
    owner: Ident
    timezone: TimezoneName
    location: Location | None = None


class Camera(Strict):
    id: Ident
    name: str
    site: Ident
    building: str | None = None
    zone: str | None = None
    location: Location | None = None
    system: Ident | None = None
    ref: str | None = None
    mobile: bool = False  # body-worn or in-car: located by its last reported position, not `location`
    # camgate extensions (contract §1), written by `camgate inventory sync` (broker/inventory/merge.py):
    discovered_at: Instant | None = None  # when sync found it upstream and added it (unclassified)
    missing_since: Instant | None = None  # when sync last saw its system without it (flagged, not dropped)


class Inventory(Strict):
    agencies: list[Agency] = Field(default_factory=list)
    systems: list[System] = Field(default_factory=list)
    sites: list[Site] = Field(default_factory=list)
    cameras: list[Camera] = Field(default_factory=list)

    def index(self) -> InventoryIndex:
        return InventoryIndex(self)


class InventoryIndex:
    """Dictionaries by id; built once per loaded inventory."""

    def __init__(self, inv: Inventory) -> None:
        self.inventory = inv
        self.agencies = {a.id: a for a in inv.agencies}
        self.systems = {s.id: s for s in inv.systems}
        self.sites = {s.id: s for s in inv.sites}
        self.cameras = {c.id: c for c in inv.cameras}
        self.sites_by_owner: dict[str, list[str]] = {}
        for site in inv.sites:
            self.sites_by_owner.setdefault(site.owner, []).append(site.id)


def check_inventory(inv: Inventory) -> list[Issue]:
    """Uniqueness and references (section 1). Returns (path, message) pairs."""
    issues: list[Issue] = []
    for section in ("agencies", "systems", "sites", "cameras"):
        seen: set[str] = set()
        for i, item in enumerate(getattr(inv, section)):
            if item.id in seen:
                issues.append(((section, i, "id"), f"duplicate id {item.id!r} in {section}"))
            seen.add(item.id)
    agencies = {a.id for a in inv.agencies}
    systems = {s.id for s in inv.systems}
    sites = {s.id for s in inv.sites}
    for i, system in enumerate(inv.systems):
        if system.owner not in agencies:
            issues.append((("systems", i, "owner"), f"unknown agency {system.owner!r}"))
        if system.sync_site is not None and system.sync_site not in sites:
            issues.append((("systems", i, "sync_site"), f"unknown site {system.sync_site!r}"))
    for i, site in enumerate(inv.sites):
        if site.owner not in agencies:
            issues.append((("sites", i, "owner"), f"unknown agency {site.owner!r}"))
    for i, cam in enumerate(inv.cameras):
        if cam.site not in sites:
            issues.append((("cameras", i, "site"), f"unknown site {cam.site!r}"))
        if cam.system is not None and cam.system not in systems:
            issues.append((("cameras", i, "system"), f"unknown system {cam.system!r}"))
    return issues
