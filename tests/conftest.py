"""Shared fixtures: ``database_url`` (SQLite file and PostgreSQL) and an opened ``store``.

PostgreSQL runs only when ``CAMGATE_TEST_DATABASE_URL`` is set; then an unreachable server FAILS the
test. Each PostgreSQL test gets a fresh schema (the URL carries it as ``search_path``), dropped after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from broker.store import Store
from broker.store.db import describe_url, driver_problem

# Shared fakes served over real HTTP on 127.0.0.1: the HLS origin and a JWKS server.
pytest_plugins = ["tests.fakes.fixtures", "tests.fakes.jwks", "tests.fakes.webhooks", "tests.fakes.discovery_rigs"]

PG_ENV = "CAMGATE_TEST_DATABASE_URL"


def _postgres_url() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL variant not run")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base, connect_args={"connect_timeout": 5})
    problem = None
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        problem = driver_problem(exc)
    if problem is not None:
        admin.dispose()
        where = describe_url(make_url(base))
        pytest.fail(f"{PG_ENV} is set but PostgreSQL at {where} is unusable: {problem}", pytrace=False)
    url = make_url(base).update_query_dict({"options": f"-c search_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'camgate.db'}"
    else:
        yield from _postgres_url()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store.open(database_url)
    opened.create_all()
    yield opened
    opened.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (skipped, with the reason, when CAMGATE_TEST_DATABASE_URL is unset)."""
    yield from _postgres_url()
