from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from broker.errors import Conflict, UnknownEmergency
from broker.store import EmergencyRecord, EmergencyRepository, Store

T0 = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)


def make(id: str, *, declared: datetime = T0, hours: float = 2, **over: object) -> EmergencyRecord:
    rec = EmergencyRecord(
        id=id,
        mou="mou-1",
        site="north-high",
        buildings=("A", "B"),
        zones=("hallways",),
        center_lat=45.5,
        center_lon=-122.6,
        radius_m=150.0,
        threat="armed intruder",
        incident="CAD-1",
        declared_at=declared,
        expires_at=declared + timedelta(hours=hours),
        ended_at=None,
        declared_by_sub="officer-1",
        declared_by_agency="pd",
        ended_by_sub=None,
        ended_by_agency=None,
        closed_recorded=False,
    )
    return dataclasses.replace(rec, **over)


@pytest.fixture
def repo(store: Store) -> EmergencyRepository:
    return EmergencyRepository(store)


def test_insert_get_round_trip(repo: EmergencyRepository) -> None:
    rec = make("e1")
    repo.insert(rec)
    assert repo.get("e1") == rec
    assert repo.get("nope") is None
    with pytest.raises(Conflict):
        repo.insert(rec)


def test_optional_fields_round_trip(repo: EmergencyRepository) -> None:
    rec = make("e2", buildings=(), zones=(), center_lat=None, center_lon=None, radius_m=None, threat=None)
    repo.insert(rec)
    assert repo.get("e2") == rec


def test_datetimes_come_back_aware_utc(repo: EmergencyRepository) -> None:
    plus2 = timezone(timedelta(hours=2))
    declared = datetime(2026, 9, 14, 15, 0, 0, 123456, tzinfo=plus2)
    repo.insert(make("tz", declared=declared))
    got = repo.get("tz")
    assert got is not None
    assert got.declared_at == declared and got.declared_at.tzinfo is UTC
    assert got.declared_at.hour == 13 and got.declared_at.microsecond == 123456
    assert got.expires_at.tzinfo is UTC
    ended = repo.end("tz", ended_at=declared + timedelta(minutes=5), by_sub="s", by_agency="pd")
    assert ended.ended_at is not None and ended.ended_at.tzinfo is UTC
    with pytest.raises(ValueError):
        repo.insert(make("naive", declared=datetime(2026, 9, 14, 13, 0)))


def test_list_active_at_excludes_ended_and_expired(repo: EmergencyRepository) -> None:
    repo.insert(make("old", declared=T0 - timedelta(hours=5), hours=1))  # expired at T0-4h
    repo.insert(make("open", declared=T0 - timedelta(hours=1)))
    repo.insert(make("ended", declared=T0 - timedelta(minutes=30)))
    repo.insert(make("future", declared=T0 + timedelta(hours=1)))
    repo.insert(make("other", declared=T0 - timedelta(minutes=10), site="south", mou="mou-2"))
    repo.end("ended", ended_at=T0 - timedelta(minutes=1), by_sub="s", by_agency="pd")

    assert [r.id for r in repo.list(active_at=T0)] == ["other", "open"]  # newest first
    assert [r.id for r in repo.list(active_at=T0 - timedelta(minutes=2))] == ["other", "ended", "open"]
    assert [r.id for r in repo.list()] == ["future", "other", "ended", "open", "old"]
    assert [r.id for r in repo.list(site="south")] == ["other"]
    assert [r.id for r in repo.list(mou="mou-1", active_at=T0)] == ["open"]
    assert len(repo.list(limit=2)) == 2
    # boundaries: "open" expires at T0+1h, the moment "future" is declared
    just_before = T0 + timedelta(hours=1) - timedelta(microseconds=1)
    assert [r.id for r in repo.list(active_at=just_before, site="north-high")] == ["open"]
    assert [r.id for r in repo.list(active_at=T0 + timedelta(hours=1), site="north-high")] == ["future"]


def test_active_is_every_active_one_oldest_first_with_no_limit(repo: EmergencyRepository) -> None:
    repo.insert(make("old", declared=T0 - timedelta(hours=5), hours=1))
    repo.insert(make("ended", declared=T0 - timedelta(minutes=30)))
    repo.end("ended", ended_at=T0 - timedelta(minutes=1), by_sub="s", by_agency="pd")
    for i in range(600):  # more than list()'s default limit of 500, newer than "first"
        repo.insert(make(f"n{i:03d}", declared=T0 - timedelta(minutes=9) + timedelta(seconds=i / 10)))
    repo.insert(make("first", declared=T0 - timedelta(minutes=10)))
    active = repo.active(T0)
    assert len(active) == 601 and active[0].id == "first" and active[-1].id == "n599"
    assert "first" not in {r.id for r in repo.list(active_at=T0)}  # what the decision point once read


def test_declared_since_counts_one_declarer_newest_first_oldest_returned_first(repo: EmergencyRepository) -> None:
    for i, minutes in enumerate((20, 9, 5, 1)):
        repo.insert(make(f"d{i}", declared=T0 - timedelta(minutes=minutes)))
    repo.insert(make("other", declared=T0 - timedelta(minutes=2), declared_by_sub="officer-2"))
    since = T0 - timedelta(minutes=10)
    assert repo.declared_since("officer-1", "pd", since, 10) == [T0 - timedelta(minutes=m) for m in (9, 5, 1)]
    assert repo.declared_since("officer-1", "pd", since, 2) == [T0 - timedelta(minutes=m) for m in (5, 1)]
    assert repo.declared_since("officer-1", "other-agency", since, 10) == []


def test_end_twice_conflicts_and_unknown_is_not_found(repo: EmergencyRepository) -> None:
    repo.insert(make("e1"))
    ended = repo.end("e1", ended_at=T0 + timedelta(minutes=10), by_sub="chief", by_agency="pd")
    assert ended.ended_at == T0 + timedelta(minutes=10)
    assert (ended.ended_by_sub, ended.ended_by_agency) == ("chief", "pd")
    with pytest.raises(Conflict, match="already ended"):
        repo.end("e1", ended_at=T0 + timedelta(minutes=11), by_sub="x", by_agency="pd")
    assert repo.get("e1") == ended  # the failed end changed nothing
    with pytest.raises(UnknownEmergency):
        repo.end("missing", ended_at=T0, by_sub="x", by_agency="pd")


def test_end_after_expiry_conflicts(repo: EmergencyRepository) -> None:
    repo.insert(make("e1", hours=1))
    with pytest.raises(Conflict, match="expired"):
        repo.end("e1", ended_at=T0 + timedelta(hours=1), by_sub="x", by_agency="pd")
    assert repo.get("e1").ended_at is None  # type: ignore[union-attr]


def test_unrecorded_closed_and_mark(repo: EmergencyRepository) -> None:
    repo.insert(make("expired", declared=T0 - timedelta(hours=3), hours=1))
    repo.insert(make("ended"))
    repo.insert(make("open"))
    repo.end("ended", ended_at=T0 + timedelta(minutes=1), by_sub="s", by_agency="pd")
    now = T0 + timedelta(minutes=2)
    assert [r.id for r in repo.unrecorded_closed(now)] == ["expired", "ended"]
    repo.mark_closed_recorded("expired")
    repo.mark_closed_recorded("expired")  # idempotent
    assert [r.id for r in repo.unrecorded_closed(now)] == ["ended"]
    assert repo.get("expired").closed_recorded is True  # type: ignore[union-attr]
    repo.mark_closed_recorded("ended")
    assert repo.unrecorded_closed(now) == []
    assert [r.id for r in repo.unrecorded_closed(T0 + timedelta(hours=3))] == ["open"]
    with pytest.raises(UnknownEmergency):
        repo.mark_closed_recorded("missing")


def test_generation_bumps_on_insert_and_end_only(repo: EmergencyRepository, store: Store) -> None:
    g0 = repo.generation()
    repo.insert(make("e1"))
    g1 = repo.generation()
    assert g1 > g0
    with pytest.raises(Conflict):
        repo.insert(make("e1"))
    assert repo.generation() == g1  # rolled back with the failed insert
    repo.end("e1", ended_at=T0 + timedelta(minutes=1), by_sub="s", by_agency="pd")
    g2 = repo.generation()
    assert g2 > g1
    repo.mark_closed_recorded("e1")
    assert repo.generation() == g2
    # another replica (its own Store on the same database) sees the same generation
    other = Store.open(store.engine.url.render_as_string(hide_password=False))
    try:
        assert EmergencyRepository(other).generation() == g2
    finally:
        other.dispose()


@pytest.mark.parametrize(("column", "value"), [("expires_at", "'garbage'"), ("zones", "'{bad'"), ("buildings", "'5'")])
def test_a_row_changed_outside_the_broker_is_store_unavailable_not_a_crash(
    repo: EmergencyRepository, store: Store, column: str, value: str
) -> None:
    """Was: ValueError / JSONDecodeError / TypeError out of every read, so GET /api/v1/cameras, every live playlist
    and GET /api/v1/emergencies answered 500 (camgate audit verify names the row)."""
    from sqlalchemy import text

    from broker.errors import StoreUnavailable

    if store.engine.dialect.name != "sqlite" and column == "expires_at":
        pytest.skip("PostgreSQL refuses a time that is not one")
    repo.insert(make("e1"))
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE emergencies SET {column} = {value}"))
    with pytest.raises(StoreUnavailable, match="an emergency row cannot be read"):
        repo.list(active_at=T0)
    with pytest.raises(StoreUnavailable, match="an emergency row cannot be read"):
        repo.get("e1")
