"""The state of each stored MOU version, derived from the stored facts and an instant. Pure: no I/O, no clock.

A version's *current text* is its newest revision; approvals count only for that exact SHA-256 (a revision
after an approval makes a new hash, and approvals start again). States (issue 14, item 1)::

    draft ── first party approves ──▶ proposed ── every party approved ──▶ approved
                                                                            │ its start (effective 00:00 local,
                                                                            ▼  or the last approval if later)
    terminated ◀── either party, at once ──  in_force ── a later version starts ──▶ superseded
                                                │ the day after `expires`
                                                ▼
                                             expired

``camgate mou import`` stores versions already in force (``imported``): the operator's act, audited, stands
for the signatures of a document the parties signed on paper.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from broker.documents.mou import Mou
from broker.store.mous import Approval, MouFacts, Revision, Termination

State = Literal["draft", "proposed", "approved", "in_force", "superseded", "expired", "terminated"]
OPEN_STATES: frozenset[str] = frozenset({"draft", "proposed"})  # a new revision, approvals and withdrawals allowed


@dataclass(frozen=True)
class VersionState:
    mou: str
    version: int
    current: Revision
    revisions: tuple[Revision, ...]
    doc: Mou | None  # the current text parsed (None: it no longer validates against the inventory)
    parties: tuple[str, ...]  # owner first, then recipients
    approvals: tuple[Approval, ...]  # standing approvals of the current hash
    stale: tuple[Approval, ...]  # approvals withdrawn, or of an earlier revision's hash
    state: State
    approved_at: datetime | None  # when the last party's approval (or the import) made it whole
    start: datetime | None  # when it takes (took) effect: max(effective 00:00 local, approved_at)
    end: datetime | None  # the day after `expires`, 00:00 local
    leaving: tuple[str, ...] = ()  # parties of the version it supersedes that this text drops

    @property
    def signatories(self) -> tuple[str, ...]:
        """Whose approval makes it whole: its parties, and the parties it drops from the version before."""
        return (*self.parties, *self.leaving)

    @property
    def missing(self) -> tuple[str, ...]:
        """Signatories whose approval of the current hash is still needed."""
        if self.current.imported:
            return ()
        have = {a.agency for a in self.approvals}
        return tuple(p for p in self.signatories if p not in have)


@dataclass(frozen=True)
class MouState:
    mou: str
    versions: tuple[VersionState, ...]  # by version number
    termination: Termination | None  # the termination in effect at the instant derived for (None: none yet)

    @property
    def terminated_at(self) -> datetime | None:
        return self.termination.at if self.termination is not None else None

    @property
    def in_force(self) -> VersionState | None:
        return next((v for v in reversed(self.versions) if v.state in ("in_force", "expired", "terminated")), None)

    @property
    def latest(self) -> VersionState:
        return self.versions[-1]

    @property
    def drafters(self) -> tuple[str, ...]:
        """Who may draft under this MOU's id: the parties of its newest version that has any; while that version is
        open, also the parties it drops (still parties to the version in force, they may counter-draft)."""
        v = next((v for v in reversed(self.versions) if v.parties), None)
        if v is None:
            return ()
        return v.signatories if v.state in OPEN_STATES else v.parties


def derive(facts: MouFacts, docs: Mapping[tuple[int, int], Mou | None], now: datetime) -> MouState:
    """Every version's state at ``now``. ``docs``: (version, revision) -> the parsed text of current revisions."""
    by_version: dict[int, list[Revision]] = {}
    for rev in facts.revisions:
        by_version.setdefault(rev.version, []).append(rev)
    termination = facts.termination if facts.termination and facts.termination.at <= now else None
    terminated = termination.at if termination is not None else None
    whole: list[tuple[int, datetime, datetime | None]] = []  # (version, start, end) of fully approved versions
    partial: dict[int, tuple[Revision, Mou | None, tuple[str, ...], list[Approval], list[Approval]]] = {}
    approved_at: dict[int, datetime | None] = {}
    leaving: dict[int, tuple[str, ...]] = {}
    signed: tuple[str, ...] = ()  # the parties of the newest fully approved version so far
    for version, revs in sorted(by_version.items()):
        current = revs[-1]
        doc = docs.get((version, current.revision))
        parties = (doc.parties.owner, *doc.parties.recipients) if doc is not None else ()
        # Issue 14, item 2: "an approver of every party" -- a party the new text drops is still a party to the
        # version it supersedes, and must sign its own way out; else owner and newcomer could sign it out alone.
        leaving[version] = tuple(p for p in signed if p not in parties) if parties else ()
        needed = (*parties, *leaving[version])
        standing = [a for a in facts.approvals if _standing(a, version, current.sha256, now)]
        stale = [a for a in facts.approvals if a.version == version and a not in standing]
        partial[version] = (current, doc, parties, standing, stale)
        first: dict[str, datetime] = {}
        for a in standing:
            first.setdefault(a.agency, a.approved_at)
        if current.imported:
            approved_at[version] = current.created_at
        elif parties and all(p in first for p in needed):
            approved_at[version] = max(first[p] for p in needed)
        else:
            approved_at[version] = None
        when = approved_at[version]
        if when is not None and doc is not None:
            period_start, period_end = doc.period()
            whole.append((version, max(period_start, when), period_end))
            signed = parties
    started = [v for v, start, _ in whole if start <= now]
    current_version = max(started) if started else None
    out: list[VersionState] = []
    for version, (current, doc, parties, standing, stale) in sorted(partial.items()):
        span = next(((s, e) for v, s, e in whole if v == version), (None, None))
        state = _state(version, span, current_version, bool(standing), terminated, now)
        texts = (current, tuple(by_version[version]), doc, parties)
        out.append(
            VersionState(
                facts.mou,
                version,
                *texts,
                tuple(standing),
                tuple(stale),
                state,
                approved_at[version],
                start=span[0],
                end=span[1],
                leaving=leaving[version],
            )
        )
    return MouState(facts.mou, tuple(out), termination)


def _standing(a: Approval, version: int, sha256: str, now: datetime) -> bool:
    return a.version == version and a.sha256 == sha256 and a.withdrawn_at is None and a.approved_at <= now


def _state(
    version: int,
    span: tuple[datetime | None, datetime | None],
    current_version: int | None,
    any_standing: bool,
    terminated: datetime | None,
    now: datetime,
) -> State:
    start, end = span
    if start is None:  # not approved by every party
        if terminated is not None:
            return "terminated"
        return "proposed" if any_standing else "draft"
    if current_version is not None and version < current_version:
        return "superseded"
    if terminated is not None:
        return "terminated"
    if start > now:
        return "approved"
    if end is not None and now >= end:
        return "expired"
    return "in_force"


def enforced(state: MouState) -> tuple[VersionState | None, VersionState | None]:
    """What the decision point enforces now, and the version that takes over next (its ``start``): the newest
    started version (its period checked by the decision point, contract §2), else the first approved one
    waiting for its date (denied ``mou_not_in_effect`` until then, as a file with a later ``effective`` is).
    A terminated MOU enforces nothing."""
    if state.terminated_at is not None:
        return None, None
    whole = [v for v in state.versions if v.start is not None and v.doc is not None]
    started = [v for v in whole if v.state in ("in_force", "expired")]
    waiting = sorted((v for v in whole if v.state == "approved"), key=lambda v: (v.start, v.version))
    current = started[-1] if started else None
    nxt = waiting[0] if waiting else None
    if current is None and nxt is not None:
        return nxt, (waiting[1] if len(waiting) > 1 else None)
    return current, nxt
