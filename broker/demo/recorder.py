"""Rolling recordings for the simulated VMS: what the live encoders produce, kept for ``retention_seconds``.

The live encoders write a short sliding HLS window with ``EXT-X-PROGRAM-DATE-TIME`` on every segment and
delete old segments. :meth:`Recorder.collect` reads such a live playlist and hard-links every new segment
into the camera's recording directory (``<root>/<ref>/``) before the encoder deletes it, noting its date and
duration; :meth:`Recorder.playlist` serves the recording as a sliding media playlist (RFC 8216 §6.2.2: no
PLAYLIST-TYPE, since an EVENT playlist may never drop a segment, §4.3.3.5, and a rolling recording must)
with a program date-time per segment. Thread-safe.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

GAP_SECONDS = 0.5  # a jump in program date-time larger than this is an encoder restart: a discontinuity
_NAME = re.compile(r"[A-Za-z0-9_-]+\.ts")


@dataclass(frozen=True)
class Segment:
    name: str
    start: datetime
    duration: float
    discontinuity: bool

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration)


@dataclass
class _Camera:
    segments: list[Segment] = field(default_factory=list)
    media_sequence: int = 0  # §4.3.3.2: of the first segment listed; grows as old ones are pruned
    discontinuity_sequence: int = 0  # §4.3.3.3: discontinuities pruned so far
    newest: datetime | None = None  # the latest segment start ever recorded (pruning does not lower it)


def live_segments(text: str) -> list[tuple[str, datetime, float]]:
    """(URI, program date-time, duration) of every dated segment of an ffmpeg live playlist."""
    out: list[tuple[str, datetime, float]] = []
    date: datetime | None = None
    duration: float | None = None
    for line in text.splitlines():
        if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            with contextlib.suppress(ValueError):  # ffmpeg writes 2026-11-30T08:17:32.123+0000
                date = datetime.strptime(line.split(":", 1)[1], "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
        elif line.startswith("#EXTINF:"):
            with contextlib.suppress(ValueError):
                duration = float(line[8:].split(",", 1)[0])
        elif line and not line.startswith("#"):
            if date is not None and duration is not None and duration > 0:
                out.append((line.strip(), date, duration))
            date = duration = None
    return out


class Recorder:
    def __init__(self, root: Path, *, retention_seconds: float = 600.0, wall: Callable[[], float] = time.time):
        if retention_seconds <= 0:
            raise ValueError("retention_seconds must be > 0")
        self.root = Path(root)
        self.retention = retention_seconds
        self.wall = wall  # ffmpeg dates segments by the wall clock, so retention is measured on it too
        self._lock = threading.Lock()
        self._cams: dict[str, _Camera] = {}
        shutil.rmtree(self.root, ignore_errors=True)  # files of an earlier run: no index places them in time

    def collect(self, ref: str, live_dir: Path, playlist: str) -> int:
        """Link the new segments of ``live_dir/playlist`` into the recording of ``ref``; how many were new."""
        try:
            text = (live_dir / playlist).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return 0
        target = self.root / ref
        added = 0
        with self._lock:
            cam = self._cams.setdefault(ref, _Camera())
            for name, start, duration in live_segments(text):
                if not _NAME.fullmatch(name) or (cam.newest is not None and start <= cam.newest):
                    continue
                target.mkdir(parents=True, exist_ok=True)
                try:
                    _link(live_dir / name, target / name)
                except FileNotFoundError:
                    continue  # the encoder deleted it first
                last = cam.segments[-1] if cam.segments else None
                gap = last is not None and abs((start - last.end).total_seconds()) > GAP_SECONDS
                cam.segments.append(Segment(name, start, duration, gap))
                cam.newest = start
                added += 1
        self.prune()
        return added

    def prune(self) -> int:
        """Delete segments that ended more than ``retention_seconds`` ago (wall clock)."""
        cutoff = datetime.fromtimestamp(self.wall() - self.retention, UTC)
        pruned = 0
        with self._lock:
            for ref, cam in self._cams.items():
                while cam.segments and cam.segments[0].end < cutoff:
                    old = cam.segments.pop(0)
                    cam.media_sequence += 1
                    cam.discontinuity_sequence += 1 if old.discontinuity else 0
                    (self.root / ref / old.name).unlink(missing_ok=True)
                    pruned += 1
        return pruned

    def segments(self, ref: str) -> list[Segment]:
        with self._lock:
            cam = self._cams.get(ref)
            return list(cam.segments) if cam else []

    def playlist(self, ref: str, prefix: str = "rec/") -> bytes | None:
        """The recording of ``ref`` as a sliding media playlist (URIs ``prefix + name``), None if empty."""
        with self._lock:
            cam = self._cams.get(ref)
            if cam is None or not cam.segments:
                return None
            segs, media_seq, disc_seq = list(cam.segments), cam.media_sequence, cam.discontinuity_sequence
        target = max(1, max(math.ceil(s.duration) for s in segs))  # §4.3.3.1
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{target}",
                 f"#EXT-X-MEDIA-SEQUENCE:{media_seq}", f"#EXT-X-DISCONTINUITY-SEQUENCE:{disc_seq}"]  # fmt: skip
        for seg in segs:
            if seg.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            stamp = seg.start.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            lines += [f"#EXT-X-PROGRAM-DATE-TIME:{stamp}", f"#EXTINF:{seg.duration:.6f},", prefix + seg.name]
        return ("\n".join(lines) + "\n").encode("ascii")

    def file(self, ref: str, name: str) -> Path | None:
        """The recorded segment file ``name`` of ``ref`` if it is still kept."""
        if not _NAME.fullmatch(name) or not any(s.name == name for s in self.segments(ref)):
            return None
        return self.root / ref / name

    def clear(self) -> None:
        with self._lock:
            self._cams.clear()
        shutil.rmtree(self.root, ignore_errors=True)


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except FileExistsError:
        pass
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        shutil.copyfile(source, target)  # another file system: copy instead
