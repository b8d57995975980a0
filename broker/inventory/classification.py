"""Classifying a camera (issue 14, item 7): its site, building, zone and location. Pure: checks and text edits.

School IT gives a camera that inventory sync added (no zone: denied ``unclassified_camera`` under every MOU,
contract §4) its place: ``PUT /api/v1/cameras/{id}/classification`` (:mod:`broker.admin.classify`). Here:

- :func:`check`: the site must be one of the caller's agency's sites, the building one the inventory names at that
  site (a camera there has it), and the zone one that an MOU covering the site defines (``zones`` keys, ``never``
  zones included: they are classified too, contract §2). Each refusal is an :class:`InvalidRequest` naming its
  field; a zone's names the zone and the zones that are defined.
- :func:`classified_text`: the inventory text with one camera's four keys set (or removed: no building, no
  location), every other byte kept (:mod:`broker.inventory.yamledit`, as inventory sync edits the file).
- :func:`overlaid_text`: the text with the store's classifications applied on top (``mous.source = "store"``):
  a camera the file no longer lists is skipped; one whose file entry says the same already is left as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode

from broker.documents import Camera
from broker.errors import InvalidRequest
from broker.inventory.catalog import Catalog
from broker.inventory.unclassified import classified_zones
from broker.inventory.yamledit import EditError, InventoryText, flow_mapping, scalar

KEYS = ("site", "building", "zone", "location")


@dataclass(frozen=True)
class Classification:
    """Where a camera is, as school IT says it: ``zone`` None only for a camera not classified yet."""

    site: str
    building: str | None
    zone: str | None
    location: tuple[float, float] | None = None  # (lat, lon)

    @classmethod
    def of(cls, cam: Camera) -> Classification:
        loc = (cam.location.lat, cam.location.lon) if cam.location is not None else None
        return cls(cam.site, cam.building, cam.zone, loc)

    def to_dict(self) -> dict[str, Any]:
        loc = {"lat": self.location[0], "lon": self.location[1]} if self.location is not None else None
        return {"site": self.site, "building": self.building, "zone": self.zone, "location": loc}


def owns(catalog: Catalog, cam: Camera, agency: str) -> bool:
    """The agency runs the camera: its site, or its camera system, is the agency's (as the unclassified list)."""
    index = catalog.index
    site = index.sites.get(cam.site)
    system = index.systems.get(cam.system) if cam.system is not None else None
    return (site is not None and site.owner == agency) or (system is not None and system.owner == agency)


def _names(items: Iterable[str]) -> str:
    return ", ".join(sorted(items)) or "(none)"


def check(catalog: Catalog, agency: str, new: Classification) -> None:
    """Refuse (422, naming the field) a site, building or zone that ``agency`` cannot give a camera."""
    mine = catalog.index.sites_by_owner.get(agency, [])
    if new.site not in mine:
        raise InvalidRequest(f"unknown site {new.site!r}: your agency's sites are {_names(mine)}", field="site")
    buildings = catalog.buildings(new.site)
    if new.building is not None and new.building not in buildings:
        raise InvalidRequest(
            f"unknown building {new.building!r} at site {new.site}: the inventory names {_names(buildings)} there "
            "(a new building is added to the inventory by hand)",
            field="building",
        )
    # Contract §4: a zone no MOU covering the site defines leaves the camera unclassified (denied to everyone).
    defined = classified_zones(catalog).get(new.site, frozenset())
    if new.zone is None or new.zone not in defined:
        raise InvalidRequest(
            f"zone {new.zone!r} is not defined by the MOUs covering site {new.site}; they define: {_names(defined)}",
            field="zone",
        )


def _scalar(node: Node | None) -> str | None:
    if not isinstance(node, ScalarNode) or node.tag == "tag:yaml.org,2002:null":
        return None
    return str(node.value)


def _as_written(node: Node) -> tuple[str, Classification | None] | None:
    """A camera item's id and classification as the YAML says (None: not a camera; no classification: unreadable)."""
    if not isinstance(node, MappingNode):
        return None
    keys = {k.value: v for k, v in node.value if isinstance(k, ScalarNode)}
    camera, site = _scalar(keys.get("id")), _scalar(keys.get("site"))
    if camera is None:
        return None
    loc, where = keys.get("location"), None
    if isinstance(loc, MappingNode):
        pair = {k.value: _scalar(v) for k, v in loc.value if isinstance(k, ScalarNode)}
        try:
            where = (float(pair["lat"] or ""), float(pair["lon"] or ""))
        except (KeyError, ValueError):
            return camera, None
    elif _scalar(loc) is not None:
        return camera, None
    if site is None:
        return camera, None
    return camera, Classification(site, _scalar(keys.get("building")), _scalar(keys.get("zone")), where)


def _cameras(doc: InventoryText) -> dict[str, tuple[int, Classification | None]]:
    """camera id -> its index in ``cameras`` and its classification, as written (no validation)."""
    out: dict[str, tuple[int, Classification | None]] = {}
    for i, node in enumerate(doc.cameras):
        written = _as_written(node)
        if written is not None and written[0] not in out:
            out[written[0]] = (i, written[1])
    return out


def _location(loc: tuple[float, float]) -> str:
    return flow_mapping([("lat", repr(float(loc[0]))), ("lon", repr(float(loc[1])))])


def _edit(doc: InventoryText, edits: list[tuple[int, Classification, Classification | None]]) -> str:
    """One pass per key removed (only when one is), then one for the sets, so that no two edits of one camera ever
    overlap. ``edits``: (index, new, as written)."""
    text = doc.text
    for key in ("building", "location"):  # location is rewritten below as one flow mapping, if any
        gone = [i for i, new, old in edits if key == "location" or new.building is None]
        if not any(old is None or getattr(old, key) is not None for i, _, old in edits if i in gone):
            continue
        doc = InventoryText(text) if text is not doc.text else doc
        for index in gone:
            doc.remove_key(index, key)
        text = doc.result()
    doc = InventoryText(text) if text is not doc.text else doc
    for index, new, _ in edits:
        doc.set_key(index, "site", scalar(new.site))
        if new.building is not None:
            doc.set_key(index, "building", scalar(new.building))
        if new.zone is not None:
            doc.set_key(index, "zone", scalar(new.zone))
        if new.location is not None:
            doc.set_key(index, "location", _location(new.location))
    return doc.result()


def _item_span(text: str, camera: str) -> tuple[int, int] | None:
    """Where the ``cameras:`` item whose first key is ``id: <camera>`` is written: from its line to the next line
    indented no deeper than its dash (the next item or key); None when that is not one plain match."""
    item = re.compile(
        rf"^([ \t]*)-[ \t]+(?:\{{[ \t]*)?id:[ \t]*([\"']?){re.escape(camera)}\2(?=[ \t]*(?:[,}}#]|\r?$))", re.M
    )
    found = list(item.finditer(text))
    if len(found) != 1:
        return None
    start, indent = found[0].start(), len(found[0].group(1))
    end = text.find("\n", found[0].end())
    while end >= 0:
        line = text[end + 1 : text.find("\n", end + 1) if text.find("\n", end + 1) >= 0 else len(text)]
        body = line.lstrip(" \t")
        if body.strip() and not body.startswith("#") and len(line) - len(body) <= indent:
            return start, end + 1
        end = text.find("\n", end + 1)
    return start, len(text)


def classified_text(text: str, camera: str, new: Classification) -> str:
    """``text`` with ``camera`` classified as ``new`` (unchanged when it says so already). Raises EditError when
    the camera is not in the text or cannot be edited as text.

    Only the camera's own item is composed when it can be told from the text (a plain ``- {id: …`` or ``- id: …``
    line: 10,000 cameras need not be composed for one), else the whole document."""
    span = _item_span(text, camera)
    if span is not None:
        head = "cameras:\n"
        try:
            doc = InventoryText(head + text[span[0] : span[1]])
            written = _cameras(doc)
        except EditError:
            written = {}
        if list(written) == [camera] and len(doc.cameras) == 1:
            current = written[camera][1]
            if current == new:
                return text
            return text[: span[0]] + _edit(doc, [(0, new, current)])[len(head) :] + text[span[1] :]
    return overlaid_text(text, {camera: new}, strict=True)


def overlaid_text(text: str, overlay: dict[str, Classification], *, strict: bool = False) -> str:
    """``text`` with each camera of ``overlay`` set as the overlay says, where the text says otherwise. A camera
    the text does not list is skipped (``strict``: EditError)."""
    if not overlay:
        return text
    doc = InventoryText(text)
    written = _cameras(doc)
    edits: list[tuple[int, Classification, Classification | None]] = []
    for camera, new in overlay.items():
        if camera not in written:
            if strict:
                raise EditError(f"camera {camera!r} is not in the inventory file")
            continue
        index, current = written[camera]
        if current != new:
            edits.append((index, new, current))
    return _edit(doc, sorted(edits, key=lambda e: e[0])) if edits else text
