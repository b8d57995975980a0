"""Emergency coverage (access contract, section 3)."""

from __future__ import annotations

from datetime import datetime
from math import asin, cos, radians, sin, sqrt

from broker.documents.inventory import Camera
from broker.policy.types import EmergencyView, GeoPoint

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius, the contract's R


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = radians(lat1), radians(lat2)
    dp, dl = p2 - p1, radians(lon2 - lon1)
    h = sin(dp / 2) ** 2 + cos(p1) * cos(p2) * sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h)))


def location_of(camera: Camera, position: GeoPoint | None) -> GeoPoint | None:
    """A fixed camera's inventory location; a mobile camera's reported ``position`` (None when not recent)."""
    if camera.mobile:
        return position
    return None if camera.location is None else GeoPoint(camera.location.lat, camera.location.lon)


def covers(e: EmergencyView, camera: Camera, at: datetime, position: GeoPoint | None = None) -> bool:
    """Emergency ``e`` covers ``camera`` at ``at`` when every clause of section 3 holds.

    A mobile camera's location is ``position`` (its last report, found by the caller), never the inventory's.
    """
    if e.site != camera.site:
        return False
    if e.buildings and camera.building not in e.buildings:
        return False
    if e.zones and camera.zone not in e.zones:
        return False
    if e.center is not None:
        # A radius scope needs the camera's location; a camera without one is not covered.
        where = location_of(camera, position)
        if where is None or e.radius_m is None:
            return False
        d = haversine_m(e.center.lat, e.center.lon, where.lat, where.lon)
        if d > e.radius_m:
            return False
    return e.declared_at <= at < e.end
