"""The impact of an MOU change in words (issue 14, item 3): one line per (agency, role, mode). Pure.

``New Canaan Police Department officers: +3 exterior cameras (export); −5 interior cameras in emergencies (live,
snapshot, playback): zone interior now never shared``. Cameras are counted per zone and per set of actions; a loss
says why with the new version's denial reason (contract section 4).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from broker.admin.mous.impact import Outcome
from broker.documents.inventory import Camera
from broker.policy import ACTIONS
from broker.policy.plainwords import plural

MINUS = "\u2212"


def loss_words(reason: str, zone: str) -> str:
    """Why a camera is no longer shared, from the new version's denial reason (contract section 4)."""
    words = {
        "never_shared_zone": f"zone {zone} now never shared",
        "no_matching_grant": "no grant covers them now",
        "no_emergency": "now only in a declared emergency",
        "outside_schedule": "outside the new schedule at this hour",
        "outside_playback_window": "the footage asked for is now outside the window",
        "unclassified_camera": f"zone {zone} no longer defined",
        "mou_not_in_effect": "the MOU is not in effect",
        "no_mou": "their site is no longer covered",
        "unknown_camera": "unknown camera",
        "not_on_roster": "only the users the MOU names may use it now",
    }
    return words.get(reason, reason.replace("_", " "))


def _zone(camera: Camera | None) -> str:
    if camera is None or not camera.zone:
        return "unclassified"
    return camera.zone.replace("_", " ")


def _per_camera(by_action: Mapping[str, list[str]]) -> dict[str, tuple[str, ...]]:
    acts: dict[str, list[str]] = {}
    for action in ACTIONS:
        for cam in by_action.get(action, ()):
            acts.setdefault(cam, []).append(action)
    return {cam: tuple(a) for cam, a in acts.items()}


def _count(n: int, zone: str, mode: str) -> str:
    where = " in emergencies" if mode == "emergency" else ""
    return f"{n} {zone} camera{'s' if n != 1 else ''}{where}"


def impact_text(agency_name: str, role: str, mode: str, outcome: Outcome, cameras: Mapping[str, Camera]) -> str:
    """``<agency> <roles>: +N <zone> cameras[ in emergencies] (<actions>); −M … (<actions>): <why>``."""
    gains = Counter((_zone(cameras.get(cam)), acts) for cam, acts in _per_camera(outcome.gained).items())
    losses = Counter(
        (_zone(cameras.get(cam)), acts, loss_words(outcome.reasons.get(cam, ""), _zone(cameras.get(cam))))
        for cam, acts in _per_camera(outcome.lost).items()
    )
    parts = [f"+{_count(n, zone, mode)} ({', '.join(acts)})" for (zone, acts), n in sorted(gains.items())]
    parts += [
        f"{MINUS}{_count(n, zone, mode)} ({', '.join(acts)}): {why}" for (zone, acts, why), n in sorted(losses.items())
    ]
    return f"{agency_name} {plural(role)}: {'; '.join(parts)}"
