"""Settings of an Axis system (see :mod:`adapters.device.settings` for the shared ones and an example).

``videocodec`` (default ``h264``) and ``stream_profile`` (a stream profile configured on the camera, optional)
go into the RTSP URL as VAPIX ``videocodec`` / ``streamprofile``. Example::

    - id: lincoln-axis
      adapter: axis
      base_url: https://10.20.0.15/
      username: camgate
      password_env: LINCOLN_AXIS_PASSWORD
      stream_profile: camgate        # optional
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from adapters.device import DeviceSettings


class AxisSettings(DeviceSettings):
    # The gateway repackages without re-encoding, so the stream must be H.264 (HLS carries it in MPEG-TS).
    videocodec: Literal["h264"] = "h264"
    stream_profile: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
