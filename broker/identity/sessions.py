"""Web console sessions: server-side, behind a random 256-bit id in an HttpOnly cookie.

The cookie carries only the id; the table keeps its SHA-256 (a leaked table holds no usable cookie), the
principal mapped from the ID token at sign-in, a CSRF token bound to the session (double submit: the console
reads it from ``GET /api/v1/session`` and sends it back in ``X-CSRF-Token``), and two expiries: absolute
(``created_at + session_absolute_minutes``) and idle (``last_seen_at + session_idle_minutes``). Time comes
from the injected clock.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from broker.clock import Clock
from broker.policy import Principal
from broker.store.console import ConsoleRepository, SessionRow

COOKIE = "camgate_session"
TOUCH_EVERY = timedelta(seconds=30)  # last_seen_at is written at most this often per session


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class ConsoleSession:
    id_hash: str
    issuer: str
    principal: Principal
    csrf: str
    expires_at: datetime  # the earlier of the absolute and the idle expiry, as of the last request

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), self.csrf.encode())


class ConsoleSessions:
    def __init__(self, repo: ConsoleRepository, clock: Clock, *, absolute: timedelta, idle: timedelta) -> None:
        self.repo = repo
        self._clock = clock
        self._absolute = absolute
        self._idle = idle

    def create(self, issuer: str, principal: Principal) -> tuple[str, ConsoleSession]:
        """A new session for ``principal``: the cookie value (256 random bits) and the session."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock.now()
        row = SessionRow(
            id_hash=_hash(session_id), issuer=issuer, sub=principal.sub, agency=principal.agency,
            roles=tuple(sorted(principal.roles)), csrf=secrets.token_urlsafe(32), created_at=now,
            last_seen_at=now, expires_at=now + self._absolute,
        )  # fmt: skip
        self.repo.create(row)
        return session_id, self._session(row)

    def lookup(self, session_id: str | None) -> ConsoleSession | None:
        """The live session of a cookie value (its idle clock restarted), or None: unknown, expired, ended."""
        if not session_id or len(session_id) > 200:
            return None
        row = self.repo.get(_hash(session_id))
        if row is None:
            return None
        now = self._clock.now()
        if now >= row.expires_at or now >= row.last_seen_at + self._idle:
            self.repo.delete(row.id_hash)
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            self.repo.touch(row.id_hash, now)
            row = SessionRow(**{**row.__dict__, "last_seen_at": now})
        return self._session(row)

    def still_live(self, session: ConsoleSession) -> bool:
        """Whether ``session`` is still there and unexpired (without restarting its idle clock)."""
        row = self.repo.get(session.id_hash)
        now = self._clock.now()
        return row is not None and now < row.expires_at and now < row.last_seen_at + self._idle

    def end(self, session: ConsoleSession) -> None:
        self.repo.delete(session.id_hash)

    def purge(self) -> int:
        now = self._clock.now()
        return self.repo.purge(now, now - self._idle)

    def _session(self, row: SessionRow) -> ConsoleSession:
        principal = Principal.of(row.sub, row.agency, frozenset(row.roles))
        expires = min(row.expires_at, row.last_seen_at + self._idle)
        return ConsoleSession(row.id_hash, row.issuer, principal, row.csrf, expires)
