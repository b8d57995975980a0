"""The audit log over the API (auditors only): records, filters, pages, chain verification, and failing closed.

Runs on SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest

from tests.api.support import PREFIX, Api, assert_422, stored_emergencies

NCPS = "ncps-ncpd-video"
DECISION_FIELDS = ("reason", "grant", "clause", "emergency", "client")


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


def activity(api: Api) -> dict[str, Any]:
    """A known sequence of requests; returns what the test needs to find its records."""
    api.get("/api/v1/cameras")  # 1 cameras.list
    # 2 decision allow, 3 session.start, 4 session.served (the playlist is counted before it is answered)
    assert api.live("saxe-ext-01").status_code == 200
    assert api.live("saxe-int-01").status_code == 403  # 5 decision deny
    api.clock.advance(timedelta(minutes=10))
    em = api.declared()  # 6 emergency.declare
    # 7 decision allow, 8 session.start, 9 session.served
    assert api.live("saxe-int-01", as_="officer2").status_code == 200
    assert api.get(f"{PREFIX}/saxe-res-01/snapshot.jpg").status_code == 403  # 10 decision deny
    api.clock.advance(timedelta(minutes=10))
    assert api.end(em["id"]).status_code == 200  # 11 emergency.end
    return {"emergency": em["id"], "records": 11}


# -- access -------------------------------------------------------------------------------------------------


def test_the_audit_log_is_for_auditors(api: Api, subtests: pytest.Subtests) -> None:
    for who in ("officer", "supervisor", "dispatcher", "principal", "fire"):
        for path in ("/api/v1/audit", "/api/v1/audit/verify"):
            with subtests.test(who=who, path=path):
                r = api.get(path, as_=who)
                assert r.status_code == 403, r.text
                assert r.json()["error"] == "forbidden" and r.json()["reason"] == "not_an_auditor"


def test_auditors_may_be_restricted_to_agencies(make_api: Any) -> None:
    with make_api(audit={"roles": ["auditor"], "agencies": ["ncpd"]}) as api:
        assert api.get("/api/v1/audit", as_="auditor").status_code == 403  # an ncps auditor
        ncpd_auditor = api.mint("ia-1", "ncpd", ["auditor"])
        r = api.get("/api/v1/audit", as_=None, headers={"Authorization": f"Bearer {ncpd_auditor}"})
        assert r.status_code == 200


# -- records ------------------------------------------------------------------------------------------------


def test_verify_counts_every_record(api: Api) -> None:
    r = api.get("/api/v1/audit/verify", as_="auditor")
    assert r.status_code == 200 and r.json()["ok"] is True and r.json()["records"] == 0
    expected = activity(api)["records"]
    r = api.get("/api/v1/audit/verify", as_="auditor")
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is True and body["records"] == expected and len(body["head"]) == 64
    assert "first_bad" not in body
    records = api.audit()
    assert [rec["seq"] for rec in records] == list(range(1, expected + 1))
    assert body["head"] == records[-1]["hash"]
    assert [rec["kind"] for rec in records] == [
        "cameras.list",
        "decision",
        "session.start",
        "session.served",
        "decision",
        "emergency.declare",
        "decision",
        "session.start",
        "session.served",
        "decision",
        "emergency.end",
    ]
    for prev, rec in itertools.pairwise(records):
        assert rec["prev_hash"] == prev["hash"]


def test_every_decision_record_carries_reason_grant_clause_emergency_and_client(api: Api) -> None:
    ids = activity(api)
    decisions = api.audit(kind="decision")
    assert len(decisions) == 4
    for rec in decisions:
        for name in DECISION_FIELDS:
            assert name in rec
        assert rec["client"] == "testclient" and rec["principal_agency"] == "ncpd"
        assert rec["camera"] and rec["action"] in ("live", "snapshot") and isinstance(rec["allowed"], bool)
        assert "yielded" in rec["details"]
    got = [
        (r["camera"], r["allowed"], r["reason"], r["mou"], r["grant"], r["clause"], r["emergency"]) for r in decisions
    ]
    assert got[0] == ("saxe-ext-01", True, "allowed", NCPS, "G1", "4.1", None)
    assert got[1][:5] == ("saxe-int-01", False, "no_emergency", NCPS, "G2")
    assert got[2] == ("saxe-int-01", True, "allowed", NCPS, "G2", "4.2", ids["emergency"])
    assert got[3][:3] == ("saxe-res-01", False, "never_shared_zone")
    start = api.audit(kind="session.start", principal="officer-22")[0]
    assert (start["grant"], start["clause"], start["emergency"]) == ("G2", "4.2", ids["emergency"])


def test_the_client_address_is_the_peer_unless_a_proxy_is_trusted(make_api: Any) -> None:
    with make_api() as api:
        api.get("/api/v1/cameras", headers={"X-Forwarded-For": "203.0.113.9"})
        assert api.audit(kind="cameras.list")[-1]["client"] == "testclient"  # not believed
    with make_api(server={"trusted_proxies": ["testclient", "10.0.0.1"]}) as api:
        api.get("/api/v1/cameras", headers={"X-Forwarded-For": "203.0.113.9, 10.0.0.1"})
        assert api.audit(kind="cameras.list")[-1]["client"] == "203.0.113.9"
        # A client that writes its own X-Forwarded-For: the proxy appends the real address, which is believed.
        api.get("/api/v1/cameras", headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.7"})
        assert api.audit(kind="cameras.list")[-1]["client"] == "198.51.100.7"
        api.get("/api/v1/cameras", headers={"X-Forwarded-For": "x" * 5000})
        assert api.audit(kind="cameras.list")[-1]["client"] == "x" * 64  # bounded


# -- filters and pages --------------------------------------------------------------------------------------


def test_filters(api: Api) -> None:
    ids = activity(api)

    def seqs(**params: Any) -> list[int]:
        return [r["seq"] for r in api.audit(**params)]

    assert seqs(principal="officer-17") == [1, 2, 3, 4, 5, 10]
    assert seqs(principal="dispatch-3") == [6, 11]
    assert seqs(principal="nobody") == []
    assert seqs(camera="saxe-int-01") == [5, 7, 8, 9]
    assert seqs(emergency=ids["emergency"]) == [6, 7, 8, 9, 11]
    assert seqs(decision="allow") == [2, 3, 7, 8]  # session starts carry allowed too
    assert seqs(decision="deny") == [5, 10]
    assert seqs(kind="decision") == [2, 5, 7, 10]
    assert seqs(kind="emergency.declare") == [6]
    assert seqs(kind="decision", decision="deny", camera="saxe-res-01") == [10]
    # Time: records 1-5 at 13:00Z, 6-10 at 13:10Z, 11 at 13:20Z. Offsets are honoured; until is exclusive.
    assert seqs(since="2026-09-14T09:10:00-04:00") == [6, 7, 8, 9, 10, 11]
    assert seqs(since="2026-09-14T13:10:00Z", until="2026-09-14T13:20:00Z") == [6, 7, 8, 9, 10]
    assert seqs(until="2026-09-14T15:05:00+02:00") == [1, 2, 3, 4, 5]
    assert seqs(until="2026-09-14T15:00:00+02:00") == []  # 13:00Z itself is excluded
    assert seqs(since="2026-09-14T13:20:00.000001+00:00") == []


BAD_FILTERS: list[tuple[dict[str, Any], str]] = [
    ({"since": "2026-09-14T13:00:00"}, "since"),  # naive: which 13:00?
    ({"until": "2026-09-14T13:00:00"}, "until"),
    ({"since": "yesterday"}, "since"),
    ({"decision": "maybe"}, "decision"),
    ({"after": -1}, "after"),
    ({"after": "x"}, "after"),
    ({"limit": 0}, "limit"),
    ({"limit": 1001}, "limit"),
]


def test_bad_filters_are_422(api: Api, subtests: pytest.Subtests) -> None:
    for params, field in BAD_FILTERS:
        with subtests.test(params=params):
            assert_422(api.get("/api/v1/audit", as_="auditor", params=params), field)


def test_pagination_with_after_and_next(api: Api) -> None:
    total = activity(api)["records"]
    pages: list[list[int]] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 4} | ({"after": after} if after is not None else {})
        body = api.get("/api/v1/audit", as_="auditor", params=params).json()
        pages.append([r["seq"] for r in body["records"]])
        after = body["next"]
        if after is None:
            break
        assert after == pages[-1][-1]
    assert pages == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11]]
    assert [seq for page in pages for seq in page] == list(range(1, total + 1))
    # Pages of a filtered query.
    body = api.get("/api/v1/audit", as_="auditor", params={"kind": "decision", "limit": 3}).json()
    assert [r["seq"] for r in body["records"]] == [2, 5, 7] and body["next"] == 7
    body = api.get("/api/v1/audit", as_="auditor", params={"kind": "decision", "limit": 3, "after": 7}).json()
    assert [r["seq"] for r in body["records"]] == [10] and body["next"] is None


# -- tampering ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "first_bad"),
    [
        ("UPDATE audit_records SET reason = 'allowed', allowed = true WHERE seq = 5", 5),
        ("UPDATE audit_records SET principal_sub = 'someone-else' WHERE seq = 2", 2),
        ("DELETE FROM audit_records WHERE seq = 6", 6),
    ],
)
def test_tampering_is_found_by_verify(api: Api, statement: str, first_bad: int) -> None:
    activity(api)
    api.sql(statement)
    body = api.get("/api/v1/audit/verify", as_="auditor").json()
    assert body["ok"] is False
    assert body["first_bad"] == first_bad
    assert body["problem"]


# -- failing closed -----------------------------------------------------------------------------------------


def test_an_unwritable_audit_log_refuses_streams_and_declarations(api: Api) -> None:
    uris = api.playlist_uris("saxe-ext-01")  # a viewer already watching
    before = api.origin.count("cam1/index.m3u8")
    api.sql("DROP TABLE audit_records")
    for path in (
        f"{PREFIX}/saxe-ext-02/live.m3u8",
        f"{PREFIX}/saxe-ext-01/snapshot.jpg",
        f"{PREFIX}/saxe-ext-01/live.m3u8",
    ):
        r = api.get(path)
        assert r.status_code == 503, (path, r.text)
        assert r.json()["error"] == "audit_unavailable"
    assert api.origin.count("cam1/index.m3u8") == before
    assert api.origin.count("cam2/index.m3u8") == 0 and api.origin.count("cam1/snapshot.jpg") == 0
    # Once a record failed, the signed URLs already handed out stop too.
    r = api.get(uris[1], as_=None)
    assert r.status_code == 503 and r.json()["error"] == "audit_unavailable"
    assert api.origin.count("cam1/seg001.ts") == 0
    # No record, no emergency.
    r = api.declare()
    assert r.status_code == 503 and r.json()["error"] == "audit_unavailable"
    assert stored_emergencies(api) == 0
    # The listing writes a record too.
    assert api.get("/api/v1/cameras").status_code == 503
    # Reading the log reports it unavailable rather than failing.
    for path in ("/api/v1/audit", "/api/v1/audit/verify"):
        r = api.get(path, as_="auditor")
        assert r.status_code == 503 and r.json()["error"] == "audit_unavailable"


def test_an_emergency_end_stands_when_the_audit_log_fails_and_is_recorded_later(api: Api) -> None:
    em = api.declared()
    api.sql("ALTER TABLE audit_records RENAME TO audit_records_away")
    r = api.end(em["id"])
    assert r.status_code == 200 and r.json()["status"] == "ended"  # ending only ever removes access
    api.sql("ALTER TABLE audit_records_away RENAME TO audit_records")
    assert api.live("saxe-int-01").json()["reason"] == "no_emergency"
    assert api.audit(kind="emergency.end") == []
    api.services.tick()
    (rec,) = api.audit(kind="emergency.end")
    assert rec["emergency"] == em["id"] and rec["principal_sub"] == "dispatch-3"
    assert api.get("/api/v1/audit/verify", as_="auditor").json()["ok"] is True


def test_a_declaration_that_could_not_be_stored_is_marked_failed_on_the_chain(api: Api) -> None:
    api.sql("DROP TABLE emergencies")
    r = api.declare()
    assert r.status_code == 503 and r.json()["error"] == "store_unavailable"
    assert int(r.headers["Retry-After"]) > 0  # RFC 9110 §10.2.3
    # The record and the row are one transaction: neither was written, and the attempt is on the chain.
    assert api.audit(kind="emergency.declare") == []
    (failed,) = api.audit(kind="emergency.declare_failed")
    assert failed["emergency"].startswith("em-") and failed["details"] == {
        "error": "StoreUnavailable",
        "recorded": False,
    }
    checked = api.get("/api/v1/audit/verify", as_="auditor").json()
    assert checked["chain_ok"] is True  # the chain holds; the dropped table is itself reported
    assert checked["ok"] is False and checked["bindings"][0]["table"] == "emergencies"


def test_open_sessions_stop_within_a_housekeeping_tick_when_the_audit_log_becomes_unwritable(api: Api) -> None:
    uris = api.playlist_uris("saxe-ext-01")
    assert api.get(uris[0], as_=None).status_code == 200  # a viewer with an open session
    api.sql("DROP TABLE audit_records")
    api.services.tick()  # no record was attempted by the viewer; the probe finds out
    r = api.get(uris[1], as_=None)
    assert r.status_code == 503 and r.json()["error"] == "audit_unavailable"
