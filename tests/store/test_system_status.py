"""Each camera system's last sync, shared through the store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from broker.store import Store
from broker.store.systems import SystemStatus, SystemStatusRepository

T0 = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)


def test_a_failure_keeps_the_last_success(store: Store) -> None:
    repo = SystemStatusRepository(store)
    assert repo.all() == {}
    repo.record([SystemStatus("nvr", "fake-nvr", T0, T0, True, True, 12, None),
                 SystemStatus("cloud", "fake-nvr", T0, None, False, None, None, "no answer within 30 s")])  # fmt: skip
    later = T0 + timedelta(minutes=5)
    repo.record([SystemStatus("nvr", "fake-nvr", later, None, True, False, None, "refused the credentials")])
    rows = repo.all()
    assert rows["nvr"] == SystemStatus("nvr", "fake-nvr", later, T0, True, False, 12, "refused the credentials")
    assert rows["cloud"] == SystemStatus("cloud", "fake-nvr", T0, None, False, None, None, "no answer within 30 s")
    repo.record([SystemStatus("nvr", "fake-nvr", later + timedelta(minutes=5), later + timedelta(minutes=5), True,
                              True, 13, None)])  # fmt: skip
    assert repo.all()["nvr"].discovered == 13 and repo.all()["nvr"].error is None
