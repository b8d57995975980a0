"""RTSP messages as the gateway's credential relay reads and writes them, and the answers to a camera's challenge.

An RTSP connection carrying RTP interleaved (RFC 7826 §14) holds two kinds of units: ``$``, a channel byte and a
16-bit length, then that many bytes of RTP/RTCP; or a message (§8: a start line, header lines, an empty line, a
body of ``Content-Length`` bytes). :func:`read_unit` reads one, under caps. :func:`authorization` answers a
``WWW-Authenticate`` challenge: Digest (RFC 2617 §3.2.2, RFC 7616 §3.4: MD5 or SHA-256, ``qop=auth`` when
offered), else Basic (RFC 7617 §2); RTSP uses HTTP's authentication (RFC 7826 §19.1).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field

MAX_HEAD = 64 * 1024  # start line and headers of one message
MAX_BODY = 1 << 20  # a session description (SDP) is a few kilobytes
_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]+)')
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


class Malformed(Exception):
    """A unit that is not RTSP (or over a cap): the relay closes the connection."""


@dataclass
class Message:
    start: str  # "DESCRIBE rtsp://… RTSP/1.0" or "RTSP/1.0 401 Unauthorized"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def is_response(self) -> bool:
        return self.start.startswith("RTSP/")

    @property
    def status(self) -> int:
        """A response's status code (RFC 7826 §8.1.1), 0 if it has none."""
        parts = self.start.split(" ", 2)
        return int(parts[1]) if self.is_response and len(parts) > 1 and parts[1].isdigit() else 0

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def replace(self, name: str, value: str | None) -> None:
        """Set the header ``name`` to ``value`` (None: drop it)."""
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        if value is not None:
            self.headers.append((name, value))

    def encode(self) -> bytes:
        self.replace("Content-Length", str(len(self.body)) if self.body else None)
        head = "\r\n".join([self.start, *(f"{k}: {v}" for k, v in self.headers)]) + "\r\n\r\n"
        return head.encode("utf-8") + self.body


async def read_unit(reader: asyncio.StreamReader) -> Message | bytes:
    """The next message, or an interleaved frame as its raw bytes (``$`` included). EOF: :class:`EOFError`."""
    first = await reader.read(1)
    if not first:
        raise EOFError
    if first == b"$":
        head = await reader.readexactly(3)
        return first + head + await reader.readexactly(int.from_bytes(head[1:], "big"))
    try:
        raw = first + await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise Malformed("an RTSP message head over the cap") from None
    except asyncio.IncompleteReadError as exc:
        raise EOFError from exc
    if len(raw) > MAX_HEAD:
        raise Malformed("an RTSP message head over the cap")
    lines = raw.decode("utf-8", "replace").split("\r\n")
    message = Message(lines[0])
    for line in lines[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                raise Malformed("an RTSP header line without ':'")
            message.headers.append((name.strip(), value.strip()))
    length = message.header("Content-Length") or "0"
    if not length.isdigit() or int(length) > MAX_BODY:
        raise Malformed("an RTSP Content-Length that is not a number under the cap")
    message.body = await reader.readexactly(int(length))
    return message


def _challenges(values: list[str]) -> dict[str, dict[str, str]]:
    """``WWW-Authenticate`` values by scheme (lower case) → their auth-params (RFC 9110 §11.6.1)."""
    found: dict[str, dict[str, str]] = {}
    for value in values:
        scheme, _, rest = value.strip().partition(" ")
        params = {k.lower(): v[1:-1].replace('\\"', '"') if v.startswith('"') else v for k, v in _PARAM.findall(rest)}
        found.setdefault(scheme.lower(), params)
    return found


@dataclass
class Credentials:
    """The camera's username and password, and the challenge being answered (the nonce count grows)."""

    username: str
    password: str = field(repr=False)
    scheme: str | None = None  # "digest" or "basic" once challenged
    params: dict[str, str] = field(default_factory=dict)
    count: int = 0

    def challenged(self, values: list[str]) -> bool:
        """Take the camera's challenge; False if it offers no scheme this relay answers."""
        offered = _challenges(values)
        digest = offered.get("digest")
        if digest is not None and "nonce" in digest and digest.get("algorithm", "MD5").upper() in _HASHES:
            self.scheme, self.params, self.count = "digest", digest, 0
            return True
        if "basic" in offered:
            self.scheme, self.params = "basic", offered["basic"]
            return True
        return False

    def authorization(self, method: str, uri: str) -> str | None:
        """The ``Authorization`` value for a request, once challenged (None before)."""
        if self.scheme == "basic":
            return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if self.scheme != "digest":
            return None
        p = self.params
        algorithm = p.get("algorithm", "MD5").upper()
        h = lambda text: _HASHES[algorithm](text.encode()).hexdigest()  # noqa: E731
        ha1 = h(f"{self.username}:{p.get('realm', '')}:{self.password}")
        ha2 = h(f"{method}:{uri}")
        fields = {"username": self.username, "realm": p.get("realm", ""), "nonce": p["nonce"], "uri": uri}
        extra = ""
        if "auth" in [q.strip() for q in p.get("qop", "").split(",")]:
            self.count += 1
            nc, cnonce = f"{self.count:08x}", secrets.token_hex(8)
            fields["response"] = h(f"{ha1}:{p['nonce']}:{nc}:{cnonce}:auth:{ha2}")
            extra = f', qop=auth, nc={nc}, cnonce="{cnonce}"'
        else:
            fields["response"] = h(f"{ha1}:{p['nonce']}:{ha2}")
        if "opaque" in p:
            fields["opaque"] = p["opaque"]
        quoted = ", ".join(f'{k}="{v}"' for k, v in fields.items())
        return f"Digest {quoted}, algorithm={algorithm}{extra}"
