"""Cross-origin embedding (CORS: the WHATWG Fetch standard §3.3 "CORS protocol"): pages of the origins in
``http.cors_origins`` may read the stream routes and the few API routes an embedding page needs, with a bearer
token. Never with cookies. (Section numbers as of the living standard: §3.3 is #http-cors-protocol.)

A route is embeddable only when it says so (``@embeddable``): the allow-list opens no other route. The rest of
the broker's answers carry no CORS header at all, so a browser keeps other origins' pages from reading them.

- **CORS-preflight request** (Fetch §3.3.2 "HTTP requests": ``OPTIONS`` with ``Origin`` and
  ``Access-Control-Request-Method``; §4.8 "CORS-preflight fetch": sent without credentials). On an embeddable
  route, from an allowed origin, for one of the route's methods and only headers the route accepts
  (``Authorization``, ``Content-Type``): 204 with ``Access-Control-Allow-Origin`` (the origin itself, §3.3.3
  "HTTP responses"), ``-Allow-Methods``, ``-Allow-Headers``, ``-Max-Age`` (§4.9 "CORS-preflight cache") and
  ``Vary``. Anything else goes on to the router as a plain ``OPTIONS`` (405 with ``Allow``) and gets no CORS
  header: the browser's CORS check fails (§4.10 "CORS check").
- **CORS request** (§3.3.2: a request with ``Origin``) on an embeddable route from an allowed origin: the answer,
  whatever its status (a 401 or 403 body is for the page to read), carries ``Access-Control-Allow-Origin`` and
  ``Access-Control-Expose-Headers`` (``WWW-Authenticate``, ``Retry-After``). Every answer of an embeddable route
  says ``Vary: Origin`` (§3.3.3, and the background section "CORS protocol and HTTP caches").
- **Credentials** (§3.3.5 "CORS protocol and credentials"): ``Access-Control-Allow-Credentials`` is never sent,
  so a browser exposes no answer to a credentialed (cookie) request of another origin; and the broker never lets
  a cookie authorise a request from another origin in the first place (:func:`broker.api.security.foreign`). A
  foreign page authenticates with ``Authorization: Bearer`` (hls.js ``xhrSetup``), or opens a viewing URL
  (``POST …/viewing-url``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

F = TypeVar("F", bound=Callable[..., Any])
CORS_ATTR = "__camgate_cors__"
#: The request headers an embedding page may send (Fetch §3.3.3 Access-Control-Allow-Headers), lower case.
ALLOWED_HEADERS = ("authorization", "content-type")
EXPOSED_HEADERS = b"WWW-Authenticate, Retry-After"
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 §5.6.2 token: a header name


def embeddable(fn: F) -> F:
    """Pages of the origins in ``http.cors_origins`` may read this route (with a bearer token, never cookies)."""
    setattr(fn, CORS_ATTR, True)
    return fn


Table = tuple[tuple[re.Pattern[str], frozenset[str]], ...]


class Cors:
    def __init__(self, app: ASGIApp, *, api: FastAPI, origins: list[str], max_age: int) -> None:
        self.app, self.api, self.origins, self.max_age = app, api, frozenset(origins), max_age
        self._table: Table | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.origins:
            await self.app(scope, receive, send)
            return
        methods = self._methods(scope["path"])
        if methods is None:  # not embeddable: no CORS header, whatever the origin
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        origin = headers.get(b"origin")
        allowed = origin is not None and origin.decode("latin-1") in self.origins
        requested = headers.get(b"access-control-request-method")
        if scope["method"] == "OPTIONS" and origin is not None and requested is not None:  # Fetch §3.3.2 preflight
            answer = self._preflight(origin, requested, headers.get(b"access-control-request-headers"), methods)
            if allowed and answer is not None:
                await _respond(send, 204, answer)
                return
            await self.app(scope, receive, send)  # the router's 405, without a CORS header
            return
        extra = [(b"vary", b"Origin")]
        if allowed and origin is not None:
            extra += [(b"access-control-allow-origin", origin), (b"access-control-expose-headers", EXPOSED_HEADERS)]

        async def send_with(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with)

    def _preflight(
        self, origin: bytes, method: bytes, requested: bytes | None, methods: frozenset[str]
    ) -> list[tuple[bytes, bytes]] | None:
        """The headers of a successful preflight answer (§4.8 step 7: the CORS check and the lists), or None."""
        if method.decode("latin-1") not in methods:
            return None
        names = [n.strip().lower() for n in (requested or b"").decode("latin-1").split(",") if n.strip()]
        if not all(_TOKEN.fullmatch(n) and n in ALLOWED_HEADERS for n in names):
            return None
        return [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-methods", ", ".join(sorted(methods)).encode()),
            (b"access-control-allow-headers", ", ".join(ALLOWED_HEADERS).encode()),
            (b"access-control-max-age", str(self.max_age).encode()),
            (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
            (b"cache-control", b"no-store"),
        ]

    def _methods(self, path: str) -> frozenset[str] | None:
        """The methods of the embeddable routes whose path matches ``path`` (None: no such route)."""
        if self._table is None:  # built on first use, when every router has been included
            rows: dict[str, set[str]] = {}
            for rc in iter_route_contexts(self.api.routes):
                if rc.path is not None and rc.methods and getattr(rc.endpoint, CORS_ATTR, False):
                    rows.setdefault(rc.path, set()).update(rc.methods)
            self._table = tuple((compile_path(p)[0], frozenset(ms)) for p, ms in rows.items())
        found = {m for regex, ms in self._table if regex.match(path) for m in ms}
        return frozenset(found) if found else None


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope["headers"]}


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
