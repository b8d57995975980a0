"""Positions of mobile cameras (body-worn, in-car), posted by their systems as signed webhooks.

The request names no source: the one whose secret verifies the signature is the sender, and it may report only
the cameras its settings list (``triggers.sources.<id>.cameras``), each a ``mobile: true`` camera.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from broker.audit import AuditLog
from broker.audit.refusallog import RefusalLog
from broker.clock import Clock
from broker.errors import InvalidRequest, SignatureError
from broker.identity.webhooks import Signed, check_headers, verify
from broker.inventory.catalog import Catalog
from broker.inventory.positions import Position, PositionBook
from broker.policy import GeoPoint
from broker.settings import Settings
from broker.timeutil import Rfc3339, format_instant

MAX_BATCH = 500
MAX_POSITIONS_BODY = 256 * 1024


class PositionReport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    camera: str = Field(min_length=1, max_length=64, description="A mobile camera of the inventory")
    lat: float = Field(ge=-90, le=90, strict=True)  # a JSON number: not true (1.0) nor "41.1"
    lon: float = Field(ge=-180, le=180, strict=True)
    at: Rfc3339 = Field(description="When the camera was there (RFC 3339 with offset); not after now + 30 s")


Reports = TypeAdapter(PositionReport | list[PositionReport])  # the documented body
_Batch = TypeAdapter(list[PositionReport])


class PositionService:
    def __init__(
        self,
        settings: Settings,
        positions: PositionBook,
        audit: AuditLog,
        clock: Clock,
        refusals: RefusalLog,
    ) -> None:
        self.settings, self.positions, self.audit, self.clock = settings, positions, audit, clock
        self.refusals = refusals  # flushed by the housekeeping tick

    def precheck(self, headers: Mapping[str, str], client: str | None) -> None:
        """Refuse (401, counted) before a byte of the body is read what the headers alone refuse: no signature,
        a malformed or over-long ``webhook-id`` or timestamp, a stale timestamp, no source reporting positions."""
        now = self.clock.now()
        reporting = [s for s, src in self.settings.triggers.sources.items() if src.cameras]
        try:
            if not reporting:
                raise SignatureError("no source reports positions", reason="unknown_source")
            check_headers(reporting[0], self.settings.webhook_secrets(reporting[0]), headers, now)
        except SignatureError as exc:
            self._refuse(exc, headers, client)
            raise

    def handle(self, headers: Mapping[str, str], body: bytes, catalog: Catalog, client: str | None) -> dict[str, Any]:
        """``body``: at most ``MAX_POSITIONS_BODY + 1`` bytes. The signature covers the whole body, so one larger
        cannot be verified from what was read: 401 (never 422 to a sender not authenticated), saying why."""
        if len(body) > MAX_POSITIONS_BODY:
            error = SignatureError(
                f"the body is larger than {MAX_POSITIONS_BODY} bytes: its signature is not checked, so it is refused "
                "unauthenticated (send fewer positions a request)",
                reason="too_large_unverified",
            )
            self._refuse(error, headers, client)
            raise error
        signed = self._verify(headers, body, client)
        src = self.settings.triggers.sources[signed.source]
        try:
            raw = json.loads(body)
            parsed = _Batch.validate_python(raw) if isinstance(raw, list) else PositionReport.model_validate(raw)
        except ValidationError as exc:  # the error names its field: "at", "0.at", ... (not just "body")
            where = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "body"
            raise InvalidRequest(f"malformed positions: {exc}".splitlines()[0][:300], field=where) from None
        except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested deeper than the parser recurses
            raise InvalidRequest(f"malformed positions: {exc}".splitlines()[0][:300], field="body") from None
        reports = parsed if isinstance(parsed, list) else [parsed]
        if len(reports) > MAX_BATCH:
            raise InvalidRequest(f"at most {MAX_BATCH} positions a request", field="body")
        latest = self.clock.now() + timedelta(seconds=self.settings.triggers.position_future_skew_seconds)
        for i, r in enumerate(reports):
            where = f"{i}." if isinstance(parsed, list) else ""
            cam = catalog.camera(r.camera)
            if cam is None or not cam.mobile or r.camera not in src.cameras:
                raise InvalidRequest(
                    f"camera {r.camera!r} is not a mobile camera of source {signed.source}", field=f"{where}camera"
                )
            # A report from the future would supersede every genuine one until then (PositionBook keeps the
            # latest): only the sender's clock skew is tolerated (triggers.position_future_skew_seconds).
            if r.at > latest:
                raise InvalidRequest(
                    f"at {format_instant(r.at)} is in the future (later than now {format_instant(self.clock.now())} "
                    f"plus {self.settings.triggers.position_future_skew_seconds:g} s of clock skew)",
                    field=f"{where}at",
                )
        kept = sum(
            self.positions.report(Position(r.camera, GeoPoint(r.lat, r.lon), r.at, signed.source)) for r in reports
        )
        return {"source": signed.source, "accepted": kept, "superseded": len(reports) - kept}

    def _verify(self, headers: Mapping[str, str], body: bytes, client: str | None) -> Signed:
        now = self.clock.now()
        last: SignatureError | None = None
        for source, src in self.settings.triggers.sources.items():
            if not src.cameras:
                continue
            try:
                return verify(source, self.settings.webhook_secrets(source), headers, body, now)
            except SignatureError as exc:
                if exc.details.get("reason") in ("unsigned", "stale_timestamp"):
                    last = exc
                    break  # the same for every source
                last = exc
        error = last or SignatureError("no source reports positions", reason="unknown_source")
        self._refuse(error, headers, client)
        raise error

    def _refuse(self, error: SignatureError, headers: Mapping[str, str], client: str | None) -> None:
        # Counted per client, reason and minute, bounded (broker/audit/refusals.py): the sender is unauthenticated.
        self.refusals.record(
            "positions.refused",
            client=client,
            reason=error.details.get("reason") or error.code,
            message=error.message,
            sample={"webhook_id": headers.get("webhook-id")},
        )
