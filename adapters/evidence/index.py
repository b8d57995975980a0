"""The clips ready to play, and each device's footage as one timeline of recorded segments.

A clip's segments are placed from its metadata's start, one after the other by their durations (RFC 8216
§4.3.2.6: the program date-time of a segment is that of the previous one plus its duration). The first segment
of every clip is a discontinuity (§4.3.2.3): a new recording, a new encoder timeline. Where two clips of one
device overlap (an export made twice, a re-export of part of a recording), the earlier-starting clip keeps the
time and the other's overlapping segments are left out, so a device's timeline never runs backwards.

A segment's ref is ``<clip id>-<number>.ts`` (16 hex digits, 5 digits): the clip id names a directory of the
private cache and the number a file in it, so nothing a ref says is ever used as a path as it stands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from adapters.evidence.metadata import ClipMeta, Position
from broker.adapterapi import RecordedSegment

SEGMENT_REF = re.compile(r"([0-9a-f]{16})-(\d{5})\.ts")
OVERLAP_TOLERANCE = timedelta(milliseconds=500)


@dataclass(frozen=True, slots=True)
class Clip:
    id: str  # the scanner's fingerprint
    rel: str  # where it is in the evidence folder
    meta: ClipMeta
    directory: Path  # its segments in the cache
    segments: tuple[tuple[str, float], ...]  # (file name, seconds)

    @property
    def duration(self) -> float:
        return sum(d for _, d in self.segments)

    def recorded(self) -> list[RecordedSegment]:
        out, at = [], self.meta.start
        for number, (_, seconds) in enumerate(self.segments):
            out.append(RecordedSegment(f"{self.id}-{number:05d}.ts", at, seconds, discontinuity=number == 0))
            at += timedelta(seconds=seconds)
        return out


@dataclass(frozen=True, slots=True)
class Timeline:
    segments: tuple[RecordedSegment, ...]
    left_out: Mapping[str, int]  # clip rel -> segments left out because they overlap an earlier clip


def timeline(clips: Iterable[Clip]) -> Timeline:
    kept: list[RecordedSegment] = []
    left_out: dict[str, int] = {}
    for clip in sorted(clips, key=lambda c: (c.meta.start, c.rel)):
        first = True  # the first segment kept of each clip follows another clip's (§4.3.2.3)
        for seg in clip.recorded():
            if kept and seg.start < kept[-1].end - OVERLAP_TOLERANCE:
                left_out[clip.rel] = left_out.get(clip.rel, 0) + 1
                continue
            kept.append(replace(seg, discontinuity=True) if first else seg)
            first = False
    return Timeline(tuple(kept), left_out)


class ClipIndex:
    """An immutable view: the adapter builds a new one after each look at the folder and swaps it in."""

    def __init__(self, clips: Iterable[Clip] = ()) -> None:
        self.clips: dict[str, Clip] = {c.id: c for c in clips}
        by_device: dict[str, list[Clip]] = {}
        for clip in self.clips.values():
            by_device.setdefault(clip.meta.device, []).append(clip)
        self.timelines = {device: timeline(group) for device, group in by_device.items()}
        self.by_device = by_device

    def segment(self, ref: str) -> tuple[Clip, str] | None:
        """The clip and file name a segment ref names, if it is one of the clips ready now."""
        match = SEGMENT_REF.fullmatch(ref)
        clip = self.clips.get(match.group(1)) if match else None
        if match is None or clip is None or int(match.group(2)) >= len(clip.segments):
            return None
        return clip, clip.segments[int(match.group(2))][0]

    def positions(self, device: str, start: datetime, end: datetime) -> tuple[Position, ...]:
        """Where the device reported being in ``[start, end)``, from its clips' metadata, oldest first."""
        found = {p for c in self.by_device.get(device, ()) for p in c.meta.positions if start <= p.at < end}
        return tuple(sorted(found, key=lambda p: p.at))
