"""The API's shapes for an MOU's roster of named users (issue 14, item 5), and the function that fills them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from broker.admin.mous.roster import MAX_ENTRIES, MAX_NAME, MAX_SUB, RosterState, change
from broker.api.models import Instant
from broker.documents.mou import Mou
from broker.store.rosters import RosterRevision
from broker.timeutil import format_instant

SHA256 = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the roster revision's entries, lowercase hex")


class RosterEntryIn(BaseModel):
    model_config = {"extra": "forbid"}
    agency: str = Field(min_length=1, max_length=64, description="A recipient agency in the MOU's roster.agencies")
    sub: str = Field(min_length=1, max_length=MAX_SUB, description="The user's subject (the token's `sub`)")
    name: str = Field(min_length=1, max_length=MAX_NAME, description="The user's display name")


class RosterPut(BaseModel):
    model_config = {
        "extra": "forbid",
        "json_schema_extra": {"examples": [{"entries": [{"agency": "ncpd", "sub": "officer-kim", "name": "Kim"}]}]},
    }
    entries: list[RosterEntryIn] = Field(max_length=MAX_ENTRIES, description="The whole roster (it replaces it)")


class RosterApprove(BaseModel):
    model_config = {"extra": "forbid", "json_schema_extra": {"examples": [{"sha256": "0" * 64}]}}
    sha256: str = SHA256


class RosterEntryOut(BaseModel):
    agency: str
    sub: str
    name: str


class RosterApprovalOut(BaseModel):
    agency: str
    sub: str
    role: str
    at: Instant


class RosterPending(BaseModel):
    revision: int
    sha256: str
    author_sub: str
    author_agency: str
    at: Instant
    entries: list[RosterEntryOut]
    approvals: list[RosterApprovalOut]
    missing: list[str] = Field(description="Parties whose approver has not approved this SHA-256 yet")


class RosterHistoryItem(BaseModel):
    revision: int
    sha256: str
    author_sub: str
    author_agency: str
    at: Instant
    added: list[str] = Field(description="Subs added by this revision")
    removed: list[str] = Field(description="Subs removed by this revision")
    state: Literal["in_force", "pending", "superseded", "not_approved"]


class Roster(BaseModel):
    mou: str
    revision: int = Field(description="The revision in force (0: none yet, an empty roster)")
    sha256: str = Field(description="SHA-256 of the entries in force")
    required_for: list[str] = Field(
        description="Recipient agencies whose users must be on the roster (roster.agencies)"
    )
    countersign: bool = Field(description="A revision takes effect only once an approver of every party approved it")
    state: Literal["in_force", "pending"] = Field(description="pending: a newer revision awaits approvals")
    entries: list[RosterEntryOut] = Field(description="The roster in force, by agency then sub")
    pending: RosterPending | None
    history: list[RosterHistoryItem] = Field(description="Every revision, oldest first")


def roster_json(doc: Mou, state: RosterState) -> dict[str, Any]:
    in_force = state.in_force
    previous: RosterRevision | None = None
    history = []
    for rev in state.revisions:
        added, removed = change(previous, rev.entries)
        history.append(_head(rev) | {"added": added, "removed": removed, "state": state.states[rev.revision]})
        previous = rev
    pending = state.pending
    return {
        "mou": doc.mou,
        "revision": in_force.revision if in_force else 0,
        "sha256": state.sha256,
        "required_for": list(doc.roster.agencies) if doc.roster else [],
        "countersign": bool(doc.roster and doc.roster.countersign),
        "state": "pending" if pending is not None else "in_force",
        "entries": [e.to_dict() for e in (in_force.entries if in_force else ())],
        "pending": None if pending is None else _pending(pending, state),
        "history": history,
    }


def _head(rev: RosterRevision) -> dict[str, Any]:
    return {
        "revision": rev.revision,
        "sha256": rev.sha256,
        "author_sub": rev.author_sub,
        "author_agency": rev.author_agency,
        "at": format_instant(rev.created_at),
    }


def _pending(rev: RosterRevision, state: RosterState) -> dict[str, Any]:
    approvals = [
        {"agency": a.agency, "sub": a.sub, "role": a.role, "at": format_instant(a.approved_at)}
        for a in state.approvals.get(rev.revision, [])
        if a.sha256 == rev.sha256
    ]
    entries = [e.to_dict() for e in rev.entries]
    return _head(rev) | {"entries": entries, "approvals": approvals, "missing": list(state.missing)}
