"""Settings of a Hikvision camera or NVR: the shared device settings (:mod:`adapters.device.settings`). Example::

    - id: lincoln-nvr
      adapter: hikvision
      base_url: http://10.20.0.40/
      username: camgate
      password_file: /run/secrets/lincoln-nvr
      rtsp_port: 554

Each channel's codec is set on the device; the gateway repackages without re-encoding, so give camgate's
channels H.264 (``discover`` reports each channel's ``codec``).
"""

from __future__ import annotations

from adapters.device import DeviceSettings


class HikvisionSettings(DeviceSettings):
    pass
