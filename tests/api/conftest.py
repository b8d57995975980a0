"""Fixtures of the API tests (helpers and the test inventory are in ``support.py``).

``api`` is a running app (``TestClient`` entered, so the lifespan ran) on a FakeClock set to a Monday morning
inside the MOUs' effective period; ``make_api`` builds more (a restart on the same database, other settings).
Tests that touch the store override ``store_url`` with ``database_url`` in their module, so they also run on
PostgreSQL when ``CAMGATE_TEST_DATABASE_URL`` is set; the rest use a SQLite file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from broker.api.app import create_app
from broker.clock import FakeClock
from broker.settings import load_settings
from tests.api.support import MOUS, START, Api, no_500, write_inventory
from tests.fakes.hls_origin import FakeHlsOrigin, OriginContent
from tests.paths import MODEL


@pytest.fixture
def origin_content(hls_content: OriginContent) -> OriginContent:
    return hls_content


@pytest.fixture
def origin_server(hls_origin_server: FakeHlsOrigin) -> FakeHlsOrigin:
    return hls_origin_server


@pytest.fixture
def origin(hls_origin: FakeHlsOrigin) -> FakeHlsOrigin:
    """The fake HLS origin shared by the session, reset before and after each test."""
    return hls_origin


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """SQLite by default; modules about the store override this with ``database_url``."""
    return f"sqlite:///{tmp_path / 'camgate.db'}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


#: settings ``audit.oversight`` of the tests' apps: the ncps auditor (ACTORS["auditor"]) reads every record.
OVERSIGHT: list[dict[str, Any]] = [{"agency": "ncps", "roles": ["auditor"]}]


@pytest.fixture
def make_api(
    tmp_path: Path, store_url: str, clock: FakeClock, origin: FakeHlsOrigin, origin_content: OriginContent
) -> Iterator[Callable[..., contextlib.AbstractContextManager[Api]]]:
    """``with make_api(**settings) as api:`` a fresh app on the same data dir, database, clock and origin."""
    inventory = write_inventory(tmp_path, origin.base_url)
    data_dir = tmp_path / "data"

    @contextlib.contextmanager
    def make(**settings: Any) -> Iterator[Api]:
        settings = {
            "mode": "dev",
            "data_dir": data_dir,
            "policy": {"inventory": inventory, "mous": [MOUS], "model": MODEL},
            "store": {"url": store_url},
        } | settings
        # The tests' "auditor" (ncps) oversees every agency: most tests read records of every kind through it.
        # Scoped auditors (the default for every agency) are tested in test_audit_scope.py.
        audit = settings.get("audit", {})
        agencies = audit.get("agencies")
        oversight = OVERSIGHT if agencies is None or OVERSIGHT[0]["agency"] in agencies else []
        settings["audit"] = {"oversight": oversight} | audit
        app = create_app(load_settings(**settings), clock=clock, housekeeping=False)
        with TestClient(app) as client:
            client.event_hooks["response"].append(no_500)
            yield Api(client, app, clock, origin, origin_content, data_dir, store_url)

    yield make


@pytest.fixture
def api(make_api: Callable[..., contextlib.AbstractContextManager[Api]]) -> Iterator[Api]:
    with make_api() as running:
        yield running
