"""The generic HLS adapter: live playlists, segments, snapshots and recordings from one HTTP origin.

One pooled :class:`httpx.AsyncClient` per system. Requests never follow redirects (a redirect could leave the
system and bypass :class:`~adapters.hls.paths.UriPolicy`), never read proxy or ``.netrc`` settings from the
environment, and stream bodies under a size cap and an overall deadline (a slow-drip upstream cannot hold a
broker worker longer than ``timeout_seconds``).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from datetime import datetime

import httpx

from adapters.hls.paths import UriPolicy
from adapters.hls.recording import parse_recording
from adapters.hls.settings import HlsSettings
from broker.adapterapi import (
    AdapterError,
    AuthFailed,
    Fetched,
    NotSupported,
    Recording,
    RefusedPlaylist,
    SystemSpec,
    starting_within,
)

# RFC 8216 section 4: playlist media types (and section 4's legacy .m3u extension).
PLAYLIST_TYPES = frozenset({"application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl"})
PLAYLIST_SUFFIXES = (".m3u8", ".m3u")
JPEG_MAGIC = b"\xff\xd8\xff"


@functools.cache
def _verifying_context() -> ssl.SSLContext:
    """One certificate-verifying TLS context for every system (loading the CA bundle costs ~13 ms, so a
    context per system made a 100-system inventory take 1.3 s longer to load); SSLContext is thread-safe."""
    return httpx.create_ssl_context()


def _verify(base_url: str, verify_tls: bool) -> ssl.SSLContext | bool:
    if not verify_tls:
        return False
    if base_url.lower().startswith("http://"):
        return False  # plain HTTP: no TLS to verify, no CA bundle to load
    return _verifying_context()


def _media_type(response: httpx.Response) -> str:
    value = response.headers.get("content-type", "application/octet-stream")
    return value.split(";", 1)[0].strip().lower() or "application/octet-stream"


class HlsAdapter:
    """:class:`broker.adapterapi.CameraSystemAdapter` for a plain HLS origin."""

    def __init__(self, spec: SystemSpec) -> None:
        self.spec = spec
        self.settings = HlsSettings.from_spec(spec.settings)
        self.uris = UriPolicy(spec.base_url)
        auth = self.settings.build_auth()
        self._client = httpx.AsyncClient(
            auth=auth,
            timeout=httpx.Timeout(self.settings.timeout_seconds),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16, keepalive_expiry=30),
            verify=_verify(self.uris.base_url, self.settings.verify_tls),
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": "camgate-hls", "accept-encoding": "identity"},
        )

    def __repr__(self) -> str:
        return f"HlsAdapter(system={self.spec.id!r}, base_url={self.uris.base_url!r})"

    async def live_playlist(self, camera_ref: str) -> Fetched:
        ref = self.uris.camera_path(self.settings.live_path, camera_ref)
        return await self._get(ref, self.settings.max_playlist_bytes)

    async def resource(self, ref: str) -> Fetched:
        self.uris.check_ref(ref)  # defence in depth: refs arrive inside signed tokens, check anyway
        is_playlist = ref.split("?", 1)[0].lower().endswith(PLAYLIST_SUFFIXES)
        cap = self.settings.max_playlist_bytes if is_playlist else self.settings.max_segment_bytes
        return await self._get(ref, cap)

    def resolve(self, base_ref: str, uri: str) -> str:
        return self.uris.resolve(base_ref, uri)

    async def snapshot(self, camera_ref: str) -> Fetched:
        ref = self.uris.camera_path(self.settings.snapshot_path, camera_ref)
        fetched = await self._get(ref, self.settings.max_segment_bytes)
        if not fetched.body.startswith(JPEG_MAGIC):
            raise AdapterError(f"{self._where(ref)}: snapshot is not a JPEG")
        return Fetched(body=fetched.body, content_type="image/jpeg", ref=ref)

    async def recording(self, camera_ref: str, start: datetime, end: datetime) -> Recording:
        """The segments of ``recording_path`` that start in ``[start, end)``, placed by their program date-time."""
        if self.settings.recording_path is None:
            raise NotSupported(f"system {self.spec.id!r} has no recording_path: it keeps no recordings")
        ref = self.uris.camera_path(self.settings.recording_path, camera_ref)
        fetched = await self._get(ref, self.settings.max_playlist_bytes)
        if fetched.content_type not in PLAYLIST_TYPES and not ref.split("?", 1)[0].endswith(PLAYLIST_SUFFIXES):
            raise AdapterError(f"{self._where(ref)}: recording is {fetched.content_type}, not a playlist")
        try:
            recording = parse_recording(fetched.body, base_ref=fetched.ref, resolve=self.uris.resolve)
        except RefusedPlaylist as exc:  # the line and the reason, and whose playlist it was, for operators
            raise RefusedPlaylist(f"{self._where(ref)}: {exc}") from None
        return Recording(starting_within(recording.segments, start, end), recording.target_duration)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _where(self, ref: str) -> str:
        return f"system {self.spec.id!r} ref {ref!r}"

    def _refused(self, status: int) -> str:
        auth = self.settings.auth
        if auth is None:
            return f"the origin asks for credentials (HTTP {status}); set auth with a username and password_env"
        if status == 403:
            return f"the origin refused user {auth.username!r} (HTTP 403); give the account access to these paths"
        return (f"the origin refused user {auth.username!r} (HTTP 401); check auth.username and the password in "
                f"{auth.password_env!r}")  # fmt: skip

    async def _get(self, ref: str, cap: int) -> Fetched:
        url = self.uris.url(ref)
        try:
            async with asyncio.timeout(self.settings.timeout_seconds):
                return await self._stream(url, ref, cap)
        except (TimeoutError, httpx.TimeoutException):
            raise AdapterError(
                f"{self._where(ref)}: no answer within {self.settings.timeout_seconds:g}s", timeout=True
            ) from None
        except httpx.HTTPError as exc:
            raise AdapterError(f"{self._where(ref)}: {type(exc).__name__}: {exc}") from None

    async def _stream(self, url: str, ref: str, cap: int) -> Fetched:
        async with self._client.stream("GET", url) as response:
            if response.status_code in (401, 403):  # RFC 9110 §15.5.2, §15.5.4: the credentials, not the request
                raise AuthFailed(
                    f"{self._where(ref)}: {self._refused(response.status_code)}", status=response.status_code
                )
            if response.status_code != 200:
                raise AdapterError(
                    f"{self._where(ref)}: upstream answered HTTP {response.status_code}",
                    status=response.status_code,
                )
            content_type = _media_type(response)
            if content_type in PLAYLIST_TYPES:
                cap = min(cap, self.settings.max_playlist_bytes)
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise AdapterError(f"{self._where(ref)}: {declared} bytes declared, over the {cap}-byte cap")
            chunks: list[bytes] = []
            total = 0
            async for chunk in response.aiter_bytes():
                total += len(chunk)
                if total > cap:
                    raise AdapterError(f"{self._where(ref)}: body over the {cap}-byte cap")
                chunks.append(chunk)
        return Fetched(body=b"".join(chunks), content_type=content_type, ref=ref)
