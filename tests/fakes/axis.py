"""A fake Axis camera (or multi-source video encoder) speaking VAPIX over real HTTP and RTSP on 127.0.0.1.

    with FakeAxisCamera(workdir, clip, sources=("Entrance", "Gym"), username="camgate", password="pw") as cam:
        cam.base_url          # http://127.0.0.1:<port>/  (param.cgi, image.cgi; Digest auth)
        cam.rtsp.port         # the RTSP server (GStreamer, Digest auth, same account)
        cam.fault = "hang" | "malformed" | None
        cam.set_sources(("Entrance", "Gym", "Library"))   # the encoder gained an input (or lost its last one)

HTTP, shaped as the VAPIX documentation shows (https://developer.axis.com/vapix/network-video/
parameter-management and .../video-streaming):

- ``GET /axis-cgi/param.cgi?action=list&group=Brand,ImageSource`` (or POST with a form body):
  ``text/plain`` lines ``root.<name>=<value>``
  of each group (a group may also name one parameter); an unknown group is the line
  ``# Error: Error -1 getting param in group '<group>'`` (HTTP 200, as the devices answer).
- ``GET /axis-cgi/jpg/image.cgi?camera=<n>``: a real JPEG made by ffmpeg showing the source's name; an unknown
  camera is HTTP 400 with a one-line text error.

RTSP: ``/axis-media/media.amp`` with live H.264 (:class:`tests.fakes.rtsp.FakeRtspCamera`). GStreamer's RTSP
server picks a mount by the URL's path alone (its mount points' ``make_path`` drops the query; overriding it in
Python fixes DESCRIBE, but the aggregate PLAY to ``...?camera=2/`` then fails with 460 because the client's own
``make_path_from_uri`` keeps the trailing slash, and the server's ``create_client`` that would pick another
client class is not introspectable from Python), so
there is ONE mount: every ``?camera=<n>&videocodec=h264`` plays the same video. Which camera exists is decided
over HTTP (param.cgi), as the adapter does before it hands out an RTSP URL.

``malformed``: param.cgi answers an HTML error page inside the parameter list, image.cgi an HTML page.
With ``clip=None`` no RTSP server is started (HTTP-only tests). Each source's JPEG is made by ffmpeg the first
time it is asked for. VAPIX numbers sources ``I0`` .. ``I<n-1>`` (cameras 1..n): an encoder gains or loses inputs
at the end, so :meth:`FakeAxisCamera.set_sources` takes the whole list.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from broker.demo.video import make_jpeg
from tests.fakes.device import FakeDeviceHttp
from tests.fakes.rtsp import FakeRtspCamera

RTSP_MOUNT = "/axis-media/media.amp"
TEXT = "text/plain"


class FakeAxisCamera(FakeDeviceHttp):
    def __init__(
        self,
        workdir: Path,
        clip: Path | None,
        *,
        sources: tuple[str, ...] = ("Entrance", "Gym"),
        username: str = "camgate",
        password: str = "camgate-password",
        model: str = "M3215-LVE",
    ) -> None:
        super().__init__(username=username, password=password, realm="AXIS_ACCC8E012345")
        self.workdir = workdir
        self._jpegs: dict[str, bytes] = {}
        self.params: dict[str, str] = {
            "root.Brand.Brand": "AXIS",
            "root.Brand.ProdFullName": f"AXIS {model} Network Camera",
            "root.Brand.ProdNbr": model,
            "root.Brand.ProdShortName": f"AXIS {model}",
            "root.Brand.ProdType": "Network Camera",
            "root.Brand.WebURL": "http://www.axis.com",
            "root.Properties.API.HTTP.Version": "3",
            "root.Properties.Firmware.Version": "10.12.190",
        }
        self.set_sources(sources)
        self.rtsp = FakeRtspCamera(clip, mounts=(RTSP_MOUNT,), username=username, password=password) if clip else None

    def set_sources(self, sources: tuple[str, ...]) -> None:
        """The device's video sources from now on, by name (camera 1 first)."""
        self.sources = tuple(sources)
        self.params = {k: v for k, v in self.params.items() if not k.startswith("root.ImageSource.")}
        self.params["root.ImageSource.NbrOfSources"] = str(len(self.sources))
        for n, name in enumerate(self.sources):
            self.params[f"root.ImageSource.I{n}.Name"] = name
            self.params[f"root.ImageSource.I{n}.Sensor.AspectRatio"] = "16:9"

    def jpeg(self, camera: int) -> bytes:
        """Camera ``camera``'s JPEG, showing its source's name (made by ffmpeg once per name)."""
        name = self.sources[camera - 1]
        if name not in self._jpegs:
            path = self.workdir / f"axis-{len(self._jpegs) + 1}.jpg"
            self._jpegs[name] = make_jpeg(path, label=name).read_bytes()
        return self._jpegs[name]

    def start(self) -> None:
        super().start()
        if self.rtsp is not None:
            self.rtsp.start()

    def stop(self) -> None:
        if self.rtsp is not None:
            self.rtsp.stop()
        super().stop()

    def __enter__(self) -> FakeAxisCamera:
        self.start()
        return self

    async def answer(self, request: Request) -> Response:
        query = parse_qs(request.url.query)
        if request.method == "POST":  # VAPIX CGIs take their arguments in the query or as a form body
            query |= parse_qs((await request.body()).decode("utf-8", "replace"))
        if request.url.path == "/axis-cgi/param.cgi":
            return self._param(query)
        if request.url.path == "/axis-cgi/jpg/image.cgi":
            return await self._image(query)
        return Response(b"404 Not Found\n", 404, media_type=TEXT)

    def _param(self, query: dict[str, list[str]]) -> Response:
        if query.get("action") != ["list"]:
            return Response(b"# Request failed: unknown action\n", 400, media_type=TEXT)
        if self.fault == "malformed":
            body = "root.Brand.Brand=AXIS\n<html><body><h1>500 Internal Error</h1></body></html>\n"
            return Response(body.encode(), 200, media_type=TEXT)
        lines: list[str] = []
        for group in ",".join(query.get("group", ["root"])).split(","):
            prefix = group if group.startswith("root") else f"root.{group}"
            found = [f"{k}={v}" for k, v in self.params.items() if k == prefix or k.startswith(prefix + ".")]
            lines += found or [f"# Error: Error -1 getting param in group '{group}'"]
        return Response(("\n".join(lines) + "\n").encode(), 200, media_type=TEXT)

    async def _image(self, query: dict[str, list[str]]) -> Response:
        if self.fault == "malformed":
            return Response(b"<html><body>Video source not available</body></html>", 200, media_type="text/html")
        camera = query.get("camera", ["1"])[0]
        if not camera.isdigit() or not 1 <= int(camera) <= len(self.sources):
            return Response(b"Error: invalid camera\n", 400, media_type=TEXT)
        return Response(await asyncio.to_thread(self.jpeg, int(camera)), 200, media_type="image/jpeg")
