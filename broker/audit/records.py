"""One audit record: a row of the hash-chained log (pure, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Protocol

# Kinds written by camgate; the log accepts any short name so new kinds need no change here.
KINDS: tuple[str, ...] = (
    "decision",
    "emergency.declare",
    "emergency.declare_failed",
    "emergency.end",
    "emergency.expire",
    "session.start",
    "session.end",
    "cameras.list",
    "upstream.refused",
)

# The fields a caller may pass to AuditLog.append (seq, ts, prev_hash and hash are assigned by the log).
APPEND_FIELDS: frozenset[str] = frozenset(
    {
        "principal_sub",
        "principal_agency",
        "principal_roles",
        "camera",
        "action",
        "allowed",
        "reason",
        "mou",
        "grant",
        "clause",
        "emergency",
        "client",
        "details",
    }
)


def rfc3339(value: datetime) -> str:
    """``2026-09-14T13:00:00.000000Z``: UTC, always with microseconds. Naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError("audit timestamps must be timezone-aware")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    ts: datetime
    kind: str
    principal_sub: str | None = None
    principal_agency: str | None = None
    principal_roles: tuple[str, ...] = ()
    camera: str | None = None
    action: str | None = None
    allowed: bool | None = None
    reason: str | None = None
    mou: str | None = None
    grant: str | None = None
    clause: str | None = None
    emergency: str | None = None
    client: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""

    def hash_fields(self) -> dict[str, Any]:
        """Everything the record's hash covers: every field except ``hash`` itself.

        Derived from the dataclass, so a field added to the record can never be left out of the hash.
        """
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "hash"}
        values["principal_roles"] = list(self.principal_roles)
        return values

    def to_dict(self) -> dict[str, Any]:
        body = self.hash_fields()
        body["ts"] = rfc3339(self.ts)
        body["hash"] = self.hash
        return body


class Actor(Protocol):
    """Who acted, as the audit log names them (a principal, or a stream token's holder)."""

    @property
    def sub(self) -> str: ...
    @property
    def agency(self) -> str: ...
    @property
    def roles(self) -> Iterable[str]: ...


def principal_fields(actor: Actor) -> dict[str, Any]:
    """The ``principal_*`` fields of an :meth:`AuditLog.append` call."""
    return {"principal_sub": actor.sub, "principal_agency": actor.agency, "principal_roles": tuple(sorted(actor.roles))}
