"""Emergencies: declare in one action, end, expire by the clock; every step on the audit chain.

Each transition writes its audit record and the emergency's row in one transaction
(:meth:`~broker.audit.AuditLog.append_bound`): the row carries the record's seq and hash, so the emergencies
table is bound to the chain and :mod:`broker.audit.bindings` catches a row changed without its record.
- declare, extend, confirm: no record, no change (fail closed, 503); a change the store refused after all
  is recorded as ``<kind>_failed``.
- end: recorded with the row when the audit log can be written. When it cannot, the end is stored anyway
  (ending only ever removes access) with ``closed_recorded = false``, and :meth:`sweep` records it later.
- expiry: :meth:`sweep` records every emergency whose time ran out (the PDP never needed the record:
  coverage already stops at ``expires_at``), and ends every trigger-declared emergency whose MOU asks for a
  confirmation (``emergency.confirm``) that did not come in time.
- extend: capped so that ``expires_at - declared_at <= max_duration``.

Every transition calls the :attr:`EmergencyService.bound_listeners` inside its record's transaction, as
``fn(conn, kind, record, details, audit_record)`` (e.g. the notices outbox, whose rows are bound to the record
too), each in a savepoint; then, after the commit, the :attr:`EmergencyService.listeners`, as
``fn(kind, record, details)`` (kind: emergency.declare / extend / confirm / end / expire). A listener's
exception is logged and swallowed, it never changes the transition.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from broker.admin.declaration import Declaration, check_declaration, may_end, not_authorized_to_declare
from broker.admin.ratelimit import check_rate
from broker.admin.views import may, new_id, to_json, view
from broker.audit import AuditLog, AuditRecord, principal_fields
from broker.clock import Clock
from broker.errors import (
    AuditUnavailable,
    Conflict,
    InvalidRequest,
    PermissionDenied,
    StoreUnavailable,
    UnknownEmergency,
)
from broker.inventory.catalog import Catalog
from broker.policy import EmergencyView, Principal
from broker.settings import EmergencySettings
from broker.store.binding import Binding
from broker.store.emergencies import EmergencyRecord, EmergencyRepository
from broker.store.triggers import TriggerOrigin, TriggerRepository
from broker.timeutil import format_instant

log = logging.getLogger("camgate")
#: Who ends an emergency that was not confirmed in time (``ended_by``).
SYSTEM_SUB, SYSTEM_AGENCY = "camgate:confirmation", "camgate"

#: Called inside a transition's record's transaction: (conn, kind, emergency, details, its audit record).
BoundListener = Callable[[Connection, str, EmergencyRecord, dict[str, Any], AuditRecord], None]
#: A transition read from the locked row: (the emergency after it, the transition's own details).
Change = Callable[[Connection], tuple[EmergencyRecord, dict[str, Any]]]
#: Stores the changed emergency with its binding; returns the row as stored.
Write = Callable[[Connection, EmergencyRecord, Binding], EmergencyRecord]


class EmergencyService:
    def __init__(
        self,
        repo: EmergencyRepository,
        audit: AuditLog,
        catalog: Callable[[], Catalog],
        clock: Clock,
        cfg: EmergencySettings,
        triggers: TriggerRepository | None = None,
    ) -> None:
        self.repo, self.audit, self.catalog, self.clock, self.cfg = repo, audit, catalog, clock, cfg
        self.triggers = triggers
        self.listeners: list[Callable[[str, EmergencyRecord, dict[str, Any]], None]] = []
        self.bound_listeners: list[BoundListener] = []
        self._lock = threading.Lock()
        self._by_site: dict[str, tuple[EmergencyView, ...]] = {}
        self._generation = -1
        self._checked_at: float | None = None

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
        with self._lock:
            if not force and not self.refresh_due():  # read by another thread while this one waited: one read
                return
            now = self.clock.now().timestamp()
            generation = self.repo.generation()
            if force or generation != self._generation:
                # Every active emergency, whatever their number: no limit on the decision path (issue 13).
                records = self.repo.active(self.clock.now())
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
        if mou is None:  # answered as an existing MOU the caller may not declare under: no enumeration
            raise not_authorized_to_declare()
        now = self.clock.now()
        duration = check_declaration(
            body, mou, principal, sites=catalog.sites_of(mou), buildings=catalog.buildings(body.site), cfg=self.cfg
        )
        if not catalog.pdp.policy.mous[mou.mou].in_effect(now):
            raise InvalidRequest(f"MOU {mou.mou} is not in effect", field="mou")
        rec = EmergencyRecord(
            id=new_id(),
            mou=mou.mou,
            site=body.site,
            buildings=tuple(body.buildings),
            zones=tuple(body.zones),
            center_lat=body.center.lat if body.center else None,
            center_lon=body.center.lon if body.center else None,
            radius_m=body.radius_m,
            threat=body.threat,
            incident=body.incident,
            declared_at=now,
            expires_at=now + duration,
            ended_at=None,
            declared_by_sub=principal.sub,
            declared_by_agency=principal.agency,
            ended_by_sub=None,
            ended_by_agency=None,
        )
        return self.open(rec, principal, client)

    def open(
        self,
        rec: EmergencyRecord,
        principal: Principal,
        client: str | None,
        details: dict[str, Any] | None = None,
        origin: TriggerOrigin | None = None,
    ) -> EmergencyRecord:
        """Record and store a checked declaration (and its trigger origin, if a trigger declared it)."""
        mou = self.catalog().mous[rec.mou]
        try:
            check_rate(self.repo, self.cfg.rate_limit, principal, self.clock.now())  # 429 beyond (issue 13)
        except StoreUnavailable as exc:  # the count could not be read: the attempt is on the chain all the same
            self._attempt_failed("emergency.declare", principal, client, rec, exc)
            raise
        extra = {"recipients": list(mou.parties.recipients)} | (details or {})
        triggers = self.triggers

        def write(conn: Connection, new: EmergencyRecord, binding: Binding) -> EmergencyRecord:
            if origin is not None and triggers is not None:  # an emergency never lacks its origin
                triggers.add_origin_in(conn, origin)
            return self.repo.insert_in(conn, new, binding)

        # FERPA 34 CFR 99.32(a)(5): record the articulable and significant threat and to whom disclosed.
        stored, _ = self._record("emergency.declare", principal, client, lambda conn: (rec, extra), write)
        self._refresh(force=True)
        self._notify("emergency.declare", stored, extra)
        return stored

    def end(
        self, principal: Principal, emergency_id: str, client: str | None, reason: str | None = None
    ) -> EmergencyRecord:
        rec = self.repo.get(emergency_id)
        if rec is None:
            raise UnknownEmergency(f"no emergency {emergency_id!r}")
        mou = self.catalog().mous.get(rec.mou)
        if mou is None or not may_end(mou, principal, (rec.declared_by_sub, rec.declared_by_agency)):
            raise PermissionDenied(
                f"only the declarer or those named in MOU {rec.mou} emergency.end may end it",
                reason="not_authorized_to_end",
            )
        return self._end(rec, principal, client, {"reason": reason}, at=self.clock.now())

    def end_under(self, mou: str, principal: Principal, client: str | None) -> int:
        """End every active emergency of a terminated MOU (issue 14, item 6); how many were ended."""
        ended = 0
        for rec in self.repo.active(self.clock.now()):
            if rec.mou == mou:
                with contextlib.suppress(Conflict):  # ended meanwhile
                    self._end(rec, principal, client, {"reason": "mou_terminated"}, at=self.clock.now())
                    ended += 1
        return ended

    def _end(
        self, rec: EmergencyRecord, principal: Principal, client: str | None, details: dict[str, Any], at: datetime
    ) -> EmergencyRecord:
        extra = {k: v for k, v in details.items() if v is not None}

        def change(conn: Connection) -> tuple[EmergencyRecord, dict[str, Any]]:
            current = self.repo.lock_in(conn, rec.id)
            if current.ended_at is not None or current.expires_at <= at:
                state = "ended" if current.ended_at is not None else "expired"
                raise Conflict(f"emergency {rec.id!r} has already {state}", field="id")
            ended = dataclasses.replace(
                current, ended_at=at, ended_by_sub=principal.sub, ended_by_agency=principal.agency
            )
            return ended, extra

        try:
            ended, _ = self._record("emergency.end", principal, client, change, self._write_closed)
        except AuditUnavailable:
            # Ending removes access, so it stands without its record: stored now, recorded by the sweep later.
            ended = self.repo.end(rec.id, ended_at=at, by_sub=principal.sub, by_agency=principal.agency)
            self._ended(rec.id)
            return ended
        self._ended(rec.id)
        self._notify("emergency.end", ended, extra)
        return ended

    def _ended(self, emergency_id: str) -> None:
        self._refresh(force=True)
        if self.triggers is not None:
            with contextlib.suppress(StoreUnavailable):
                self.triggers.clear_deadline(emergency_id)

    def extend(
        self, principal: Principal, emergency_id: str, minutes: int, reason: str, client: str | None
    ) -> EmergencyRecord:
        """Move the expiry ``minutes`` later: the declarer or a role that may declare under the MOU."""
        rec = self.get(emergency_id)
        mou = self.catalog().mous.get(rec.mou)
        em = mou.emergency if mou is not None else None
        if em is None or not (
            (principal.sub, principal.agency) == (rec.declared_by_sub, rec.declared_by_agency)
            or may(em.declare, principal)
        ):
            raise PermissionDenied(
                f"only the declarer or those named in MOU {rec.mou} emergency.declare may extend it",
                reason="not_authorized_to_extend",
            )
        now = self.clock.now()
        max_duration = em.max_duration

        def change(conn: Connection) -> tuple[EmergencyRecord, dict[str, Any]]:
            current = self.repo.lock_in(conn, emergency_id)
            if not current.active_at(now):
                raise Conflict(f"emergency {emergency_id!r} is no longer open", field="id")
            new_expiry = current.expires_at + timedelta(minutes=minutes)
            if new_expiry - current.declared_at > max_duration:  # MOU emergency.max_duration, extensions included
                left = int((current.declared_at + max_duration - current.expires_at).total_seconds() // 60)
                raise InvalidRequest(
                    f"minutes {minutes} would exceed MOU {rec.mou} max_duration of "
                    f"{int(max_duration.total_seconds() // 60)} minutes (at most {max(left, 0)} more)",
                    field="minutes",
                )
            details = {"reason": reason, "minutes": minutes, "previous_expires_at": format_instant(current.expires_at)}
            return dataclasses.replace(current, expires_at=new_expiry), details

        def write(conn: Connection, new: EmergencyRecord, binding: Binding) -> EmergencyRecord:
            self.repo.write_in(conn, new, binding)
            return dataclasses.replace(new, **binding.values())

        # More access: no record, no extension.
        extended, details = self._record("emergency.extend", principal, client, change, write)
        self._refresh(force=True)
        self._notify("emergency.extend", extended, details)
        return extended

    def confirm(self, principal: Principal, emergency_id: str, client: str | None) -> EmergencyRecord:
        """A role named in the MOU's emergency.confirm confirms a trigger-declared emergency in time."""
        rec = self.get(emergency_id)
        mou = self.catalog().mous.get(rec.mou)
        rule = mou.emergency.confirm if mou is not None and mou.emergency is not None else None
        if rule is None or not may(rule.by, principal):
            raise PermissionDenied(
                f"MOU {rec.mou} emergency.confirm does not name you", reason="not_authorized_to_confirm"
            )
        origin = self.triggers.origin(emergency_id) if self.triggers is not None else None
        now = self.clock.now()
        if origin is not None and origin.confirmed_at is not None:
            raise Conflict(f"emergency {emergency_id!r} is already confirmed", field="id")
        if origin is None or origin.confirm_by is None or not rec.active_at(now) or now >= origin.confirm_by:
            raise Conflict(f"emergency {emergency_id!r} awaits no confirmation", field="id")
        triggers = self.triggers
        assert triggers is not None
        details = {"confirm_by": format_instant(origin.confirm_by), "source": origin.source, "device": origin.device}

        def change(conn: Connection) -> tuple[EmergencyRecord, dict[str, Any]]:
            return self.repo.lock_in(conn, emergency_id), details

        def write(conn: Connection, current: EmergencyRecord, binding: Binding) -> EmergencyRecord:
            # The confirmation changes the trigger's row, not the emergency's: the emergency keeps its binding.
            if not triggers.confirm_in(conn, emergency_id, now, principal.sub, principal.agency):
                raise Conflict(f"emergency {emergency_id!r} is already confirmed", field="id")
            return current

        confirmed, _ = self._record("emergency.confirm", principal, client, change, write)  # keeps access
        self._notify("emergency.confirm", confirmed, details)
        return confirmed

    def _record(
        self, kind: str, who: Principal | None, client: str | None, change: Change, write: Write
    ) -> tuple[EmergencyRecord, dict[str, Any]]:
        """One transition: its audit record and the emergency's row in one transaction, the record's details
        holding the emergency as it stands after it; the bound listeners run in the same transaction.
        Returns the row as stored and the transition's own details. Raises AuditUnavailable (nothing changed),
        the change's refusal (Conflict, InvalidRequest: nothing changed), or StoreUnavailable (nothing changed;
        the attempt is recorded as ``<kind>_failed`` so the chain says it was tried)."""
        planned: dict[str, Any] = {}

        def plan(conn: Connection) -> dict[str, Any]:
            rec, details = change(conn)
            full = {"emergency": to_json(rec, self.clock.now())} | details
            planned.update(rec=rec, details=details, full=full)
            return {"mou": rec.mou, "emergency": rec.id, "details": full}

        def bind(conn: Connection, record: AuditRecord) -> EmergencyRecord:
            stored = write(conn, planned["rec"], Binding(record.seq, record.hash))
            self._queue(conn, kind, stored, planned["full"], record)
            return stored

        who_fields = principal_fields(who) if who is not None else {}
        try:
            _, stored = self.audit.append_bound(kind, bind, plan=plan, **who_fields, client=client)
        except StoreUnavailable as exc:
            self._attempt_failed(kind, who, client, planned.get("rec"), exc)
            raise
        return stored, planned["details"]

    def _attempt_failed(
        self, kind: str, who: Principal | None, client: str | None, rec: EmergencyRecord | None, exc: Exception
    ) -> None:
        """The chain says a transition was tried and could not be stored (``<kind>_failed``), if it can."""
        who_fields = principal_fields(who) if who is not None else {}
        with contextlib.suppress(AuditUnavailable):
            self.audit.append(
                f"{kind}_failed",
                **who_fields,
                client=client,
                mou=rec.mou if rec else None,
                emergency=rec.id if rec else None,
                details={"error": type(exc).__name__, "recorded": False},  # no <kind> record precedes it
            )

    def _write_closed(self, conn: Connection, rec: EmergencyRecord, binding: Binding) -> EmergencyRecord:
        self.repo.write_in(conn, rec, binding, closed=True)
        return dataclasses.replace(rec, closed_recorded=True, **binding.values())

    def _queue(
        self, conn: Connection, kind: str, rec: EmergencyRecord, details: dict[str, Any], record: AuditRecord
    ) -> None:
        """The bound listeners, each in a savepoint: one that fails is undone, logged, and changes nothing else."""
        for fn in list(self.bound_listeners):
            try:
                with conn.begin_nested():
                    fn(conn, kind, rec, details, record)
            except Exception:
                log.exception("emergency bound listener %r failed on %s %s", fn, kind, rec.id)

    def get(self, emergency_id: str) -> EmergencyRecord:
        rec = self.repo.get(emergency_id)
        if rec is None:
            raise UnknownEmergency(f"no emergency {emergency_id!r}")
        return rec

    def sweep(self) -> int:
        """End trigger-declared emergencies not confirmed in time; record every end or expiry not yet on the
        audit chain. Returns how many were recorded."""
        n = self._end_unconfirmed()
        for rec in self.repo.unrecorded_closed(self.clock.now()):
            ended_early = rec.ended_at is not None and rec.ended_at < rec.expires_at
            kind = "emergency.end" if ended_early else "emergency.expire"
            who = (
                Principal.of(rec.ended_by_sub, rec.ended_by_agency or "", ())
                if ended_early and rec.ended_by_sub
                else None
            )
            details = {"recorded_late": True} if ended_early else {"reason": "expires_at reached"}
            n += self._record_close(rec, kind, who, None, details)
        if n:
            self._refresh(force=True)
        return n

    def _end_unconfirmed(self) -> int:
        if self.triggers is None:
            return 0
        n = 0
        for origin in self.triggers.unconfirmed_due(self.clock.now()):
            rec = self.repo.get(origin.emergency)
            assert origin.confirm_by is not None
            if rec is None or not rec.active_at(origin.confirm_by):
                self.triggers.clear_deadline(origin.emergency)
                continue
            system = Principal.of(SYSTEM_SUB, SYSTEM_AGENCY, ())
            reason = f"not confirmed by {format_instant(origin.confirm_by)} (MOU {rec.mou} emergency.confirm)"
            with contextlib.suppress(Conflict):  # ended meanwhile by someone else
                self._end(rec, system, None, {"reason": reason, "unconfirmed": True}, at=origin.confirm_by)
                n += 1
        return n

    def _record_close(
        self,
        rec: EmergencyRecord,
        kind: str,
        who: Principal | None,
        client: str | None,
        details: dict[str, Any] | None = None,
    ) -> bool:
        """Record an end or expiry stored without its record; False if another replica recorded it first."""
        extra = {k: v for k, v in (details or {}).items() if v is not None}

        def change(conn: Connection) -> tuple[EmergencyRecord, dict[str, Any]]:
            current = self.repo.lock_in(conn, rec.id)
            if current.closed_recorded:
                raise Conflict(f"the close of emergency {rec.id!r} is already recorded", field="id")
            return current, extra

        try:
            closed, _ = self._record(kind, who, client, change, self._write_closed)
        except Conflict:
            return False
        self._notify(kind, closed, extra)
        return True

    def _notify(self, kind: str, rec: EmergencyRecord, details: dict[str, Any]) -> None:
        """Every listener, after the audit record; a failing listener is logged, never felt by the transition.

        ``details`` carry the emergency as it stands after the transition (so each transition's details, and
        the notice ids derived from them, differ) and the transition's own fields (reason, minutes, ...)."""
        details = {"emergency": to_json(rec, self.clock.now())} | details
        for fn in list(self.listeners):
            try:
                fn(kind, rec, details)
            except Exception:
                log.exception("emergency listener %r failed on %s %s", fn, kind, rec.id)
