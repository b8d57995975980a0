"""Triggers: a panic button, an alarm panel or a CAD system declares, extends or ends an emergency by a signed
webhook (Standard Webhooks), under an MOU that names the source in ``emergency.triggers``.

Order: the headers first (no signature, an unknown source, a malformed, over-long or stale ``webhook-id`` or
timestamp: 401 before a byte of the body is read, :meth:`TriggerService.precheck`), then the signature (401 before
anything of the body is parsed; a body over :data:`MAX_BODY` is not kept but its signature is still checked as it
streams past, so a forged large post is 401 and a genuine one 422 ``too_large``; beyond :data:`MAX_VERIFIED_BODY`
nothing more is read and its signature cannot be checked: 401 ``too_large_unverified``), then the delivery id is
claimed, so a redelivery of the same ``webhook-id`` declares nothing and gets the first answer again; then the
event is read and mapped through the source's settings. Every refusal is counted on the audit chain
(``trigger.refused``, per client, reason and minute with bounded fields: :mod:`broker.audit.refusals`), so a flood of
badly signed posts writes a few small records, not one per post; the source is the principal only once its
signature verified, before that it is only ``claimed``.

A declare event from a device whose emergency is still active declares nothing (``already_active``, with that
emergency): one device, one emergency at a time. A device declares at most ``emergencies.rate_limit.per_device``
emergencies in the window (:mod:`broker.admin.ratelimit`): beyond, 429 with Retry-After, the delivery's claim
released so that a redelivery after the wait is handled anew.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from broker.admin.declaration import Point
from broker.admin.emergencies import EmergencyService
from broker.admin.views import new_id, to_json
from broker.audit import AuditLog
from broker.audit.refusallog import RefusalLog
from broker.clock import Clock
from broker.errors import (
    CamgateError,
    Conflict,
    InvalidRequest,
    PermissionDenied,
    RateLimited,
    SignatureError,
)
from broker.identity.sources import DeviceTemplate, WebhookSource
from broker.identity.webhooks import Signed, StreamedSignature, check_headers, verify
from broker.inventory.positions import Position, PositionBook
from broker.policy import GeoPoint, Principal
from broker.settings import Settings
from broker.store.emergencies import EmergencyRecord
from broker.store.triggers import TriggerOrigin, TriggerRepository

MAX_BODY = 64 * 1024
DELIVERY_IDS_KEPT = timedelta(days=1)  # answered ids kept this long (a redelivery is refused after 5 minutes)
PRUNE_EVERY = timedelta(hours=1)
MAX_VERIFIED_BODY = 16 << 20  # a larger body is not even read to check its signature (413)


class EventData(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    device: str = Field(min_length=1, max_length=128, description="The device id, as configured for the source")
    location: Point | None = Field(None, description="Where the event happened: a radius emergency around it")
    notes: str | None = Field(None, max_length=2000, description="Caller or operator notes")
    incident: str | None = Field(None, max_length=200, description="CAD / incident number")
    minutes: int | None = Field(None, gt=0, le=24 * 60, description="extend: how many minutes (default: configured)")


class TriggerEvent(BaseModel):
    """The body (the Standard Webhooks payload shape: ``type``, ``timestamp``, ``data``)."""

    model_config = ConfigDict(extra="forbid")
    type: str = Field(min_length=1, max_length=128, description="Event type, mapped by the source's settings")
    timestamp: str | None = Field(None, max_length=64, description="When the event happened (informative)")
    data: EventData


def source_principal(source: str, device: str, src: WebhookSource) -> Principal:
    """The declarer recorded: the source and its device, in the source's agency."""
    return Principal.of(f"trigger:{source}/{device}", src.agency, ("trigger",))


class TriggerService:
    def __init__(
        self,
        settings: Settings,
        emergencies: EmergencyService,
        repo: TriggerRepository,
        audit: AuditLog,
        positions: PositionBook,
        clock: Clock,
        refusals: RefusalLog,
    ) -> None:
        self.settings, self.emergencies, self.repo, self.audit = settings, emergencies, repo, audit
        self.positions, self.clock = positions, clock
        self.refusals = refusals  # flushed by the housekeeping tick
        self._declaring = threading.Lock()
        self._pruned_at: datetime | None = None

    def prune(self) -> int:
        """Housekeeping, at most once an hour: forget delivery ids older than ``DELIVERY_IDS_KEPT``, which a
        redelivery could no longer use (its timestamp would be refused: Standard Webhooks, 5 minutes)."""
        now = self.clock.now()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return 0
        self._pruned_at = now
        return self.repo.prune_deliveries(now - DELIVERY_IDS_KEPT)

    def precheck(self, source: str, headers: Mapping[str, str], client: str | None) -> None:
        """Refuse (401, counted) before a byte of the body is read what the headers alone refuse: no signature,
        an unknown source, a malformed or over-long ``webhook-id`` or timestamp, a stale timestamp."""
        try:
            check_headers(source, self.settings.webhook_secrets(source), headers, self.clock.now())
        except SignatureError as exc:
            self._refused(source, headers.get("webhook-id"), exc, client, signed=False)
            raise

    def streamed(self, source: str, headers: Mapping[str, str]) -> StreamedSignature | None:
        """What checks the signature of a body too large to keep as it is read (None: the headers alone refuse it,
        so nothing more need be read)."""
        secrets = self.settings.webhook_secrets(source)
        try:
            msg_id, at, _ = check_headers(source, secrets, headers, self.clock.now())
        except SignatureError:
            return None
        return StreamedSignature(secrets, msg_id, at)

    def handle(
        self,
        source: str,
        headers: Mapping[str, str],
        body: bytes,
        client: str | None,
        streamed: StreamedSignature | None = None,
    ) -> tuple[int, Any]:
        """(status, answer) for one delivery; raises SignatureError (401) before anything else.

        ``body``: at most ``MAX_BODY + 1`` bytes; when there were more, ``streamed`` checked the signature of all of
        them as they were read (None: more than :data:`MAX_VERIFIED_BODY`, or headers that refuse it anyway).
        """
        if len(body) > MAX_BODY:
            self._oversized(source, headers, streamed, client)
        try:
            signed = verify(source, self.settings.webhook_secrets(source), headers, body, self.clock.now())
        except SignatureError as exc:
            self._refused(source, headers.get("webhook-id"), exc, client, signed=False)
            raise
        first = self.repo.claim(source, signed.id, self.clock.now())
        if first is not None:
            status, answer = first
            if status is None:
                raise Conflict(f"delivery {signed.id!r} is being handled", field="webhook-id")
            return status, answer  # the same answer as the first time; nothing declared again
        try:
            status, answer = self._handle(signed, body, client)
        except CamgateError as exc:
            if exc.status >= 500 or isinstance(exc, RateLimited):
                with contextlib.suppress(CamgateError):
                    self.repo.release(source, signed.id)  # a redelivery later is handled anew
                if isinstance(exc, RateLimited):  # 429 with Retry-After, counted like every refusal
                    self._refused(source, signed.id, exc, client, signed=True)
                raise
            self._refused(source, signed.id, exc, client, signed=True)
            status, answer = exc.status, exc.to_dict()
        except BaseException:
            with contextlib.suppress(CamgateError):
                self.repo.release(source, signed.id)  # a redelivery is handled anew, not stuck on "being handled"
            raise
        self.repo.answer(source, signed.id, status, answer)
        return status, answer

    def _oversized(
        self, source: str, headers: Mapping[str, str], streamed: StreamedSignature | None, client: str | None
    ) -> None:
        """Refuse a body over MAX_BODY: authentication first (401), then its size (422 signed, 413 unverifiable)."""
        try:
            msg_id, _, passed = check_headers(source, self.settings.webhook_secrets(source), headers, self.clock.now())
            if streamed is None:  # not read to its end: its signature, over all of it, cannot be checked
                raise SignatureError(
                    f"the event is larger than {MAX_VERIFIED_BODY} bytes: its signature is not checked, so it is "
                    "refused unauthenticated",
                    reason="too_large_unverified",
                )
            if not streamed.matches(passed):
                raise SignatureError("no signature matches the source's secrets", reason="bad_signature")
        except SignatureError as exc:
            self._refused(source, headers.get("webhook-id"), exc, client, signed=False)
            raise
        too_large = InvalidRequest(f"the event is larger than {MAX_BODY} bytes", field="body", reason="too_large")
        self._refused(source, msg_id, too_large, client, signed=True)
        raise too_large

    def _handle(self, signed: Signed, body: bytes, client: str | None) -> tuple[int, Any]:
        src = self.settings.triggers.sources[signed.source]
        try:
            event = TriggerEvent.model_validate(json.loads(body))
        # RecursionError: JSON nested deeper than the parser recurses (``[[[[…`` within 64 KiB) is bad input.
        except (ValueError, ValidationError, RecursionError) as exc:
            where = "body"
            if isinstance(exc, ValidationError) and exc.errors():
                where = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "body"
            raise InvalidRequest(
                f"malformed event: {exc}".splitlines()[0][:300], field=where, reason="malformed_event"
            ) from None
        action = src.events.get(event.type)
        if action is None:
            raise InvalidRequest(
                f"event type {event.type!r} has no mapping for source {signed.source}",
                field="type",
                reason="unmapped_event",
            )
        device = src.devices.get(event.data.device)
        if device is None:
            raise InvalidRequest(
                f"unknown device {event.data.device!r} of source {signed.source}",
                field="data.device",
                reason="unknown_device",
            )
        who = source_principal(signed.source, event.data.device, src)
        trigger = {"source": signed.source, "device": event.data.device, "type": event.type, "webhook_id": signed.id}
        if action == "declare":
            # One device, one emergency at a time: a repeated press while its emergency is active declares
            # nothing new (600 presses once made 600 emergencies). Checked and declared under one lock, so two
            # presses handled at once on this replica cannot both declare.
            with self._declaring:
                active = self._active_of(signed.source, event.data.device)
                if active is not None:
                    return 200, {"outcome": "already_active", "emergency": to_json(active, self.clock.now())}
                rec = self._declare(signed, event, src, device, who, trigger, client)
            return 200, {"outcome": "declared", "emergency": to_json(rec, self.clock.now())}
        current = self._current(signed.source, event.data.device)
        if action == "extend":
            minutes = event.data.minutes or src.extend_minutes
            rec = self.emergencies.extend(who, current.id, minutes, f"{event.type} from {event.data.device}", client)
            return 200, {"outcome": "extended", "emergency": to_json(rec, self.clock.now())}
        reason = f"all clear: {event.type} from {event.data.device}" + (
            f"; {event.data.notes}" if event.data.notes else ""
        )
        rec = self.emergencies.end(who, current.id, client, reason=reason)
        return 200, {"outcome": "ended", "emergency": to_json(rec, self.clock.now())}

    def _declare(
        self,
        signed: Signed,
        event: TriggerEvent,
        src: WebhookSource,
        device: DeviceTemplate,
        who: Principal,
        trigger: dict[str, Any],
        client: str | None,
    ) -> EmergencyRecord:
        catalog = self.emergencies.catalog()
        mou = catalog.mous.get(device.mou)
        em = mou.emergency if mou is not None else None
        if mou is None or em is None or signed.source not in em.triggers:
            raise PermissionDenied(
                f"MOU {device.mou} does not name source {signed.source} in emergency.triggers",
                reason="source_not_in_mou",
            )
        now = self.clock.now()
        if device.site not in catalog.sites_of(mou) or not catalog.pdp.policy.mous[mou.mou].in_effect(now):
            raise InvalidRequest(
                f"MOU {mou.mou} does not cover site {device.site} now", field="data.device", reason="unknown_device"
            )
        loc = event.data.location or device.location
        center = GeoPoint(loc.lat, loc.lon) if loc is not None else None
        if center is not None and device.camera is not None and event.data.location is not None:
            # The alert's position is its officer's, so their body camera's: it is inside the radius.
            self.positions.report(Position(device.camera, center, now, signed.source))
        duration = timedelta(minutes=device.duration_minutes) if device.duration_minutes else em.default_duration
        duration = min(duration, em.max_duration)  # MOU emergency.max_duration caps expires_at - declared_at
        site = catalog.index.sites.get(device.site)
        place = f"{device.name or event.data.device} ({site.name if site else device.site})"
        if center is not None:
            place += f", at {center.lat:.6f},{center.lon:.6f} (radius {device.radius_m:g} m)"
        # FERPA 34 CFR 99.36(c) and 99.32(a)(5): disclosure in a health or safety emergency rests on an
        # articulable and significant threat, recorded with the disclosure. A trigger's threat is the event
        # itself: what was pressed or reported, by which device, where, and what the caller said.
        threat = f"{src.name or 'trigger'} event {event.type} from device {event.data.device} at {place}"
        if event.data.notes:
            threat += f"; notes: {event.data.notes}"
        rec = EmergencyRecord(
            id=new_id(),
            mou=mou.mou,
            site=device.site,
            buildings=() if center else tuple(device.buildings),
            zones=tuple(device.zones),
            center_lat=center.lat if center else None,
            center_lon=center.lon if center else None,
            radius_m=device.radius_m if center else None,
            threat=threat,
            incident=event.data.incident or f"{signed.source}:{signed.id}"[:200],
            declared_at=now,
            expires_at=now + duration,
            ended_at=None,
            declared_by_sub=who.sub,
            declared_by_agency=who.agency,
            ended_by_sub=None,
            ended_by_agency=None,
        )
        confirm_by = now + em.confirm.within if em.confirm is not None else None
        origin = TriggerOrigin(rec.id, signed.source, event.data.device, confirm_by, None, None, None)
        details = {"trigger": trigger, "basis": "34 CFR 99.36", "confirm_by": confirm_by and confirm_by.isoformat()}
        return self.emergencies.open(rec, who, client, details, origin)

    def _current(self, source: str, device: str) -> EmergencyRecord:
        """The newest open emergency this source's device declared (extend and end act on it)."""
        current = self._active_of(source, device)
        if current is None:
            raise Conflict(f"no open emergency declared by {source}/{device}", field="data.device")
        return current

    def _active_of(self, source: str, device: str) -> EmergencyRecord | None:
        now = self.clock.now()
        open_ = [r for o in self.repo.latest_of(source, device) if (r := self.emergencies.repo.get(o.emergency))]
        active = sorted((r for r in open_ if r.active_at(now)), key=lambda r: r.declared_at)
        return active[-1] if active else None

    def _refused(
        self, source: str, webhook_id: str | None, exc: CamgateError, client: str | None, *, signed: bool
    ) -> None:
        """Counted, not written per request (bounded: the id and message are the sender's, cut short)."""
        sample = {"source": source, "webhook_id": webhook_id, "error": exc.code, "field": exc.field}
        src = self.settings.triggers.sources.get(source) if signed else None
        who = {"sub": f"trigger:{source}", "agency": src.agency, "roles": ("trigger",)} if src is not None else {}
        self.refusals.record(
            "trigger.refused",
            client=client,
            reason=exc.details.get("reason") or exc.code,
            message=exc.message,
            sample=sample,
            claimed=None if signed else {"source": source},
            **who,
        )
