"""Administering MOUs in the broker (issue 14): drafts, countersignature, termination, import.

Every change is one audit record and the row it describes, in one transaction (``AuditLog.append_bound``): no
record, no change. What a change does to enforcement is the reloader's: the caller reloads after an approval
that made a version whole, a withdrawal, a termination or an import (:mod:`broker.admin.reload`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from broker.admin.mous.lifecycle import OPEN_STATES, MouState, VersionState
from broker.admin.mous.notices import MouNotices
from broker.admin.mous.registry import MouRegistry
from broker.audit import AuditLog, AuditRecord, principal_fields
from broker.documents.loader import parse_mou_text
from broker.documents.mou import Mou
from broker.errors import DocumentError, InvalidRequest, MouStateConflict, PermissionDenied, UnknownMou
from broker.policy import Principal
from broker.settings import MouSettings
from broker.store.binding import Binding
from broker.store.mous import Approval, MouRepository, Revision, Termination

DRAFT_NAME = "draft.yaml"  # the FILE of a posted draft's FILE:LINE problems
MIN_REASON_CHARS = 10
IMPORTER = "camgate:import"


class _AlreadyStored(ValueError):
    """Raised under the chain's lock: the text is the version's current revision already (nothing stored)."""


def _version_of(state: MouState, version: int) -> VersionState:
    found = next((v for v in state.versions if v.version == version), None)
    if found is None:
        raise UnknownMou(f"MOU {state.mou!r} has no version {version}", field="version")
    return found


@dataclass(frozen=True)
class Drafted:
    version: VersionState
    created: bool  # False: the text equals the version's current revision (nothing stored)


class MouService:
    def __init__(
        self,
        registry: MouRegistry,
        audit: AuditLog,
        settings: MouSettings,
        notices: MouNotices | None = None,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.registry, self.audit, self.settings = registry, audit, settings
        self.notices = notices
        self.on_change = on_change  # wakes the dispatcher when notices were queued

    @property
    def repo(self) -> MouRepository:
        return self.registry.repo

    # -- who may act -----------------------------------------------------------------------------------------------
    def _role(self, principal: Principal, parties: Sequence[str], kind: str, mou: str) -> str:
        """The principal's role that lets them act for their agency (a party): 403 otherwise."""
        if principal.agency not in parties:
            raise PermissionDenied(f"agency {principal.agency!r} is not a party to MOU {mou!r}", reason="not_a_party")
        cfg = self.settings.parties.get(principal.agency)
        allowed: set[str] = set()
        if cfg is not None:  # either party's editors and approvers may terminate (issue 14, item 6)
            allowed = set(cfg.editors) | set(cfg.approvers) if kind == "terminators" else set(getattr(cfg, kind))
        role = next((r for r in sorted(principal.roles) if r in allowed), None)
        if role is None:
            noun = {"editors": "draft", "approvers": "approve", "terminators": "terminate"}[kind]
            raise PermissionDenied(
                f"no role of yours may {noun} MOUs for {principal.agency!r} (mous.parties.{principal.agency})",
                reason="not_an_mou_" + noun.removesuffix("e") + "er",
            )
        return role

    # -- drafts ----------------------------------------------------------------------------------------------------
    def draft(self, principal: Principal, raw: bytes, client: str | None = None) -> Drafted:
        """A new MOU, a new version of one, or a new revision of an open version (draft or proposed)."""
        self.audit.require_reserve("an MOU draft")  # fail closed before anything is parsed or stored
        doc, issues = parse_mou_text(raw, DRAFT_NAME, self.registry._index())
        if doc is None:
            raise DocumentError(issues)  # kept nowhere: 422 with every line
        self._role(principal, [doc.parties.owner, *doc.parties.recipients], "editors", doc.mou)
        sha = hashlib.sha256(raw).hexdigest()
        details: dict[str, Any] = {"mou": doc.mou, "version": doc.version, "sha256": sha, "bytes": len(raw)}

        def plan(conn: Connection) -> dict[str, Any]:  # under the chain's lock: two drafts at once get two numbers
            state = self._fresh(conn, doc.mou, missing_ok=True)
            known = state.drafters if state else ()
            if known:  # an existing MOU is drafted by its own parties only, not by whoever names its id
                self._role(principal, known, "editors", doc.mou)
            revision = self._next_revision(doc, state, sha)
            if revision is None:
                raise _AlreadyStored()
            details["revision"] = revision
            return {"details": details}

        def bind(conn: Connection, record: AuditRecord) -> None:
            rev = Revision(
                doc.mou,
                doc.version,
                details["revision"],
                raw.decode("utf-8"),
                sha,
                f"{doc.mou}@v{doc.version}.yaml",
                principal.sub,
                principal.agency,
                self.registry.clock.now(),
            )
            MouRepository.add_revision_in(conn, rev, Binding(record.seq, record.hash))

        created = True
        try:
            self.audit.append_bound(
                "mou.draft", bind, plan=plan, **principal_fields(principal), mou=doc.mou, client=client
            )
        except _AlreadyStored:
            created = False
        _, version = self.registry.version(doc.mou, doc.version)
        return Drafted(version, created)

    def _fresh(self, conn: Connection, mou: str, *, missing_ok: bool = False) -> Any:
        """The MOU's state read inside the record's transaction, under the chain's lock (what a concurrent change
        on any replica committed is seen: the checks then hold when the row is written)."""
        facts = MouRepository.read_in(conn, mou)
        if self.repo.vet is not None:
            facts = self.repo.vet(conn, facts)
        found = facts.get(mou)
        if found is None or not found.revisions:
            if missing_ok:
                return None
            raise UnknownMou(f"no stored MOU {mou!r}", field="mou")
        return self.registry.state_of(found)

    def _next_revision(self, doc: Mou, state: MouState | None, sha: str) -> int | None:
        """The revision number the text gets (None: it is the current text already); 409/422 when refused."""
        if state is None:
            return 1
        if state.terminated_at is not None:
            raise MouStateConflict(f"MOU {doc.mou!r} was terminated; it takes no new versions", state="terminated")
        latest = state.latest
        if doc.version == latest.version:
            if latest.current.sha256 == sha:
                return None
            if latest.state not in OPEN_STATES:
                raise MouStateConflict(
                    f"version {latest.version} of {doc.mou!r} is {latest.state.replace('_', ' ')} and cannot "
                    f"change; draft version {latest.version + 1}",
                    state=latest.state,
                )
            return latest.current.revision + 1
        if doc.version != latest.version + 1:
            raise InvalidRequest(
                f"version {doc.version}: the newest version of {doc.mou!r} is {latest.version}; a new draft is "
                f"version {latest.version + 1} (or {latest.version}, revising it while it is open)",
                field="version",
            )
        return 1

    # -- countersignature ------------------------------------------------------------------------------------------
    def approve(
        self, principal: Principal, mou: str, version: int, sha256: str, client: str | None = None
    ) -> VersionState:
        self.registry.version(mou, version)  # 404 before anything is locked
        self.audit.require_reserve("an MOU approval")  # it may put a version in force: it opens access
        fresh: list[tuple[VersionState, str | None, dict[str, Any]]] = []
        now = self.registry.clock.now()

        def plan(conn: Connection) -> dict[str, Any]:  # under the chain's lock: one approval per agency and hash
            state = self._fresh(conn, mou)
            v = _version_of(state, version)
            if v.doc is None:
                self._open(state, v, "approved")  # 409: it no longer validates (so its parties are unknown)
            role = self._role(principal, v.signatories, "approvers", mou)  # a non-party learns nothing more: 403 first
            self._open(state, v, "approved")
            if sha256 != v.current.sha256:  # a revision committed meanwhile: this approval names the old text
                raise MouStateConflict(
                    f"sha256 {sha256[:12]}… is not the current text of version {version} (it is {v.current.sha256})",
                    state=v.state,
                    sha256=v.current.sha256,
                )
            mine = next((a for a in v.approvals if a.agency == principal.agency), None)
            if mine is not None:
                raise MouStateConflict(
                    f"{principal.agency!r} approved this text already ({mine.sub}, {mine.approved_at.isoformat()})",
                    state=v.state,
                )
            missing = [p for p in v.missing if p != principal.agency]
            kind = "mou.approved" if not missing else ("mou.proposed" if not v.approvals else None)
            details = {
                "mou": mou,
                "version": version,
                "sha256": sha256,
                "agency": principal.agency,
                "role": role,
                "missing": missing,
            }
            fresh.append((v, kind, details))
            return {"details": details}

        def bind(conn: Connection, record: AuditRecord) -> None:
            v, kind, details = fresh[-1]
            ap = Approval(0, mou, version, sha256, principal.agency, principal.sub, details["role"], now)
            MouRepository.add_approval_in(conn, ap, Binding(record.seq, record.hash))
            if kind is not None and self.notices is not None:
                self.notices.queue(conn, kind, v, details, record)

        self.audit.append_bound("mou.approve", bind, plan=plan, **principal_fields(principal), mou=mou, client=client)
        if fresh[-1][1] is not None:
            self.on_change()
        return self.registry.version(mou, version)[1]

    def withdraw(self, principal: Principal, mou: str, version: int, client: str | None = None) -> VersionState:
        self.registry.version(mou, version)  # 404 before anything is locked
        now = self.registry.clock.now()
        mine: list[Approval] = []

        def plan(conn: Connection) -> dict[str, Any]:  # under the chain's lock: not once the version took effect
            state = self._fresh(conn, mou)
            v = _version_of(state, version)
            self._role(principal, v.signatories, "approvers", mou)  # a non-party learns nothing more: 403 first
            if v.state not in ("proposed", "approved") or state.terminated_at is not None:
                raise MouStateConflict(
                    f"version {version} of {mou!r} is {v.state.replace('_', ' ')}: approvals can be withdrawn only "
                    "until it takes effect",
                    state=v.state,
                )
            found = next((a for a in v.approvals if a.agency == principal.agency), None)
            if found is None:
                raise MouStateConflict(
                    f"{principal.agency!r} has no approval of version {version} to withdraw", state=v.state
                )
            mine.append(found)
            details = {
                "mou": mou,
                "version": version,
                "sha256": found.sha256,
                "agency": principal.agency,
                "approval_by": found.sub,
            }
            return {"details": details}

        def bind(conn: Connection, record: AuditRecord) -> None:
            if not MouRepository.withdraw_in(conn, mine[-1].id, now, principal.sub, Binding(record.seq, record.hash)):
                raise MouStateConflict("the approval was withdrawn meanwhile", state="proposed")

        self.audit.append_bound("mou.withdraw", bind, plan=plan, **principal_fields(principal), mou=mou, client=client)
        return self.registry.version(mou, version)[1]

    def _open(self, state: MouState, v: VersionState, doing: str) -> None:
        if state.terminated_at is not None:
            raise MouStateConflict(
                f"MOU {state.mou!r} was terminated; nothing under it can be {doing}", state="terminated"
            )
        if v.state not in OPEN_STATES:
            raise MouStateConflict(
                f"version {v.version} of {state.mou!r} is {v.state.replace('_', ' ')}; it can no longer be {doing}",
                state=v.state,
            )
        if v.doc is None:
            raise MouStateConflict(
                f"version {v.version} of {state.mou!r} no longer validates against the inventory; draft it again",
                state=v.state,
            )

    # -- termination -----------------------------------------------------------------------------------------------
    def terminate(self, principal: Principal, mou: str, reason: str, client: str | None = None) -> MouState:
        state = self.registry.state(mou)
        if state.terminated_at is not None:
            raise MouStateConflict(f"MOU {mou!r} was terminated already", state="terminated")
        if len(reason.strip()) < MIN_REASON_CHARS:
            raise InvalidRequest(f"a reason of at least {MIN_REASON_CHARS} characters is required", field="reason")
        basis = state.in_force or state.latest
        self._role(principal, basis.parties, "terminators", mou)
        now = self.registry.clock.now()
        t = Termination(mou, principal.agency, principal.sub, reason.strip(), now)
        details = {
            "mou": mou,
            "version": basis.version,
            "sha256": basis.current.sha256,
            "reason": t.reason,
            "agency": principal.agency,
        }

        def plan(conn: Connection) -> dict[str, Any]:  # under the chain's lock: terminated once
            if self._fresh(conn, mou).terminated_at is not None:
                raise MouStateConflict(f"MOU {mou!r} was terminated already", state="terminated")
            return {}

        def bind(conn: Connection, record: AuditRecord) -> None:
            MouRepository.terminate_in(conn, t, Binding(record.seq, record.hash))
            if self.notices is not None:
                self.notices.queue(conn, "mou.terminated", basis, details, record)

        self.audit.append_bound(
            "mou.terminate", bind, plan=plan, **principal_fields(principal), mou=mou, client=client, details=details
        )
        self.on_change()
        return self.registry.state(mou)

    # -- import (camgate mou import) -------------------------------------------------------------------------------
    def import_texts(self, items: Sequence[tuple[str, bytes]], who: dict[str, Any]) -> list[dict[str, Any]]:
        """Files the parties signed on paper, stored in force (broker/admin/mous/importer.py)."""
        from broker.admin.mous.importer import import_texts

        return import_texts(self, items, who)
