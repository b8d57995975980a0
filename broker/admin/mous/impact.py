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
from broker.policy.compile import covered_sites
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


def _site_keys(
    sites: set[str], old: Mou, new: Mou, others: Sequence[Mou], by_owner: dict[str, list[str]]
) -> dict[str, object]:
    """Per site, the MOUs covering it (the other MOUs, and whether each version does). A decision for an agency at
    a site reads only the MOUs covering that site naming that agency (the compiled ``candidates`` and ``index``,
    contract section 4 steps 2-5), so sites with equal keys are decided alike."""
    covering: dict[str, list[str]] = {site: [] for site in sites}
    for m in others:
        for site in covered_sites(m, by_owner):
            if site in covering:
                covering[site].append(m.mou)
    in_old, in_new = set(covered_sites(old, by_owner)), set(covered_sites(new, by_owner))
    return {site: (tuple(sorted(ms)), site in in_old, site in in_new) for site, ms in covering.items()}


def _only(inventory: Inventory, cameras: Sequence[Camera]) -> Inventory:
    """The inventory cut down to ``cameras`` and their sites: compiled faster, and deciding for them exactly as the
    whole one would (the lines of a site depend only on the MOUs covering it)."""
    sites = {c.site for c in cameras}
    kept = [s for s in inventory.sites if s.id in sites]
    return inventory.model_copy(update={"sites": kept, "cameras": list(cameras), "systems": []})


class _Side:
    """One version compiled with its context, and how to ask its decision point."""

    def __init__(
        self,
        inventory: Inventory,
        mou: Mou,
        context: Sequence[Mou],
        model_text: str,
        at: datetime,
        rostered: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        self.mou = mou
        rosters = {mou.mou: rostered}
        self.pdp = DecisionPoint(compile_policy(inventory, [*context, mou], model_text, rosters))
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


def _rostered(mou: Mou) -> frozenset[str]:
    return frozenset(mou.roster.agencies) if mou.roster is not None else frozenset()


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
    by_owner = inventory.index().sites_by_owner
    sites = {s for m in (old, new) for s in covered_sites(m, by_owner)}
    others = [
        m
        for m in context
        if m.mou != old.mou and agencies & set(m.parties.recipients) and sites & set(covered_sites(m, by_owner))
    ]
    keys = _site_keys(sites, old, new, others, by_owner)
    by_key: dict[object, list[Camera]] = {}
    for cam in inventory.cameras:
        if cam.site in sites:
            by_key.setdefault((keys[cam.site], cam.zone or "") if grouped else cam.id, []).append(cam)
    classes = list(by_key.values())
    asked = _only(inventory, [members[0] for members in classes])
    # Issue 14, items 3 and 5: where both versions require a roster of an agency, its people outside it are denied
    # by both, so the impact is what the named people gain or lose: the representative principal is on it. Where
    # only one version requires it, the principal is no one's named user: the roster's own effect shows.
    both = _rostered(old) & _rostered(new)
    on_roster = frozenset((agency, SUB) for agency in both)
    sides = tuple(_Side(asked, m, others, model_text, at, on_roster) for m in (old, new))
    lead = emergency_lead(old, new)
    rows: list[tuple[str, str, str, Outcome]] = []
    named: set[str] = set()
    for agency, role in principals:
        principal = Principal(SUB, agency, frozenset({role}))
        flips: dict[str, dict[tuple[int, str], tuple[bool, str]]] = {mode: {} for mode in MODES}
        for k, members in enumerate(classes):
            for mode in MODES:
                for action in ACTIONS:
                    before = sides[0].decide(principal, members[0], action, mode, lead)
                    after = sides[1].decide(principal, members[0], action, mode, lead)
                    if before[0] != after[0]:
                        flips[mode][(k, action)] = after
        for key, after in list(flips["emergency"].items()):
            if flips["always"].get(key, (None,))[0] == after[0]:
                del flips["emergency"][key]  # the same change as always: said once, under always
        for mode in MODES:
            outcome = _outcome(flips[mode], classes)
            if outcome.gained or outcome.lost:
                rows.append((agency, role, mode, outcome))
                named.update(cam for ids in (*outcome.gained.values(), *outcome.lost.values()) for cam in ids)
    cams = sorted((c for c in inventory.cameras if c.id in named), key=lambda c: (c.site, c.id))
    return Impact(rows, {c.id: c for c in cams})


def _outcome(flips: dict[tuple[int, str], tuple[bool, str]], classes: list[list[Camera]]) -> Outcome:
    """Each class's flips spread to its cameras: camera ids sorted; a camera's reason is its first lost action's,
    in name order."""
    out = Outcome()
    for (k, action), (allowed, reason) in sorted(flips.items(), key=lambda kv: kv[0][1]):
        ids = [c.id for c in classes[k]]
        (out.gained if allowed else out.lost).setdefault(action, []).extend(ids)
        if not allowed:
            for cam in ids:
                out.reasons.setdefault(cam, reason)
    for lists in (out.gained, out.lost):
        for ids in lists.values():
            ids.sort()
    return out


def names_of(inventory: Inventory) -> Names:
    return Names({a.id: a.name for a in inventory.agencies}, {s.id: s.name for s in inventory.sites})
