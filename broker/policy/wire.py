"""JSON forms of requests, emergencies and decisions (access contract, sections 3 and 5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from broker.errors import InvalidRequest
from broker.policy.types import ACTIONS, FOOTAGE_ACTIONS, AccessRequest, EmergencyView, GeoPoint, Principal, Window
from broker.timeutil import format_instant, parse_instant


def _field(obj: Mapping[str, Any], key: str, where: str = "") -> Any:
    if key not in obj or obj[key] is None:
        raise InvalidRequest(f"missing field '{where}{key}'", field=f"{where}{key}")
    return obj[key]


def _str(obj: Mapping[str, Any], key: str, where: str = "") -> str:
    value = _field(obj, key, where)
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"field '{where}{key}' must be a non-empty string", field=f"{where}{key}")
    return value


def _instant(obj: Mapping[str, Any], key: str, where: str = "") -> Any:
    try:
        return parse_instant(_field(obj, key, where))
    except ValueError as exc:
        raise InvalidRequest(f"field '{where}{key}': {exc}", field=f"{where}{key}") from None


def _str_list(obj: Mapping[str, Any], key: str, where: str) -> frozenset[str]:
    value = obj.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidRequest(f"field '{where}{key}' must be a list of strings", field=f"{where}{key}")
    return frozenset(value)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest(f"field '{name}' must be a number", field=name)
    return float(value)


def parse_emergency(obj: Any, where: str = "emergencies[0].") -> EmergencyView:
    if not isinstance(obj, Mapping):
        raise InvalidRequest(f"'{where.rstrip('.')}' must be an object")
    center = obj.get("center")
    point = None
    if center is not None:
        if not isinstance(center, Mapping):
            raise InvalidRequest(f"field '{where}center' must be an object with lat and lon")
        point = GeoPoint(
            _number(center.get("lat"), f"{where}center.lat"), _number(center.get("lon"), f"{where}center.lon")
        )
    radius = obj.get("radius_m")
    if (point is None) != (radius is None):
        raise InvalidRequest(f"fields '{where}center' and '{where}radius_m' go together")
    ended = obj.get("ended_at")
    return EmergencyView(
        id=_str(obj, "id", where),
        mou=_str(obj, "mou", where),
        site=_str(obj, "site", where),
        declared_at=_instant(obj, "declared_at", where),
        expires_at=_instant(obj, "expires_at", where),
        ended_at=_instant(obj, "ended_at", where) if ended is not None else None,
        buildings=_str_list(obj, "buildings", where),
        zones=_str_list(obj, "zones", where),
        center=point,
        radius_m=_number(radius, f"{where}radius_m") if radius is not None else None,
    )


def parse_request(obj: Any) -> AccessRequest:
    """A section 5 request object; any problem raises :class:`InvalidRequest` with a message."""
    if not isinstance(obj, Mapping):
        raise InvalidRequest("request must be a JSON object")
    p = _field(obj, "principal")
    if not isinstance(p, Mapping):
        raise InvalidRequest("field 'principal' must be an object", field="principal")
    roles = p.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise InvalidRequest("field 'principal.roles' must be a list of strings", field="principal.roles")
    principal = Principal(_str(p, "sub", "principal."), _str(p, "agency", "principal."), frozenset(roles))
    camera = _str(obj, "camera")
    action = _field(obj, "action")
    if action not in ACTIONS:
        raise InvalidRequest(f"unknown action {action!r}", field="action")
    at = _instant(obj, "at")
    raw_em = obj.get("emergencies") or []
    if not isinstance(raw_em, list):
        raise InvalidRequest("field 'emergencies' must be a list", field="emergencies")
    emergencies = tuple(parse_emergency(e, f"emergencies[{i}].") for i, e in enumerate(raw_em))
    window = None
    raw_window = obj.get("window")
    if action in FOOTAGE_ACTIONS:
        if raw_window is None:
            raise InvalidRequest("window required", field="window")
        if not isinstance(raw_window, Mapping):
            raise InvalidRequest("field 'window' must be an object with start and end", field="window")
        window = Window(_instant(raw_window, "start", "window."), _instant(raw_window, "end", "window."))
        if not (window.start < window.end <= at):
            raise InvalidRequest("window must satisfy start < end <= at", field="window")
    return AccessRequest(principal, camera, action, at, emergencies, window)


def emergency_to_dict(e: EmergencyView) -> dict[str, Any]:
    out: dict[str, Any] = {"id": e.id, "mou": e.mou, "site": e.site}
    if e.buildings:
        out["buildings"] = sorted(e.buildings)
    if e.zones:
        out["zones"] = sorted(e.zones)
    if e.center is not None:
        out["center"] = {"lat": e.center.lat, "lon": e.center.lon}
        out["radius_m"] = e.radius_m
    out |= {"declared_at": format_instant(e.declared_at), "expires_at": format_instant(e.expires_at),
            "ended_at": format_instant(e.ended_at)}  # fmt: skip
    return out
