"""The fast verify: spliced bytes equal the canonical form; rows it cannot clear go to the exact diagnosis."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest
from sqlalchemy import text

import broker.audit.log as log_module
from broker.audit import AuditLog, AuditRecord, canonical
from broker.audit.reader import CanonicalText, page_sql, spliced
from broker.clock import FakeClock
from broker.store import Store


def varied(audit: AuditLog, clock: FakeClock, n: int) -> list[AuditRecord]:
    out = []
    for i in range(n):
        clock.advance(0.000_001 * (i + 1))  # microseconds matter in the canonical ts
        out.append(
            audit.append(
                "decision" if i % 3 else "session.start",
                principal_sub=None if i % 4 == 0 else f'officer "{i}" ünï',
                principal_roles=("z", "a") if i % 2 else (),
                camera=f"cam/{i}\n\t\\",
                allowed=(None, True, False)[i % 3],
                reason="allowed" if i % 2 else None,
                grant="g-1" if i % 5 else None,
                details={"n": i, "f": 1.5, "nested": {"b": [1, None, "x"], "a": "é"}} if i % 2 else {},
            )
        )
    return out


def raw_rows(store: Store) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(page_sql(store.dialect_name), (0, 1000))
        return list(cursor.fetchall())


def test_spliced_bytes_are_the_canonical_form(audit: AuditLog, clock: FakeClock, store: Store) -> None:
    records = varied(audit, clock, 12)
    rows = raw_rows(store)
    assert len(rows) == len(records)
    for rec, row in zip(records, rows, strict=True):
        assert spliced(tuple(row)) == canonical(rec.hash_fields())
    # The splice names every field the hash covers: a new AuditRecord field must be added there too.
    assert len(rows[0]) == len(fields(AuditRecord))


def test_an_intact_chain_is_verified_without_reading_any_record_back(
    audit: AuditLog, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    varied(audit, clock, 30)
    slow: list[int] = []
    real = log_module._record
    monkeypatch.setattr(log_module, "_record", lambda row: slow.append(row.seq) or real(row))
    monkeypatch.setattr(log_module, "VERIFY_PAGE", 7)  # several pages, prefetched
    assert audit.verify().records == 30 and slow == []


def test_equivalent_but_non_canonical_text_is_judged_by_the_full_check(
    audit: AuditLog, clock: FakeClock, store: Store
) -> None:
    varied(audit, clock, 4)
    with store.engine.begin() as conn:  # same JSON, other spelling: the record's meaning did not change
        conn.execute(text("""UPDATE audit_records SET details = '{ "n": 1, "f": 1.5, "nested": {"a": "é",
                             "b": [1, null, "x"]}}' WHERE seq = 2"""))  # fmt: skip
    assert audit.verify().ok


def test_first_bad_is_named_across_prefetched_pages(
    audit: AuditLog, clock: FakeClock, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(log_module, "VERIFY_PAGE", 4)
    varied(audit, clock, 20)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_records SET camera = 'cam-x' WHERE seq = 14"))
        conn.execute(text("UPDATE audit_records SET camera = 'cam-y' WHERE seq = 17"))
    result = audit.verify()
    assert (result.ok, result.first_bad, result.records, result.problem) == (False, 14, 13, "record 14 was modified")


def test_canonical_text_check() -> None:
    check = CanonicalText(capacity=2)
    assert check('{"a":1,"b":[]}') and check('["a","b"]') and check("{}")
    assert not check('{"b":1,"a":2}') and not check('{"a": 1}') and not check('{"a":1,"a":2}')
    assert not check(None) and not check("not json") and not check('{"x":NaN}')
