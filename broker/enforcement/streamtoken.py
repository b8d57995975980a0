"""Short-lived sealed tokens for the segment URLs the broker writes into rewritten playlists.

A token binds one upstream ref to the principal, camera and grant that the decision point allowed, so a URL
copied out of a playlist is useless for another camera, and it dies with the viewer's credential; how long it
lives otherwise is :mod:`broker.enforcement.tokenlife`'s business (every request is decided again anyway). It is
*sealed*, not just signed: the upstream
reference inside must not reach the client (upstream paths are the camera system's business), so the claims
are encrypted and authenticated with AES-256-GCM (NIST SP 800-38D) under a key derived from the secret.
Format, URL-safe and unpadded::

    base64url(nonce, 12 bytes) "." base64url(AES-GCM(key, nonce, json(claims), aad=context))

Any change to either part fails authentication; both parts must be in canonical base64url so that no
alternative encoding of the same bytes is accepted.

A playback token (action ``playback``) also binds the footage window the viewer asked for, in microseconds
since the epoch (exact for Python datetimes), so every segment request is decided again for that window.

An empty ``ref`` names the camera's own live playlist (``live.m3u8``: the variant of a viewing URL's master). A
viewing-URL token (``use`` ``"view"``, :mod:`broker.enforcement.viewing`) opens ``view.m3u8`` only, and carries
``bound``: the expiry of the credential that asked for it, which the stream URLs it leads to never outlive.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from broker.clock import Clock
from broker.errors import StreamTokenError

MIN_SECRET_BYTES = 32
MAX_TOKEN_CHARS = 4096
_CONTEXT = b"camgate-stream-token-v2"  # domain separation from any other use of the secret
NONCE_BYTES = 12  # 96-bit random nonces: SP 800-38D 8.2.2 bounds invocations per key; rotate the secret yearly
_B64 = re.compile(r"[A-Za-z0-9_-]+")
# Short JSON keys keep URLs short.
_KEYS = {
    "sub": "s",
    "agency": "a",
    "roles": "r",
    "camera": "c",
    "action": "x",
    "mou": "m",
    "grant": "g",
    "emergency": "e",
    "ref": "f",
    "exp": "t",
    "window": "w",
    "bound": "b",
    "use": "u",
}
_OPTIONAL = ("mou", "grant", "emergency", "window", "bound", "use")
LIVE_REF = ""  # the camera's own live playlist, served as ``live.m3u8``
LIVE_NAME = "live.m3u8"
VIEW_USE = "view"


@dataclass(frozen=True, slots=True)
class StreamClaims:
    sub: str
    agency: str
    roles: tuple[str, ...]
    camera: str
    action: str
    mou: str | None
    grant: str | None
    emergency: str | None
    ref: str
    exp: int  # unix seconds
    window: tuple[int, int] | None = None  # playback: [start, end) in microseconds since the epoch
    bound: int | None = None  # viewing URL: the credential's expiry (unix seconds), the stream URLs' last second
    use: str | None = None  # "view": a viewing-URL token (view.m3u8 only); None: a stream URL's token


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64_INDEX = {ch: i for i, ch in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}


def _canonical(text: str) -> bool:
    """Unpadded base64url whose unused trailing bits are zero (RFC 4648 §3.5), so one encoding per value."""
    tail = len(text) % 4
    if tail == 1:
        return False
    return tail == 0 or _B64_INDEX[text[-1]] & (0x0F if tail == 2 else 0x03) == 0


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _invalid(reason: str, message: str) -> StreamTokenError:
    return StreamTokenError(f"stream token {message}", reason=reason)


_ALLOWED_KEYS = frozenset(_KEYS.values())
_REQUIRED_STR = ("s", "a", "c", "x", "f")


def _claims_from(obj: Any) -> StreamClaims:
    """Strict shape check of decrypted claims (hot path: one segment request each)."""
    if type(obj) is not dict or not obj.keys() <= _ALLOWED_KEYS:
        raise ValueError("unexpected claims")
    for key in _REQUIRED_STR:
        if type(obj.get(key)) is not str:
            raise ValueError(key)
    roles, exp = obj.get("r"), obj.get("t")
    if type(roles) is not list or not all(type(r) is str for r in roles):
        raise ValueError("roles")
    if type(exp) is not int:
        raise ValueError("exp")
    mou, grant, emergency = obj.get("m"), obj.get("g"), obj.get("e")
    for value in (mou, grant, emergency):
        if value is not None and type(value) is not str:
            raise ValueError("optional claim")
    window = obj.get("w")
    if window is not None:
        if type(window) is not list or len(window) != 2 or not all(type(v) is int for v in window):
            raise ValueError("window")
        window = (window[0], window[1])
    bound, use = obj.get("b"), obj.get("u")
    if bound is not None and type(bound) is not int:
        raise ValueError("bound")
    if use is not None and type(use) is not str:
        raise ValueError("use")
    return StreamClaims(
        obj["s"], obj["a"], tuple(roles), obj["c"], obj["x"], mou, grant, emergency, obj["f"], exp, window, bound, use
    )


class StreamTokenSigner:
    def __init__(self, secret: bytes, clock: Clock) -> None:
        if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"stream token secret must be at least {MIN_SECRET_BYTES} bytes")
        self._aead = AESGCM(hmac.new(secret, _CONTEXT, hashlib.sha256).digest())
        self._clock = clock

    def __repr__(self) -> str:
        return "StreamTokenSigner(secret=<redacted>)"

    def _seal(self, plaintext: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        return f"{_b64encode(nonce)}.{_b64encode(self._aead.encrypt(nonce, plaintext, _CONTEXT))}"

    def sign(self, claims: StreamClaims) -> str:
        obj: dict[str, Any] = {}
        for name, key in _KEYS.items():
            value = getattr(claims, name)
            if name in _OPTIONAL and value is None:
                continue
            obj[key] = list(value) if name in ("roles", "window") else value
        return self._seal(json.dumps(obj, separators=(",", ":"), ensure_ascii=True).encode("ascii"))

    def verify(self, token: str, *, camera: str) -> StreamClaims:
        """The claims of ``token`` if it is authentic, unexpired and for ``camera``; else StreamTokenError."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise _invalid("malformed", "is malformed: not a string or too long")
        nonce_text, dot, sealed_text = token.partition(".")
        if not dot or not _B64.fullmatch(nonce_text) or not _B64.fullmatch(sealed_text):
            raise _invalid("malformed", "is malformed: expected base64url nonce '.' base64url sealed claims")
        try:
            nonce, sealed = _b64decode(nonce_text), _b64decode(sealed_text)
        except (ValueError, binascii.Error):
            raise _invalid("malformed", "is malformed: bad base64url") from None
        if len(nonce) != NONCE_BYTES or not (_canonical(nonce_text) and _canonical(sealed_text)):
            raise _invalid("bad_signature", "has a bad signature")  # non-canonical encodings are not ours
        try:
            plaintext = self._aead.decrypt(nonce, sealed, _CONTEXT)
        except (InvalidTag, ValueError):
            raise _invalid("bad_signature", "has a bad signature") from None
        try:
            claims = _claims_from(json.loads(plaintext.decode("ascii")))
        except (ValueError, UnicodeDecodeError) as exc:
            raise _invalid("malformed", f"is malformed: bad claims ({exc})") from None
        now = int(self._clock.now().timestamp())
        if now >= claims.exp:
            raise _invalid("expired", f"expired {now - claims.exp}s ago")
        if not hmac.compare_digest(claims.camera.encode(), camera.encode()):
            raise _invalid("camera_mismatch", f"is for camera {claims.camera!r}, not {camera!r}")
        return claims
