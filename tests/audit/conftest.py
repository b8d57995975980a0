from __future__ import annotations

import pytest

from broker.audit import AuditLog
from broker.clock import FakeClock
from broker.store import Store


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def audit(store: Store, clock: FakeClock) -> AuditLog:
    return AuditLog(store, clock)
