"""Mobile camera positions: signed by the camera system's source, used for coverage for 60 s only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from broker.identity.webhooks import sign
from tests.api.support import Api, live_decision
from tests.api.test_triggers import BESIDE_LOT, declared, post


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


FAR = {"lat": 41.1500, "lon": -73.4900}  # ~500 m from the lot


def positions(api: Api, body: Any, source: str = "ncpb", msg_id: str = "pos_1") -> httpx.Response:
    raw = json.dumps(body).encode()
    headers = sign(api.services.settings.webhook_secrets(source)[0], msg_id, api.clock.now(), raw)
    return api.client.post("/api/v1/positions", content=raw, headers=headers)


def report(api: Api, where: dict[str, float], age: float = 0, camera: str = "pb-body-01") -> dict[str, Any]:
    at = (api.clock.now() - timedelta(seconds=age)).isoformat()
    return {"camera": camera, **where, "at": at}


def night_alert(api: Api, where: dict[str, float]) -> dict[str, Any]:
    """An officer alert beside the lot with no location of its own body camera: radius around ``where``."""
    api.travel(datetime(2026, 9, 15, 2, 0, tzinfo=UTC))  # 22:00 local: the lot's always-grant is out of schedule
    return declared(post(api, "ncpb", "officer.alert", {"device": "pb-radio-02", "location": where}))


def test_a_recent_position_inside_the_radius_opens_the_mobile_camera(api: Api) -> None:
    em = night_alert(api, BESIDE_LOT)
    assert live_decision(api, "pb-body-01")["reason"] == "no_emergency"  # no position known
    r = positions(api, [report(api, BESIDE_LOT, age=10)])
    assert r.status_code == 200 and r.json() == {"source": "ncpb", "accepted": 1, "superseded": 0}, r.text
    assert live_decision(api, "pb-body-01")["emergency"] == em["id"]
    api.clock.advance(51)  # the position is now 61 s old: no location, so not inside any radius
    assert live_decision(api, "pb-body-01")["reason"] == "no_emergency"


def test_an_old_or_far_position_gives_no_coverage_and_a_later_one_wins(api: Api) -> None:
    night_alert(api, BESIDE_LOT)
    assert positions(api, report(api, BESIDE_LOT, age=61)).status_code == 200
    assert live_decision(api, "pb-body-01")["reason"] == "no_emergency"  # older than 60 s
    assert positions(api, report(api, FAR, age=1), msg_id="p2").status_code == 200
    assert live_decision(api, "pb-body-01")["reason"] == "no_emergency"  # outside the radius
    r = positions(api, [report(api, BESIDE_LOT, age=5)], msg_id="p3")  # older than the far one: superseded
    assert r.json()["superseded"] == 1 and live_decision(api, "pb-body-01")["reason"] == "no_emergency"


def test_a_fixed_or_unlisted_camera_is_refused_and_unsigned_is_401(api: Api) -> None:
    r = positions(api, [report(api, BESIDE_LOT), report(api, BESIDE_LOT, camera="lots-ext-01")])
    assert r.status_code == 422 and r.json()["field"] == "1.camera", r.text
    r = positions(api, report(api, BESIDE_LOT, camera="pb-body-01"), source="ncps")  # ncps lists no cameras
    assert r.status_code == 401 and r.json()["error"] == "invalid_signature", r.text
    r = api.client.post("/api/v1/positions", json=report(api, BESIDE_LOT))
    assert r.status_code == 401 and r.json()["reason"] == "unsigned", r.text
    assert positions(api, {"camera": "pb-body-01"}).status_code == 422
    assert [x["reason"] for x in api.audit(kind="positions.refused")] == ["bad_signature", "unsigned"]


def test_a_position_reported_to_one_replica_is_used_by_another(make_api: Any) -> None:
    with make_api() as a, make_api() as b:
        em = night_alert(a, BESIDE_LOT)
        b.travel(a.clock.now())
        assert positions(a, report(a, BESIDE_LOT, age=2)).status_code == 200
        assert positions(a, report(a, FAR, age=30), msg_id="p2").json()["superseded"] == 1  # older: not stored
        b.clock.advance(1)  # the replicas read each other's emergencies and positions once a second
        assert live_decision(b, "pb-body-01")["emergency"] == em["id"]
        b.clock.advance(58)
        assert live_decision(b, "pb-body-01")["reason"] == "no_emergency"


# -- issue 13 items 3 and 4: a position from the future, a date-time no UTC instant represents ------------------


def test_a_position_dated_beyond_the_clock_skew_is_refused_naming_at_and_never_supersedes(api: Api) -> None:
    future = (api.clock.now() + timedelta(seconds=31)).isoformat()
    r = positions(api, {"camera": "pb-body-01", **BESIDE_LOT, "at": future})
    assert r.status_code == 422 and r.json()["field"] == "at", r.text
    assert "future" in r.json()["message"] and "30 s" in r.json()["message"], r.text
    far = {"camera": "pb-body-01", **BESIDE_LOT, "at": "2099-01-01T00:00:00Z"}
    r = positions(api, [report(api, BESIDE_LOT), far], msg_id="p2")
    assert r.status_code == 422 and r.json()["field"] == "1.at", r.text  # the batch is refused whole
    # The genuine report after them is accepted, not superseded by a report from the future.
    r = positions(api, report(api, BESIDE_LOT), msg_id="p3")
    assert r.status_code == 200 and r.json()["superseded"] == 0, r.text
    skewed = (api.clock.now() + timedelta(seconds=29)).isoformat()  # within the sender's clock skew
    assert positions(api, {"camera": "pb-body-01", **BESIDE_LOT, "at": skewed}, msg_id="p4").status_code == 200


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_position_at_an_instant_out_of_range_is_422_naming_at(api: Api, at: str) -> None:
    r = positions(api, {"camera": "pb-body-01", **BESIDE_LOT, "at": at})
    assert r.status_code == 422 and r.json()["field"] == "at", r.text
    r = positions(api, [{"camera": "pb-body-01", **BESIDE_LOT, "at": at}], msg_id="p2")
    assert r.status_code == 422 and r.json()["field"] == "0.at", r.text


@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b'{"a":' * 5000 + b"1" + b"}" * 5000])
def test_a_signed_json_nesting_bomb_is_422_naming_the_body_not_500(api: Api, body: bytes) -> None:
    headers = sign(api.services.settings.webhook_secrets("ncpb")[0], "bomb", api.clock.now(), body)
    r = api.client.post("/api/v1/positions", content=body, headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "body", r.text


@pytest.mark.parametrize(
    ("where", "field"), [({"lat": True, "lon": -73.4}, "lat"), ({"lat": 41.1, "lon": "-73.4"}, "lon")]
)
def test_a_boolean_or_a_string_is_no_coordinate(api: Api, where: dict[str, Any], field: str) -> None:
    """true was taken as latitude 1.0 and "41" as 41.0: a sender's bug placed its camera elsewhere, silently."""
    r = positions(api, {"camera": "pb-body-01", **where, "at": api.clock.now().isoformat()})
    assert r.status_code == 422 and r.json()["field"] == field, r.text
