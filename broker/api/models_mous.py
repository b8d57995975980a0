"""The API's shapes for MOUs kept by the broker (issue 14), and the functions that fill them."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator

from broker.admin.mous.can import can, may_draft_new
from broker.admin.mous.lifecycle import MouState, VersionState
from broker.admin.mous.lint import lint_version
from broker.api.models import Instant
from broker.api.routes.mous import MouInWords, mou_in_words
from broker.policy import Principal
from broker.store.mous import Approval
from broker.text import unprintable
from broker.timeutil import format_instant

if TYPE_CHECKING:
    from broker.api.services import Services

StateName = Literal["draft", "proposed", "approved", "in_force", "superseded", "expired", "terminated"]
SHA256 = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the version's exact text, lowercase hex")


class Approve(BaseModel):
    model_config = {"extra": "forbid", "json_schema_extra": {"examples": [{"sha256": "0" * 64}]}}
    sha256: str = SHA256


class Terminate(BaseModel):
    model_config = {"extra": "forbid"}
    reason: str = Field(
        min_length=10,
        max_length=4000,
        description="Why the MOU ends, at least 10 characters (recorded, sent to the parties); printable text, lines "
        "and tabs allowed",
    )

    @field_validator("reason")
    @classmethod
    def _printable(cls, value: str) -> str:
        """A NUL is no text PostgreSQL stores (it answered 503 and marked the audit log unwritable), and a bidi
        override or a control character would go to the parties' webhooks as it is: 422 naming the character."""
        if (problem := unprintable(value)) is not None:
            raise ValueError(problem)
        return value


class ApprovalOut(BaseModel):
    agency: str
    sub: str
    role: str
    sha256: str
    approved_at: Instant
    withdrawn_at: Instant | None = None
    withdrawn_by: str | None = None


class RevisionOut(BaseModel):
    revision: int
    sha256: str
    bytes: int
    author_sub: str
    author_agency: str
    created_at: Instant
    imported: bool


class LintItem(BaseModel):
    code: str = Field(description="What kind of finding (e.g. grant_covers_no_camera, expires_soon)")
    path: str = Field(description="Where in the document, e.g. grants.1")
    line: int = Field(description="Line of the version's text (0: the document as a whole)")
    message: str


class CanOut(BaseModel):
    """What the caller may do (the console shows only these controls; the server still decides each action)."""

    draft: bool = Field(description="Post a new revision of this version, or the MOU's next version")
    approve: bool = Field(description="Countersign this version's current SHA-256")
    withdraw: bool = Field(description="Take back the caller's agency's approval of this version")
    terminate: bool = Field(description="End the MOU at once")


class VersionDetail(BaseModel):
    mou: str
    version: int
    state: StateName
    sha256: str = Field(description="SHA-256 of the current text: what an approval names")
    revision: int = Field(description="The current revision (every earlier text is kept under revisions)")
    title: str | None = None
    effective: date | None = None
    expires: date | None = None
    parties: list[str] = Field(description="Owner first, then recipients: an approver of each must approve")
    leaving: list[str] = Field(
        default_factory=list,
        description="Parties of the version it supersedes that this text drops: an approver of each must approve too",
    )
    approvals: list[ApprovalOut] = Field(description="Standing approvals of the current text")
    stale_approvals: list[ApprovalOut] = Field(description="Withdrawn, or of an earlier revision's text")
    missing: list[str] = Field(description="Parties whose approval of the current text is still needed")
    approved_at: Instant | None = None
    start: Instant | None = Field(None, description="When it takes (took) effect")
    end: Instant | None = Field(None, description="00:00 local the day after expires")
    revisions: list[RevisionOut]
    text: str | None = Field(None, description="The exact text (GET of one version)")
    plain: MouInWords | None = Field(None, description="The version in plain words")
    lint: list[LintItem] = Field(default_factory=list, description="Findings that never block (issue 14, item 4)")
    can: CanOut | None = Field(None, description="What the caller may do to this version")


class Termination(BaseModel):
    agency: str
    sub: str
    reason: str
    at: Instant


class MouHistory(BaseModel):
    mou: str
    title: str | None
    state: StateName = Field(description="The newest version's state")
    in_force: int | None = Field(description="The version enforced now (None: none)")
    terminated: Termination | None = None
    versions: list[VersionDetail]
    can: CanOut | None = Field(None, description="What the caller may do to the MOU (its newest version)")


class MouRegistryList(BaseModel):
    at: Instant
    source: Literal["files", "store"] = Field(description="Which is authoritative (settings mous.source)")
    mous: list[MouHistory]
    can_draft: bool = Field(False, description="Whether the caller may draft MOUs (mous.parties editors)")


def _approval(a: Approval) -> dict[str, Any]:
    withdrawn = format_instant(a.withdrawn_at) if a.withdrawn_at else None
    return {
        "agency": a.agency,
        "sub": a.sub,
        "role": a.role,
        "sha256": a.sha256,
        "approved_at": format_instant(a.approved_at),
        "withdrawn_at": withdrawn,
        "withdrawn_by": a.withdrawn_by,
    }


def _instant(at: datetime | None) -> str | None:
    return format_instant(at) if at is not None else None


def version_json(
    v: VersionState,
    services: Services,
    *,
    with_text: bool = False,
    principal: Principal | None = None,
    state: MouState | None = None,
) -> dict[str, Any]:
    """``principal`` and ``state``: add what the caller may do to the version (``can``)."""
    doc = v.doc
    catalog = services.catalog
    status = {"in_force": "in_force", "expired": "expired"}.get(v.state, "not_yet")
    out: dict[str, Any] = {
        "mou": v.mou,
        "version": v.version,
        "state": v.state,
        "sha256": v.current.sha256,
        "revision": v.current.revision,
        "title": doc.title if doc else None,
        "effective": doc.effective if doc else None,
        "expires": doc.expires if doc else None,
        "parties": list(v.parties),
        "leaving": list(v.leaving),
        "approvals": [_approval(a) for a in v.approvals],
        "stale_approvals": [_approval(a) for a in v.stale],
        "missing": list(v.missing),
        "approved_at": _instant(v.approved_at),
        "start": _instant(v.start),
        "end": _instant(v.end),
        "revisions": [
            {
                "revision": r.revision,
                "sha256": r.sha256,
                "bytes": len(r.text.encode("utf-8")),
                "author_sub": r.author_sub,
                "author_agency": r.author_agency,
                "created_at": format_instant(r.created_at),
                "imported": r.imported,
            }
            for r in v.revisions
        ],
    }
    if principal is not None and state is not None:
        out["can"] = can(services.settings.mous, principal, state, v).json()
    if with_text:
        out["text"] = v.current.text
        out["plain"] = mou_in_words(doc, catalog, status) if doc is not None else None
        out["lint"] = lint_version(v, catalog, services.clock.now(), services.settings.mous.expiry_notice_days)
    return out


def history_json(state: MouState, services: Services, principal: Principal | None = None) -> dict[str, Any]:
    latest = state.latest
    enforced = state.in_force
    t = None
    if (term := state.termination) is not None:  # derived with the state: no second read of the store
        t = {"agency": term.agency, "sub": term.sub, "reason": term.reason, "at": format_instant(term.at)}
    return {
        "mou": state.mou,
        "title": latest.doc.title if latest.doc else None,
        "state": latest.state,
        "in_force": enforced.version if enforced is not None and enforced.state == "in_force" else None,
        "terminated": t,
        "versions": [version_json(v, services, principal=principal, state=state) for v in state.versions],
        "can": can(services.settings.mous, principal, state).json() if principal is not None else None,
    }


def list_json(states: list[MouState], services: Services, principal: Principal) -> dict[str, Any]:
    """The MOU list by state (``GET /api/v1/mou-versions``)."""
    return {
        "at": format_instant(services.clock.now()),
        "source": services.settings.mous.source,
        "mous": [history_json(s, services, principal) for s in sorted(states, key=lambda s: s.mou)],
        "can_draft": may_draft_new(services.settings.mous, principal),
    }
