"""Hikvision IP cameras and NVRs through ISAPI: channel list, JPEG pictures, RTSP live video per channel.

Follows the Hikvision ISAPI developer guide (https://tpp.hikvision.com/Wiki/ISAPI/, Streaming and System):

- ``GET /ISAPI/Streaming/channels``: the ``StreamingChannelList``; each ``StreamingChannel`` ``id`` is channel
  number x 100 + stream type (1 main, 2 sub, 3 third). The camera list is the enabled main streams
  (``101``, ``201``, ...); an NVR lists one per connected camera. ``GET /ISAPI/Streaming/channels/<id>`` is
  one channel (asked before handing out its RTSP URL: a missing channel is a 404 here, not a failing gateway).
- ``GET /ISAPI/System/deviceInfo``: ``model`` and ``deviceType`` for the camera details.
- ``GET /ISAPI/Streaming/channels/<id>/picture``: a JPEG of the channel's live picture.
- Live view ``rtsp://<host>:554/Streaming/Channels/<id>`` (the guide's *rtsp://<host>[:port]/ISAPI/Streaming/
  channels/<ID>* page gives the id rule; ``/Streaming/Channels/<id>`` is the form every firmware accepts).
- HTTP Digest authentication (RFC 7616); the same account serves RTSP.

XML is read by :mod:`adapters.hikvision.isapi` (defusedxml, no DTDs, size-capped). A camera's inventory
``ref`` is its streaming channel id: ``"101"`` for channel 1's main stream (``"102"`` picks the sub stream).
Recordings on the device are not searched (:class:`NotSupported`): the broker's gateway keeps the rolling
recording.
"""

from __future__ import annotations

from datetime import datetime

from adapters.device import DeviceAddress, DeviceHttp
from adapters.hikvision import isapi
from adapters.hikvision.settings import HikvisionSettings
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
CHANNELS = "/ISAPI/Streaming/channels"
DEVICE_INFO = "/ISAPI/System/deviceInfo"


class HikvisionAdapter:
    """:class:`broker.adapterapi.RtspCameraSystem` and :class:`~broker.adapterapi.Discoverable` for ISAPI."""

    def __init__(self, spec: SystemSpec) -> None:
        self.spec = spec
        self.settings = HikvisionSettings.from_spec(spec.settings)
        self.address = DeviceAddress.parse(spec.base_url)
        self._password = self.settings.password()
        self._http = DeviceHttp(spec.id, self.address.origin, self.settings, self._password, agent="camgate-hikvision")

    def __repr__(self) -> str:
        return f"HikvisionAdapter(system={self.spec.id!r}, base_url={self.address.origin!r})"

    async def discover(self) -> tuple[DiscoveredCamera, ...]:
        info, listing = await self._get(DEVICE_INFO), await self._get(CHANNELS)
        try:
            device = isapi.device_model(info, where=self._where(DEVICE_INFO))
            channels = isapi.streaming_channels(listing, where=self._where(CHANNELS))
        except AdapterError as exc:  # the device answered (HTTP 200), with documents ISAPI does not define
            raise AdapterError(str(exc), status=200) from None
        return tuple(
            DiscoveredCamera(ref=str(c.id), name=c.name, details=c.details() | device)
            for c in channels
            if c.is_main and c.enabled
        )

    async def rtsp_source(self, camera_ref: str) -> RtspSource:
        stream = self._stream(camera_ref)
        path = f"{CHANNELS}/{stream}"
        found = isapi.channel(isapi.parse(await self._get(path), root="StreamingChannel", where=self._where(path)),
                              where=self._where(path))  # fmt: skip
        if found.id != stream:
            raise AdapterError(f"{self._where(path)}: the device answered with channel {found.id}, not {stream}")
        if not found.enabled:
            raise AdapterError(f"{self._where(path)}: streaming channel {stream} is disabled on the device",
                               status=404)  # fmt: skip
        url = self.address.rtsp_url(self.settings.rtsp_port, f"/Streaming/Channels/{stream}")
        return RtspSource(url, self.settings.username, self._password, self.settings.rtsp_transport)

    async def snapshot(self, camera_ref: str) -> Fetched:
        target = f"{CHANNELS}/{self._stream(camera_ref)}/picture"
        fetched = await self._http.get(target, cap=self.settings.max_snapshot_bytes, explain=isapi.explain)
        if not fetched.body.startswith(JPEG_MAGIC):
            raise AdapterError(f"{self._where(target)}: answered {fetched.content_type}, not a JPEG")
        return Fetched(body=fetched.body, content_type="image/jpeg", ref=fetched.ref)

    async def recording(self, camera_ref: str, start: datetime, end: datetime) -> Recording:
        raise NotSupported(f"system {self.spec.id!r}: Hikvision recordings are not searched; the gateway records")

    async def resource(self, ref: str) -> Fetched:
        raise NotSupported(f"system {self.spec.id!r}: no recorded segments are served by the Hikvision adapter")

    async def aclose(self) -> None:
        await self._http.aclose()

    def _where(self, path: str) -> str:
        return f"system {self.spec.id!r}: GET {path}"

    async def _get(self, path: str) -> bytes:
        return (await self._http.get(path, cap=self.settings.max_response_bytes, explain=isapi.explain)).body

    def _stream(self, camera_ref: str) -> int:
        ok = camera_ref.isascii() and camera_ref.isdigit() and 3 <= len(camera_ref) <= 6
        if not ok or not 1 <= int(camera_ref) % 100 <= 3:
            raise AdapterError(
                f"system {self.spec.id!r}: camera ref {camera_ref[:40]!r} is not an ISAPI streaming channel id "
                "(channel x 100 + stream: 101, 102, 201, ...)",
                status=404,
            )
        return int(camera_ref)
