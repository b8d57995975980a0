"""Standard Webhooks signatures: what the standardwebhooks package signs verifies; anything altered does not."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from broker.errors import SignatureError
from broker.identity.webhooks import StreamedSignature, sign, verify

SECRET = "whsec_" + base64.b64encode(b"panic-button-secret-0123456789ab").decode()
ROTATED = "whsec_" + base64.b64encode(b"the-new-secret-after-rotation-00").decode()
NOW = datetime(2026, 9, 14, 13, 0, tzinfo=UTC)
BODY = b'{"type":"panic.pressed","data":{"device":"saxe-office-1"}}'


def package_headers(secret: str = SECRET, body: bytes = BODY, at: datetime = NOW) -> dict[str, str]:
    """Headers made by the standardwebhooks package itself, as a sender using it would."""
    signature = Webhook(secret).sign("msg_2Lx", at, body.decode())
    return {"webhook-id": "msg_2Lx", "webhook-timestamp": str(int(at.timestamp())), "webhook-signature": signature}


def reason(headers: dict[str, str], body: bytes = BODY, secrets: list[str] | None = None) -> str:
    with pytest.raises(SignatureError) as info:
        verify("ncps", [SECRET] if secrets is None else secrets, headers, body, NOW)
    return str(info.value.details["reason"])


def test_an_event_signed_by_the_package_verifies() -> None:
    signed = verify("ncps", [SECRET], package_headers(), BODY, NOW)
    assert (signed.source, signed.id, signed.at) == ("ncps", "msg_2Lx", NOW)
    assert sign(SECRET, "msg_2Lx", NOW, BODY) == package_headers()


def test_the_package_verifies_what_camgate_trigger_send_signs() -> None:
    headers = sign(SECRET, "msg_1", datetime.now(UTC), BODY)  # the package's verify reads the system clock
    assert Webhook(SECRET).verify(BODY, headers) == {"type": "panic.pressed", "data": {"device": "saxe-office-1"}}


def test_altered_body_id_timestamp_or_secret_does_not_verify() -> None:
    headers = package_headers()
    assert reason(headers, BODY.replace(b"saxe", b"east")) == "bad_signature"
    assert reason(headers | {"webhook-id": "msg_other"}) == "bad_signature"
    assert reason(headers | {"webhook-timestamp": str(int(NOW.timestamp()) + 1)}) == "bad_signature"
    assert reason(package_headers(secret=ROTATED)) == "bad_signature"
    assert reason(headers | {"webhook-signature": "v2," + headers["webhook-signature"][3:]}) == "bad_signature"
    assert reason(headers | {"webhook-timestamp": "soon"}) == "bad_signature"


def test_any_of_several_secrets_verifies_during_rotation() -> None:
    verify("ncps", [ROTATED, SECRET], package_headers(), BODY, NOW)
    both = f"v1,bogus {package_headers(secret=ROTATED)['webhook-signature']}"
    verify("ncps", [SECRET, ROTATED], package_headers() | {"webhook-signature": both}, BODY, NOW)


def test_a_timestamp_more_than_five_minutes_off_is_refused() -> None:
    for off in (timedelta(minutes=5, seconds=1), -timedelta(minutes=5, seconds=1)):
        assert reason(package_headers(at=NOW + off)) == "stale_timestamp"
    for off in (timedelta(minutes=5), -timedelta(minutes=5)):
        verify("ncps", [SECRET], package_headers(at=NOW + off), BODY, NOW)


def test_missing_headers_or_no_secret() -> None:
    assert reason({}) == "unsigned"
    assert reason({k: v for k, v in package_headers().items() if k != "webhook-id"}) == "unsigned"
    assert reason(package_headers(), secrets=[]) == "unknown_source"


def test_a_streamed_body_has_the_signature_the_package_gives_the_whole() -> None:
    body = '{"notes": "caf\u00e9 \u2603"}'.encode() * 1000
    headers = package_headers(body=body)
    pieces = [body[i : i + 7] for i in range(0, len(body), 7)]  # multibyte characters split across chunks
    streamed = StreamedSignature([ROTATED, SECRET], "msg_2Lx", NOW)
    for piece in pieces:
        streamed.update(piece)
    assert streamed.size == len(body) and streamed.matches(headers["webhook-signature"])
    altered = StreamedSignature([SECRET], "msg_2Lx", NOW)
    altered.update(body[:-1] + b"]")
    assert not altered.matches(headers["webhook-signature"])
    other_time = StreamedSignature([SECRET], "msg_2Lx", NOW + timedelta(seconds=1))
    other_time.update(body)
    assert not other_time.matches(headers["webhook-signature"])


def test_a_streamed_body_that_is_not_utf8_never_matches() -> None:
    body = b"\xff\xfe" + BODY
    signature = (
        "v1,"
        + base64.b64encode(
            hmac.new(
                base64.b64decode(SECRET[6:] + "=="),
                b"msg_1." + str(int(NOW.timestamp())).encode() + b"." + body,
                hashlib.sha256,
            ).digest()
        ).decode()
    )
    streamed = StreamedSignature([SECRET], "msg_1", NOW)
    streamed.update(body)
    assert not streamed.matches(signature)
