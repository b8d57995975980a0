"""The demo's emergency hook: once an emergency is declared at a site, every simulated camera there records.

Recording in the simulated VMS follows encoding (:mod:`broker.demo.recorder`), so the hook *holds* the site's
encoders (:meth:`~broker.demo.encoders.EncoderPool.hold`) for a short lease, renewed every ``interval`` while
an emergency is active there: once it ends or expires they are reaped like any idle encoder, and what they
recorded stays for the VMS's retention. It polls the store (which also sees other replicas' declarations);
if the emergency service offers ``listeners`` (callables ``fn(kind, record, details)``), it reacts at once too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Holds(Protocol):
    def hold(self, refs: Iterable[str], seconds: float) -> None: ...


class EmergencyRecording:
    """Polls active emergencies every ``interval`` seconds and holds the encoders of their sites."""

    def __init__(
        self, services: Any, sites: Mapping[str, Sequence[tuple[Holds, Sequence[str]]]], *, interval: float = 1.0
    ) -> None:
        self.services, self.sites, self.interval = services, sites, interval
        self.lease = max(10.0, 5 * interval)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-emergency-recording", daemon=True)
        listeners = getattr(services.emergencies, "listeners", None)
        if isinstance(listeners, list):
            listeners.append(self._on_event)

    def start(self) -> EmergencyRecording:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def hold_site(self, site: str) -> None:
        for vms, refs in self.sites.get(site, ()):
            vms.hold(refs, self.lease)

    def poll(self) -> list[str]:
        """Hold the sites of the emergencies active now; returns those sites."""
        services = self.services
        active = services.emergencies.repo.active(services.clock.now())
        sites = sorted({rec.site for rec in active})
        for site in sites:
            self.hold_site(site)
        return sites

    def _on_event(self, kind: str, record: Any, details: dict[str, Any]) -> None:
        site = getattr(record, "site", None)
        if isinstance(site, str) and "declare" in kind:
            self.hold_site(site)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:  # the store may be briefly unavailable: try again next time
                log.exception("emergency recording poll failed")
            self._stop.wait(self.interval)
