"""Where the adapter may send requests and credentials: the device's own origin, and media on allowed hosts.

A device names URLs in its answers: service addresses (XAddr, ONVIF Core §8.1.2), stream URIs (Media §5.15.1),
snapshot URIs (Media §5.16.1) and replay URIs (Replay §5.1). Followed blindly, one compromised or misconfigured
device could point the broker, with the device's credentials, at any host on the school's network (SSRF).

* Service addresses are *rebased*: only their path is used, on the origin of ``base_url``. Core §8.1.2 notes
  that a device behind NAT may return its local address rather than the one the client used, so taking the
  host from the answer would be wrong as well as unsafe.
* Stream, replay and snapshot URIs must name the device's host or one listed in ``media_hosts`` (any port: RTSP
  is usually on 554, snapshots on the HTTP port); other hosts are refused, naming only the host. User info in
  such a URI is dropped (the configured credentials are used); a fragment is refused.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from adapters.onvif.settings import normal_host
from broker.adapterapi import AdapterConfigError, AdapterError

DEVICE_PATH = "/onvif/device_service"  # Core §5.1.1: "The entry point for the device management service is fixed"
MAX_URI_CHARS = 2048
_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*")
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


class DeviceUris:
    def __init__(self, base_url: str | None, media_hosts: tuple[str, ...] = ()) -> None:
        if not base_url:
            raise AdapterConfigError("required for the onvif adapter (e.g. http://10.0.0.5/)", setting="base_url")
        try:
            parts = urlsplit(base_url)
            port = parts.port
            host = normal_host(parts.hostname or "")
        except ValueError as exc:
            raise AdapterConfigError(f"{exc}", setting="base_url") from None
        if parts.scheme.lower() not in ("http", "https"):
            raise AdapterConfigError("must be an http:// or https:// URL", setting="base_url")
        if parts.username is not None or parts.password is not None:
            raise AdapterConfigError("credentials belong in username/password_env, not the URL", setting="base_url")
        if parts.query or parts.fragment or parts.path not in ("", "/", DEVICE_PATH):
            raise AdapterConfigError(f"give the device's address only, e.g. http://{host}/", setting="base_url")
        self.scheme = parts.scheme.lower()
        self.host = host
        netloc = f"[{host}]" if ":" in host else host
        self.origin = f"{self.scheme}://{netloc}" + (f":{port}" if port else "")
        self.media_hosts = frozenset((host, *media_hosts))

    @property
    def device_url(self) -> str:
        return self.origin + DEVICE_PATH

    def service_url(self, xaddr: str) -> str:
        """The URL to call for a service address a device gave: its path on our origin."""
        text = xaddr.strip()
        try:
            parts = urlsplit(text)
        except ValueError:
            raise AdapterError(f"service address {text[:100]!r} is not a URL") from None
        path = parts.path
        if (
            parts.scheme.lower() not in ("http", "https")
            or not _PATH.fullmatch(path)
            or "//" in path
            or any(seg in (".", "..") for seg in path.split("/"))
            or "%2f" in path.lower()
        ):
            raise AdapterError(f"service address {text[:100]!r} is not an http(s) URL with a plain path")
        return self.origin + path

    def media_url(self, uri: str, *, schemes: tuple[str, ...], what: str) -> str:
        """``uri`` checked against the allowed hosts, without user info; AdapterError names the host only."""
        text = uri.strip()
        if len(text) > MAX_URI_CHARS or not _URI_CHARS.fullmatch(text):
            raise AdapterError(f"{what} URI is not a plain URI (characters or length)")
        try:
            parts = urlsplit(text)
            port = parts.port
            host = normal_host(parts.hostname or "")
        except ValueError:
            raise AdapterError(f"{what} URI has no valid host") from None
        if parts.scheme.lower() not in schemes:
            raise AdapterError(f"{what} URI scheme {parts.scheme!r} is not one of {', '.join(schemes)}")
        if parts.fragment:
            raise AdapterError(f"{what} URI has a fragment")
        if host not in self.media_hosts:
            raise AdapterError(
                f"{what} URI names host {host!r}, which is neither the device ({self.host!r}) nor in "
                "'media_hosts'; refused (add the host to media_hosts if it is the device's own)"
            )
        netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
        return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))
