"""The ONVIF adapter: an :class:`~broker.adapterapi.RtspCameraSystem` and :class:`~broker.adapterapi.Discoverable`.

One pooled :class:`httpx.AsyncClient` per device. It never follows redirects, never reads proxy or ``.netrc``
settings from the environment, and answers an HTTP digest challenge (RFC 7616) with the device credentials;
SOAP requests also carry a WS-Security UsernameToken (:mod:`adapters.onvif.wsse`). Before the first request the
device's clock is read (GetSystemDateAndTime, PRE_AUTH) so that ``wsu:Created`` is fresh by the device's time;
after a refusal of the credentials it is read again (a device's clock may have been reset).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from datetime import datetime
from typing import TypeVar

import httpx

from adapters.onvif.client import SLOW, Clock, SoapClient, SoapFaultError, utc_now
from adapters.onvif.media import camera_name, cameras, check_token, media_uri, read_profiles, stream_setup
from adapters.onvif.recordings import Found, find_recordings, replay_uri
from adapters.onvif.services import Services, find_services
from adapters.onvif.settings import OnvifSettings
from adapters.onvif.soapxml import Node, text_el
from adapters.onvif.uris import DeviceUris
from broker.adapterapi import (
    AdapterError,
    AuthFailed,
    DiscoveredCamera,
    Fetched,
    NotSupported,
    Recording,
    RtspSource,
    SystemSpec,
)

T = TypeVar("T")
JPEG_MAGIC = b"\xff\xd8\xff"
_DEVICE_FIELDS = (("Manufacturer", "manufacturer"), ("Model", "model"), ("FirmwareVersion", "firmware"),
                  ("SerialNumber", "serial"))  # fmt: skip


class OnvifAdapter:
    """ONVIF Profile S device or NVR (and Profile G recordings where offered)."""

    def __init__(self, spec: SystemSpec, *, environ: Mapping[str, str] | None = None, clock: Clock = utc_now) -> None:
        self.spec = spec
        self.settings = OnvifSettings.from_spec(spec.settings)
        self.uris = DeviceUris(spec.base_url, self.settings.media_hosts)
        password = self.settings.password(environ)
        self._credentials = (self.settings.username, password)
        self._http = httpx.AsyncClient(
            auth=httpx.DigestAuth(self.settings.username, password),
            timeout=httpx.Timeout(self.settings.timeout_seconds),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=4, keepalive_expiry=30),
            verify=self.settings.verify_tls if self.uris.scheme == "https" else False,
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": "camgate-onvif", "accept-encoding": "identity"},
        )
        self._soap = SoapClient(
            self._http, system=spec.id, username=self.settings.username, password=password,
            timeout=self.settings.timeout_seconds, max_bytes=self.settings.max_response_bytes, clock=clock,
        )  # fmt: skip
        self._services: Services | None = None
        self._clock_known = not self.settings.sync_clock
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"OnvifAdapter(system={self.spec.id!r}, device={self.uris.device_url!r})"

    # -- Discoverable ------------------------------------------------------------------------------------------
    async def discover(self) -> tuple[DiscoveredCamera, ...]:
        services = await self._ready()
        media = self._media_url(services)
        device = await self._device_information()
        answer = await self._call(media, "trt:GetProfiles")
        chosen = cameras(read_profiles(answer, self._soap.where("trt:GetProfiles")), self.settings.stream_choice)
        found: Found | AdapterError | None = None
        if self.settings.recordings and services.search is not None and services.replay is not None:
            try:
                found = await find_recordings(self._soap, services.search)
            except AdapterError as exc:  # recordings are extra: the cameras are listed all the same
                found = exc
        listed, taken = [], set[str]()
        for profile, others in chosen:
            details = dict(device)
            details.update(video_source=profile.source or "", profile=profile.name, encoding=profile.encoding or "?")
            if profile.resolution:
                details["resolution"] = profile.resolution
            if others:
                details["other_profiles"] = ",".join(p.token for p in others)
            name = camera_name(profile, taken)
            tokens = {profile.token, *(p.token for p in others), profile.source or ""}
            if found is not None:
                details.update(await self._recording_details(found, tokens, name, services))
            listed.append(DiscoveredCamera(ref=profile.token, name=name, details=details))
        return tuple(listed)

    # -- RtspCameraSystem ----------------------------------------------------------------------------------------
    async def rtsp_source(self, camera_ref: str) -> RtspSource:
        token = check_token(camera_ref)
        media = self._media_url(await self._ready())
        where = self._soap.where("trt:GetStreamUri")
        answer = await self._profile_call(media, "trt:GetStreamUri", token, stream_setup("trt"))
        url = self.uris.media_url(media_uri(answer, where), schemes=("rtsp", "rtsps"), what=f"{where}: stream")
        user, password = self._credentials
        return RtspSource(url, username=user, password=password, transport=self.settings.rtsp_transport)

    async def snapshot(self, camera_ref: str) -> Fetched:
        token = check_token(camera_ref)
        media = self._media_url(await self._ready())
        where = self._soap.where("trt:GetSnapshotUri")
        answer = await self._profile_call(media, "trt:GetSnapshotUri", token)
        url = self.uris.media_url(media_uri(answer, where), schemes=("http", "https"), what=f"{where}: snapshot")
        body = await self._get_snapshot(url, camera_ref)
        if not body.startswith(JPEG_MAGIC):
            raise AdapterError(f"system {self.spec.id!r} camera {camera_ref!r}: the snapshot is not a JPEG")
        return Fetched(body=body, content_type="image/jpeg", ref=camera_ref)

    async def recording(self, camera_ref: str, start: datetime, end: datetime) -> Recording:
        offered = self._services is not None and self._services.profile_g
        raise NotSupported(
            f"system {self.spec.id!r}: the onvif adapter does not replay device recordings through the gateway "
            "(ONVIF replay is RTSP with clock ranges, not segments); the gateway's rolling recording is used"
            + ("; the device's Profile G recordings are listed in its cameras' details" if offered else "")
        )

    async def resource(self, ref: str) -> Fetched:
        raise NotSupported(f"system {self.spec.id!r}: the onvif adapter serves no recorded segments")

    async def replay_source(self, recording_token: str) -> RtspSource:
        """Where a Profile G recording replays (GetReplayUri, checked like a stream URI), with the credentials."""
        services = await self._ready()
        if services.replay is None:
            raise NotSupported(f"system {self.spec.id!r}: the device offers no ONVIF Replay service")
        where = self._soap.where("trp:GetReplayUri")
        uri = await self._guard(replay_uri(self._soap, services.replay, check_token(recording_token)))
        url = self.uris.media_url(uri, schemes=("rtsp", "rtsps"), what=f"{where}: replay")
        user, password = self._credentials
        return RtspSource(url, username=user, password=password, transport="tcp")

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- internals -----------------------------------------------------------------------------------------------
    async def _ready(self) -> Services:
        async with self._lock:
            if not self._clock_known:
                await self._soap.learn_clock(self.uris.device_url)
                self._clock_known = True
            if self._services is None:
                self._services = await self._guard(find_services(self._soap, self.uris))
            return self._services

    def _media_url(self, services: Services) -> str:
        if services.media is None:
            raise AdapterError(
                f"system {self.spec.id!r}: the device offers no ONVIF Media (ver10) service ({services.source} "
                f"lists: {services.names()}); only Profile S devices are supported"
            )
        return services.media

    async def _guard(self, pending: Awaitable[T]) -> T:
        """``pending``'s result; a refusal of the credentials makes the next request read the device clock again
        (a stale ``wsu:Created`` after the device's clock was reset looks exactly like a wrong password)."""
        try:
            return await pending
        except AuthFailed:
            self._clock_known = not self.settings.sync_clock
            raise

    async def _call(self, url: str, operation: str, *children: str) -> Node:
        return await self._guard(self._soap.call(url, operation, *children))

    async def _profile_call(self, media: str, operation: str, token: str, *before: str) -> Node:
        try:
            return await self._call(media, operation, *before, text_el("trt:ProfileToken", token))
        except SoapFaultError as exc:
            if exc.fault.has("NoProfile"):
                where = self._soap.where(operation)
                raise AdapterError(f"{where}: the device has no profile {token!r}", status=404) from None
            raise

    async def _device_information(self) -> dict[str, str]:
        try:
            answer = await self._call(self.uris.device_url, "tds:GetDeviceInformation")
        except SoapFaultError:
            return {}
        return {key: text[:128] for tag, key in _DEVICE_FIELDS if (text := answer.path_text(tag))}

    async def _recording_details(
        self, found: Found | AdapterError, tokens: set[str], name: str, services: Services
    ) -> dict[str, str]:
        if isinstance(found, AdapterError):
            return {"recordings": f"unavailable: {found}"[:300]}
        mine = [r for r in found.recordings if r.belongs_to(tokens, name)]
        details = {"recordings": str(len(mine)) + ("" if found.complete else "+")}
        if not mine:
            return details
        details["recording_tokens"] = ",".join(r.token for r in mine[:10])
        if starts := [r.earliest for r in mine if r.earliest]:
            details["recorded_from"] = min(starts)
        if ends := [r.latest for r in mine if r.latest]:
            details["recorded_until"] = max(ends)
        try:
            await self.replay_source(mine[0].token)
            details["replay"] = "available (GetReplayUri)"
        except AdapterError as exc:
            details["replay"] = f"unavailable: {exc}"[:300]
        return details

    async def _get_snapshot(self, url: str, camera_ref: str) -> bytes:
        where = f"system {self.spec.id!r} camera {camera_ref!r} snapshot"
        cap = self.settings.max_snapshot_bytes
        try:
            async with asyncio.timeout(self.settings.timeout_seconds), self._http.stream("GET", url) as response:
                if response.status_code in (401, 403):
                    message = f"{where}: HTTP {response.status_code}: the device refused the credentials"
                    raise AuthFailed(message + "; check 'username' and the password", status=response.status_code)
                if response.status_code != 200:
                    raise AdapterError(f"{where}: HTTP {response.status_code}", status=response.status_code)
                chunks, total = [], 0
                async for chunk in response.aiter_bytes():
                    total += len(chunk)
                    if total > cap:
                        raise AdapterError(f"{where}: over the {cap}-byte cap")
                    chunks.append(chunk)
                return b"".join(chunks)
        except (TimeoutError, httpx.TimeoutException):
            message = f"{where}: no answer within {self.settings.timeout_seconds:g}s; {SLOW}"
            raise AdapterError(message, timeout=True) from None
        except httpx.HTTPError as exc:
            raise AdapterError(f"{where}: {type(exc).__name__}: {exc}") from None
