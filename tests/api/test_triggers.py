"""Triggers over real HTTP (TestClient): signed panic-button and officer-alert events declare, replay, end."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from broker.identity.webhooks import sign
from tests.api.support import Api, live_decision, stored_emergencies

NCPS_MOU, NCPB_MOU = "ncps-ncpd-video", "ncpb-ncpd-video"
OFFICE = {"lat": 41.14882, "lon": -73.49565}  # the front-office panic button (config/demo-triggers.toml)
BESIDE_LOT = {"lat": 41.14683, "lon": -73.49462}  # a parking officer a few metres from lots-ext-01


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


def post(
    api: Api,
    source: str,
    type_: str,
    data: dict[str, Any],
    *,
    msg_id: str = "msg_1",
    at: datetime | None = None,
    secret: str | None = None,
    tamper: bool = False,
) -> httpx.Response:
    body = json.dumps({"type": type_, "data": data}).encode()
    headers = sign(secret or api.services.settings.webhook_secrets(source)[0], msg_id, at or api.clock.now(), body)
    if tamper:
        body = body.replace(b'"data"', b'"data" ', 1)
    return api.client.post(f"/api/v1/triggers/{source}", content=body, headers=headers)


def panic(api: Api, msg_id: str = "msg_1", **kw: Any) -> httpx.Response:
    data = {"device": "saxe-office-1", "notes": "teacher reports a man with a gun in the front office"}
    return post(api, "ncps", "panic.pressed", data, msg_id=msg_id, **kw)


def declared(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "declared", r.text
    return r.json()["emergency"]


def test_panic_button_declares_a_radius_emergency_and_only_cameras_within_open(api: Api) -> None:
    assert live_decision(api, "saxe-int-01")["reason"] == "no_emergency"
    em = declared(panic(api))
    assert em["center"] == OFFICE and em["radius_m"] == 9.1 and em["status"] == "active"
    assert em["declared_by"] == {"sub": "trigger:ncps/saxe-office-1", "agency": "ncps"}
    assert "panic.pressed" in em["threat"] and "saxe-office-1" in em["threat"] and "man with a gun" in em["threat"]
    inside = live_decision(api, "saxe-int-01")  # 0 m from the button
    assert (inside["allowed"], inside["grant"], inside["emergency"]) == (True, "G2", em["id"])
    for far in ("saxe-int-02", "saxe-gym-01"):  # same site, ~40 m away / no location
        assert live_decision(api, far)["reason"] == "no_emergency", far
    (rec,) = api.audit(kind="emergency.declare", emergency=em["id"])
    assert rec["principal_sub"] == "trigger:ncps/saxe-office-1" and rec["details"]["basis"] == "34 CFR 99.36"
    assert rec["details"]["trigger"] == {
        "source": "ncps",
        "device": "saxe-office-1",
        "type": "panic.pressed",
        "webhook_id": "msg_1",
    }


def test_a_replayed_event_changes_nothing_and_answers_identically(api: Api) -> None:
    first = panic(api)
    api.clock.advance(60)
    again = panic(api)  # the sender's retry: same webhook-id, a fresh signature
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert stored_emergencies(api) == 1
    assert len(api.audit(kind="emergency.declare")) == 1


def test_delivery_ids_are_forgotten_a_day_later_by_housekeeping(api: Api) -> None:
    """A delivery id guards against a redelivery only while its timestamp would be accepted (5 minutes): kept
    a day, then pruned, so the table does not grow with every press for ever."""

    def kept() -> int:
        with api.services.store.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM trigger_deliveries")).scalar_one())

    declared(panic(api))
    api.services.tick()
    assert kept() == 1
    api.clock.advance(timedelta(hours=25).total_seconds())
    api.services.tick()
    assert kept() == 0


def test_badly_signed_stale_unsigned_or_unknown_source_is_401_audited_nothing_declared(api: Api) -> None:
    other = "whsec_" + "A" * 43
    cases = {
        "bad_signature": panic(api, msg_id="m1", tamper=True),
        "stale_timestamp": panic(api, msg_id="m2", at=api.clock.now() - timedelta(minutes=5, seconds=1)),
        "unsigned": api.client.post("/api/v1/triggers/ncps", json={"type": "panic.pressed"}),
        "unknown_source": post(api, "nope", "panic.pressed", {"device": "x"}, secret=other),
    }
    assert (
        post(api, "ncps", "panic.pressed", {"device": "saxe-office-1"}, msg_id="m3", secret=other).json()["reason"]
        == "bad_signature"
    )
    for reason, r in cases.items():
        assert r.status_code == 401, (reason, r.text)
        assert r.json()["error"] == "invalid_signature" and r.json()["reason"] == reason, r.text
    assert stored_emergencies(api) == 0
    refused = [r["reason"] for r in api.audit(kind="trigger.refused")]
    assert set(refused) == {*cases, "bad_signature"}


def test_future_timestamp_within_five_minutes_is_accepted(api: Api) -> None:
    declared(panic(api, at=api.clock.now() + timedelta(minutes=4)))


@pytest.mark.parametrize(
    ("type_", "data", "field", "reason"),
    [
        ("panic.dance", {"device": "saxe-office-1"}, "type", "unmapped_event"),
        ("panic.pressed", {"device": "saxe-attic-9"}, "data.device", "unknown_device"),
        (
            "panic.pressed",
            {"device": "saxe-office-1", "location": {"lat": 91, "lon": 0}},
            "data.location.lat",
            "malformed_event",
        ),
        ("panic.pressed", {}, "data.device", "malformed_event"),
        # A boolean or a string is no coordinate: true was taken as latitude 1.0, a circle far from any camera.
        (
            "panic.pressed",
            {"device": "saxe-office-1", "location": {"lat": True, "lon": -73.49565}},
            "data.location.lat",
            "malformed_event",
        ),
        (
            "panic.pressed",
            {"device": "saxe-office-1", "location": {"lat": 41.14882, "lon": "-73.49565"}},
            "data.location.lon",
            "malformed_event",
        ),
    ],
)
def test_unmapped_unknown_or_malformed_events_are_422_with_a_reason(
    api: Api, type_: str, data: dict[str, Any], field: str, reason: str
) -> None:
    r = post(api, "ncps", type_, data)
    assert r.status_code == 422, r.text
    assert (r.json()["error"], r.json()["field"], r.json()["reason"]) == ("invalid_request", field, reason)
    assert post(api, "ncps", type_, data).json() == r.json()  # a redelivery: the same answer
    assert stored_emergencies(api) == 0
    assert [x["reason"] for x in api.audit(kind="trigger.refused")] == [reason]


def test_not_json_is_422(api: Api) -> None:
    body = b"{not json"
    r = api.client.post(
        "/api/v1/triggers/ncps",
        content=body,
        headers=sign(api.services.settings.webhook_secrets("ncps")[0], "m", api.clock.now(), body),
    )
    assert r.status_code == 422 and r.json()["reason"] == "malformed_event", r.text


@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b'{"a":' * 5000 + b"1" + b"}" * 5000])
def test_a_signed_json_nesting_bomb_is_422_malformed_not_500(api: Api, body: bytes) -> None:
    """Deeply nested JSON (under the 64 KiB limit) exhausts the parser's recursion: bad input, not a crash."""
    headers = sign(api.services.settings.webhook_secrets("ncps")[0], "bomb", api.clock.now(), body)
    r = api.client.post("/api/v1/triggers/ncps", content=body, headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "body", r.text
    assert r.json()["reason"] == "malformed_event", r.text
    assert stored_emergencies(api) == 0


def test_all_clear_ends_it(api: Api) -> None:
    em = declared(panic(api))
    api.clock.advance(120)
    r = post(api, "ncps", "panic.cleared", {"device": "saxe-office-1", "notes": "suspect in custody"}, msg_id="m2")
    assert r.status_code == 200 and r.json()["outcome"] == "ended", r.text
    assert r.json()["emergency"]["status"] == "ended"
    assert live_decision(api, "saxe-int-01")["reason"] == "no_emergency"
    (rec,) = api.audit(kind="emergency.end", emergency=em["id"])
    assert rec["principal_sub"] == "trigger:ncps/saxe-office-1"
    assert rec["details"]["reason"] == "all clear: panic.cleared from saxe-office-1; suspect in custody"
    again = post(api, "ncps", "panic.cleared", {"device": "saxe-office-1"}, msg_id="m3")
    assert again.status_code == 409, again.text  # nothing open any more


def test_extend_event_extends(api: Api) -> None:
    em = declared(panic(api))
    r = post(api, "ncps", "panic.extend", {"device": "saxe-office-1", "minutes": 15}, msg_id="m2")
    assert r.status_code == 200 and r.json()["outcome"] == "extended", r.text
    old = datetime.fromisoformat(em["expires_at"])
    assert datetime.fromisoformat(r.json()["emergency"]["expires_at"]) == old + timedelta(minutes=15)


def test_parking_officer_alert_opens_their_body_camera_and_the_lot_camera_beside_them_only(api: Api) -> None:
    api.travel(datetime(2026, 9, 15, 2, 0, tzinfo=UTC))  # Monday 22:00 in New Canaan: the lot's schedule is over
    assert live_decision(api, "lots-ext-01")["reason"] == "no_emergency"
    r = post(
        api,
        "ncpb",
        "officer.alert",
        {"device": "pb-radio-01", "location": BESIDE_LOT, "notes": "driver threatening the officer"},
    )
    em = declared(r)
    assert em["mou"] == NCPB_MOU and em["site"] == "ncpb-lots" and em["incident"] == "ncpb:msg_1"
    for cam in ("pb-body-01", "lots-ext-01"):
        d = live_decision(api, cam)
        assert (d["allowed"], d["mou"], d["grant"], d["emergency"]) == (True, NCPB_MOU, "P3", em["id"]), cam
    for cam in ("saxe-int-01", "saxe-int-02", "east-int-01"):  # the school's interior cameras stay closed
        assert live_decision(api, cam)["allowed"] is False, cam
    api.clock.advance(61)  # the alert's position is the body camera's for 60 s only
    assert live_decision(api, "pb-body-01")["reason"] == "no_emergency"
    assert live_decision(api, "lots-ext-01")["allowed"] is True  # a fixed camera keeps its place


def test_a_source_not_named_in_the_mou_declares_nothing(make_api: Any) -> None:
    with make_api() as api:
        api.services.settings.triggers.sources["ncps"].devices["saxe-office-1"] = (
            api.services.settings.triggers.sources["ncpb"].devices["pb-radio-01"]
        )
        r = panic(api)
        assert r.status_code == 403 and r.json()["reason"] == "source_not_in_mou", r.text
        assert stored_emergencies(api) == 0


def test_concurrent_deliveries_of_one_event_declare_once(api: Api) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from broker.errors import Conflict

    body = json.dumps({"type": "panic.pressed", "data": {"device": "saxe-office-1"}}).encode()
    headers = sign(api.services.settings.webhook_secrets("ncps")[0], "msg_race", api.clock.now(), body)
    triggers = api.services.triggers
    assert triggers is not None

    def deliver(_: int) -> Any:
        try:
            return triggers.handle("ncps", headers, body, "127.0.0.1")
        except Conflict:
            return "in progress"

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(deliver, range(12)))
    done = [a for a in answers if a != "in progress"]
    assert done and all(a == done[0] for a in done) and done[0][1]["outcome"] == "declared"
    assert stored_emergencies(api) == 1 and len(api.audit(kind="emergency.declare")) == 1


def test_an_oversized_event_is_refused_unsigned_first(api: Api) -> None:
    big = post(api, "ncps", "panic.pressed", {"device": "saxe-office-1", "notes": "x" * 70_000})
    assert big.status_code == 422 and big.json()["reason"] == "too_large", big.text
    unsigned = api.client.post("/api/v1/triggers/ncps", content=b"x" * 70_000)
    assert unsigned.status_code == 401 and unsigned.json()["reason"] == "unsigned", unsigned.text
    assert stored_emergencies(api) == 0
