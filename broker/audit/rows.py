"""Reading audit rows as stored, strictly: a row that is not a record (bad JSON in ``details``, a ``ts`` that is
not a time, a column of the wrong type) is named, never a crash.

The select below reads every column without SQLAlchemy's type processing (JSON text stays text, SQLite's
``ts`` stays the stored string), so a malformed value reaches :func:`parse` instead of failing inside the
driver's result handling, and :class:`MalformedRecord` says which field is wrong and why. Verification
reports that as tampering at the record; the list route lists it apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, type_coerce
from sqlalchemy.types import NullType

from broker.audit.records import AuditRecord
from broker.store.tables import audit_records

NULLABLE_TEXT = (  # the record columns that are text or NULL (shared with the export reader)
    "principal_sub",
    "principal_agency",
    "camera",
    "action",
    "reason",
    "mou",
    "grant",
    "clause",
    "emergency",
    "client",
)
TEXT = ("kind", "prev_hash", "hash")  # the record columns that are always text

#: Every column of ``audit_records`` as stored (no result processing), under its own name.
RAW = select(*(type_coerce(c, NullType()).label(c.name) for c in audit_records.c))


class MalformedRecord(ValueError):
    """A stored row that is not an audit record: ``seq``, ``field`` and ``why``."""

    def __init__(self, seq: int, field: str, why: str) -> None:
        # seq -1: the row's own seq is not a number (its value is in ``why``)
        super().__init__(f"{f'record {seq}' if seq >= 0 else 'a row'} is malformed: {field}: {why}")
        self.seq = seq
        self.field = field
        self.why = why


def shown(value: object) -> str:
    """A stored value as a problem names it (repr, at most 60 characters)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _ts(seq: int, value: object) -> datetime:
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise MalformedRecord(seq, "ts", f"not a time: {shown(value)}") from None
    else:
        raise MalformedRecord(seq, "ts", f"not a time: {shown(value)}")
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)  # SQLite: naive UTC


def _json(seq: int, name: str, value: object) -> Any:
    if not isinstance(value, str):
        raise MalformedRecord(seq, name, f"not JSON text: {shown(value)}")
    try:
        return json.loads(value)
    except (ValueError, RecursionError) as exc:
        raise MalformedRecord(seq, name, f"not JSON ({exc})") from None


def parse(row: Mapping[Any, Any]) -> AuditRecord:
    """The record of a raw row (see :data:`RAW`); raises MalformedRecord naming the bad field."""
    seq = row["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise MalformedRecord(-1, "seq", f"not a whole number: {shown(seq)}")
    values: dict[str, Any] = {"seq": seq, "ts": _ts(seq, row["ts"])}
    for name in TEXT:
        if not isinstance(row[name], str):
            raise MalformedRecord(seq, name, f"not text: {shown(row[name])}")
        values[name] = row[name]
    for name in NULLABLE_TEXT:
        if row[name] is not None and not isinstance(row[name], str):
            raise MalformedRecord(seq, name, f"not text: {shown(row[name])}")
        values[name] = row[name]
    allowed = row["allowed"]
    if allowed in (0, 1) and not isinstance(allowed, bool):
        allowed = bool(allowed)  # SQLite stores booleans as 0 and 1
    if allowed is not None and not isinstance(allowed, bool):
        raise MalformedRecord(seq, "allowed", f"not true, false or null: {shown(allowed)}")
    values["allowed"] = allowed
    roles = _json(seq, "principal_roles", row["principal_roles"])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise MalformedRecord(seq, "principal_roles", "not a list of strings")
    values["principal_roles"] = tuple(roles)
    details = _json(seq, "details", row["details"])
    if not isinstance(details, dict):
        raise MalformedRecord(seq, "details", "not a JSON object")
    values["details"] = details
    return AuditRecord(**values)
