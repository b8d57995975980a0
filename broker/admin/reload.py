"""Live reload of the inventory and MOU documents, on this replica and, through the store, on every other.

One reload, in order (each step's failure leaves the running policy exactly as it was):

1. read every document and validate all of them; any problem refuses the whole set, answered with every
   problem as ``FILE:LINE: path.to.field: message``;
2. compile the policy and build adapters for new or changed camera systems (bad adapter settings refuse
   the reload, naming the system's line in the inventory);
3. record ``policy.reload`` on the audit chain with the SHA-256 of every document and, in the same
   transaction, announce the new document generation in the store, bound to that record (other replicas
   follow it, :meth:`Reloader.follow`). No record, no change: fail closed; the generation is then announced
   unbound, and this replica catches up with it on the next housekeeping tick, recording it;
4. (a replica following a generation records its own ``policy.reload``);
5. swap the catalog and the adapters in whole (:class:`~broker.inventory.catalog.LiveCatalog`).

Refused reloads are recorded too. The work is synchronous and meant for a worker thread, never the event
loop; reloads are serialised by a lock.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from broker.adapterapi import AdapterConfigError, CameraSystemAdapter
from broker.audit import AuditLog, AuditRecord, principal_fields
from broker.audit.records import Actor
from broker.clock import Clock, SystemClock
from broker.documents import DocumentSet, read_documents
from broker.errors import AuditUnavailable, DocumentError, StoreUnavailable
from broker.inventory.adapters import AdapterPool
from broker.inventory.catalog import Catalog, LiveCatalog
from broker.inventory.validate import system_issues
from broker.settings import PolicySettings
from broker.store.binding import Binding
from broker.store.generations import DocumentGenerations

if TYPE_CHECKING:
    from broker.admin.mous.source import StoreRead

log = logging.getLogger("camgate.reload")
MAX_RECORDED_ERRORS = 100  # a refused reload's record keeps the first errors (and the count)

FileIssue = tuple[str, int, str, str]


@dataclass(frozen=True)
class ReloadOutcome:
    """An applied reload: what is served now."""

    generation: int
    trigger: str
    documents: dict[str, str]  # file -> SHA-256
    digest: str
    cameras: int
    mous: int
    policy_lines: int
    seconds: float
    applied: bool = True
    systems_changed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # FILE:LINE: warning: ... (broker/documents/warnings.py)

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": "applied"} | {k: v for k, v in asdict(self).items() if k != "applied"}


class Reloader:
    def __init__(
        self,
        policy: PolicySettings,
        live: LiveCatalog,
        pool: AdapterPool,
        generations: DocumentGenerations,
        audit: AuditLog,
        clock: Clock | None = None,
        source: Callable[[], StoreRead] | None = None,
        rosters: Callable[[DocumentSet], None] | None = None,
    ) -> None:
        self.policy, self.live, self.pool, self.generations, self.audit = policy, live, pool, generations, audit
        # mous.source = "store" (issue 14): the MOUs are the store's enforced versions, not policy.mous' files
        self.source = source
        # issue 14, item 5: gives each document set the MOU rosters in force, read from the store (both sources)
        self.rosters = rosters
        self.clock = clock or SystemClock()  # "today", for the warnings of MOUs out of force
        self._lock = threading.Lock()
        self._retired: list[CameraSystemAdapter] = []
        self._refused_generation = -1  # a generation announced elsewhere that failed here: not retried

    # -- entry points ------------------------------------------------------------------------------

    def reload(self, trigger: str, actor: Actor | None = None, client: str | None = None) -> ReloadOutcome:
        """Re-read the documents and apply them. Raises DocumentError (refused, recorded), AuditUnavailable
        or StoreUnavailable (nothing changed)."""
        with self._lock:
            return self._reload(trigger, actor, client, generation=None)

    def follow(self) -> ReloadOutcome | None:
        """Apply a generation announced by another replica (or one this replica could not record yet)."""
        latest = self.generations.current()
        if latest <= self.live.generation or latest == self._refused_generation:
            return None
        with self._lock:
            if latest <= self.live.generation:  # applied meanwhile
                return None
            try:
                return self._reload("replica", None, None, generation=latest)
            except DocumentError:
                self._refused_generation = latest  # recorded once; a newer generation is tried again
                return None

    def take_retired(self) -> list[CameraSystemAdapter]:
        """Adapters that reloads replaced, for the caller to close once their requests are done."""
        with self._lock:
            retired, self._retired = self._retired, []
        return retired

    # -- the steps ---------------------------------------------------------------------------------

    def _reload(self, trigger: str, actor: Actor | None, client: str | None, generation: int | None) -> ReloadOutcome:
        started = time.perf_counter()
        later: DocumentSet | None = None
        at: datetime | None = None
        if self.source is not None:
            docs, later, at = self.source()
        else:
            docs = read_documents(self.policy.inventory, self.policy.mous)
        if self.rosters is not None:
            for read in (docs, later):
                if read is not None:
                    self.rosters(read)
        catalog, adapters, issues = self._compile(docs)
        upcoming = self._upcoming(later, at)
        who: dict[str, Any] = (principal_fields(actor) if actor is not None else {}) | {"client": client}
        if catalog is None or adapters is None:
            self._record_refusal(trigger, docs, issues, who)
            raise DocumentError(issues)
        changed = sorted(k for k, a in adapters.items() if self.pool_adapter(k) is not a)

        def outcome_for(generation: int) -> ReloadOutcome:
            return ReloadOutcome(
                generation=generation,
                trigger=trigger,
                documents=dict(catalog.documents),
                digest=catalog.digest,
                cameras=len(catalog.inventory.cameras),
                mous=len(catalog.mous),
                policy_lines=catalog.pdp.policy.lines,
                seconds=round(time.perf_counter() - started, 3),
                systems_changed=changed,
                warnings=[w.text() for w in catalog.warnings(self.clock.now())],
            )

        # No record, no change (fail closed): AuditUnavailable propagates and nothing is swapped.
        if generation is None:
            outcome = self._announce(outcome_for, who)
        else:
            outcome = outcome_for(generation)
            announced = outcome.generation

            def bind(conn: Connection, rec: AuditRecord) -> bool:  # a generation announced with no record yet
                return DocumentGenerations.bind_announced_in(conn, announced, Binding(rec.seq, rec.hash))

            self.audit.append_bound("policy.reload", bind, **who, details=outcome.to_dict())
        generation = outcome.generation
        self._retired += self.pool.install(adapters)
        self.live.install(catalog, generation, upcoming)
        for warning in outcome.warnings:
            log.warning("reload (%s): %s", trigger, warning)
        log.info(
            "reload (%s) applied: generation %d, %d cameras, %d MOUs, %d policy lines, %.3f s",
            trigger,
            generation,
            outcome.cameras,
            outcome.mous,
            outcome.policy_lines,
            outcome.seconds,
        )
        return outcome

    def _announce(self, outcome_for: Callable[[int], ReloadOutcome], who: dict[str, Any]) -> ReloadOutcome:
        """Record the reload and move the generation, bound to the record, in one transaction (other replicas
        follow the number). If the record cannot be written the generation is announced all the same, unbound:
        every replica, this one included, applies and records it once the log can be written (:meth:`follow`)."""
        planned: list[ReloadOutcome] = []

        def plan(conn: Connection) -> dict[str, Any]:
            planned.append(outcome_for(DocumentGenerations.read_in(conn) + 1))
            return {"details": planned[-1].to_dict()}

        def bind(conn: Connection, rec: AuditRecord) -> None:
            DocumentGenerations.advance_in(conn, planned[-1].generation, Binding(rec.seq, rec.hash))

        try:
            self.audit.append_bound("policy.reload", bind, plan=plan, **who)
        except AuditUnavailable:
            with contextlib.suppress(StoreUnavailable):
                self.generations.bump()
            raise
        return planned[-1]

    def _upcoming(self, later: DocumentSet | None, at: datetime | None) -> tuple[datetime, Catalog] | None:
        """The catalog an approved MOU version brings at its start (compiled now, swapped in then)."""
        if later is None or at is None:
            return None
        if later.issues or later.inventory is None:
            log.warning("the MOU version taking effect at %s does not validate; it is not scheduled", at)
            return None
        try:
            return at, Catalog.from_documents(later, self.policy.model.read_text(encoding="utf-8"))
        except Exception as exc:  # casbin refusing the model text was reported by _compile already
            log.warning("the MOU version taking effect at %s could not be compiled: %s", at, exc)
            return None

    def pool_adapter(self, system: str) -> CameraSystemAdapter | None:
        return self.pool.get(system) if system in self.pool else None

    def _compile(
        self, docs: DocumentSet
    ) -> tuple[Catalog | None, dict[str, CameraSystemAdapter] | None, list[FileIssue]]:
        if docs.issues or docs.inventory is None:
            return None, None, docs.issues
        try:
            model_text = self.policy.model.read_text(encoding="utf-8")
            catalog = Catalog.from_documents(docs, model_text)
        except OSError as exc:
            return None, None, [(str(self.policy.model), 0, "(model)", f"cannot read: {exc.strerror or exc}")]
        except Exception as exc:  # casbin refusing the model text
            return None, None, [(str(self.policy.model), 0, "(model)", f"invalid casbin model: {exc}")]
        try:
            return catalog, self.pool.prepare(catalog.system_specs()), []
        except AdapterConfigError as exc:  # every refused system, at its line (as camgate inventory validate says)
            return None, None, system_issues(exc, docs.inventory, docs.inventory_lines, str(self.policy.inventory))

    def _record_refusal(self, trigger: str, docs: DocumentSet, issues: list[FileIssue], who: dict[str, Any]) -> None:
        lines = DocumentError(issues).lines()
        log.warning("reload (%s) refused, the running policy is unchanged:\n%s", trigger, "\n".join(lines))
        details = {
            "outcome": "refused",
            "trigger": trigger,
            "generation": self.live.generation,
            "documents": docs.digests,
            "error_count": len(lines),
            "errors": lines[:MAX_RECORDED_ERRORS],
        }
        with contextlib.suppress(AuditUnavailable):  # the refusal stands either way; the log has it
            self.audit.append("policy.reload", **who, details=details)
