"""Frozen value types of the decision point: a request in, a :class:`Decision` out (contract section 4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Action = Literal["live", "snapshot", "playback", "export"]
ACTIONS: tuple[str, ...] = ("live", "snapshot", "playback", "export")
FOOTAGE_ACTIONS: frozenset[str] = frozenset({"playback", "export"})

# Denial reasons in the contract's precedence order (section 4, step 6): earlier wins. ``not_on_roster`` (issue 14,
# item 5) ranks just below ``outside_playback_window``: see policies/CONTRACT.md section 4 for why.
DENY_PRECEDENCE: tuple[str, ...] = (
    "outside_playback_window",
    "not_on_roster",
    "no_emergency",
    "outside_schedule",
    "no_matching_grant",
    "unclassified_camera",
    "mou_not_in_effect",
)
REASON_CODES: tuple[str, ...] = (
    "allowed",
    "unknown_camera",
    "no_mou",
    "never_shared_zone",
    *DENY_PRECEDENCE,
)


@dataclass(frozen=True, slots=True)
class Principal:
    sub: str
    agency: str
    roles: frozenset[str]

    @classmethod
    def of(cls, sub: str, agency: str, roles: list[str] | tuple[str, ...] | frozenset[str]) -> Principal:
        return cls(sub=sub, agency=agency, roles=frozenset(roles))


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class EmergencyView:
    """What the PDP needs to know of an emergency (contract section 3)."""

    id: str
    mou: str
    site: str
    declared_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    buildings: frozenset[str] = frozenset()
    zones: frozenset[str] = frozenset()
    center: GeoPoint | None = None
    radius_m: float | None = None

    @property
    def end(self) -> datetime:
        if self.ended_at is not None and self.ended_at < self.expires_at:
            return self.ended_at
        return self.expires_at

    def active_at(self, at: datetime) -> bool:
        return self.declared_at <= at < self.end


@dataclass(frozen=True, slots=True)
class AccessRequest:
    principal: Principal
    camera: str
    action: str
    at: datetime
    emergencies: tuple[EmergencyView, ...] = ()
    window: Window | None = None
    # Where a mobile camera is at ``at`` (its last position reported recently enough), found by the caller:
    # an input like the emergencies, so the decision stays a pure function of the request. None: unknown.
    position: GeoPoint | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer. ``yielded`` keeps every (reason, mou, grant) the procedure produced, for the audit entry."""

    allowed: bool
    reason: str
    mou: str | None = None
    grant: str | None = None
    clause: str | None = None
    emergency: str | None = None
    yielded: tuple[tuple[str, str | None, str | None], ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "mou": self.mou,
            "grant": self.grant,
            "clause": self.clause,
            "emergency": self.emergency,
        }
