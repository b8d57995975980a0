"""An emergency as the PDP sees it (:func:`view`) and as the API and the audit log show it (:func:`to_json`)."""

from __future__ import annotations

import secrets
from typing import Any

from broker.policy import EmergencyView, GeoPoint, Principal
from broker.store.emergencies import EmergencyRecord
from broker.timeutil import format_instant


def may(parties: Any, principal: Principal) -> bool:
    return any(p.agency == principal.agency and not principal.roles.isdisjoint(p.roles) for p in parties)


def view(rec: EmergencyRecord) -> EmergencyView:
    center = (
        GeoPoint(rec.center_lat, rec.center_lon) if rec.center_lat is not None and rec.center_lon is not None else None
    )
    return EmergencyView(
        id=rec.id, mou=rec.mou, site=rec.site, declared_at=rec.declared_at, expires_at=rec.expires_at,
        ended_at=rec.ended_at, buildings=frozenset(rec.buildings), zones=frozenset(rec.zones), center=center,
        radius_m=rec.radius_m,
    )  # fmt: skip


def to_json(rec: EmergencyRecord, now: Any) -> dict[str, Any]:
    status = (
        "active" if rec.active_at(now) else ("ended" if rec.ended_at and rec.ended_at < rec.expires_at else "expired")
    )
    return {
        "id": rec.id, "mou": rec.mou, "site": rec.site, "buildings": list(rec.buildings), "zones": list(rec.zones),
        "center": {"lat": rec.center_lat, "lon": rec.center_lon} if rec.center_lat is not None else None,
        "radius_m": rec.radius_m, "threat": rec.threat, "incident": rec.incident,
        "declared_at": format_instant(rec.declared_at), "expires_at": format_instant(rec.expires_at),
        "ended_at": format_instant(rec.ended_at), "status": status,
        "declared_by": {"sub": rec.declared_by_sub, "agency": rec.declared_by_agency},
        "ended_by": {"sub": rec.ended_by_sub, "agency": rec.ended_by_agency} if rec.ended_by_sub else None,
    }  # fmt: skip


def new_id() -> str:
    return f"em-{secrets.token_hex(6)}"
