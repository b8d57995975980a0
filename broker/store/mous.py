"""MOUs kept by the broker: every revision's exact text, approvals, terminations (issue 14).

Rows are only ever inserted (an approval's withdrawal sets ``withdrawn_at`` once). Each write runs inside the
transaction of the audit record describing it (:meth:`broker.audit.AuditLog.append_bound`) and carries that
record's seq and hash (:mod:`broker.store.binding`), so :mod:`broker.audit.bindmous` names a row added or changed
by hand. What state a version is in is not stored: :mod:`broker.admin.mous.lifecycle` derives it from these facts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from broker.store.binding import Binding
from broker.store.db import Store
from broker.store.tables import mou_approvals, mou_events, mou_revisions, mou_terminations
from broker.store.types import as_utc


@dataclass(frozen=True)
class Revision:
    mou: str
    version: int
    revision: int
    text: str
    sha256: str
    name: str
    author_sub: str
    author_agency: str
    created_at: datetime
    imported: bool = False
    audit_seq: int | None = None
    audit_hash: str | None = None


@dataclass(frozen=True)
class Approval:
    id: int
    mou: str
    version: int
    sha256: str
    agency: str
    sub: str
    role: str
    approved_at: datetime
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None
    audit_seq: int | None = None  # the record that made the row (its mou.approve, or its mou.withdraw)
    audit_hash: str | None = None


@dataclass(frozen=True)
class Termination:
    mou: str
    agency: str
    sub: str
    reason: str
    at: datetime


@dataclass
class MouFacts:
    """Everything stored about one MOU, revisions in (version, revision) order."""

    mou: str
    revisions: list[Revision] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)
    termination: Termination | None = None
    events: dict[tuple[int, str], datetime] = field(default_factory=dict)


def _revision(row: Any) -> Revision:
    fields = (row.mou, row.version, row.revision, row.text, row.sha256, row.name, row.author_sub, row.author_agency)
    return Revision(*fields, as_utc(row.created_at), bool(row.imported), row.audit_seq, row.audit_hash)


def _approval(row: Any) -> Approval:
    withdrawn = as_utc(row.withdrawn_at) if row.withdrawn_at is not None else None
    fields = (row.id, row.mou, row.version, row.sha256, row.agency, row.sub, row.role)
    return Approval(*fields, as_utc(row.approved_at), withdrawn, row.withdrawn_by, row.audit_seq, row.audit_hash)


Vet = Callable[[Connection, dict[str, MouFacts]], dict[str, MouFacts]]


class MouRepository:
    """``vet``: applied to every read in its own snapshot (:mod:`broker.admin.mous.trust` drops rows that their
    audit records do not vouch for, so that a row written by hand never counts)."""

    def __init__(self, store: Store, vet: Vet | None = None) -> None:
        self._store = store
        self.vet = vet

    @property
    def store(self) -> Store:
        return self._store

    # -- reading -------------------------------------------------------------------------------------------------
    def all(self) -> dict[str, MouFacts]:
        """Every stored MOU's facts, by id (raises StoreUnavailable)."""
        try:
            with self._store.begin_read() as conn:
                found = self.read_in(conn)
                return self.vet(conn, found) if self.vet is not None else found
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc

    def get(self, mou: str) -> MouFacts | None:
        try:
            with self._store.begin_read() as conn:
                found = self.read_in(conn, mou)
                return (self.vet(conn, found) if self.vet is not None else found).get(mou)
        except SQLAlchemyError as exc:
            raise self._store.unavailable("read from", exc) from exc

    @staticmethod
    def read_in(conn: Connection, mou: str | None = None) -> dict[str, MouFacts]:
        out: dict[str, MouFacts] = {}

        def where(table: Any) -> Any:
            return table.c.mou == mou if mou is not None else True

        order = (mou_revisions.c.mou, mou_revisions.c.version, mou_revisions.c.revision)
        for row in conn.execute(select(mou_revisions).where(where(mou_revisions)).order_by(*order)):
            out.setdefault(row.mou, MouFacts(row.mou)).revisions.append(_revision(row))
        for row in conn.execute(select(mou_approvals).where(where(mou_approvals)).order_by(mou_approvals.c.id)):
            out.setdefault(row.mou, MouFacts(row.mou)).approvals.append(_approval(row))
        for row in conn.execute(select(mou_terminations).where(where(mou_terminations))):
            out.setdefault(row.mou, MouFacts(row.mou)).termination = Termination(
                row.mou, row.agency, row.sub, row.reason, as_utc(row.at)
            )
        for row in conn.execute(select(mou_events).where(where(mou_events))):
            out.setdefault(row.mou, MouFacts(row.mou)).events[(row.version, row.kind)] = as_utc(row.at)
        return out

    # -- writing, inside the record's transaction ----------------------------------------------------------------
    @staticmethod
    def add_revision_in(conn: Connection, rev: Revision, binding: Binding) -> None:
        values = {k: v for k, v in rev.__dict__.items() if k not in ("audit_seq", "audit_hash")}
        conn.execute(mou_revisions.insert().values(**values, **binding.values()))

    @staticmethod
    def add_approval_in(conn: Connection, ap: Approval, binding: Binding) -> None:
        skip = ("id", "withdrawn_at", "withdrawn_by", "audit_seq", "audit_hash")
        values = {k: v for k, v in ap.__dict__.items() if k not in skip}
        conn.execute(mou_approvals.insert().values(**values, **binding.values()))

    @staticmethod
    def withdraw_in(conn: Connection, approval_id: int, at: datetime, by: str, binding: Binding) -> bool:
        done = conn.execute(
            update(mou_approvals)
            .where(mou_approvals.c.id == approval_id, mou_approvals.c.withdrawn_at.is_(None))
            .values(withdrawn_at=as_utc(at, name="at"), withdrawn_by=by, **binding.values())
        )
        return bool(done.rowcount == 1)

    @staticmethod
    def terminate_in(conn: Connection, t: Termination, binding: Binding) -> None:
        conn.execute(mou_terminations.insert().values(**t.__dict__, **binding.values()))

    def claim_event(self, mou: str, version: int, kind: str, at: datetime) -> bool:
        """Record that a once-only moment happened (True: claimed now; False: another replica had it)."""
        try:
            with self._store.begin_write() as conn:
                conn.execute(mou_events.insert().values(mou=mou, version=version, kind=kind, at=as_utc(at, name="at")))
            return True
        except IntegrityError:
            return False
        except SQLAlchemyError as exc:
            raise self._store.unavailable("write to", exc) from exc

    @staticmethod
    def event_in(conn: Connection, mou: str, version: int, kind: str) -> bool:
        found = conn.execute(
            select(1).where(mou_events.c.mou == mou, mou_events.c.version == version, mou_events.c.kind == kind)
        ).first()
        return found is not None
