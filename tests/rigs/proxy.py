"""A counting reverse proxy on 127.0.0.1 between ffmpeg viewers and the broker: what each viewer received.

One uvicorn server listens on one port per viewer (the port says whose request it is, whatever the broker's
URLs look like) and forwards each request to the broker's current URL (:attr:`CountingProxy.target`, switched
when a restarted broker listens elsewhere). Each answer is kept as a :class:`Hit`: what the broker sent, read
completely before it is passed on. A request the broker never answered (killed, refused the connection) is a
502 of the proxy's own, with ``error`` ``"no_answer"``: never counted as received.

Put between the broker and the camera system, with :attr:`CountingProxy.faults`, it is a failing upstream.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

LIMITS = httpx.Limits(max_connections=400, max_keepalive_connections=200)
PASSED_ON = ("content-type", "retry-after", "www-authenticate", "cache-control")


@dataclass(frozen=True)
class Hit:
    viewer: int
    kind: str  # "playlist" or "segment"
    status: int
    nbytes: int
    started: float  # time.monotonic()
    ended: float
    error: str | None = None  # the JSON error code of a refusal, "no_answer" when the broker never answered

    @property
    def received(self) -> bool:
        return self.status == 200


class CountingProxy:
    def __init__(self, target: str, viewers: int) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._hits: list[Hit] = []
        self._sockets = [_listen() for _ in range(viewers)]
        self.ports = [s.getsockname()[1] for s in self._sockets]
        self._viewer_of = {port: i for i, port in enumerate(self.ports)}
        self._client: httpx.AsyncClient | None = None
        self.faults: dict[str, int] = {}  # kind ("playlist", "segment") -> status answered instead of forwarding
        self.app = Starlette(routes=[Route("/{path:path}", self._forward)], lifespan=self._lifespan)

    @asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=httpx.Timeout(20.0, connect=2.0), limits=LIMITS) as client:
            self._client = client
            yield

    def url(self, viewer: int, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[viewer]}{path}"

    def hits(self, viewer: int | None = None, *, since: float | None = None) -> list[Hit]:
        with self._lock:
            hits = list(self._hits)
        return [h for h in hits if (viewer is None or h.viewer == viewer) and (since is None or h.started >= since)]

    def received(self, viewer: int | None = None) -> list[Hit]:
        return [h for h in self.hits(viewer) if h.received]

    async def _forward(self, request: Request) -> Response:
        assert self._client is not None
        viewer = self._viewer_of[request.scope["server"][1]]
        path = request.url.path
        kind = "playlist" if path.endswith(".m3u8") else "segment"
        url = f"{self.target}{path}" + (f"?{request.url.query}" if request.url.query else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "accept")}
        started = time.monotonic()
        if kind in self.faults:  # a failing server, as the broker sees it
            self._keep(Hit(viewer, kind, self.faults[kind], 0, started, time.monotonic(), "injected"))
            return Response(b"injected failure", status_code=self.faults[kind])
        try:
            r = await self._client.get(url, headers=headers)
            body = r.content  # read whole: it left the broker
        except httpx.HTTPError:
            self._keep(Hit(viewer, kind, 502, 0, started, time.monotonic(), "no_answer"))
            return Response(b"no answer from the broker", status_code=502)
        error = None
        if r.status_code != 200 and r.headers.get("content-type", "").startswith("application/json"):
            try:
                error = str(r.json().get("error"))
            except ValueError:
                error = None
        self._keep(Hit(viewer, kind, r.status_code, len(body), started, time.monotonic(), error))
        passed = {k: v for k, v in r.headers.items() if k.lower() in PASSED_ON}
        return Response(body, status_code=r.status_code, headers=passed)

    def _keep(self, hit: Hit) -> None:
        with self._lock:
            self._hits.append(hit)


def _listen() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def counting_proxy(target: str, viewers: int) -> Iterator[CountingProxy]:
    """A :class:`CountingProxy` for ``viewers`` viewers, served in a thread while in the block."""
    proxy = CountingProxy(target, viewers)
    config = uvicorn.Config(proxy.app, log_level="warning", lifespan="on", access_log=False, backlog=256)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": proxy._sockets}, daemon=True, name="proxy")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the counting proxy did not start")
        time.sleep(0.02)
    try:
        yield proxy
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        for sock in proxy._sockets:
            sock.close()
