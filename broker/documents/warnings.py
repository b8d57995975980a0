"""Document warnings: mistakes that load but silently change what is shared (issue 13 item 19).

They never refuse a document set; ``camgate mou validate`` / ``inventory validate --mou``, ``camgate reload``,
the broker's start-up log and the console's School IT page all show them, as
``FILE:LINE: warning: path.to.field: message``:

- ``unknown_zone``: a camera's ``zone`` is a key of ``zones`` in no MOU covering its site, so the camera is
  unclassified under each of them and shared with no one (contract §4, ``unclassified_camera``); the warning lists
  the zones those MOUs define and suggests the nearest (:func:`difflib.get_close_matches`);
- ``mou_expired`` / ``mou_not_yet``: an MOU not in force today (contract §2: in force from 00:00 local on
  ``effective`` through 23:59:59 local on ``expires``), so every request under it is ``mou_not_in_effect`` (§4).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from broker.documents.inventory import Inventory
from broker.documents.mou import Mou
from broker.documents.yamlsrc import Located

WarningCode = Literal["unknown_zone", "mou_expired", "mou_not_yet"]
SUGGEST_CUTOFF = 0.75  # difflib ratio: "intrior" / "interior" is 0.93, "lot" / "exterior" 0.36


@dataclass(frozen=True)
class DocumentWarning:
    file: str
    line: int
    path: str
    message: str
    code: WarningCode
    subject: str  # the camera's id (unknown_zone) or the MOU's (mou_expired, mou_not_yet)

    def text(self) -> str:
        return f"{self.file}:{self.line}: warning: {self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "subject": self.subject,
            "file": self.file,
            "line": self.line,
            "path": self.path,
            "message": self.message,
        }


@dataclass(frozen=True)
class MouSource:
    """Where an MOU came from: its file and the lines of ``effective`` and ``expires``."""

    file: str
    effective_line: int
    expires_line: int

    @classmethod
    def of(cls, file: str, located: Located) -> MouSource:
        return cls(file, located.line_of(("effective",)), located.line_of(("expires",)))


def zones_by_site(inventory: Inventory, mous: Iterable[Mou]) -> dict[str, set[str]]:
    """site -> the zones some MOU covering it defines (contract §2: ``sites`` or ``["*"]``, the owner's sites)."""
    owned: dict[str, list[str]] = {}
    for site in inventory.sites:
        owned.setdefault(site.owner, []).append(site.id)
    out: dict[str, set[str]] = {}
    for mou in mous:
        for site_id in owned.get(mou.parties.owner, []) if mou.sites == ["*"] else mou.sites:
            out.setdefault(site_id, set()).update(mou.zones)
    return out


def zone_warnings(inventory: Inventory, mous: Iterable[Mou], lines: Located | None, file: str) -> list[DocumentWarning]:
    """Cameras whose zone no MOU covering their site defines (a site no MOU covers shares nothing anyway)."""
    zones = zones_by_site(inventory, mous)
    out: list[DocumentWarning] = []
    for i, cam in enumerate(inventory.cameras):
        defined = zones.get(cam.site)
        if cam.zone is None or not defined or cam.zone in defined:
            continue  # no zone yet is the "to classify" list's (GET /api/v1/inventory/unclassified), not a typo
        near = difflib.get_close_matches(cam.zone, sorted(defined), n=1, cutoff=SUGGEST_CUTOFF)
        hint = f" Did you mean {near[0]!r}?" if near else ""
        message = (
            f"zone {cam.zone!r} of camera {cam.id!r} is defined by no MOU covering site {cam.site!r} "
            f"(zones there: {', '.join(sorted(defined))}).{hint} Until then the camera is shared with no one."
        )
        path = ("cameras", i, "zone")
        line = lines.line_of(path) if lines is not None else 0
        out.append(DocumentWarning(file, line, f"cameras.{i}.zone", message, "unknown_zone", cam.id))
    return out


def period_warnings(mous: Iterable[Mou], sources: Mapping[str, MouSource], now: datetime) -> list[DocumentWarning]:
    """MOUs not in force at ``now``: every request under them is refused ``mou_not_in_effect``."""
    out: list[DocumentWarning] = []
    for mou in mous:
        start, end = mou.period()
        src = sources.get(mou.mou, MouSource("(mou)", 0, 0))
        if now < start:
            message = (
                f"MOU {mou.mou!r} is not in force yet: effective {mou.effective} ({mou.timezone}); until "
                "then every request under it is refused mou_not_in_effect"
            )
            out.append(DocumentWarning(src.file, src.effective_line, "effective", message, "mou_not_yet", mou.mou))
        elif end is not None and now >= end:
            message = (
                f"MOU {mou.mou!r} expired on {mou.expires} ({mou.timezone}): every request under it is "
                "refused mou_not_in_effect; renew it (a new expires and version) or remove it"
            )
            out.append(DocumentWarning(src.file, src.expires_line, "expires", message, "mou_expired", mou.mou))
    return out
