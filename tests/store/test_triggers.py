"""The trigger tables on SQLite and PostgreSQL: delivery claims, extension, confirmation state."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from broker.errors import Conflict
from broker.store import EmergencyRepository, Store
from broker.store.triggers import TriggerOrigin, TriggerRepository
from tests.store.test_emergencies import T0, make


@pytest.fixture
def repo(store: Store) -> TriggerRepository:
    return TriggerRepository(store)


def test_a_delivery_is_claimed_once_and_answers_the_same_afterwards(repo: TriggerRepository) -> None:
    assert repo.claim("ncps", "msg_1", T0) is None
    assert repo.claim("ncps", "msg_1", T0) == (None, None)  # being handled
    repo.answer("ncps", "msg_1", 200, {"outcome": "declared", "emergency": {"id": "em-1"}})
    assert repo.claim("ncps", "msg_1", T0) == (200, {"outcome": "declared", "emergency": {"id": "em-1"}})
    assert repo.claim("ncpb", "msg_1", T0) is None  # the key is (source, webhook-id)
    repo.release("ncpb", "msg_1")
    assert repo.claim("ncpb", "msg_1", T0) is None


def test_answered_deliveries_older_than_a_day_are_pruned_and_one_being_handled_is_kept(
    repo: TriggerRepository,
) -> None:
    repo.claim("ncps", "old", T0)
    repo.answer("ncps", "old", 200, {"outcome": "declared"})
    repo.claim("ncps", "handling", T0)  # its first delivery is still being handled: never forgotten
    repo.claim("ncps", "new", T0 + timedelta(hours=2))
    repo.answer("ncps", "new", 200, {"outcome": "declared"})
    assert repo.prune_deliveries(T0 + timedelta(hours=1)) == 1
    assert repo.claim("ncps", "old", T0 + timedelta(hours=3)) is None  # forgotten: claimed anew
    assert repo.claim("ncps", "handling", T0) == (None, None)
    assert repo.claim("ncps", "new", T0) == (200, {"outcome": "declared"})


def test_concurrent_claims_of_one_id_have_one_winner(repo: TriggerRepository) -> None:
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: repo.claim("ncps", "msg_race", T0), range(16)))
    assert results.count(None) == 1


def test_confirmation_state(store: Store, repo: TriggerRepository) -> None:
    deadline = T0 + timedelta(minutes=10)
    repo.add_origin(TriggerOrigin("em-1", "ncps", "saxe-office-1", deadline, None, None, None))
    repo.add_origin(TriggerOrigin("em-2", "ncps", "saxe-office-1", None, None, None, None))  # no rule
    assert repo.unconfirmed_due(deadline - timedelta(seconds=1)) == []
    assert [o.emergency for o in repo.unconfirmed_due(deadline)] == ["em-1"]
    assert repo.confirm("em-1", T0 + timedelta(minutes=2), "dispatch-3", "ncpd") is True
    assert repo.confirm("em-1", T0 + timedelta(minutes=3), "dispatch-4", "ncpd") is False
    origin = repo.origin("em-1")
    assert origin is not None and (origin.confirmed_by_sub, origin.confirmed_at) == (
        "dispatch-3",
        T0 + timedelta(minutes=2),
    )
    assert repo.unconfirmed_due(deadline) == []
    assert sorted(o.emergency for o in repo.latest_of("ncps", "saxe-office-1")) == ["em-1", "em-2"]
    repo.add_origin(TriggerOrigin("em-3", "ncps", "x", deadline, None, None, None))
    repo.clear_deadline("em-3")
    assert repo.unconfirmed_due(deadline) == []


def test_extend_moves_an_open_emergency_expiry_only(store: Store) -> None:
    emergencies = EmergencyRepository(store)
    emergencies.insert(make("e1"))
    before = emergencies.generation()
    rec = emergencies.extend("e1", expires_at=T0 + timedelta(hours=3), now=T0 + timedelta(minutes=5))
    assert rec.expires_at == T0 + timedelta(hours=3) and emergencies.generation() == before + 1
    with pytest.raises(Conflict):  # expired by then
        emergencies.extend("e1", expires_at=T0 + timedelta(hours=5), now=T0 + timedelta(hours=4))
    emergencies.end("e1", ended_at=T0 + timedelta(minutes=6), by_sub="s", by_agency="a")
    with pytest.raises(Conflict):
        emergencies.extend("e1", expires_at=T0 + timedelta(hours=4), now=T0 + timedelta(minutes=7))


def test_positions_keep_the_latest_report_per_camera(store: Store) -> None:
    from broker.store.positions import PositionRepository

    positions = PositionRepository(store)
    positions.save("pb-body-01", 41.1, -73.4, T0, "ncpb")
    positions.save("pb-body-01", 41.2, -73.5, T0 - timedelta(seconds=5), "ncpb")  # older: ignored
    positions.save("pb-body-02", 41.3, -73.6, T0 - timedelta(minutes=5), "ncpb")
    assert [(p["camera"], p["lat"]) for p in positions.since(T0 - timedelta(seconds=60))] == [("pb-body-01", 41.1)]
    positions.save("pb-body-01", 41.4, -73.7, T0 + timedelta(seconds=1), "ncpb")
    (latest,) = positions.since(T0)
    assert (latest["lat"], latest["at"]) == (41.4, T0 + timedelta(seconds=1))
