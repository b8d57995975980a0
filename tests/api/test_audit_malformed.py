"""Issue 12, item 5 over HTTP: a malformed audit row is tampering at that record, never a 500.

Runs on SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, on PostgreSQL (where ``ts`` cannot hold garbage).
"""

from __future__ import annotations

import pytest

from tests.api.support import Api


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


def _records(api: Api, n: int) -> None:
    for _ in range(n):
        assert api.get("/api/v1/cameras").status_code == 200


def test_bad_json_in_details(api: Api) -> None:
    _records(api, 3)
    api.sql("UPDATE audit_records SET details = '{not json' WHERE seq = 1")
    r = api.get("/api/v1/audit/verify", as_="auditor")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["ok"], body["first_bad"], body["records"]) == (False, 1, 0)
    assert body["problem"].startswith("record 1 is malformed: details: not JSON")
    r = api.get("/api/v1/audit", as_="auditor")
    assert r.status_code == 200, r.text
    assert [rec["seq"] for rec in r.json()["records"]] == [2, 3]
    assert r.json()["malformed"] == [{"seq": 1, "field": "details", "problem": body["problem"]}]


def test_garbage_ts(api: Api) -> None:
    if not api.store_url.startswith("sqlite"):
        pytest.skip("PostgreSQL refuses a ts that is not a time")
    _records(api, 3)
    api.sql("UPDATE audit_records SET ts = 'garbage' WHERE seq = 2")
    r = api.get("/api/v1/audit", as_="auditor")
    assert r.status_code == 200, r.text
    assert [rec["seq"] for rec in r.json()["records"]] == [1, 3]
    assert [(m["seq"], m["field"]) for m in r.json()["malformed"]] == [(2, "ts")]
    body = api.get("/api/v1/audit/verify", as_="auditor").json()
    assert (body["ok"], body["first_bad"]) == (False, 2) and body["problem"].startswith("record 2 is malformed: ts:")
    assert api.get("/api/v1/audit", as_="auditor", params={"since": "2026-01-01T00:00:00Z"}).status_code == 200


def test_verify_reports_checkpoints_and_the_local_witness(api: Api) -> None:
    _records(api, 2)
    assert api.post("/api/v1/audit/checkpoints", as_="auditor").status_code == 201
    body = api.get("/api/v1/audit/verify", as_="auditor").json()
    assert (body["ok"], body["records"], body["checkpoints"], body["witnessed"]) == (True, 2, 1, 1)
    api.sql("DELETE FROM audit_records WHERE seq = 2")
    api.sql("UPDATE audit_head SET seq = 1, hash = (SELECT hash FROM audit_records WHERE seq = 1)")
    api.sql("DELETE FROM audit_checkpoints")
    body = api.get("/api/v1/audit/verify", as_="auditor").json()
    assert (body["ok"], body["first_bad"]) == (False, 2) and "from the local witness" in body["problem"]
    r = api.post("/api/v1/audit/checkpoints", as_="auditor")  # nothing is signed over a cut-back chain
    assert r.status_code == 409 and r.json()["error"] == "audit_tampered"


def test_a_seq_that_is_not_a_number(api: Api) -> None:
    """A table re-created without its key (SQLite keeps any type): the list names the row, verify the record."""
    if not api.store_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's column types hold")
    _records(api, 3)
    api.sql("CREATE TABLE loose AS SELECT * FROM audit_records")
    api.sql("DROP TABLE audit_records")
    api.sql("ALTER TABLE loose RENAME TO audit_records")
    api.sql("UPDATE audit_records SET seq = 2.5 WHERE seq = 2")
    r = api.get("/api/v1/audit", as_="auditor")
    assert r.status_code == 200, r.text
    assert [rec["seq"] for rec in r.json()["records"]] == [1, 3]
    (bad,) = r.json()["malformed"]
    assert (
        bad["field"] == "seq" and bad["problem"] == "a row is malformed: seq: not a whole number: 2.5"
    )  # was "record -1"
    r = api.get("/api/v1/audit/verify", as_="auditor")
    assert r.status_code == 200 and r.json()["first_bad"] == 2, r.text
