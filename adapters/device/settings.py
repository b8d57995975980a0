"""Settings of a camera or NVR reached over HTTP (its API) and RTSP (its video).

Example inventory entry (``id``, ``owner``, ``adapter`` and ``base_url`` are not settings)::

    - id: lincoln-axis
      adapter: axis                       # or: hikvision
      base_url: https://10.20.0.15/       # the device's web server: scheme, host, port; no path, no credentials
      username: camgate
      password_file: /run/secrets/lincoln-axis   # or password_env: LINCOLN_AXIS_PASSWORD (exactly one)
      rtsp_port: 554
      timeout_seconds: 5
      verify_tls: true

The same username and password are used for HTTP (RFC 7616 Digest) and for RTSP: both vendors keep one user
list for both. The password is read once, when the adapter is built, and lives only in the HTTP client's
Digest auth and in :class:`broker.adapterapi.RtspSource` (never in a repr, an error or a log).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, StrictBool

from broker.adapterapi import AdapterConfigError, AdapterSettings, read_secret

_MiB = 1 << 20
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class DeviceSettings(AdapterSettings):
    username: str = Field(min_length=1, max_length=256)
    password_env: str | None = Field(default=None, min_length=1, max_length=256, pattern=ENV_NAME)
    password_file: str | None = Field(default=None, min_length=1, max_length=4096)
    timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    verify_tls: StrictBool = True
    rtsp_port: int = Field(default=554, ge=1, le=65535)
    rtsp_transport: Literal["tcp", "udp"] = "tcp"
    max_response_bytes: int = Field(default=_MiB, gt=0, le=16 * _MiB)  # parameter lists, XML documents
    max_snapshot_bytes: int = Field(default=16 * _MiB, gt=0, le=256 * _MiB)

    def password(self, environ: Mapping[str, str] | None = None) -> str:
        """The device password, from ``password_env`` or ``password_file`` (exactly one)."""
        return read_secret("password", env=self.password_env, file=self.password_file, environ=environ)


@dataclass(frozen=True, slots=True)
class DeviceAddress:
    """The device's HTTP origin (``http://host:port``) and the host its RTSP server shares."""

    origin: str
    host: str  # as it goes in a URL: an IPv6 literal is bracketed

    @classmethod
    def parse(cls, base_url: str | None) -> DeviceAddress:
        if not base_url:
            raise AdapterConfigError("required, e.g. https://10.20.0.15/", setting="base_url")
        try:
            parts = urlsplit(base_url)
            port = parts.port
        except ValueError:
            raise AdapterConfigError(f"{base_url!r} is not a URL", setting="base_url") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AdapterConfigError("must be http:// or https:// and name a host", setting="base_url")
        if parts.username is not None or parts.password is not None:
            raise AdapterConfigError("credentials belong in username/password_env, not the URL", setting="base_url")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise AdapterConfigError("give the device's address only (no path, query or fragment)", setting="base_url")
        host = parts.hostname
        try:
            if ipaddress.ip_address(host).version == 6:
                host = f"[{host}]"
        except ValueError:
            pass  # a DNS name
        netloc = f"{host}:{port}" if port else host
        return cls(origin=urlunsplit((parts.scheme, netloc, "", "", "")), host=host)

    def rtsp_url(self, port: int, path_and_query: str) -> str:
        """``rtsp://host:port/path?query`` (RFC 7826 §18.2), without credentials."""
        return f"rtsp://{self.host}:{port}{path_and_query}"
