"""The pure chain: canonical form, hashes and verify over in-memory records."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from broker.audit import GENESIS, AuditRecord, VerifyResult, canonical, record_hash, verify

T0 = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)


def chain(n: int) -> list[AuditRecord]:
    out: list[AuditRecord] = []
    prev = GENESIS
    for seq in range(1, n + 1):
        rec = AuditRecord(seq=seq, ts=T0 + timedelta(seconds=seq), kind="decision", camera=f"c{seq}", prev_hash=prev)
        rec = dataclasses.replace(rec, hash=record_hash(rec))
        out.append(rec)
        prev = rec.hash
    return out


def test_canonical_form() -> None:
    ts = datetime(2026, 9, 14, 15, 0, tzinfo=timezone(timedelta(hours=2)))
    assert canonical({"b": 1, "a": "é", "t": ts, "r": ("x",)}) == (
        '{"a":"é","b":1,"r":["x"],"t":"2026-09-14T13:00:00.000000Z"}'.encode()
    )
    with pytest.raises(TypeError):
        canonical({"t": datetime(2026, 1, 1)})
    with pytest.raises(ValueError):
        canonical({"x": float("nan")})


def test_record_hash_covers_seq_and_prev_but_not_hash() -> None:
    rec = chain(1)[0]
    fields = rec.hash_fields()
    assert record_hash(fields) == rec.hash == record_hash({**fields, "hash": "ignored"})
    assert rec.hash == hashlib.sha256(canonical(fields)).hexdigest()
    assert record_hash({**fields, "seq": 2}) != rec.hash
    assert record_hash({**fields, "prev_hash": "1" * 64}) != rec.hash


def test_valid_and_empty_chains() -> None:
    records = chain(5)
    assert verify(records, (5, records[-1].hash)) == VerifyResult(True, 5, records[-1].hash)
    assert verify([], (0, GENESIS)).to_dict() == {"ok": True, "records": 0, "head": GENESIS}
    assert verify(iter(records), None).ok


@pytest.mark.parametrize(
    ("mutate", "first_bad", "words"),
    [
        (lambda r: [*r[:2], dataclasses.replace(r[2], camera="x"), *r[3:]], 3, "record 3 was modified"),
        (lambda r: r[:2] + r[3:], 3, "record 3 missing before record 4"),
        (lambda r: r[:1] + r[3:], 2, "records 2-3 missing"),
        (lambda r: r[:4], 5, "record 5 missing at the end"),
        (lambda r: [*r, *chain(6)[5:]], 6, "outside the log"),
        (lambda r: [r[0], dataclasses.replace(r[1], prev_hash=r[0].prev_hash), *r[2:]], 2, "record 2 was modified"),
    ],
)
def test_first_bad_is_named(mutate, first_bad: int, words: str) -> None:  # type: ignore[no-untyped-def]
    records = chain(5)
    result = verify(mutate(records), (5, records[-1].hash))
    assert not result.ok and result.first_bad == first_bad
    assert words in (result.problem or "")
    assert result.to_dict()["first_bad"] == first_bad
    assert result.records == first_bad - 1
    assert result.head == (records[first_bad - 2].hash if first_bad > 1 else GENESIS)


def test_rehashed_modification_is_caught_by_the_next_link() -> None:
    records = chain(5)
    forged = dataclasses.replace(records[2], camera="x")
    forged = dataclasses.replace(forged, hash=record_hash(forged))
    result = verify([*records[:2], forged, *records[3:]], (5, records[-1].hash))
    assert not result.ok and result.first_bad == 4
    assert "does not link to record 3" in (result.problem or "")


def test_head_hash_mismatch() -> None:
    records = chain(3)
    result = verify(records, (3, "f" * 64))
    assert not result.ok and result.first_bad == 3 and "head" in (result.problem or "")


def test_verify_streams() -> None:
    def gen():  # type: ignore[no-untyped-def]
        yield from chain(50)

    assert verify(gen(), None).records == 50


def test_the_hash_covers_every_field_of_a_record_but_the_hash() -> None:
    from dataclasses import fields as dc_fields
    from datetime import UTC, datetime

    from broker.audit import AuditRecord

    rec = AuditRecord(seq=1, ts=datetime(2026, 9, 14, tzinfo=UTC), kind="decision", principal_roles=("b", "a"))
    assert set(rec.hash_fields()) == {f.name for f in dc_fields(AuditRecord)} - {"hash"}
    assert rec.hash_fields()["principal_roles"] == ["b", "a"]
