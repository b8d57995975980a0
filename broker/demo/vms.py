"""A simulated school-district VMS serving real, live H.264 HLS per camera.

Each camera is a ``testsrc2`` picture with the camera's name and the local time burnt in, encoded by one
``ffmpeg`` process that is started on the first request for that camera and stopped again once nobody has
asked for it for ``idle_seconds`` (measured on the injected :class:`~broker.clock.Clock`). Whatever the
encoders produce is recorded for ``record_seconds`` (10 minutes by default, :mod:`broker.demo.recorder`).
With ``groups`` (camera → the cameras recorded with it, e.g. those of its site) watching one camera keeps
all of its group encoding, hence recording, for ``hold_seconds``; :meth:`SimulatedVms.hold` does the same on
demand (the demo calls it for the sites of active emergencies).

Endpoints (what the broker's generic HLS adapter expects)::

    GET /healthz
    GET /{ref}/index.m3u8      live media playlist (no ENDLIST)
    GET /{ref}/{name}.ts       MPEG-TS segment named by the playlist
    GET /{ref}/snapshot.jpg    JPEG of the camera's current picture
    GET /{ref}/recording.m3u8  the rolling recording: sliding media playlist, EXT-X-PROGRAM-DATE-TIME per segment
    GET /{ref}/rec/{name}.ts   a recorded segment

Run by hand::

    python -m broker.demo.vms --inventory examples/new-canaan/inventory.yaml --system ncps-vms --port 9000
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path

import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from broker.clock import Clock
from broker.demo.encoders import PLAYLIST, CameraEncoder, EncoderPool, EncoderUnavailable, playlist_segments
from broker.demo.recorder import Recorder
from broker.demo.video import jpeg_from_video

log = logging.getLogger(__name__)

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_-]+\.ts")
_NO_CACHE = {"Cache-Control": "no-cache, no-store"}


class SimulatedVms(EncoderPool):
    """A VMS whose cameras are live ffmpeg encoders, started on demand and reaped when idle."""

    def __init__(
        self, cameras: Mapping[str, str], *, work_dir: Path, clock: Clock, idle_seconds: float = 30.0,
        segment_seconds: float = 1.0, list_size: int = 6, size: str = "640x360", rate: int = 15,
        startup_timeout: float = 15.0, reap_interval: float = 1.0, stop_timeout: float = 3.0,
        record_seconds: float = 600.0, groups: Mapping[str, Iterable[str]] | None = None, hold_seconds: float = 600.0,
    ) -> None:  # fmt: skip
        super().__init__(
            cameras, work_dir=work_dir, clock=clock, idle_seconds=idle_seconds, segment_seconds=segment_seconds,
            list_size=list_size, size=size, rate=rate, startup_timeout=startup_timeout, stop_timeout=stop_timeout,
        )  # fmt: skip
        self.reap_interval = reap_interval
        self.recorder = Recorder(self.work_dir / ".rec", retention_seconds=record_seconds)  # refs never start with "."
        self.groups = {ref: tuple(refs) for ref, refs in (groups or {}).items()}
        self.hold_seconds = hold_seconds
        self.record_interval = min(0.5, segment_seconds / 2)  # well within the encoder's deletion delay
        self._recording: asyncio.Task[None] | None = None
        self._reaper: asyncio.Task[None] | None = None
        self._server: object | None = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None
        self.app = Starlette(
            routes=[
                Route("/healthz", self._healthz),
                Route("/{ref}/" + PLAYLIST, self._playlist),
                Route("/{ref}/snapshot.jpg", self._snapshot),
                Route("/{ref}/recording.m3u8", self._recording_playlist),
                Route("/{ref}/rec/{name}", self._recorded_segment),
                Route("/{ref}/{name}", self._segment),
            ],
            lifespan=self._lifespan,
        )

    # ------------------------------------------------------------------ lifecycle

    async def startup(self) -> None:
        """Start the background reaper (called by the app's lifespan)."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if self._reaper is None:
            self._reaper = asyncio.create_task(self._reap_loop(), name="vms-reaper")
        if self._recording is None:
            self._recording = asyncio.create_task(self._record_loop(), name="vms-recorder")

    async def shutdown(self) -> None:
        """Stop the reaper, the recorder and every encoder (called by the app's lifespan)."""
        for task in (self._reaper, self._recording):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._reaper = self._recording = None
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

    async def _record_loop(self) -> None:
        while True:
            await asyncio.sleep(self.record_interval)
            try:
                await self.record_once()
            except Exception:  # keep recording whatever went wrong once
                log.exception("recorder failed")

    async def record_once(self) -> None:
        """Start the encoders of held cameras, then record what every running encoder has produced."""
        for ref in self.held():
            try:
                await self._ensure_started(self._cams[ref])
            except EncoderUnavailable as exc:
                log.warning("%s", exc)
        await asyncio.to_thread(self.collect)

    def collect(self) -> int:
        """Record the new segments of every running encoder and prune old ones; how many were new."""
        added = sum(self.recorder.collect(ref, self._cams[ref].dir, PLAYLIST) for ref in self.running())
        self.recorder.prune()
        return added

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
        self.recorder.clear()
        atexit.unregister(self.stop_all)

    # ------------------------------------------------------------------ HTTP

    def _camera(self, request: Request) -> CameraEncoder | None:
        cam = self._cams.get(request.path_params["ref"])
        if cam is not None:
            cam.last_access = self.clock.now()
            if cam.ref in self.groups:  # watching one camera records its whole group
                self.hold(self.groups[cam.ref], self.hold_seconds)
        return cam

    async def _healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok", "cameras": len(self._cams), "running": self.running()})

    async def _ready_playlist_of(self, request: Request) -> tuple[CameraEncoder, bytes] | Response:
        """The camera's playable playlist (its encoder started if need be), or the error answer."""
        cam = self._camera(request)
        if cam is None:
            return PlainTextResponse("unknown camera\n", status_code=404)
        try:
            return cam, await self._ready(cam)
        except EncoderUnavailable as exc:
            log.warning("%s", exc)
            return PlainTextResponse("camera unavailable\n", status_code=503, headers={"Retry-After": "2"})

    async def _playlist(self, request: Request) -> Response:
        ready = await self._ready_playlist_of(request)
        if isinstance(ready, Response):
            return ready
        return Response(ready[1], media_type=PLAYLIST_TYPE, headers=_NO_CACHE)

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

    async def _recording_playlist(self, request: Request) -> Response:
        """The camera's recording (never starts an encoder: past footage cannot be made now)."""
        ref = request.path_params["ref"]
        if ref not in self._cams:
            return PlainTextResponse("unknown camera\n", status_code=404)
        if ref in self.running():
            await asyncio.to_thread(self.recorder.collect, ref, self._cams[ref].dir, PLAYLIST)
        body = self.recorder.playlist(ref)
        if body is None:
            return PlainTextResponse("nothing recorded\n", status_code=404)
        return Response(body, media_type=PLAYLIST_TYPE, headers=_NO_CACHE)

    async def _recorded_segment(self, request: Request) -> Response:
        path = self.recorder.file(request.path_params["ref"], request.path_params["name"])
        if path is None:
            return PlainTextResponse("not found\n", status_code=404)
        try:
            data = await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return PlainTextResponse("not found\n", status_code=404)
        return Response(data, media_type="video/mp2t", headers={"Cache-Control": "max-age=600"})

    async def _snapshot(self, request: Request) -> Response:
        ready = await self._ready_playlist_of(request)
        if isinstance(ready, Response):
            return ready
        cam, playlist = ready
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


if __name__ == "__main__":
    from broker.demo.vmscli import main

    main()
