"""Settings of an ONVIF system, validated from :attr:`SystemSpec.settings`.

Example inventory entry (``id``, ``owner``, ``adapter`` and ``base_url`` are not settings)::

    - id: gym-nvr
      adapter: onvif
      base_url: http://10.20.0.15/          # the device service is at /onvif/device_service (ONVIF Core §5.1.1)
      username: camgate                     # an ONVIF user of level "User" is enough (Core §5.9.4: READ_MEDIA)
      password_env: GYM_NVR_PASSWORD        # or password_file: /run/secrets/gym-nvr
      timeout_seconds: 5
      media_hosts: [10.20.0.16]             # other hosts the device may name in stream/snapshot URIs
      stream_choice: highest                # per video source: the highest- or lowest-resolution H.264 profile

The password never lives in the inventory: it is read from the environment variable or file named.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import Field, StrictBool, field_validator

from broker.adapterapi import AdapterSettings, read_secret

_MiB = 1 << 20
_HOSTNAME = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


def normal_host(value: str) -> str:
    """A host name or IP address, lower-cased; IPv6 without brackets. ValueError otherwise."""
    host = value.strip().lower().removeprefix("[").removesuffix("]")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOSTNAME.fullmatch(host):
        raise ValueError(f"{value!r} is not a host name or IP address")
    return host


class OnvifSettings(AdapterSettings):
    username: str = Field(min_length=1, max_length=256)
    password_env: str | None = Field(default=None, min_length=1, max_length=256, pattern=_ENV_NAME)
    password_file: str | None = Field(default=None, min_length=1, max_length=4096)
    timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    max_response_bytes: int = Field(default=4 * _MiB, gt=0, le=64 * _MiB)
    max_snapshot_bytes: int = Field(default=8 * _MiB, gt=0, le=256 * _MiB)
    verify_tls: StrictBool = True
    rtsp_transport: Literal["tcp", "udp"] = "tcp"
    media_hosts: tuple[str, ...] = Field(default=(), max_length=64)
    # Learn the device's clock from GetSystemDateAndTime so that wsu:Created is fresh by the device's time.
    sync_clock: StrictBool = True
    stream_choice: Literal["highest", "lowest"] = "highest"
    # Look for Profile G recordings (FindRecordings, GetReplayUri) when listing cameras.
    recordings: StrictBool = True

    @field_validator("media_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(normal_host(h) for h in value)

    def password(self, environ: Mapping[str, str] | None = None) -> str:
        """The device password from ``password_env`` or ``password_file`` (never from the inventory)."""
        return read_secret("password", env=self.password_env, file=self.password_file, environ=environ)
