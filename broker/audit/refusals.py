"""Refusals counted per source and minute, in bounded size (pure: no I/O, time passed in).

CJIS Security Policy 5.4.1.1 counts unsuccessful access attempts among the events to audit. One record per
refused request would let anyone who can reach the broker fill its disk (2,000 wrongly signed trigger posts
with 8,000-character ids once wrote 16 MB), so refusals are counted here and recorded in aggregate:

- A refusal's key is its kind, the client address, the reason, and, when the caller was authenticated, the
  principal's sub and agency (never a claim of a token that failed: that goes under ``claimed``, truncated),
  plus the action and MOU where there are some.
- The first refusal of a key in a minute is written at once (``count`` 1: an attacker's first attempt is
  durable even if the broker dies the next second); the others of that minute are written together when the
  minute is over (one record, ``count`` n), by the housekeeping tick or at shutdown. Each record counts the
  refusals no earlier record counted: the refusals of a key in a minute are the sum of its records' counts.
- Every field is bounded: strings cut at :data:`MAX_TEXT` characters, at most :data:`MAX_MESSAGES` distinct
  messages counted per key (the rest under ``"…"``).
- At most ``max_keys`` keys per minute; refusals of further keys go to one ``refusal.overflow`` record of the
  minute, counted per kind. So a minute of refusals costs at most ``2 * max_keys + 1`` records, however many
  requests were refused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

MINUTE = timedelta(minutes=1)
MAX_TEXT = 200  # characters of any client-supplied string kept
MAX_MESSAGES = 5  # distinct messages counted per key and minute
MAX_SAMPLE_FIELDS = 8
MAX_WINDOWS = 10  # minutes kept key by key while records cannot be written; older ones only as counts
OVERFLOW = "refusal.overflow"
OTHER_MESSAGES = "…"


def cut(value: object, limit: int = MAX_TEXT) -> str | None:
    """``value`` as a string of at most ``limit`` characters (None stays None)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bounded(values: Mapping[str, object] | None) -> dict[str, str]:
    """At most :data:`MAX_SAMPLE_FIELDS` fields, names and values cut; None values left out."""
    out: dict[str, str] = {}
    for name, value in (values or {}).items():
        if value is None:
            continue
        if len(out) == MAX_SAMPLE_FIELDS:
            break
        out[cut(name, 64) or ""] = cut(value) or ""
    return out


def window_of(instant: datetime) -> datetime:
    """The minute ``instant`` falls in (its start)."""
    return instant.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class RefusalKey:
    kind: str
    client: str | None
    reason: str
    sub: str | None = None
    agency: str | None = None
    action: str | None = None
    mou: str | None = None


@dataclass(frozen=True)
class Refusal:
    """One record to write: ``count`` refusals of ``key`` between ``first`` and ``last``, in ``window``."""

    key: RefusalKey
    window: datetime
    count: int
    first: datetime
    last: datetime
    roles: tuple[str, ...] = ()
    sample: dict[str, str] = field(default_factory=dict)
    claimed: dict[str, str] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)  # overflow records: refusals per kind

    def append_args(self) -> tuple[str, dict[str, Any]]:
        """``(kind, fields)`` for :meth:`broker.audit.AuditLog.append`."""
        k = self.key
        details: dict[str, Any] = {"count": self.count, "first": self.first, "last": self.last, "window": self.window}
        for name, value in (
            ("sample", self.sample),
            ("claimed", self.claimed),
            ("messages", self.messages),
            ("kinds", self.kinds),
        ):
            if value:
                details[name] = dict(value)
        fields: dict[str, Any] = {"client": k.client, "reason": k.reason, "allowed": False, "details": details}
        if k.sub is not None:
            fields |= {"principal_sub": k.sub, "principal_agency": k.agency, "principal_roles": self.roles}
        if k.action is not None:
            fields["action"] = k.action
        if k.mou is not None:
            fields["mou"] = k.mou
        return k.kind, fields


@dataclass
class _Tally:
    roles: tuple[str, ...]
    sample: dict[str, str]
    claimed: dict[str, str]
    count: int = 0  # refusals not yet in a record
    first: datetime | None = None
    last: datetime | None = None
    messages: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)

    def add(self, count: int, first: datetime, last: datetime, messages: Mapping[str, int]) -> None:
        self.count += count
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)
        for message, n in messages.items():
            if message not in self.messages and len(self.messages) >= MAX_MESSAGES:
                message = OTHER_MESSAGES
            self.messages[message] = self.messages.get(message, 0) + n

    def take(self, key: RefusalKey, window: datetime) -> Refusal | None:
        """The record of what is counted and not yet written (None: nothing), then nothing is."""
        if self.count == 0 or self.first is None or self.last is None:
            return None
        out = Refusal(
            key,
            window,
            self.count,
            self.first,
            self.last,
            self.roles,
            self.sample,
            self.claimed,
            dict(self.messages),
            dict(self.kinds),
        )
        self.count, self.first, self.last, self.messages, self.kinds = 0, None, None, {}, {}
        return out


@dataclass
class _Window:
    tallies: dict[RefusalKey, _Tally] = field(default_factory=dict)
    overflow: _Tally | None = None

    def overflowed(self) -> _Tally:
        if self.overflow is None:
            self.overflow = _Tally((), {}, {})
        return self.overflow


class RefusalCounter:
    """Counts refusals by key and minute (thread-safe); :meth:`due` hands out the records to write."""

    def __init__(self, max_keys: int = 100, max_windows: int = MAX_WINDOWS) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.max_keys = max_keys
        self.max_windows = max_windows
        self._windows: dict[datetime, _Window] = {}
        self._lock = threading.Lock()

    def note(
        self,
        kind: str,
        *,
        now: datetime,
        client: str | None,
        reason: str | None,
        message: str | None = None,
        sub: str | None = None,
        agency: str | None = None,
        roles: Iterable[str] = (),
        action: str | None = None,
        mou: str | None = None,
        sample: Mapping[str, object] | None = None,
        claimed: Mapping[str, object] | None = None,
    ) -> Refusal | None:
        """Count one refusal; returns the record to write at once when it is its key's first this minute."""
        key = RefusalKey(
            kind, cut(client, 64), cut(reason, 64) or "unspecified", sub, agency, cut(action, 64), cut(mou, 64)
        )
        messages = {cut(message) or "": 1} if message else {}
        minute = window_of(now)
        with self._lock:
            window = self._windows.get(minute)
            if window is None:
                window = self._windows[minute] = _Window()
                self._compact()
            tally = window.tallies.get(key)
            if tally is None:
                if len(window.tallies) >= self.max_keys:
                    over = window.overflowed()
                    over.add(1, now, now, {})
                    over.kinds[kind] = over.kinds.get(kind, 0) + 1
                    return None
                tally = window.tallies[key] = _Tally(tuple(sorted(roles)), bounded(sample), bounded(claimed))
                tally.add(1, now, now, messages)
                return tally.take(key, minute)
            tally.add(1, now, now, messages)
            return None

    def due(self, now: datetime, *, final: bool = False) -> list[Refusal]:
        """The records of every minute that is over (``final``: of every minute), in time order; they are no
        longer counted here (give back those that could not be written with :meth:`restore`)."""
        out: list[Refusal] = []
        with self._lock:
            for minute in sorted(self._windows):
                if not final and minute + MINUTE > now:
                    continue
                window = self._windows.pop(minute)
                for key, tally in window.tallies.items():
                    if (rec := tally.take(key, minute)) is not None:
                        out.append(rec)
                if window.overflow is not None and (rec := window.overflow.take(_overflow_key(), minute)):
                    out.append(rec)
        return out

    def restore(self, records: Iterable[Refusal]) -> None:
        """Count again records that could not be written (they go out with the next :meth:`due`)."""
        with self._lock:
            for rec in records:
                window = self._windows.setdefault(rec.window, _Window())
                if rec.key.kind == OVERFLOW:
                    tally = window.overflowed()
                    for kind, n in rec.kinds.items():
                        tally.kinds[kind] = tally.kinds.get(kind, 0) + n
                else:
                    tally = window.tallies.setdefault(rec.key, _Tally(rec.roles, rec.sample, rec.claimed))
                tally.add(rec.count, rec.first, rec.last, rec.messages)
            self._compact()

    def pending(self) -> int:
        """Refusals counted and not yet handed out as records."""
        with self._lock:
            return sum(
                t.count for w in self._windows.values() for t in [*w.tallies.values(), *filter(None, [w.overflow])]
            )

    def _compact(self) -> None:
        """Beyond ``max_windows`` minutes held (records could not be written), the oldest keep counts only."""
        detailed = [m for m in sorted(self._windows) if self._windows[m].tallies]
        for minute in detailed[: max(0, len(detailed) - self.max_windows)]:
            window = self._windows[minute]
            over = window.overflowed()
            for key, tally in window.tallies.items():
                if tally.count and tally.first is not None and tally.last is not None:
                    over.add(tally.count, tally.first, tally.last, {})
                    over.kinds[key.kind] = over.kinds.get(key.kind, 0) + tally.count
            window.tallies.clear()


def _overflow_key() -> RefusalKey:
    return RefusalKey(OVERFLOW, None, "too_many_keys")
