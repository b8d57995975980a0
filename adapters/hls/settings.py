"""Settings of an HLS system, validated from :attr:`SystemSpec.settings`.

Example inventory entry (``id``, ``owner``, ``adapter`` and ``base_url`` are not settings)::

    - id: district-vms
      adapter: hls
      base_url: https://vms.district.example/hls/
      live_path: "{ref}/index.m3u8"
      snapshot_path: "{ref}/snapshot.jpg"
      recording_path: "{ref}/recording.m3u8"   # null: the system keeps no recordings (playback answers 501)
      auth: {type: digest, username: camgate, password_env: DISTRICT_VMS_PASSWORD}
      timeout_seconds: 5

Passwords never live in the inventory: ``auth.password_env`` names the environment variable holding it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from broker.adapterapi import AdapterConfigError, AdapterSettings

_MiB = 1 << 20


class AuthSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["basic", "digest"]
    username: str = Field(min_length=1, max_length=256)
    password_env: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


class HlsSettings(AdapterSettings):
    live_path: str = "{ref}/index.m3u8"
    snapshot_path: str = "{ref}/snapshot.jpg"
    # A VOD, EVENT or sliding media playlist of recorded segments with EXT-X-PROGRAM-DATE-TIME (RFC 8216 §4.3.2.6).
    recording_path: str | None = "{ref}/recording.m3u8"
    auth: AuthSettings | None = None
    timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    max_playlist_bytes: int = Field(default=_MiB, gt=0, le=64 * _MiB)
    max_segment_bytes: int = Field(default=32 * _MiB, gt=0, le=1024 * _MiB)
    verify_tls: StrictBool = True

    @field_validator("live_path", "snapshot_path", "recording_path")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # Substituted with str.replace, never str.format: a template is data, not code.
        if value.count("{ref}") != 1:
            raise ValueError("must contain '{ref}' exactly once")
        if value.startswith("/") or "://" in value or value.replace("{ref}", "").count("{"):
            raise ValueError("must be a relative path like '{ref}/index.m3u8'")
        return value

    def build_auth(self, environ: Mapping[str, str] | None = None) -> httpx.Auth | None:
        """The httpx auth (RFC 7617 Basic / RFC 7616 Digest), password read from the environment."""
        if self.auth is None:
            return None
        env = os.environ if environ is None else environ
        password = env.get(self.auth.password_env)
        if not password:
            raise AdapterConfigError(
                f"environment variable {self.auth.password_env!r} is not set", setting="auth.password_env"
            )
        if self.auth.type == "basic":
            return httpx.BasicAuth(self.auth.username, password)
        return httpx.DigestAuth(self.auth.username, password)
