"""Upgrading a database created by an older camgate: columns added in place, existing rows kept (NULL in them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, select, text, update

from broker.store import Store
from broker.store.emergencies import EmergencyRecord, EmergencyRepository
from broker.store.migrate import ADDED
from broker.store.tables import SCHEMA_VERSION, emergencies, schema_version

NOW = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)


def as_version_1(store: Store) -> None:
    """Drop what version 2 added, as a database created by version 1 lacks it."""
    with store.begin_write() as conn:
        for table, names in ADDED[2]:
            for name in names:
                conn.execute(text(f"ALTER TABLE {table.name} DROP COLUMN {name}"))
        conn.execute(update(schema_version).values(version=1))


def legacy_emergency(store: Store) -> None:
    with store.begin_write() as conn:
        conn.execute(
            text(
                "INSERT INTO emergencies (id, mou, site, buildings, zones, declared_at, expires_at, declared_by_sub,"
                " declared_by_agency, closed_recorded) VALUES ('em-legacy', 'm', 's', '[]', '[]', :at, :until, 'd',"
                " 'ncpd', false)"
            ),
            {"at": NOW, "until": NOW + timedelta(hours=1)},
        )


def test_a_version_1_database_gets_the_new_columns_and_keeps_its_rows(store: Store) -> None:
    as_version_1(store)
    assert "audit_seq" not in {c["name"] for c in inspect(store.engine).get_columns("emergencies")}
    legacy_emergency(store)
    store.create_all()
    for table, names in ADDED[2]:
        assert set(names) <= {c["name"] for c in inspect(store.engine).get_columns(table.name)}, table.name
    with store.engine.connect() as conn:
        assert conn.execute(select(schema_version.c.version)).scalar_one() == SCHEMA_VERSION == 2
        row = conn.execute(select(emergencies).where(emergencies.c.id == "em-legacy")).one()
    assert (row.audit_seq, row.audit_hash) == (None, None)  # not bound yet (broker.audit.rebind binds it)
    got = EmergencyRepository(store).get("em-legacy")
    assert got is not None and got.expires_at == NOW + timedelta(hours=1) and got.audit_seq is None
    store.create_all()  # nothing left to do: idempotent


def test_new_rows_round_trip_their_binding(store: Store) -> None:
    repo = EmergencyRepository(store)
    rec = EmergencyRecord(
        id="em-1",
        mou="m",
        site="s",
        buildings=(),
        zones=(),
        center_lat=None,
        center_lon=None,
        radius_m=None,
        threat=None,
        incident=None,
        declared_at=NOW,
        expires_at=NOW + timedelta(hours=1),
        ended_at=None,
        declared_by_sub="d",
        declared_by_agency="ncpd",
        ended_by_sub=None,
        ended_by_agency=None,
        audit_seq=7,
        audit_hash="a" * 64,
    )
    repo.insert(rec)
    assert repo.get("em-1") == rec
