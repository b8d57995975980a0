"""A simulated school-district VMS serving real, live H.264 HLS per camera.

Each camera is a ``testsrc2`` picture with the camera's name and the local time burnt in, encoded by one
``ffmpeg`` process that is started on the first request for that camera and stopped again once nobody has
asked for it for ``idle_seconds`` (measured on the injected :class:`~broker.clock.Clock`).

Endpoints (what the broker's generic HLS adapter expects)::

    GET /healthz
    GET /{ref}/index.m3u8      live media playlist (no ENDLIST)
    GET /{ref}/{name}.ts       MPEG-TS segment named by the playlist
    GET /{ref}/snapshot.jpg    JPEG of the camera's current picture

Run by hand::

    python -m broker.demo.vms --inventory examples/new-canaan/inventory.yaml --system ncps-vms --port 9000
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from broker.clock import Clock
from broker.demo.video import jpeg_from_video, live_hls_cmd

log = logging.getLogger(__name__)

PLAYLIST = "index.m3u8"
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_-]+\.ts")
_REF_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_NO_CACHE = {"Cache-Control": "no-cache, no-store"}


class EncoderUnavailable(Exception):
    """The camera's encoder could not produce a playable stream in time."""


@dataclass(eq=False)
class _Camera:
    ref: str
    label: str
    dir: Path
    log_path: Path
    last_access: datetime
    proc: subprocess.Popen[bytes] | None = None
    stopping: bool = False
    starts: int = 0


def playlist_segments(text: str) -> list[str]:
    """The segment URIs named by a media playlist, oldest first."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


class SimulatedVms:
    """A VMS whose cameras are live ffmpeg encoders, started on demand and reaped when idle."""

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
        reap_interval: float = 1.0,
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
        self.reap_interval = reap_interval
        self.stop_timeout = stop_timeout
        self._lock = threading.Lock()
        self._cams: dict[str, _Camera] = {}
        now = clock.now()
        for ref, label in cameras.items():
            if not _REF_RE.fullmatch(ref) or ref in {".", ".."}:
                raise ValueError(f"camera ref {ref!r} is not a safe path component")
            self._cams[ref] = _Camera(
                ref=ref,
                label=label,
                dir=self.work_dir / ref,
                log_path=self.work_dir / f"{ref}.ffmpeg.log",
                last_access=now,
            )
        self._reaper: asyncio.Task[None] | None = None
        self._server: object | None = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None
        self.app = Starlette(
            routes=[
                Route("/healthz", self._healthz),
                Route("/{ref}/" + PLAYLIST, self._playlist),
                Route("/{ref}/snapshot.jpg", self._snapshot),
                Route("/{ref}/{name}", self._segment),
            ],
            lifespan=self._lifespan,
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

    def start_count(self, ref: str) -> int:
        """How many encoder processes have been started for ``ref`` so far."""
        return self._cams[ref].starts

    # ------------------------------------------------------------------ encoders

    def _encoder_cmd(self, cam: _Camera) -> list[str]:
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

    def _spawn_locked(self, cam: _Camera) -> None:
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
                self._encoder_cmd(cam), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errlog
            )
        cam.starts += 1
        log.info("started encoder for %s (pid %s)", cam.ref, cam.proc.pid)

    async def _ensure_started(self, cam: _Camera) -> subprocess.Popen[bytes]:
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

    def _ready_playlist(self, cam: _Camera) -> bytes | None:
        """The playlist's bytes when it names at least two segments that exist, else None."""
        try:
            data = (cam.dir / PLAYLIST).read_bytes()
        except FileNotFoundError:
            return None
        segs = playlist_segments(data.decode("utf-8", "replace"))
        if len(segs) >= 2 and all((cam.dir / s).is_file() for s in segs[-2:]):
            return data
        return None

    async def _ready(self, cam: _Camera) -> bytes:
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

    def _stop_cameras(self, pick: list[_Camera]) -> list[str]:
        """Stop the encoders of ``pick`` (outside the lock) and delete their files."""
        taken: list[tuple[_Camera, subprocess.Popen[bytes]]] = []
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
                if c.proc is not None and (now - c.last_access).total_seconds() > self.idle_seconds
            ]
        return self._stop_cameras(idle)

    def stop_all(self) -> list[str]:
        """Stop every encoder and delete its files (blocking)."""
        return self._stop_cameras(list(self._cams.values()))

    # ------------------------------------------------------------------ lifecycle

    async def startup(self) -> None:
        """Start the background reaper (called by the app's lifespan)."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._reap_loop(), name="vms-reaper")

    async def shutdown(self) -> None:
        """Stop the reaper and every encoder (called by the app's lifespan)."""
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
            self._reaper = None
        await asyncio.to_thread(self.stop_all)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.startup()
        try:
            yield
        finally:
            await self.shutdown()

    async def _reap_loop(self) -> None:
        while True:
            await asyncio.sleep(self.reap_interval)
            try:
                await asyncio.to_thread(self.reap)
            except Exception:  # keep reaping whatever went wrong once
                log.exception("reaper failed")

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the app with uvicorn in a background thread; returns the base URL (with trailing /)."""
        import uvicorn

        if self._thread is not None:
            raise RuntimeError("already started")
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.set_inheritable(True)
        bound_port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="on", access_log=False)
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="simulated-vms", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("simulated VMS failed to start")
            time.sleep(0.01)
        atexit.register(self.stop_all)
        url_host = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{url_host}:{bound_port}/"
        return self.base_url

    def stop(self) -> None:
        """Stop the server thread and every encoder."""
        server, thread = self._server, self._thread
        if server is not None and thread is not None:
            server.should_exit = True  # type: ignore[attr-defined]
            thread.join(timeout=15)
        self._server = self._thread = None
        self.stop_all()
        atexit.unregister(self.stop_all)

    # ------------------------------------------------------------------ HTTP

    def _camera(self, request: Request) -> _Camera | None:
        cam = self._cams.get(request.path_params["ref"])
        if cam is not None:
            cam.last_access = self.clock.now()
        return cam

    async def _healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "cameras": len(self._cams), "running": self.running()})

    async def _playlist(self, request: Request) -> Response:
        cam = self._camera(request)
        if cam is None:
            return PlainTextResponse("unknown camera\n", status_code=404)
        try:
            data = await self._ready(cam)
        except EncoderUnavailable as exc:
            log.warning("%s", exc)
            return PlainTextResponse("camera unavailable\n", status_code=503, headers={"Retry-After": "2"})
        return Response(data, media_type=PLAYLIST_TYPE, headers=_NO_CACHE)

    async def _segment(self, request: Request) -> Response:
        cam = self._camera(request)
        name = request.path_params["name"]
        if cam is None or not _SEGMENT_RE.fullmatch(name):
            return PlainTextResponse("not found\n", status_code=404)
        try:
            data = await asyncio.to_thread((cam.dir / name).read_bytes)
        except (FileNotFoundError, NotADirectoryError):
            return PlainTextResponse("not found\n", status_code=404)
        return Response(data, media_type="video/mp2t", headers={"Cache-Control": "max-age=60"})

    async def _snapshot(self, request: Request) -> Response:
        cam = self._camera(request)
        if cam is None:
            return PlainTextResponse("unknown camera\n", status_code=404)
        try:
            playlist = await self._ready(cam)
        except EncoderUnavailable as exc:
            log.warning("%s", exc)
            return PlainTextResponse("camera unavailable\n", status_code=503, headers={"Retry-After": "2"})
        # Newest complete segment first; each starts with a keyframe, so its first frame decodes alone.
        for seg in reversed(playlist_segments(playlist.decode("utf-8", "replace"))[-3:]):
            if not _SEGMENT_RE.fullmatch(seg):
                continue
            jpeg = await asyncio.to_thread(jpeg_from_video, cam.dir / seg)
            if jpeg:
                return Response(jpeg, media_type="image/jpeg", headers=_NO_CACHE)
        return PlainTextResponse("snapshot unavailable\n", status_code=503, headers={"Retry-After": "2"})


def cameras_from_inventory(inventory_path: Path, system_id: str) -> dict[str, str]:
    """ref → "Site name · Camera name" for the cameras of ``system_id`` in an inventory YAML file."""
    doc = yaml.safe_load(Path(inventory_path).read_text(encoding="utf-8")) or {}
    sites = {s["id"]: s.get("name", s["id"]) for s in doc.get("sites") or []}
    out: dict[str, str] = {}
    for cam in doc.get("cameras") or []:
        if cam.get("system") != system_id:
            continue
        ref = str(cam.get("ref") or cam["id"])
        site = sites.get(cam.get("site"), cam.get("site"))
        name = cam.get("name", cam["id"])
        out[ref] = f"{site} · {name}" if site else str(name)
    return out


def main(argv: list[str] | None = None) -> None:
    import argparse
    import tempfile

    import uvicorn

    from broker.clock import SystemClock

    p = argparse.ArgumentParser(prog="python -m broker.demo.vms", description=__doc__.splitlines()[0])
    p.add_argument("--inventory", type=Path, required=True)
    p.add_argument("--system", required=True, help="system id in the inventory, e.g. ncps-vms")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--work-dir", type=Path, help="where segments go (default: a temporary directory)")
    p.add_argument("--idle-seconds", type=float, default=30.0)
    p.add_argument("--size", default="640x360")
    p.add_argument("--rate", type=int, default=15)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    cameras = cameras_from_inventory(args.inventory, args.system)
    if not cameras:
        p.error(f"no cameras for system {args.system!r} in {args.inventory}")
    with contextlib.ExitStack() as stack:
        work_dir = args.work_dir
        if work_dir is None:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="camgate-vms-")))
        vms = SimulatedVms(
            cameras,
            work_dir=work_dir,
            clock=SystemClock(),
            idle_seconds=args.idle_seconds,
            size=args.size,
            rate=args.rate,
        )
        log.info("%d cameras for %s on http://%s:%d/", len(cameras), args.system, args.host, args.port)
        try:
            uvicorn.run(vms.app, host=args.host, port=args.port, log_level="warning")
        finally:
            vms.stop_all()


if __name__ == "__main__":
    main()
