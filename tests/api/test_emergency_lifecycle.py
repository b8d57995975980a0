"""Emergency lifecycle: extend (capped by max_duration), end with a reason, confirmation of trigger-declared
emergencies (or they end by themselves, swept on an injected clock), and the transition listeners."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from broker.store.emergencies import EmergencyRecord
from tests.api.support import Api, assert_422, live_decision
from tests.api.test_triggers import declared, panic


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


def extend(api: Api, em: str, as_: str = "dispatcher", **body: Any) -> Any:
    return api.post(f"/api/v1/emergencies/{em}/extend", as_=as_, json={"reason": "suspect still inside"} | body)


def test_extend_up_to_max_duration_and_no_further(api: Api) -> None:
    em = api.declared()  # 60 minutes by default; the MOU's max_duration is 4 h
    r = extend(api, em["id"], minutes=150)
    assert r.status_code == 200, r.text
    assert r.json()["expires_at"] == "2026-09-14T16:30:00Z"
    assert_422(extend(api, em["id"], minutes=31), "minutes", "max_duration of 240 minutes (at most 30 more)")
    assert extend(api, em["id"], minutes=30).json()["expires_at"] == "2026-09-14T17:00:00Z"
    (first, second) = api.audit(kind="emergency.extend", emergency=em["id"])
    assert first["principal_sub"] == "dispatch-3" and first["details"]["reason"] == "suspect still inside"
    assert (first["details"]["minutes"], second["details"]["previous_expires_at"]) == (150, "2026-09-14T16:30:00Z")


def test_extend_needs_a_reason_and_a_role_that_may_declare(api: Api) -> None:
    em = api.declared()
    r = api.post(f"/api/v1/emergencies/{em['id']}/extend", as_="dispatcher", json={"minutes": 10})
    assert_422(r, "reason")
    r = extend(api, em["id"], as_="officer", minutes=10)
    assert r.status_code == 403 and r.json()["reason"] == "not_authorized_to_extend", r.text
    api.end(em["id"])
    assert extend(api, em["id"], minutes=10).status_code == 409


def test_end_records_the_reason(api: Api) -> None:
    em = api.declared()
    r = api.post(f"/api/v1/emergencies/{em['id']}/end", as_="dispatcher", json={"reason": "false alarm"})
    assert r.status_code == 200 and r.json()["status"] == "ended", r.text
    (rec,) = api.audit(kind="emergency.end", emergency=em["id"])
    assert rec["details"]["reason"] == "false alarm" and rec["principal_sub"] == "dispatch-3"


def test_a_trigger_emergency_not_confirmed_in_time_ends_by_itself(api: Api) -> None:
    em = declared(panic(api))
    api.clock.advance(timedelta(minutes=9, seconds=59))
    api.services.tick()
    assert live_decision(api, "saxe-int-01")["allowed"] is True
    api.clock.advance(timedelta(seconds=2))
    api.services.tick()
    assert live_decision(api, "saxe-int-01")["reason"] == "no_emergency"
    got = api.get(f"/api/v1/emergencies/{em['id']}", as_="dispatcher").json()
    assert got["status"] == "ended" and got["ended_at"] == "2026-09-14T13:10:00Z"
    assert got["ended_by"] == {"sub": "camgate:confirmation", "agency": "camgate"}
    (rec,) = api.audit(kind="emergency.end", emergency=em["id"])
    assert rec["details"]["unconfirmed"] is True and "not confirmed by 2026-09-14T13:10:00Z" in rec["details"]["reason"]
    api.services.tick()  # swept once only
    assert len(api.audit(kind="emergency.end", emergency=em["id"])) == 1


def test_a_trigger_emergency_confirmed_in_time_stays(api: Api) -> None:
    em = declared(panic(api))
    api.clock.advance(timedelta(minutes=5))
    r = api.post(f"/api/v1/emergencies/{em['id']}/confirm", as_="officer")
    assert r.status_code == 403 and r.json()["reason"] == "not_authorized_to_confirm", r.text
    r = api.post(f"/api/v1/emergencies/{em['id']}/confirm", as_="dispatcher")
    assert r.status_code == 200, r.text
    assert api.post(f"/api/v1/emergencies/{em['id']}/confirm", as_="dispatcher").status_code == 409
    api.clock.advance(timedelta(minutes=30))
    api.services.tick()
    assert live_decision(api, "saxe-int-01")["emergency"] == em["id"]
    (rec,) = api.audit(kind="emergency.confirm", emergency=em["id"])
    assert rec["principal_sub"] == "dispatch-3" and rec["details"]["confirm_by"] == "2026-09-14T13:10:00Z"


def test_confirming_too_late_or_a_dispatcher_declared_emergency_is_409(api: Api) -> None:
    em = api.declared()
    assert api.post(f"/api/v1/emergencies/{em['id']}/confirm", as_="dispatcher").status_code == 409
    trig = declared(panic(api))
    api.clock.advance(timedelta(minutes=10))
    assert api.post(f"/api/v1/emergencies/{trig['id']}/confirm", as_="dispatcher").status_code == 409


def test_every_transition_calls_the_listeners_after_its_record_and_a_failing_listener_changes_nothing(
    api: Api,
) -> None:
    seen: list[tuple[str, str, dict[str, Any]]] = []

    def listener(kind: str, rec: EmergencyRecord, details: dict[str, Any]) -> None:
        assert api.audit(kind=kind, emergency=rec.id), "called before its audit record"
        seen.append((kind, rec.id, details))

    def broken(kind: str, rec: EmergencyRecord, details: dict[str, Any]) -> None:
        raise RuntimeError("outbox down")

    api.services.emergencies.listeners += [broken, listener]
    trig = declared(panic(api))
    assert api.post(f"/api/v1/emergencies/{trig['id']}/confirm", as_="dispatcher").status_code == 200
    assert extend(api, trig["id"], minutes=5).status_code == 200
    assert api.end(trig["id"], as_="supervisor").status_code == 200  # MOU emergency.end
    em = api.declared()
    api.clock.advance(timedelta(hours=2))
    api.services.tick()
    kinds = [(k, i) for k, i, _ in seen]
    assert kinds == [
        ("emergency.declare", trig["id"]),
        ("emergency.confirm", trig["id"]),
        ("emergency.extend", trig["id"]),
        ("emergency.end", trig["id"]),
        ("emergency.declare", em["id"]),
        ("emergency.expire", em["id"]),
    ]
    assert seen[2][2]["reason"] == "suspect still inside"


def test_no_record_no_extension_confirmation_or_trigger_declaration(api: Api) -> None:
    from sqlalchemy import text

    trig = declared(panic(api))
    api.sql("DROP TABLE audit_records")
    r = extend(api, trig["id"], minutes=10)
    assert r.status_code == 503 and r.json()["error"] == "audit_unavailable", r.text
    assert api.services.emergencies.get(trig["id"]).expires_at.isoformat() == trig["expires_at"].replace("Z", "+00:00")
    r = api.post(f"/api/v1/emergencies/{trig['id']}/confirm", as_="dispatcher")
    assert r.status_code == 503, r.text
    origin = api.services.emergencies.triggers.origin(trig["id"])  # type: ignore[union-attr]
    assert origin is not None and origin.confirmed_at is None
    api.clock.advance(3600)  # the first expired: a press declares anew (while it is active, a press is a no-op)
    r = panic(api, msg_id="msg_2")
    assert r.status_code == 503 and r.json()["error"] == "audit_unavailable", r.text
    with api.services.store.engine.connect() as conn:  # the claim was released: a redelivery is handled anew
        assert (
            conn.execute(text("SELECT count(*) FROM trigger_deliveries WHERE webhook_id = 'msg_2'")).scalar_one() == 0
        )
        assert conn.execute(text("SELECT count(*) FROM emergencies")).scalar_one() == 1
