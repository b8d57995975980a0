"""Mobile cameras in the pure decision point: located by the position passed in the request, never by I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from broker.documents.inventory import Camera, Inventory
from broker.documents.mou import Mou
from broker.policy import AccessRequest, DecisionPoint, EmergencyView, GeoPoint, Principal, compile_policy
from broker.policy.coverage import covers, location_of
from tests.paths import MODEL
from tests.policy.builders import INVENTORY, MOU

AT = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)
CENTER = GeoPoint(41.0, -73.0)
NEAR, FAR = GeoPoint(41.00005, -73.0), GeoPoint(41.001, -73.0)  # ~5.6 m and ~111 m from the center
EM = EmergencyView("E1", "sd-pd", "hs", AT - timedelta(minutes=1), AT + timedelta(hours=1), center=CENTER, radius_m=9.1)
BODY = {"id": "hs-body", "name": "SRO body camera", "site": "hs", "zone": "interior", "mobile": True,
        "location": {"lat": 41.0, "lon": -73.0}}  # fmt: skip


def test_a_mobile_camera_is_where_it_was_reported_not_where_the_inventory_says() -> None:
    cam = Camera.model_validate(BODY)
    assert location_of(cam, None) is None  # no recent position: no location, whatever the inventory says
    assert not covers(EM, cam, AT)
    assert covers(EM, cam, AT, NEAR) and not covers(EM, cam, AT, FAR)
    fixed = Camera.model_validate({**BODY, "mobile": False})
    assert covers(EM, fixed, AT, FAR)  # a fixed camera ignores any position passed


def test_the_decision_takes_the_position_as_an_input() -> None:
    inv = Inventory.model_validate({**INVENTORY, "cameras": [*INVENTORY["cameras"], BODY]})
    pdp = DecisionPoint(compile_policy(inv, [Mou.model_validate(MOU)], MODEL.read_text()))
    officer = Principal.of("kim", "pd", ["officer"])

    def decide(where: GeoPoint | None) -> tuple[bool, str, str | None]:
        d = pdp.decide(AccessRequest(officer, "hs-body", "live", AT, (EM,), None, where))
        return d.allowed, d.reason, d.emergency

    assert decide(NEAR) == (True, "allowed", "E1")
    assert decide(FAR) == (False, "no_emergency", None)
    assert decide(None) == (False, "no_emergency", None)
