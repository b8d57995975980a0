"""MOUs → casbin policy lines over camera attributes → an immutable lookup index.

Stock pycasbin scans every policy line per ``enforce`` call (tens of ms at 10k lines) and its
FastEnforcer mutates shared state (not thread-safe). camgate therefore uses casbin to hold and check the
policy (``policies/model.conf``: ``agency, role, site, zone, act``) and, once per load, turns the lines
casbin holds into a frozen dictionary keyed by the request attributes. Lookups are O(1), lock-free, and
the policy is immutable, so a reload builds a new :class:`CompiledPolicy` and swaps it in whole. Building
is linear in the number of lines: they reach casbin in one bulk load (see :class:`_Lines`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import casbin
from casbin import model as casbin_model
from casbin import persist

from broker.documents.inventory import Camera, Inventory
from broker.documents.mou import Grant, Mou
from broker.gcpause import gc_paused

AttrKey = tuple[str, str, str, str]  # agency, site, zone, action
# mou id -> the (agency, sub) pairs on its roster in force (issue 14, item 5; kept by the broker's store)
Rosters = Mapping[str, frozenset[tuple[str, str]]]


@dataclass(frozen=True, slots=True)
class CompiledGrant:
    mou: str
    grant: Grant
    order: int  # position in (mou id, document) order: the contract's precedence
    roles: frozenset[str]
    emergency: bool
    days: frozenset[int] | None
    minutes: tuple[int, int] | None
    max_age: timedelta | None
    from_: timedelta


@dataclass(frozen=True, slots=True)
class CompiledMou:
    doc: Mou
    tz: ZoneInfo
    start: datetime  # effective, 00:00 local
    end: datetime | None  # the instant after expires 23:59:59 local
    zones: frozenset[str]
    never: frozenset[str]
    roster_agencies: frozenset[str] = frozenset()  # recipients whose users must be named (the MOU's roster)
    rostered: frozenset[tuple[str, str]] = frozenset()  # (agency, sub) named on the roster in force

    def on_roster(self, agency: str, sub: str) -> bool:
        """True unless the MOU requires a roster of ``agency`` and ``sub`` is not on it (an absent roster is empty)."""
        return agency not in self.roster_agencies or (agency, sub) in self.rostered

    def in_effect(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


@dataclass(frozen=True)
class CompiledPolicy:
    cameras: dict[str, Camera]
    mous: dict[str, CompiledMou]
    candidates: dict[tuple[str, str], tuple[CompiledMou, ...]]  # (agency, site) -> MOUs in id order
    index: dict[AttrKey, tuple[CompiledGrant, ...]]
    lines: int
    enforcer: casbin.Enforcer = field(repr=False)


def covered_sites(mou: Mou, sites_by_owner: dict[str, list[str]]) -> list[str]:
    if mou.sites == ["*"]:
        return list(sites_by_owner.get(mou.parties.owner, []))
    return list(mou.sites)


def policy_lines(mous: Sequence[Mou], inventory: Inventory) -> list[list[str]]:
    """One casbin line per (grant, role, site, zone, action)."""
    sites_by_owner = inventory.index().sites_by_owner
    lines: list[list[str]] = []
    for mou in sorted(mous, key=lambda m: m.mou):
        sites = covered_sites(mou, sites_by_owner)
        for grant in mou.grants:
            for role in grant.roles:
                for site in sites:
                    for zone in grant.zones:
                        for act in grant.actions:
                            lines.append([grant.agency, role, site, zone, act, mou.mou, grant.id])
    return lines


class _Lines(persist.Adapter):
    """Hands casbin every line at once, through its adapter interface, as a file or database adapter would.

    ``Enforcer.add_policies`` checks each new line against every line already held (a list scan, quadratic:
    92 s for 50,000 lines); here duplicates are dropped with a set first, and casbin's ``load_policy`` takes
    the lot. Each line must have exactly the fields of the model's ``p`` definition.
    """

    def __init__(self, lines: Sequence[Sequence[str]]) -> None:
        self._lines = [list(line) for line in dict.fromkeys(tuple(line) for line in lines)]

    def load_policy(self, model: casbin_model.Model) -> None:
        assertion = model.model["p"]["p"]
        width = len(assertion.tokens)
        for line in self._lines:
            if len(line) != width:
                raise ValueError(f"policy line {line} has {len(line)} fields; the model's p has {width}")
        assertion.policy.extend(self._lines)


def new_enforcer(model_text: str, lines: Sequence[Sequence[str]] = ()) -> casbin.Enforcer:
    """A casbin enforcer over ``model_text`` holding ``lines`` (loaded in bulk, duplicates dropped)."""
    m = casbin_model.Model()
    m.load_model_from_text(model_text)
    return casbin.Enforcer(m, _Lines(lines))


def _compile_mou(mou: Mou, rosters: Rosters) -> CompiledMou:
    start, end = mou.period()
    agencies = frozenset(mou.roster.agencies) if mou.roster is not None else frozenset()
    named = frozenset(p for p in rosters.get(mou.mou, frozenset()) if p[0] in agencies)
    return CompiledMou(mou, ZoneInfo(mou.timezone), start, end, frozenset(mou.zones), mou.never_zones, agencies, named)


def _compile_grant(mou: Mou, grant: Grant, order: int) -> CompiledGrant:
    sched, pb = grant.schedule, grant.playback
    return CompiledGrant(
        mou=mou.mou,
        grant=grant,
        order=order,
        roles=frozenset(grant.roles),
        emergency=grant.when == "emergency",
        days=sched.weekday_numbers if sched else None,
        minutes=sched.minutes if sched else None,
        max_age=pb.max_age if pb else None,
        from_=(pb.from_ if pb and pb.from_ is not None else timedelta(0)),
    )


def compile_policy(
    inventory: Inventory, mous: Sequence[Mou], model_text: str, rosters: Rosters | None = None
) -> CompiledPolicy:
    """Build the decision tables. Pure: documents, the rosters in force and the model text in, an immutable policy
    out. An MOU with a ``roster`` and no entry in ``rosters`` has an empty roster (nobody of those agencies)."""
    with gc_paused():  # hundreds of thousands of lines, no cycles: see broker/gcpause.py
        return _compile(inventory, mous, model_text, rosters or {})


def _compile(inventory: Inventory, mous: Sequence[Mou], model_text: str, rosters: Rosters) -> CompiledPolicy:
    ordered = sorted(mous, key=lambda m: m.mou)
    lines = policy_lines(ordered, inventory)
    enforcer = new_enforcer(model_text, lines)
    compiled = {m.mou: _compile_mou(m, rosters) for m in ordered}
    grants: dict[tuple[str, str], CompiledGrant] = {}
    order = 0
    for mou in ordered:
        for grant in mou.grants:
            grants[(mou.mou, grant.id)] = _compile_grant(mou, grant, order)
            order += 1
    # The index is read back from casbin's own policy, so what casbin holds is what is enforced.
    buckets: dict[AttrKey, dict[int, CompiledGrant]] = {}
    for agency, _role, site, zone, act, mou_id, grant_id in enforcer.get_policy():
        cg = grants[(mou_id, grant_id)]
        buckets.setdefault((agency, site, zone, act), {})[cg.order] = cg
    index = {k: tuple(v[o] for o in sorted(v)) for k, v in buckets.items()}
    inv = inventory.index()
    candidates: dict[tuple[str, str], list[CompiledMou]] = {}
    for mou in ordered:
        for site in covered_sites(mou, inv.sites_by_owner):
            for agency in mou.parties.recipients:
                candidates.setdefault((agency, site), []).append(compiled[mou.mou])
    return CompiledPolicy(
        cameras=dict(inv.cameras),
        mous=compiled,
        candidates={k: tuple(v) for k, v in candidates.items()},
        index=index,
        lines=len(enforcer.get_policy()),
        enforcer=enforcer,
    )


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)
