"""Every long-lived part of a running broker, built once by the app factory and wired one way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from starlette.concurrency import run_in_threadpool

from broker.adapterapi import CameraSystemAdapter
from broker.admin.classify import ClassificationService, read_classified
from broker.admin.emergencies import EmergencyService
from broker.admin.mous.moments import record_moments
from broker.admin.mous.notices import MouNotices
from broker.admin.mous.registry import MouRegistry
from broker.admin.mous.roster import attach_rosters
from broker.admin.mous.rosterdoc import roster_document
from broker.admin.mous.rosterservice import RosterService
from broker.admin.mous.service import MouService
from broker.admin.mous.source import StoreRead, store_documents
from broker.admin.positions import PositionService
from broker.admin.reload import Reloader, ReloadOutcome
from broker.admin.sync import InventorySync, SyncOutcome
from broker.admin.triggers import TriggerService
from broker.api.events import EventHub
from broker.api.streamcaps import StreamCaps
from broker.audit import AuditLog
from broker.audit.checkpoints import public_key_text
from broker.audit.keys import KeyRing, load_keyring
from broker.audit.rebind import bind_legacy_rows
from broker.audit.records import Actor
from broker.audit.refusallog import RefusalLog
from broker.audit.retention import Retention
from broker.audit.signer import CheckpointSigner
from broker.audit.verify_store import StoreVerifier
from broker.clock import Clock, SystemClock
from broker.documents import DocumentSet, load_documents
from broker.documents.loader import InventoryRead, read_documents_over
from broker.enforcement.guard import Guard
from broker.enforcement.proxy import StreamProxy
from broker.enforcement.recovery import SessionRecovery, replica_id
from broker.enforcement.segcache import SegmentCache
from broker.enforcement.sessions import SessionTracker
from broker.enforcement.streamtoken import StreamTokenSigner
from broker.errors import CamgateError, ConfigError
from broker.gateway import Gateway, GatewayAdapter, gateway_loader
from broker.gateway.space import DiskGuard
from broker.identity import DevIssuer, TokenVerifier
from broker.identity.oidc import LoginCache, SignIn
from broker.identity.sessions import ConsoleSessions
from broker.inventory.adapters import AdapterPool, close_adapters, load_adapter
from broker.inventory.catalog import Catalog, LiveCatalog
from broker.inventory.positions import PositionBook
from broker.inventory.validate import open_pool
from broker.notify.config import resolve
from broker.notify.dispatcher import Dispatcher
from broker.notify.notices import Notifier
from broker.notify.witness_config import resolve_witnesses
from broker.notify.witnesses import WitnessNotifier
from broker.private import private_dir
from broker.settings import Settings
from broker.store import EmergencyRepository, Store
from broker.store.changes import ChangeListener
from broker.store.classifications import ClassificationRepository
from broker.store.console import ConsoleRepository
from broker.store.generations import DocumentGenerations
from broker.store.mous import MouRepository
from broker.store.outbox import OutboxRepository
from broker.store.positions import PositionRepository
from broker.store.rosters import RosterRepository
from broker.store.systems import SystemStatusRepository
from broker.store.triggers import TriggerRepository
from broker.store.viewing import ViewingRepository

log = logging.getLogger("camgate")
RETIRED_ADAPTER_GRACE_SECONDS = 60.0  # a replaced adapter is closed once requests already using it are done
MOU_MOMENTS_SECONDS = 30.0  # how often MOU moments are looked for without a swap of the live catalog


@dataclass
class Services:
    settings: Settings
    clock: Clock
    store: Store
    live: LiveCatalog
    audit: AuditLog
    emergencies: EmergencyService
    guard: Guard
    sessions: SessionTracker
    proxy: StreamProxy
    verifier: TokenVerifier
    pool: AdapterPool
    reloader: Reloader
    dev_issuer: DevIssuer | None = None
    console: ConsoleSessions | None = None  # web console sessions (cookie) and OIDC sign-in
    signin: SignIn | None = None
    events: EventHub = field(default_factory=lambda: EventHub(256))  # GET /api/v1/events subscribers
    changes: ChangeListener | None = None  # PostgreSQL: other replicas' emergency changes at once
    dispatcher: Dispatcher | None = None  # delivers webhook notices (None: no webhook configured)
    triggers: TriggerService | None = None
    positions: PositionService | None = None
    gateway: Gateway | None = None  # RTSP cameras repackaged to HLS (broker/gateway/)
    syncer: InventorySync | None = None  # inventory sync (CLI and periodic) and the systems' last results
    recovery: SessionRecovery | None = None  # ends the viewing sessions of broker processes that died
    witnesses: WitnessNotifier | None = None  # queues each signed checkpoint for audit.witnesses (a signer listener)
    keys: KeyRing | None = None  # the checkpoint signing key and the public keys that verify checkpoints
    signer: CheckpointSigner | None = None  # signs the audit chain's head (interval and on demand)
    retention: Retention | None = None  # prunes records older than audit.retention_days, through signed prunes
    extras: dict[str, object] = field(default_factory=dict)
    refusals: RefusalLog | None = None  # refused requests, counted per source and minute (broker/audit/refusals.py)
    mous: MouService | None = None  # MOUs kept by the broker: drafts, countersignature, termination (issue 14)
    rosters: RosterService | None = None  # the MOUs' rosters of named users (issue 14, item 5)
    classifier: ClassificationService | None = None  # school IT classifies cameras (issue 14, item 7)
    _retired: list[tuple[float, list[CameraSystemAdapter]]] = field(default_factory=list)
    _mou_checked_at: datetime | None = None
    _mou_promoted: int = 0
    _gateway_task: asyncio.Task[None] | None = None

    @property
    def catalog(self) -> Catalog:
        """The catalog in force now (read it once per request: a reload may replace it at any time)."""
        return self.live.catalog

    def tick(self) -> None:
        """Periodic housekeeping (also called by tests after moving the clock)."""
        if not self.audit.probe():  # fail closed for open sessions too; the rest needs the log anyway
            return
        if self.recovery is not None:
            self.recovery.tick()  # this replica is alive; the sessions of those that died get their end
        self.emergencies.sweep()
        if self.console is not None:
            self.console.purge()
        self.events.follow(self.emergencies.repo, self.clock.now())  # other replicas' transitions, streamed
        self.sessions.sweep()
        self.sessions.revalidate(self.guard.decide)  # cut-off everywhere: ended, expired, out of effect
        self.reloader.follow()  # a reload applied by another replica (or not yet recorded here)
        self.mou_moments()  # MOU versions that came into force, MOUs about to expire (issue 14)
        if self.refusals is not None:
            self.refusals.flush()  # the refusals of every minute that is over
        if self.triggers is not None:
            self.triggers.prune()  # delivery ids no redelivery can use any more (hourly)
        if self.signer is not None:
            self.signer.tick()  # a signed checkpoint of the chain's head, when it grew (interval_seconds)
        if self.retention is not None:
            self.retention.tick()  # once a day, in a thread of its own

    def mou_moments(self, *, now: bool = False) -> None:
        """Record MOU versions that came into force and MOUs about to expire (broker/admin/mous/moments.py): at a
        swap of the live catalog to an upcoming one, every ``MOU_MOMENTS_SECONDS``, or ``now``. A version that
        came into force here is then reloaded everywhere (the version after it, if any, gets scheduled)."""
        if self.mous is None or self.settings.mous.source != "store":
            return
        promoted = self.live.promoted
        at = self.clock.now()
        due = self._mou_checked_at is None or (at - self._mou_checked_at).total_seconds() >= MOU_MOMENTS_SECONDS
        if not (now or due or promoted != self._mou_promoted):
            return
        self._mou_checked_at, self._mou_promoted = at, promoted
        if record_moments(self.mous) and not now:
            self.reloader.reload("mou.in_force")

    async def reload(self, trigger: str, actor: Actor | None = None, client: str | None = None) -> ReloadOutcome:
        """Re-read and apply the documents off the event loop (raises DocumentError, AuditUnavailable, ...)."""
        try:
            return await run_in_threadpool(self.reloader.reload, trigger, actor, client)
        finally:
            self.retire_adapters()

    async def sync_inventory(self, trigger: str = "periodic") -> SyncOutcome:
        """Sync and apply the inventory, then reload it when it changed (the periodic task; raises as
        :meth:`InventorySync.run` and :meth:`reload` do)."""
        assert self.syncer is not None
        outcome = await self.syncer.run(apply=True, trigger=trigger, who={"principal_sub": "camgate:inventory-sync"})
        if outcome.applied:
            await self.reload("inventory-sync")
        return outcome

    def retire_adapters(self) -> None:
        """Queue adapters replaced by reloads for closing after a grace period (see close_retired)."""
        retired = self.reloader.take_retired()
        if retired:
            self._retired.append((asyncio.get_running_loop().time() + RETIRED_ADAPTER_GRACE_SECONDS, retired))

    async def close_retired(self, *, force: bool = False) -> None:
        now = asyncio.get_running_loop().time()
        due = [a for deadline, batch in self._retired if force or deadline <= now for a in batch]
        self._retired = [(d, b) for d, b in self._retired if not (force or d <= now)]
        if due:
            await close_adapters(due)

    def start(self) -> None:
        """Start the background parts (run by the app's lifespan)."""
        if self.store.dialect_name == "postgresql" and self.changes is None:
            self.changes = ChangeListener(self.store, self.emergencies.changed)
            self.changes.start()
        if self.gateway is not None and self._gateway_task is None:
            self._gateway_task = asyncio.get_running_loop().create_task(self.gateway.run())

    def gateway_status(self, system_id: str) -> dict[str, object] | None:
        """The RTSP gateway's status of a system (processes, viewers, restarts, last error; no URL, no
        credential), or None when the system is not an RTSP one."""
        if self.gateway is None or system_id not in self.pool:
            return None
        if not isinstance(self.pool.get(system_id), GatewayAdapter):
            return None
        live = self.sessions.viewers("live")
        refs = {c.id: c.ref for c in self.catalog.inventory.cameras if c.system == system_id and c.ref}
        viewers: dict[str, int] = {}
        for camera, count in live.items():
            if camera in refs:
                viewers[refs[camera]] = viewers.get(refs[camera], 0) + count
        return self.gateway.status(system_id, viewers)

    async def aclose(self) -> None:
        self.events.close_all()
        if self.changes is not None:
            await run_in_threadpool(self.changes.stop)
        await run_in_threadpool(self.sessions.close_all)
        if self.recovery is not None:
            with contextlib.suppress(CamgateError):
                await run_in_threadpool(self.recovery.repo.leave)
        if self._gateway_task is not None:
            self._gateway_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._gateway_task
        if self.gateway is not None:
            await self.gateway.aclose()  # every ffmpeg stopped, the work directories deleted
        self.retire_adapters()
        await self.close_retired(force=True)
        await self.pool.aclose()
        await self.verifier.aclose()
        if self.dispatcher is not None:
            await self.dispatcher.aclose()
        if self.refusals is not None:
            with contextlib.suppress(CamgateError):  # logged by the flush; nothing more can be done now
                await run_in_threadpool(self.refusals.flush, final=True)
        self.store.dispose()


def classifier_of(
    settings: Settings,
    registry: MouRegistry,
    repo: ClassificationRepository,
    audit: AuditLog,
    live: LiveCatalog,
    clock: Clock,
) -> ClassificationService:
    """Camera classification (issue 14, item 7), validated against the documents a reload would read."""
    inventory, mous = settings.policy.inventory, settings.policy.mous

    def documents(read: InventoryRead) -> DocumentSet:
        if settings.mous.source == "store":
            return store_documents(registry, inventory, read)[0]
        return read_documents_over(read, inventory, mous)

    return ClassificationService(inventory, settings.mous.source, documents, repo, audit, lambda: live.catalog, clock)


def build_services(
    settings: Settings, *, clock: Clock | None = None, http: httpx.AsyncClient | None = None
) -> Services:
    clock = clock or SystemClock()
    private_dir(settings.data_dir)  # 0700 (broker.private)
    store = Store.open(settings.database_url, schema=settings.store.schema_)
    store.create_all()
    live_ref: list[LiveCatalog] = []
    registry = MouRegistry(MouRepository(store), lambda: live_ref[0].catalog.index, clock)
    classifications = ClassificationRepository(store)
    source = None
    upcoming = None
    model_text = settings.policy.model.read_text(encoding="utf-8")
    roster_repo = RosterRepository(store)

    def with_rosters(read: DocumentSet) -> None:  # issue 14, item 5: the rosters in force, compiled in
        attach_rosters(read, roster_repo.all())

    if settings.mous.source == "store":  # issue 14: the store's enforced MOU versions, not policy.mous' files
        inventory = settings.policy.inventory

        def source() -> StoreRead:  # with the store's camera classifications on top of the file (issue 14, item 7)
            return store_documents(registry, inventory, read_classified(inventory, classifications))

        docs, later, at = source()
        docs.raise_for_issues()
        if later is not None and at is not None and not later.issues:
            with_rosters(later)
            upcoming = (at, Catalog.from_documents(later, model_text))
        if not docs.mous:
            log.warning("no MOU is in force in the store: nothing is shared (camgate mou import DIR)")
    else:
        docs = load_documents(settings.policy.inventory, settings.policy.mous)  # DocumentError: FILE:LINE, exit 2
    with_rosters(docs)
    catalog = Catalog.from_documents(docs, model_text)
    for warning in catalog.warnings(clock.now()):  # loaded all the same; said at start-up as reload says them
        log.warning("%s", warning.text())
    bind_legacy_rows(store)  # rows from before schema 2 bound to their audit records (once; cheap when none)
    viewing = ViewingRepository(store, replica_id())
    audit = AuditLog(
        store,
        clock,
        max_batch=settings.audit.group_commit.max_batch,
        write_timeout=settings.audit.write_timeout_seconds,
        reserve_bytes=settings.audit.reserve_bytes,
        hooks={"session.start": viewing.on_start, "session.end": viewing.on_end},
    )
    issuers = list(settings.identity.issuers)
    dev = None
    if settings.identity.dev_issuer is not None:
        if settings.mode != "dev":  # the built-in issuer signs anything asked of it: demo only
            raise ConfigError("identity.dev_issuer is for dev mode only")
        dev = DevIssuer.load_or_create(settings.data_dir, settings.identity.dev_issuer)
        issuers.append(dev.issuer_config())
    verifier = TokenVerifier(issuers, clock, http)
    live = LiveCatalog(catalog, DocumentGenerations(store).current(), clock)
    live.install(catalog, live.generation, upcoming)
    live_ref.append(live)
    trigger_repo = TriggerRepository(store)
    refusals = RefusalLog(audit, clock, settings.audit.refusals.max_keys_per_minute)
    emergencies = EmergencyService(
        EmergencyRepository(store), audit, lambda: live.catalog, clock, settings.emergencies, trigger_repo
    )
    book = PositionBook(
        clock,
        settings.triggers.position_max_age_seconds,
        PositionRepository(store),
        settings.emergencies.refresh_seconds,
    )
    guard = Guard(lambda: live.catalog, emergencies, audit, clock, book)
    sessions = SessionTracker(audit, clock, settings.streams.session_idle_seconds)
    keep_free = DiskGuard(2 * settings.audit.reserve_bytes, store.database_path)  # the audit's reserve and as much
    gateway = Gateway(settings.gateway, settings.gateway_dir, clock, disk=keep_free)
    inventory_name = str(settings.policy.inventory)  # a refused system: DocumentError, as validate and reload say
    pool = open_pool(docs, catalog.system_specs(), gateway_loader(load_adapter, gateway), inventory_name)
    gateway.bind(
        systems=pool.adapters,
        cameras=lambda system: [c.ref for c in live.catalog.inventory.cameras if c.system == system and c.ref],
    )
    proxy = StreamProxy(
        guard,
        sessions,
        pool,
        StreamTokenSigner(settings.stream_secret(), clock),
        SegmentCache(settings.streams.cache_bytes, clock=clock),
        clock,
        settings.streams,
    )
    reloader = Reloader(settings.policy, live, pool, DocumentGenerations(store), audit, clock, source, with_rosters)
    services = Services(
        settings,
        clock,
        store,
        live,
        audit,
        emergencies,
        guard,
        sessions,
        proxy,
        verifier,
        pool,
        reloader,
        dev,
        triggers=TriggerService(settings, emergencies, trigger_repo, audit, book, clock, refusals),
        positions=PositionService(settings, book, audit, clock, refusals),
        gateway=gateway,
        recovery=SessionRecovery(viewing, audit, clock, settings.audit.replica_timeout_seconds),
        refusals=refusals,
    )
    cps = settings.audit.checkpoints
    services.keys = load_keyring(
        cps.key_file, cps.old_keys, cps.witness_file, settings.data_dir, dev=settings.mode == "dev", create=True
    )
    if services.keys.signing is not None:
        services.signer = CheckpointSigner(
            store,
            services.keys.signing,
            clock,
            interval_seconds=cps.interval_seconds,
            witness_file=services.keys.witness_file,
            lock_timeout=settings.audit.write_timeout_seconds,
        )
        services.retention = Retention(
            store,
            audit,
            services.signer,
            StoreVerifier(store, services.keys),
            clock,
            settings.audit.retention_days,
            lock_timeout=settings.audit.write_timeout_seconds,
        )
    services.syncer = InventorySync(
        settings.policy.inventory, audit, SystemStatusRepository(store), clock, settings.inventory_sync.timeout_seconds
    )
    console_repo = ConsoleRepository(store)
    services.console = ConsoleSessions(
        console_repo,
        clock,
        absolute=timedelta(minutes=settings.console.session_absolute_minutes),
        idle=timedelta(minutes=settings.console.session_idle_minutes),
    )
    console = settings.console
    caps = StreamCaps(console.events_per_principal, console.events_max_streams, console.events_retry_after_seconds)
    services.events = EventHub(console.events_queue, caps)
    emergencies.listeners.append(services.events)
    sessions.listeners.append(services.events.viewing)  # who is watching under an emergency, streamed
    services.signin = SignIn(list(settings.identity.issuers), LoginCache(console_repo, clock))
    try:
        hooks = resolve(settings.notifications, dev=settings.mode == "dev", data_dir=settings.data_dir)
    except ValueError as exc:
        raise ConfigError(str(exc), field="notifications") from None
    try:
        witnesses = resolve_witnesses(settings.audit.witnesses, dev=settings.mode == "dev", data_dir=settings.data_dir)
    except ValueError as exc:
        raise ConfigError(str(exc), field="audit.witnesses") from None
    if hooks or witnesses:
        outbox = OutboxRepository(store)
        services.dispatcher = Dispatcher(outbox, audit, [*hooks, *witnesses], settings.notifications, clock)
    if hooks and services.dispatcher is not None:
        notifier = Notifier(outbox, hooks, lambda: live.catalog, clock, services.dispatcher.wake)
        emergencies.bound_listeners.append(notifier.queue)  # the rows in the transition's record's transaction
        emergencies.listeners.append(notifier)  # then the dispatcher is woken
    mou_notices = MouNotices(hooks, clock) if hooks and services.dispatcher is not None else None
    wake = services.dispatcher.wake if services.dispatcher is not None else (lambda: None)
    services.mous = MouService(registry, audit, settings.mous, mou_notices, wake)
    services.rosters = RosterService(roster_repo, audit, settings.mous, clock, roster_document(live, registry))
    services.classifier = classifier_of(settings, registry, classifications, audit, live, clock)
    if witnesses and services.dispatcher is not None:  # every signed checkpoint goes to the MOU parties' witnesses
        keys = services.keys

        def public_key(kid: str) -> str | None:
            public = keys.public_keys().get(kid) if keys is not None else None
            return None if public is None else public_key_text(public)

        services.witnesses = WitnessNotifier(outbox, witnesses, clock, services.dispatcher.wake, public_key)
        if services.signer is not None:
            services.signer.listeners.append(services.witnesses)
    log.info(
        "camgate: %d cameras, %d MOUs, %d policy lines, store %s",
        len(catalog.inventory.cameras),
        len(catalog.mous),
        catalog.pdp.policy.lines,
        store.description,
    )
    return services
