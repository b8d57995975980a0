"""Fixtures of the identity tests: real keys, and a real JWKS server on 127.0.0.1 (ephemeral port)."""

from __future__ import annotations

import base64
import json
import socket
import sys
from collections.abc import Callable
from datetime import UTC, datetime
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
