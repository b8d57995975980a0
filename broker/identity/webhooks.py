"""Signed webhooks (Standard Webhooks, https://www.standardwebhooks.com/): who may post triggers and positions.

A source (a panic-button system, an alarm panel, a CAD system, a body-camera system) signs every request with
one of its ``whsec_`` secrets: ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``. Several
secrets per source let it rotate: any one of them verifies. The HMAC is the ``standardwebhooks`` package's;
the timestamp is checked here against the injected clock (the package would read the system clock).
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from standardwebhooks.webhooks import Webhook

from broker.errors import SignatureError

#: Standard Webhooks: "a tolerance of 5 minutes" between the sender's timestamp and the receiver's clock.
TOLERANCE = timedelta(minutes=5)
MAX_ID = 200


@dataclass(frozen=True)
class Signed:
    """A request whose signature verified: its id (for idempotency) and the instant it was signed."""

    source: str
    id: str
    at: datetime


def sign(secret: str, msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """The three headers a source sends (used by ``camgate trigger send`` and the tests)."""
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature}


def verify(source: str, secrets: list[str], headers: Mapping[str, str], body: bytes, now: datetime) -> Signed:
    """Check the headers against the body and each secret; raise :class:`SignatureError` with a ``reason``."""
    msg_id, at, passed = check_headers(source, secrets, headers, now)
    try:
        data = body.decode()
    except ValueError:
        raise SignatureError("the body is not UTF-8", reason="bad_signature") from None
    expected = [Webhook(secret).sign(msg_id, at, data).partition(",")[2] for secret in secrets]
    if not _any_matches(expected, passed):
        raise SignatureError("no signature matches the source's secrets", reason="bad_signature")
    return Signed(source, msg_id, at)


def check_headers(
    source: str, secrets: list[str], headers: Mapping[str, str], now: datetime
) -> tuple[str, datetime, str]:
    """The id, the instant and the signatures of a request, everything but the signature itself checked."""
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    passed = headers.get("webhook-signature", "")
    if not (msg_id and stamp and passed):
        raise SignatureError("webhook-id, webhook-timestamp and webhook-signature are required", reason="unsigned")
    if not secrets:
        raise SignatureError(f"unknown source {source!r}", reason="unknown_source")
    if len(msg_id) > MAX_ID:
        raise SignatureError("webhook-id is too long", reason="bad_signature")
    try:
        at = datetime.fromtimestamp(int(stamp), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise SignatureError("webhook-timestamp must be integer seconds", reason="bad_signature") from None
    # Standard Webhooks, "Verifying webhooks": refuse a timestamp too far from now (replay of old messages).
    if abs(now - at) > TOLERANCE:
        raise SignatureError("webhook-timestamp is more than 5 minutes off", reason="stale_timestamp")
    return msg_id, at, passed


def _any_matches(expected: list[str], passed: str) -> bool:
    candidates = [p.partition(",") for p in passed.split(" ")]
    return any(
        version == "v1" and hmac.compare_digest(want.encode(), value.encode())
        for want in expected
        for version, _, value in candidates
    )


class StreamedSignature:
    """The v1 signatures of a body fed chunk by chunk, in constant memory, for a body too large to keep: its
    signature is still checked before its size, so a forged 10 MB post is 401, not "too large".

    The same HMAC-SHA256 as :meth:`Webhook.sign` over ``id.timestamp.body``, with each secret's key.
    """

    def __init__(self, secrets: list[str], msg_id: str, at: datetime) -> None:
        signed = f"{msg_id}.{int(at.timestamp())}.".encode()
        self._macs = [hmac.new(_key(secret), signed, hashlib.sha256) for secret in secrets]
        self._text = codecs.getincrementaldecoder("utf-8")()
        self._utf8 = True
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        for mac in self._macs:
            mac.update(chunk)
        if self._utf8:
            try:
                self._text.decode(chunk)
            except ValueError:
                self._utf8 = False

    def matches(self, passed: str) -> bool:
        """Whether the ``webhook-signature`` header holds the signature of everything fed (all of the body)."""
        try:
            self._text.decode(b"", final=True)
        except ValueError:
            self._utf8 = False
        expected = [base64.b64encode(mac.copy().digest()).decode() for mac in self._macs]
        return self._utf8 and _any_matches(expected, passed)


def _key(secret: str) -> bytes:
    """A ``whsec_`` secret's HMAC key, decoded as the standardwebhooks package decodes it."""
    return base64.b64decode(secret.removeprefix("whsec_") + "==")
