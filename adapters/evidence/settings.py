"""Settings of an evidence-folder system, validated from :attr:`SystemSpec.settings`.

Example inventory entry (``id``, ``owner`` and ``adapter`` are not settings; there is no ``base_url``)::

    - id: ncpb-evidence
      owner: ncpb
      adapter: evidence
      path: /srv/exports/ncpb          # the folder the vendor's export lands in (a share, a synced folder)
      format: digital_ally             # digital_ally | arbitrator | axon | generic (the sidecar each clip has)
      poll_interval_seconds: 2         # how often the folder is looked at; a new clip plays within ~2 polls
      max_clip_bytes: 4294967296       # bigger clips are skipped (an error kept for health)
      cache_dir: /var/cache/camgate/ncpb-evidence   # optional: repackaged segments kept across restarts
      timezone: America/New_York       # optional: for exports whose times carry no UTC offset

A relative ``path`` or ``cache_dir`` is taken from the broker's working directory. Without ``cache_dir`` the
segments go to a private temporary directory (mode 0700) removed when the adapter closes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from broker.adapterapi import AdapterConfigError, settings_error

_GiB = 1 << 30
Format = Literal["digital_ally", "arbitrator", "axon", "generic"]


class EvidenceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1, max_length=4096)
    format: Format = "generic"
    max_clip_bytes: int = Field(default=4 * _GiB, gt=0, le=64 * _GiB)  # Axon Evidence imports stop at 4 GB
    poll_interval_seconds: float = Field(default=2.0, ge=0.1, le=3600)
    # A clip is taken once its size and modification time held still for one poll, or it was last modified
    # this long ago (a folder that already held clips at start-up plays at the first poll).
    settle_seconds: float = Field(default=5.0, ge=0, le=3600)
    segment_seconds: float = Field(default=2.0, ge=1, le=10)  # HLS target; segments cut at key frames
    repackage_timeout_seconds: float = Field(default=120.0, gt=0, le=3600)
    cache_dir: str | None = Field(default=None, min_length=1, max_length=4096)
    timezone: str | None = None
    max_depth: int = Field(default=4, ge=0, le=16)  # sub-folder levels looked into (exports nest by date)

    @field_validator("path", "cache_dir")
    @classmethod
    def _plain_path(cls, value: str | None) -> str | None:
        if value is not None and ("\x00" in value or "://" in value):
            raise ValueError("must be a file system path (no NUL, not a URL)")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as 'America/New_York'") from None
        return value

    @property
    def folder(self) -> Path:
        return Path(self.path).absolute()

    @property
    def zone(self) -> ZoneInfo | None:
        return ZoneInfo(self.timezone) if self.timezone else None

    @classmethod
    def from_spec(cls, settings: Mapping[str, Any], base_url: str | None = None) -> EvidenceSettings:
        """Validate ``settings``; :class:`AdapterConfigError` names the first offending setting."""
        if base_url:
            raise AdapterConfigError("an evidence folder has no URL; name it with 'path'", setting="base_url")
        try:
            parsed = cls.model_validate(dict(settings))
        except ValidationError as exc:
            raise settings_error(exc) from None
        if parsed.cache_dir is not None:
            cache, folder = Path(parsed.cache_dir).absolute(), parsed.folder
            if cache == folder or folder in cache.parents:
                raise AdapterConfigError("must not lie inside the evidence folder 'path'", setting="cache_dir")
        return parsed
