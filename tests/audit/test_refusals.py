"""Refusals counted per key and minute (pure counter), and written to the chain (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from broker.audit import AuditLog
from broker.audit.refusallog import RefusalLog
from broker.audit.refusals import MAX_MESSAGES, MAX_TEXT, OVERFLOW, RefusalCounter, window_of
from broker.clock import FakeClock
from broker.errors import AuditUnavailable
from broker.store import Store

T0 = datetime(2026, 9, 14, 13, 0, 5, tzinfo=UTC)
HUGE = "x" * 8000


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_the_first_refusal_of_a_key_is_written_at_once_the_rest_when_the_minute_is_over() -> None:
    counter = RefusalCounter()
    first = counter.note(
        "auth.refused",
        now=at(0),
        client="10.0.0.9",
        reason="no_credentials",
        sample={"method": "GET", "path": "/api/v1/cameras"},
    )
    assert first is not None and (first.count, first.first, first.last) == (1, at(0), at(0))
    assert first.window == datetime(2026, 9, 14, 13, 0, tzinfo=UTC)
    for i in range(1, 5):
        assert counter.note("auth.refused", now=at(i), client="10.0.0.9", reason="no_credentials") is None
    assert counter.due(at(54)) == []  # the minute is not over
    (rest,) = counter.due(at(55))
    assert (rest.count, rest.first, rest.last) == (4, at(1), at(4))
    assert rest.sample == {"method": "GET", "path": "/api/v1/cameras"}  # the first refusal's
    kind, fields = rest.append_args()
    assert kind == "auth.refused" and fields["client"] == "10.0.0.9" and fields["reason"] == "no_credentials"
    assert fields["allowed"] is False and "principal_sub" not in fields
    assert fields["details"]["count"] == 4 and fields["details"]["window"] == rest.window
    assert counter.due(at(200)) == [] and counter.pending() == 0


def test_a_key_alone_in_its_minute_needs_no_second_record() -> None:
    counter = RefusalCounter()
    assert counter.note("auth.refused", now=at(0), client="a", reason="no_credentials") is not None
    assert counter.due(at(3600), final=True) == []


def test_keys_are_per_client_reason_principal_and_minute() -> None:
    counter = RefusalCounter()
    firsts = [
        counter.note("auth.refused", now=at(0), client="a", reason="no_credentials"),
        counter.note("auth.refused", now=at(0), client="b", reason="no_credentials"),
        counter.note("auth.refused", now=at(0), client="a", reason="invalid_token"),
        counter.note(
            "emergency.refused",
            now=at(0),
            client="a",
            reason="not_authorized_to_declare",
            sub="officer-kim",
            agency="ncpd",
            roles=["officer"],
            action="declare",
            mou="m",
        ),
        counter.note(
            "emergency.refused",
            now=at(0),
            client="a",
            reason="not_authorized_to_declare",
            sub="officer-lee",
            agency="ncpd",
            roles=["officer"],
            action="declare",
            mou="m",
        ),
        counter.note("auth.refused", now=at(60), client="a", reason="no_credentials"),  # the next minute
    ]
    assert all(f is not None for f in firsts)
    kind, fields = firsts[3].append_args()  # type: ignore[union-attr]
    assert kind == "emergency.refused"
    assert (fields["principal_sub"], fields["principal_agency"], fields["principal_roles"]) == (
        "officer-kim",
        "ncpd",
        ("officer",),
    )
    assert (fields["action"], fields["mou"]) == ("declare", "m")


def test_every_field_is_bounded() -> None:
    counter = RefusalCounter()
    sample = {f"h{i}": HUGE for i in range(50)}
    first = counter.note(
        "trigger.refused",
        now=at(0),
        client=HUGE,
        reason=HUGE,
        message=HUGE,
        sample=sample,
        claimed={"sub": HUGE, "iss": HUGE},
    )
    assert first is not None
    for i in range(MAX_MESSAGES + 20):
        counter.note("trigger.refused", now=at(1), client=HUGE, reason=HUGE, message=f"{i}{HUGE}")
    (rest,) = counter.due(at(60))
    size = len(json.dumps(rest.append_args()[1], default=str))
    assert size < 4 * 1024, size
    assert len(rest.messages) == MAX_MESSAGES + 1 and rest.messages["…"] == 20
    assert all(len(m) <= MAX_TEXT for m in rest.messages)
    assert len(first.sample) == 8 and all(len(v) <= MAX_TEXT for v in first.sample.values())
    assert len(first.claimed["sub"]) == MAX_TEXT and len(first.key.client or "") == 64


def test_beyond_the_key_cap_refusals_go_to_one_overflow_record_per_minute() -> None:
    counter = RefusalCounter(max_keys=3)
    firsts = [counter.note("auth.refused", now=at(i), client=f"10.0.0.{i}", reason="invalid_token") for i in range(10)]
    firsts.append(counter.note("trigger.refused", now=at(20), client="10.0.1.1", reason="bad_signature"))
    assert sum(f is not None for f in firsts) == 3
    (overflow,) = counter.due(at(60))
    kind, fields = overflow.append_args()
    assert kind == OVERFLOW and fields["client"] is None
    assert fields["details"]["count"] == 8 and fields["details"]["kinds"] == {"auth.refused": 7, "trigger.refused": 1}
    assert (overflow.first, overflow.last) == (at(3), at(20))


def test_records_not_written_are_counted_again() -> None:
    counter = RefusalCounter(max_keys=1)
    first = counter.note("auth.refused", now=at(0), client="a", reason="no_credentials")
    counter.note("auth.refused", now=at(1), client="b", reason="no_credentials")  # overflow
    assert first is not None
    counter.restore([first])  # its write failed
    counter.note("auth.refused", now=at(2), client="a", reason="no_credentials")
    due = counter.due(at(60))
    assert [(r.key.kind, r.count, r.first, r.last) for r in due] == [
        ("auth.refused", 2, at(0), at(2)),
        (OVERFLOW, 1, at(1), at(1)),
    ]
    counter.restore(due)  # the flush failed too
    assert counter.pending() == 3
    again = counter.due(at(60))
    assert [(r.key.kind, r.count, r.kinds) for r in again] == [
        ("auth.refused", 2, {}),
        (OVERFLOW, 1, {"auth.refused": 1}),
    ]


def test_minutes_held_beyond_the_limit_keep_counts_only() -> None:
    counter = RefusalCounter(max_windows=2)
    for minute in range(4):  # nothing could be written for four minutes
        for n in range(3):
            first = counter.note("auth.refused", now=at(60 * minute + n), client="a", reason="no_credentials")
            if first is not None:
                counter.restore([first])
    due = counter.due(at(600))
    assert [(r.key.kind, r.count) for r in due] == [
        (OVERFLOW, 3),
        (OVERFLOW, 3),
        ("auth.refused", 3),
        ("auth.refused", 3),
    ]
    assert sum(r.count for r in due) == 12


def test_final_hands_out_the_current_minute_too() -> None:
    counter = RefusalCounter()
    counter.note("auth.refused", now=at(0), client="a", reason="no_credentials")
    counter.note("auth.refused", now=at(1), client="a", reason="no_credentials")
    assert counter.due(at(2)) == []
    assert [r.count for r in counter.due(at(2), final=True)] == [1]


def test_concurrent_refusals_are_all_counted() -> None:
    counter = RefusalCounter()
    written: list[int] = []

    def refuse() -> None:
        for _ in range(500):
            if counter.note("auth.refused", now=at(1), client="a", reason="invalid_token") is not None:
                written.append(1)

    threads = [threading.Thread(target=refuse) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(written) == 1
    assert sum(r.count for r in counter.due(at(60))) == 8 * 500 - 1


def test_window_of_is_the_minute() -> None:
    assert window_of(at(54.5)) == datetime(2026, 9, 14, 13, 0, tzinfo=UTC)


# -- written to the chain ---------------------------------------------------------------------------------


def audit_bytes(store: Store) -> int:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM audit_records")).mappings().all()
    return sum(len(json.dumps(dict(r), default=str)) for r in rows)


def test_a_flood_of_refusals_writes_a_few_bounded_records_and_the_chain_verifies(
    store: Store, audit: AuditLog, clock: FakeClock
) -> None:
    refusals = RefusalLog(audit, clock)
    for i in range(2000):
        refusals.record(
            "trigger.refused",
            client="203.0.113.7",
            reason="bad_signature",
            message=f"{i}{HUGE}",
            sample={"path": "/api/v1/triggers/ncps", "webhook_id": HUGE},
            claimed={"source": HUGE},
        )
    assert refusals.flush() == 0  # the minute is not over
    clock.advance(60)
    assert refusals.flush() == 1
    records, _ = audit.query(kind="trigger.refused")
    assert [r.details["count"] for r in records] == [1, 1999]
    assert records[0].details["sample"]["path"] == "/api/v1/triggers/ncps"
    assert audit_bytes(store) < 16 * 1024, audit_bytes(store)
    assert audit.verify().ok


def test_an_unwritable_log_keeps_the_counts_for_the_next_flush(store: Store, clock: FakeClock) -> None:
    class Failing(AuditLog):
        down = True

        def append(self, kind: str, **fields: Any) -> Any:
            if self.down:
                raise AuditUnavailable("down")
            return super().append(kind, **fields)

    audit = Failing(store, clock)
    refusals = RefusalLog(audit, clock)
    for _ in range(3):
        refusals.record("auth.refused", client="a", reason="no_credentials")  # the first is not written: kept
    clock.advance(60)
    with pytest.raises(AuditUnavailable):
        refusals.flush()
    audit.down = False
    assert refusals.flush() == 1
    (rec,) = audit.query(kind="auth.refused")[0]
    assert rec.details["count"] == 3
