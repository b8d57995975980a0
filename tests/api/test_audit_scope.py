"""Who reads which audit records (issue 13 item 13): an agency's auditor reads the records about its agency, an
oversight auditor (settings ``audit.oversight``) every record. Over the API: records, pages, timelines, emergencies
and MOUs. Runs on SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, on PostgreSQL (the scope is a SQL condition).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.api.support import LOTS, SAXE, Api

NCPS, NCPB = "ncps-ncpd-video", "ncpb-ncpd-video"
#: ncps "auditor"s are scoped; the ncps "oversight" role reads everything (a role/agency pair).
SETTINGS: dict[str, Any] = {
    "roles": ["auditor", "oversight"],
    "oversight": [{"agency": "ncps", "roles": ["oversight"]}],
}
AUDITORS = {
    "ncps": ("auditor-s", "ncps", ["auditor"]),
    "ncpd": ("ia-d", "ncpd", ["auditor"]),
    "ncpb": ("audit-b", "ncpb", ["auditor"]),
    "ncfd": ("audit-f", "ncfd", ["auditor"]),  # an agency no MOU names
    "oversight": ("state-1", "ncps", ["oversight"]),
}


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


@pytest.fixture
def scoped(make_api: Callable[..., contextlib.AbstractContextManager[Api]]) -> Iterator[Api]:
    with make_api(audit=SETTINGS) as api:
        yield api


def as_auditor(api: Api, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.mint(*AUDITORS[who])}"}


def read(api: Api, who: str, limit: int = 1000, **params: Any) -> list[dict[str, Any]]:
    """Every record ``who`` reads, page by page."""
    out: list[dict[str, Any]] = []
    after = None
    while True:
        query = params | {"limit": limit} | ({"after": after} if after is not None else {})
        r = api.get("/api/v1/audit", as_=None, headers=as_auditor(api, who), params=query)
        assert r.status_code == 200, r.text
        out += r.json()["records"]
        if (after := r.json()["next"]) is None:
            return out


def activity(api: Api) -> dict[str, str]:
    """Records about every agency: people of ncpd, ncps and ncpb, cameras of ncps and ncpb, both MOUs, nobody."""
    assert api.get("/api/v1/cameras").status_code == 200  # cameras.list by an ncpd officer
    assert api.get("/api/v1/cameras", as_="principal").status_code == 200  # ... by an ncps principal
    assert api.live("saxe-ext-01").status_code == 200  # an ncpd officer on an ncps camera
    api.live("lots-ext-01")  # ... on an ncpb camera (allowed or not: a decision about it)
    school = api.declared()["id"]  # ncpd dispatcher, ncps-ncpd MOU
    assert api.live("saxe-int-01", as_="officer2").status_code == 200  # a session under the emergency
    parking = api.declared(as_="parking", mou=NCPB, site="ncpb-lots", incident="CAD-7")["id"]  # ncpb supervisor
    assert api.get("/api/v1/cameras", as_=None).status_code == 401  # auth.refused: about nobody
    api.clock.advance(timedelta(minutes=1))
    api.services.tick()  # the minute's refusals are written
    return {"school": school, "parking": parking}


def key(rec: dict[str, Any]) -> tuple[Any, ...]:
    return rec["seq"], rec["kind"], rec["principal_agency"], rec["camera"], rec["mou"]


def test_each_agency_auditor_reads_the_records_about_its_agency_only(scoped: Api) -> None:
    ids = activity(scoped)
    every = read(scoped, "oversight")
    assert (
        len(every)
        == scoped.get("/api/v1/audit/verify", as_=None, headers=as_auditor(scoped, "oversight")).json()["records"]
    )
    kinds = {r["kind"] for r in every}
    assert {"cameras.list", "decision", "session.start", "emergency.declare", "auth.refused"} <= kinds

    def about(agency: str, cameras: list[str], mous: set[str]) -> set[tuple[Any, ...]]:
        return {
            key(r)
            for r in every
            if r["principal_agency"] == agency or r["camera"] in cameras or (r["camera"] is None and r["mou"] in mous)
        }

    got = {who: {key(r) for r in read(scoped, who)} for who in ("ncps", "ncpd", "ncpb", "ncfd")}
    assert got["ncps"] == about("ncps", SAXE, {NCPS})
    assert got["ncpd"] == about("ncpd", [], {NCPS, NCPB})
    assert got["ncpb"] == about("ncpb", LOTS, {NCPB})
    assert got["ncfd"] == set()
    # Before: every agency's auditor read all of it. Now each misses what is about other agencies only.
    by_seq = {r["seq"]: r for r in every}
    ncps = [by_seq[k[0]] for k in sorted(got["ncps"])]
    assert {r["kind"] for r in ncps} >= {"cameras.list", "decision", "session.start", "emergency.declare"}
    assert not any(r["camera"] in LOTS or r["mou"] == NCPB or r["kind"] == "auth.refused" for r in ncps)
    assert not any(r["kind"] == "cameras.list" and r["principal_agency"] == "ncpd" for r in ncps)
    ncpb = [by_seq[k[0]] for k in sorted(got["ncpb"])]
    assert {r["emergency"] for r in ncpb if r["kind"] == "emergency.declare"} == {ids["parking"]}
    assert not any(r["camera"] in SAXE or r["mou"] == NCPS for r in ncpb)
    assert not any(r["kind"] == "auth.refused" for who in got for r in (by_seq[k[0]] for k in got[who]))


def test_scoped_pages_and_filters_hold_only_the_scope(scoped: Api) -> None:
    ids = activity(scoped)
    whole = read(scoped, "ncps")
    assert read(scoped, "ncps", limit=1) == whole  # the cursor pages through the scope, one record at a time
    assert read(scoped, "ncpb", camera="saxe-ext-01") == []
    assert read(scoped, "ncpb", emergency=ids["school"]) == []
    assert read(scoped, "ncpb", principal="officer-17") == [r for r in read(scoped, "ncpb") if r["camera"] in LOTS]
    assert [r["kind"] for r in read(scoped, "ncps", emergency=ids["school"], kind="emergency.declare")] == [
        "emergency.declare"
    ]


def test_a_timeline_of_another_agencys_emergency_is_404_like_an_unknown_one(scoped: Api) -> None:
    ids = activity(scoped)

    def timeline(emergency: str, who: str) -> Any:
        return scoped.get(f"/api/v1/emergencies/{emergency}/timeline", as_=None, headers=as_auditor(scoped, who))

    theirs, unknown = timeline(ids["school"], "ncpb"), timeline("em-000000000000", "ncpb")
    assert (
        (theirs.status_code, theirs.json()["error"])
        == (unknown.status_code, unknown.json()["error"])
        == (
            404,
            "unknown_emergency",
        )
    )
    assert theirs.json()["message"].replace(ids["school"], "ID") == unknown.json()["message"].replace(
        "em-000000000000", "ID"
    )
    for who in ("ncps", "ncpd", "oversight"):  # the MOU's parties, and oversight
        r = timeline(ids["school"], who)
        assert r.status_code == 200, r.text
        sessions = r.json()["sessions"]
        assert [(s["principal_sub"], s["camera"]) for s in sessions] == [("officer-22", "saxe-int-01")], sessions
    assert timeline(ids["parking"], "ncps").status_code == 404
    assert timeline(ids["parking"], "ncpb").status_code == 200


def test_emergencies_and_mous_follow_the_same_scope(scoped: Api) -> None:
    ids = activity(scoped)

    def listed(path: str, who: str, field: str) -> list[str]:
        r = scoped.get(path, as_=None, headers=as_auditor(scoped, who))
        assert r.status_code == 200, r.text
        return sorted(item[field] for item in r.json()[path.rsplit("/", 1)[1]])

    assert listed("/api/v1/emergencies", "ncpb", "id") == [ids["parking"]]
    assert listed("/api/v1/emergencies", "ncps", "id") == [ids["school"]]
    assert listed("/api/v1/emergencies", "oversight", "id") == sorted(ids.values())
    assert listed("/api/v1/mous", "ncpb", "mou") == [NCPB]
    assert listed("/api/v1/mous", "ncfd", "mou") == []
    assert listed("/api/v1/mous", "oversight", "mou") == sorted([NCPS, NCPB])


def test_an_agency_named_for_oversight_reads_everything_with_every_audit_role(
    make_api: Callable[..., contextlib.AbstractContextManager[Api]],
) -> None:
    with make_api(audit={"oversight": [{"agency": "ncfd"}]}) as api:
        activity(api)
        every = read(api, "ncfd")  # the fire department's auditor, named for oversight (no roles: audit.roles)
        assert len(every) == api.get("/api/v1/audit/verify", as_="auditor").json()["records"]
        assert len(read(api, "ncpb")) < len(every)
