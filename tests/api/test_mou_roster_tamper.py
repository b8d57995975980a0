"""An insider with database access putting themselves on an MOU's roster is named by ``camgate audit verify`` (issue
14, item 5): each ``mou_rosters``/``mou_roster_approvals`` row is checked against its record and each record against
its row (broker/audit/bindroster.py). SQLite and, with CAMGATE_TEST_DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from broker.store.rosters import RosterEntry, canonical, digest
from broker.store.tables import mou_roster_approvals, mou_rosters
from tests.api.support import Api
from tests.api.test_audit_bindings import named, problems
from tests.api.test_mou_roster import COUNTERSIGNED, KIM, ROSTER, ROSTERED, put, store_mode

MOU = "ncps-ncpd-video"
INSIDER = RosterEntry("ncpd", "officer-22", "Officer Lee")  # "officer2", not on the roster
AT = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)


@pytest.fixture
def store_url(database_url: str) -> str:
    return database_url


@pytest.fixture
def rostered(make_api: Callable[..., contextlib.AbstractContextManager[Api]]) -> Iterator[Api]:
    with contextlib.contextmanager(store_mode)(make_api, ROSTERED) as api:
        assert put(api, [KIM]).status_code == 200
        yield api


def sql(api: Api, statement: Any) -> None:
    with api.services.store.engine.begin() as conn:
        assert conn.execute(statement).rowcount in (1, -1)  # an insert may not count its rows


def first_row(api: Api) -> Any:
    with api.services.store.engine.connect() as conn:
        return conn.execute(select(mou_rosters).where(mou_rosters.c.revision == 1)).one()


def forged(revision: int, entries: list[RosterEntry], **binding: Any) -> dict[str, Any]:
    text = canonical(entries)
    return {
        "mou": MOU,
        "revision": revision,
        "entries": text,
        "sha256": digest(text),
        "author_sub": "it-admin-1",
        "author_agency": "ncps",
        "created_at": AT,
    } | binding


def test_the_kept_roster_verifies(rostered: Api) -> None:
    assert problems(rostered) == []


def test_a_revision_inserted_in_the_database_is_named_and_would_let_the_insider_in(rostered: Api) -> None:
    api = rostered
    kim = RosterEntry(**KIM)
    sql(api, insert(mou_rosters).values(**forged(2, [kim, INSIDER])))
    api.services.reloader.reload("test")
    assert api.live("saxe-ext-01", as_="officer2").status_code == 200  # what the forgery buys: hence verify
    assert ("mou_rosters", f"{MOU}#roster2", "audit_seq") in named(problems(api))


def test_a_revision_bound_to_another_record_is_named(rostered: Api) -> None:
    api = rostered
    one = first_row(api)
    sql(api, insert(mou_rosters).values(**forged(2, [INSIDER], audit_seq=one.audit_seq, audit_hash=one.audit_hash)))
    found = named(problems(api))
    assert {("mou_rosters", f"{MOU}#roster2", "revision"), ("mou_rosters", f"{MOU}#roster2", "sha256")} <= found


def test_entries_rewritten_in_place_are_named(rostered: Api) -> None:
    api = rostered
    text = canonical([RosterEntry(**KIM), INSIDER])
    sql(api, update(mou_rosters).where(mou_rosters.c.revision == 1).values(entries=text))
    assert ("mou_rosters", f"{MOU}#roster1", "entries") in named(problems(api))
    sql(api, update(mou_rosters).where(mou_rosters.c.revision == 1).values(sha256=digest(text)))
    # the record says the old hash, and the row it describes is gone
    assert named(problems(api)) == {("mou_rosters", f"{MOU}#roster1", f) for f in ("sha256", "id")}


def test_a_deleted_revision_is_named(rostered: Api) -> None:
    api = rostered
    sql(api, delete(mou_rosters).where(mou_rosters.c.revision == 1))
    assert named(problems(api)) == {("mou_rosters", f"{MOU}#roster1", "id")}


def test_a_forged_approval_is_named(make_api: Callable[..., contextlib.AbstractContextManager[Api]]) -> None:
    with contextlib.contextmanager(store_mode)(make_api, COUNTERSIGNED) as api:
        pending = put(api, [KIM]).json()["pending"]
        values = {"mou": MOU, "revision": 1, "sha256": pending["sha256"], "role": "chief", "approved_at": AT}
        sql(api, insert(mou_roster_approvals).values(**values, agency="ncpd", sub="chief-1"))
        assert ("mou_roster_approvals", f"{MOU}#roster1:ncpd", "audit_seq") in named(problems(api))
        assert api.get(ROSTER, as_="operator").json()["pending"]["missing"] == [
            "ncps"
        ]  # it counts: verify is what names it
