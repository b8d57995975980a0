"""Signed checkpoints of the audit chain (pure, no I/O).

A checkpoint is the broker's signed statement "the chain had ``records`` records, the last one hashing to
``head``", made at an interval and on demand. Kept outside the database (a witness file beside the key, and
by every MOU party that receives them), checkpoints close the gap a hash chain leaves open on its own: someone
with write access who rewrites every record from some point on *and* the head, or cuts the tail and moves the
head back, or restores an old backup. A later chain must contain each checkpoint's ``(records, head)``; if it
does not, the log was rewritten or rolled back. This is the consistency idea of Certificate Transparency
(RFC 9162 §2.1.4) applied to a hash chain, whose consistency proof is simply the records in between.

Signed body (canonical JSON, :func:`broker.audit.chain.canonical`), version 1::

    {"v": 1, "kind": "checkpoint" | "prune", "records": N, "head": "<hash of record N, GENESIS if 0>",
     "base_seq": B, "base_hash": "<hash of record B, GENESIS if 0>", "ts": "<RFC 3339>",
     "previous": "<id of the previous checkpoint>" | null, "key_id": "<16 hex>"}

``base_seq``/``base_hash`` are the chain's verified base: 0 and GENESIS until retention prunes records, then
the last pruned record (a ``prune`` checkpoint makes it the new base). The signature is Ed25519 (RFC 8032)
over those bytes, base64url without padding; a checkpoint's ``id`` is the SHA-256 (hex) of the same bytes.
A key's id is the first 16 hex digits of the SHA-256 of its raw 32-byte public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from broker.audit.chain import GENESIS, canonical
from broker.audit.records import rfc3339
from broker.timeutil import parse_instant

VERSION = 1
Kind = Literal["checkpoint", "prune"]
_HEX = frozenset("0123456789abcdef")


class CheckpointError(ValueError):
    """A checkpoint that is malformed, or whose signature does not verify (``str`` says which and why)."""


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_text(public: Ed25519PublicKey) -> str:
    """The raw public key as base64url without padding (how keys are listed and exported)."""
    return _b64(public.public_bytes(Encoding.Raw, PublicFormat.Raw))


def public_key_from_text(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(_unb64(text))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise CheckpointError(f"not an Ed25519 public key: {exc}") from None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError("expected a string")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _is_hash(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _HEX


@dataclass(frozen=True)
class Checkpoint:
    records: int
    head: str
    ts: datetime
    key_id: str
    previous: str | None = None
    base_seq: int = 0
    base_hash: str = GENESIS
    kind: Kind = "checkpoint"
    signature: str = ""

    def body(self) -> dict[str, Any]:
        """The signed fields."""
        return {
            "v": VERSION,
            "kind": self.kind,
            "records": self.records,
            "head": self.head,
            "base_seq": self.base_seq,
            "base_hash": self.base_hash,
            "ts": rfc3339(self.ts),
            "previous": self.previous,
            "key_id": self.key_id,
        }

    def signed_bytes(self) -> bytes:
        return canonical(self.body())

    @property
    def id(self) -> str:
        return hashlib.sha256(self.signed_bytes()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return self.body() | {"signature": self.signature, "id": self.id}

    @classmethod
    def from_dict(cls, data: object) -> Checkpoint:
        """Parse a checkpoint as exported or received; raises CheckpointError naming the bad field."""
        if not isinstance(data, Mapping):
            raise CheckpointError("a checkpoint is a JSON object")
        if data.get("v") != VERSION:
            raise CheckpointError(f"v: unsupported checkpoint version {data.get('v')!r}")
        kind = data.get("kind")
        if kind not in ("checkpoint", "prune"):
            raise CheckpointError("kind: must be 'checkpoint' or 'prune'")
        for name in ("records", "base_seq"):
            value = data.get(name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise CheckpointError(f"{name}: must be a whole number >= 0")
        for name in ("head", "base_hash"):
            if not _is_hash(data.get(name)):
                raise CheckpointError(f"{name}: must be 64 lower-case hex digits")
        previous = data.get("previous")
        if previous is not None and not _is_hash(previous):
            raise CheckpointError("previous: must be null or 64 lower-case hex digits")
        kid, signature, ts = data.get("key_id"), data.get("signature"), data.get("ts")
        if not isinstance(kid, str) or len(kid) != 16 or not set(kid) <= _HEX:
            # what key_id() makes; also a file name at a witness (DIR/keys/<key_id>.pub): never a path
            raise CheckpointError("key_id: must be 16 lower-case hex digits (the key's id)")
        if not isinstance(signature, str) or not signature:
            raise CheckpointError("signature: missing")
        try:
            when = parse_instant(ts) if isinstance(ts, str) else None
        except ValueError:
            when = None
        if when is None:
            raise CheckpointError("ts: must be an RFC 3339 instant")
        if data["base_seq"] > data["records"]:
            raise CheckpointError("base_seq: beyond records")
        cp = cls(
            records=data["records"],
            head=data["head"],
            ts=when,
            key_id=kid,
            previous=previous,
            base_seq=data["base_seq"],
            base_hash=data["base_hash"],
            kind=kind,
            signature=signature,
        )
        if "id" in data and data["id"] != cp.id:
            raise CheckpointError("id: does not match the checkpoint's content")
        return cp


def sign(unsigned: Checkpoint, private: Ed25519PrivateKey) -> Checkpoint:
    """``unsigned`` with its signature (its ``key_id`` must be the key's)."""
    if unsigned.key_id != key_id(private.public_key()):
        raise ValueError("the checkpoint names another key")
    signature = _b64(private.sign(unsigned.signed_bytes()))
    return Checkpoint(**{**unsigned.__dict__, "signature": signature})


def verify_signature(cp: Checkpoint, keys: Mapping[str, Ed25519PublicKey]) -> None:
    """Raise CheckpointError unless ``cp`` is signed by the key it names, one of ``keys`` (by key id)."""
    public = keys.get(cp.key_id)
    if public is None:
        raise CheckpointError(f"checkpoint {cp.id[:12]} is signed by unknown key {cp.key_id}")
    try:
        public.verify(_unb64(cp.signature), cp.signed_bytes())
    except (InvalidSignature, ValueError, binascii.Error):
        raise CheckpointError(f"checkpoint {cp.id[:12]}: the signature does not verify (key {cp.key_id})") from None
