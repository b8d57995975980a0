"""Every long-lived part of a running broker, built once by the app factory and wired one way."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx

from broker.admin.emergencies import EmergencyService
from broker.audit import AuditLog
from broker.clock import Clock, SystemClock
from broker.enforcement.guard import Guard
from broker.enforcement.proxy import StreamProxy
from broker.enforcement.segcache import SegmentCache
from broker.enforcement.sessions import SessionTracker
from broker.enforcement.streamtoken import StreamTokenSigner
from broker.errors import ConfigError
from broker.identity import DevIssuer, TokenVerifier
from broker.inventory.adapters import AdapterPool
from broker.inventory.catalog import Catalog
from broker.settings import Settings
from broker.store import EmergencyRepository, Store

log = logging.getLogger("camgate")


@dataclass
class Services:
    settings: Settings
    clock: Clock
    store: Store
    catalog: Catalog
    audit: AuditLog
    emergencies: EmergencyService
    guard: Guard
    sessions: SessionTracker
    proxy: StreamProxy
    verifier: TokenVerifier
    pool: AdapterPool
    dev_issuer: DevIssuer | None = None
    extras: dict[str, object] = field(default_factory=dict)

    def tick(self) -> None:
        """Periodic housekeeping (also called by tests after moving the clock)."""
        if not self.audit.probe():  # fail closed for open sessions too; the rest needs the log anyway
            return
        self.emergencies.sweep()
        self.sessions.sweep()

    async def aclose(self) -> None:
        self.sessions.close_all()
        await self.pool.aclose()
        await self.verifier.aclose()
        self.store.dispose()


def build_services(
    settings: Settings, *, clock: Clock | None = None, http: httpx.AsyncClient | None = None
) -> Services:
    clock = clock or SystemClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    catalog = Catalog.load(settings.policy.inventory, settings.policy.mous, settings.policy.model)
    store = Store.open(settings.database_url, schema=settings.store.schema_)
    store.create_all()
    audit = AuditLog(store, clock, max_batch=settings.audit.group_commit.max_batch)
    issuers = list(settings.identity.issuers)
    dev = None
    if settings.identity.dev_issuer is not None:
        if settings.mode != "dev":  # the built-in issuer signs anything asked of it: demo only
            raise ConfigError("identity.dev_issuer is for dev mode only")
        dev = DevIssuer.load_or_create(settings.data_dir, settings.identity.dev_issuer)
        issuers.append(dev.issuer_config())
    verifier = TokenVerifier(issuers, clock, http)
    emergencies = EmergencyService(
        EmergencyRepository(store), audit, lambda: services.catalog, clock, settings.emergencies
    )
    guard = Guard(lambda: services.catalog, emergencies, audit, clock)
    sessions = SessionTracker(audit, clock, settings.streams.session_idle_seconds)
    pool = AdapterPool(catalog.system_specs())
    proxy = StreamProxy(
        guard, sessions, pool, StreamTokenSigner(settings.stream_secret(), clock),
        SegmentCache(settings.streams.cache_bytes, clock=clock), clock, settings.streams,
    )  # fmt: skip
    services = Services(
        settings, clock, store, catalog, audit, emergencies, guard, sessions, proxy, verifier, pool, dev
    )
    log.info("camgate: %d cameras, %d MOUs, %d policy lines, store %s", len(catalog.inventory.cameras),
             len(catalog.mous), catalog.pdp.policy.lines, store.description)  # fmt: skip
    return services
