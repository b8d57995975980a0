"""Cut-off everywhere: sessions no longer allowed end at once, without the viewer asking again; and who is
watching under an emergency right now (``GET /api/v1/emergencies/{id}/viewers``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.api.support import Api


def viewers(api: Api, emergency: str, as_: str = "dispatcher") -> list[dict]:
    r = api.get(f"/api/v1/emergencies/{emergency}/viewers", as_=as_)
    assert r.status_code == 200, r.text
    assert r.json()["emergency"] == emergency
    return r.json()["viewers"]


def test_viewers_list_who_watches_what_and_the_end_cuts_them_at_once(api: Api) -> None:
    em = api.declared()["id"]
    assert viewers(api, em) == []
    assert api.live("saxe-int-01").status_code == 200
    assert api.live("saxe-ext-01").status_code == 200  # exterior: clause 4.1, not under the emergency
    (v,) = viewers(api, em)
    assert (v["sub"], v["agency"], v["camera"], v["action"], v["grant"], v["clause"]) == (
        "officer-17", "ncpd", "saxe-int-01", "live", "G2", "4.2")  # fmt: skip
    assert v["requests"] == 1 and v["started"] == v["last"]  # the playlist it was answered
    assert viewers(api, em, as_="auditor") == [v] and viewers(api, em, as_="principal") == [v]
    assert api.get(f"/api/v1/emergencies/{em}/viewers", as_="parking").status_code == 404  # not a party

    assert api.end(em).status_code == 200
    api.services.tick()  # housekeeping, every second in a running broker
    assert viewers(api, em) == []
    ends = api.audit(kind="session.end", camera="saxe-int-01")
    assert [e["reason"] for e in ends] == ["access_revoked:no_emergency"]
    assert api.audit(kind="session.end", camera="saxe-ext-01") == []  # still allowed, still open


def test_expiry_cuts_viewers_without_a_request(api: Api) -> None:
    em = api.declared(duration_minutes=1)["id"]
    assert api.live("saxe-int-02").status_code == 200
    api.clock.advance(timedelta(seconds=40))
    assert api.live("saxe-int-02").status_code == 200  # a playlist reload (sessions idle out after 30 s)
    api.clock.advance(timedelta(seconds=15))
    api.services.tick()
    assert len(viewers(api, em)) == 1
    api.clock.advance(timedelta(seconds=10))
    api.services.tick()
    assert api.services.sessions.viewing(em) == []
    (end,) = api.audit(kind="session.end", camera="saxe-int-02")
    assert end["reason"] == "access_revoked:no_emergency" and end["emergency"] == em


def test_an_mou_going_out_of_effect_cuts_viewers(api: Api) -> None:
    # ncps-ncpd-video expires 2027-06-30, through 23:59:59 New York time = 2027-07-01T04:00:00Z.
    api.travel(datetime(2027, 7, 1, 3, 59, 50, tzinfo=UTC))
    assert api.live("saxe-ext-01").status_code == 200
    api.clock.advance(timedelta(seconds=15))
    api.services.tick()
    (end,) = api.audit(kind="session.end", camera="saxe-ext-01")
    assert end["reason"] == "access_revoked:mou_not_in_effect"
    assert len(api.services.sessions) == 0


def test_viewers_of_an_unknown_emergency_is_404(api: Api) -> None:
    r = api.get("/api/v1/emergencies/em-000000000000/viewers", as_="dispatcher")
    assert r.status_code == 404 and r.json()["error"] == "unknown_emergency"
