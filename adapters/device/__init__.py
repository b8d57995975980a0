"""What IP-camera adapters (Axis VAPIX, Hikvision ISAPI) share: settings with upstream credentials read from
the environment or a file, the device's address, and one HTTP client with Digest authentication, size caps and
an overall deadline. Not an adapter itself (it is not in :data:`adapters.ADAPTERS`)."""

from __future__ import annotations

from adapters.device.http import DeviceHttp
from adapters.device.settings import DeviceAddress, DeviceSettings

__all__ = ["DeviceAddress", "DeviceHttp", "DeviceSettings"]
