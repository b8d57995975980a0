"""What each partner agency may see of a camera now, and under which MOU, grant and clause. Pure: no I/O, no clock.

Nothing here re-states a rule of the contract: every answer is the decision point's own (:meth:`DecisionPoint.
decide`), asked for a representative principal per recipient agency and role. The roles asked about are the
ones the agency's grants name (in the MOUs covering the camera's site) for that action, so "officers,
dispatchers and supervisors may watch live under clause 4.1" is three real decisions that came out the same.
For ``playback`` and ``export`` the window asked about is the last second of footage: what was recorded just
now, which an always-grant's ``max_age`` and an emergency grant's ``from`` both admit when anything does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from broker.documents.inventory import Camera
from broker.documents.mou import Mou
from broker.policy.compile import CompiledPolicy
from broker.policy.engine import DecisionPoint
from broker.policy.types import (
    ACTIONS,
    FOOTAGE_ACTIONS,
    AccessRequest,
    Decision,
    EmergencyView,
    GeoPoint,
    Principal,
    Window,
)

REPRESENTATIVE_SUB = "camgate:sharing"  # the sub of the principals asked about (never a person's)
RECENT_FOOTAGE = timedelta(seconds=1)  # the playback/export window asked about: [at - 1 s, at)


@dataclass(frozen=True, slots=True)
class Sharing:
    """One answer for a recipient agency and an action, shared by the ``roles`` it holds for."""

    agency: str
    action: str
    shared: bool
    reason: str  # "allowed" or the decision point's denial reason (contract section 4)
    roles: tuple[str, ...]  # empty: no grant of the agency names a role for it
    mou: str | None = None
    grant: str | None = None
    clause: str | None = None
    emergency: str | None = None  # the covering emergency an emergency grant was allowed under


def recipients(policy: CompiledPolicy, site: str) -> tuple[str, ...]:
    """The agencies some MOU covering ``site`` names as recipients, sorted."""
    return tuple(sorted({agency for agency, s in policy.candidates if s == site}))


def roles_asked(policy: CompiledPolicy, agency: str, site: str, action: str) -> tuple[str, ...]:
    """The roles the agency's grants name for ``action`` in the MOUs covering ``site``; when none names the
    action, every role its grants name (so the answer says why not); sorted."""
    grants = [g for cm in policy.candidates.get((agency, site), ()) for g in cm.doc.grants if g.agency == agency]
    named = {r for g in grants if action in g.actions for r in g.roles}
    return tuple(sorted(named or {r for g in grants for r in g.roles}))


def share_camera(
    pdp: DecisionPoint,
    camera: Camera,
    at: datetime,
    emergencies: tuple[EmergencyView, ...] = (),
    position: GeoPoint | None = None,
    actions: Iterable[str] = ACTIONS,
) -> tuple[Sharing, ...]:
    """Per recipient agency and action, the decision point's answers at ``at`` grouped by outcome: roles whose
    decisions are equal (allowed or not, reason, mou, grant, clause, emergency) share one :class:`Sharing`.

    ``emergencies`` and ``position`` are what a real request for the camera would carry (the guard's inputs).
    """
    policy = pdp.policy
    out: list[Sharing] = []
    for agency in recipients(policy, camera.site):
        for action in actions:
            window = Window(at - RECENT_FOOTAGE, at) if action in FOOTAGE_ACTIONS else None
            groups: dict[Decision, list[str]] = {}  # decisions compare without their trail of yields
            for role in roles_asked(policy, agency, camera.site, action) or ("",):
                principal = Principal(REPRESENTATIVE_SUB, agency, frozenset({role} - {""}))
                req = AccessRequest(principal, camera.id, action, at, emergencies, window, position)
                d = _as_named(pdp, req, pdp.decide(req))
                groups.setdefault(d, []).extend([role] if role else [])
            out += [
                Sharing(agency, action, d.allowed, d.reason, tuple(roles), d.mou, d.grant, d.clause, d.emergency)
                for d, roles in groups.items()
            ]
    return tuple(out)


def _as_named(pdp: DecisionPoint, req: AccessRequest, d: Decision) -> Decision:
    """Under an MOU with a roster (issue 14, item 5) the representative is on no roster: ask again as someone the
    roster in force names, so the answer says what the named people get (``not_on_roster`` when none is named)."""
    cm = pdp.policy.mous.get(d.mou) if d.reason == "not_on_roster" and d.mou is not None else None
    named = sorted(sub for agency, sub in cm.rostered if agency == req.principal.agency) if cm is not None else []
    if not named:
        return d
    return pdp.decide(replace(req, principal=Principal(named[0], req.principal.agency, req.principal.roles)))


def owner_roles(mous: Iterable[Mou], agency: str) -> frozenset[str]:
    """The roles the MOUs ``agency`` owns name for ``agency`` itself (who declares, ends or confirms an emergency):
    the owner's staff with a part in them (principals, superintendents), who may see what the MOUs share."""
    roles: set[str] = set()
    for mou in mous:
        em = mou.emergency
        if mou.parties.owner != agency or em is None:
            continue
        parties = [*em.declare, *em.end, *(em.confirm.by if em.confirm is not None else [])]
        roles.update(r for p in parties if p.agency == agency for r in p.roles)
    return frozenset(roles)
