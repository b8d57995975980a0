"""The web server of a fake camera or NVR on 127.0.0.1: HTTP Digest authentication, fault switches, a log.

Subclasses (:mod:`tests.fakes.axis`, :mod:`tests.fakes.hikvision`) answer the vendor's documented requests in
:meth:`FakeDeviceHttp.answer`; this base runs a Starlette app under uvicorn in a daemon thread::

    device.base_url        # "http://127.0.0.1:<port>/"
    device.fault = "hang"  # accept every request and never answer (until stop); None: answer normally
    device.fault = "malformed"  # the subclass answers with broken documents
    device.fault = "forbidden"  # 403 once authenticated (an account without the privilege)
    device.targets         # request targets (path?query) in arrival order, refused ones included
    device.auth.failures   # requests refused for missing or wrong credentials

Digest is offered with MD5 only, as Axis and Hikvision firmware do (RFC 7616 §3.7 allows one challenge).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.httpauth import HttpAuthServer

Fault = Literal["hang", "malformed"]


class FakeDeviceHttp:
    def __init__(self, *, username: str, password: str, realm: str) -> None:
        self.auth = HttpAuthServer("digest", username=username, password=password, realm=realm, algorithms=("MD5",))
        self.fault: str | None = None
        self.targets: list[str] = []
        self._stopping = False
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])
        config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"{type(self).__name__} did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        self._stopping = True
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> FakeDeviceHttp:
        self.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    async def answer(self, request: Request) -> Response:
        """The device's answer to an authenticated request (``self.fault`` may be ``"malformed"``)."""
        raise NotImplementedError

    async def _handle(self, request: Request) -> Response:
        target = request.scope["raw_path"].decode("latin-1")
        if request.scope["query_string"]:
            target += "?" + request.scope["query_string"].decode("latin-1")
        self.targets.append(target)
        if self.fault == "hang":
            while not self._stopping:
                await asyncio.sleep(0.02)
            return Response(b"", 503)
        if not self.auth.check(request.method, target, request.headers.get("authorization")):
            refusal = Response(b"401 Unauthorized\n", 401, media_type="text/plain")
            for challenge in self.auth.challenges():
                refusal.headers.append("www-authenticate", challenge)
            return refusal
        if self.fault == "forbidden":  # authenticated, but the account lacks the privilege
            return Response(b"403 Forbidden\n", 403, media_type="text/plain")
        return await self.answer(request)
