"""Looking at the evidence folder: which clips are there, which are complete, what their metadata says.

A clip is a video file (``.mp4 .mov .m4v .mkv .ts .avi .asf``) with its format's sidecar beside it (same name,
the format's suffix). The folder is walked a few levels deep (exports nest by date or device); hidden names
(``.x``, what rsync and many copiers write to before renaming) and partial downloads (``.part``, ``.tmp``,
``.crdownload``) are passed over. Symbolic links are never followed: a linked clip, sidecar or folder is a
problem for operators, not something to read (a link could point anywhere on the broker's disk).

A clip still being written is not taken: it must have kept its size and modification time since the last look,
or have been last modified ``settle_seconds`` ago. Problems are kept per file with the fingerprint they belong
to, so a bad file is reported once and tried again only when it changes.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from adapters.evidence.metadata import MAX_METADATA_BYTES, ClipMeta, MetadataError, parse_generic
from adapters.evidence.vendors import parse_arbitrator, parse_axon, parse_digital_ally

Parser = Callable[[bytes, ZoneInfo | None], ClipMeta]
Sidecar = tuple[Path, os.stat_result] | str | None  # (path, lstat), what is wrong with it, or none there
SIDECARS: dict[str, tuple[str, Parser]] = {
    "generic": (".json", parse_generic),
    "axon": (".axon.json", parse_axon),
    "digital_ally": (".mtd", parse_digital_ally),
    "arbitrator": (".xml", parse_arbitrator),
}
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv", ".ts", ".avi", ".asf"})
PARTIAL_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".download")


class FolderError(OSError):
    """The evidence folder itself cannot be read (missing, not a folder, no permission)."""


def _why(exc: OSError) -> str:
    """The OS's reason, and what to do about the usual ones."""
    if isinstance(exc, PermissionError):
        return f"{exc.strerror} (give the broker's user read access to it)"
    if isinstance(exc, FileNotFoundError):
        return f"{exc.strerror} (check the system's path, or the share it is on)"
    return str(exc.strerror or exc)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A complete clip whose metadata was read: ready to be repackaged."""

    rel: str  # the clip's path inside the folder, '/'-separated
    clip: Path
    fingerprint: str  # changes whenever the clip or its sidecar changes
    size: int
    meta: ClipMeta


@dataclass
class ScanResult:
    ready: list[Candidate]
    waiting: dict[str, str]  # rel -> why it is not taken yet (normal while an export is copied in)
    problems: dict[str, str]  # rel -> what is wrong with it (an operator must act)


def _state(st: os.stat_result) -> tuple[int, int]:
    return st.st_size, st.st_mtime_ns


class Scanner:
    def __init__(self, folder: Path, fmt: str, *, max_clip_bytes: int, settle_seconds: float, max_depth: int,
                 zone: ZoneInfo | None) -> None:  # fmt: skip
        self.folder, self.max_clip_bytes, self.max_depth, self.zone = folder, max_clip_bytes, max_depth, zone
        self.suffix, self.parser = SIDECARS[fmt]
        self.settle = timedelta(seconds=settle_seconds)
        self._seen: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {}
        self._parsed: dict[str, ClipMeta | str] = {}  # fingerprint -> metadata or its problem

    def scan(self, now: datetime, *, settled_only: bool = True) -> ScanResult:
        """Everything in the folder now. ``settled_only=False`` reads clips still changing too (listing)."""
        result = ScanResult([], {}, {})
        seen: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {}
        parsed: dict[str, ClipMeta | str] = {}
        for rel, clip, clip_st, sidecar in self._clips(result):
            if clip_st.st_size > self.max_clip_bytes:
                result.problems[rel] = f"{clip_st.st_size} bytes, over max_clip_bytes ({self.max_clip_bytes})"
                continue
            side_name = clip.name[: -len(clip.suffix)] + self.suffix
            if sidecar is None:
                result.waiting[rel] = f"no metadata file {side_name!r} beside it yet"
                continue
            if isinstance(sidecar, str):
                result.problems[rel] = f"metadata file {side_name!r}: {sidecar}"
                continue
            side_path, side_st = sidecar
            states = (_state(clip_st), _state(side_st))
            seen[rel] = states
            newest = max(clip_st.st_mtime_ns, side_st.st_mtime_ns) / 1e9
            settled = self._seen.get(rel) == states or now - datetime.fromtimestamp(newest, now.tzinfo) >= self.settle
            if clip_st.st_size == 0 or (settled_only and not settled):
                result.waiting[rel] = "still being written (its size or time changed since the last look)"
                continue
            fingerprint = hashlib.sha256(f"{self.folder}\0{rel}\0{states}".encode()).hexdigest()[:16]
            meta = self._parsed.get(fingerprint) or self._read(side_path, side_st.st_size)
            parsed[fingerprint] = meta
            if isinstance(meta, str):
                result.problems[rel] = f"metadata file {side_name!r}: {meta}"
            else:
                result.ready.append(Candidate(rel, clip, fingerprint, clip_st.st_size, meta))
        if settled_only:  # a listing is not a look: only polls count towards "unchanged since the last look"
            self._seen, self._parsed = seen, parsed
        return result

    def _read(self, path: Path, size: int) -> ClipMeta | str:
        if size > MAX_METADATA_BYTES:
            return f"{size} bytes, over the {MAX_METADATA_BYTES}-byte limit for metadata"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as f:
                body = f.read(MAX_METADATA_BYTES + 1)
        except OSError as exc:
            return f"cannot be read: {exc.strerror}"
        try:
            return self.parser(body, self.zone)
        except MetadataError as exc:
            return str(exc)

    def _clips(self, result: ScanResult) -> Iterator[tuple[str, Path, os.stat_result, Sidecar]]:
        """(rel, clip path, clip lstat, sidecar) for every video file; folder problems go to ``result``."""
        try:
            top = os.stat(self.folder)
        except OSError as exc:
            raise FolderError(f"evidence folder {str(self.folder)!r}: {_why(exc)}") from None
        if not stat.S_ISDIR(top.st_mode):
            raise FolderError(f"evidence folder {str(self.folder)!r} is not a folder")
        stack: list[tuple[Path, str, int]] = [(self.folder, "", 0)]
        while stack:
            directory, prefix, depth = stack.pop()
            try:
                entries = {e.name: e for e in os.scandir(directory)}
            except OSError as exc:
                if not prefix:
                    raise FolderError(f"evidence folder {str(self.folder)!r}: {_why(exc)}") from None
                result.problems[prefix.rstrip("/")] = f"folder cannot be read: {_why(exc)}"
                continue
            for name in sorted(entries):
                entry, rel = entries[name], prefix + name
                if name.startswith(".") or name.lower().endswith(PARTIAL_SUFFIXES):
                    continue
                suffix = Path(name).suffix.lower()
                if entry.is_symlink():
                    if suffix in VIDEO_SUFFIXES or name.endswith(self.suffix) or entry.is_dir():
                        result.problems[rel] = "a symbolic link: refused (copy the file into the folder instead)"
                    continue
                if entry.is_dir(follow_symlinks=False):
                    if depth < self.max_depth:
                        stack.append((Path(entry.path), rel + "/", depth + 1))
                    continue
                if suffix not in VIDEO_SUFFIXES or not entry.is_file(follow_symlinks=False):
                    continue
                side = entries.get(name[: -len(suffix)] + self.suffix)
                sidecar: Sidecar = None
                if side is not None:
                    if side.is_symlink():
                        sidecar = "a symbolic link: refused (copy the file into the folder instead)"
                    elif side.is_file(follow_symlinks=False):
                        sidecar = (Path(side.path), side.stat(follow_symlinks=False))
                yield rel, Path(entry.path), entry.stat(follow_symlinks=False), sidecar
