"""A fake Hikvision NVR speaking ISAPI over real HTTP and RTSP on 127.0.0.1.

    with FakeHikvisionNvr(workdir, clip, channels=("Front door", "Gym"), username="camgate", password="pw") as nvr:
        nvr.base_url          # http://127.0.0.1:<port>/  (ISAPI; Digest auth)
        nvr.rtsp.port         # RTSP: /Streaming/Channels/101, /Streaming/Channels/201, ... (main streams)
        nvr.fault = "hang" | "malformed" | "entity_bomb" | None
        nvr.set_channels({1: "Front door", 3: "Library"})   # a camera plugged into channel 3, channel 2's unplugged

HTTP, shaped as the ISAPI developer guide shows (namespace ``http://www.hikvision.com/ver20/XMLSchema``):

- ``GET /ISAPI/System/deviceInfo``: ``<DeviceInfo>`` with ``deviceName``, ``model``, ``deviceType``;
  ``GET /ISAPI/System/status``: ``<DeviceStatus>`` (clients probe it first).
- ``GET /ISAPI/Streaming/channels``: ``<StreamingChannelList>``, for channel n a main stream ``n01`` and a sub
  stream ``n02``, each with ``id``, ``channelName``, ``enabled``, ``Transport`` and ``Video``.
- ``GET /ISAPI/Streaming/channels/<id>``: that ``<StreamingChannel>``.
- ``GET /ISAPI/Streaming/channels/<id>/picture``: a real JPEG made by ffmpeg showing the channel's name.
- Unknown channels and paths: HTTP 404 with a ``<ResponseStatus>`` (``statusCode`` 4, ``Invalid Operation``,
  ``subStatusCode`` ``notSupport``).

``malformed``: the channel documents are cut off mid-element and the picture is a ``ResponseStatus`` XML with
HTTP 200. ``entity_bomb``: the channel list is an entity-expansion bomb ("billion laughs"). Only main streams are
mounted on the RTSP server (``102`` etc. are listed over HTTP, not played), for the channels it started with.
With ``clip=None`` no RTSP server. Each channel's JPEG is made by ffmpeg the first time it is asked for.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from broker.demo.video import make_jpeg
from tests.fakes.device import FakeDeviceHttp
from tests.fakes.rtsp import FakeRtspCamera

NS = "http://www.hikvision.com/ver20/XMLSchema"
XML = "application/xml"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
BOMB = (
    HEAD
    + '<!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    + f']>\n<StreamingChannelList version="2.0" xmlns="{NS}"><StreamingChannel><id>101</id>'
    "<channelName>&lol9;</channelName></StreamingChannel></StreamingChannelList>\n"
)


def rtsp_mount(stream: int) -> str:
    return f"/Streaming/Channels/{stream}"


class FakeHikvisionNvr(FakeDeviceHttp):
    def __init__(
        self,
        workdir: Path,
        clip: Path | None,
        *,
        channels: tuple[str, ...] = ("Front door", "Gym"),
        username: str = "camgate",
        password: str = "camgate-password",
        model: str = "DS-7608NI-K2",
    ) -> None:
        super().__init__(username=username, password=password, realm="DS-7608NI-K2")
        self.workdir, self.model = workdir, model
        self._jpegs: dict[str, bytes] = {}
        self.set_channels(dict(enumerate(channels, 1)))
        mounts = tuple(rtsp_mount(n * 100 + 1) for n in self.channels)
        self.rtsp = FakeRtspCamera(clip, mounts=mounts, username=username, password=password) if clip else None

    def set_channels(self, channels: dict[int, str]) -> None:
        """The NVR's channels from now on: channel number -> the camera's name."""
        self.channels = dict(sorted(channels.items()))

    def jpeg(self, channel: int) -> bytes:
        """The channel's picture, showing its name (made by ffmpeg once per name)."""
        name = self.channels[channel]
        if name not in self._jpegs:
            self._jpegs[name] = make_jpeg(self.workdir / f"hik-{len(self._jpegs) + 1}.jpg", label=name).read_bytes()
        return self._jpegs[name]

    def start(self) -> None:
        super().start()
        if self.rtsp is not None:
            self.rtsp.start()

    def stop(self) -> None:
        if self.rtsp is not None:
            self.rtsp.stop()
        super().stop()

    def __enter__(self) -> FakeHikvisionNvr:
        self.start()
        return self

    async def answer(self, request: Request) -> Response:
        if request.method != "GET":
            body = self._status(request.url.path, 4, "Invalid Operation", "methodNotAllowed")
            return Response(body.encode(), 405, media_type=XML)
        parts = request.url.path.strip("/").split("/")
        if parts == ["ISAPI", "System", "deviceInfo"]:
            return self._xml(self._device_info())
        if parts == ["ISAPI", "System", "status"]:
            return self._xml(f'<DeviceStatus version="2.0" xmlns="{NS}">\n<currentDeviceTime>2026-09-14T13:00:00-04:00'
                             "</currentDeviceTime>\n<deviceUpTime>86400</deviceUpTime>\n</DeviceStatus>\n")  # fmt: skip
        if parts[:3] != ["ISAPI", "Streaming", "channels"]:
            return self._not_found(request.url.path)
        if len(parts) == 3:
            if self.fault == "entity_bomb":
                return Response(BOMB.encode(), 200, media_type=XML)
            items = "".join(self._channel(n * 100 + s) for n in self.channels for s in (1, 2))
            return self._xml(f'<StreamingChannelList version="2.0" xmlns="{NS}">\n{items}</StreamingChannelList>\n')
        stream = int(parts[3]) if parts[3].isdigit() else 0
        if stream // 100 not in self.channels or stream % 100 not in (1, 2) or len(parts) > 5:
            return self._not_found(request.url.path)
        if len(parts) == 4:
            return self._xml(self._channel(stream, root=True))
        if parts[4] != "picture":
            return self._not_found(request.url.path)
        if self.fault == "malformed":
            return Response(self._status(request.url.path, 1, "OK", "ok").encode(), 200, media_type=XML)
        return Response(await asyncio.to_thread(self.jpeg, stream // 100), 200, media_type="image/jpeg")

    def _xml(self, document: str) -> Response:
        if self.fault == "malformed":
            document = document[: len(document) // 2]  # cut off mid-document, as a dropped connection leaves it
        return Response((HEAD + document).encode(), 200, media_type=XML)

    def _device_info(self) -> str:
        return (
            f'<DeviceInfo version="2.0" xmlns="{NS}">\n<deviceName>Network Video Recorder</deviceName>\n'
            f"<deviceID>48443334-3637-3532-3130-c42f90a1b2c3</deviceID>\n<model>{self.model}</model>\n"
            "<serialNumber>DS-7608NI-K20820210101CCRRF12345678WCVU</serialNumber>\n"
            "<firmwareVersion>V4.30.085</firmwareVersion>\n<deviceType>NVR</deviceType>\n</DeviceInfo>\n"
        )

    def _channel(self, stream: int, *, root: bool = False) -> str:
        name = self.channels[stream // 100]
        xmlns = f' xmlns="{NS}"' if root else ""
        width, height = (320, 180) if stream % 100 == 1 else (160, 90)
        return (
            f'<StreamingChannel version="2.0"{xmlns}>\n'
            f"<id>{stream}</id>\n<channelName>{name}</channelName>\n<enabled>true</enabled>\n"
            "<Transport>\n<rtspPortNo>554</rtspPortNo>\n<ControlProtocolList>\n<ControlProtocol>\n"
            "<streamingTransport>RTSP</streamingTransport>\n</ControlProtocol>\n</ControlProtocolList>\n"
            "<Unicast>\n<enabled>true</enabled>\n<rtpTransportType>RTP/TCP</rtpTransportType>\n</Unicast>\n"
            "</Transport>\n<Video>\n<enabled>true</enabled>\n"
            f"<videoInputChannelID>{stream // 100}</videoInputChannelID>\n<videoCodecType>H.264</videoCodecType>\n"
            f"<videoResolutionWidth>{width}</videoResolutionWidth>\n"
            f"<videoResolutionHeight>{height}</videoResolutionHeight>\n"
            "<maxFrameRate>1000</maxFrameRate>\n</Video>\n</StreamingChannel>\n"
        )

    @staticmethod
    def _status(path: str, code: int, said: str, sub: str) -> str:
        return (
            f'{HEAD}<ResponseStatus version="2.0" xmlns="{NS}">\n<requestURL>{path}</requestURL>\n'
            f"<statusCode>{code}</statusCode>\n<statusString>{said}</statusString>\n"
            f"<subStatusCode>{sub}</subStatusCode>\n</ResponseStatus>\n"
        )

    def _not_found(self, path: str) -> Response:
        body = self._status(path, 4, "Invalid Operation", "notSupport")
        return Response(body.encode(), 404, media_type=XML)
