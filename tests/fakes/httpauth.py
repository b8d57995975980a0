"""Server side of HTTP Basic (RFC 7617) and Digest (RFC 7616, qop=auth, MD5 and SHA-256) for fake servers.

    auth = HttpAuthServer("digest", username="camgate", password="s3cret", algorithms=("SHA-256", "MD5"))
    auth.challenges()                       # values for the WWW-Authenticate headers of a 401
    auth.check(method, request_uri, authorization_header_or_None) -> bool

``request_uri`` is the raw request target (path and query, still percent-encoded) the digest ``uri``
parameter must equal (RFC 7616 section 3.4.6). Each (nonce, nc) pair is accepted once (no replay); counts may
arrive out of order, as they do from concurrent clients sharing one nonce.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
from typing import Literal
from urllib.request import parse_http_list, parse_keqv_list

AuthScheme = Literal["basic", "digest"]
HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


class HttpAuthServer:
    def __init__(
        self,
        scheme: AuthScheme,
        *,
        username: str,
        password: str,
        realm: str = "camgate-fake-origin",
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
    ) -> None:
        if scheme not in ("basic", "digest"):
            raise ValueError(f"unknown auth scheme {scheme!r}")
        unknown = [a for a in algorithms if a not in HASHES]
        if unknown or not algorithms:
            raise ValueError(f"digest algorithms must be among {sorted(HASHES)}")
        self.scheme = scheme
        self.username, self.password, self.realm = username, password, realm
        self.algorithms = algorithms
        self.opaque = secrets.token_hex(8)
        self._nonces: dict[str, set[str]] = {}  # issued nonce -> nc values already used
        self._lock = threading.Lock()
        self.failures = 0  # requests refused (no, bad or replayed credentials)

    def challenges(self) -> list[str]:
        if self.scheme == "basic":
            return [f'Basic realm="{self.realm}", charset="UTF-8"']  # RFC 7617 section 2.1
        out = []
        for algorithm in self.algorithms:  # RFC 7616 section 3.7: one challenge per algorithm, preferred first
            nonce = secrets.token_hex(16)
            with self._lock:
                self._nonces[nonce] = set()
            out.append(
                f'Digest realm="{self.realm}", qop="auth", algorithm={algorithm}, '
                f'nonce="{nonce}", opaque="{self.opaque}"'
            )
        return out

    def check(self, method: str, request_uri: str, authorization: str | None) -> bool:
        ok = bool(authorization) and (
            self._basic(authorization or "")
            if self.scheme == "basic"
            else self._digest(method, request_uri, authorization or "")
        )
        if not ok:
            self.failures += 1
        return ok

    def _basic(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return bool(sep) and _same(user, self.username) & _same(password, self.password)

    def _digest(self, method: str, request_uri: str, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "digest":
            return False
        try:
            fields = parse_keqv_list(parse_http_list(value))
        except ValueError:
            return False
        algorithm = fields.get("algorithm", "MD5").upper()
        nonce, nc, cnonce = fields.get("nonce", ""), fields.get("nc", ""), fields.get("cnonce", "")
        if (
            algorithm not in self.algorithms
            or fields.get("qop") != "auth"
            or fields.get("realm") != self.realm
            or fields.get("opaque") != self.opaque
            or fields.get("uri") != request_uri
            or not cnonce
            or len(nc) != 8
        ):
            return False
        with self._lock:
            used = self._nonces.get(nonce)
            if used is None or nc in used:
                return False  # never issued, or a replay
            used.add(nc)

        def h(text: str) -> str:
            return HASHES[algorithm](text.encode("utf-8")).hexdigest()

        ha1 = h(f"{self.username}:{self.realm}:{self.password}")
        ha2 = h(f"{method}:{request_uri}")
        expected = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")  # RFC 7616 section 3.4.1
        return _same(fields.get("username", ""), self.username) & _same(fields.get("response", ""), expected)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
