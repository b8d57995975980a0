"""A JWK Set server over real HTTP on 127.0.0.1, for identity and API tests (real keys, real fetches)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc.jwk import Key


class JwksServer:
    """Serves JWK Sets by path and counts the requests. ``status`` forces an error answer."""

    def __init__(self) -> None:
        self.sets: dict[str, dict[str, Any]] = {}
        self.hits: Counter[str] = Counter()
        self.status = 200
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.hits[self.path] += 1
                    document = server.sets.get(self.path)
                    status = server.status if document is not None else 404
                body = json.dumps(document).encode() if status == 200 else b'{"error":"nope"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def publish(self, path: str, *keys: Key) -> str:
        with self._lock:
            self.sets[path] = {"keys": [public_jwk(k) for k in keys]}
        return self.url(path)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def public_jwk(key: Key) -> dict[str, Any]:
    return dict(key.as_dict(private=False, kid=key.kid))


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
