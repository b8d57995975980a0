"""Authentication before the body, then a size limit: an ASGI middleware in front of the routes.

FastAPI reads and parses a request's body before it runs the dependencies, so without this a closed route would
read 10 MB from anyone before finding their token bad. For a request that has a body (``Content-Length`` above 0
or ``Transfer-Encoding``) on a route closed by a bearer token or the console session, this authenticates first,
from the headers alone (the same :func:`~broker.api.security.require_authentication`, which counts the refusal):
refused, the 401 (or the CSRF 403) is answered and not one byte of the body is read. Authenticated, the body
may be at most ``server.max_body_bytes``: a larger ``Content-Length`` is 413 ``too_large`` at once; a chunked
body is read up to the limit and refused as soon as it passes it (RFC 9110 §15.5.14). The dependency then finds
the principal already on the request and does not verify the token again.

Routes that authenticate by themselves (``@public``, ``@signed_url``, ``@signed_webhook``) bound their own reads;
a path that matches no route is answered 404/405 by the router without its body being read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker.api.security import ACCESS_ATTR, SELF_AUTHENTICATED, require_authentication
from broker.errors import CamgateError, ContentTooLarge

Answer = Callable[[CamgateError], Response]


class _Route:
    __slots__ = ("closed", "methods", "original", "regex")

    def __init__(self, regex: re.Pattern[str], methods: frozenset[str], closed: bool, original: Any) -> None:
        self.regex, self.methods, self.closed, self.original = regex, methods, closed, original


class BodyGate:
    def __init__(self, app: ASGIApp, *, api: FastAPI, limit: int, answer: Answer) -> None:
        self.app, self.api, self.limit, self.answer = app, api, limit, answer
        self._routes: list[_Route] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        route = self._route(scope)
        if route is None or not route.closed:
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})  # shared with the request the routes see: the principal goes there
        try:
            await require_authentication(Request({**scope, "route": route.original}))
        except CamgateError as exc:  # 401, the CSRF 403, a store that cannot look the session up
            await self.answer(exc)(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self.limit:
                await self.answer(self._too_large())(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        body = await self._read_chunked(receive)
        if body is None:
            await self.answer(self._too_large())(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _too_large(self) -> ContentTooLarge:
        return ContentTooLarge(f"the request body is larger than {self.limit} bytes", field="body")

    async def _read_chunked(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it is larger than the limit (the rest is never read)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _route(self, scope: Scope) -> _Route | None:
        """The route the router will pick: the first whose path and method match (None: 404 or 405)."""
        if self._routes is None:  # built on first use, when every router has been included
            self._routes = [
                _Route(
                    compile_path(rc.path)[0],
                    frozenset(rc.methods or ()),
                    getattr(rc.endpoint, ACCESS_ATTR, "bearer") not in SELF_AUTHENTICATED,
                    rc.original_route,
                )
                for rc in iter_route_contexts(self.api.routes)
                if rc.path is not None and rc.endpoint is not None
            ]
        path, method = scope["path"], scope["method"]
        for route in self._routes:
            if method in route.methods and route.regex.match(path):
                return route
        return None


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # http.disconnect, when the client goes

    return replay
