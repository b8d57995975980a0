from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from broker.errors import ConfigError, StoreUnavailable
from broker.store import Store
from broker.store.tables import AUDIT_GENESIS_HASH, SCHEMA_VERSION, audit_head, schema_version


def test_create_all_is_idempotent(store: Store) -> None:
    store.create_all()
    store.create_all()
    names = set(inspect(store.engine).get_table_names())
    assert {"emergencies", "audit_records", "audit_head", "schema_version", "counters"} <= names
    with store.engine.connect() as conn:
        assert conn.execute(select(schema_version.c.version)).scalars().all() == [SCHEMA_VERSION]
        assert conn.execute(select(audit_head.c.seq, audit_head.c.hash)).all() == [(0, AUDIT_GENESIS_HASH)]


def test_ping_and_dialect(store: Store) -> None:
    assert store.ping() is True
    assert store.dialect_name in ("sqlite", "postgresql")
    store.dispose()
    assert store.ping() is True  # the pool reconnects after dispose


def test_genesis_constant_matches_the_chain() -> None:
    from broker.audit import GENESIS

    assert AUDIT_GENESIS_HASH == GENESIS


def test_sqlite_pragmas_and_parent_dir(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "camgate.db"
    store = Store.open(f"sqlite:///{path}")
    try:
        assert path.parent.is_dir()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    finally:
        store.dispose()


def test_unsupported_urls_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        Store.open("mysql://u:p@localhost/db")
    with pytest.raises(ConfigError):
        Store.open("sqlite:///x.db", schema="s")
    with pytest.raises(ConfigError):
        Store.open("postgresql+psycopg://postgres@127.0.0.1/test", schema="Bad-Name")


def test_unreachable_postgres_is_store_unavailable_without_password() -> None:
    with pytest.raises(StoreUnavailable) as info:
        Store.open("postgresql+psycopg://camgate:s3cr3t-pw@127.0.0.1:1/camgate")
    message = str(info.value)
    assert "s3cr3t-pw" not in message and "camgate:" not in message
    assert "127.0.0.1:1/camgate" in message


def test_unopenable_sqlite_is_store_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(StoreUnavailable):
        Store.open(f"sqlite:///file:{blocker}/x.db?mode=ro&uri=true")


@pytest.mark.postgres
def test_postgres_schema_is_created_and_used() -> None:
    base = os.environ.get("CAMGATE_TEST_DATABASE_URL")
    if not base:
        pytest.skip("CAMGATE_TEST_DATABASE_URL is not set: PostgreSQL variant not run")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    store = Store.open(base, schema=schema)
    try:
        store.create_all()
        store.create_all()
        assert "audit_head" in inspect(store.engine).get_table_names(schema=schema)
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT current_schema()")).scalar() == schema
    finally:
        store.dispose()
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
