"""The evidence-folder adapter: a watched folder of exported clips, offered as recorded footage per device.

Body-worn and in-car systems keep footage in evidence stores and export it as files: a clip and its metadata
(see :mod:`adapters.evidence.vendors` for the sidecars and the vendor documentation they follow). Each device
named by the metadata is a mobile camera of the inventory (``ref`` = the device id). There is no live video
(:class:`NotSupported`: the broker answers 501 ``live_unsupported``) and no snapshot: a frame of a recording
is footage, and footage is served only through playback, whose window the MOU decides.

The folder is looked at every ``poll_interval_seconds`` (a background task on the injected ``sleep``, started
by the first request; :meth:`EvidenceAdapter.poll` looks at once and may be called from any thread). A new,
complete clip is repackaged at once (:mod:`adapters.evidence.repackage`) into a private cache, so it plays a
poll or two after it lands. Whatever is wrong with a file is kept for operators (:meth:`health`, and
:meth:`problems` for ``GET /api/v1/systems``), logged once, and never stops the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import re
import shutil
import stat
import tempfile
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.evidence.index import Clip, ClipIndex
from adapters.evidence.metadata import Position
from adapters.evidence.repackage import PLAYLIST, RepackageError, read_segments, repackage
from adapters.evidence.scanner import Candidate, FolderError, Scanner
from adapters.evidence.settings import EvidenceSettings
from broker.adapterapi import (
    AdapterError,
    DiscoveredCamera,
    Fetched,
    NotSupported,
    Problem,
    ProblemReport,
    Recording,
    SystemSpec,
    starting_within,
)

log = logging.getLogger("camgate.evidence")
MAX_SEGMENT_BYTES = 256 << 20
_CACHE_ENTRY = re.compile(r"[0-9a-f]{16}")


def _read_segment(directory: Path, name: str) -> bytes:
    """The bytes of ``directory/name``, neither of them followed if a symbolic link, a regular file only."""
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
    finally:
        os.close(dir_fd)
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SEGMENT_BYTES:
            raise OSError(f"not a regular file of at most {MAX_SEGMENT_BYTES} bytes")
        return f.read(MAX_SEGMENT_BYTES + 1)


class EvidenceAdapter:
    """:class:`~broker.adapterapi.CameraSystemAdapter` and :class:`~broker.adapterapi.Discoverable`."""

    def __init__(
        self, spec: SystemSpec, *, clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Awaitable[Any]] | None = None, ffmpeg: str | None = None,
    ) -> None:  # fmt: skip
        self.spec = spec
        self.settings = s = EvidenceSettings.from_spec(spec.settings, spec.base_url)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._sleep = sleep or asyncio.sleep
        self._ffmpeg = ffmpeg
        self.scanner = Scanner(s.folder, s.format, max_clip_bytes=s.max_clip_bytes, settle_seconds=s.settle_seconds,
                               max_depth=s.max_depth, zone=s.zone)  # fmt: skip
        self.index = ClipIndex()
        self._lock = threading.Lock()  # one look at the folder at a time
        self._cache: Path | None = None
        self._failed: dict[str, str] = {}  # fingerprint -> why it could not be repackaged (tried once)
        self._status: dict[str, Any] = {"last_poll": None, "folder_error": None, "waiting": {}, "problems": {}}
        self._checked_at: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._polled = False
        self._closed = False

    def __repr__(self) -> str:
        return f"EvidenceAdapter(system={self.spec.id!r}, folder={str(self.settings.folder)!r})"

    # -- the broker's interface -----------------------------------------------------------------------------
    async def live_playlist(self, camera_ref: str) -> Fetched:
        raise NotSupported(f"system {self.spec.id!r} holds exported evidence clips: there is no live video")

    def resolve(self, base_ref: str, uri: str) -> str:
        raise AdapterError(f"system {self.spec.id!r} serves no playlists whose URIs could be resolved")

    async def snapshot(self, camera_ref: str) -> Fetched:
        raise NotSupported(f"system {self.spec.id!r} has no current picture; its footage is served by playback")

    async def recording(self, camera_ref: str, start: datetime, end: datetime) -> Recording:
        await self._ready()
        if self._status["folder_error"]:
            raise AdapterError(f"system {self.spec.id!r}: {self._status['folder_error']}")
        line = self.index.timelines.get(camera_ref)
        if line is None:
            raise AdapterError(f"system {self.spec.id!r}: no clip of device {camera_ref!r}", status=404)
        segments = starting_within(line.segments, start, end)
        target = max((math.ceil(seg.duration) for seg in segments), default=math.ceil(self.settings.segment_seconds))
        return Recording(segments, float(target))

    async def resource(self, ref: str) -> Fetched:
        self._start()
        found = self.index.segment(ref)
        if found is None:
            raise AdapterError(f"system {self.spec.id!r}: {ref[:80]!r} is not a segment of a clip", status=404)
        clip, name = found
        try:
            body = await asyncio.to_thread(_read_segment, clip.directory, name)
        except OSError as exc:
            raise AdapterError(f"system {self.spec.id!r}: segment {ref!r}: {exc.strerror or exc}", status=404) from None
        return Fetched(body=body, content_type="video/mp2t", ref=ref)

    async def discover(self) -> tuple[DiscoveredCamera, ...]:
        """Every device with a clip in the folder (metadata read; nothing repackaged)."""
        try:
            ready = await asyncio.to_thread(self._listing)
        except FolderError as exc:
            raise AdapterError(f"system {self.spec.id!r}: {exc}") from None
        devices: dict[str, list[Candidate]] = {}
        for cand in ready:
            devices.setdefault(cand.meta.device, []).append(cand)
        out = []
        for device, cands in sorted(devices.items()):
            latest = max(cands, key=lambda c: c.meta.start).meta
            # Not the officer: a listing goes to inventory sync and its operators, who need the device only.
            details = {"format": self.settings.format, "clips": str(len(cands)), **latest.details,
                       "latest_clip": latest.start.isoformat().replace("+00:00", "Z")}  # fmt: skip
            out.append(DiscoveredCamera(ref=device, name=latest.name, details=details))
        return tuple(out)

    async def aclose(self) -> None:
        self._closed = True
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await task
        await asyncio.to_thread(self._drop_cache)

    # -- for operators and tests -----------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """The folder's state at the last look: when, a folder problem, clips waiting, and every file problem."""
        status = dict(self._status)
        status.update(clips=len(self.index.clips), devices=sorted(self.index.timelines))
        return status

    async def problems(self) -> ProblemReport:
        """:class:`~broker.adapterapi.ReportsProblems`: the folder's problem and every file's (by its path inside
        the folder) at the last look; the first call starts watching the folder if no request has yet."""
        self._start()
        status, checked_at = self._status, self._checked_at
        found = [Problem("", self._shown(status["folder_error"]))] if status["folder_error"] else []
        found += [Problem(rel, self._shown(why)) for rel, why in sorted(status["problems"].items())]
        return ProblemReport(checked_at, tuple(found))

    def positions(self, camera_ref: str, start: datetime, end: datetime) -> tuple[Position, ...]:
        return self.index.positions(camera_ref, start, end)

    def poll(self) -> None:
        """Look at the folder now: take complete new clips, drop removed ones, note what is wrong (blocking)."""
        with self._lock:
            if self._closed:
                return
            now = self._clock()
            try:
                scan = self.scanner.scan(now)
                cache = self._cache_dir()
            except (FolderError, OSError) as exc:
                self._set_status(now, str(exc), {}, {})
                return
            clips: dict[str, Clip] = {}
            problems = dict(scan.problems)
            for cand in scan.ready:
                clip = self.index.clips.get(cand.fingerprint) or self._ingest(cand, cache, problems)
                if clip is not None:
                    clips[clip.id] = clip
            index = ClipIndex(clips.values())
            for device, line in index.timelines.items():
                for rel, count in line.left_out.items():
                    problems[rel] = f"{count} segment(s) overlap an earlier clip of device {device!r}: left out"
            self.index = index
            self._prune(cache, set(clips))
            self._failed = {fp: why for fp, why in self._failed.items() if fp in {c.fingerprint for c in scan.ready}}
            self._set_status(now, None, scan.waiting, problems)

    # -- internals --------------------------------------------------------------------------------------------
    def _listing(self) -> list[Candidate]:
        with self._lock:
            return self.scanner.scan(self._clock(), settled_only=False).ready

    def _ingest(self, cand: Candidate, cache: Path, problems: dict[str, str]) -> Clip | None:
        if cand.fingerprint in self._failed:
            problems[cand.rel] = self._failed[cand.fingerprint]
            return None
        out = cache / cand.fingerprint
        try:
            if out.is_dir() and not out.is_symlink() and (out / PLAYLIST).is_file():  # a kept cache_dir
                segments = read_segments(out / PLAYLIST)
            else:
                self._remove(out)
                segments = repackage(cand.clip, out, segment_seconds=self.settings.segment_seconds,
                                     timeout=self.settings.repackage_timeout_seconds, ffmpeg=self._ffmpeg)  # fmt: skip
        except (RepackageError, OSError, ValueError) as exc:
            why = str(exc) if isinstance(exc, RepackageError) else f"cannot be repackaged: {exc}"
            self._failed[cand.fingerprint] = problems[cand.rel] = why
            return None
        return Clip(cand.fingerprint, cand.rel, cand.meta, out, segments)

    def _set_status(self, now: datetime, folder_error: str | None, waiting: dict[str, str],
                    problems: dict[str, str]) -> None:  # fmt: skip
        before = self._status
        if folder_error and folder_error != before["folder_error"]:
            log.warning("evidence system %s: %s", self.spec.id, folder_error)
        for rel, why in problems.items():
            if before["problems"].get(rel) != why:
                log.warning("evidence system %s: %s skipped: %s", self.spec.id, rel, why)
        keep = before["problems"] if folder_error else problems
        self._status = {"last_poll": now.isoformat().replace("+00:00", "Z"), "folder_error": folder_error,
                        "waiting": waiting, "problems": keep}  # fmt: skip
        self._checked_at = now
        self._polled = True

    def _shown(self, text: str) -> str:
        """``text`` without the private cache's location (ffmpeg's and the OS's messages may name it)."""
        return text.replace(str(self._cache), "<cache>") if self._cache is not None else text

    def _cache_dir(self) -> Path:
        if self._cache is None:
            if self.settings.cache_dir is None:
                self._cache = Path(tempfile.mkdtemp(prefix=f"camgate-evidence-{self.spec.id}-"))
            else:  # one sub-folder per system: systems sharing a cache_dir never prune each other's segments
                path = Path(self.settings.cache_dir).absolute() / self.spec.id
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
                if path.is_symlink() or not path.is_dir():
                    raise OSError(f"cache_dir {str(path)!r} is not a folder (a symbolic link is refused)")
                path.chmod(0o700)
                self._cache = path
        return self._cache

    def _prune(self, cache: Path, keep: set[str]) -> None:
        """Remove the cache entries of clips no longer in the folder (only names this adapter makes)."""
        with os.scandir(cache) as entries:
            stale = [Path(e.path) for e in entries if _CACHE_ENTRY.fullmatch(e.name) and e.name not in keep]
        for path in stale:
            self._remove(path)

    @staticmethod
    def _remove(path: Path) -> None:
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.exists():
            shutil.rmtree(path)

    def _drop_cache(self) -> None:
        with self._lock:
            if self._cache is not None and self.settings.cache_dir is None:
                shutil.rmtree(self._cache, ignore_errors=True)
            self._cache = None
            self.index = ClipIndex()

    def _start(self) -> None:
        if (self._task is None or self._task.done()) and not self._closed:
            self._task = asyncio.get_running_loop().create_task(self._watch(), name=f"evidence-{self.spec.id}")

    async def _ready(self) -> None:
        self._start()
        if not self._polled:
            await asyncio.to_thread(self.poll)

    async def _watch(self) -> None:
        while not self._closed:
            try:
                await asyncio.to_thread(self.poll)
            except Exception:  # a bug must not stop the watching: logged, tried again next time
                log.exception("evidence system %s: looking at the folder failed", self.spec.id)
            await self._sleep(self.settings.poll_interval_seconds)
