"""Emergencies over the API: declare (who, what, how long), take effect at once, end, expire, survive a restart.

Runs on SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api.support import PREFIX, THREAT, Api, assert_422, live_decision

NCPS = "ncps-ncpd-video"


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


# -- declaring -------------------------------------------------------------------------------------------


def test_a_dispatcher_declares_in_one_action(api: Api) -> None:
    r = api.declare(incident="CAD-2026-0914-017")
    assert r.status_code == 201, r.text
    em = r.json()
    assert em["id"].startswith("em-")
    assert em["mou"] == NCPS and em["site"] == "ncps-saxe" and em["buildings"] == [] and em["zones"] == []
    assert em["center"] is None and em["radius_m"] is None
    assert em["declared_at"] == "2026-09-14T13:00:00Z"
    assert em["expires_at"] == "2026-09-14T14:00:00Z"  # the MOU's default_duration: 60m
    assert em["ended_at"] is None and em["status"] == "active" and em["ended_by"] is None
    assert em["threat"] == THREAT and em["incident"] == "CAD-2026-0914-017"
    assert em["declared_by"] == {"sub": "dispatch-3", "agency": "ncpd"}
    # FERPA 99.32(a)(5): the threat and the recipients are on the audit chain.
    (rec,) = api.audit(kind="emergency.declare")
    assert rec["emergency"] == em["id"] and rec["mou"] == NCPS and rec["principal_sub"] == "dispatch-3"
    assert rec["client"] == "testclient"
    assert rec["details"]["emergency"]["threat"] == THREAT
    assert rec["details"]["recipients"] == ["ncpd"]


def test_scope_and_duration_are_recorded(api: Api) -> None:
    em = api.declared(
        buildings=["main"],
        zones=["interior"],
        center={"lat": 41.14882, "lon": -73.49565},
        radius_m=25,
        duration_minutes=240,
    )
    assert em["buildings"] == ["main"] and em["zones"] == ["interior"]
    assert em["center"] == {"lat": 41.14882, "lon": -73.49565} and em["radius_m"] == 25
    assert em["expires_at"] == "2026-09-14T17:00:00Z"  # max_duration 4h is allowed


def test_a_school_principal_named_in_the_mou_may_declare(api: Api) -> None:
    assert api.declare(as_="principal").status_code == 201


# -- effect -----------------------------------------------------------------------------------------------


def test_a_declaration_takes_effect_for_the_very_next_request(api: Api) -> None:
    assert live_decision(api, "saxe-int-01")["reason"] == "no_emergency"
    assert api.live("saxe-int-01").status_code == 403
    em = api.declared()
    assert live_decision(api, "saxe-int-01") == {
        "allowed": True,
        "reason": "allowed",
        "mou": NCPS,
        "grant": "G2",
        "clause": "4.2",
        "emergency": em["id"],
    }
    r = api.live("saxe-int-01")
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.apple.mpegurl"
    # Another site, a never zone and an unclassified camera are not affected.
    cams = api.cameras()
    assert cams["east-int-01"]["live"]["reason"] == "no_emergency"
    assert cams["saxe-res-01"]["live"]["reason"] == "never_shared_zone"
    assert cams["saxe-new-01"]["live"]["reason"] == "unclassified_camera"
    assert cams["saxe-ext-01"]["live"]["grant"] == "G1"  # exterior stays under the always-grant


def test_the_scope_limits_what_is_opened(api: Api) -> None:
    # Building main only, within 25 m of the front office camera: the library (~38 m away) stays closed.
    em = api.declared(buildings=["main"], center={"lat": 41.14882, "lon": -73.49565}, radius_m=25)
    cams = api.cameras()
    assert cams["saxe-int-01"]["live"]["emergency"] == em["id"]
    assert cams["saxe-int-02"]["live"]["reason"] == "no_emergency"
    assert cams["saxe-gym-01"]["live"]["reason"] == "no_emergency"  # building gym
    assert api.live("saxe-int-02").status_code == 403


# -- reading -----------------------------------------------------------------------------------------------


def test_list_and_get(api: Api) -> None:
    first = api.declared()
    second = api.declared(site="ncps-east", duration_minutes=10)
    r = api.get("/api/v1/emergencies")
    assert r.status_code == 200
    assert sorted(e["id"] for e in r.json()["emergencies"]) == sorted([first["id"], second["id"]])
    api.clock.advance(timedelta(minutes=11))
    active = api.get("/api/v1/emergencies", params={"active": "true"}).json()["emergencies"]
    assert [e["id"] for e in active] == [first["id"]]
    everything = {e["id"]: e["status"] for e in api.get("/api/v1/emergencies").json()["emergencies"]}
    assert everything == {first["id"]: "active", second["id"]: "expired"}
    got = api.get(f"/api/v1/emergencies/{first['id']}")
    assert got.status_code == 200 and got.json() == first | {"status": "active"}


def test_emergencies_are_visible_to_the_parties_of_their_mou_and_to_auditors(api: Api) -> None:
    em = api.declared()
    for who in ("officer", "principal", "auditor"):
        assert [e["id"] for e in api.get("/api/v1/emergencies", as_=who).json()["emergencies"]] == [em["id"]]
        assert api.get(f"/api/v1/emergencies/{em['id']}", as_=who).status_code == 200
    for who in ("fire", "parking"):
        assert api.get("/api/v1/emergencies", as_=who).json() == {"emergencies": []}
        r = api.get(f"/api/v1/emergencies/{em['id']}", as_=who)
        assert r.status_code == 404 and r.json()["error"] == "unknown_emergency"


def test_an_auditor_outside_the_audit_agencies_is_not_an_auditor_for_emergencies(make_api: Any) -> None:
    # audit.agencies limits whose auditors count as auditors; elsewhere an "auditor" role is just a role.
    with make_api(audit={"roles": ["auditor"], "agencies": ["ncps"]}) as api:
        em = api.declared()
        fire_auditor = {"Authorization": f"Bearer {api.mint('fd-audit', 'ncfd', ['auditor'])}"}
        assert api.get("/api/v1/audit", as_=None, headers=fire_auditor).status_code == 403
        assert api.get("/api/v1/emergencies", as_=None, headers=fire_auditor).json() == {"emergencies": []}
        assert api.get(f"/api/v1/emergencies/{em['id']}", as_=None, headers=fire_auditor).status_code == 404
        # An auditor of a listed agency sees the emergencies of its agency's MOUs (the tests' ncps auditor oversees).
        assert [e["id"] for e in api.get("/api/v1/emergencies", as_="auditor").json()["emergencies"]] == [em["id"]]
    with make_api() as api:
        # Any agency's auditors count by default, but only an oversight auditor (audit.oversight) reads the
        # emergencies of MOUs their agency is no party to (issue 13 item 13: they read every one before).
        fire_auditor = {"Authorization": f"Bearer {api.mint('fd-audit', 'ncfd', ['auditor'])}"}
        assert api.get("/api/v1/emergencies", as_=None, headers=fire_auditor).json() == {"emergencies": []}
        assert api.get(f"/api/v1/emergencies/{em['id']}", as_=None, headers=fire_auditor).status_code == 404
    with make_api(audit={"oversight": [{"agency": "ncfd"}]}) as api:
        fire_auditor = {"Authorization": f"Bearer {api.mint('fd-audit', 'ncfd', ['auditor'])}"}
        assert [
            e["id"] for e in api.get("/api/v1/emergencies", as_=None, headers=fire_auditor).json()["emergencies"]
        ] == [em["id"]]


def test_ending_an_emergency_one_cannot_see_is_404_like_reading_it(api: Api) -> None:
    em = api.declared()
    for who in ("fire", "parking"):
        r = api.end(em["id"], as_=who)
        assert r.status_code == 404 and r.json()["error"] == "unknown_emergency", r.text
    assert live_decision(api, "saxe-int-01")["emergency"] == em["id"]


def test_unknown_emergency_is_404(api: Api) -> None:
    for path in ("/api/v1/emergencies/em-000000000000", "/api/v1/emergencies/x" + "y" * 3000):
        r = api.get(path)
        assert r.status_code == 404 and r.json()["error"] == "unknown_emergency"
    r = api.end("em-000000000000")
    assert r.status_code == 404 and r.json()["error"] == "unknown_emergency"


def test_bad_active_flag_is_422(api: Api) -> None:
    assert_422(api.get("/api/v1/emergencies", params={"active": "maybe"}), "active")


# -- ending -----------------------------------------------------------------------------------------------


def test_the_declarer_ends_it_and_access_stops_at_once(api: Api) -> None:
    em = api.declared()
    assert api.live("saxe-int-01").status_code == 200
    api.clock.advance(timedelta(minutes=7))
    r = api.end(em["id"])
    assert r.status_code == 200, r.text
    ended = r.json()
    assert ended["status"] == "ended" and ended["ended_at"] == "2026-09-14T13:07:00Z"
    assert ended["ended_by"] == {"sub": "dispatch-3", "agency": "ncpd"}
    assert live_decision(api, "saxe-int-01")["reason"] == "no_emergency"
    denied = api.live("saxe-int-01")
    assert denied.status_code == 403 and denied.json()["reason"] == "no_emergency"
    (rec,) = api.audit(kind="emergency.end")
    assert rec["emergency"] == em["id"] and rec["principal_sub"] == "dispatch-3"
    assert api.get("/api/v1/emergencies", params={"active": True}).json() == {"emergencies": []}


def test_others_may_not_end_it(api: Api, subtests: pytest.Subtests) -> None:
    em = api.declared()
    # Another officer, another dispatcher (emergency.end names ncpd supervisors), a school principal (ncps:
    # superintendents only).
    for who in ("officer", "dispatcher2", "principal"):
        with subtests.test(who=who):
            r = api.end(em["id"], as_=who)
            assert r.status_code == 403, r.text
            assert r.json()["error"] == "forbidden" and r.json()["reason"] == "not_authorized_to_end"
    assert live_decision(api, "saxe-int-01")["emergency"] == em["id"]  # still on
    assert api.audit(kind="emergency.end") == []


def test_a_supervisor_named_in_emergency_end_may_end_it(api: Api) -> None:
    em = api.declared()
    r = api.end(em["id"], as_="supervisor")
    assert r.status_code == 200 and r.json()["ended_by"] == {"sub": "sgt-1", "agency": "ncpd"}


def test_ending_twice_is_409(api: Api) -> None:
    em = api.declared()
    assert api.end(em["id"]).status_code == 200
    r = api.end(em["id"])
    assert r.status_code == 409 and r.json()["error"] == "conflict" and "already ended" in r.json()["message"]
    assert len(api.audit(kind="emergency.end")) == 1


# -- expiry -----------------------------------------------------------------------------------------------


def test_automatic_expiry_by_the_clock(api: Api) -> None:
    em = api.declared()
    api.clock.advance(timedelta(minutes=59, seconds=59))
    assert live_decision(api, "saxe-int-01")["emergency"] == em["id"]
    api.clock.advance(timedelta(seconds=1))  # expires_at: end(e) is exclusive
    assert live_decision(api, "saxe-int-01")["reason"] == "no_emergency"
    r = api.live("saxe-int-01")
    assert r.status_code == 403 and r.json()["reason"] == "no_emergency"
    assert api.get(f"/api/v1/emergencies/{em['id']}").json()["status"] == "expired"
    assert api.audit(kind="emergency.expire") == []  # recorded by housekeeping, not by the request
    api.services.tick()
    (rec,) = api.audit(kind="emergency.expire")
    assert rec["emergency"] == em["id"] and rec["mou"] == NCPS
    assert rec["principal_sub"] is None  # nobody ended it
    api.services.tick()
    api.clock.advance(timedelta(minutes=5))
    api.services.tick()
    assert len(api.audit(kind="emergency.expire")) == 1
    assert api.audit(kind="emergency.end") == []
    r = api.end(em["id"])
    assert r.status_code == 409 and "already expired" in r.json()["message"]


def test_an_early_end_is_not_also_recorded_as_an_expiry(api: Api) -> None:
    em = api.declared(duration_minutes=10)
    assert api.end(em["id"]).status_code == 200
    api.clock.advance(timedelta(minutes=30))
    api.services.tick()
    assert [r["kind"] for r in api.audit(emergency=em["id"])][-1] == "emergency.end"
    assert api.audit(kind="emergency.expire") == []


# -- restart ----------------------------------------------------------------------------------------------


def test_an_emergency_survives_a_restart_and_still_governs(make_api: Any) -> None:
    with make_api() as first:
        em = first.declared()
        assert first.live("saxe-int-01").status_code == 200
    with make_api() as second:
        got = second.get(f"/api/v1/emergencies/{em['id']}")
        assert got.status_code == 200 and got.json()["status"] == "active"
        assert [e["id"] for e in second.get("/api/v1/emergencies", params={"active": 1}).json()["emergencies"]] == [
            em["id"]
        ]
        assert live_decision(second, "saxe-int-01")["emergency"] == em["id"]
        assert second.live("saxe-int-01").status_code == 200
        # Ended on the second instance: a third sees it ended.
        assert second.end(em["id"]).status_code == 200
    with make_api() as third:
        assert live_decision(third, "saxe-int-01")["reason"] == "no_emergency"
        assert third.get(f"/api/v1/emergencies/{em['id']}").json()["status"] == "ended"
        verify = third.get("/api/v1/audit/verify", as_="auditor").json()
        assert verify["ok"] is True


def test_an_end_on_one_replica_reaches_another_sharing_the_database(make_api: Any) -> None:
    with make_api() as one, make_api() as two:
        em = one.declared()
        assert two.live("saxe-int-01").status_code == 200
        assert one.end(em["id"]).status_code == 200
        # Replicas re-read the emergencies at most every refresh_seconds (1 s): move the clock past it.
        two.clock.advance(timedelta(seconds=1))
        r = two.live("saxe-int-01")
        assert r.status_code == 403 and r.json()["reason"] == "no_emergency"


def test_stream_urls_of_the_emergency_stop_after_the_end(api: Api) -> None:
    em = api.declared()
    uris = api.playlist_uris("saxe-int-01")
    assert all(u.startswith(f"{PREFIX}/saxe-int-01/hls/") for u in uris)
    assert api.get(uris[0], as_=None).status_code == 200
    assert api.end(em["id"]).status_code == 200
    r = api.get(uris[1], as_=None)
    assert r.status_code == 403 and r.json()["reason"] == "no_emergency"
