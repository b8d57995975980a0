"""Emergencies: declare in one action, end, expire by the clock; every step on the audit chain.

Ordering is what keeps it honest:
- declare: the audit record is written *first*; no record, no emergency (fail closed, 503).
- end: the end is stored first (ending only ever removes access), then recorded; if the audit write fails
  the emergency stays ``closed_recorded = false`` and :meth:`sweep` records it later.
- expiry: :meth:`sweep` records every emergency whose time ran out (the PDP never needed the record:
  coverage already stops at ``expires_at``).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Callable
from typing import Any

from broker.admin.declaration import Declaration, check_declaration, may_end
from broker.audit import AuditLog, principal_fields
from broker.clock import Clock
from broker.errors import (
    AuditUnavailable,
    CamgateError,
    InvalidRequest,
    PermissionDenied,
    StoreUnavailable,
    UnknownEmergency,
)
from broker.inventory.catalog import Catalog
from broker.policy import EmergencyView, GeoPoint, Principal
from broker.settings import EmergencySettings
from broker.store.emergencies import EmergencyRecord, EmergencyRepository
from broker.timeutil import format_instant

log = logging.getLogger(__name__)

# Called as fn(kind, record, details) after each transition's audit record (kind: emergency.declare, .extend,
# .confirm, .end, .expire); exceptions are logged and swallowed, so a listener can never undo a transition.
Listener = Callable[[str, EmergencyRecord, dict[str, Any]], None]


def view(rec: EmergencyRecord) -> EmergencyView:
    center = (
        GeoPoint(rec.center_lat, rec.center_lon) if rec.center_lat is not None and rec.center_lon is not None else None
    )
    return EmergencyView(
        id=rec.id, mou=rec.mou, site=rec.site, declared_at=rec.declared_at, expires_at=rec.expires_at,
        ended_at=rec.ended_at, buildings=frozenset(rec.buildings), zones=frozenset(rec.zones), center=center,
        radius_m=rec.radius_m,
    )  # fmt: skip


def to_json(rec: EmergencyRecord, now: Any) -> dict[str, Any]:
    status = (
        "active" if rec.active_at(now) else ("ended" if rec.ended_at and rec.ended_at < rec.expires_at else "expired")
    )
    return {
        "id": rec.id, "mou": rec.mou, "site": rec.site, "buildings": list(rec.buildings), "zones": list(rec.zones),
        "center": {"lat": rec.center_lat, "lon": rec.center_lon} if rec.center_lat is not None else None,
        "radius_m": rec.radius_m, "threat": rec.threat, "incident": rec.incident,
        "declared_at": format_instant(rec.declared_at), "expires_at": format_instant(rec.expires_at),
        "ended_at": format_instant(rec.ended_at), "status": status,
        "declared_by": {"sub": rec.declared_by_sub, "agency": rec.declared_by_agency},
        "ended_by": {"sub": rec.ended_by_sub, "agency": rec.ended_by_agency} if rec.ended_by_sub else None,
    }  # fmt: skip


class EmergencyService:
    def __init__(
        self, repo: EmergencyRepository, audit: AuditLog, catalog: Callable[[], Catalog], clock: Clock,
        cfg: EmergencySettings,
    ) -> None:  # fmt: skip
        self.repo, self.audit, self.catalog, self.clock, self.cfg = repo, audit, catalog, clock, cfg
        self._lock = threading.Lock()
        self._by_site: dict[str, tuple[EmergencyView, ...]] = {}
        self._generation = -1
        self._checked_at: float | None = None
        self.listeners: list[Callable[[str, EmergencyRecord, dict[str, Any]], None]] = []

    # -- what the PDP sees ---------------------------------------------------------------------------
    def views_for(self, site: str) -> tuple[EmergencyView, ...]:
        """Emergencies at ``site`` in declaration order (the PDP uses the first covering one)."""
        self._refresh()
        return self._by_site.get(site, ())

    def refresh_due(self) -> bool:
        """Whether the next :meth:`views_for` would read the store (async callers do that in a thread)."""
        checked = self._checked_at
        return checked is None or self.clock.now().timestamp() - checked >= self.cfg.refresh_seconds

    def refresh(self) -> None:
        self._refresh()

    def changed(self) -> None:
        """Another replica changed the set (PostgreSQL NOTIFY): re-read now instead of at the next poll."""
        self._checked_at = None
        self._refresh()

    def _refresh(self, force: bool = False) -> None:
        if not force and not self.refresh_due():
            return
        now = self.clock.now().timestamp()
        with self._lock:
            generation = self.repo.generation()
            if force or generation != self._generation:
                records = self.repo.list(active_at=self.clock.now())
                by_site: dict[str, list[EmergencyView]] = {}
                for rec in sorted(records, key=lambda r: (r.declared_at, r.id)):
                    by_site.setdefault(rec.site, []).append(view(rec))
                self._by_site = {s: tuple(v) for s, v in by_site.items()}
                self._generation = generation
            self._checked_at = now

    # -- administration ------------------------------------------------------------------------------
    def declare(self, principal: Principal, body: Declaration, client: str | None) -> EmergencyRecord:
        catalog = self.catalog()
        mou = catalog.mous.get(body.mou)
        if mou is None:
            raise InvalidRequest(f"unknown MOU {body.mou!r}", field="mou")
        now = self.clock.now()
        duration = check_declaration(
            body, mou, principal, sites=catalog.sites_of(mou), buildings=catalog.buildings(body.site), cfg=self.cfg
        )
        if not catalog.pdp.policy.mous[mou.mou].in_effect(now):
            raise InvalidRequest(f"MOU {mou.mou} is not in effect", field="mou")
        rec = EmergencyRecord(
            id=f"em-{secrets.token_hex(6)}", mou=mou.mou, site=body.site, buildings=tuple(body.buildings),
            zones=tuple(body.zones), center_lat=body.center.lat if body.center else None,
            center_lon=body.center.lon if body.center else None, radius_m=body.radius_m, threat=body.threat,
            incident=body.incident, declared_at=now, expires_at=now + duration, ended_at=None,
            declared_by_sub=principal.sub, declared_by_agency=principal.agency, ended_by_sub=None,
            ended_by_agency=None,
        )  # fmt: skip
        # FERPA 34 CFR 99.32(a)(5): record the articulable and significant threat and to whom disclosed.
        details = {"emergency": to_json(rec, now), "recipients": list(mou.parties.recipients)}
        self.audit.append(
            "emergency.declare", **principal_fields(principal), client=client, mou=mou.mou, emergency=rec.id,
            details=details,
        )  # fmt: skip
        try:
            self.repo.insert(rec)
        except Exception as exc:
            # The declaration is on the chain but never took effect: say so, so the log does not mislead.
            with contextlib.suppress(AuditUnavailable):
                self.audit.append("emergency.declare_failed", **principal_fields(principal), client=client, mou=mou.mou,
                                  emergency=rec.id, details={"error": type(exc).__name__})  # fmt: skip
            if isinstance(exc, CamgateError):
                raise
            raise StoreUnavailable("the emergency could not be stored") from exc
        self._refresh(force=True)
        self._emit("emergency.declare", rec, details)
        return rec

    def end(self, principal: Principal, emergency_id: str, client: str | None) -> EmergencyRecord:
        rec = self.repo.get(emergency_id)
        if rec is None:
            raise UnknownEmergency(f"no emergency {emergency_id!r}")
        mou = self.catalog().mous.get(rec.mou)
        if mou is None or not may_end(mou, principal, (rec.declared_by_sub, rec.declared_by_agency)):
            raise PermissionDenied(
                f"only the declarer or those named in MOU {rec.mou} emergency.end may end it",
                reason="not_authorized_to_end",
            )
        ended = self.repo.end(emergency_id, ended_at=self.clock.now(), by_sub=principal.sub, by_agency=principal.agency)
        self._refresh(force=True)
        # Ending removes access, so it stands even when the record fails; the sweep records it later.
        with contextlib.suppress(AuditUnavailable):
            self._record_close(ended, "emergency.end", principal, client)
        return ended

    def get(self, emergency_id: str) -> EmergencyRecord:
        rec = self.repo.get(emergency_id)
        if rec is None:
            raise UnknownEmergency(f"no emergency {emergency_id!r}")
        return rec

    def sweep(self) -> int:
        """Record every end or expiry not yet on the audit chain. Returns how many were recorded."""
        n = 0
        for rec in self.repo.unrecorded_closed(self.clock.now()):
            ended_early = rec.ended_at is not None and rec.ended_at < rec.expires_at
            kind = "emergency.end" if ended_early else "emergency.expire"
            who = (
                Principal.of(rec.ended_by_sub, rec.ended_by_agency or "", ())
                if ended_early and rec.ended_by_sub
                else None
            )
            self._record_close(rec, kind, who, None)
            n += 1
        if n:
            self._refresh(force=True)
        return n

    def _record_close(self, rec: EmergencyRecord, kind: str, who: Principal | None, client: str | None) -> None:
        details = {"emergency": to_json(rec, self.clock.now())}
        self.audit.append(
            kind, **(principal_fields(who) if who else {}), client=client, mou=rec.mou, emergency=rec.id,
            details=details,
        )  # fmt: skip
        self._emit(kind, rec, details)
        self.repo.mark_closed_recorded(rec.id)

    def _emit(self, kind: str, rec: EmergencyRecord, details: dict[str, Any]) -> None:
        """Tell every listener about a transition already on the audit chain; a failing listener changes nothing."""
        for fn in list(self.listeners):
            try:
                fn(kind, rec, details)
            except Exception:
                log.exception("emergency listener %r failed on %s %s", fn, kind, rec.id)
