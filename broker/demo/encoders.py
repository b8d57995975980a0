"""Live camera encoders for the simulated VMS: one ffmpeg process per camera, started on demand, reaped idle.

Each camera is a ``testsrc2`` picture with the camera's name and the local time burnt in, encoded to live
H.264 HLS in ``work_dir/<ref>/``. An encoder starts on the first request for its camera and is stopped once
nobody has asked for it for ``idle_seconds``, measured on the injected :class:`~broker.clock.Clock`. A *hold*
(:meth:`EncoderPool.hold`) keeps a camera's encoder running (started if need be) until a given time, whether
or not anyone watches: that is how the demo records a whole site.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from broker.clock import Clock
from broker.demo.children import dying_with_parent
from broker.demo.video import live_hls_cmd

log = logging.getLogger(__name__)

PLAYLIST = "index.m3u8"
_REF_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class EncoderUnavailable(Exception):
    """The camera's encoder could not produce a playable stream in time."""


@dataclass(eq=False)
class CameraEncoder:
    ref: str
    label: str
    dir: Path
    log_path: Path
    last_access: datetime
    proc: subprocess.Popen[bytes] | None = None
    stopping: bool = False
    starts: int = 0
    hold_until: datetime | None = None  # keep encoding until then (recording), watched or not


def playlist_segments(text: str) -> list[str]:
    """The segment URIs named by a media playlist, oldest first."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


class EncoderPool:
    """The encoders of a set of cameras; thread-safe, with async waits for a playable playlist."""

    def __init__(
        self,
        cameras: Mapping[str, str],
        *,
        work_dir: Path,
        clock: Clock,
        idle_seconds: float = 30.0,
        segment_seconds: float = 1.0,
        list_size: int = 6,
        size: str = "640x360",
        rate: int = 15,
        startup_timeout: float = 15.0,
        stop_timeout: float = 3.0,
    ) -> None:
        if segment_seconds <= 0 or list_size < 2 or rate <= 0:
            raise ValueError("segment_seconds must be > 0, list_size >= 2, rate > 0")
        if not re.fullmatch(r"\d+x\d+", size):
            raise ValueError(f"size must look like 640x360, not {size!r}")
        self.work_dir = Path(work_dir)
        self.clock = clock
        self.idle_seconds = idle_seconds
        self.segment_seconds = segment_seconds
        self.list_size = list_size
        self.size = size
        self.rate = rate
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._lock = threading.Lock()
        self._cams: dict[str, CameraEncoder] = {}
        now = clock.now()
        for ref, label in cameras.items():
            if not _REF_RE.fullmatch(ref) or ref in {".", ".."}:
                raise ValueError(f"camera ref {ref!r} is not a safe path component")
            self._cams[ref] = CameraEncoder(
                ref=ref,
                label=label,
                dir=self.work_dir / ref,
                log_path=self.work_dir / f"{ref}.ffmpeg.log",
                last_access=now,
            )

    # ------------------------------------------------------------------ inspection (tests, healthz)

    @property
    def refs(self) -> list[str]:
        return list(self._cams)

    def running(self) -> list[str]:
        """Refs whose encoder process is alive right now."""
        with self._lock:
            return [c.ref for c in self._cams.values() if c.proc is not None and c.proc.poll() is None]

    def encoder_pid(self, ref: str) -> int | None:
        """The pid of the camera's live encoder, or None when it is not running."""
        with self._lock:
            proc = self._cams[ref].proc
            return proc.pid if proc is not None and proc.poll() is None else None

    def hold(self, refs: Iterable[str], seconds: float) -> None:
        """Keep the encoders of ``refs`` running for ``seconds`` from now (extends, never shortens a hold)."""
        until = self.clock.now() + timedelta(seconds=seconds)
        with self._lock:
            for ref in refs:
                cam = self._cams.get(ref)
                if cam is not None and (cam.hold_until is None or cam.hold_until < until):
                    cam.hold_until = until

    def held(self) -> list[str]:
        """Refs whose hold has not run out."""
        now = self.clock.now()
        with self._lock:
            return [c.ref for c in self._cams.values() if c.hold_until is not None and c.hold_until > now]

    def start_count(self, ref: str) -> int:
        """How many encoder processes have been started for ``ref`` so far."""
        return self._cams[ref].starts

    # ------------------------------------------------------------------ encoders

    def _encoder_cmd(self, cam: CameraEncoder) -> list[str]:
        # Continue the media sequence across restarts (wall time / segment length), so players that
        # outlive an encoder restart never see the sequence go backwards.
        return live_hls_cmd(
            cam.dir,
            label=cam.label,
            segment_seconds=self.segment_seconds,
            list_size=self.list_size,
            size=self.size,
            rate=self.rate,
            start_number=int(time.time() / self.segment_seconds),
            playlist=PLAYLIST,
        )

    def _spawn_locked(self, cam: CameraEncoder) -> None:
        """Start a fresh encoder for ``cam``; caller holds ``self._lock`` and knows none is running."""
        if cam.proc is not None:
            cam.proc.wait()  # already exited: collect it
            log.warning("encoder for %s exited with %s; restarting", cam.ref, cam.proc.returncode)
        shutil.rmtree(cam.dir, ignore_errors=True)
        cam.dir.mkdir(parents=True, exist_ok=True)
        with cam.log_path.open("ab") as errlog:
            errlog.write(f"--- start {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
            errlog.flush()
            cam.proc = subprocess.Popen(
                dying_with_parent(self._encoder_cmd(cam)),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errlog,
                # Out of the terminal's process group: a Ctrl-C at `make demo` reaches camgate, which stops the
                # encoders itself; it used to kill them first, and the recorder restarted each while the demo
                # stopped ("encoder for … exited with 255; restarting"). setpriv still kills them with camgate.
                start_new_session=True,
            )
        cam.starts += 1
        log.info("started encoder for %s (pid %s)", cam.ref, cam.proc.pid)

    async def _ensure_started(self, cam: CameraEncoder) -> subprocess.Popen[bytes]:
        """Make sure exactly one live encoder runs for ``cam`` (waits out a concurrent stop)."""
        deadline = time.monotonic() + self.startup_timeout
        while True:
            with self._lock:
                if not cam.stopping:
                    if cam.proc is None or cam.proc.poll() is not None:
                        try:
                            self._spawn_locked(cam)
                        except OSError as exc:
                            raise EncoderUnavailable(f"{cam.ref}: cannot start ffmpeg: {exc}") from exc
                    assert cam.proc is not None
                    return cam.proc
            if time.monotonic() > deadline:
                raise EncoderUnavailable(f"{cam.ref}: encoder is still stopping")
            await asyncio.sleep(0.05)

    def _ready_playlist(self, cam: CameraEncoder) -> bytes | None:
        """The playlist's bytes when it names at least two segments that exist, else None."""
        try:
            data = (cam.dir / PLAYLIST).read_bytes()
        except FileNotFoundError:
            return None
        segs = playlist_segments(data.decode("utf-8", "replace"))
        if len(segs) >= 2 and all((cam.dir / s).is_file() for s in segs[-2:]):
            return data
        return None

    async def _ready(self, cam: CameraEncoder) -> bytes:
        """Start the encoder if needed and wait until its playlist is playable; returns the playlist."""
        deadline = time.monotonic() + self.startup_timeout
        restarted = False
        while True:
            proc = await self._ensure_started(cam)
            data = self._ready_playlist(cam)
            if data is not None:
                return data
            if proc.poll() is not None:
                if restarted:
                    raise EncoderUnavailable(f"{cam.ref}: encoder exited with {proc.returncode}")
                restarted = True  # _ensure_started will restart it once
                continue
            if time.monotonic() > deadline:
                raise EncoderUnavailable(f"{cam.ref}: no playable playlist after {self.startup_timeout}s")
            await asyncio.sleep(0.05)

    def _stop_proc(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=self.stop_timeout)

    def _stop_cameras(self, pick: list[CameraEncoder]) -> list[str]:
        """Stop the encoders of ``pick`` (outside the lock) and delete their files."""
        taken: list[tuple[CameraEncoder, subprocess.Popen[bytes]]] = []
        with self._lock:
            for cam in pick:
                if cam.proc is not None and not cam.stopping:
                    cam.stopping = True
                    taken.append((cam, cam.proc))
                    cam.proc = None
        stopped = []
        for cam, proc in taken:
            try:
                self._stop_proc(proc)
                shutil.rmtree(cam.dir, ignore_errors=True)
                stopped.append(cam.ref)
                log.info("stopped encoder for %s", cam.ref)
            finally:
                with self._lock:
                    cam.stopping = False
        return stopped

    def reap(self) -> list[str]:
        """Stop encoders idle for longer than ``idle_seconds`` (per the clock); returns their refs.

        Thread-safe and blocking (terminate, then kill after ``stop_timeout``); call it directly in tests.
        """
        now = self.clock.now()
        with self._lock:
            idle = [
                c
                for c in self._cams.values()
                if c.proc is not None
                and (now - c.last_access).total_seconds() > self.idle_seconds
                and (c.hold_until is None or c.hold_until <= now)
            ]
        return self._stop_cameras(idle)

    def stop_all(self) -> list[str]:
        """Stop every encoder and delete its files (blocking)."""
        return self._stop_cameras(list(self._cams.values()))
