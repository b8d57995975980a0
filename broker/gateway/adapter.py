"""An :class:`RtspCameraSystem` offered as a :class:`CameraSystemAdapter`: the broker's proxy is unchanged.

:class:`GatewayAdapter` answers ``live_playlist`` with the gateway's live playlist of the camera (started on
first demand), ``resource`` with segment files from the camera's work directory, ``snapshot`` and
``recording`` with the system's own when it has them, else a frame of the live video and the gateway's rolling
recording. Refs of the gateway's files are ``gw/<key>/<segment>.ts`` (``key`` names a camera stream, not its
URL); any other ref is the wrapped system's. Nothing the wrapper returns holds the RTSP URL.

The inventory entry of an RTSP system may carry a ``gateway`` block for the broker (the adapter never sees
it)::

    - id: lot-cameras
      adapter: rtsp
      url_template: "rtsp://10.20.0.5:554/{ref}"
      gateway: {record: always}        # or [ref, ...]: keep these cameras running for pre-event footage
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from broker.adapterapi import (
    AdapterConfigError,
    AdapterError,
    CameraSystemAdapter,
    Fetched,
    NotSupported,
    RecordedSegment,
    Recording,
    RtspCameraSystem,
    RtspSource,
    SystemSpec,
)
from broker.gateway.gateway import Gateway, next_serial
from broker.gateway.index import SEGMENT_NAME
from broker.gateway.snapshot import grab_frame

GATEWAY_KEY = "gateway"
PLAYLIST = "application/vnd.apple.mpegurl"
_REF = re.compile(r"gw/([0-9a-f]{24})/([A-Za-z0-9_.-]{1,128})")


class SystemGatewaySettings(BaseModel):
    """The ``gateway`` block of an RTSP system's inventory entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    record: str | tuple[str, ...] = "on_demand"

    @field_validator("record", mode="before")
    @classmethod
    def _record(cls, value: Any) -> str | tuple[str, ...]:
        if value in ("on_demand", "always"):
            return str(value)
        if isinstance(value, list | tuple) and value and all(isinstance(v, str) and v for v in value):
            return tuple(value)
        raise ValueError("must be 'on_demand', 'always' or a list of camera refs")


def split_spec(spec: SystemSpec) -> tuple[SystemSpec, SystemGatewaySettings | None]:
    """The spec the adapter sees (without ``gateway``) and the gateway block, if any."""
    if GATEWAY_KEY not in spec.settings:
        return spec, None
    settings = {k: v for k, v in spec.settings.items() if k != GATEWAY_KEY}
    try:
        block = SystemGatewaySettings.model_validate(spec.settings[GATEWAY_KEY])
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in (GATEWAY_KEY, *err["loc"]))
        message = err["msg"].removeprefix("Value error, ")
        raise AdapterConfigError(message, setting=where, system=spec.id) from None
    return replace(spec, settings=settings), block


class GatewayAdapter:
    """:class:`CameraSystemAdapter` for an RTSP system, through the broker's gateway."""

    def __init__(
        self, spec: SystemSpec, inner: RtspCameraSystem, gateway: Gateway, settings: SystemGatewaySettings | None = None
    ) -> None:
        self.spec = spec  # the whole entry, gateway block included: the pool compares it on reload
        self.inner = inner
        self.gateway = gateway
        self.serial = next_serial()
        self.system_id = spec.id
        self.record: str | tuple[str, ...] = (settings or SystemGatewaySettings()).record
        # stream key -> (segment name, its frame being made or made): one decoding ffmpeg per segment (snapshot)
        self._frames: dict[str, tuple[str, asyncio.Future[bytes]]] = {}

    def __repr__(self) -> str:
        return f"GatewayAdapter(system={self.spec.id!r}, inner={type(self.inner).__name__})"

    async def source(self, ref: str) -> RtspSource:
        return await self.inner.rtsp_source(ref)

    async def live_playlist(self, camera_ref: str) -> Fetched:
        stream = await self.gateway.demand(self, camera_ref)
        body = await self.gateway.live_playlist(stream)
        return Fetched(body=body, content_type=PLAYLIST, ref=f"gw/{stream.key}/live.m3u8")

    def resolve(self, base_ref: str, uri: str) -> str:
        match = _REF.fullmatch(base_ref)
        if match is None or not SEGMENT_NAME.fullmatch(uri):
            raise AdapterError(f"system {self.spec.id!r}: playlist entry {uri[:80]!r} is not a gateway segment")
        return f"gw/{match.group(1)}/{uri}"

    async def resource(self, ref: str) -> Fetched:
        match = _REF.fullmatch(ref)
        if match is None:
            return await self.inner.resource(ref)  # a recording of the system's own
        key, name = match.groups()
        stream = self.gateway.find(self, key)
        if stream is None or not SEGMENT_NAME.fullmatch(name):
            raise AdapterError(f"system {self.spec.id!r}: no gateway segment {name!r}", status=404)
        if any(s.name == name for s in stream.index.live(stream.epoch, self.gateway.cfg.list_size)):
            stream.last_demand = self.gateway.clock.now()  # a live viewer is still there
        try:
            body = await asyncio.to_thread((stream.directory / name).read_bytes)
        except FileNotFoundError:
            raise AdapterError(f"system {self.spec.id!r}: segment {name!r} is gone", status=404) from None
        return Fetched(body=body, content_type="video/mp2t", ref=ref)

    async def snapshot(self, camera_ref: str) -> Fetched:
        try:
            return await self.inner.snapshot(camera_ref)
        except NotSupported:
            pass
        stream = await self.gateway.demand(self, camera_ref)
        await self.gateway.live_playlist(stream)  # waits for a first segment
        newest = stream.index.newest()
        if newest is None:
            raise AdapterError(f"system {self.spec.id!r} camera {camera_ref!r}: no video yet")
        body = await self._frame(stream.key, stream.directory, newest.name)
        return Fetched(body=body, content_type="image/jpeg", ref=f"gw/{stream.key}/snapshot.jpg")

    async def _frame(self, key: str, directory: Path, name: str) -> bytes:
        """The first frame of segment ``name``: decoded once, by one ffmpeg, for every snapshot request while it is
        the newest (a flood of requests started one ffmpeg each); a failure is not kept, the next request retries."""
        held = self._frames.get(key)
        if held is None or held[0] != name:
            task = asyncio.ensure_future(grab_frame(self.gateway.ffmpeg, directory / name))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # retrieved, if every asker left
            held = (name, task)
            self._frames[key] = held
        try:
            return await asyncio.shield(held[1])  # one requester giving up does not stop it for the others
        except AdapterError:
            if self._frames.get(key) is held:
                del self._frames[key]
            raise

    async def recording(self, camera_ref: str, start: datetime, end: datetime) -> Recording:
        try:
            return await self.inner.recording(camera_ref, start, end)
        except NotSupported:
            pass
        stream = self.gateway.existing(self, camera_ref)
        if stream is None:  # never watched since the broker started, nor recorded always
            return Recording((), float(self.gateway.cfg.segment_seconds))
        segments: list[RecordedSegment] = []
        previous = None
        for seg in stream.index.starting_within(start, end):
            restarted = previous is not None and seg.disc != previous.disc
            segments.append(RecordedSegment(f"gw/{stream.key}/{seg.name}", seg.start, seg.duration, restarted))
            previous = seg
        return Recording(tuple(segments), float(stream.index.target))

    async def aclose(self) -> None:
        self._frames.clear()
        self.gateway.forget(self)
        await self.inner.aclose()


def gateway_loader(
    load: Callable[[SystemSpec], CameraSystemAdapter | RtspCameraSystem], gateway: Gateway
) -> Callable[[SystemSpec], CameraSystemAdapter]:
    """A pool loader: HLS systems as they are, RTSP systems wrapped in a :class:`GatewayAdapter`."""

    def loader(spec: SystemSpec) -> CameraSystemAdapter:
        adapter, block = load_system(load, spec)
        if isinstance(adapter, CameraSystemAdapter):
            return adapter
        return GatewayAdapter(spec, adapter, gateway, block)

    return loader


def load_system(
    load: Callable[[SystemSpec], CameraSystemAdapter | RtspCameraSystem], spec: SystemSpec
) -> tuple[CameraSystemAdapter | RtspCameraSystem, SystemGatewaySettings | None]:
    """The system's adapter and its ``gateway`` block, every setting checked as the running broker checks it
    (``camgate inventory validate`` calls this too, so it refuses what ``serve`` and ``reload`` would)."""
    inner_spec, block = split_spec(spec)
    adapter = load(inner_spec)
    if isinstance(adapter, CameraSystemAdapter) and block is not None:
        raise AdapterConfigError("only RTSP systems have a gateway block", setting=GATEWAY_KEY, system=spec.id)
    return adapter, block
