"""The body of ``POST /api/v1/emergencies`` and its checks against the MOU (contract sections 2-3)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from broker.admin.threat import check_threat
from broker.documents.mou import Mou
from broker.errors import InvalidRequest, PermissionDenied
from broker.policy import Principal
from broker.settings import EmergencySettings
from broker.text import unprintable


class Point(BaseModel):
    # strict: a JSON number only; lax mode took true as 1.0 and "41.1" as 41.1, a circle somewhere else.
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90, strict=True)
    lon: float = Field(ge=-180, le=180, strict=True)


class Declaration(BaseModel):
    """What a dispatcher sends in one action."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    mou: str = Field(min_length=1, max_length=64, description="The MOU whose emergency grants this activates")
    site: str = Field(min_length=1, max_length=64, description="The site the emergency covers")
    buildings: list[str] = Field(default_factory=list, max_length=100, description="Empty: every building")
    zones: list[str] = Field(default_factory=list, max_length=100, description="Empty: every zone")
    center: Point | None = Field(None, description="With radius_m: only cameras within the radius")
    radius_m: float | None = Field(
        None, gt=0, strict=True, validate_default=True, description="Radius around center, metres"
    )
    threat: str | None = Field(None, max_length=4000, description="The articulable and significant threat")
    incident: str | None = Field(None, max_length=200, description="CAD / incident number")
    duration_minutes: int | None = Field(None, gt=0, le=7 * 24 * 60, strict=True, description="Default: the MOU's")

    @field_validator("threat", "incident")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        # The threat is recorded and disclosed (34 CFR 99.32(a)(5)) and sent to the parties' webhooks as typed: no
        # NUL (PostgreSQL refuses it: the audit log would be marked unwritable), no bidi override. Lines and tabs stay.
        if value is not None and (problem := unprintable(value)) is not None:
            raise ValueError(problem)
        return value

    @field_validator("radius_m")
    @classmethod
    def _pair(cls, radius_m: float | None, info: ValidationInfo) -> float | None:
        # A field validator (not a model one) so the error names the field: body.radius_m, not body.
        # A center that failed its own validation is absent from info.data and reported on its own.
        if "center" in info.data and (info.data["center"] is None) != (radius_m is None):
            raise ValueError("center and radius_m go together")
        return radius_m


def may_declare(mou: Mou, principal: Principal) -> bool:
    em = mou.emergency
    return em is not None and any(
        p.agency == principal.agency and not principal.roles.isdisjoint(p.roles) for p in em.declare
    )


def not_authorized_to_declare() -> PermissionDenied:
    """The one refusal for an MOU the caller may not declare under, whether it exists or not, names them or not.

    It names neither who may declare (MOU emergency.declare is the parties' business) nor whether the MOU exists
    (an unknown id answers exactly like an existing one): CWE-209 (an error message holding what the caller may not
    know) and CWE-204 (an observable response discrepancy that enumerates ids). Nor does it echo the id: the body
    is the same byte for byte whatever was asked for.
    """
    return PermissionDenied("your role may not declare under this MOU", field="mou", reason="not_authorized_to_declare")


def may_end(mou: Mou, principal: Principal, declared_by: tuple[str, str]) -> bool:
    # MOU emergency.end lists who may end; "the declarer may always end" (contract section 2).
    if (principal.sub, principal.agency) == declared_by:
        return True
    em = mou.emergency
    return em is not None and any(
        p.agency == principal.agency and not principal.roles.isdisjoint(p.roles) for p in em.end
    )


def check_declaration(
    body: Declaration,
    mou: Mou,
    principal: Principal,
    *,
    sites: list[str],
    buildings: frozenset[str],
    cfg: EmergencySettings,
) -> timedelta:
    """Every rule a declaration must meet; returns its duration. Raises 403 / 422 with the field."""
    em = mou.emergency
    if em is None or not may_declare(mou, principal):
        raise not_authorized_to_declare()
    if body.site not in sites:
        raise InvalidRequest(f"site {body.site!r} is not covered by MOU {mou.mou}", field="site")
    for i, b in enumerate(body.buildings):
        if b not in buildings:
            raise InvalidRequest(f"unknown building {b!r} at site {body.site}", field=f"buildings.{i}")
    for i, z in enumerate(body.zones):
        if z not in mou.zones:
            raise InvalidRequest(f"zone {z!r} is not a zone of MOU {mou.mou}", field=f"zones.{i}")
        if mou.zones[z].never:
            raise InvalidRequest(f"zone {z!r} is never shared under MOU {mou.mou}", field=f"zones.{i}")
    if body.radius_m is not None and body.radius_m > cfg.max_radius_m:
        raise InvalidRequest(f"radius_m above the {cfg.max_radius_m:g} m limit", field="radius_m")
    # FERPA 34 CFR 99.36(c) / 99.32(a)(5): disclosure in a health or safety emergency requires an
    # "articulable and significant threat", which must be recorded. A few words do not articulate one.
    if "threat" in em.require:
        threat = body.threat or ""
        if not threat:
            raise InvalidRequest(f"MOU {mou.mou} requires a threat (34 CFR 99.36)", field="threat")
        if len(threat.split()) < cfg.min_threat_words or len(threat) < cfg.min_threat_chars:
            raise InvalidRequest(
                f"threat must articulate the significant threat (34 CFR 99.36(c)): at least "
                f"{cfg.min_threat_words} words and {cfg.min_threat_chars} characters",
                field="threat",
            )
        check_threat(threat, cfg.min_threat_known_words)  # words, not only a length (issue 13)
    if "incident" in em.require and not body.incident:
        raise InvalidRequest(f"MOU {mou.mou} requires an incident number", field="incident")
    duration = timedelta(minutes=body.duration_minutes) if body.duration_minutes else em.default_duration
    if duration > em.max_duration:  # MOU emergency.max_duration caps expires_at - declared_at
        raise InvalidRequest(
            f"duration_minutes {body.duration_minutes} exceeds MOU {mou.mou} max_duration of "
            f"{int(em.max_duration.total_seconds() // 60)} minutes",
            field="duration_minutes",
        )
    return duration
