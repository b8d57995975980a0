"""The guard: ask the PDP, write the audit record, and only then answer. No record, no access."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from broker.admin.emergencies import EmergencyService
from broker.audit import AuditLog, principal_fields
from broker.clock import Clock
from broker.documents import Camera
from broker.errors import AccessDenied, UnknownCamera
from broker.inventory.catalog import Catalog
from broker.inventory.positions import PositionBook
from broker.policy import AccessRequest, Decision, Principal, Window
from broker.policy.sharing import Sharing, share_camera


def denial(d: Decision) -> AccessDenied | UnknownCamera:
    if d.reason == "unknown_camera":
        return UnknownCamera("no such camera", reason=d.reason)
    return AccessDenied(f"access denied: {d.reason}", reason=d.reason, mou=d.mou, grant=d.grant, clause=d.clause)


class Guard:
    def __init__(
        self, catalog: Callable[[], Catalog], emergencies: EmergencyService, audit: AuditLog, clock: Clock,
        positions: PositionBook | None = None,
    ) -> None:  # fmt: skip
        self.catalog, self.emergencies, self.audit, self.clock = catalog, emergencies, audit, clock
        self.positions = positions or PositionBook(clock)

    def decide(self, principal: Principal, camera: str, action: str, window: Window | None = None) -> Decision:
        """The PDP's answer now, with the emergencies known now. No audit (callers record)."""
        cat = self.catalog()
        cam = cat.camera(camera)
        ems = self.emergencies.views_for(cam.site) if cam is not None else ()
        where = self.positions.locate(camera) if cam is not None and cam.mobile else None
        return cat.pdp.decide(AccessRequest(principal, camera, action, self.clock.now(), ems, window, where))

    def sharing(self, catalog: Catalog, camera: Camera) -> tuple[Sharing, ...]:
        """What each partner agency may see of ``camera`` now: the PDP asked with the inputs :meth:`decide` gives
        it (the emergencies known now, a mobile camera's position), for representative principals. No audit."""
        ems = self.emergencies.views_for(camera.site)
        where = self.positions.locate(camera.id) if camera.mobile else None
        return share_camera(catalog.pdp, camera, self.clock.now(), ems, where)

    def record(
        self, d: Decision, principal: Principal, camera: str, action: str, client: str | None, *,
        kind: str = "decision", details: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """Append the decision with its reasons and rule (raises AuditUnavailable: fail closed)."""
        extra = {"yielded": [list(y) for y in d.yielded]} | (details or {})
        self.audit.append(kind, **principal_fields(principal), **d.to_dict(), camera=camera, action=action,
                          client=client, details=extra)  # fmt: skip

    def authorize(
        self, principal: Principal, camera: str, action: str, client: str | None, window: Window | None = None,
        details: dict[str, Any] | None = None,
    ) -> Decision:  # fmt: skip
        """Decide, record, and raise on a denial. The record is written before any byte is served."""
        d = self.decide(principal, camera, action, window)
        self.record(d, principal, camera, action, client, details=details)
        if not d.allowed:
            raise denial(d)
        return d
