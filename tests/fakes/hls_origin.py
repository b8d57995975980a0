"""A fake HLS origin speaking real HTTP on 127.0.0.1, for adapter and end-to-end proxy tests.

Content (real H.264 HLS and JPEG made by the bundled ffmpeg, ~0.3 s; make it once per session)::

    content = build_origin_content(root)          # -> OriginContent(root, cameras=("cam1", "cam2"))
    # root/cam1/index.m3u8 (VOD media playlist, TARGETDURATION 1), root/cam1/seg000.ts .. seg003.ts,
    # root/cam1/snapshot.jpg, the same for cam2, and root/multi/index.m3u8: a master playlist whose
    # variants are ../cam1/index.m3u8 and ../cam2/index.m3u8.

Server (a Starlette app run by uvicorn in a daemon thread on an ephemeral port)::

    with FakeHlsOrigin(content.root) as origin:   # or origin.start() / origin.stop()
        origin.base_url          # "http://127.0.0.1:<port>/hls/"   (files of root are under /hls/)
        origin.port, origin.url("cam1/seg000.ts")
        origin.require_auth("digest", username="camgate", password="pw", algorithms=("MD5",))
        origin.require_auth(None)                       # basic | digest | None (default None)
        origin.override("cam1/index.m3u8", b"...", content_type=..., status=200)
        origin.serve_hostile("cam1/index.m3u8", "encoded_dotdot")   # kinds: tests.fakes.hostile.HOSTILE_KINDS
        origin.fail("cam1/seg001.ts", status=500)       # answer with a bare status
        origin.slow("cam1/seg001.ts", 2.0)              # wait before answering (after auth)
        origin.slow("cam1/seg001.ts", 2.0, drip=True)   # answer at once, dribble the body over 2 s
        origin.requests["/hls/cam1/seg000.ts"]          # Counter of every request by decoded path
        origin.served["/hls/cam1/seg000.ts"]            # Counter of 200 answers (what reached the body)
        origin.count("cam1/seg000.ts")                  # == served[...]; paths may omit the /hls/ prefix
        origin.targets                                  # raw request targets in order (path?query)
        origin.reset()                                  # clear auth, overrides, faults and counters

``/private/secret.txt`` is a decoy outside the base path: any request for it means an escape got through.
Paths given to the methods are relative to the base path unless they start with ``/``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.hostile import hostile_playlist
from tests.fakes.httpauth import AuthScheme, HttpAuthServer

BASE_PATH = "/hls/"
DECOY_PATH = "/private/secret.txt"
DECOY_BODY = b"decoy outside the HLS base path: an escape reached the origin\n"
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
CONTENT_TYPES = {".m3u8": PLAYLIST_TYPE, ".ts": "video/mp2t", ".jpg": "image/jpeg", ".mp4": "video/mp4"}


@dataclass(frozen=True)
class OriginContent:
    root: Path
    cameras: tuple[str, ...] = ("cam1", "cam2")

    def segments(self, camera: str) -> list[str]:
        return sorted(p.name for p in (self.root / camera).glob("*.ts"))


def build_origin_content(root: Path, cameras: tuple[str, ...] = ("cam1", "cam2")) -> OriginContent:
    """Encode real HLS (4 x 1 s H.264 segments) and a JPEG per camera under ``root``, plus a master."""
    from broker.demo.video import make_hls, make_jpeg

    for camera in cameras:
        make_hls(root / camera, seconds=4.0, segment_seconds=1.0, label=camera)
        make_jpeg(root / camera / "snapshot.jpg", label=camera)
    variants = "".join(
        f"#EXT-X-STREAM-INF:BANDWIDTH={200_000 * (i + 1)},RESOLUTION=320x180\n../{camera}/index.m3u8\n"
        for i, camera in enumerate(cameras)
    )
    (root / "multi").mkdir(parents=True, exist_ok=True)
    (root / "multi" / "index.m3u8").write_text("#EXTM3U\n#EXT-X-VERSION:3\n" + variants)
    return OriginContent(root=root, cameras=cameras)


@dataclass
class _Fault:
    status: int | None = None
    delay: float = 0.0
    drip: bool = False


@dataclass
class _Override:
    body: bytes
    content_type: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class FakeHlsOrigin:
    def __init__(self, root: Path, *, host: str = "127.0.0.1") -> None:
        self.root = root.resolve()
        self.host = host
        self.requests: Counter[str] = Counter()
        self.served: Counter[str] = Counter()
        self.targets: list[str] = []
        self.auth: HttpAuthServer | None = None
        self._overrides: dict[str, _Override] = {}
        self._faults: dict[str, _Fault] = {}
        self._stopping = False
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self.port: int = self._sock.getsockname()[1]
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "HEAD"])])
        config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    # -- lifecycle -----------------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}{BASE_PATH}"

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{self._path(path)}"

    def start(self) -> FakeHlsOrigin:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake HLS origin did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._stopping = True
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> FakeHlsOrigin:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    # -- switches ------------------------------------------------------------------------------------------
    def require_auth(
        self,
        scheme: AuthScheme | None,
        *,
        username: str = "camgate",
        password: str = "camgate-password",
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
    ) -> None:
        self.auth = (
            None
            if scheme is None
            else HttpAuthServer(scheme, username=username, password=password, algorithms=algorithms)
        )

    def override(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = PLAYLIST_TYPE,
        status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        self._overrides[self._path(path)] = _Override(body, content_type, status, dict(headers or {}))

    def serve_hostile(self, path: str, kind: str) -> None:
        self.override(path, hostile_playlist(kind, port=self.port))

    def fail(self, path: str, status: int = 500) -> None:
        self._faults.setdefault(self._path(path), _Fault()).status = status

    def slow(self, path: str, seconds: float, *, drip: bool = False) -> None:
        fault = self._faults.setdefault(self._path(path), _Fault())
        fault.delay, fault.drip = seconds, drip

    def count(self, path: str) -> int:
        return self.served[self._path(path)]

    def reset(self) -> None:
        self.auth = None
        self._overrides.clear()
        self._faults.clear()
        self.requests.clear()
        self.served.clear()
        self.targets.clear()

    # -- serving -------------------------------------------------------------------------------------------
    @staticmethod
    def _path(path: str) -> str:
        return path if path.startswith("/") else BASE_PATH + path

    async def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stopping and time.monotonic() < end:
            await asyncio.sleep(min(0.02, max(0.0, end - time.monotonic())))

    def _lookup(self, path: str) -> tuple[bytes, str, int, dict[str, str]]:
        if (override := self._overrides.get(path)) is not None:
            return override.body, override.content_type, override.status, override.headers
        if path == DECOY_PATH:
            return DECOY_BODY, "text/plain", 200, {}
        if path.startswith(BASE_PATH):
            file = (self.root / path[len(BASE_PATH) :]).resolve()
            if file.is_relative_to(self.root) and file.is_file():
                ctype = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
                return file.read_bytes(), ctype, 200, {}
        return b"not found\n", "text/plain", 404, {}

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        target = request.scope["raw_path"].decode("latin-1")
        if request.scope["query_string"]:
            target += "?" + request.scope["query_string"].decode("latin-1")
        self.requests[path] += 1
        self.targets.append(target)
        auth = self.auth
        if auth is not None and not auth.check(request.method, target, request.headers.get("authorization")):
            refusal = Response(b"unauthorized\n", 401, media_type="text/plain")
            for challenge in auth.challenges():
                refusal.headers.append("www-authenticate", challenge)
            return refusal
        fault = self._faults.get(path, _Fault())
        if fault.delay and not fault.drip:
            await self._sleep(fault.delay)
        if fault.status is not None:
            return Response(f"injected failure {fault.status}\n".encode(), fault.status, media_type="text/plain")
        body, ctype, status, headers = self._lookup(path)
        if status == 200:
            self.served[path] += 1
        if fault.drip:
            return StreamingResponse(self._drip(body, fault.delay), status, headers=headers, media_type=ctype)
        return Response(body, status, headers=headers, media_type=ctype)

    async def _drip(self, body: bytes, seconds: float) -> AsyncIterator[bytes]:
        pieces = 20
        step = max(1, len(body) // pieces)
        for start in range(0, len(body), step):
            yield body[start : start + step]
            await self._sleep(seconds / pieces)
