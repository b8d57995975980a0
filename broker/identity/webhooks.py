"""Signed webhooks (Standard Webhooks, https://www.standardwebhooks.com/): who may post triggers and positions.

A source (a panic-button system, an alarm panel, a CAD system, a body-camera system) signs every request with
one of its ``whsec_`` secrets: ``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``. Several
secrets per source let it rotate: any one of them verifies. The HMAC is the ``standardwebhooks`` package's;
the timestamp is checked here against the injected clock (the package would read the system clock).
"""

from __future__ import annotations

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
        data = body.decode()
    except (ValueError, OverflowError, OSError):
        raise SignatureError(
            "webhook-timestamp must be integer seconds; the body UTF-8", reason="bad_signature"
        ) from None
    # Standard Webhooks, "Verifying webhooks": refuse a timestamp too far from now (replay of old messages).
    if abs(now - at) > TOLERANCE:
        raise SignatureError("webhook-timestamp is more than 5 minutes off", reason="stale_timestamp")
    candidates = [p.partition(",") for p in passed.split(" ")]
    for secret in secrets:
        expected = Webhook(secret).sign(msg_id, at, data).partition(",")[2]
        for version, _, value in candidates:
            if version == "v1" and hmac.compare_digest(expected.encode(), value.encode()):
                return Signed(source, msg_id, at)
    raise SignatureError("no signature matches the source's secrets", reason="bad_signature")
