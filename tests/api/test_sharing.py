"""School IT's view through the API: ``GET /api/v1/sharing`` (what partners may see of my cameras now, under which
clause), ``GET /api/v1/mous`` (the MOUs in plain words), and the emergencies and viewers at my sites."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.api.support import EAST, LOTS, SAXE, Api


def sharing(api: Api, as_: str = "operator", **params: Any) -> dict[str, Any]:
    r = api.get("/api/v1/sharing", as_=as_, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def partners(page: dict[str, Any], camera: str, action: str = "live") -> list[dict[str, Any]]:
    (cam,) = [c for c in page["cameras"] if c["id"] == camera]
    return [p for p in cam["partners"] if p["action"] == action]


def test_school_it_sees_its_own_cameras_unclassified_first_with_what_the_police_may_see(api: Api) -> None:
    page = sharing(api)
    ids = [c["id"] for c in page["cameras"]]
    assert sorted(ids) == sorted(SAXE + EAST) and page["total"] == len(ids)  # never the parking bureau's
    assert ids[0] == "saxe-new-01" and page["cameras"][0]["unclassified"] is True
    assert page["cameras"][0]["attention"] == ["no_zone"]
    assert [c["site"] for c in page["cameras"][1:]] == sorted(c["site"] for c in page["cameras"][1:])  # East first
    assert page["agency"] == "ncps" and page["at"] == "2026-09-14T13:00:00Z"
    assert [s["name"] for s in page["sites"]] == ["East School", "Saxe Middle School"]  # every site of ncps here
    (ext,) = partners(page, "saxe-ext-01")
    assert ext == {"agency": "ncpd", "agency_name": "New Canaan Police Department", "action": "live", "shared": True,
                   "reason": "allowed", "roles": ["dispatcher", "officer", "supervisor"], "mou": "ncps-ncpd-video",
                   "grant": "G1", "clause": "4.1", "emergency": None}  # fmt: skip
    (interior,) = partners(page, "saxe-int-01")
    assert (interior["shared"], interior["reason"], interior["clause"]) == (False, "no_emergency", "4.2")
    (new,) = partners(page, "saxe-new-01")
    assert (new["shared"], new["reason"]) == (False, "unclassified_camera")
    (restricted,) = partners(page, "saxe-res-01")
    assert (restricted["shared"], restricted["reason"]) == (False, "never_shared_zone")
    assert [p["action"] for p in page["cameras"][1]["partners"]] == ["live", "snapshot", "playback", "export"]


def test_a_declaration_opens_the_interior_cameras_it_covers_under_its_clause_and_the_end_closes_them(api: Api) -> None:
    em = api.declared(zones=["interior"], buildings=["main"])
    page = sharing(api)
    (interior,) = partners(page, "saxe-int-01")
    assert (interior["shared"], interior["grant"], interior["clause"], interior["emergency"]) == (
        True, "G2", "4.2", em["id"])  # fmt: skip
    (gym,) = partners(page, "saxe-gym-01")  # building gym: outside the declared scope
    assert (gym["shared"], gym["reason"]) == (False, "no_emergency")
    (east,) = partners(page, "east-int-01")
    assert east["shared"] is False
    # What the sharing view says is what a real request gets.
    assert api.live("saxe-int-01").status_code == 200 and api.live("saxe-gym-01").status_code == 403
    assert api.end(em["id"]).status_code == 200
    (after,) = partners(sharing(api), "saxe-int-01")
    assert (after["shared"], after["reason"]) == (False, "no_emergency")


def test_who_may_read_it(api: Api) -> None:
    assert sharing(api, as_="principal")["agency"] == "ncps"  # a role the school MOU names for the district
    for outsider in ("officer", "dispatcher", "auditor", "fire"):
        r = api.get("/api/v1/sharing", as_=outsider)
        assert r.status_code == 403, (outsider, r.text)
        assert r.json()["reason"] == "not_owner_staff" and "ask your agency's administrator" in r.json()["message"]
    assert api.get("/api/v1/sharing", as_=None).status_code == 401
    parking = sharing(api, as_="parking")  # the parking MOU names ncpb supervisors: their own cameras only
    assert [c["id"] for c in parking["cameras"]] == ["pb-body-01", "lots-ext-01"]  # by zone: body_worn, lot
    assert parking["agency"] == "ncpb" and {c["id"] for c in parking["cameras"]} == set(LOTS)
    (lot,) = partners(parking, "lots-ext-01")
    assert (lot["shared"], lot["clause"]) == (True, "2")  # Monday 09:00: inside P1's schedule
    assert api.get("/api/v1/sharing", as_="operator", params={"site": "ncpb-lots"}).json()["cameras"] == []


def test_site_filter_paging_and_no_audit_record(api: Api) -> None:
    before = len(api.audit())
    east = sharing(api, site="ncps-east")
    assert [c["id"] for c in east["cameras"]] == ["east-ext-01", "east-int-01"] and east["total"] == 2
    page = sharing(api, limit=2, offset=1)
    assert [c["id"] for c in page["cameras"]] == [c["id"] for c in sharing(api)["cameras"][1:3]]
    assert (page["total"], page["limit"], page["offset"]) == (len(SAXE + EAST), 2, 1)
    assert len(api.audit()) == before  # a listing grants nothing and records nothing


def test_a_camera_missing_from_its_system_is_flagged(api: Api, tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    text = inventory.read_text(encoding="utf-8")
    old = "system: ncps-vms, ref: cam1}}".replace("}}", "}")
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("- {id: saxe-int-02,"))
    assert line.endswith(old)
    inventory.write_text(text.replace(line, line[:-1] + ', missing_since: "2026-09-14T12:00:00Z"}'), encoding="utf-8")
    assert api.post("/api/v1/admin/reload", as_="operator").status_code == 200
    (cam,) = [c for c in sharing(api)["cameras"] if c["id"] == "saxe-int-02"]
    assert cam["attention"] == ["missing"] and cam["missing_since"] == "2026-09-14T12:00:00Z"
    assert cam["unclassified"] is False  # classified: its sharing is what the MOU says
    ids = [c["id"] for c in sharing(api)["cameras"]]
    assert ids.index("saxe-int-02") > ids.index("saxe-new-01") == 0


def test_the_mous_in_plain_words_for_their_parties(api: Api) -> None:
    r = api.get("/api/v1/mous", as_="operator")
    assert r.status_code == 200, r.text
    (school,) = r.json()["mous"]  # the parking MOU is not the district's
    assert (school["mou"], school["status"], school["effective"], school["expires"]) == (
        "ncps-ncpd-video", "in_force", "2026-07-01", "2027-06-30")  # fmt: skip
    assert school["owner"] == {"id": "ncps", "name": "New Canaan Public Schools"}
    assert school["recipients"] == [{"id": "ncpd", "name": "New Canaan Police Department"}]
    assert [s["id"] for s in school["sites"]] == ["ncps-saxe", "ncps-east"]
    g1, g2, g3 = school["grants"]
    assert (g1["id"], g1["clause"], g1["when"], g1["zones"]) == ("G1", "4.1", "always", ["exterior"])
    assert g1["text"].startswith("New Canaan Police Department officers, dispatchers and supervisors may watch live")
    assert "exterior cameras at every New Canaan Public Schools site, at any time" in g1["text"]
    assert "interior cameras" in g2["text"] and "only during a declared emergency, for up to 4 h" in g2["text"]
    assert "pre-event footage from 30 s before the declaration (clause 4.2)." in g2["text"]
    assert g3["roles"] == ["supervisor"] and g3["actions"] == ["export"]
    assert school["never_zones"] == ["restricted"] and "restricted cameras" in school["never"]
    assert "34 CFR 99.32" in school["records"] and "confirm it within 10 min" in school["emergency"]
    officer = [m["mou"] for m in api.get("/api/v1/mous", as_="officer").json()["mous"]]
    assert officer == ["ncpb-ncpd-video", "ncps-ncpd-video"]  # a recipient of both
    assert [m["mou"] for m in api.get("/api/v1/mous", as_="auditor").json()["mous"]] == officer  # auditors: all
    assert api.get("/api/v1/mous", as_="fire").json()["mous"] == []  # a party to none
    assert api.get("/api/v1/mous", as_=None).status_code == 401


def test_mous_in_force_only(api: Api) -> None:
    api.travel(api.clock.now().replace(year=2027, month=7, day=2))
    mous = {m["mou"]: m["status"] for m in api.get("/api/v1/mous", as_="officer").json()["mous"]}
    assert mous == {"ncpb-ncpd-video": "in_force", "ncps-ncpd-video": "expired"}
    only = api.get("/api/v1/mous", as_="officer", params={"in_force": "true"}).json()["mous"]
    assert [m["mou"] for m in only] == ["ncpb-ncpd-video"]


def test_school_it_sees_who_is_watching_under_an_emergency_at_its_sites_and_no_other(api: Api) -> None:
    """A school district must know who watches its cameras (FERPA 34 CFR 99.32: the record of each disclosure)."""
    school = api.declared()["id"]
    lot = api.declared(mou="ncpb-ncpd-video", site="ncpb-lots", incident="NC-26-00001")["id"]
    assert api.live("saxe-int-01").status_code == 200
    r = api.get("/api/v1/emergencies", as_="operator", params={"active": "true"})
    assert r.status_code == 200 and [e["id"] for e in r.json()["emergencies"]] == [school]  # not the parking lot's
    r = api.get(f"/api/v1/emergencies/{school}/viewers", as_="operator")
    assert r.status_code == 200, r.text
    (v,) = r.json()["viewers"]
    assert (v["sub"], v["agency"], v["camera"], v["clause"]) == ("officer-17", "ncpd", "saxe-int-01", "4.2")
    assert api.get(f"/api/v1/emergencies/{lot}/viewers", as_="operator").status_code == 404
