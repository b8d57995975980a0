"""The bound rows, read raw (a tampered value is reported, never a crash), and compared with their record.

:class:`EmergencyRow` and :class:`NoticeRow` hold a row as the driver returned it, parsed here; what cannot be
parsed becomes a :class:`Problem` naming the field. Their ``against(record)`` lists every field that differs
from what the record says. Used by :mod:`broker.audit.bindings`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, type_coerce
from sqlalchemy.types import NullType

from broker.audit.bindrecords import CLOSES, BoundRecord
from broker.audit.chain import canonical
from broker.audit.checkpoints import Checkpoint, CheckpointError
from broker.store.tables import emergencies, notices
from broker.timeutil import format_instant, parse_instant

CHECKPOINT_NOTICE = "audit.checkpoint"
NOTICE_PAGE = 1000
_INSTANTS = ("declared_at", "expires_at", "ended_at")
_FLOATS = ("center_lat", "center_lon", "radius_m")
_LISTS = ("buildings", "zones")
_INVALID = object()  # a record value that does not parse: equal to no row value


@dataclass(frozen=True)
class Problem:
    """A bound row that does not agree with the chain: ``table``, ``row`` (its id) and ``field`` name it."""

    table: str
    row: str
    field: str
    message: str
    seq: int | None = None  # the audit record concerned, if one is

    def to_dict(self) -> dict[str, Any]:
        return {"table": self.table, "row": self.row, "field": self.field, "problem": self.message, "seq": self.seq}

    def __str__(self) -> str:
        return f"{self.table} {self.row}: {self.field}: {self.message}"


def notice_id(webhook: str, kind: str, details: dict[str, Any]) -> str:
    """A notice's id: a digest of its webhook, its kind and its record's details (the same transition recorded
    twice queues one notice; a notice moved to another webhook or record no longer matches its id)."""
    digest = hashlib.sha256(canonical({"webhook": webhook, "kind": kind, "details": details}))
    return f"msg_{digest.hexdigest()[:32]}"


def checkpoint_notice_id(webhook: str, checkpoint_id: str) -> str:
    return notice_id(webhook, CHECKPOINT_NOTICE, {"checkpoint": checkpoint_id})


def _raw(table: Any) -> list[Any]:
    """Every column without SQLAlchemy's result processing: what the driver returns."""
    return [type_coerce(c, NullType()).label(c.name) for c in table.c]


def _instant(value: Any) -> datetime | None:
    """A stored instant: a datetime (PostgreSQL) or SQLite's text; ValueError if it is neither."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if not isinstance(value, datetime):
        raise ValueError(f"{value!r} is not an instant")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _show(value: Any) -> str:
    if value is _INVALID:
        return "an invalid value"
    if isinstance(value, datetime):
        return str(format_instant(value))
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _expected(state: dict[str, Any]) -> dict[str, Any]:
    """What a record's ``details.emergency`` (``broker.admin.views.to_json``) says each column holds."""
    center, declared_by, ended_by = (_object(state.get(k)) for k in ("center", "declared_by", "ended_by"))
    values: dict[str, Any] = {name: state.get(name) for name in ("mou", "site", "threat", "incident", *_LISTS)}
    values |= {"center_lat": center.get("lat"), "center_lon": center.get("lon"), "radius_m": state.get("radius_m")}
    values |= {"declared_by_sub": declared_by.get("sub"), "declared_by_agency": declared_by.get("agency")}
    values |= {"ended_by_sub": ended_by.get("sub"), "ended_by_agency": ended_by.get("agency")}
    for name in _INSTANTS:
        try:
            values[name] = None if state.get(name) is None else parse_instant(state.get(name))
        except ValueError:
            values[name] = _INVALID
    return values


@dataclass
class EmergencyRow:
    id: str
    values: dict[str, Any]
    closed_recorded: bool
    audit_seq: Any
    audit_hash: Any
    bad: list[Problem] = field(default_factory=list)  # fields that could not be read

    @classmethod
    def parse(cls, row: Any) -> EmergencyRow:
        raw = dict(row._mapping)
        rid = str(raw["id"])
        values: dict[str, Any] = {}
        bad: list[Problem] = []
        for name in (
            "mou",
            "site",
            "threat",
            "incident",
            "declared_by_sub",
            "declared_by_agency",
            "ended_by_sub",
            "ended_by_agency",
            *_LISTS,
            *_FLOATS,
            *_INSTANTS,
        ):
            value = raw[name]
            try:
                if name in _LISTS:
                    value = json.loads(value) if isinstance(value, str) else value
                elif name in _FLOATS and value is not None:
                    value = float(value)
                elif name in _INSTANTS:
                    value = _instant(value)
            except (ValueError, TypeError):
                bad.append(Problem("emergencies", rid, name, f"{value!r} cannot be read (changed outside the log)"))
                continue
            values[name] = value
        closed = raw["closed_recorded"] in (True, 1, "1", "true", "t")
        return cls(rid, values, closed, raw["audit_seq"], raw["audit_hash"], bad)

    def against(self, rec: BoundRecord) -> Iterator[Problem]:
        """Every field that differs from record ``rec``'s ``details.emergency`` (its latest transition)."""
        state = rec.get("emergency")
        if not isinstance(state, dict) or state.get("id") != self.id:
            why = rec.bad or "its details hold no state of this emergency"
            yield Problem("emergencies", self.id, "audit_seq", f"record {rec.seq} ({rec.kind}): {why}", rec.seq)
            return
        differ = {name: e for name, e in _expected(state).items() if name in self.values and self.values[name] != e}
        unrecorded_end = "ended_at" in differ and differ["ended_at"] is None and not self.closed_recorded
        for name, expected in differ.items():
            if unrecorded_end and name in ("ended_by_sub", "ended_by_agency"):
                continue  # part of the one end reported on ended_at
            why = f"is {_show(self.values[name])}, but record {rec.seq} ({rec.kind}) says {_show(expected)}"
            if name == "ended_at" and unrecorded_end:
                by = self.values.get("ended_by_sub")
                why += f" (an end{f' by {by}' if by else ''} with no emergency.end record: stored while the audit log"
                why += " was down and not recorded yet, or a change outside the log)"
            yield Problem("emergencies", self.id, name, why, rec.seq)
        if rec.kind in CLOSES and not self.closed_recorded:
            yield Problem(
                "emergencies", self.id, "closed_recorded", f"is false, but record {rec.seq} is its {rec.kind}", rec.seq
            )
        if rec.kind not in CLOSES and self.closed_recorded:
            yield Problem(
                "emergencies",
                self.id,
                "closed_recorded",
                f"is true, but no emergency.end or emergency.expire record follows record {rec.seq}",
                rec.seq,
            )


def emergency_rows(conn: Connection) -> Iterator[EmergencyRow]:
    for row in conn.execute(select(*_raw(emergencies)).order_by(emergencies.c.id)):
        yield EmergencyRow.parse(row)


@dataclass(frozen=True)
class NoticeRow:
    id: str
    webhook: str
    kind: str
    emergency: str
    mou: str
    site: str
    body: Any
    state: str
    audit_seq: Any
    audit_hash: Any

    def _problem(self, field: str, message: str, seq: int | None = None) -> Problem:
        return Problem("notices", self.id, field, message, seq)

    def against(self, rec: BoundRecord) -> Iterator[Problem]:
        """What differs between the notice and record ``rec`` (the transition it announces, or a checkpoint's
        head record); its body is the exact bytes sent."""
        try:
            body = json.loads(self.body) if isinstance(self.body, str) else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            yield self._problem("body", "is not a JSON object (changed outside the log)")
            return
        if body.get("id") != self.id or body.get("type") != self.kind:
            yield self._problem(
                "body", f"its id and type are {body.get('id')!r} and {body.get('type')!r}, not the row's"
            )
        data = _object(body.get("data"))
        if self.kind == CHECKPOINT_NOTICE:
            yield from self._checkpoint(data)
            return
        if self.kind.startswith("mou."):  # issue 14: notices to an MOU's parties
            from broker.audit.bindmous import mou_notice_problems

            yield from mou_notice_problems(self.kind, rec, data, self.id)
            if rec.details is not None and self.id != notice_id(self.webhook, self.kind, rec.details):
                yield self._problem("webhook", f"{self.webhook!r} with record {rec.seq} does not give this notice's id")
            return
        if rec.kind != self.kind or rec.emergency != self.emergency or rec.details is None:
            why = f"record {rec.seq} is {rec.kind} of {rec.emergency}, not the {self.kind} of {self.emergency}"
            yield self._problem("audit_seq", why + " this notice announces", rec.seq)
            return
        if self.id != notice_id(self.webhook, self.kind, rec.details):
            yield self._problem(
                "webhook",
                f"{self.webhook!r} with record {rec.seq} does not give this notice's id "
                "(its webhook or record was changed)",
                rec.seq,
            )
        state = _object(rec.get("emergency"))
        if data.get("emergency") != state:
            yield self._problem("body", f"data.emergency is not the emergency of record {rec.seq}", rec.seq)
        for name, value in (("mou", self.mou), ("site", self.site)):
            if value != state.get(name) or data.get(name) != state.get(name):
                yield self._problem(name, f"is {value!r}, but record {rec.seq} says {state.get(name)!r}", rec.seq)

    def _checkpoint(self, data: dict[str, Any]) -> Iterator[Problem]:
        try:
            cp = Checkpoint.from_dict(data)
        except CheckpointError as exc:
            yield self._problem("body", f"data.{exc}")
            return
        if (cp.records, cp.head) != (self.audit_seq, self.audit_hash):
            yield self._problem(
                "body", f"carries the checkpoint of record {cp.records}, not of record {self.audit_seq}"
            )
        if self.id != checkpoint_notice_id(self.webhook, cp.id):
            yield self._problem(
                "webhook",
                f"{self.webhook!r} with checkpoint {cp.id[:12]} does not give this "
                "notice's id (its webhook or checkpoint was changed)",
            )


def notice_rows(conn: Connection, page: int = NOTICE_PAGE) -> Iterator[list[NoticeRow]]:
    """Every notice, a page at a time (keyset on id)."""
    columns = [type_coerce(notices.c[name], NullType()).label(name) for name in NoticeRow.__dataclass_fields__]
    after = ""
    while True:
        query = select(*columns).where(notices.c.id > after).order_by(notices.c.id).limit(page)
        rows = [NoticeRow(**dict(r._mapping)) for r in conn.execute(query)]
        if rows:
            yield rows
        if len(rows) < page:
            return
        after = rows[-1].id
