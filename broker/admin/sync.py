"""Inventory sync: ask each camera system for its cameras, merge them into the inventory, review or apply.

One run, the same for ``camgate inventory sync`` and the broker's periodic task:

1. read the inventory file and validate it (an invalid inventory is refused: fix it first);
2. ask every selected :class:`~broker.adapterapi.Discoverable` system for its cameras, at once
   (:mod:`broker.inventory.discovery`); a system that fails keeps its cameras as they are;
3. merge (:func:`broker.inventory.merge.merge`): the new text, its unified diff, what changed per system;
4. record each system's result for ``GET /api/v1/systems`` (``system_status``);
5. record ``inventory.sync`` on the audit chain (counts, per-system results, the diff's SHA-256, the file's
   SHA-256 before and after) and, when applying, write the file atomically (:mod:`broker.admin.filewrite`):
   no record, no change. The running broker serves the new file after a reload (``camgate reload``; the
   periodic task reloads by itself).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from broker.adapterapi import SystemSpec
from broker.admin.filewrite import replace_if_unchanged, sha256
from broker.audit import AuditLog
from broker.clock import Clock
from broker.documents.loader import parse_inventory
from broker.errors import InvalidRequest, StoreUnavailable
from broker.inventory.adapters import build_adapter
from broker.inventory.discovery import SystemResult, discover_all
from broker.inventory.merge import MergeResult, merge
from broker.store.systems import SystemStatus, SystemStatusRepository

log = logging.getLogger("camgate.sync")
MAX_IDS = 50  # camera ids per list kept in the audit record (the counts are always complete)


@dataclass
class SyncOutcome:
    trigger: str
    results: list[SystemResult]
    merged: MergeResult
    applied: bool = False  # the new inventory was written
    before: str = ""  # SHA-256 of the file read
    after: str = ""  # SHA-256 of the text merged (equal to before when nothing changed)
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[SystemResult]:
        return [r for r in self.results if r.error is not None]

    def details(self, apply: bool) -> dict[str, Any]:
        systems: dict[str, Any] = {}
        for r in self.results:
            entry = {k: v for k, v in r.to_dict().items() if k != "system"}
            changes = self.merged.systems.get(r.system)
            if changes is not None:
                entry |= {k: (v[:MAX_IDS] if isinstance(v, list) else v) for k, v in changes.to_dict().items()}
            systems[r.system] = entry
        diff_lines = sum(1 for line in self.merged.diff.splitlines() if line[:1] in "+-" and line[:3] not in "+++---")
        return {"trigger": self.trigger, "apply": apply, "applied": self.applied, "changed": self.merged.changed,
                "before": self.before, "after": self.after, "diff_sha256": self.merged.diff_sha256,
                "diff_lines": diff_lines, "counts": self.merged.counts(), "systems": systems,
                "problems": self.problems}  # fmt: skip


class InventorySync:
    def __init__(
        self, path: Path, audit: AuditLog, statuses: SystemStatusRepository, clock: Clock, timeout: float,
        builder: Callable[[SystemSpec], object] = build_adapter,
    ) -> None:  # fmt: skip
        self.path, self.audit, self.statuses, self.clock = path, audit, statuses, clock
        self.timeout, self.builder = timeout, builder
        self._lock = asyncio.Lock()

    async def run(
        self, *, apply: bool, trigger: str, systems: Sequence[str] | None = None, who: dict[str, Any] | None = None
    ) -> SyncOutcome:
        """One sync. Raises DocumentError (the inventory on disk is invalid), InvalidRequest (``systems`` names
        an unknown system), MergeError, Conflict (the file changed meanwhile), AuditUnavailable."""
        async with self._lock:
            raw = await asyncio.to_thread(self.path.read_bytes)
            text = raw.decode("utf-8")
            inv = parse_inventory(text, str(self.path))
            specs = [SystemSpec(s.id, s.adapter, s.base_url, s.settings) for s in inv.systems]
            if systems:
                unknown = sorted(set(systems) - {s.id for s in specs})
                if unknown:
                    known = ", ".join(s.id for s in specs) or "(none)"
                    raise InvalidRequest(f"unknown system {', '.join(unknown)}; the inventory has: {known}",
                                         field="system")  # fmt: skip
                specs = [s for s in specs if s.id in systems]
            results = await discover_all(specs, self.timeout, self.builder)
            listed = {r.system: r.cameras for r in results if r.cameras is not None}
            merged = merge(text, listed, self.clock.now(), name=self.path.name)
            outcome = SyncOutcome(trigger, results, merged, before=sha256(raw),
                                  after=sha256(merged.text.encode("utf-8")), problems=merged.problems)  # fmt: skip
            await asyncio.to_thread(self._finish, outcome, raw, apply, who or {})
            return outcome

    def _finish(self, outcome: SyncOutcome, raw: bytes, apply: bool, who: dict[str, Any]) -> None:
        self._record_statuses(outcome.results)

        def record() -> None:
            self.audit.append("inventory.sync", **who, details=outcome.details(apply))

        if not (apply and outcome.merged.changed):
            record()
            return

        def record_applied() -> None:
            outcome.applied = True
            try:
                record()
            except BaseException:
                outcome.applied = False
                raise

        replace_if_unchanged(self.path, outcome.merged.text.encode("utf-8"), sha256(raw), record_applied)
        c = outcome.merged.counts()
        log.info("inventory sync (%s) applied to %s: %d added, %d flagged missing, %d back", outcome.trigger,
                 self.path, c["added"], c["flagged"], c["unflagged"])  # fmt: skip

    def _record_statuses(self, results: list[SystemResult]) -> None:
        now = self.clock.now()
        rows = [_status(r, now) for r in results if r.discoverable or r.error is not None]
        try:
            self.statuses.record(rows)
        except StoreUnavailable as exc:  # health is for reading; the sync itself goes on
            log.warning("inventory sync: system status not recorded: %s", exc.message)


def _status(r: SystemResult, now: datetime) -> SystemStatus:
    discovered = len(r.cameras) if r.cameras is not None else None
    ok_at = now if r.listed else None
    return SystemStatus(r.system, r.adapter, now, ok_at, r.reachable, r.authentication_ok, discovered, r.error)
