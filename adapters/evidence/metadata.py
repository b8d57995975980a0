"""What a clip's metadata says, and the generic sidecar format (``<clip>.json``).

Every format (this one and the vendor ones in :mod:`adapters.evidence.vendors`) is read into one
:class:`ClipMeta`: the device that recorded the clip (its ``ref`` in the inventory), the officer, when the
recording started and ended, and the positions the device reported while recording.

The generic sidecar is camgate's own, for any system whose export can be scripted into it::

    clip-0001.mp4
    clip-0001.json  {"device": "pb-body-03", "officer": "Rivera, A. (4411)",
                     "start": "2026-09-14T12:58:00Z", "end": "2026-09-14T12:59:00Z",
                     "positions": [{"at": "2026-09-14T12:58:05Z", "lat": 41.1468, "lon": -73.4946}]}

``start`` is the instant of the clip's first frame (a pre-event buffer included), from which its segments are
placed. ``device`` and ``start`` are required; ``start``/``end``/``at`` are RFC 3339 date-times with a UTC offset (a
time without one is refused unless the system sets ``timezone``); ``end`` after ``start``; positions in WGS 84
degrees. Other keys are ignored. A device id is 1-64 of ``[A-Za-z0-9._-]``, starting with a letter or digit.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

MAX_METADATA_BYTES = 4 << 20  # one position a second for an 8-hour shift is ~2.5 MB of JSON
MAX_POSITIONS = 100_000
DEVICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class MetadataError(ValueError):
    """The metadata file cannot be used; the message says what is wrong with it, for operators."""


@dataclass(frozen=True, slots=True)
class Position:
    at: datetime  # aware, UTC
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class ClipMeta:
    device: str  # the camera ref in the inventory
    start: datetime  # aware, UTC: the instant of the clip's first frame
    end: datetime | None = None
    officer: str | None = None
    name: str = ""  # how the device is shown when listed (inventory sync)
    positions: tuple[Position, ...] = ()
    details: Mapping[str, str] = field(default_factory=dict)  # serial, model, vehicle, evidence id, ...


def device_id(value: Any, what: str = "device") -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise MetadataError(f"{what} is missing or not text")
    text = str(value).strip()
    if not DEVICE_ID.fullmatch(text):
        raise MetadataError(f"{what} {text[:80]!r} is not 1-64 of [A-Za-z0-9._-] starting with a letter or digit")
    return text


def instant(value: Any, what: str, zone: ZoneInfo | None) -> datetime:
    """An ISO 8601 / RFC 3339 date-time as aware UTC; without an offset only if the system names its zone."""
    if not isinstance(value, str) or not 10 <= len(value.strip()) <= 40:
        raise MetadataError(f"{what} is missing or not a date-time")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
    except ValueError:
        raise MetadataError(f"{what} {text!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        if zone is None:
            raise MetadataError(f"{what} {text!r} has no UTC offset; add one, or set the system's 'timezone'")
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def coordinate(value: Any, what: str, limit: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MetadataError(f"{what} {str(value)[:40]!r} is not a number") from None
    if not math.isfinite(number) or abs(number) > limit:
        raise MetadataError(f"{what} {number} is outside [-{limit:g}, {limit:g}]")
    return number


def text_field(value: Any, limit: int = 200) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text[:limit] or None


def position(at: Any, lat: Any, lon: Any, where: str, zone: ZoneInfo | None) -> Position:
    return Position(
        instant(at, f"{where} time", zone),
        coordinate(lat, f"{where} latitude", 90),
        coordinate(lon, f"{where} longitude", 180),
    )


def finish(device: str, start: datetime, end: datetime | None, positions: list[Position], **rest: Any) -> ClipMeta:
    """The checks every format shares: end after start, a bounded, time-ordered list of positions."""
    if end is not None and end <= start:
        raise MetadataError(f"end {end.isoformat()} is not after start {start.isoformat()}")
    if len(positions) > MAX_POSITIONS:
        raise MetadataError(f"{len(positions)} positions, more than {MAX_POSITIONS}")
    return ClipMeta(device, start, end, positions=tuple(sorted(positions, key=lambda p: p.at)), **rest)


def load_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise MetadataError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise MetadataError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, dict):
        raise MetadataError("not a JSON object")
    return data


def parse_generic(body: bytes, zone: ZoneInfo | None) -> ClipMeta:
    data = load_json(body)
    device = device_id(data.get("device"))
    start = instant(data.get("start"), "start", zone)
    end = instant(data["end"], "end", zone) if data.get("end") is not None else None
    raw = data.get("positions")
    raw = [] if raw is None else raw
    if not isinstance(raw, list):
        raise MetadataError("positions is not a list")
    positions = []
    for i, p in enumerate(raw):
        if not isinstance(p, dict):
            raise MetadataError(f"positions[{i}] is not an object")
        positions.append(position(p.get("at"), p.get("lat"), p.get("lon"), f"positions[{i}]", zone))
    officer = text_field(data.get("officer"))
    return finish(device, start, end, positions, officer=officer, name=f"Evidence device {device}")
