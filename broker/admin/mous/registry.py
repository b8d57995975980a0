"""Reading the stored MOUs: each version parsed against the inventory in force, and its state (lifecycle.py).

:class:`MouRegistry` is the read side shared by the service (drafts, approvals), the API and the reloader's store
source (:func:`enforced_texts`). Parsing a text is cached by its SHA-256 and the inventory it was checked against.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from broker.admin.mous.lifecycle import MouState, VersionState, derive, enforced
from broker.admin.mous.trust import trusted
from broker.clock import Clock
from broker.documents.inventory import InventoryIndex
from broker.documents.loader import parse_mou_text
from broker.documents.mou import Mou
from broker.errors import UnknownMou
from broker.store.mous import MouFacts, MouRepository, Revision

CACHE_MAX = 2048


@dataclass(frozen=True)
class EnforcedTexts:
    """The texts the decision point enforces now and, when a version is waiting for its date, at ``next_at``."""

    now: list[tuple[str, bytes]]
    next_at: datetime | None = None
    then: list[tuple[str, bytes]] | None = None


class MouRegistry:
    def __init__(self, repo: MouRepository, index: Callable[[], InventoryIndex], clock: Clock) -> None:
        # Only rows the audit chain vouches for count (trust.py): a forged approval never takes effect.
        self.repo = repo if repo.vet is not None else MouRepository(repo.store, vet=trusted)
        self._index, self.clock = index, clock
        self._parsed: dict[tuple[str, int], Mou | None] = {}
        self._lock = threading.Lock()

    def parse(self, rev: Revision, index: InventoryIndex | None = None) -> Mou | None:
        index = index if index is not None else self._index()
        key = (rev.sha256, id(index))
        with self._lock:
            if key in self._parsed:
                return self._parsed[key]
        doc, _ = parse_mou_text(rev.text.encode("utf-8"), rev.name, index)
        with self._lock:
            if len(self._parsed) >= CACHE_MAX:
                self._parsed.clear()
            self._parsed[key] = doc
        return doc

    def state_of(self, facts: MouFacts, now: datetime | None = None, index: InventoryIndex | None = None) -> MouState:
        currents = {}
        for rev in facts.revisions:
            currents[rev.version] = rev  # the newest revision of each version wins
        docs = {(r.version, r.revision): self.parse(r, index) for r in currents.values()}
        return derive(facts, docs, now or self.clock.now())

    def states(self) -> dict[str, MouState]:
        now = self.clock.now()
        return {mou: self.state_of(facts, now) for mou, facts in self.repo.all().items()}

    def state(self, mou: str) -> MouState:
        facts = self.repo.get(mou)
        if facts is None or not facts.revisions:
            raise UnknownMou(f"no stored MOU {mou!r}", field="mou")
        return self.state_of(facts)

    def version(self, mou: str, version: int) -> tuple[MouState, VersionState]:
        state = self.state(mou)
        found = next((v for v in state.versions if v.version == version), None)
        if found is None:
            known = ", ".join(str(v.version) for v in state.versions)
            raise UnknownMou(f"MOU {mou!r} has no version {version} (versions: {known})", field="version")
        return state, found

    def enforced_texts(self, index: InventoryIndex | None) -> EnforcedTexts:
        """For the reloader: each MOU's enforced version now, and the set after the next version's start."""
        now = self.clock.now()
        current: dict[str, Revision] = {}
        upcoming: list[tuple[datetime, str, Revision]] = []
        for mou, facts in sorted(self.repo.all().items()):
            state = self.state_of(facts, now, index)
            enforced_now, nxt = enforced(state)
            if enforced_now is not None:
                current[mou] = enforced_now.current
            if nxt is not None and nxt.start is not None:
                upcoming.append((nxt.start, mou, nxt.current))
        texts = [(_name(r), r.text.encode("utf-8")) for r in current.values()]
        if not upcoming:
            return EnforcedTexts(texts)
        at = min(u[0] for u in upcoming)
        then = dict(current) | {mou: rev for start, mou, rev in upcoming if start == at}
        return EnforcedTexts(texts, at, [(_name(r), r.text.encode("utf-8")) for r in then.values()])


def _name(rev: Revision) -> str:
    """The name a stored version's warnings and digests go by: its file, or ``<mou>@v<version>.yaml``."""
    return rev.name if rev.imported else f"{rev.mou}@v{rev.version}.yaml"
