"""GET /api/v1/cameras: what each agency sees, with the live decision made now; filters, pages, the audit record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.api.support import ALL_CAMERAS, EAST, LOTS, PREFIX, SAXE, Api


def decision(allowed: bool, reason: str, mou: str | None, grant: str | None, clause: str | None = None) -> dict:
    return {"allowed": allowed, "reason": reason, "mou": mou, "grant": grant, "clause": clause, "emergency": None}


NCPS = "ncps-ncpd-video"
NCPB = "ncpb-ncpd-video"


def test_an_officer_sees_the_schools_and_parking_cameras_with_the_live_decision(api: Api) -> None:
    r = api.get("/api/v1/cameras")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == len(ALL_CAMERAS) and body["offset"] == 0 and body["limit"] == 1000
    cams = {c["id"]: c for c in body["cameras"]}
    assert list(cams) == ALL_CAMERAS  # inventory order
    live = {cid: c["live"] for cid, c in cams.items()}
    assert live["saxe-ext-01"] == decision(True, "allowed", NCPS, "G1", "4.1")
    assert live["east-ext-01"] == decision(True, "allowed", NCPS, "G1", "4.1")
    assert live["saxe-int-01"]["allowed"] is False and live["saxe-int-01"]["reason"] == "no_emergency"
    assert (live["saxe-int-01"]["mou"], live["saxe-int-01"]["grant"]) == (NCPS, "G2")
    assert live["saxe-res-01"]["allowed"] is False and live["saxe-res-01"]["reason"] == "never_shared_zone"
    assert live["saxe-new-01"]["allowed"] is False and live["saxe-new-01"]["reason"] == "unclassified_camera"
    assert live["lots-ext-01"] == decision(True, "allowed", NCPB, "P1", "2")
    assert live["pb-body-01"]["reason"] == "no_emergency" and live["pb-body-01"]["grant"] == "P3"
    cam = cams["saxe-ext-01"]
    assert cam["name"] == "Main entrance" and cam["site"] == "ncps-saxe" and cam["building"] == "main"
    assert cam["zone"] == "exterior" and cam["location"] == {"lat": 41.14885, "lon": -73.49571}
    assert cam["urls"] == {
        "live": f"{PREFIX}/saxe-ext-01/live.m3u8", "snapshot": f"{PREFIX}/saxe-ext-01/snapshot.jpg",
        "playback": f"{PREFIX}/saxe-ext-01/playback.m3u8",
    }  # fmt: skip
    assert cams["saxe-new-01"]["zone"] is None and cams["saxe-gym-01"]["location"] is None
    # The camera systems stay behind the broker: no upstream URL, port, system or ref in the listing.
    assert api.origin.base_url not in r.text and str(api.origin.port) not in r.text
    assert "ncps-vms" not in r.text and "cam1" not in r.text
    assert api.origin_total() == 0  # listing never touches a camera system


def test_listing_does_not_depend_on_roles_for_visibility_but_decisions_do(api: Api) -> None:
    # A supervisor and an officer of the same agency see the same cameras; body cams differ only by action.
    assert list(api.cameras("supervisor")) == list(api.cameras("officer"))


def test_an_agency_with_no_mou_sees_no_camera(api: Api) -> None:
    r = api.get("/api/v1/cameras", as_="fire")
    assert r.status_code == 200
    assert r.json() == {"cameras": [], "total": 0, "offset": 0, "limit": 1000}


def test_the_owner_sees_its_own_sites_but_is_not_granted_by_the_mou(api: Api) -> None:
    cams = api.cameras("principal")
    assert list(cams) == SAXE + EAST
    assert {c["live"]["reason"] for c in cams.values()} == {"no_mou"}
    assert not any(c["live"]["allowed"] for c in cams.values())


def test_parking_agency_sees_only_its_lots(api: Api) -> None:
    assert list(api.cameras("parking")) == LOTS


FILTERS: list[tuple[dict[str, str], list[str]]] = [
    ({"site": "ncps-east"}, EAST),
    ({"site": "ncpb-lots"}, LOTS),
    ({"zone": "interior"}, ["saxe-int-01", "saxe-int-02", "saxe-gym-01", "east-int-01"]),
    ({"site": "ncps-saxe", "zone": "restricted"}, ["saxe-res-01"]),
    ({"site": "ncps-east", "zone": "lot"}, []),
    ({"site": "no-such-site"}, []),
    ({"zone": "body_worn"}, ["pb-body-01"]),
]


def test_filters(api: Api, subtests: pytest.Subtests) -> None:
    for params, expected in FILTERS:
        with subtests.test(params=params):
            r = api.get("/api/v1/cameras", params=params)
            assert r.status_code == 200
            assert [c["id"] for c in r.json()["cameras"]] == expected
            assert r.json()["total"] == len(expected)


def test_filters_never_reveal_cameras_of_sites_without_an_mou(api: Api) -> None:
    assert api.get("/api/v1/cameras", as_="fire", params={"site": "ncps-saxe"}).json()["cameras"] == []
    assert api.get("/api/v1/cameras", as_="parking", params={"site": "ncps-saxe"}).json()["total"] == 0


def test_pagination(api: Api) -> None:
    seen: list[str] = []
    for offset in range(0, len(ALL_CAMERAS) + 5, 5):
        r = api.get("/api/v1/cameras", params={"limit": 5, "offset": offset})
        assert r.status_code == 200
        body = r.json()
        assert body["total"] == len(ALL_CAMERAS) and body["limit"] == 5 and body["offset"] == offset
        assert len(body["cameras"]) == max(0, min(5, len(ALL_CAMERAS) - offset))
        seen += [c["id"] for c in body["cameras"]]
    assert seen == ALL_CAMERAS
    page = api.get("/api/v1/cameras", params={"site": "ncps-saxe", "limit": 2, "offset": 10}).json()
    assert [c["id"] for c in page["cameras"]] == SAXE[10:12] and page["total"] == len(SAXE)


def test_bad_paging_is_422_naming_the_field(api: Api, subtests: pytest.Subtests) -> None:
    for params, field in [({"limit": 0}, "limit"), ({"limit": 10001}, "limit"), ({"offset": -1}, "offset"),
                          ({"limit": "ten"}, "limit")]:  # fmt: skip
        with subtests.test(params=params):
            r = api.get("/api/v1/cameras", params=params)
            assert r.status_code == 422
            assert r.json()["error"] == "invalid_request" and r.json()["field"] == field


def test_a_listing_writes_one_cameras_list_audit_record(api: Api) -> None:
    api.get("/api/v1/cameras", params={"site": "ncps-saxe", "limit": 3})
    api.get("/api/v1/cameras", as_="fire")
    records = api.audit(kind="cameras.list")
    assert len(records) == 2
    first, second = records
    assert (first["principal_sub"], first["principal_agency"], first["principal_roles"]) == (
        "officer-17", "ncpd", ["officer"],
    )  # fmt: skip
    assert first["client"] == "testclient"
    assert first["details"] == {"count": 3, "total": len(SAXE), "site": "ncps-saxe", "zone": None}
    assert first["camera"] is None and first["allowed"] is None  # grants nothing
    assert second["principal_agency"] == "ncfd" and second["details"]["total"] == 0
    # Listing decides but does not record decisions: only the listing itself.
    assert api.audit(kind="decision") == []


def test_decisions_follow_the_clock(api: Api) -> None:
    # Sunday afternoon: the lot grant P1 runs Mon-Sat, so only the emergency grant P3 is left (contract 4.6:
    # no_emergency is reported before outside_schedule). School exterior access is always.
    api.travel(datetime(2026, 9, 13, 19, 0, tzinfo=UTC))
    cams = api.cameras()
    assert cams["lots-ext-01"]["live"]["allowed"] is False
    assert (cams["lots-ext-01"]["live"]["reason"], cams["lots-ext-01"]["live"]["grant"]) == ("no_emergency", "P3")
    assert cams["saxe-ext-01"]["live"]["allowed"] is True
    # Before the school MOU's effective date.
    api.travel(datetime(2026, 6, 1, 13, 0, tzinfo=UTC))
    cams = api.cameras()
    assert cams["saxe-ext-01"]["live"]["reason"] == "mou_not_in_effect"
    assert cams["saxe-ext-01"]["live"]["allowed"] is False
