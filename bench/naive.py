"""A straightforward evaluator of access contract section 4: the baseline of ``bench/decisions.py`` and the
oracle of ``tests/policy/test_reference.py``.

It loops over the documents directly for every request (every candidate MOU, every grant, no casbin, no
index, no precomputation beyond id lookups), so an indexing, ordering or precedence mistake in the real
decision point shows up as a disagreement, and its speed is what "re-checks every grant" costs.
"""

from __future__ import annotations

from datetime import timedelta
from math import asin, cos, radians, sin, sqrt
from typing import Any
from zoneinfo import ZoneInfo

from broker.documents.inventory import Inventory
from broker.documents.mou import Mou
from broker.policy import AccessRequest, EmergencyView

ORDER = ["outside_playback_window", "no_emergency", "outside_schedule", "no_matching_grant",
         "unclassified_camera", "mou_not_in_effect"]  # fmt: skip
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class NaiveEvaluator:
    def __init__(self, inv: Inventory, mous: list[Mou]) -> None:
        self.inv, self.mous = inv, mous
        self.cams = {c.id: c for c in inv.cameras}
        self.sites = {s.id: s for s in inv.sites}

    def decide(self, r: AccessRequest) -> tuple[Any, ...]:
        """(allowed, reason, mou, grant, clause, emergency)."""
        return _decide(self.cams, self.sites, self.mous, r)


def reference(inv: Inventory, mous: list[Mou], r: AccessRequest) -> tuple[Any, ...]:
    return NaiveEvaluator(inv, mous).decide(r)


def _decide(cams: dict[str, Any], sites: dict[str, Any], mous: list[Mou], r: AccessRequest) -> tuple[Any, ...]:
    cam = cams.get(r.camera)
    if cam is None:
        return (False, "unknown_camera", None, None, None, None)

    def covers_site(m: Mou) -> bool:
        return cam.site in m.sites or (m.sites == ["*"] and sites[cam.site].owner == m.parties.owner)

    cands = sorted(
        (m for m in mous if r.principal.agency in m.parties.recipients and covers_site(m)), key=lambda m: m.mou
    )
    if not cands:
        return (False, "no_mou", None, None, None, None)
    for m in cands:
        if cam.zone is not None and cam.zone in m.zones and m.zones[cam.zone].never:
            return (False, "never_shared_zone", m.mou, None, None, None)
    yields = []
    for m in cands:
        tz = ZoneInfo(m.timezone)
        local = r.at.astimezone(tz)
        if local.date() < m.effective or (m.expires is not None and local.date() > m.expires):
            yields.append(("mou_not_in_effect", m, None))
            continue
        if cam.zone is None or cam.zone not in m.zones:
            yields.append(("unclassified_camera", m, None))
            continue
        applied = False
        for g in m.grants:
            if not (g.agency == r.principal.agency and set(g.roles) & r.principal.roles and cam.zone in g.zones
                    and r.action in g.actions):  # fmt: skip
                continue
            applied = True
            fail, em = None, None
            if g.schedule is not None:
                start, end = (int(x[:2]) * 60 + int(x[3:]) for x in g.schedule.hours.split("-"))
                minute = local.hour * 60 + local.minute
                if DAYS[local.weekday()] not in g.schedule.days or not start <= minute < end:
                    fail = "outside_schedule"
            if fail is None and g.when == "emergency":
                em = next((e for e in r.emergencies if e.mou == m.mou and _covers(e, cam, r.at)), None)
                if em is None:
                    fail = "no_emergency"
            if fail is None and r.action in ("playback", "export"):
                max_age = g.playback.max_age if g.when == "always" and g.playback else None
                if max_age is not None and r.window.start < r.at - max_age:
                    fail = "outside_playback_window"
                if g.when == "emergency":
                    frm = g.playback.from_ if g.playback and g.playback.from_ is not None else timedelta(0)
                    if r.window.start < em.declared_at + frm:
                        fail = "outside_playback_window"
            if fail is None:
                return (True, "allowed", m.mou, g.id, g.clause, em.id if em else None)
            yields.append((fail, m, g))
        if not applied:
            yields.append(("no_matching_grant", m, None))
    for reason in ORDER:
        for y, m, g in yields:
            if y == reason:
                return (False, reason, m.mou, g.id if g else None, g.clause if g else None, None)
    raise AssertionError("no yield")


def _covers(e: EmergencyView, cam: Any, at: Any) -> bool:
    if e.site != cam.site or (e.buildings and cam.building not in e.buildings) or (e.zones and cam.zone not in e.zones):
        return False
    if e.center is not None:
        if cam.location is None:
            return False
        p1, p2 = radians(e.center.lat), radians(cam.location.lat)
        h = sin((p2 - p1) / 2) ** 2 + cos(p1) * cos(p2) * sin(radians(cam.location.lon - e.center.lon) / 2) ** 2
        if 2 * 6_371_008.8 * asin(min(1.0, sqrt(h))) > e.radius_m:
            return False
    end = e.ended_at if e.ended_at is not None and e.ended_at < e.expires_at else e.expires_at
    return e.declared_at <= at < end
