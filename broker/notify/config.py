"""Settings of emergency notifications: the webhooks each MOU party configures, and the delivery schedule.

A webhook belongs to an agency (the school office, the superintendent, the parking supervisor) and gets a
notice for every emergency transition under an MOU that agency is a party to, optionally narrowed to some
MOUs, sites or event kinds. Its signing secret is a Standard Webhooks secret (``whsec_`` + base64 of 24 to
64 random bytes; Standard Webhooks spec, "Symmetric signatures") read from an environment variable or a
file, never from the settings file itself. A placeholder is refused outside dev mode.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from broker.private import private_dir

PLACEHOLDER = "change-me"  # as broker.settings.PLACEHOLDER (settings imports this module)
SECRET_PREFIX = "whsec_"
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64  # Standard Webhooks spec: "between 24 bytes and 64 bytes"
EventKind = Literal[
    "emergency.declare",
    "emergency.extend",
    "emergency.confirm",
    "emergency.end",
    "emergency.expire",
    # MOUs kept by the broker (issue 14, item 9): broker/admin/mous/notices.py
    "mou.proposed",
    "mou.approved",
    "mou.in_force",
    "mou.terminated",
    "mou.expiring",
]
EVENT_KINDS: tuple[str, ...] = EventKind.__args__  # type: ignore[attr-defined]
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def check_receiver(url: str, secret_env: str | None, secret_file: Path | None) -> None:
    """A webhook receiver's settings (notifications and witnesses alike): an http(s) URL, one secret source."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"url {url!r} is not an http(s) URL")
    if (secret_env is None) == (secret_file is None):
        raise ValueError("give exactly one of secret_env and secret_file")


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: str = Field(description="The MOU party this webhook belongs to: it hears of emergencies under its MOUs")
    name: str | None = Field(None, description="A stable name (default: the agency and a digest of the URL)")
    url: str = Field(description="Where notices are POSTed (https; http only to loopback or in dev mode)")
    secret_env: str | None = Field(None, description="Environment variable holding the whsec_ signing secret")
    secret_file: Path | None = Field(None, description="File holding the whsec_ signing secret")
    mous: list[str] = Field(default_factory=list, description="Only these MOUs (empty: every MOU of the agency)")
    sites: list[str] = Field(default_factory=list, description="Only these sites (empty: every site)")
    events: list[EventKind] = Field(default_factory=list, description="Only these event kinds (empty: every kind)")

    @model_validator(mode="after")
    def _check(self) -> WebhookSettings:
        check_receiver(self.url, self.secret_env, self.secret_file)
        return self

    @property
    def key(self) -> str:
        """The webhook's identity in the outbox (a renamed or re-pointed webhook is a new one)."""
        return self.name or f"{self.agency}-{hashlib.sha256(self.url.encode()).hexdigest()[:12]}"


class NotificationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhooks: list[WebhookSettings] = Field(default_factory=list, description="Receivers of emergency notices")
    timeout_seconds: float = Field(5.0, gt=0, le=60, description="Timeout of one delivery attempt (connect, read)")
    max_attempts: int = Field(12, ge=1, le=100, description="Attempts before a notice is given up")
    backoff_initial_seconds: float = Field(5.0, gt=0, description="Wait after the first failed attempt")
    backoff_max_seconds: float = Field(900.0, gt=0, description="Cap on the wait between attempts")
    lease_seconds: float = Field(60.0, gt=0, description="A claimed notice is retried by anyone after this long")
    poll_seconds: float = Field(1.0, gt=0, description="How often the outbox is read for due notices")
    batch: int = Field(32, ge=1, le=1000, description="Most notices claimed (and sent concurrently) at once")

    @model_validator(mode="after")
    def _check(self) -> NotificationSettings:
        keys = [w.key for w in self.webhooks]
        if len(keys) != len(set(keys)):
            raise ValueError("two webhooks share a name (or an agency and URL)")
        if self.lease_seconds <= self.timeout_seconds:
            raise ValueError("lease_seconds must exceed timeout_seconds (else two replicas could send one notice)")
        return self


@dataclass(frozen=True)
class Webhook:
    """A configured webhook with its secret read."""

    key: str
    agency: str
    url: str
    secret: str
    mous: frozenset[str]
    sites: frozenset[str]
    events: frozenset[str]


def check_secret(secret: str, where: str) -> str:
    """A valid Standard Webhooks secret, or ValueError naming ``where`` (never the secret)."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"{where}: the signing secret must start with {SECRET_PREFIX!r}")
    try:
        raw = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}: the signing secret is not base64 after {SECRET_PREFIX!r}") from None
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        raise ValueError(f"{where}: the signing secret must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes")
    return secret


def resolve(cfg: NotificationSettings, *, dev: bool, data_dir: Path) -> list[Webhook]:
    """Read every webhook's secret; ValueError if one is missing, a placeholder (outside dev mode) or invalid."""
    hooks = []
    for i, w in enumerate(cfg.webhooks):
        where = f"notifications.webhooks.{i}"
        if not dev and urlsplit(w.url).scheme != "https" and urlsplit(w.url).hostname not in _LOOPBACK:
            raise ValueError(f"{where}.url: use https (http only to loopback, or in dev mode)")
        secret = _read_secret(w, where)
        if secret is None or PLACEHOLDER in secret:
            if not dev:
                source = f"${w.secret_env}" if w.secret_env else str(w.secret_file)
                raise ValueError(f"{where}: no signing secret in {source} (or a placeholder): set a whsec_ secret")
            secret = _dev_secret(data_dir)
        hooks.append(
            Webhook(
                w.key,
                w.agency,
                w.url,
                check_secret(secret, where),
                frozenset(w.mous),
                frozenset(w.sites),
                frozenset(w.events),
            )
        )
    return hooks


def _read_secret(w: WebhookSettings, where: str) -> str | None:
    if w.secret_env is not None:
        value = os.environ.get(w.secret_env)
        return value.strip() if value else None
    assert w.secret_file is not None
    try:
        return w.secret_file.read_text().strip() or None
    except OSError as exc:
        raise ValueError(f"{where}.secret_file: cannot read {w.secret_file} ({exc.strerror})") from None


def _dev_secret(data_dir: Path) -> str:
    """Dev mode: one random secret kept in the data directory (never the placeholder itself)."""
    path = data_dir / "dev-webhook-secret"
    if not path.exists():
        private_dir(data_dir)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(SECRET_PREFIX + base64.b64encode(os.urandom(32)).decode())
    return path.read_text().strip()
