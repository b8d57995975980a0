"""Rows bound to the audit chain (issue 12, item 4 "Tampering passes verification"): the emergencies, the document
generation and the notices outbox carry the seq and hash of their record; verify names every row changed, added
or removed outside the log, by table, row and field. SQLite and, with CAMGATE_TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from broker.audit.bindings import Problem, verify_bindings
from broker.errors import AuditUnavailable
from broker.store.tables import DOCUMENTS_COUNTER, counters, emergencies, notices
from tests.api.support import Api
from tests.fakes.webhooks import WebhookReceiver

MakeApi = Callable[..., contextlib.AbstractContextManager[Api]]
FAR = datetime(2099, 1, 1, tzinfo=UTC)


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


def problems(api: Api) -> list[Problem]:
    """The checker's problems, and the same ones in GET /api/v1/audit/verify (whose chain stays ok)."""
    found = verify_bindings(api.services.store)
    answer = api.get("/api/v1/audit/verify", as_="auditor").json()
    assert answer["chain_ok"] is True, answer  # nothing here touches the chain itself
    assert answer["ok"] is (not found)  # but the verdict is one: a row changed without its record is tampering
    assert answer["bindings_ok"] is (not found) and answer["bindings"] == [p.to_dict() for p in found]
    return found


def named(found: list[Problem]) -> set[tuple[str, str, str]]:
    return {(p.table, p.row, p.field) for p in found}


def change(api: Api, table: Any, where: Any, **values: Any) -> None:
    """An UPDATE straight to the database, as someone with write access would."""
    with api.services.store.engine.begin() as conn:
        assert conn.execute(update(table).where(where).values(**values)).rowcount == 1


def row(api: Api, table: Any, where: Any) -> Any:
    with api.services.store.engine.connect() as conn:
        return conn.execute(select(table).where(where)).one()


def extend(api: Api, em: str, minutes: int = 10) -> None:
    r = api.post(
        f"/api/v1/emergencies/{em}/extend", as_="dispatcher", json={"reason": "still inside", "minutes": minutes}
    )
    assert r.status_code == 200, r.text


def test_every_transition_binds_its_row_to_its_record(api: Api) -> None:
    ended, extended, expiring = api.declared(), api.declared(), api.declared(duration_minutes=10)
    assert api.end(ended["id"]).status_code == 200
    extend(api, extended["id"])
    api.clock.advance(timedelta(minutes=11))
    assert api.services.emergencies.sweep() == 1
    api.services.reloader.reload("test")
    for em, kind in ((ended, "emergency.end"), (extended, "emergency.extend"), (expiring, "emergency.expire")):
        (rec,) = api.audit(kind=kind, emergency=em["id"])
        stored = row(api, emergencies, emergencies.c.id == em["id"])
        assert (stored.audit_seq, stored.audit_hash) == (rec["seq"], rec["hash"])
    (reload,) = api.audit(kind="policy.reload")
    documents = row(api, counters, counters.c.name == DOCUMENTS_COUNTER)
    assert (documents.value, documents.audit_seq, documents.audit_hash) == (1, reload["seq"], reload["hash"])
    assert problems(api) == []


def test_an_end_or_a_later_expiry_set_in_sql_is_named_with_its_emergency_and_field(api: Api) -> None:
    cut, stretched = api.declared(), api.declared()
    change(api, emergencies, emergencies.c.id == cut["id"], ended_at=api.clock.now())
    change(api, emergencies, emergencies.c.id == stretched["id"], expires_at=FAR)
    found = problems(api)
    assert named(found) == {("emergencies", cut["id"], "ended_at"), ("emergencies", stretched["id"], "expires_at")}
    by_row = {p.row: p for p in found}
    (declared,) = api.audit(kind="emergency.declare", emergency=stretched["id"])
    assert by_row[stretched["id"]].seq == declared["seq"]
    assert by_row[stretched["id"]].message == (
        f"is 2099-01-01T00:00:00Z, but record {declared['seq']} (emergency.declare) says {stretched['expires_at']}"
    )
    assert "says null" in by_row[cut["id"]].message


def test_a_row_put_back_to_an_older_record_is_named_as_rolled_back(api: Api) -> None:
    em = api.declared()
    before = row(api, emergencies, emergencies.c.id == em["id"])
    extend(api, em["id"])
    change(
        api,
        emergencies,
        emergencies.c.id == em["id"],
        expires_at=before.expires_at,
        audit_seq=before.audit_seq,
        audit_hash=before.audit_hash,
    )
    found = {p.field: p for p in problems(api)}
    assert set(found) == {"audit_seq", "expires_at"}  # an older record, and not what the latest one says
    assert found["audit_seq"].row == em["id"] and "rolled back" in found["audit_seq"].message


def test_a_row_inserted_or_deleted_without_its_record_is_named(api: Api) -> None:
    kept, deleted = api.declared(), api.declared()
    forged = dict(row(api, emergencies, emergencies.c.id == kept["id"])._mapping) | {"id": "em-forged"}
    with api.services.store.engine.begin() as conn:
        conn.execute(insert(emergencies).values(**forged))
        conn.execute(emergencies.delete().where(emergencies.c.id == deleted["id"]))
    found = named(problems(api))
    assert found == {("emergencies", "em-forged", "id"), ("emergencies", deleted["id"], "id")}


def test_a_malformed_value_is_named_not_raised(api: Api) -> None:
    em = api.declared()
    api.sql("UPDATE emergencies SET buildings = '{not json' WHERE id = :id", id=em["id"])
    assert named(problems(api)) == {("emergencies", em["id"], "buildings")}


def test_an_end_stored_while_the_log_was_down_shows_until_the_sweep_records_it(api: Api) -> None:
    em = api.declared()
    api.sql("ALTER TABLE audit_records RENAME TO audit_records_away")
    assert api.end(em["id"]).status_code == 200  # ending only ever removes access
    api.sql("ALTER TABLE audit_records_away RENAME TO audit_records")
    (pending,) = problems(api)
    assert (pending.row, pending.field) == (
        em["id"],
        "ended_at",
    ) and "by dispatch-3 with no emergency.end record" in pending.message
    api.services.tick()
    assert problems(api) == []


def test_a_generation_edited_in_sql_is_named(api: Api) -> None:
    api.services.reloader.reload("test")
    where = counters.c.name == DOCUMENTS_COUNTER
    change(api, counters, where, value=counters.c.value + 1)
    assert named(problems(api)) == {("counters", DOCUMENTS_COUNTER, "value")}
    change(api, counters, where, value=1, audit_hash="0" * 64)
    assert named(problems(api)) == {("counters", DOCUMENTS_COUNTER, "audit_hash")}
    change(api, counters, where, value=0, audit_seq=None, audit_hash=None)  # as if never reloaded
    (back,) = problems(api)
    assert (back.field, back.seq) == (
        "value",
        api.audit(kind="policy.reload")[0]["seq"],
    ) and "moved back" in back.message


def test_a_reload_the_log_could_not_record_is_unbound_until_a_replica_records_it(api: Api) -> None:
    api.sql("ALTER TABLE audit_records RENAME TO audit_records_away")
    with pytest.raises(AuditUnavailable):
        api.services.reloader.reload("test")
    api.sql("ALTER TABLE audit_records_away RENAME TO audit_records")
    assert named(problems(api)) == {("counters", DOCUMENTS_COUNTER, "audit_seq")}
    assert api.services.audit.probe()
    api.services.tick()  # the announced generation is applied and recorded here, and bound
    assert api.services.live.generation == 1 and problems(api) == []


def test_notices_are_bound_to_their_transition_and_an_edited_one_is_named(
    make_api: MakeApi, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", receiver.secret)
    hook = {"name": "office", "agency": "ncps", "url": receiver.url, "secret_env": "HOOK_SECRET"}
    with make_api(notifications={"webhooks": [hook]}) as api:
        rerouted, rewritten, marked = (api.declared() for _ in range(3))
        (declared,) = api.audit(kind="emergency.declare", emergency=marked["id"])
        notice = row(api, notices, notices.c.emergency == marked["id"])
        assert (notice.audit_seq, notice.audit_hash) == (declared["seq"], declared["hash"])
        assert problems(api) == []

        change(api, notices, notices.c.emergency == rerouted["id"], webhook="elsewhere")
        body = json.loads(row(api, notices, notices.c.emergency == rewritten["id"]).body)
        body["data"]["site"] = body["data"]["emergency"]["site"] = "ncps-east"
        change(api, notices, notices.c.emergency == rewritten["id"], body=json.dumps(body))
        change(api, notices, notices.c.emergency == marked["id"], state="delivered")
        ids = {em["id"]: row(api, notices, notices.c.emergency == em["id"]).id for em in (rerouted, rewritten, marked)}
        assert named(problems(api)) == {
            ("notices", ids[rerouted["id"]], "webhook"),
            ("notices", ids[rewritten["id"]], "body"),
            ("notices", ids[rewritten["id"]], "site"),
            ("notices", ids[marked["id"]], "state"),
        }
