"""A built-in token issuer for development and ``make demo``: no identity provider needed.

It keeps one EC P-256 private key as a JWK in ``<data_dir>/dev-issuer-key.json`` (mode 0600), created on
first use, with the key's RFC 7638 thumbprint as a stable ``kid``; it mints ES256 tokens carrying whatever
agency and roles it is asked for.

Anyone who can read that file can mint a token for any agency and role. The dev issuer therefore exists only
for development and ``make demo``: the application refuses to enable it outside dev mode. That check belongs
to the app (which knows its mode), not to this module.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from broker.errors import ConfigError
from broker.identity.config import DevIssuerConfig, IssuerConfig
from broker.identity.lows import canonical
from broker.private import private_dir

log = logging.getLogger(__name__)

KEY_FILE = "dev-issuer-key.json"
ALG = "ES256"


def _load_key(path: Path) -> ECKey:
    try:
        if path.stat().st_mode & 0o077:
            log.warning("dev issuer key %s is readable by other users; it should be mode 0600", path)
        data = json.loads(path.read_text(encoding="utf-8"))
        key = ECKey.import_key(data)
    except (OSError, ValueError, TypeError, KeyError, JoseError) as exc:
        raise ConfigError(f"dev issuer key {path} is unreadable: {exc}") from exc
    if not key.is_private or key.get("crv") != "P-256":
        raise ConfigError(f"dev issuer key {path} is not an EC P-256 private key")
    return key


def _create_key(path: Path) -> ECKey:
    """Write a new key to ``path`` (0600) unless another process got there first; return the key in the file."""
    key = ECKey.generate_key("P-256", private=True)
    data = key.as_dict(private=True, kid=key.thumbprint(), use="sig", alg=ALG)
    fd, tmp = tempfile.mkstemp(prefix=".dev-issuer-key.", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        # link() fails if the file exists: two processes starting at once end up with the same key.
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        except OSError:  # a filesystem without hard links
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return _load_key(path)


class DevIssuer:
    """Mints ES256 tokens with a locally stored key. Development only (see the module docstring)."""

    def __init__(self, key: ECKey, config: DevIssuerConfig) -> None:
        self._key = key
        self._config = config
        self.kid = key.thumbprint()

    @classmethod
    def load_or_create(cls, data_dir: Path, config: DevIssuerConfig) -> DevIssuer:
        """The issuer whose key is in ``data_dir / "dev-issuer-key.json"``, creating the key on first use."""
        data_dir = Path(data_dir)
        path = data_dir / KEY_FILE
        try:
            private_dir(data_dir)
            key = _load_key(path) if path.exists() else _create_key(path)
        except OSError as exc:
            raise ConfigError(f"cannot create the dev issuer key in {data_dir}: {exc}") from exc
        return cls(key, config)

    @property
    def config(self) -> DevIssuerConfig:
        return self._config

    def mint(
        self,
        sub: str,
        agency: str,
        roles: list[str],
        *,
        now: datetime,
        ttl: timedelta | None = None,
        audience: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        """A signed token for ``sub`` of ``agency`` with ``roles``, valid from ``now`` for ``ttl``.

        ``audience`` replaces the configured ``aud`` (an ID token's is the client_id, OIDC Core §2);
        ``extra`` adds claims (an ID token's ``nonce``, ``auth_time``)."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        lifetime = ttl if ttl is not None else timedelta(minutes=self._config.token_ttl_minutes)
        if lifetime <= timedelta(0):
            raise ValueError("ttl must be positive")
        issued = int(now.timestamp())
        claims: dict[str, Any] = {
            **(extra or {}),
            "iss": self._config.issuer,
            "aud": audience or self._config.audience,
            "sub": sub,
            "agency": agency,
            "roles": list(roles),
            "iat": issued,
            "nbf": issued,
            "exp": issued + int(lifetime.total_seconds()),
            "jti": secrets.token_urlsafe(16),
        }
        header = {"alg": ALG, "kid": self.kid, "typ": "JWT"}
        # Low S always (broker/identity/lows.py): its own tokens then pass require_low_s, and a malleated copy fails.
        return canonical(ALG, jwt.encode(header, claims, self._key, algorithms=[ALG]))

    def public_jwks(self) -> dict[str, Any]:
        """The public key as a JWK Set."""
        public = self._key.as_dict(private=False, kid=self.kid, use="sig", alg=ALG)
        return {"keys": [dict(public)]}

    def issuer_config(self) -> IssuerConfig:
        """An :class:`IssuerConfig` trusting this issuer (inline JWKS; the agency comes from the claim)."""
        return IssuerConfig(
            issuer=self._config.issuer,
            audience=self._config.audience,
            jwks=self.public_jwks(),
            algorithms=[ALG],
            require_low_s=True,
        )
