"""Fixtures of the identity tests: real keys, and a real JWKS server on 127.0.0.1 (ephemeral port)."""

from __future__ import annotations

import base64
import json
import socket
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, Key, RSAKey

try:  # camgate is not installed in the venv: make the repository root importable for the test modules
    import broker  # noqa: F401
except ModuleNotFoundError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

START = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)


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


@pytest.fixture
def dead_url() -> str:
    """A 127.0.0.1 URL on which nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/jwks.json"


def _rsa(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid}, private=True)


def _ec(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": kid}, private=True)


@pytest.fixture(scope="session")
def keys() -> dict[str, Key]:
    """Real key pairs, generated once per session: police (RSA), school (EC), plus rotation and forgers."""
    return {
        "police": _rsa("police-1"),
        "police_rotated": _rsa("police-2"),
        "police_forger": _rsa("police-1"),  # another key claiming the police kid
        "school": _ec("school-1"),
        "school_rotated": _ec("school-2"),
        "school_forger": _ec("school-1"),
    }


@pytest.fixture
def clock() -> Any:
    from broker.clock import FakeClock

    return FakeClock(START)


@pytest.fixture
def claims(clock: Any) -> Callable[..., dict[str, Any]]:
    """Valid claims for ``iss``, overridable; a value of ``None`` removes the claim."""

    def make(iss: str | None, /, **overrides: Any) -> dict[str, Any]:
        now = int(clock.now().timestamp())
        base: dict[str, Any] = {
            "iss": iss,
            "aud": "camgate",
            "sub": "officer-17",
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "roles": ["viewer"],
        }
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not None}

    return make


@pytest.fixture
def sign() -> Callable[..., str]:
    """Sign ``claims`` with ``key`` (``kid`` header defaults to the key's kid)."""

    def make(key: Key, claims: dict[str, Any], alg: str, *, kid: str | None = "", **header: Any) -> str:
        head: dict[str, Any] = {"alg": alg, **header}
        chosen = key.kid if kid == "" else kid
        if chosen is not None:
            head["kid"] = chosen
        return jwt.encode(head, claims, key, algorithms=[alg])

    return make


def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def raw_token() -> Callable[..., str]:
    """A compact JWS assembled by hand (for ``alg: none`` and hand-made HMAC tokens)."""

    def make(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
        return f"{b64(header)}.{b64(claims)}.{b64(signature) if signature else ''}"

    return make
