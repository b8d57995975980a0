"""GET /api/v1/emergencies/{id}/timeline: who watched which camera when under an emergency (auditors only).

Runs on SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.api.support import Api

ROUTE = "/api/v1/emergencies/{}/timeline"


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


def timeline(api: Api, emergency: str, as_: str = "auditor") -> dict[str, Any]:
    r = api.get(ROUTE.format(emergency), as_=as_)
    assert r.status_code == 200, r.text
    return r.json()


def test_it_is_for_auditors(api: Api, subtests: pytest.Subtests) -> None:
    em = api.declared()
    for who in ("officer", "dispatcher", "supervisor", "principal", "operator"):
        with subtests.test(who=who):
            r = api.get(ROUTE.format(em["id"]), as_=who)
            assert r.status_code == 403, r.text
            assert r.json()["error"] == "forbidden" and r.json()["reason"] == "not_an_auditor"
    assert api.get(ROUTE.format(em["id"]), as_=None).status_code == 401
    r = api.get(ROUTE.format("em-000000000000"), as_="auditor")
    assert r.status_code == 404 and r.json()["error"] == "unknown_emergency"


def test_sessions_and_transitions_of_one_emergency(api: Api) -> None:
    assert api.live("saxe-ext-01").status_code == 200  # an always grant: not part of any emergency
    em = api.declared(incident="NC-26-01433")
    api.clock.advance(timedelta(seconds=5))
    assert api.live("saxe-int-01").status_code == 200  # officer-17 starts watching
    api.clock.advance(timedelta(seconds=10))
    assert api.live("saxe-int-01").status_code == 200  # a reload: the same session
    assert api.live("saxe-int-02", as_="officer2").status_code == 200
    r = api.post(f"/api/v1/emergencies/{em['id']}/extend", as_="dispatcher",
                 json={"minutes": 15, "reason": "suspect still inside"})  # fmt: skip
    assert r.status_code == 200, r.text

    during = timeline(api, em["id"])
    assert during["complete"] is True and during["now"] == "2026-09-14T13:00:15Z"
    assert (during["emergency"]["id"], during["emergency"]["status"]) == (em["id"], "active")
    assert [(s["principal_sub"], s["camera"], s["ended"]) for s in during["sessions"]] == [
        ("officer-17", "saxe-int-01", None), ("officer-22", "saxe-int-02", None),
    ]  # fmt: skip
    assert [t["kind"] for t in during["transitions"]] == ["declare", "extend"]

    api.clock.advance(timedelta(seconds=20))  # within the 30 s idle time: revoked, not idle
    assert api.end(em["id"]).status_code == 200
    api.services.tick()  # housekeeping decides the open sessions again: both end, revoked
    after = timeline(api, em["id"])
    assert after["emergency"]["status"] == "ended"
    declare, extend, end = after["transitions"]
    assert (declare["at"], declare["by"]) == (em["declared_at"], {"sub": "dispatch-3", "agency": "ncpd"})
    assert (extend["minutes"], extend["reason"]) == (15, "suspect still inside")
    assert end["at"] == after["emergency"]["ended_at"] == "2026-09-14T13:00:35Z"
    kim, ray = after["sessions"]
    assert kim | {"session": "", "start_seq": 0, "end_seq": 0} == {
        "session": "", "principal_sub": "officer-17", "agency": "ncpd", "roles": ["officer"],
        "camera": "saxe-int-01", "action": "live", "grant": "G2", "clause": "4.2", "client": "testclient",
        "started": "2026-09-14T13:00:05Z", "start_seq": 0, "last": "2026-09-14T13:00:15Z",
        "ended": "2026-09-14T13:00:35Z", "end_seq": 0, "reason_ended": "access_revoked:no_emergency",
        "requests": 2, "bytes": kim["bytes"],
    }  # fmt: skip
    assert kim["bytes"] > 0  # the playlist and the segment it was answered
    assert kim["session"].startswith("vs-") and kim["start_seq"] < end["seq"] < kim["end_seq"]
    assert (ray["principal_sub"], ray["camera"], ray["reason_ended"]) == (
        "officer-22", "saxe-int-02", "access_revoked:no_emergency",
    )  # fmt: skip
    # The same sessions as the audit log's own records of this emergency.
    starts = api.audit(emergency=em["id"], kind="session.start")
    assert sorted(s["start_seq"] for s in after["sessions"]) == [r["seq"] for r in starts]


def test_another_emergency_sessions_stay_out(api: Api) -> None:
    first = api.declared()
    assert api.live("saxe-int-01").status_code == 200
    assert api.end(first["id"]).status_code == 200
    api.services.tick()
    second = api.declared()
    assert api.live("saxe-int-01", as_="officer2").status_code == 200
    assert [s["principal_sub"] for s in timeline(api, first["id"])["sessions"]] == ["officer-17"]
    assert [s["principal_sub"] for s in timeline(api, second["id"])["sessions"]] == ["officer-22"]
