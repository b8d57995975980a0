"""The hash chain (pure, no I/O).

Every record stores ``prev_hash``, the hash of the record before it (``GENESIS`` for record 1), and
``hash``, the SHA-256 of its own canonical form, which covers ``seq`` and ``prev_hash``. The single-row
audit head stores the last ``(seq, hash)``, so removing records from the end is detected too.

:func:`verify` streams the records in seq order and names the first bad one. ``records`` and ``head`` in
its result describe the intact prefix: the chain is good up to record ``records`` whose hash is ``head``.

What the chain cannot catch on its own: someone with write access to the database who rewrites every
record from some point on *and* the head. Anchor the head elsewhere (export it) to close that gap.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from broker.audit.records import AuditRecord, rfc3339

GENESIS = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable in an audit record")


def canonical(fields: Mapping[str, Any]) -> bytes:
    """JSON with sorted keys, no spaces, UTF-8 (not \\u-escaped); datetimes as RFC 3339 UTC 'Z'."""
    text = json.dumps(
        dict(fields),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_default,
    )
    return text.encode("utf-8")


def record_hash(fields: Mapping[str, Any] | AuditRecord) -> str:
    """SHA-256 (hex) of the canonical form of a record's fields, ``hash`` excluded."""
    values = fields.hash_fields() if isinstance(fields, AuditRecord) else dict(fields)
    values.pop("hash", None)
    return hashlib.sha256(canonical(values)).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    head: str
    first_bad: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": self.ok, "records": self.records, "head": self.head}
        if not self.ok:
            body["first_bad"] = self.first_bad
            body["problem"] = self.problem
        return body


def _span(first: int, last: int) -> str:
    return f"record {first}" if first == last else f"records {first}-{last}"


def _renumbered(rec: AuditRecord) -> bool:
    """Whether ``rec`` is intact except that its seq was moved up by one (a record was put before it)."""
    return record_hash({**rec.hash_fields(), "seq": rec.seq - 1}) == rec.hash


class ChainVerifier:
    """:func:`verify` one record at a time, so a reader can feed it only the records it could not clear itself.

    ``count`` records form a valid chain ending in ``last_hash``; :meth:`accept` advances over a record the
    caller has already checked (right seq, link and hash), :meth:`check` does the full diagnosis.
    """

    __slots__ = ("before_last", "count", "head", "last_hash")

    def __init__(self, head: tuple[int, str] | None) -> None:
        self.head = head
        self.count = 0  # records 1..count form a valid chain
        self.last_hash = GENESIS  # hash of record ``count``
        self.before_last = GENESIS  # hash of record ``count - 1`` (meaningful when count >= 1)

    def accept(self, hash_: str) -> None:
        self.count += 1
        self.before_last, self.last_hash = self.last_hash, hash_

    def _bad(self, first_bad: int | None, problem: str, *, drop_last: bool = False) -> VerifyResult:
        if drop_last:  # the last record that looked good is the bad one
            return VerifyResult(False, self.count - 1, self.before_last, first_bad, problem)
        return VerifyResult(False, self.count, self.last_hash, first_bad, problem)

    def check(self, rec: AuditRecord) -> VerifyResult | None:
        """None if ``rec`` extends the chain (and it is accepted), else the failed result naming the first bad."""
        count, head = self.count, self.head
        expected = count + 1
        if rec.seq < expected:
            return self._bad(rec.seq, f"record {rec.seq} is out of order (expected record {expected})")
        if rec.seq > expected:
            return self._bad(expected, f"{_span(expected, rec.seq - 1)} missing before record {rec.seq}")
        if head is not None and rec.seq > head[0]:
            return self._bad(rec.seq, f"record {rec.seq} was added outside the log (the head ends at {head[0]})")
        hash_ok = record_hash(rec) == rec.hash
        link_ok = rec.prev_hash == self.last_hash
        if not link_ok and count >= 1 and rec.prev_hash == self.before_last and (hash_ok or _renumbered(rec)):
            return self._bad(
                count,
                f"record {count} was inserted: record {rec.seq} links to record {count - 1}",
                drop_last=True,
            )
        if not hash_ok and link_ok:
            return self._bad(rec.seq, f"record {rec.seq} was modified")
        if not hash_ok:
            return self._bad(rec.seq, f"record {rec.seq} was modified or moved (its hash and link are both wrong)")
        if not link_ok:
            return self._bad(
                rec.seq,
                f"record {rec.seq} does not link to record {count}"
                f" (record {count} was replaced, or records were inserted or reordered)",
            )
        self.accept(rec.hash)
        return None

    def finish(self) -> VerifyResult:
        """The result once every record has been fed: compared with the head, if there is one."""
        if self.head is not None:
            head_seq, head_hash = self.head
            if self.count < head_seq:
                missing = _span(self.count + 1, head_seq)
                return self._bad(self.count + 1, f"{missing} missing at the end (the head says {head_seq})")
            if head_hash != self.last_hash:
                return self._bad(head_seq or None, f"the audit head does not match record {head_seq}")
        return VerifyResult(True, self.count, self.last_hash)


def verify(records: Iterable[AuditRecord], head: tuple[int, str] | None = None) -> VerifyResult:
    """Check ``records`` (in seq order) against each other and against ``head`` = (seq, hash)."""
    chain = ChainVerifier(head)
    for rec in records:
        failed = chain.check(rec)
        if failed is not None:
            return failed
    return chain.finish()
