"""What the caller may do to a stored MOU, for the console to show only the controls that work (issue 14, item 8).

Pure: the same rules as :class:`broker.admin.mous.service.MouService` applies when the action is posted (the
service still decides; this only spares a person a button that would answer 403 or 409). Roles come from the
settings ``mous.parties.<agency>.editors/approvers``; either party's editors and approvers may terminate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from broker.admin.mous.lifecycle import OPEN_STATES, MouState, VersionState
from broker.policy import Principal
from broker.settings import MouSettings


@dataclass(frozen=True)
class Can:
    draft: bool = False  # post a new revision of this version, or the MOU's next version
    approve: bool = False  # countersign this version's current hash
    withdraw: bool = False  # take back the agency's standing approval of this version
    terminate: bool = False  # end the MOU at once

    def json(self) -> dict[str, Any]:
        return asdict(self)


def _roles(settings: MouSettings, principal: Principal, kind: str) -> bool:
    cfg = settings.parties.get(principal.agency)
    if cfg is None:
        return False
    allowed = set(cfg.editors) | set(cfg.approvers) if kind == "terminators" else set(getattr(cfg, kind))
    return bool(allowed & set(principal.roles))


def may_draft_new(settings: MouSettings, principal: Principal) -> bool:
    """Whether the caller may draft an MOU at all (a new one names their agency as a party)."""
    return settings.source == "store" and _roles(settings, principal, "editors")


def can(settings: MouSettings, principal: Principal, state: MouState, v: VersionState | None = None) -> Can:
    """What the caller may do to ``v`` (default: the newest version) of the MOU in ``state``."""
    v = v or state.latest
    # A party the version drops signs its own way out (lifecycle.py, issue 14 item 2): it may approve or withdraw.
    if settings.source != "store" or state.terminated_at is not None or principal.agency not in v.signatories:
        return Can()
    approver = _roles(settings, principal, "approvers")
    mine = any(a.agency == principal.agency for a in v.approvals)
    basis = state.in_force or state.latest
    return Can(
        draft=_roles(settings, principal, "editors")
        and v.version == state.latest.version
        and principal.agency in (v.signatories if v.state in OPEN_STATES else v.parties),
        approve=approver and v.state in OPEN_STATES and v.doc is not None and principal.agency in v.missing,
        withdraw=approver and v.state in ("proposed", "approved") and mine,
        terminate=principal.agency in basis.parties and _roles(settings, principal, "terminators"),
    )
