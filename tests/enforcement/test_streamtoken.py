"""Sealed segment tokens."""

from __future__ import annotations

import base64

import pytest

from broker.clock import FakeClock
from broker.enforcement.streamtoken import StreamClaims, StreamTokenSigner
from broker.errors import StreamTokenError

SECRET = b"k" * 32
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def claims(clock: FakeClock, **changes: object) -> StreamClaims:
    values: dict[str, object] = {
        "sub": "officer-17",
        "agency": "ncpd",
        "roles": ("viewer", "dispatcher"),
        "camera": "nchs-gym-2",
        "action": "live",
        "mou": "mou-2026-ncpd-ncps",
        "grant": "g1",
        "emergency": None,
        "ref": "cam1/seg000.ts",
        "exp": int(clock.now().timestamp()) + 10,
    }
    values.update(changes)
    return StreamClaims(**values)  # type: ignore[arg-type]


def reason(signer: StreamTokenSigner, token: str, camera: str = "nchs-gym-2") -> str:
    with pytest.raises(StreamTokenError) as info:
        signer.verify(token, camera=camera)
    assert info.value.code == "invalid_stream_token" and info.value.status == 401
    return str(info.value.details["reason"])


def test_round_trip_and_compact_url_safe_format() -> None:
    clock = FakeClock()
    signer = StreamTokenSigner(SECRET, clock)
    viewing = claims(clock, ref="", bound=int(clock.now().timestamp()) + 3600, use="view")  # a viewing URL's token
    for c in (claims(clock), claims(clock, mou=None, grant=None, emergency="em-9", roles=()), viewing):
        token = signer.sign(c)
        assert signer.verify(token, camera="nchs-gym-2") == c
        assert set(token) <= set(B64 + ".") and token.count(".") == 1 and "=" not in token
    assert len(signer.sign(claims(clock))) < 300
    assert signer.sign(claims(clock)) != signer.sign(claims(clock))  # a fresh nonce every time


def test_the_upstream_reference_is_sealed_not_readable() -> None:
    clock = FakeClock()
    token = StreamTokenSigner(SECRET, clock).sign(claims(clock, ref="cam1/secret-upstream-name.ts"))
    for part in token.split("."):
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        assert b"secret-upstream" not in raw and b"officer-17" not in raw and b"{" not in raw[:1]


def test_tampering_any_byte_breaks_the_signature() -> None:
    clock = FakeClock()
    signer = StreamTokenSigner(SECRET, clock)
    token = signer.sign(claims(clock))
    for i, ch in enumerate(token):
        for replacement in {B64[(B64.index(ch) + 1) % 64] if ch != "." else "A", "A" if ch != "A" else "B"}:
            tampered = token[:i] + replacement + token[i + 1 :]
            assert reason(signer, tampered) == ("malformed" if ch == "." else "bad_signature"), (i, tampered)


def test_other_secret_bad_signature() -> None:
    clock = FakeClock()
    token = StreamTokenSigner(b"x" * 32, clock).sign(claims(clock))
    assert reason(StreamTokenSigner(SECRET, clock), token) == "bad_signature"


def test_expiry_by_the_injected_clock() -> None:
    clock = FakeClock()
    signer = StreamTokenSigner(SECRET, clock)
    token = signer.sign(claims(clock))  # exp = now + 10
    clock.advance(9.9)
    assert signer.verify(token, camera="nchs-gym-2").ref == "cam1/seg000.ts"
    clock.advance(0.1)
    assert reason(signer, token) == "expired"
    with pytest.raises(StreamTokenError, match="expired 5s ago"):
        clock.advance(5)
        signer.verify(token, camera="nchs-gym-2")


def test_wrong_camera() -> None:
    clock = FakeClock()
    signer = StreamTokenSigner(SECRET, clock)
    token = signer.sign(claims(clock))
    assert reason(signer, token, camera="nchs-gym-3") == "camera_mismatch"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "abc.", ".abc", "a$c.def", "abc.d=f", "a" * 5000 + ".b"])
def test_malformed(token: str) -> None:
    assert reason(StreamTokenSigner(SECRET, FakeClock()), token) == "malformed"


def test_authentic_but_unexpected_claims_are_malformed() -> None:
    signer = StreamTokenSigner(SECRET, FakeClock())
    assert reason(signer, signer._seal(b'{"s":"x","zz":1}')) == "malformed"
    assert reason(signer, signer._seal(b"not json")) == "malformed"


@pytest.mark.parametrize("secret", [b"", b"k" * 31, "k" * 32])
def test_short_or_text_secret_refused(secret: bytes) -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        StreamTokenSigner(secret, FakeClock())
    assert "k" * 32 not in repr(StreamTokenSigner(SECRET, FakeClock()))
