"""The policy decision point: the access contract's section 4, step by step. Pure: no I/O, no clock.

``decide`` takes a frozen :class:`AccessRequest` (the instant is part of it) and returns a
:class:`Decision`; the yields it passed through are kept on the decision for the audit entry.
"""

from __future__ import annotations

from broker.documents.inventory import Camera
from broker.policy.compile import CompiledGrant, CompiledMou, CompiledPolicy
from broker.policy.coverage import covers
from broker.policy.types import DENY_PRECEDENCE, FOOTAGE_ACTIONS, AccessRequest, Decision, EmergencyView

_RANK = {reason: i for i, reason in enumerate(DENY_PRECEDENCE)}
Yield = tuple[str, str | None, str | None]


class DecisionPoint:
    def __init__(self, policy: CompiledPolicy) -> None:
        self.policy = policy

    def camera(self, camera_id: str) -> Camera | None:
        return self.policy.cameras.get(camera_id)

    def decide(self, req: AccessRequest) -> Decision:
        pol = self.policy
        camera = pol.cameras.get(req.camera)
        if camera is None:  # section 4, step 1
            return Decision(False, "unknown_camera")
        agency = req.principal.agency
        candidates = pol.candidates.get((agency, camera.site))
        if not candidates:  # step 2
            return Decision(False, "no_mou")
        zone = camera.zone
        if zone is not None:  # step 3: a never zone in any candidate MOU denies (deny overrides)
            for cm in candidates:
                if zone in cm.never:
                    return Decision(False, "never_shared_zone", mou=cm.doc.mou)
        rules = pol.index.get((agency, camera.site, zone or "", req.action), ())
        roles = req.principal.roles
        yields: list[tuple[str, CompiledMou, CompiledGrant | None]] = []
        for cm in candidates:  # step 4, in mou id order
            if not cm.in_effect(req.at):
                yields.append(("mou_not_in_effect", cm, None))
                continue
            if zone is None or zone not in cm.zones:
                yields.append(("unclassified_camera", cm, None))
                continue
            applicable = False
            for cg in rules:
                if cg.mou != cm.doc.mou or roles.isdisjoint(cg.roles):
                    continue
                applicable = True
                if not cm.on_roster(agency, req.principal.sub):
                    # The MOU's roster (issue 14, item 5): only the named users of these agencies may use its
                    # grants; checked first, since no schedule, emergency or window would let anyone else in.
                    yields.append(("not_on_roster", cm, cg))
                    continue
                failure, emergency = self._check(cg, cm, camera, req)
                if failure is None:  # step 5: the first allowing grant wins
                    trail = tuple(_trail(yields))
                    g = cg.grant
                    return Decision(True, "allowed", cm.doc.mou, g.id, g.clause, emergency, trail)
                yields.append((failure, cm, cg))
            if not applicable:
                yields.append(("no_matching_grant", cm, None))
        return _deny(yields)

    @staticmethod
    def _check(cg: CompiledGrant, cm: CompiledMou, camera: Camera, req: AccessRequest) -> tuple[str | None, str | None]:
        at = req.at
        if cg.days is not None and cg.minutes is not None:
            local = at.astimezone(cm.tz)  # schedule: local time of `at` in the MOU's timezone
            minute = local.hour * 60 + local.minute
            if local.weekday() not in cg.days or not (cg.minutes[0] <= minute < cg.minutes[1]):
                return "outside_schedule", None
        emergency: EmergencyView | None = None
        if cg.emergency:
            # when: emergency needs an emergency of this MOU covering the camera; first in request order.
            emergency = next(
                (e for e in req.emergencies if e.mou == cg.mou and covers(e, camera, at, req.position)), None
            )
            if emergency is None:
                return "no_emergency", None
        if req.action in FOOTAGE_ACTIONS:
            window = req.window
            if window is None:
                return "outside_playback_window", None
            if emergency is not None:
                if window.start < emergency.declared_at + cg.from_:
                    return "outside_playback_window", None
            elif cg.max_age is not None and window.start < at - cg.max_age:
                return "outside_playback_window", None
        return None, emergency.id if emergency is not None else None


def _trail(yields: list[tuple[str, CompiledMou, CompiledGrant | None]]) -> list[Yield]:
    return [(r, cm.doc.mou, cg.grant.id if cg else None) for r, cm, cg in yields]


def _deny(yields: list[tuple[str, CompiledMou, CompiledGrant | None]]) -> Decision:
    """Step 6: the first yield of the highest-precedence reason."""
    reason, cm, cg = min(enumerate(yields), key=lambda iy: (_RANK[iy[1][0]], iy[0]))[1]
    grant = cg.grant if cg else None
    return Decision(
        False,
        reason,
        cm.doc.mou,
        grant.id if grant else None,
        grant.clause if grant else None,
        None,
        tuple(_trail(yields)),
    )
