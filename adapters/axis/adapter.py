"""Axis network cameras and video encoders through VAPIX: camera list, JPEG snapshots, RTSP live video.

Follows the VAPIX documentation (Axis Communications, https://developer.axis.com/vapix/):

- *Parameter management* (``/vapix/network-video/parameter-management``): the camera list is
  ``GET /axis-cgi/param.cgi?action=list&group=Brand,ImageSource`` (brand and model from ``Brand``, one video
  source per ``ImageSource.I<n>``, their count in ``ImageSource.NbrOfSources``); see :mod:`adapters.axis.params`.
- *Video streaming*, JPEG image snapshot (``/vapix/network-video/video-streaming``):
  ``GET /axis-cgi/jpg/image.cgi?camera=<n>`` answers one ``image/jpeg``.
- *Stream with RTSP* and *RTSP endpoints* (``/video-streaming-and-recording/video-streaming/how-to-guides/rtsp/``,
  ``.../reference/rtsp-endpoints/``, *Getting started* step 4): live video is
  ``rtsp://<host>/axis-media/media.amp?camera=<n>``; ``videocodec=h264`` asks for H.264, which the broker's
  gateway repackages to HLS without re-encoding.
- *Authentication* (``/vapix/authentication``): the device answers 401 with ``WWW-Authenticate``; HTTP Digest
  (RFC 7616) is used, and the same account serves RTSP.

A camera's inventory ``ref`` is its VAPIX camera number, ``"1"`` for a single-sensor camera. Recordings on the
device's SD card are not read (:class:`NotSupported`): the broker's gateway keeps the rolling recording.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from adapters.axis.params import DeviceInfo, device_info, parse_params
from adapters.axis.settings import AxisSettings
from adapters.device import DeviceAddress, DeviceHttp
from broker.adapterapi import (
    AdapterError,
    DiscoveredCamera,
    Fetched,
    NotSupported,
    Recording,
    RtspSource,
    SystemSpec,
)

JPEG_MAGIC = b"\xff\xd8\xff"
PARAMS = "/axis-cgi/param.cgi?action=list&group=Brand,ImageSource"


class AxisAdapter:
    """:class:`broker.adapterapi.RtspCameraSystem` and :class:`~broker.adapterapi.Discoverable` for VAPIX."""

    def __init__(self, spec: SystemSpec) -> None:
        self.spec = spec
        self.settings = AxisSettings.from_spec(spec.settings)
        self.address = DeviceAddress.parse(spec.base_url)
        self._password = self.settings.password()
        self._http = DeviceHttp(spec.id, self.address.origin, self.settings, self._password, agent="camgate-axis")

    def __repr__(self) -> str:
        return f"AxisAdapter(system={self.spec.id!r}, base_url={self.address.origin!r})"

    async def discover(self) -> tuple[DiscoveredCamera, ...]:
        info = await self._device()
        return tuple(
            DiscoveredCamera(ref=str(n), name=name, details=info.details(n)) for n, name in info.sources.items()
        )

    async def rtsp_source(self, camera_ref: str) -> RtspSource:
        camera = self._camera(camera_ref)
        info = await self._device()
        if camera not in info.sources:
            raise AdapterError(
                f"system {self.spec.id!r}: no camera {camera_ref!r}; the device has cameras 1-{len(info.sources)}",
                status=404,
            )
        query = {"camera": str(camera), "videocodec": self.settings.videocodec}
        if self.settings.stream_profile:
            query["streamprofile"] = self.settings.stream_profile
        url = self.address.rtsp_url(self.settings.rtsp_port, f"/axis-media/media.amp?{urlencode(query)}")
        return RtspSource(url, self.settings.username, self._password, self.settings.rtsp_transport)

    async def snapshot(self, camera_ref: str) -> Fetched:
        target = f"/axis-cgi/jpg/image.cgi?camera={self._camera(camera_ref)}"
        fetched = await self._http.get(target, cap=self.settings.max_snapshot_bytes, explain=_explain)
        if not fetched.body.startswith(JPEG_MAGIC):
            raise AdapterError(
                f"system {self.spec.id!r}: GET /axis-cgi/jpg/image.cgi answered {fetched.content_type}, not a JPEG"
            )
        return Fetched(body=fetched.body, content_type="image/jpeg", ref=fetched.ref)

    async def recording(self, camera_ref: str, start: datetime, end: datetime) -> Recording:
        raise NotSupported(f"system {self.spec.id!r}: Axis edge recordings are not read; the gateway records")

    async def resource(self, ref: str) -> Fetched:
        raise NotSupported(f"system {self.spec.id!r}: no recorded segments are served by the Axis adapter")

    async def aclose(self) -> None:
        await self._http.aclose()

    def _camera(self, camera_ref: str) -> int:
        if not (camera_ref.isascii() and camera_ref.isdigit() and len(camera_ref) <= 3 and int(camera_ref) >= 1):
            raise AdapterError(
                f"system {self.spec.id!r}: camera ref {camera_ref[:40]!r} is not a VAPIX camera number (1, 2, ...)",
                status=404,
            )
        return int(camera_ref)

    async def _device(self) -> DeviceInfo:
        fetched = await self._http.get(PARAMS, cap=self.settings.max_response_bytes, explain=_explain)
        where = f"system {self.spec.id!r}: GET /axis-cgi/param.cgi"
        try:
            return device_info(parse_params(fetched.body, where=where), where=where)
        except AdapterError as exc:  # the device answered (HTTP 200), with a list VAPIX does not document
            raise AdapterError(str(exc), status=200) from None


def _explain(body: bytes) -> str | None:
    """VAPIX errors are short text bodies; the first line, printable and bounded."""
    line = body.decode("utf-8", "replace").strip().splitlines()[:1]
    text = "".join(c for c in (line[0] if line else "") if c.isprintable())[:160]
    return text or None
