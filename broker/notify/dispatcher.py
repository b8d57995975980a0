"""Delivering notices from the outbox: signed POSTs with timeouts, retries with backoff, every attempt audited.

Signing is the Standard Webhooks scheme (spec, "Signature scheme"): ``webhook-id`` (the notice id, the same
on every attempt), ``webhook-timestamp`` (integer seconds of this attempt) and ``webhook-signature``
``v1,<base64 HMAC-SHA256 over "id.timestamp.body">`` with the webhook's ``whsec_`` secret, computed by the
``standardwebhooks`` package. A 2xx answer delivers the notice (spec, "Delivery behaviour": any 2xx is
success; redirects are not followed and count as failures). Anything else, a timeout or a refused connection
is retried after ``min(cap, initial * 2^(n-1))``, of which a random half is jitter, until ``max_attempts``.

Each attempt is a ``notice.attempt`` audit record (status, outcome, error, the next attempt's time), and the
end a ``notice.delivered`` or ``notice.gave_up``. The record is written before the row is settled: if the
audit log is down the row keeps its lease and is tried again when the lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
from standardwebhooks import Webhook as Signer

from broker.audit import AuditLog
from broker.clock import Clock
from broker.errors import CamgateError
from broker.notify.config import NotificationSettings, Webhook
from broker.store.outbox import DELIVERED, GAVE_UP, Notice, OutboxRepository
from broker.timeutil import format_instant

log = logging.getLogger(__name__)
USER_AGENT = "camgate-notify/0.1"


class Dispatcher:
    def __init__(
        self, outbox: OutboxRepository, audit: AuditLog, hooks: Sequence[Webhook], cfg: NotificationSettings,
        clock: Clock, *, http: httpx.AsyncClient | None = None, rng: random.Random | None = None,
        wall: Clock | None = None,
    ) -> None:  # fmt: skip
        """``clock`` schedules attempts; ``wall`` (default: the same) stamps ``webhook-timestamp``, which the
        receiver compares with its own clock (tests schedule on a fake clock and still sign in real time)."""
        self.outbox, self.audit, self.cfg, self.clock = outbox, audit, cfg, clock
        self.wall = wall or clock
        self.hooks = {h.key: h for h in hooks}
        self._signers = {h.key: Signer(h.secret) for h in hooks}
        self._http = http
        self.rng = rng or random.SystemRandom()
        self.owner = f"dsp-{secrets.token_hex(8)}"  # this dispatcher's name on the leases it holds
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- the schedule --------------------------------------------------------------------------------
    def backoff(self, attempt: int) -> float:
        """Seconds before the attempt after failed attempt number ``attempt`` (1-based): capped exponential,
        "equal jitter" (half fixed, half random), so replicas that failed together do not retry together."""
        base = min(self.cfg.backoff_max_seconds, self.cfg.backoff_initial_seconds * 2 ** (attempt - 1))
        return base / 2 + self.rng.uniform(0, base / 2)

    # -- one pass --------------------------------------------------------------------------------------
    async def deliver_due(self) -> int:
        """Claim every due notice (up to ``batch``), send them concurrently, settle each. Returns how many."""
        now = self.clock.now()
        lease = timedelta(seconds=self.cfg.lease_seconds)
        claimed = await asyncio.to_thread(self.outbox.claim, now, self.owner, lease, self.cfg.batch)
        if claimed:
            await asyncio.gather(*(self._attempt(n) for n in claimed))
        return len(claimed)

    async def _attempt(self, notice: Notice) -> None:
        hook = self.hooks.get(notice.webhook)
        status: int | None = None
        error: str | None = None
        if hook is None:
            error = "webhook_not_configured"
        else:
            status, error = await self._post(hook, notice)
        try:
            await asyncio.to_thread(self._settle, notice, hook, status, error)
        except CamgateError as exc:  # audit or store down: the lease runs out and the notice is tried again
            log.warning("notice %s: the attempt could not be recorded, retried later: %s", notice.id, exc.message)

    async def _post(self, hook: Webhook, notice: Notice) -> tuple[int | None, str | None]:
        sent_at = self.wall.now()
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": notice.id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": self._signers[hook.key].sign(notice.id, sent_at, notice.body),
        }
        timeout = httpx.Timeout(self.cfg.timeout_seconds)
        try:
            client = self._client()
            async with client.stream("POST", hook.url, content=notice.body.encode(), headers=headers,
                                     timeout=timeout) as response:  # fmt: skip
                status = response.status_code  # the answer's body is never read: it can be any size
        except httpx.TimeoutException:
            return None, "timeout"
        except httpx.HTTPError as exc:
            return None, type(exc).__name__
        return status, None if 200 <= status < 300 else f"http_{status}"

    def _settle(self, notice: Notice, hook: Webhook | None, status: int | None, error: str | None) -> None:
        now = self.clock.now()
        delivered = error is None
        give_up = not delivered and (hook is None or notice.attempts >= self.cfg.max_attempts)
        next_at = None if delivered or give_up else now + timedelta(seconds=self.backoff(notice.attempts))
        outcome = "delivered" if delivered else ("gave_up" if give_up else "retry")
        common: dict[str, Any] = {
            "notice": notice.id, "webhook": notice.webhook, "agency": hook.agency if hook else None,
            "kind": notice.kind, "attempt": notice.attempts,
        }  # fmt: skip
        self.audit.append(
            "notice.attempt", mou=notice.mou or None, emergency=notice.emergency or None,
            details={**common, "status": status, "outcome": outcome, "error": error,
                     "next_attempt_at": format_instant(next_at)},
        )  # fmt: skip
        if next_at is not None:
            self.outbox.retry(notice.id, self.owner, due_at=next_at, status=status, error=error)
            return
        about = {"mou": notice.mou or None, "emergency": notice.emergency or None}  # none for a checkpoint notice
        self.audit.append(f"notice.{outcome}", **about, details=common)
        self.outbox.finish(notice.id, self.owner, state=DELIVERED if delivered else GAVE_UP, at=now, status=status,
                           error=error)  # fmt: skip
        if give_up:
            log.warning("notice %s to %s given up after %d attempts (%s)", notice.id, notice.webhook,
                        notice.attempts, error)  # fmt: skip

    # -- running ---------------------------------------------------------------------------------------
    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False, trust_env=False)
        return self._http

    def wake(self) -> None:
        """A notice was queued: look now rather than at the next poll (callable from any thread)."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None:
            loop.call_soon_threadsafe(event.set)

    async def run(self) -> None:
        """Deliver until cancelled: at start (notices left by a restart), on every wake-up, every poll_seconds."""
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        while True:
            self._wake.clear()
            try:
                while await self.deliver_due() >= self.cfg.batch:
                    pass  # a full batch: there may be more due
            except CamgateError as exc:
                log.warning("notice delivery: %s", exc.message)
            except Exception:
                log.exception("notice delivery failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.cfg.poll_seconds)

    async def aclose(self) -> None:
        """After the task is cancelled: give back the leases of attempts cut short, close the HTTP client."""
        self._loop = self._wake = None
        try:
            await asyncio.to_thread(self.outbox.release, self.owner)
        except CamgateError as exc:  # they come due again when the lease runs out
            log.warning("notice leases not released: %s", exc.message)
        if self._http is not None:
            await self._http.aclose()
            self._http = None
