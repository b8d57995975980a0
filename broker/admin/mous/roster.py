"""MOU rosters (issue 14, item 5), pure: checking a posted roster, which revision is in force, and the pairs the
decision point is compiled with. No I/O: the facts come from :mod:`broker.store.rosters`.

An MOU with ``roster: {agencies: [...], countersign: ...}`` lets only the users of those recipient agencies who are
named on its roster use its grants (contract section 2; the decision answers ``not_on_roster`` otherwise, section
4). Without ``countersign`` the newest revision is in force as soon as it is stored; with it, the newest revision
that an approver of every party approved (its exact SHA-256) is in force, and a newer one is pending until then.
No revision at all is an empty roster: nobody of those agencies is let in (fail closed).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from broker.documents import DocumentSet
from broker.documents.mou import Mou
from broker.errors import InvalidRequest
from broker.store.rosters import EMPTY_SHA256, RosterApproval, RosterEntry, RosterFacts, RosterRevision
from broker.text import unprintable

MAX_ENTRIES = 5000
MAX_SUB = 255
MAX_NAME = 200
# Zero-width non-joiner and joiner: Persian, Indic and emoji spelling needs them (Unicode 15, section 23.2). Every
# other format character, bidi overrides above all (CVE-2021-42574, "Trojan Source"), stays out of a roster name.
JOINERS = "\u200c\u200d"
RevisionState = Literal["in_force", "pending", "superseded", "not_approved"]


def parse_roster(body: Any, agencies: Collection[str]) -> list[RosterEntry]:
    """``{"entries": [{"agency", "sub", "name"}, ...]}`` checked; InvalidRequest (422) names the first bad field."""
    if not isinstance(body, dict) or set(body) != {"entries"}:
        raise InvalidRequest('the body is {"entries": [{"agency", "sub", "name"}, ...]}', field="entries")
    raw = body["entries"]
    if not isinstance(raw, list):
        raise InvalidRequest("entries must be a list", field="entries")
    if len(raw) > MAX_ENTRIES:
        raise InvalidRequest(f"{len(raw)} entries: a roster holds at most {MAX_ENTRIES}", field="entries")
    out: list[RosterEntry] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        where = f"entries[{i}]"
        if not isinstance(item, dict) or set(item) != {"agency", "sub", "name"}:
            raise InvalidRequest("each entry is exactly {agency, sub, name}", field=where)
        for key, limit in (("agency", 64), ("sub", MAX_SUB), ("name", MAX_NAME)):
            value = item[key]
            if not isinstance(value, str) or not value.strip():
                raise InvalidRequest(f"{key} must be a non-empty string", field=f"{where}.{key}")
            if (problem := unprintable(value, JOINERS if key == "name" else "")) is not None:
                raise InvalidRequest(
                    f"{key} has {problem}: it must be printable (a name may keep the joiners U+200C and U+200D its "
                    "script needs)",
                    field=f"{where}.{key}",
                )
            if len(value) > limit or value != value.strip():
                raise InvalidRequest(
                    f"{key} must be printable, without surrounding spaces, at most {limit} characters",
                    field=f"{where}.{key}",
                )
        if item["agency"] not in agencies:
            named = ", ".join(sorted(agencies)) or "none"
            raise InvalidRequest(
                f"agency {item['agency']!r} is not in the MOU's roster.agencies ({named})", field=f"{where}.agency"
            )
        if item["sub"] in seen:
            raise InvalidRequest(
                f"duplicate sub {item['sub']!r} (also entries[{seen[item['sub']]}])", field=f"{where}.sub"
            )
        seen[item["sub"]] = i
        out.append(RosterEntry(item["agency"], item["sub"], item["name"]))
    return out


def parties_of(doc: Mou) -> tuple[str, ...]:
    return (doc.parties.owner, *doc.parties.recipients)


@dataclass(frozen=True)
class RosterState:
    mou: str
    in_force: RosterRevision | None
    pending: RosterRevision | None
    states: dict[int, RevisionState] = field(default_factory=dict)
    approvals: dict[int, list[RosterApproval]] = field(default_factory=dict)
    missing: tuple[str, ...] = ()  # parties whose approval the pending revision still needs
    revisions: tuple[RosterRevision, ...] = ()  # every revision, oldest first

    @property
    def latest(self) -> RosterRevision | None:
        return self.pending or self.in_force

    @property
    def sha256(self) -> str:
        return self.in_force.sha256 if self.in_force is not None else EMPTY_SHA256

    def pairs(self) -> frozenset[tuple[str, str]]:
        entries = self.in_force.entries if self.in_force is not None else ()
        return frozenset((e.agency, e.sub) for e in entries)


def _approved_by(rev: RosterRevision, approvals: Sequence[RosterApproval]) -> set[str]:
    return {a.agency for a in approvals if a.revision == rev.revision and a.sha256 == rev.sha256}


def derive_roster(facts: RosterFacts, countersign: bool, parties: Sequence[str]) -> RosterState:
    revs = facts.revisions
    by_rev = {r.revision: [a for a in facts.approvals if a.revision == r.revision] for r in revs}
    if not revs:
        return RosterState(facts.mou, None, None)
    if not countersign:
        states: dict[int, RevisionState] = {r.revision: "superseded" for r in revs}
        states[revs[-1].revision] = "in_force"
        return RosterState(facts.mou, revs[-1], None, states, by_rev, (), tuple(revs))
    whole = [r for r in revs if set(parties) <= _approved_by(r, facts.approvals)]
    in_force = whole[-1] if whole else None
    states = {r.revision: ("superseded" if r in whole else "not_approved") for r in revs}
    pending = None
    missing: tuple[str, ...] = ()
    if in_force is not None:
        states[in_force.revision] = "in_force"
    if revs[-1] is not in_force and (in_force is None or revs[-1].revision > in_force.revision):
        pending = revs[-1]
        states[pending.revision] = "pending"
        done = _approved_by(pending, facts.approvals)
        missing = tuple(p for p in parties if p not in done)
    return RosterState(facts.mou, in_force, pending, states, by_rev, missing, tuple(revs))


def roster_of(doc: Mou, facts: RosterFacts | None) -> RosterState:
    countersign = doc.roster is not None and doc.roster.countersign
    return derive_roster(facts or RosterFacts(doc.mou), countersign, parties_of(doc))


def attach_rosters(docs: DocumentSet, facts: dict[str, RosterFacts]) -> None:
    """Give the document set the roster in force of each MOU that requires one (the reloader's read step); its
    SHA-256 joins the digests as ``roster:<mou>``, so a roster change is a new document set."""
    for doc in docs.mous:
        if doc.roster is None:
            continue
        state = roster_of(doc, facts.get(doc.mou))
        docs.rosters[doc.mou] = state.pairs()
        docs.digests[f"roster:{doc.mou}"] = state.sha256


def change(before: RosterRevision | None, after: Sequence[RosterEntry]) -> tuple[list[str], list[str]]:
    """The subs added and removed by a revision (a renamed entry is neither)."""
    old = {e.sub for e in before.entries} if before is not None else set()
    new = {e.sub for e in after}
    return sorted(new - old), sorted(old - new)
