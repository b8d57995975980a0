"""Durations, instants and dates in the contract's formats (access contract, preamble)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, WithJsonSchema

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
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"instant {value!r} {OUT_OF_RANGE}") from None


# RFC 3339 §5.6 date-time: full-date "T" full-time, the offset required (Z or ±hh:mm), "T"/"Z" any case.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:(?P<sec>\d{2})(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})", re.ASCII)
DATE_TIME = {"type": "string", "format": "date-time"}
OUT_OF_RANGE = "is outside the instants this service handles (years 0001 to 9999 in UTC)"


def parse_rfc3339(value: Any) -> datetime:
    """An RFC 3339 §5.6 date-time with its offset, and nothing else (no bare numbers, no naive times); in UTC.

    RFC 3339 allows any year 0000-9999 with any offset up to ±23:59, so ``0001-01-01T00:00:00+14:00`` or
    ``9999-12-31T23:59:59-14:00`` are valid text that no UTC instant represents (Python's years are 1-9999):
    refused here as a ValueError, so the caller's field gets the 422 (was: an OverflowError, a 500, later).
    """
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError("needs an offset (e.g. 2026-09-14T13:00:00Z)")
        return _utc(value)
    if not isinstance(value, str) or not (match := _RFC3339.fullmatch(value)):
        raise ValueError("must be an RFC 3339 date-time with offset, e.g. 2026-09-14T13:00:00Z")
    text = value.upper()
    if match["sec"] == "60":  # RFC 3339 §5.7 allows a leap second; Python's datetime has none
        text = f"{text[: match.start('sec')]}59{text[match.end('sec') :]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a valid date-time (RFC 3339 §5.6)") from None
    return _utc(parsed)


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(OUT_OF_RANGE) from None


#: A request's date-time (body field or query parameter): RFC 3339 with offset, in UTC, representable.
Rfc3339 = Annotated[datetime, BeforeValidator(parse_rfc3339), WithJsonSchema(DATE_TIME)]


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
