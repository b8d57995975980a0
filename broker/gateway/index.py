"""A camera's segments, indexed as ffmpeg writes them: the live playlist and the rolling recording. Pure: no I/O.

ffmpeg's own playlist lists its last few segments and starts over at every restart. The index outlives the
restarts: each segment ffmpeg lists is added once, with its program date-time and duration (RFC 8216
§4.3.2.6, §4.3.2.1), a media sequence number of the gateway's own and the run of ffmpeg it came from. So:

- the live playlist the gateway serves (:meth:`SegmentIndex.live_playlist`) keeps one media sequence across
  restarts (§6.2.1: it never goes backwards) and marks each restart with ``EXT-X-DISCONTINUITY`` (the new
  run's timestamps start over) counted by ``EXT-X-DISCONTINUITY-SEQUENCE`` (§4.3.3.3, §6.2.2): a player
  keeps playing through a camera that dropped and came back;
- the same segments, kept ``retention_seconds``, are the recording for pre-event playback
  (:meth:`SegmentIndex.starting_within`).

Only names like ``s1796035001784246.ts`` are ever indexed: nothing a playlist says can name another file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SEGMENT_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}\.ts")


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    start: datetime
    duration: float
    seq: int  # the gateway's media sequence number: never reused for this camera
    disc: int  # how many restarts of ffmpeg came before it (its discontinuity sequence number)
    epoch: int  # the start on demand it belongs to: a live playlist lists only the current one's

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration)


Entry = tuple[str, datetime | None, float]


def parse_ffmpeg_playlist(text: str) -> list[Entry]:
    """(name, program date-time or None, duration) of each segment ffmpeg's hls muxer listed, in order.

    ffmpeg writes ``#EXTINF`` then ``#EXT-X-PROGRAM-DATE-TIME`` then the name; any order of the tags before a
    name is accepted. A name that is not a plain ``.ts`` file name is left out.
    """
    entries: list[Entry] = []
    start: datetime | None = None
    duration: float | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#EXTINF:"):
            try:
                duration = float(line[8:].split(",", 1)[0])
            except ValueError:
                duration = None
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            try:
                start = datetime.fromisoformat(line[25:]).astimezone(UTC)
            except ValueError:
                start = None
        elif line and not line.startswith("#"):
            if duration is not None and duration > 0 and SEGMENT_NAME.fullmatch(line):
                entries.append((line, start, duration))
            start, duration = None, None
    return entries


def _date(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SegmentIndex:
    """The segments of one camera, oldest first (every method is O(segments) at most)."""

    def __init__(self, segment_seconds: float) -> None:
        self.segments: list[Segment] = []
        self._names: set[str] = set()
        self._next_seq = 0
        self._disc = 0
        self._last_run: int | None = None
        # §4.3.3.1: every EXTINF rounded to the nearest integer <= the target duration, which never changes
        # within a playlist's life (§6.2.1): it only grows, when a camera's keyframes are further apart.
        self.target = max(1, round(segment_seconds))

    def __len__(self) -> int:
        return len(self.segments)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def add(self, entries: list[Entry], *, run: int, epoch: int, now: datetime) -> int:
        """Index the entries not seen yet, from ffmpeg run ``run``; returns how many were new."""
        added = 0
        for name, start, duration in entries:
            if name in self._names:
                continue
            previous = self.segments[-1] if self.segments else None
            if self._last_run is not None and run != self._last_run:
                self._disc += 1  # a new ffmpeg: its timestamps start over (§4.3.2.3)
            if start is None:  # ffmpeg always writes it; if not, placed after the previous one of the run
                start = previous.end if previous is not None and run == self._last_run else now
            self._last_run = run
            self.segments.append(Segment(name, start, duration, self._next_seq, self._disc, epoch))
            self._names.add(name)
            self._next_seq += 1
            self.target = max(self.target, int(duration + 0.5))
            added += 1
        return added

    def live(self, epoch: int, count: int) -> list[Segment]:
        """The newest ``count`` segments of ``epoch``."""
        tail: list[Segment] = []
        for seg in reversed(self.segments):
            if seg.epoch != epoch or len(tail) == count:
                break
            tail.append(seg)
        return tail[::-1]

    def live_playlist(self, epoch: int, count: int) -> bytes | None:
        """The live media playlist (no ``EXT-X-ENDLIST``) of ``epoch``'s newest segments; None if it has none."""
        segments = self.live(epoch, count)
        if not segments:
            return None
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{self.target}",
            f"#EXT-X-MEDIA-SEQUENCE:{segments[0].seq}",
            f"#EXT-X-DISCONTINUITY-SEQUENCE:{segments[0].disc}",
            "#EXT-X-INDEPENDENT-SEGMENTS",
        ]
        previous: Segment | None = None
        for seg in segments:
            if previous is not None and seg.disc != previous.disc:
                lines.append("#EXT-X-DISCONTINUITY")
            lines += [f"#EXT-X-PROGRAM-DATE-TIME:{_date(seg.start)}", f"#EXTINF:{seg.duration:.6f},", seg.name]
            previous = seg
        return ("\n".join(lines) + "\n").encode("ascii")

    def starting_within(self, start: datetime, end: datetime) -> list[Segment]:
        """The recorded segments that start in ``[start, end)``."""
        return [s for s in self.segments if start <= s.start < end]

    def newest(self) -> Segment | None:
        return self.segments[-1] if self.segments else None

    def drop_oldest(self) -> str | None:
        """Forget the oldest segment; returns its name (None if there is none)."""
        if not self.segments:
            return None
        gone = self.segments.pop(0).name
        self._names.discard(gone)
        return gone

    def prune(self, before: datetime, keep: int) -> list[str]:
        """Forget the segments that ended before ``before``, except the newest ``keep``; returns their names."""
        cut = 0
        limit = max(0, len(self.segments) - keep)
        while cut < limit and self.segments[cut].end < before:
            cut += 1
        gone = [s.name for s in self.segments[:cut]]
        del self.segments[:cut]
        self._names.difference_update(gone)
        return gone
