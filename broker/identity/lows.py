"""ECDSA signature malleability in JWS (ES256, ES384, ES512, ES256K): the canonical "low S" form.

An ECDSA signature (r, s) verifies exactly when (r, n - s) does, n being the curve's order (SEC 1 v2.0 §4.1.4
checks only 1 <= s <= n - 1), so anyone holding a token can spell it a second way without the key. The usual
cure (Bitcoin BIP 146 "LOW_S", as libsecp256k1 verifies) accepts only s <= n / 2. JOSE does not ask for it
(RFC 7518 §3.4 fixes only the R || S encoding), and the ECDSA of OpenSSL, Java, Go and .NET, hence of most
identity providers, does not normalise s: about half of the tokens they sign are "high S". So the check is per
issuer (``identity.issuers[].require_low_s``): on for the built-in dev issuer, which signs low S
(:func:`canonical`), and for any issuer known to; off by default for the others, where camgate does not depend
on it: a token is never identified by its bytes (no cache, deny-list or record holds the token or its hash), so
a second spelling of a token opens exactly what the first one does, for the same principal, until the same exp.
"""

from __future__ import annotations

import base64
import binascii
import json

#: JWS algorithm -> (octets of R and of S, the order n of its curve) (RFC 7518 §3.4; RFC 8812 §3.2 for ES256K).
#: n from SEC 2 v2.0 §2.4.1 (secp256k1), §2.4.2 (secp256r1 = P-256), §2.5.1 (secp384r1), §2.6.1 (secp521r1).
CURVES: dict[str, tuple[int, int]] = {
    "ES256": (32, int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)),
    "ES384": (
        48,
        int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16),
    ),
    "ES512": (
        66,
        int("01FF" + "FFFFFFFF" * 7 + "FFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16),
    ),
    "ES256K": (32, int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16)),
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _split(alg: str, token: str) -> tuple[str, int, int, int, int] | None:
    """(signing input, size, n, r, s) of a compact JWS signed with an ECDSA ``alg``; None for any other
    algorithm or a signature that is not R || S of the curve's size (the signature check refuses those)."""
    curve = CURVES.get(alg)
    head, _, signature = token.rpartition(".")
    if curve is None or not head:
        return None
    size, n = curve
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(raw) != 2 * size:
        return None
    return head, size, n, int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big")


def high_s(alg: str, token: str) -> bool:
    """Whether ``token`` (a compact JWS) carries an ECDSA signature whose S is above n / 2 (BIP 146 LOW_S)."""
    parts = _split(alg, token)
    return parts is not None and parts[4] > parts[2] // 2


def canonical(alg: str, token: str) -> str:
    """``token`` with a high S replaced by n - S: the same signature, spelled the one canonical way."""
    parts = _split(alg, token)
    if parts is None:
        return token
    head, size, n, r, s = parts
    if s <= n // 2:
        return token
    return f"{head}.{_b64url(r.to_bytes(size, 'big') + (n - s).to_bytes(size, 'big'))}"


def low_s_token(token: object) -> bool:
    """Whether ``token`` is a compact JWS whose signature is not a high-S ECDSA one (its header's ``alg`` says
    which); anything that is not a compact JWS with a JSON header is refused (False)."""
    if not isinstance(token, str) or token.count(".") != 2:
        return False
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return False
    alg = header.get("alg") if isinstance(header, dict) else None
    return isinstance(alg, str) and not high_s(alg, token)
