"""Signed checkpoints over the API: who may sign and list them, the keys, and housekeeping's interval.

Runs on SQLite and, with ``CAMGATE_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from broker.audit import witnessfile
from broker.audit.checkpoints import Checkpoint, public_key_from_text, verify_signature
from tests.api.support import Api


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


def _keys(api: Api) -> dict[str, object]:
    r = api.get("/api/v1/audit/keys", as_="auditor")
    assert r.status_code == 200, r.text
    return {k["key_id"]: public_key_from_text(k["public_key"]) for k in r.json()["keys"]}


def test_auditors_and_operators_sign_on_demand_others_may_not(api: Api, subtests: pytest.Subtests) -> None:
    api.get("/api/v1/cameras")  # one record
    for who in ("auditor", "operator"):
        with subtests.test(who=who):
            api.clock.advance(5)  # past the on-demand spacing
            r = api.post("/api/v1/audit/checkpoints", as_=who)
            assert r.status_code == 201, r.text
            cp = Checkpoint.from_dict(r.json())
            assert cp.records == 1 and cp.head == api.audit()[0]["hash"]
            verify_signature(cp, _keys(api))  # type: ignore[arg-type]
    for who in ("officer", "dispatcher", "principal"):
        with subtests.test(who=who):
            r = api.post("/api/v1/audit/checkpoints", as_=who)
            assert r.status_code == 403 and r.json()["reason"] == "not_an_auditor"
    assert api.post("/api/v1/audit/checkpoints", as_=None).status_code == 401


def test_list_is_for_auditors_newest_first_with_pages(api: Api) -> None:
    ids = []
    for _ in range(3):
        ids.append(api.post("/api/v1/audit/checkpoints", as_="auditor").json()["id"])
        api.clock.advance(5)  # past the on-demand spacing
    assert api.get("/api/v1/audit/checkpoints", as_="officer").status_code == 403
    assert api.get("/api/v1/audit/checkpoints", as_="operator").status_code == 403
    first = api.get("/api/v1/audit/checkpoints", as_="auditor", params={"limit": 2}).json()
    assert [c["id"] for c in first["checkpoints"]] == ids[:0:-1] and first["next"] is not None
    rest = api.get("/api/v1/audit/checkpoints", as_="auditor", params={"before": first["next"]}).json()
    assert [c["id"] for c in rest["checkpoints"]] == ids[:1] and rest["next"] is None
    assert first["checkpoints"][0]["previous"] == ids[1]


def test_keys_list_the_current_key_and_old_ones(make_api: object) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from broker.audit.checkpoints import key_id, public_key_text

    old = Ed25519PrivateKey.generate().public_key()
    with make_api(audit={"checkpoints": {"old_keys": [public_key_text(old)]}}) as api:  # type: ignore[operator]
        keys = api.get("/api/v1/audit/keys", as_="operator").json()["keys"]
        assert [k["current"] for k in keys] == [True, False]
        assert keys[1] == {"key_id": key_id(old), "public_key": public_key_text(old), "current": False}
        assert keys[0]["key_id"] == api.services.keys.signing_id
        assert api.get("/api/v1/audit/keys", as_="officer").status_code == 403


def test_housekeeping_signs_at_the_interval_when_the_chain_grew(api: Api) -> None:
    signer = api.services.signer
    assert signer is not None and signer.witness_file is not None
    api.services.tick()  # empty chain: nothing
    assert witnessfile.read(signer.witness_file) is None
    api.get("/api/v1/cameras")
    api.clock.advance(60)
    api.services.tick()
    cp = witnessfile.read(signer.witness_file)
    assert cp is not None and cp.records == 1
    api.clock.advance(60)
    api.services.tick()  # no growth: no new checkpoint
    listed = api.get("/api/v1/audit/checkpoints", as_="auditor").json()["checkpoints"]
    assert [c["id"] for c in listed] == [cp.id]


def test_nothing_in_the_api_deletes_or_changes_audit_records(api: Api) -> None:
    paths = api.get("/openapi.json", as_="auditor").json()["paths"]
    audit = {path: set(ops) for path, ops in paths.items() if path.startswith("/api/v1/audit")}
    assert {"/api/v1/audit", "/api/v1/audit/verify", "/api/v1/audit/checkpoints", "/api/v1/audit/keys"} <= set(audit)
    assert all(ops <= {"get", "post"} for ops in audit.values()), audit  # no DELETE, PUT or PATCH
    assert audit["/api/v1/audit/checkpoints"] == {"get", "post"}  # POST signs a checkpoint: it adds, never removes
    r = api.client.delete("/api/v1/audit", headers=api.headers("auditor"))
    assert r.status_code == 405


def test_housekeeping_prunes_past_the_retention_through_a_signed_prune(make_api: Any) -> None:
    with make_api(audit={"retention_days": 365}) as api:
        for _ in range(3):
            api.get("/api/v1/cameras")
        api.services.tick()  # signs the 3 records; nothing is a year old
        assert api.services.retention is not None
        api.services.retention.wait(30)
        api.clock.advance(timedelta(days=366))
        api.travel(api.clock.now())  # tokens minted now
        api.get("/api/v1/cameras")  # record 4, this year
        thread = api.services.retention.tick()
        assert thread is not None
        thread.join(timeout=30)
        records = api.audit()
        assert [r["seq"] for r in records] == [4, 5] and records[1]["kind"] == "audit.prune"
        assert records[1]["details"]["base_seq"] == 3
        body = api.get("/api/v1/audit/verify", as_="auditor").json()
        assert (body["ok"], body["base_seq"], body["records"]) == (True, 3, 5), body
        kinds = [c["kind"] for c in api.get("/api/v1/audit/checkpoints", as_="auditor").json()["checkpoints"]]
        assert kinds[0] == "prune"


def test_asking_again_within_the_spacing_answers_the_last_checkpoint(api: Api) -> None:
    first = api.post("/api/v1/audit/checkpoints", as_="auditor")
    assert first.status_code == 201
    for _ in range(20):  # a loop, or a flood: one checkpoint, one witness notice
        again = api.post("/api/v1/audit/checkpoints", as_="operator")
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    api.clock.advance(4.9)
    assert api.post("/api/v1/audit/checkpoints", as_="auditor").status_code == 200
    api.clock.advance(0.1)
    later = api.post("/api/v1/audit/checkpoints", as_="auditor")
    assert later.status_code == 201 and later.json()["previous"] == first.json()["id"]
    listed = api.get("/api/v1/audit/checkpoints", as_="auditor").json()["checkpoints"]
    assert [c["id"] for c in listed] == [later.json()["id"], first.json()["id"]]
