"""The generic RTSP adapter: where each camera's RTSP stream is, for the broker's RTSP to HLS gateway.

It follows the RTSP URL scheme (RFC 7826 §18.2, "RTSP URI" ``rtsp://host[:port]/path``; RFC 2326 §3.2) and
hands credentials apart from the URL (:class:`~broker.adapterapi.RtspSource`): the gateway's ffmpeg answers
the camera's Basic or Digest challenge itself (RFC 7826 §19.1, RFC 2617; ffmpeg's RTSP demuxer,
https://ffmpeg.org/ffmpeg-protocols.html#rtsp). The camera's RTSP service is the only thing it uses, so it has
no snapshot (the gateway grabs a frame of the live video) and no recordings (the gateway keeps a rolling one).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from adapters.rtsp.settings import RtspSettings, absolute
from broker.adapterapi import (
    AdapterError,
    Fetched,
    NotSupported,
    Recording,
    RtspSource,
    SystemSpec,
    read_secret,
)


class RtspAdapter:
    """:class:`broker.adapterapi.RtspCameraSystem` for cameras reached by RTSP URL alone."""

    def __init__(self, spec: SystemSpec) -> None:
        self.spec = spec
        self.settings = RtspSettings.from_spec(spec.settings)
        s = self.settings
        self._template = absolute(spec.base_url, s.url_template, "url_template") if s.url_template else None
        self._cameras = {ref: absolute(spec.base_url, url, f"cameras.{ref}") for ref, url in (s.cameras or {}).items()}
        self._password: str | None = None
        if s.password_env or s.password_file:
            self._password = read_secret("password", env=s.password_env, file=s.password_file)

    def __repr__(self) -> str:
        return f"RtspAdapter(system={self.spec.id!r})"

    def _url(self, camera_ref: str) -> str:
        if camera_ref in self._cameras:
            return self._cameras[camera_ref]
        if self._template is None:
            raise AdapterError(f"system {self.spec.id!r}: no camera {camera_ref!r} in its cameras", status=404)
        if not camera_ref or ".." in camera_ref.split("/") or camera_ref.startswith("/"):
            raise AdapterError(f"system {self.spec.id!r}: camera ref {camera_ref!r} is not a path", status=404)
        return self._template.replace("{ref}", quote(camera_ref, safe="/-._~"))

    async def rtsp_source(self, camera_ref: str) -> RtspSource:
        url = self._url(camera_ref)
        return RtspSource(url, self.settings.username, self._password, self.settings.transport)

    async def snapshot(self, camera_ref: str) -> Fetched:
        raise NotSupported(f"system {self.spec.id!r}: a plain RTSP camera has no snapshot service")

    async def recording(self, camera_ref: str, start: datetime, end: datetime) -> Recording:
        raise NotSupported(f"system {self.spec.id!r}: a plain RTSP camera keeps no recordings the broker can read")

    async def resource(self, ref: str) -> Fetched:
        raise NotSupported(f"system {self.spec.id!r}: a plain RTSP camera keeps no recordings the broker can read")

    async def aclose(self) -> None:
        return None
