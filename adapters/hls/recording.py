"""Reading an origin's recording playlist (RFC 8216): segments placed in time by EXT-X-PROGRAM-DATE-TIME.

The origin serves its recording as a media playlist: VOD (§4.3.3.5, finished), EVENT (growing), or a sliding
live window (no PLAYLIST-TYPE; §6.2.2 lets it drop old segments, which a rolling recording must). Only what
places a segment in time is read; nothing else of the playlist is passed on, since the broker writes its own
VOD playlist from the listing. The playlist is refused (:class:`RefusedPlaylist`) rather than guessed at when
a segment cannot be placed in time, a URI leaves the system (the resolver is the adapter's
:class:`~adapters.hls.paths.UriPolicy`: no SSRF), or a feature would need more than a plain GET of a segment
(byte ranges, encryption, master playlists).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from broker.adapterapi import AdapterError, RecordedSegment, Recording, RefusedPlaylist

MAX_SEGMENT_SECONDS = 60.0
MAX_LINES = 200_000  # a 10-minute recording of 1-second segments is ~2,000 lines
# §4.1: no control characters except CR and LF; also no BOM and no Unicode line separators anywhere.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
_NUMBER = re.compile(r"\d{1,6}(\.\d{1,9})?")
# §4.3.2.6: an ISO 8601 date-time; the broker needs the offset to place it (Z, +hh:mm or +hhmm).
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})", re.ASCII)
_MASTER_TAGS = ("EXT-X-STREAM-INF", "EXT-X-I-FRAME-STREAM-INF", "EXT-X-MEDIA", "EXT-X-SESSION-KEY")
_URI_ATTR = re.compile(r'(?:^|,)URI="([^"\r\n]*)"')

Resolve = Callable[[str, str], str]


def _refuse(line: int, why: str) -> RefusedPlaylist:
    return RefusedPlaylist(f"recording playlist line {line}: {why}" if line else f"recording playlist: {why}")


def parse_instant(text: str, line: int) -> datetime:
    """An EXT-X-PROGRAM-DATE-TIME value (§4.3.2.6) with its offset, as an aware datetime."""
    match = _DATE_TIME.fullmatch(text)
    if not match:
        raise _refuse(line, f"#EXT-X-PROGRAM-DATE-TIME {text[:64]!r} is not a date-time with an offset (§4.3.2.6)")
    fraction, offset = match.group(1) or "", match.group(2)
    offset = "+00:00" if offset == "Z" else offset if ":" in offset else f"{offset[:3]}:{offset[3:]}"
    try:
        return datetime.fromisoformat(f"{text[:19]}{fraction[:7].ljust(7, '0') if fraction else ''}{offset}")
    except ValueError:
        raise _refuse(line, f"#EXT-X-PROGRAM-DATE-TIME {text[:64]!r} is not a valid date-time") from None


def _lines(body: bytes) -> list[str]:
    if body.startswith(b"\xef\xbb\xbf"):
        raise _refuse(1, "byte order mark (§4.1)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refuse(body[: exc.start].count(b"\n") + 1, "not UTF-8 (§4.1)") from None
    lines = text.replace("\r\n", "\n").split("\n")
    if len(lines) > MAX_LINES:
        raise _refuse(0, f"{len(lines)} lines, over the {MAX_LINES}-line limit")
    for number, line in enumerate(lines, 1):
        if "\r" in line or _CONTROL.search(line):
            raise _refuse(number, "control character or bare CR (§4.1)")
    if lines[0] != "#EXTM3U":
        raise _refuse(1, "not an HLS playlist: the first line must be #EXTM3U (§4.3.1.1)")
    return lines


class _Reader:
    def __init__(self, base_ref: str, resolve: Resolve) -> None:
        self.base_ref, self.resolve = base_ref, resolve
        self.segments: list[RecordedSegment] = []
        self.target: float | None = None
        self.duration: float | None = None  # from the pending EXTINF
        self.date: datetime | None = None  # EXT-X-PROGRAM-DATE-TIME of the next segment
        self.next_start: datetime | None = None  # where the next segment starts if it has no date of its own
        self.discontinuity = False
        self.gap = False
        self.init_ref: str | None = None

    def ref(self, uri: str, line: int) -> str:
        try:
            return self.resolve(self.base_ref, uri)
        except AdapterError as exc:
            raise _refuse(line, f"URI outside the camera system: {exc}") from None

    def tag(self, name: str, value: str, line: int) -> None:
        if name in _MASTER_TAGS:
            raise _refuse(line, f"#{name}: a master playlist; recording_path must name a media playlist (§4.3.4)")
        if name == "EXT-X-TARGETDURATION":  # §4.3.3.1
            if self.target is not None or not _NUMBER.fullmatch(value):
                raise _refuse(line, f"bad or second #EXT-X-TARGETDURATION {value[:32]!r} (§4.3.3.1)")
            self.target = float(value)
            if not 0 < self.target <= MAX_SEGMENT_SECONDS:
                raise _refuse(line, f"#EXT-X-TARGETDURATION {value} outside (0, {MAX_SEGMENT_SECONDS:g}]")
        elif name == "EXTINF":  # §4.3.2.1: EXTINF:<duration>,[<title>]
            number = value.split(",", 1)[0]
            if not _NUMBER.fullmatch(number) or not 0 < float(number) <= MAX_SEGMENT_SECONDS:
                raise _refuse(
                    line, f"#EXTINF duration {number[:32]!r} is not in (0, {MAX_SEGMENT_SECONDS:g}] (§4.3.2.1)"
                )
            self.duration = float(number)
        elif name == "EXT-X-PROGRAM-DATE-TIME":
            self.date = parse_instant(value, line)
        elif name == "EXT-X-DISCONTINUITY":  # §4.3.2.3: the next segment's time cannot be derived
            self.discontinuity, self.next_start = True, None
        elif name == "EXT-X-GAP":  # 8216bis §4.4.4.7: no media; the segment is skipped
            self.gap = True
        elif name == "EXT-X-BYTERANGE":
            raise _refuse(line, "#EXT-X-BYTERANGE sub-range segments are not supported (§4.3.2.2)")
        elif name == "EXT-X-KEY" and not value.startswith("METHOD=NONE"):
            raise _refuse(line, "encrypted segments (#EXT-X-KEY) are not supported (§4.3.2.4)")
        elif name == "EXT-X-MAP":  # §4.3.2.5
            uri = _URI_ATTR.search(value)
            if uri is None or len(_URI_ATTR.findall(value)) > 1 or "BYTERANGE=" in value:
                raise _refuse(line, "#EXT-X-MAP needs one URI (§4.2) and no BYTERANGE here (§4.3.2.5)")
            self.init_ref = self.ref(uri.group(1), line)

    def uri(self, uri: str, line: int) -> None:
        if self.duration is None:
            raise _refuse(line, "URI line without a preceding #EXTINF (§4.3.2.1)")
        if uri != uri.strip():
            raise _refuse(line, "whitespace around a URI line (§4.1)")
        ref = self.ref(uri, line)
        if ref.split("?", 1)[0].lower().endswith((".m3u8", ".m3u")):
            raise _refuse(line, "a segment URI names a playlist (§4.3.2.1: a segment is a media file)")
        start = self.date or self.next_start
        if start is None:
            raise _refuse(line, "segment without #EXT-X-PROGRAM-DATE-TIME: it cannot be placed in time (§4.3.2.6)")
        if self.segments and start < self.segments[-1].end - timedelta(milliseconds=500):
            raise _refuse(line, "segments overlap or go back in time (§4.3.2.6 dates must increase)")
        if self.target is not None and round(self.duration) > self.target:
            raise _refuse(line, f"#EXTINF {self.duration:g} over the target duration (§4.3.3.1)")
        end = start + timedelta(seconds=self.duration)
        if self.gap:
            self.discontinuity = True  # the next segment follows missing media
        else:
            self.segments.append(RecordedSegment(ref, start, self.duration, self.discontinuity, self.init_ref))
            self.discontinuity = False
        self.duration, self.date, self.next_start, self.gap = None, None, end, False


def parse_recording(body: bytes, *, base_ref: str, resolve: Resolve) -> Recording:
    """Every segment of the recording playlist fetched as ``base_ref``, placed in time; or RefusedPlaylist."""
    lines = _lines(body)
    reader = _Reader(base_ref, resolve)
    for number, line in enumerate(lines[1:], 2):
        if not line or (line.startswith("#") and not line.startswith("#EXT")):
            continue  # §4.1: blank lines and comments
        if line.startswith("#EXT"):
            name, _, value = line[1:].partition(":")
            reader.tag(name, value, number)
        else:
            reader.uri(line, number)
    if reader.target is None:
        raise _refuse(0, "no #EXT-X-TARGETDURATION (§4.3.3.1 REQUIRED)")
    return Recording(tuple(reader.segments), reader.target)
