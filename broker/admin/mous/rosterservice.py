"""Keeping an MOU's roster (issue 14, item 5): new revisions and, where the MOU says ``countersign: true``, the
parties' approvals. Every change is one audit record (``mou.roster``, ``mou.roster_approve``) and its row, in one
transaction (``AuditLog.append_bound``): no record, no change. Whether enforcement changed is returned, and the
caller reloads (the roster is compiled into the policy, :mod:`broker.admin.mous.roster`).

Who may change what: the editors (``mous.parties.<agency>.editors``) of a party. The owner's editors may change
every entry; a recipient agency's editors only their own agency's entries (the agency vouches for its own staff,
the owner keeps the whole list). Approving a revision is for a party's approvers, once per party.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from broker.admin.mous.roster import RosterState, change, parse_roster, parties_of, roster_of
from broker.audit import AuditLog, AuditRecord, principal_fields
from broker.clock import Clock
from broker.documents.mou import Mou
from broker.errors import MouStateConflict, PermissionDenied, UnknownMou
from broker.policy import Principal
from broker.settings import MouSettings
from broker.store.binding import Binding
from broker.store.rosters import RosterApproval, RosterEntry, RosterRepository, RosterRevision, canonical, digest


@dataclass(frozen=True)
class RosterChange:
    state: RosterState
    enforced: bool  # the roster in force changed: reload


class RosterService:
    def __init__(
        self,
        repo: RosterRepository,
        audit: AuditLog,
        settings: MouSettings,
        clock: Clock,
        document: Callable[[str], Mou | None],
    ) -> None:
        self.repo, self.audit, self.settings, self.clock = repo, audit, settings, clock
        self.document = document  # the MOU's document the roster serves (in force, else the newest one)

    def doc(self, mou: str) -> Mou:
        found = self.document(mou)
        if found is None:
            raise UnknownMou(f"no MOU {mou!r}", field="mou")
        return found

    def state(self, mou: str) -> tuple[Mou, RosterState]:
        doc = self.doc(mou)
        return doc, roster_of(doc, self.repo.get(mou))

    def _role(self, principal: Principal, doc: Mou, kind: str) -> str:
        if principal.agency not in parties_of(doc):
            raise PermissionDenied(
                f"agency {principal.agency!r} is not a party to MOU {doc.mou!r}", reason="not_a_party"
            )
        cfg = self.settings.parties.get(principal.agency)
        allowed = set(getattr(cfg, kind)) if cfg is not None else set()
        role = next((r for r in sorted(principal.roles) if r in allowed), None)
        if role is None:
            noun = "draft" if kind == "editors" else "approve"
            raise PermissionDenied(
                f"no role of yours may {noun} MOUs for {principal.agency!r} (mous.parties.{principal.agency})",
                reason="not_an_mou_" + noun.removesuffix("e") + "er",
            )
        return role

    # -- a new revision --------------------------------------------------------------------------------------------
    def put(self, principal: Principal, mou: str, body: Any, client: str | None = None) -> RosterChange:
        doc = self.doc(mou)
        role = self._role(principal, doc, "editors")
        if doc.roster is None:
            raise MouStateConflict(f"MOU {mou!r} requires no roster (it has no roster field)", state="no_roster")
        entries = parse_roster(body, doc.roster.agencies)
        sha = digest(canonical(entries))
        latest = roster_of(doc, self.repo.get(mou)).latest
        if latest is not None and latest.sha256 == sha:  # PUT is idempotent: the same entries make no revision
            _, state = self.state(mou)
            return RosterChange(state, enforced=False)
        planned: list[tuple[RosterRevision, list[str], list[str]]] = []

        def plan(conn: Connection) -> dict[str, Any]:
            facts = RosterRepository.read_in(conn, mou).get(mou)
            before = roster_of(doc, facts).latest
            if principal.agency != doc.parties.owner:
                self._own_only(principal.agency, before.entries if before is not None else (), entries)
            number = (facts.revisions[-1].revision if facts and facts.revisions else 0) + 1
            rev = RosterRevision(mou, number, tuple(entries), sha, principal.sub, principal.agency, self.clock.now())
            added, removed = change(before, entries)
            if added:  # naming someone opens access; only taking people off closes it (the reserve is for that)
                self.audit.require_reserve("a roster naming someone new")
            planned.append((rev, added, removed))
            details = {
                "mou": mou,
                "revision": number,
                "sha256": sha,
                "entries": len(entries),
                "added": added,
                "removed": removed,
                "role": role,
                "countersign": doc.roster is not None and doc.roster.countersign,
            }
            return {"details": details}

        def bind(conn: Connection, record: AuditRecord) -> None:
            RosterRepository.add_revision_in(conn, planned[-1][0], Binding(record.seq, record.hash))

        self.audit.append_bound("mou.roster", bind, plan=plan, **principal_fields(principal), mou=mou, client=client)
        _, state = self.state(mou)
        return RosterChange(state, enforced=not doc.roster.countersign)

    @staticmethod
    def _own_only(agency: str, before: Sequence[RosterEntry], after: Sequence[RosterEntry]) -> None:
        """A recipient's editors change their own agency's entries only (403 naming the other agency)."""
        old = {(e.agency, e.sub, e.name) for e in before}
        new = {(e.agency, e.sub, e.name) for e in after}
        others = sorted({e[0] for e in old ^ new if e[0] != agency})
        if others:
            raise PermissionDenied(
                f"{agency!r} may change only its own entries; this changes those of {', '.join(others)}",
                reason="not_your_agency",
            )

    # -- countersignature ------------------------------------------------------------------------------------------
    def approve(self, principal: Principal, mou: str, sha256: str, client: str | None = None) -> RosterChange:
        doc, state = self.state(mou)
        if doc.roster is None or not doc.roster.countersign:
            raise MouStateConflict(
                f"MOU {mou!r} does not ask for roster approvals (roster.countersign is not true)", state="in_force"
            )
        self.audit.require_reserve("a roster approval")  # it may put a roster naming someone in force
        pending = state.pending
        if pending is None or pending.sha256 != sha256:
            now = pending.sha256 if pending is not None else None
            raise MouStateConflict(
                f"sha256 {sha256[:12]}… is not the pending roster revision's (pending: {now or 'none'})",
                state="pending" if pending is not None else "in_force",
                sha256=now,
            )
        role = self._role(principal, doc, "approvers")
        if principal.agency not in state.missing:
            raise MouStateConflict(f"{principal.agency!r} approved this roster revision already", state="pending")
        ap = RosterApproval(mou, pending.revision, sha256, principal.agency, principal.sub, role, self.clock.now())
        missing = [p for p in state.missing if p != principal.agency]
        details = {
            "mou": mou,
            "revision": pending.revision,
            "sha256": sha256,
            "agency": principal.agency,
            "role": role,
            "missing": missing,
        }

        def bind(conn: Connection, record: AuditRecord) -> None:
            RosterRepository.add_approval_in(conn, ap, Binding(record.seq, record.hash))

        self.audit.append_bound(
            "mou.roster_approve", bind, **principal_fields(principal), mou=mou, client=client, details=details
        )
        _, after = self.state(mou)
        return RosterChange(after, enforced=not missing)
