"""The checkpoint signing key and the public keys that verify checkpoints (the operator's view).

The private key never lives in the database: it comes from a file (``audit.checkpoints.key_file``, an
Ed25519 private key in PEM, PKCS #8, unencrypted; ``camgate audit keygen`` writes one) or from the
environment variable ``CAMGATE_AUDIT_SIGNING_KEY``, which holds either that PEM text or the key's raw
32-byte seed in base64url (RFC 4648 §5, padding optional). Setting both is refused: which key signs must
never be a guess.

Rotation: configure the new key and move the old key's public key (base64url of its raw 32 bytes, as
``camgate audit keygen`` and ``GET /api/v1/audit/keys`` print it) into ``audit.checkpoints.old_keys``;
checkpoints signed by any listed key verify.

In dev mode (``make demo``) a key is generated under the data folder when none is configured; outside dev
mode a missing key is a settings error (as placeholder secrets are).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from broker.audit.checkpoints import CheckpointError, key_id, public_key_from_text, public_key_text
from broker.errors import ConfigError
from broker.private import private_dir

ENV_KEY = "CAMGATE_AUDIT_SIGNING_KEY"
DEV_KEY_NAME = "audit-signing-key.pem"
ENV_WITNESS_NAME = "audit-checkpoint.json"  # the local witness when the key comes from the environment
KEY_FIELD = "audit.checkpoints.key_file"


class KeyProblem(ValueError):
    """A signing key that cannot be used (``str`` says why)."""


def parse_private_key(text: str | bytes) -> Ed25519PrivateKey:
    """PEM (PKCS #8) text, or the base64url raw 32-byte seed; raises KeyProblem."""
    raw = text.encode() if isinstance(text, str) else text
    raw = raw.strip()
    if raw.startswith(b"-----BEGIN"):
        try:
            key = load_pem_private_key(raw, password=None)
        except (ValueError, TypeError) as exc:
            raise KeyProblem(f"not an unencrypted PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyProblem(f"a {type(key).__name__.removeprefix('_')} key, not Ed25519")
        return key
    try:
        seed = base64.b64decode(raw + b"=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (ValueError, binascii.Error):
        raise KeyProblem("neither PEM nor base64url") from None
    if len(seed) != 32:
        raise KeyProblem(f"a raw Ed25519 seed is 32 bytes, this one is {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def read_key_file(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyProblem(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return parse_private_key(data)
    except KeyProblem as exc:
        raise KeyProblem(f"{path}: {exc}") from None


def pem(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def write_key_file(path: Path) -> Ed25519PrivateKey:
    """A new key in a new file (mode 0600, never overwriting one); raises FileExistsError, OSError."""
    private = Ed25519PrivateKey.generate()
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem(private))
        f.flush()
        os.fsync(f.fileno())
    return private


def parse_public_keys(texts: Iterable[str]) -> dict[str, Ed25519PublicKey]:
    """Public keys (base64url raw) by key id; raises CheckpointError naming the bad one."""
    keys: dict[str, Ed25519PublicKey] = {}
    for n, text in enumerate(texts):
        try:
            public = public_key_from_text(text)
        except CheckpointError as exc:
            raise CheckpointError(f"[{n}]: {exc}") from None
        keys[key_id(public)] = public
    return keys


@dataclass(frozen=True)
class KeyRing:
    """The key that signs (None: this process cannot sign) and every public key that verifies."""

    signing: Ed25519PrivateKey | None
    old: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    witness_file: Path | None = None

    @property
    def signing_id(self) -> str | None:
        return None if self.signing is None else key_id(self.signing.public_key())

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        keys = dict(self.old)
        if self.signing is not None:
            keys[key_id(self.signing.public_key())] = self.signing.public_key()
        return keys

    def listing(self) -> list[dict[str, Any]]:
        """Every verifying key: ``key_id``, ``public_key`` (base64url raw), ``current`` (the one signing now)."""
        current = self.signing_id
        return [
            {"key_id": kid, "public_key": public_key_text(public), "current": kid == current}
            for kid, public in sorted(self.public_keys().items(), key=lambda item: item[0] != current)
        ]


def configured_key(key_file: Path | None) -> Ed25519PrivateKey | None:
    """The configured signing key (file or environment), None if neither is set; raises KeyProblem."""
    env = os.environ.get(ENV_KEY, "").strip()
    if key_file is not None and env:
        raise KeyProblem(f"both {KEY_FIELD} and {ENV_KEY} are set; set one")
    if key_file is not None:
        return read_key_file(key_file)
    if env:
        try:
            return parse_private_key(env)
        except KeyProblem as exc:
            raise KeyProblem(f"{ENV_KEY}: {exc}") from None
    return None


def key_problem(key_file: Path | None) -> str | None:
    """Outside dev mode: why the configuration has no usable signing key (None: it has one)."""
    try:
        if configured_key(key_file) is None:
            return f"{KEY_FIELD}: no checkpoint signing key; set it (camgate audit keygen --out FILE) or {ENV_KEY}"
    except KeyProblem as exc:
        return f"{KEY_FIELD}: {exc}"
    return None


def load_keyring(
    key_file: Path | None,
    old_keys: Iterable[str],
    witness_file: Path | None,
    data_dir: Path,
    *,
    dev: bool,
    create: bool,
) -> KeyRing:
    """The key ring of a configuration. ``create`` (the broker in dev mode only): generate the dev key file
    under ``data_dir`` when no key is configured; never from a command that only reads (verify)."""
    try:
        old = parse_public_keys(old_keys)
    except CheckpointError as exc:
        raise ConfigError(f"audit.checkpoints.old_keys{exc}", field="audit.checkpoints.old_keys") from None
    try:
        signing = configured_key(key_file)
    except KeyProblem as exc:
        raise ConfigError(f"{KEY_FIELD}: {exc}", field=KEY_FIELD) from None
    path = key_file
    if signing is None and dev:
        path = data_dir / DEV_KEY_NAME
        if path.exists():
            signing = _read(path)
        elif create:
            signing = write_key_file(path)
    elif signing is None:
        hint = ""
        if (data_dir / DEV_KEY_NAME).exists():  # the data dir of `camgate demo` read from a shell without dev mode
            hint = f"; {data_dir} was made in dev mode (camgate demo): run with CAMGATE_MODE=dev"
        raise ConfigError(f"{KEY_FIELD}: no checkpoint signing key; set it or {ENV_KEY}{hint}", field=KEY_FIELD)
    if witness_file is None:
        witness_file = (
            path.with_name(path.name + ".checkpoint.json") if path is not None else data_dir / ENV_WITNESS_NAME
        )
    return KeyRing(signing, old, witness_file)


def _read(path: Path) -> Ed25519PrivateKey:
    try:
        return read_key_file(path)
    except KeyProblem as exc:
        raise ConfigError(f"{KEY_FIELD}: {exc}", field=KEY_FIELD) from None
