"""A test-only camera system that lists its cameras, over real HTTP with digest auth, and its adapter.

The server (a Starlette app on 127.0.0.1, HTTP digest per RFC 7616 via :class:`~tests.fakes.httpauth.HttpAuthServer`)
answers ``GET /api/cameras`` with ``{"cameras": [{"ref": …, "name": …, "model": …}, …]}``::

    with FakeNvr(username="camgate", password="pw") as nvr:
        nvr.base_url                           # http://127.0.0.1:<port>/
        nvr.set_cameras([("ch1", "Front door"), ("ch2", "Gym")])
        nvr.hang = True                        # answer nothing (until the client gives up)
        nvr.malformed = True                   # answer 200 with a body that is not the listing
        nvr.requests                           # listing requests that reached it (authenticated or not)

The adapter (:class:`FakeNvrAdapter`, registry name :data:`ADAPTER_NAME`) is what a vendor adapter would be:
a :class:`~broker.adapterapi.CameraSystemAdapter` that is also :class:`~broker.adapterapi.Discoverable`,
importing only :mod:`broker.adapterapi`, its password from ``password_env``/``password_file``
(:func:`~broker.adapterapi.read_secret`). It serves no video (NotSupported). ``leaky_errors: true`` makes it
put the password in its error messages, as a careless adapter might: the broker must scrub it.
Register it with :func:`register` (in-process) or run ``python -m tests.fakes.camgate_with_fakes`` (processes).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from broker.adapterapi import (
    AdapterConfigError,
    AdapterError,
    AuthFailed,
    DiscoveredCamera,
    Fetched,
    NotSupported,
    Recording,
    SystemSpec,
    read_secret,
)
from tests.fakes.httpauth import HttpAuthServer
from tests.fakes.servers import serve_in_thread

ADAPTER_NAME = "fake-nvr"
ADAPTER_TARGET = "tests.fakes.discovery:FakeNvrAdapter"
LISTING = "api/cameras"


def register(registry: dict[str, str] | None = None) -> None:
    """Put the fake adapter in the adapter registry (``adapters.ADAPTERS``)."""
    if registry is None:
        from adapters import ADAPTERS as registry
    registry[ADAPTER_NAME] = ADAPTER_TARGET


class FakeNvr:
    def __init__(self, *, username: str = "camgate", password: str = "nvr-password") -> None:
        self.auth = HttpAuthServer("digest", username=username, password=password, realm="fake-nvr")
        self.cameras: list[tuple[str, str]] = []
        self.hang = False
        self.malformed = False
        self.requests = 0
        self._serving: Any = None
        self.base_url = ""

    def set_cameras(self, cameras: list[tuple[str, str]]) -> None:
        self.cameras = list(cameras)

    async def _listing(self, request: Request) -> Response:
        self.requests += 1
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if not self.auth.check(request.method, target, request.headers.get("authorization")):
            return Response(status_code=401, headers={"WWW-Authenticate": self.auth.challenges()[0]})
        for _ in range(600):  # hanging: until released (or 30 s)
            if not self.hang:
                break
            await asyncio.sleep(0.05)
        if self.malformed:
            return Response(b"<html>not a camera list</html>", media_type="application/json")
        body = {"cameras": [{"ref": ref, "name": name, "model": "FAKE-NVR-1"} for ref, name in self.cameras]}
        return JSONResponse(body)

    def __enter__(self) -> FakeNvr:
        app = Starlette(routes=[Route(f"/{LISTING}", self._listing)])
        self._serving = serve_in_thread(app)
        self.base_url = self._serving.__enter__() + "/"
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.hang = False
        self._serving.__exit__(None, None, None)


class FakeNvrSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(min_length=1)
    password_env: str | None = None
    password_file: str | None = None
    timeout_seconds: float = Field(5.0, gt=0)
    leaky_errors: bool = False


class FakeNvrAdapter:
    """A Discoverable camera system adapter for tests (see the module docstring)."""

    def __init__(self, spec: SystemSpec) -> None:
        try:
            self.settings = FakeNvrSettings.model_validate(dict(spec.settings))
        except ValidationError as exc:
            raise AdapterConfigError(str(exc)) from None
        if not spec.base_url:
            raise AdapterConfigError("base_url is required")
        self.spec = spec
        s = self.settings
        self._password = read_secret("password", env=s.password_env, file=s.password_file)
        self._http = httpx.AsyncClient(base_url=spec.base_url, timeout=s.timeout_seconds, trust_env=False,
                                       auth=httpx.DigestAuth(s.username, self._password))  # fmt: skip

    def _error(self, message: str) -> str:
        return f"{message} (password {self._password})" if self.settings.leaky_errors else message

    async def discover(self) -> tuple[DiscoveredCamera, ...]:
        try:
            r = await self._http.get(LISTING)
        except httpx.TimeoutException:
            raise AdapterError(self._error("the NVR did not answer in time"), timeout=True) from None
        except httpx.HTTPError as exc:
            raise AdapterError(self._error(f"cannot reach the NVR: {type(exc).__name__}")) from None
        if r.status_code in (401, 403):
            raise AuthFailed(self._error("the NVR refused the credentials"), status=r.status_code)
        if r.status_code != 200:
            raise AdapterError(self._error(f"the NVR answered {r.status_code}"), status=r.status_code)
        try:
            items = json.loads(r.content)["cameras"]
            return tuple(DiscoveredCamera(str(c["ref"]), str(c["name"]), {"model": str(c.get("model", ""))})
                         for c in items)  # fmt: skip
        except (ValueError, KeyError, TypeError):
            raise AdapterError(self._error("the NVR's camera list is malformed"), status=200) from None

    async def live_playlist(self, camera_ref: str) -> Fetched:
        raise NotSupported("the fake NVR serves no video")

    async def resource(self, ref: str) -> Fetched:
        raise NotSupported("the fake NVR serves no video")

    def resolve(self, base_ref: str, uri: str) -> str:
        raise AdapterError("the fake NVR serves no video")

    async def snapshot(self, camera_ref: str) -> Fetched:
        raise NotSupported("the fake NVR serves no video")

    async def recording(self, camera_ref: str, start: datetime, end: datetime) -> Recording:
        raise NotSupported("the fake NVR keeps no recordings")

    async def aclose(self) -> None:
        await self._http.aclose()


def cameras_of(n: int, prefix: str = "ch") -> Iterator[tuple[str, str]]:
    """``(ch1, Channel 1)``, ``(ch2, Channel 2)``, …"""
    return ((f"{prefix}{i}", f"Channel {i}") for i in range(1, n + 1))
