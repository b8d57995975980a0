"""Inventory sync's merge: the inventory school IT maintains + what each camera system lists + now -> the new
inventory text, its unified diff and a summary. Pure: no I/O, no clock (``now`` is an argument).

The rules (README "Inventory sync"):

- a camera already in the inventory, matched by ``system`` and ``ref``, keeps its classification (site,
  building, zone, location, name) untouched;
- a camera its system lists that the inventory lacks is added *unclassified* (no ``zone``: contract §4, an
  unclassified camera yields ``unclassified_camera`` and is never shared) with a generated id
  ``<system>-<slugified ref>``, the name the system gives it, ``discovered_at`` and a site: the system's
  ``sync_site``, else the site most of that system's cameras are at, else the only site its owner has;
- a camera its system no longer lists gets ``missing_since`` (flagged, never dropped); one that reappears loses
  the flag. Only systems that answered are compared: a system that could not be asked flags nothing.

The text is edited, not re-serialised (:mod:`broker.inventory.yamledit`), and the result is parsed and
validated again and compared with what was meant before anyone may write it.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from broker.adapterapi import DiscoveredCamera
from broker.documents.common import IDENT_RE
from broker.documents.inventory import Camera, Inventory
from broker.documents.loader import parse_inventory
from broker.errors import DocumentError
from broker.inventory.yamledit import EditError, InventoryText, flow_mapping, quoted, scalar
from broker.timeutil import format_instant

MAX_NAME = 200  # characters of an upstream camera name kept


class MergeError(ValueError):
    """The merge cannot be written; the message says why and what to do."""


@dataclass
class SystemChanges:
    """What one system's listing changed."""

    discovered: int = 0
    added: list[str] = field(default_factory=list)  # new camera ids
    flagged: list[str] = field(default_factory=list)  # camera ids now missing_since
    unflagged: list[str] = field(default_factory=list)  # camera ids back again
    still_missing: list[str] = field(default_factory=list)  # flagged before, still not listed
    unplaced: list[str] = field(default_factory=list)  # refs not added: no site to put them at
    site: str | None = None  # where new cameras went

    def to_dict(self) -> dict[str, Any]:
        return {"discovered": self.discovered, "added": self.added, "flagged": self.flagged,
                "unflagged": self.unflagged, "still_missing": self.still_missing, "unplaced": self.unplaced,
                "site": self.site}  # fmt: skip


@dataclass
class MergeResult:
    old_text: str
    text: str
    diff: str
    systems: dict[str, SystemChanges]
    problems: list[str]  # things school IT must fix (a system with no site for new cameras)

    @property
    def changed(self) -> bool:
        return self.text != self.old_text

    @property
    def diff_sha256(self) -> str:
        return hashlib.sha256(self.diff.encode("utf-8")).hexdigest()

    def counts(self) -> dict[str, int]:
        s = self.systems.values()
        return {"discovered": sum(c.discovered for c in s), "added": sum(len(c.added) for c in s),
                "flagged": sum(len(c.flagged) for c in s), "unflagged": sum(len(c.unflagged) for c in s),
                "still_missing": sum(len(c.still_missing) for c in s),
                "unplaced": sum(len(c.unplaced) for c in s)}  # fmt: skip


def slug(text: str) -> str:
    """Lower-case letters, digits, ``.``, ``_`` and ``-``; runs of anything else become one ``-``."""
    return re.sub(r"[^a-z0-9._]+", "-", text.lower()).strip("-._")


def new_id(system: str, ref: str, taken: set[str]) -> str:
    """``<system>-<slug(ref)>``, shortened to an identifier (contract preamble) and made unique with ``-2``, ..."""
    base = f"{system}-{slug(ref) or 'camera'}"[:64].rstrip("-._")
    candidate, n = base, 1
    while candidate in taken or not IDENT_RE.match(candidate):
        n += 1
        suffix = f"-{n}"
        candidate = base[: 64 - len(suffix)].rstrip("-._") + suffix
    taken.add(candidate)
    return candidate


def clean_name(name: str, ref: str) -> str:
    """The upstream name as one line of at most :data:`MAX_NAME` characters (the ref when it is empty)."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in name).split())[:MAX_NAME].strip()
    return text or ref


def site_for(inv: Inventory, system_id: str) -> str | None:
    """The site new cameras of ``system_id`` go to: ``sync_site``, the most common site of its cameras (the
    first in document order on a tie), or the only site its owner has; None when none of these exists."""
    system = next(s for s in inv.systems if s.id == system_id)
    if system.sync_site is not None:
        return system.sync_site
    counts = Counter(c.site for c in inv.cameras if c.system == system_id)
    if counts:
        return counts.most_common(1)[0][0]  # most_common keeps first-seen order among equal counts
    owned = [s.id for s in inv.sites if s.owner == system.owner]
    return owned[0] if len(owned) == 1 else None


def merge(
    text: str, discovered: Mapping[str, Sequence[DiscoveredCamera]], now: datetime, *, name: str = "inventory.yaml"
) -> MergeResult:
    """Merge each listed system's cameras into the inventory ``text`` (raises DocumentError if it is invalid,
    MergeError if it cannot be edited safely)."""
    inv = parse_inventory(text, name)
    systems = {s.id for s in inv.systems}
    unknown = sorted(set(discovered) - systems)
    if unknown:
        raise MergeError(f"not systems of the inventory: {', '.join(unknown)}")
    try:
        return _merge(text, inv, discovered, now, name)
    except EditError as exc:
        raise MergeError(str(exc)) from None


def _merge(
    text: str, inv: Inventory, discovered: Mapping[str, Sequence[DiscoveredCamera]], now: datetime, name: str
) -> MergeResult:
    stamp = format_instant(now.replace(microsecond=0))
    assert stamp is not None
    doc = InventoryText(text)
    taken = {c.id for c in inv.cameras}
    changes: dict[str, SystemChanges] = {}
    expected = list(inv.cameras)
    new_lines: list[str] = []
    problems: list[str] = []
    for system in (s.id for s in inv.systems if s.id in discovered):
        listed: dict[str, DiscoveredCamera] = {}
        for found in discovered[system]:
            listed.setdefault(found.ref, found)
        ch = changes[system] = SystemChanges(discovered=len(listed))
        known: set[str] = set()
        for i, cam in enumerate(inv.cameras):
            if cam.system != system or cam.ref is None:
                continue
            known.add(cam.ref)
            if cam.ref in listed and cam.missing_since is not None:
                doc.remove_key(i, "missing_since")
                expected[i] = cam.model_copy(update={"missing_since": None})
                ch.unflagged.append(cam.id)
            elif cam.ref not in listed and cam.missing_since is None:
                doc.set_key(i, "missing_since", quoted(stamp))
                expected[i] = cam.model_copy(update={"missing_since": now.replace(microsecond=0)})
                ch.flagged.append(cam.id)
            elif cam.ref not in listed:
                ch.still_missing.append(cam.id)
        fresh = [c for ref, c in listed.items() if ref not in known]
        if not fresh:
            continue
        site = ch.site = site_for(inv, system)
        if site is None:
            ch.unplaced = [c.ref for c in fresh]
            problems.append(f"system {system!r}: {len(fresh)} new camera(s) not added: no site to put them at; "
                            f"set sync_site on the system in the inventory")  # fmt: skip
            continue
        for found in fresh:
            camera = Camera(id=new_id(system, found.ref, taken), name=clean_name(found.name, found.ref), site=site,
                            system=system, ref=found.ref, discovered_at=now.replace(microsecond=0))  # fmt: skip
            expected.append(camera)
            ch.added.append(camera.id)
            new_lines.append(flow_mapping([
                ("id", scalar(camera.id)), ("name", scalar(camera.name)), ("site", scalar(site)),
                ("system", scalar(system)), ("ref", scalar(found.ref)), ("discovered_at", quoted(stamp)),
            ]))  # fmt: skip
    doc.append_cameras(new_lines)
    new_text = doc.result()
    _check(new_text, name, inv, expected)
    diff = "".join(difflib.unified_diff(text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}"))  # fmt: skip
    return MergeResult(text, new_text, diff, changes, problems)


def _check(new_text: str, name: str, old: Inventory, cameras: list[Camera]) -> None:
    """The edited text must say exactly what was meant, or nothing is written (fail closed)."""
    try:
        new = parse_inventory(new_text, name)
    except DocumentError as exc:
        raise MergeError(f"the edited inventory does not validate, so it is not written: {exc.lines()}") from None
    if new.model_copy(update={"cameras": []}) != old.model_copy(update={"cameras": []}) or new.cameras != cameras:
        raise MergeError("the edited inventory does not read back as intended (YAML anchors or merge keys among "
                         "the cameras?), so it is not written: write those cameras out plainly")  # fmt: skip
