"""Who gains or loses which action on which camera if a new version of an MOU replaced the old (issue 14, item 3).

Nothing here restates a rule of the contract: each version is compiled with :func:`broker.policy.compile_policy`
(with the other MOUs covering the same sites, whose never zones and grants still apply) and every answer is the
decision point's own (:meth:`DecisionPoint.decide`). Asked, for every (agency, role) a grant of either version
names, every camera of the sites either version covers, and every action, in two modes:

* ``always``: no emergency;
* ``emergency``: a synthetic emergency of this MOU covering the camera's whole site, declared ``lead`` before the
  instant so that every emergency grant's ``from`` (contract section 4: window start ≥ declared_at + from) admits
  the footage asked about. Only what changes in an emergency *beyond* the always mode is reported there.

Footage actions ask for the last second of footage, ``[at - 1 s, at)``, which any ``max_age`` admits. The instant
is ``at`` (now) for a version in effect then, else the same local weekday and time in its first (or last) week in
effect: schedules are compared at the same hour. Cameras are grouped where no decision can differ (the same
site coverage by MOUs, the same zone: the emergency is site-wide, so building and location do not matter) and
each group is decided once, on a representative camera, through the real decision point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from broker.documents.inventory import Camera, Inventory
from broker.documents.mou import Mou
from broker.policy import ACTIONS, AccessRequest, DecisionPoint, EmergencyView, Principal, Window, compile_policy
from broker.policy.compile import CompiledPolicy, covered_sites
from broker.policy.plainwords import Names
from broker.policy.types import FOOTAGE_ACTIONS

MODES = ("always", "emergency")
RECENT_FOOTAGE = timedelta(seconds=1)  # the window asked about: [at - 1 s, at)
EMERGENCY_ID = "camgate:impact"
SUB = "camgate:impact"  # the sub of the representative principals (never a person's)


@dataclass(frozen=True)
class Outcome:
    """The decisions of one (agency, role, mode) that differ, per camera: action -> allowed now, and why not."""

    gained: dict[str, list[str]] = field(default_factory=dict)  # action -> camera ids
    lost: dict[str, list[str]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)  # camera id -> the new version's denial reason


@dataclass(frozen=True)
class Impact:
    rows: list[tuple[str, str, str, Outcome]]  # (agency, role, mode, outcome), only those with a difference
    cameras: dict[str, Camera]  # every camera named in an outcome, by site then id


def instant_in(mou: Mou, at: datetime) -> datetime:
    """``at`` when ``mou`` is in effect then; else the same local weekday and time, whole weeks later (or earlier)
    within its period; else its first instant (a period shorter than a week)."""
    start, end = mou.period()
    if start <= at and (end is None or at < end):
        return at
    tz = ZoneInfo(mou.timezone)
    local = at.astimezone(tz).replace(tzinfo=None)
    step = timedelta(weeks=1) if at < start else -timedelta(weeks=1)
    weeks = max(1, int(abs(((start if at < start else end or at) - at) / timedelta(weeks=1))))
    for k in range(weeks, weeks + 2):
        probe = (local + step * k).replace(tzinfo=tz)
        if start <= probe and (end is None or probe < end):
            return probe
    return start


def emergency_lead(*mous: Mou) -> timedelta:
    """How long before the instant the synthetic emergency is declared: past every emergency grant's ``from``."""
    froms = [
        g.playback.from_
        for m in mous
        for g in m.grants
        if g.when == "emergency" and g.playback is not None and g.playback.from_ is not None
    ]
    return max([timedelta(0), *froms]) + timedelta(minutes=1)


def _covered(mous: Sequence[Mou], inventory: Inventory) -> set[str]:
    by_owner = inventory.index().sites_by_owner
    return {s for m in mous for s in covered_sites(m, by_owner)}


def _site_keys(policy: CompiledPolicy, agencies: set[str]) -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """Per site, which MOUs cover it for which of ``agencies``: a decision for an agency at a site reads only the
    MOUs covering that site for that agency (``candidates``, contract section 4 steps 2-4), so sites with equal
    keys are decided alike."""
    keys: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for (agency, site), cms in policy.candidates.items():
        if agency in agencies:
            keys.setdefault(site, []).append((agency, tuple(cm.doc.mou for cm in cms)))
    return {site: tuple(sorted(v)) for site, v in keys.items()}


class _Side:
    """One version compiled with its context, and how to ask its decision point."""

    def __init__(self, inventory: Inventory, mou: Mou, context: Sequence[Mou], model_text: str, at: datetime) -> None:
        self.mou = mou
        self.pdp = DecisionPoint(compile_policy(inventory, [*context, mou], model_text))
        self.at = instant_in(mou, at)

    def decide(self, principal: Principal, camera: Camera, action: str, mode: str, lead: timedelta) -> tuple[bool, str]:
        at = self.at
        emergencies: tuple[EmergencyView, ...] = ()
        if mode == "emergency":  # site-wide, of this MOU, active at `at` (contract section 3)
            view = EmergencyView(EMERGENCY_ID, self.mou.mou, camera.site, at - lead, at + timedelta(days=1))
            emergencies = (view,)
        window = Window(at - RECENT_FOOTAGE, at) if action in FOOTAGE_ACTIONS else None
        d = self.pdp.decide(AccessRequest(principal, camera.id, action, at, emergencies, window))
        return d.allowed, d.reason


def compute_impact(
    inventory: Inventory,
    old: Mou,
    new: Mou,
    model_text: str,
    at: datetime,
    context: Sequence[Mou] = (),
    *,
    grouped: bool = True,
) -> Impact:
    """The impact of replacing ``old`` by ``new`` (the same MOU), at ``at``, against ``inventory``; ``context``:
    the other MOUs in force (only those covering a site either version covers, for an agency either names in a
    grant, can change a decision: only those are compiled). ``grouped=False``: every camera decided on its own
    (the benchmark's baseline)."""
    principals = sorted({(g.agency, r) for m in (old, new) for g in m.grants for r in g.roles})
    agencies = {a for a, _ in principals}
    sites = _covered([old, new], inventory)
    by_owner = inventory.index().sites_by_owner
    others = [
        m
        for m in context
        if m.mou != old.mou and agencies & set(m.parties.recipients) and sites & set(covered_sites(m, by_owner))
    ]
    sides = (_Side(inventory, old, others, model_text, at), _Side(inventory, new, others, model_text, at))
    keys = [_site_keys(s.pdp.policy, agencies) for s in sides]
    classes: dict[object, list[Camera]] = {}
    for cam in inventory.cameras:
        if cam.site in sites:
            site_key = (keys[0].get(cam.site), keys[1].get(cam.site))
            classes.setdefault((site_key, cam.zone or "") if grouped else cam.id, []).append(cam)
    lead = emergency_lead(old, new)
    rows: list[tuple[str, str, str, Outcome]] = []
    named: set[str] = set()
    for agency, role in principals:
        principal = Principal(SUB, agency, frozenset({role}))
        changed: dict[str, dict[tuple[str, str], tuple[bool, str]]] = {mode: {} for mode in MODES}
        for members in classes.values():
            rep = members[0]
            for mode in MODES:
                for action in ACTIONS:
                    before = sides[0].decide(principal, rep, action, mode, lead)
                    after = sides[1].decide(principal, rep, action, mode, lead)
                    if before[0] != after[0]:
                        for cam in members:
                            changed[mode][(cam.id, action)] = after
        for key, after in list(changed["emergency"].items()):
            if changed["always"].get(key, (None,))[0] == after[0]:
                del changed["emergency"][key]  # the same change as always: said once, under always
        for mode in MODES:
            outcome = _outcome(changed[mode])
            if outcome.gained or outcome.lost:
                rows.append((agency, role, mode, outcome))
                named.update(cam for cam, _ in changed[mode])
    cams = sorted((c for c in inventory.cameras if c.id in named), key=lambda c: (c.site, c.id))
    return Impact(rows, {c.id: c for c in cams})


def _outcome(changed: dict[tuple[str, str], tuple[bool, str]]) -> Outcome:
    out = Outcome()
    for (cam, action), (allowed, reason) in sorted(changed.items()):
        (out.gained if allowed else out.lost).setdefault(action, []).append(cam)
        if not allowed:
            out.reasons.setdefault(cam, reason)  # the first action's, in name order
    return out


def names_of(inventory: Inventory) -> Names:
    return Names({a.id: a.name for a in inventory.agencies}, {s.id: s.name for s in inventory.sites})
