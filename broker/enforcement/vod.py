"""The VOD playlist of recorded footage, written by the broker from an adapter's listing. Pure: no I/O, no clock.

The broker never passes an upstream recording playlist on: it writes a fresh RFC 8216 VOD media playlist
(§4.3.3.5 ``EXT-X-PLAYLIST-TYPE:VOD``, §4.3.3.4 ``EXT-X-ENDLIST``) listing only the segments that start within
the window the decision allowed, each placed in time (§4.3.2.6 ``EXT-X-PROGRAM-DATE-TIME``) and named by a
signed broker URL from ``sign``. The window is applied here again, whatever the adapter returned.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from broker.adapterapi import RecordedSegment, starting_within
from broker.policy import Window

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
GAP_SECONDS = 0.5  # a jump in program date-time larger than this is a discontinuity (§4.3.2.3)


def window_claim(window: Window) -> tuple[int, int]:
    """The window in whole microseconds since the epoch (exact for datetimes), for a stream token."""
    return (window.start - EPOCH) // MICROSECOND, (window.end - EPOCH) // MICROSECOND


def claim_window(claim: tuple[int, int]) -> Window:
    return Window(EPOCH + claim[0] * MICROSECOND, EPOCH + claim[1] * MICROSECOND)


def _date(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def select(segments: tuple[RecordedSegment, ...], window: Window) -> tuple[RecordedSegment, ...]:
    """The segments that start in ``[window.start, window.end)``: no footage from before the allowed start."""
    return starting_within(segments, window.start, window.end)


def vod_playlist(segments: tuple[RecordedSegment, ...], sign: Callable[[str], str]) -> bytes:
    """A VOD media playlist of ``segments`` (already selected, oldest first), every URI from ``sign``."""
    if not segments:
        raise ValueError("a VOD playlist needs at least one segment")
    # §4.3.3.1: every EXTINF rounded to the nearest integer is <= the target duration.
    target = max(1, max(math.ceil(s.duration) for s in segments))
    uses_map = any(s.init_ref for s in segments)
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{6 if uses_map else 3}",  # §7: EXT-X-MAP outside I-frame playlists needs version 6
        "#EXT-X-PLAYLIST-TYPE:VOD",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
    ]
    previous: RecordedSegment | None = None
    init: str | None = None
    for seg in segments:
        if previous is not None and (
            seg.discontinuity or abs((seg.start - previous.end).total_seconds()) > GAP_SECONDS
        ):
            lines.append("#EXT-X-DISCONTINUITY")
        if seg.init_ref and seg.init_ref != init:
            init = seg.init_ref
            lines.append(f'#EXT-X-MAP:URI="{sign(init)}"')
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_date(seg.start)}")
        lines.append(f"#EXTINF:{seg.duration:.6f},")  # §4.3.2.1: decimal-floating-point (version 3)
        lines.append(sign(seg.ref))
        previous = seg
    lines.append("#EXT-X-ENDLIST")
    return ("\n".join(lines) + "\n").encode("ascii")
