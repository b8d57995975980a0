"""AuditLog.query: filters and the pagination cursor, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from broker.audit import AuditLog
from broker.clock import FakeClock
from broker.errors import InvalidRequest


@pytest.fixture
def seeded(audit: AuditLog, clock: FakeClock) -> AuditLog:
    """seq 1..12, one a minute: officer a/b alternate, cameras c0..c2, emergency on 9..12."""
    for i in range(12):
        clock.advance(timedelta(minutes=1))
        kind = "decision" if i % 4 else "session.start"
        audit.append(
            kind,
            principal_sub="a" if i % 2 == 0 else "b",
            camera=f"c{i % 3}",
            allowed=(i % 3 != 1) if kind == "decision" else None,
            emergency="em-1" if i >= 8 else None,
        )
    return audit


def seqs(audit: AuditLog, **kw: object) -> list[int]:
    records, cursor = audit.query(**kw)  # type: ignore[arg-type]
    assert cursor is None
    return [r.seq for r in records]


def test_filters(seeded: AuditLog, clock: FakeClock) -> None:
    start = clock.now() - timedelta(minutes=11)  # ts of seq 1
    assert seqs(seeded) == list(range(1, 13))
    assert seqs(seeded, since=start + timedelta(minutes=3), until=start + timedelta(minutes=6)) == [4, 5, 6]
    assert seqs(seeded, principal="b") == [2, 4, 6, 8, 10, 12]
    assert seqs(seeded, camera="c1") == [2, 5, 8, 11]
    assert seqs(seeded, emergency="em-1") == [9, 10, 11, 12]
    assert seqs(seeded, kind="session.start") == [1, 5, 9]
    assert seqs(seeded, decision="deny") == [2, 8, 11]
    assert seqs(seeded, decision="allow") == [3, 4, 6, 7, 10, 12]
    assert seqs(seeded, principal="a", decision="allow", camera="c0") == [7]
    assert seqs(seeded, principal="nobody") == []


def test_pagination_cursor(seeded: AuditLog) -> None:
    page, cursor = seeded.query(limit=5)
    assert [r.seq for r in page] == [1, 2, 3, 4, 5] and cursor == 5
    page, cursor = seeded.query(limit=5, after_seq=cursor)
    assert [r.seq for r in page] == [6, 7, 8, 9, 10] and cursor == 10
    page, cursor = seeded.query(limit=5, after_seq=cursor)
    assert [r.seq for r in page] == [11, 12] and cursor is None
    page, cursor = seeded.query(principal="a", limit=3)
    assert [r.seq for r in page] == [1, 3, 5] and cursor == 5
    page, cursor = seeded.query(principal="a", limit=3, after_seq=cursor)
    assert [r.seq for r in page] == [7, 9, 11] and cursor is None  # exactly full: no empty extra page


def test_limit_is_capped_and_validated(seeded: AuditLog) -> None:
    records, cursor = seeded.query(limit=10**9)
    assert len(records) == 12 and cursor is None
    with pytest.raises(InvalidRequest):
        seeded.query(limit=0)
    with pytest.raises(InvalidRequest):
        seeded.query(decision="maybe")
