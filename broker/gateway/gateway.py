"""The gateway: every RTSP camera stream of the broker, the process limit, supervision and status.

A stream belongs to an *owner*, the :class:`~broker.gateway.adapter.GatewayAdapter` of one camera system as
built by one reload, and lives in a private (0700) directory under the work directory. The app factory binds
the gateway to the adapter pool and the inventory (:meth:`Gateway.bind`): each :meth:`Gateway.tick` stops the
streams of systems a reload retired and keeps ``record: always`` cameras running. Nothing here holds an RTSP
URL or a credential; the adapter is asked for the source at each start of ffmpeg, and the credential relay
(:mod:`.relay`) alone holds the credentials while ffmpeg runs. Why a stream failed crosses to the viewer as the
type the adapter or the relay raised (:attr:`CameraStream.failure`), never as text read again.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

from broker.adapterapi import AdapterError, RtspSource
from broker.clock import Clock
from broker.errors import GatewayBusy
from broker.gateway.ffmpeg import ffmpeg_binary
from broker.gateway.process import Launcher, launch_ffmpeg, stop_orphans
from broker.gateway.relay import RelayHub
from broker.gateway.space import DiskGuard, bytes_held, shed_oldest
from broker.gateway.stream import STOP_GRACE_SECONDS, CameraStream, State
from broker.settings import GatewaySettings

log = logging.getLogger("camgate.gateway")
POLL_SECONDS = 0.1  # a first viewer's wait for the first segment looks this often
_serials = itertools.count(1)


class Owner(Protocol):
    """What the gateway needs of a system's adapter."""

    serial: int
    system_id: str
    record: str | tuple[str, ...]  # "on_demand", "always", or the refs recorded always

    async def source(self, ref: str) -> RtspSource: ...


def next_serial() -> int:
    return next(_serials)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _started(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot: proc(5), /proc/pid/stat field 22), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])  # fields after "(comm)" start at field 3


def instance_name(pid: int) -> str:
    """A broker's work directory name: its pid and start time, so a pid reused later names another process."""
    return f"{pid}-{_started(pid) or 0}"


def _gone(name: str) -> bool:
    """Whether the broker that named its work directory ``name`` has ended (``<pid>-<start>``, or ``<pid>``
    as before start times were kept)."""
    pid, _, start = name.partition("-")
    if not pid.isdigit() or (start and not start.isdigit()):
        return False  # not a broker's directory: left alone
    if not start:
        return not _alive(int(pid))
    return _started(int(pid)) != int(start)


def stream_key(system: str, ref: str) -> str:
    """The name a camera's segments are found by in refs (``gw/<key>/<segment>``): no part of the ref itself."""
    return hashlib.sha256(f"{system}\0{ref}".encode()).hexdigest()[:24]


class Gateway:
    def __init__(
        self,
        cfg: GatewaySettings,
        root: Path,
        clock: Clock,
        *,
        launcher: Launcher = launch_ffmpeg,
        ffmpeg: str | None = None,
        disk: DiskGuard | None = None,
    ) -> None:
        # absolute: ffmpeg runs in the stream's directory, so a relative work_dir (the default data_dir is
        # ".camgate") would name a path that does not exist from there
        self.cfg, self.root, self.clock, self._launch = cfg, root.absolute(), clock, launcher
        self.disk = disk  # the audit log's reserve, kept free of segments (broker/gateway/space.py)
        self._shedding = False
        self._paused_need: int | None = None  # recording always paused for disk space: the bytes it held then
        self.ffmpeg = ffmpeg or ffmpeg_binary(cfg.ffmpeg)
        self._owners: dict[int, Owner] = {}
        self._streams: dict[tuple[int, str], CameraStream] = {}
        self._retired: list[CameraStream] = []
        self._systems: Callable[[], Iterable[object]] | None = None
        self._cameras: Callable[[str], Iterable[str]] = lambda _system: ()
        self._busy_logged: set[tuple[int, str]] = set()
        self._forgotten: set[int] = set()  # owners retired by a reload: never given a stream again
        self._prepared = False
        self.work = self.root / instance_name(os.getpid())
        self.relays = RelayHub()  # the thread every credential relay runs on, started on first use

    # -- wiring -------------------------------------------------------------------------------------------

    def bind(self, systems: Callable[[], Iterable[object]], cameras: Callable[[str], Iterable[str]]) -> None:
        """``systems()``: the adapters in service now; ``cameras(system_id)``: the refs of its cameras."""
        self._systems, self._cameras = systems, cameras

    def prepare(self) -> None:
        """Create this broker's work directory (0700; ``<work_dir>/<pid>-<start time>``, so replicas sharing a
        data directory never touch each other's), and clear what a crashed broker left: its ffmpeg orphans, its
        files (also when its pid now names another process)."""
        if self._prepared:
            return
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.work = self.root / instance_name(os.getpid())  # this process's (the app may be built before a fork)
        for previous in self.root.iterdir():
            if previous.is_dir() and previous != self.work and _gone(previous.name):
                if stop_orphans(previous):
                    log.warning("gateway: stopped ffmpeg processes left running by a broker that ended")
                shutil.rmtree(previous, ignore_errors=True)
        self.work.mkdir(mode=0o700, exist_ok=True)
        self.work.chmod(0o700)
        self._prepared = True

    # -- what adapters ask --------------------------------------------------------------------------------

    async def demand(self, owner: Owner, ref: str) -> CameraStream:
        """A viewer wants ``ref`` live: its stream, started if idle. Raises :class:`GatewayBusy` at the limit."""
        stream = self._stream(owner, ref)
        if not stream.active and self.active() >= self.cfg.max_processes:
            raise GatewayBusy(
                f"the RTSP gateway already runs its {self.cfg.max_processes} processes; try again shortly",
                retry_after=self.cfg.retry_after_seconds,
            )
        await stream.demand(self.clock.now())
        return stream

    def find(self, owner: Owner, key: str) -> CameraStream | None:
        return next((s for (serial, _), s in self._streams.items() if serial == owner.serial and s.key == key), None)

    def existing(self, owner: Owner, ref: str) -> CameraStream | None:
        return self._streams.get((owner.serial, ref))

    async def live_playlist(self, stream: CameraStream) -> bytes:
        """The stream's live playlist once it has a segment; a first viewer waits up to ``startup_timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.cfg.startup_timeout_seconds
        where = f"system {stream.system!r} camera {stream.ref!r}"
        while True:
            now = self.clock.now()
            stream.last_demand = now  # the viewer is still waiting: not idle
            stream.refresh(now)
            body = stream.index.live_playlist(stream.epoch, self.cfg.list_size)
            if body is not None:
                return body
            stream.notice_exit(now)
            if stream.state is State.BACKOFF:
                # the type the adapter or the relay raised (AuthFailed: 502 upstream_auth; timeout: 504)
                raise (stream.failure or AdapterError(f"{where}: RTSP stream unavailable")).with_traceback(None)
            if stream.state is State.IDLE and not stream.starting:
                raise AdapterError(f"{where}: the gateway stopped this stream")
            if loop.time() >= deadline:
                raise AdapterError(f"{where}: no video within {self.cfg.startup_timeout_seconds:g} s", timeout=True)
            await asyncio.sleep(POLL_SECONDS)

    # -- supervision --------------------------------------------------------------------------------------

    def active(self) -> int:
        """Streams holding a process slot (running, starting, or waiting to restart)."""
        return sum(1 for s in self._streams.values() if s.active)

    async def tick(self) -> None:
        now = self.clock.now()
        self._follow_pool()
        await self._record_always()
        for stream in list(self._streams.values()):
            await stream.tick(now)
        self._finish_retired(now)
        self._keep_disk_free()

    def _keep_disk_free(self) -> None:
        """Keep the audit log's share of the disk free (broker/gateway/space.py): delete the oldest footage, and
        pause recording always when that is not enough; record again once there is room for it."""
        if self.disk is None or not self._prepared:
            return
        disk = self.disk
        if self._paused_need is not None and disk.shortfall(self.root, extra=self._paused_need) == 0:
            log.warning("gateway: disk space is back: recording always again")
            self._paused_need = None
        short = disk.shortfall(self.root)
        if short <= 0:
            if disk.shortfall(self.root, extra=disk.keep_free) == 0:
                self._shedding = False  # well clear: the next shortfall is a new episode, logged again
            return
        streams = list(self._streams.values())
        deleted, freed, short = shed_oldest(streams, short, lambda: disk.shortfall(self.root))
        if not self._shedding:
            log.warning(
                "gateway: disk nearly full: the oldest recorded footage is deleted to keep %d bytes free for the "
                "audit log (%d segments, %d bytes so far)",
                disk.keep_free,
                deleted,
                freed,
            )
            self._shedding = True
        if short > 0 and self._paused_need is None:
            self._paused_need = bytes_held(s.directory for s in streams)
            log.warning(
                "gateway: disk nearly full: recording always paused (cameras run only while watched) to keep %d "
                "bytes free for the audit log",
                disk.keep_free,
            )

    async def run(self) -> None:
        """Supervise every ``tick_seconds`` until cancelled."""
        while True:
            await asyncio.sleep(self.cfg.tick_seconds)
            try:
                await self.tick()
            except Exception:  # one bad tick must not end supervision
                log.exception("gateway supervision failed")

    def _serving(self) -> list[Owner]:
        """The owners in service: the pool's gateway adapters once bound, else those that asked for streams."""
        if self._systems is None:
            return list(self._owners.values())
        return [a for a in self._systems() if isinstance(getattr(a, "serial", None), int) and hasattr(a, "record")]  # type: ignore[misc]

    def _follow_pool(self) -> None:
        if self._systems is None:
            return
        serving = {owner.serial for owner in self._serving()}
        for serial in [s for s in self._owners if s not in serving]:
            self.forget(self._owners[serial])

    async def _record_always(self) -> None:
        for owner in self._serving():
            if owner.record == "on_demand":
                continue
            cameras = set(self._cameras(owner.system_id))  # only cameras of the inventory, never another ref
            refs = cameras if owner.record == "always" else cameras & set(owner.record)
            for (serial, ref), stream in self._streams.items():
                if serial == owner.serial and ref not in refs:
                    stream.always = False
            for ref in sorted(refs):
                stream = self._stream(owner, ref)
                stream.always = self._paused_need is None  # paused for disk space: running while watched only
                if stream.active or not stream.always:
                    continue
                if self.active() >= self.cfg.max_processes:
                    if (owner.serial, ref) not in self._busy_logged:
                        self._busy_logged.add((owner.serial, ref))
                        log.warning(
                            "gateway: %s/%s not recorded: all %d processes are in use",
                            owner.system_id,
                            ref,
                            self.cfg.max_processes,
                        )
                    continue
                await stream.start_if_idle(self.clock.now())

    def forget(self, owner: Owner) -> None:
        """The owner's system was retired: stop its streams now, delete their files once the processes ended."""
        self._owners.pop(owner.serial, None)
        self._forgotten.add(owner.serial)
        now = self.clock.now()
        for key in [k for k in self._streams if k[0] == owner.serial]:
            stream = self._streams.pop(key)
            stream.stop(now)
            self._retired.append(stream)

    def _finish_retired(self, now: Any) -> None:
        still = []
        for stream in self._retired:
            stream.tick_reap(now)
            if stream.stopping:
                still.append(stream)
            else:
                shutil.rmtree(stream.directory, ignore_errors=True)
        self._retired = still

    async def aclose(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Shutdown: SIGTERM every process, SIGKILL what still runs after ``grace`` seconds, delete the files."""
        for owner in list(self._owners.values()):
            self.forget(owner)
        deadline = asyncio.get_running_loop().time() + grace
        while any(s.stopping for s in self._retired) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        for stream in self._retired:
            stream.kill_now()
            shutil.rmtree(stream.directory, ignore_errors=True)
        self._retired = []
        self.relays.close()
        if self._prepared:
            shutil.rmtree(self.work, ignore_errors=True)
            self._prepared = False

    def _stream(self, owner: Owner, ref: str) -> CameraStream:
        stream = self._streams.get((owner.serial, ref))
        if stream is None:
            if owner.serial in self._forgotten:
                raise AdapterError(f"system {owner.system_id!r} was reloaded: ask again")
            self.prepare()
            key = stream_key(owner.system_id, ref)
            directory = Path(tempfile.mkdtemp(prefix=f"{key[:12]}-", dir=self.work))  # 0700
            source: Callable[[], Awaitable[RtspSource]] = lambda: owner.source(ref)  # noqa: E731
            stream = CameraStream(
                system=owner.system_id,
                ref=ref,
                key=key,
                directory=directory,
                source=source,
                launcher=self._launch,
                clock=self.clock,
                cfg=self.cfg,
                ffmpeg=self.ffmpeg,
                relays=self.relays,
            )
            self._streams[(owner.serial, ref)] = stream
            self._owners[owner.serial] = owner
        return stream

    # -- status -------------------------------------------------------------------------------------------

    def status(self, system_id: str, viewers: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Per-system gateway status for operators (no URL, no credential): processes, viewers, restarts, errors.

        ``viewers`` maps a camera ref to its open live viewing sessions (the broker's session tracker knows).
        """
        viewers = viewers or {}
        streams = sorted((s for s in self._streams.values() if s.system == system_id), key=lambda s: s.ref)
        cameras = []
        for stream in streams:
            item = asdict(stream.status())
            item["viewers"] = viewers.get(stream.ref, 0)
            cameras.append(item)
        failed = [(s.last_error_at, s) for s in streams if s.last_error_at is not None]
        latest = max(failed, key=lambda pair: pair[0])[1] if failed else None
        return {
            "processes": sum(1 for s in streams if s.process is not None),
            "viewers": sum(c["viewers"] for c in cameras),
            "restarts": sum(s.restarts for s in streams),
            "last_error": latest.status().last_error if latest else None,
            "cameras": cameras,
        }

    def processes(self) -> int:
        return sum(1 for s in self._streams.values() if s.process is not None)

    def pids(self) -> list[int]:
        return [s.process.pid for s in self._streams.values() if s.process is not None]
