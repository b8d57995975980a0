"""Durations, instants and dates in the contract's formats (access contract, preamble)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DURATION = re.compile(r"^(-?)(\d{1,9})([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: object) -> timedelta:
    """``90s``, ``60m``, ``4h``, ``30d``, optionally negative (``-30s``)."""
    if not isinstance(text, str):
        raise ValueError(f"malformed duration {text!r}: expected an integer and a unit, like 90s, 60m, 4h or 30d")
    m = _DURATION.match(text.strip())
    if not m:
        raise ValueError(f"malformed duration {text!r}: expected an integer and a unit, like 90s, 60m, 4h or 30d")
    sign = -1 if m.group(1) else 1
    return timedelta(seconds=sign * int(m.group(2)) * _UNITS[m.group(3)])


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


def parse_instant(value: object) -> datetime:
    """An ISO 8601 instant *with* an offset; returned in UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"malformed instant {value!r}: expected ISO 8601 like 2026-09-14T13:05:00Z") from None
    else:
        raise ValueError(f"malformed instant {value!r}: expected ISO 8601 like 2026-09-14T13:05:00Z")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"instant {value!r} has no offset: add Z or +HH:MM")
    return parsed.astimezone(UTC)


def format_instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def parse_date(value: object) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"malformed date {value!r}: expected YYYY-MM-DD")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"malformed date {value!r}: {exc}") from None
    raise ValueError(f"malformed date {value!r}: expected YYYY-MM-DD")


def parse_timezone(value: object) -> ZoneInfo:
    if not isinstance(value, str) or not value or value.startswith(("/", ".")) or ".." in value:
        raise ValueError(f"unknown timezone {value!r}: expected an IANA name like America/New_York")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r}: expected an IANA name like America/New_York") from None


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """00:00 local on ``day`` as a UTC instant (DST-safe: local midnight exists in every IANA zone used)."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
