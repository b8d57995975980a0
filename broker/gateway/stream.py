"""One RTSP camera repackaged to HLS: its ffmpeg, supervised, and its segments on disk.

States: ``idle`` (no process), ``running``, ``backoff`` (the camera dropped; a restart is due at
``retry_at``). A viewer's request (:meth:`CameraStream.demand`) starts an idle stream; :meth:`CameraStream.tick`,
called every ``tick_seconds`` with the injected clock's time (tests call it directly, no sleeping), does the rest:

- indexes the segments ffmpeg has written (:mod:`broker.gateway.index`);
- stops the process once nobody asked for the camera for ``idle_seconds`` (unless it records always);
- treats an exit, or no new segment for ``stall_seconds``, as the camera dropping: restart after a backoff
  that doubles from ``backoff_initial_seconds`` up to ``backoff_max_seconds``, and starts over after a run of
  ``stable_seconds``; a stream nobody wants any more stops retrying;
- deletes segments older than ``retention_seconds`` (the rolling recording).

Why a camera failed is kept as a type (:attr:`CameraStream.failure`, an :class:`AdapterError`): the adapter's own
error when it could not say where the stream is (an ONVIF device refusing the credentials is :class:`AuthFailed`),
else the credential relay's (:mod:`.relay`: the camera's RTSP answer), else ffmpeg's exit. The viewer's answer is
chosen from that type (``broker/enforcement/proxy.py``); no message is ever read to find out what happened.
"""

from __future__ import annotations

import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from broker.adapterapi import AdapterError, RtspSource
from broker.clock import Clock
from broker.gateway.ffmpeg import PLAYLIST_NAME, Redactor, hls_command, minimal_env, without_urls
from broker.gateway.index import SegmentIndex, parse_ffmpeg_playlist
from broker.gateway.process import GatewayProcess, Launcher
from broker.gateway.relay import Relay, RelayHub
from broker.settings import GatewaySettings

log = logging.getLogger("camgate.gateway")
STOP_GRACE_SECONDS = 3.0  # after SIGTERM (ffmpeg closes its segment), SIGKILL


class State(enum.StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    BACKOFF = "backoff"


@dataclass(frozen=True)
class StreamStatus:
    ref: str
    state: str
    pid: int | None
    restarts: int
    last_error: str | None
    segments: int
    recorded_seconds: float


class CameraStream:
    def __init__(
        self,
        *,
        system: str,
        ref: str,
        key: str,
        directory: Path,
        source: Callable[[], Awaitable[RtspSource]],
        launcher: Launcher,
        clock: Clock,
        cfg: GatewaySettings,
        ffmpeg: str,
        relays: RelayHub,
    ) -> None:
        self.system, self.ref, self.key, self.directory = system, ref, key, directory
        self._source, self._launch, self.clock, self.cfg, self.ffmpeg = source, launcher, clock, cfg, ffmpeg
        self._relays = relays
        self._relay: Relay | None = None  # the running process's
        self.failure: AdapterError | None = None  # why the camera last failed, as a type
        self.index = SegmentIndex(cfg.segment_seconds)
        self.state = State.IDLE
        self.process: GatewayProcess | None = None
        self.last_demand: datetime | None = None
        self.always = False  # record always: wanted whether or not anyone watches
        self.restarts = 0  # restarts after the camera dropped (not starts on demand)
        self.last_error: str | None = None
        self.last_error_at: datetime | None = None
        self.starting = False  # a start on demand is waiting for the adapter's source
        self.retry_at: datetime | None = None
        self.epoch = 0  # bumped by every start on demand: a live playlist lists only the current epoch
        self._run = 0
        self._delay = cfg.backoff_initial_seconds
        self._run_started: datetime | None = None
        self._progress: datetime | None = None  # the last new segment (or the run's start)
        self._playlist_stamp: tuple[int, int] | None = None
        self._stopping: list[tuple[GatewayProcess, datetime]] = []

    # -- demand -------------------------------------------------------------------------------------------

    def wanted(self, now: datetime) -> bool:
        recent = self.last_demand is not None and (now - self.last_demand).total_seconds() < self.cfg.idle_seconds
        return self.always or recent

    @property
    def active(self) -> bool:
        """Holds a process slot: starting, running, or waiting to restart."""
        return self.starting or self.state is not State.IDLE

    async def demand(self, now: datetime) -> None:
        """A viewer asked for the camera: start it if idle (the caller checked the process limit)."""
        self.last_demand = now
        await self.start_if_idle(now)

    async def start_if_idle(self, now: datetime) -> None:
        """Start a new epoch of the stream unless it is already active (concurrent callers start it once)."""
        if self.active:
            return
        self.starting = True
        try:
            self.epoch += 1
            self._delay = self.cfg.backoff_initial_seconds
            await self._start(now)
        finally:
            self.starting = False

    # -- supervision --------------------------------------------------------------------------------------

    async def tick(self, now: datetime) -> None:
        self.refresh(now)
        self._reap(now)
        exited = self.notice_exit(now)
        if not exited and self.state is State.RUNNING and self.process is not None:
            if not self.wanted(now):
                self.stop(now)
            elif self._progress is not None and (now - self._progress).total_seconds() > self.cfg.stall_seconds:
                self._retire_process(now)
                self._dropped(now, AdapterError(f"stalled: no new segment for {self.cfg.stall_seconds:g} s"))
        elif self.state is State.BACKOFF:
            if not self.wanted(now):
                self.state, self.retry_at = State.IDLE, None  # nobody waits for it any more
            elif self.retry_at is not None and now >= self.retry_at:
                self.restarts += 1
                await self._start(now)
        self.prune(now)

    def notice_exit(self, now: datetime) -> bool:
        """If the process has ended, treat it as the camera dropping (restart after the backoff); True if so."""
        if self.state is not State.RUNNING or self.process is None:
            return False
        code = self.process.poll()
        if code is None:
            return False
        self.refresh(now)  # what it wrote before it ended
        ended = f"ffmpeg ended (exit {code}): {self.process.error() or 'no message'}"
        seen = self._relay.failure if self._relay is not None else None  # the camera's own answer, typed
        if seen is None:
            self._dropped(now, AdapterError(ended))
        else:
            seen.add_note(ended)
            self._dropped(now, seen)
        return True

    def refresh(self, now: datetime) -> int:
        """Index what ffmpeg's playlist lists now (read only when the file changed); returns how many are new."""
        path = self.directory / PLAYLIST_NAME
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp == self._playlist_stamp:
                return 0
            text = path.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            return 0
        self._playlist_stamp = stamp
        entries = [e for e in parse_ffmpeg_playlist(text) if e[0] not in self.index]
        entries = [e for e in entries if (self.directory / e[0]).is_file()]  # never one already pruned
        added = self.index.add(entries, run=self._run, epoch=self.epoch, now=now)
        if added and self.state is State.RUNNING:
            self._progress = now
        return added

    def stop(self, now: datetime) -> None:
        """Stop the process (SIGTERM now, SIGKILL after a grace period): no viewer is left."""
        self._retire_process(now)
        self.state, self.retry_at = State.IDLE, None

    def kill_now(self) -> None:
        """Shutdown: every process of this stream gets SIGKILL if SIGTERM was not enough (called last)."""
        for proc, _ in self._stopping:
            if proc.poll() is None:
                proc.kill()
        self._stopping = [(p, d) for p, d in self._stopping if p.poll() is None]

    @property
    def stopping(self) -> bool:
        return any(proc.poll() is None for proc, _ in self._stopping)

    def prune(self, now: datetime) -> None:
        before = now - timedelta(seconds=self.cfg.retention_seconds)
        for name in self.index.prune(before, keep=self.cfg.list_size):
            with contextlib.suppress(FileNotFoundError):
                (self.directory / name).unlink()

    def oldest_spare(self) -> datetime | None:
        """When the oldest segment that may be given up for disk space starts (never one of a running process's
        live window); None if there is none."""
        keep = self.cfg.list_size if self.process is not None else 0
        return self.index.segments[0].start if len(self.index) > keep else None

    def shed_oldest(self) -> int:
        """Delete the oldest spare segment (see :meth:`oldest_spare`); returns the bytes freed."""
        if self.oldest_spare() is None:
            return 0
        name = self.index.drop_oldest()
        path = self.directory / str(name)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        return size

    # -- internals ----------------------------------------------------------------------------------------

    async def _start(self, now: datetime) -> None:
        try:
            source = await self._source()
        except AdapterError as exc:  # the adapter's, typed (AuthFailed stays AuthFailed), without credentials
            self._dropped(now, exc, ran=False)
            return
        with contextlib.suppress(FileNotFoundError):
            (self.directory / PLAYLIST_NAME).unlink()  # the last run's list: indexed already
        self._playlist_stamp = None
        self._run += 1
        where = f"system {self.system!r} camera {self.ref!r}"
        relay = self._relays.open(source, where, self.cfg.rtsp_timeout_seconds)
        argv = hls_command(self.ffmpeg, relay.url, self.directory, self.cfg)  # no credential in it
        try:
            self.process = self._launch(
                argv, minimal_env(), self.directory, Redactor(source), camera=f"{self.system}/{self.ref}"
            )
        except OSError as exc:
            relay.close()
            self._dropped(now, AdapterError(f"cannot start ffmpeg: {exc.strerror}"), ran=False)
            return
        relay.admit(self.process.pid)
        self._relay = relay
        self.state, self.retry_at = State.RUNNING, None
        self._run_started = self._progress = now
        log.info("gateway: %s/%s started (%s)", self.system, self.ref, source.redacted(), extra=self._fields)

    def _dropped(self, now: datetime, failure: AdapterError, *, ran: bool = True) -> None:
        """The camera (or its source) failed: wait, then restart; the wait doubles unless the run was stable."""
        stable = self._run_started is not None and (now - self._run_started).total_seconds() >= self.cfg.stable_seconds
        if ran and stable:
            self._delay = self.cfg.backoff_initial_seconds
        self.process = None
        self._close_relay()
        why = "; ".join([str(failure), *getattr(failure, "__notes__", ())])
        self.failure, self.last_error, self.last_error_at = failure, why, now
        self.retry_at = now + timedelta(seconds=self._delay)
        log.warning(
            "gateway: %s/%s dropped, restart in %.1f s: %s", self.system, self.ref, self._delay, why, extra=self._fields
        )
        self._delay = min(self._delay * 2, self.cfg.backoff_max_seconds)
        self.state = State.BACKOFF

    @property
    def _fields(self) -> dict[str, str]:
        """What every log line of the stream carries: the camera it is about (broker/logs.py prints them)."""
        return {"system": self.system, "camera_ref": self.ref}

    def _close_relay(self) -> None:
        if self._relay is not None:
            self._relay.close()
            self._relay = None

    def _retire_process(self, now: datetime) -> None:
        self._close_relay()
        if self.process is not None:
            self.process.terminate()
            self._stopping.append((self.process, now + timedelta(seconds=STOP_GRACE_SECONDS)))
            self.process = None

    def tick_reap(self, now: datetime) -> None:
        """SIGKILL the stopped processes that outlived their grace period (retired streams are only reaped)."""
        self._reap(now)

    def _reap(self, now: datetime) -> None:
        still: list[tuple[GatewayProcess, datetime]] = []
        for proc, deadline in self._stopping:
            if proc.poll() is None:
                if now >= deadline:
                    proc.kill()
                still.append((proc, deadline))
        self._stopping = still

    def status(self) -> StreamStatus:
        recorded = sum(s.duration for s in self.index.segments)
        error = without_urls(self.last_error) if self.last_error else None
        pid = self.process.pid if self.process is not None else None
        return StreamStatus(self.ref, self.state.value, pid, self.restarts, error, len(self.index), round(recorded, 1))
