"""The audit records that bound rows point at, read defensively for :mod:`broker.audit.bindings`.

Tampered rows must be reported, never crash the check: ``details`` is read as raw text and parsed here (a record
whose details are not a JSON object gets ``details = None`` and ``bad`` says why), and every lookup tolerates
records that are missing.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, Text, func, select, type_coerce

from broker.store.tables import audit_records

EMERGENCY_TRANSITIONS = ("emergency.declare", "emergency.extend", "emergency.end", "emergency.expire")
CLOSES = ("emergency.end", "emergency.expire")
FAILED = {f"{kind}_failed": kind for kind in EMERGENCY_TRANSITIONS}  # the store refused the change
RELOAD = "policy.reload"
NOTICE_OUTCOMES = ("notice.delivered", "notice.gave_up")
MOU_RECORDS = ("mou.draft", "mou.import", "mou.approve", "mou.withdraw", "mou.terminate")  # issue 14: bindmous.py
ROSTER_RECORDS = ("mou.roster", "mou.roster_approve")  # issue 14, item 5: bindroster.py
CLASSIFY = "camera.classify"  # issue 14, item 7: broker/audit/bindclassify.py
SCANNED = (*EMERGENCY_TRANSITIONS, *FAILED, RELOAD, *NOTICE_OUTCOMES, *MOU_RECORDS, *ROSTER_RECORDS, CLASSIFY)
_LOOKUP_CHUNK = 500

_t = audit_records.c
_COLUMNS = (_t.seq, _t.hash, _t.kind, _t.emergency, type_coerce(_t.details, Text).label("details"))


@dataclass(frozen=True)
class BoundRecord:
    seq: int
    hash: str
    kind: str
    emergency: str | None
    details: dict[str, Any] | None  # None: not a JSON object (see ``bad``)
    bad: str | None = None

    def get(self, key: str) -> Any:
        return None if self.details is None else self.details.get(key)


def _record(row: Any) -> BoundRecord:
    raw = row.details
    try:
        details = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return BoundRecord(row.seq, row.hash, row.kind, row.emergency, None, "its details are not JSON")
    if not isinstance(details, dict):
        return BoundRecord(row.seq, row.hash, row.kind, row.emergency, None, "its details are not a JSON object")
    return BoundRecord(row.seq, row.hash, row.kind, row.emergency, details)


def first_seq(conn: Connection) -> int | None:
    """The oldest record kept (records before it were pruned by retention), or None if there is none."""
    value = conn.execute(select(func.min(_t.seq))).scalar_one_or_none()
    return None if value is None else int(value)


def lookup(conn: Connection, seqs: Iterable[int]) -> dict[int, BoundRecord]:
    """The records with these seqs (missing ones are simply absent)."""
    wanted = sorted({s for s in seqs if isinstance(s, int)})
    found: dict[int, BoundRecord] = {}
    for i in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[i : i + _LOOKUP_CHUNK]
        for row in conn.execute(select(*_COLUMNS).where(_t.seq.in_(chunk))):
            found[row.seq] = _record(row)
    return found


def scan(conn: Connection, kinds: Collection[str] = SCANNED, after: int = 0) -> Iterator[BoundRecord]:
    """Every record of ``kinds`` after seq ``after``, in seq order (one pass over the log)."""
    query = select(*_COLUMNS).where(_t.kind.in_(list(kinds)), _t.seq > after).order_by(_t.seq)
    for row in conn.execute(query.execution_options(yield_per=2000)):
        yield _record(row)


@dataclass
class ChainFacts:
    """What one scan of the log says the bound rows must be."""

    transitions: dict[str, list[BoundRecord]] = field(default_factory=dict)  # emergency id -> its transitions
    reloads: list[BoundRecord] = field(default_factory=list)  # applied policy.reload records, in seq order
    outcomes: dict[str, list[BoundRecord]] = field(default_factory=dict)  # notice id -> its final records
    mou_records: dict[int, BoundRecord] = field(default_factory=dict)  # seq -> MOU draft/approval/... records
    roster_records: dict[int, BoundRecord] = field(default_factory=dict)  # seq -> mou.roster/roster_approve records
    classified: dict[str, BoundRecord] = field(default_factory=dict)  # camera -> its latest store-kept classify

    @classmethod
    def read(cls, conn: Connection) -> ChainFacts:
        facts = cls()
        for rec in scan(conn):
            if rec.kind in EMERGENCY_TRANSITIONS and rec.emergency is not None:
                facts.transitions.setdefault(rec.emergency, []).append(rec)
            elif rec.kind in FAILED and rec.emergency is not None and rec.get("recorded") is not False:
                # Before bindings (schema 1) a transition was recorded first and stored after; a failed store was
                # recorded as <kind>_failed right after it: that transition never took effect.
                done = facts.transitions.get(rec.emergency, [])
                if done and done[-1].kind == FAILED[rec.kind]:
                    done.pop()
            elif rec.kind == RELOAD and rec.get("outcome") == "applied":
                facts.reloads.append(rec)
            elif rec.kind in NOTICE_OUTCOMES and isinstance(notice := rec.get("notice"), str):
                facts.outcomes.setdefault(notice, []).append(rec)
            elif rec.kind in MOU_RECORDS:
                facts.mou_records[rec.seq] = rec
            elif rec.kind in ROSTER_RECORDS:
                facts.roster_records[rec.seq] = rec
            elif rec.kind == CLASSIFY and rec.get("kept") == "store" and isinstance(camera := rec.get("camera"), str):
                facts.classified[camera] = rec
        return facts

    @cached_property
    def latest(self) -> dict[str, BoundRecord]:
        """Each emergency's latest transition that took effect (what its row must say)."""
        return {emergency: done[-1] for emergency, done in self.transitions.items() if done}
