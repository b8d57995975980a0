"""MOU rosters kept by the broker (issue 14, item 5): every revision of the named users, and their approvals.

Rows are only ever inserted. Each write runs inside the transaction of the audit record describing it
(:meth:`broker.audit.AuditLog.append_bound`) and carries that record's seq and hash, so
:mod:`broker.audit.bindroster` names a row added or changed by hand (an insider putting themselves on a roster).
Which revision is in force is not stored: :mod:`broker.admin.mous.roster` derives it from these facts.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from broker.store.binding import Binding
from broker.store.db import Store
from broker.store.tables import mou_roster_approvals, mou_rosters
from broker.store.types import as_utc


@dataclass(frozen=True, slots=True)
class RosterEntry:
    agency: str
    sub: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"agency": self.agency, "sub": self.sub, "name": self.name}


def canonical(entries: Iterable[RosterEntry]) -> str:
    """The entries as stored and hashed: sorted by (agency, sub), compact JSON, UTF-8 text."""
    ordered = sorted(entries, key=lambda e: (e.agency, e.sub))
    return json.dumps([e.to_dict() for e in ordered], ensure_ascii=False, separators=(",", ":"))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


EMPTY_SHA256 = digest(canonical(()))


def parse_entries(text: str) -> tuple[RosterEntry, ...]:
    """A stored row's entries (rows are written by :func:`canonical`; anything else reads as no entries)."""
    try:
        raw = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(raw, list):
        return ()
    out = []
    for item in raw:
        if isinstance(item, dict) and all(isinstance(item.get(k), str) for k in ("agency", "sub", "name")):
            out.append(RosterEntry(item["agency"], item["sub"], item["name"]))
    return tuple(out)


@dataclass(frozen=True)
class RosterRevision:
    mou: str
    revision: int
    entries: tuple[RosterEntry, ...]
    sha256: str
    author_sub: str
    author_agency: str
    created_at: datetime


@dataclass(frozen=True)
class RosterApproval:
    mou: str
    revision: int
    sha256: str
    agency: str
    sub: str
    role: str
    approved_at: datetime


@dataclass
class RosterFacts:
    """Everything stored about one MOU's roster, revisions in order."""

    mou: str
    revisions: list[RosterRevision] = field(default_factory=list)
    approvals: list[RosterApproval] = field(default_factory=list)


def _revision(row: Any) -> RosterRevision:
    entries = parse_entries(row.entries)
    return RosterRevision(
        row.mou, row.revision, entries, row.sha256, row.author_sub, row.author_agency, as_utc(row.created_at)
    )


def _approval(row: Any) -> RosterApproval:
    fields = (row.mou, row.revision, row.sha256, row.agency, row.sub, row.role)
    return RosterApproval(*fields, as_utc(row.approved_at))


class RosterRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def all(self) -> dict[str, RosterFacts]:
        """Every stored roster's facts, by MOU id (raises StoreUnavailable)."""
        return self._read(None)

    def get(self, mou: str) -> RosterFacts:
        return self._read(mou).get(mou) or RosterFacts(mou)

    def _read(self, mou: str | None) -> dict[str, RosterFacts]:
        try:
            with self._store.begin_read() as conn:
                return self.read_in(conn, mou)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc

    @staticmethod
    def read_in(conn: Connection, mou: str | None = None) -> dict[str, RosterFacts]:
        out: dict[str, RosterFacts] = {}
        revs = select(mou_rosters).order_by(mou_rosters.c.mou, mou_rosters.c.revision)
        aps = select(mou_roster_approvals).order_by(mou_roster_approvals.c.id)
        if mou is not None:
            revs = revs.where(mou_rosters.c.mou == mou)
            aps = aps.where(mou_roster_approvals.c.mou == mou)
        for row in conn.execute(revs):
            out.setdefault(row.mou, RosterFacts(row.mou)).revisions.append(_revision(row))
        for row in conn.execute(aps):
            out.setdefault(row.mou, RosterFacts(row.mou)).approvals.append(_approval(row))
        return out

    # -- writing, inside the record's transaction ----------------------------------------------------------------
    @staticmethod
    def latest_in(conn: Connection, mou: str) -> int:
        """The newest revision number of ``mou``'s roster (0: none yet), read in the writing transaction."""
        found = conn.execute(
            select(mou_rosters.c.revision).where(mou_rosters.c.mou == mou).order_by(mou_rosters.c.revision.desc())
        ).first()
        return int(found[0]) if found is not None else 0

    @staticmethod
    def add_revision_in(conn: Connection, rev: RosterRevision, binding: Binding) -> None:
        conn.execute(
            mou_rosters.insert().values(
                mou=rev.mou,
                revision=rev.revision,
                entries=canonical(rev.entries),
                sha256=rev.sha256,
                author_sub=rev.author_sub,
                author_agency=rev.author_agency,
                created_at=as_utc(rev.created_at, name="created_at"),
                **binding.values(),
            )
        )

    @staticmethod
    def add_approval_in(conn: Connection, ap: RosterApproval, binding: Binding) -> None:
        values = {k: getattr(ap, k) for k in ("mou", "revision", "sha256", "agency", "sub", "role")}
        conn.execute(
            mou_roster_approvals.insert().values(
                **values, approved_at=as_utc(ap.approved_at, name="approved_at"), **binding.values()
            )
        )
