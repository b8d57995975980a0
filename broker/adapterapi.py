"""The adapter interface: the only part of broker that vendor adapters (``adapters/``) may import.

A camera *system* (a VMS, a body-camera cloud, an in-car system) is reached through one adapter instance,
built from the system's inventory entry. The broker never hands an upstream URL or credential to a client:
adapters return bytes, and references the broker signs into its own URLs.

Recorded footage (contract §4 playback windows) is a listing, not bytes: :meth:`CameraSystemAdapter.recording`
returns the recorded segments placed in time, and the broker writes the VOD playlist itself (so nothing an
upstream playlist says reaches a player unchecked) and fetches each segment with :meth:`resource`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable


class AdapterError(Exception):
    """Upstream failed or misbehaved. ``status`` is the upstream status if there was one."""

    def __init__(self, message: str, *, status: int | None = None, timeout: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.timeout = timeout


class RefusedPlaylist(AdapterError):
    """An upstream playlist that is unsafe or cannot be understood (a URI outside the system, a malformed tag);
    the message says what and where, for operators. The broker answers 502 ``hostile_playlist``."""


class NotSupported(AdapterError):
    """The system cannot do this at all (e.g. it keeps no recordings the adapter can read). The broker answers
    501 ``recording_unsupported`` for recordings; never retried."""


class AdapterConfigError(ValueError):
    """The system's settings are unusable; the message names the setting."""


@dataclass(frozen=True, slots=True)
class SystemSpec:
    """A camera system's inventory entry as the adapter sees it."""

    id: str
    adapter: str
    base_url: str | None
    settings: Mapping[str, Any]  # every key of the system entry beyond id/owner/adapter/base_url


@dataclass(frozen=True, slots=True)
class Fetched:
    """An upstream answer. ``ref`` is the upstream-relative reference it was fetched by."""

    body: bytes
    content_type: str
    ref: str


@dataclass(frozen=True, slots=True)
class RecordedSegment:
    """One recorded media segment placed in time (RFC 8216 §4.3.2.6 EXT-X-PROGRAM-DATE-TIME, §4.3.2.1 EXTINF)."""

    ref: str  # for resource(); produced by the adapter's own URI checks, like resolve()
    start: datetime  # aware: the date and time of the segment's first sample
    duration: float  # seconds, > 0
    discontinuity: bool = False  # the timeline or encoding changes before this segment (§4.3.2.3)
    init_ref: str | None = None  # its media initialization section (§4.3.2.5 EXT-X-MAP), if any

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration)


@dataclass(frozen=True, slots=True)
class Recording:
    """Recorded segments of a camera, oldest first, non-overlapping; ``target_duration`` bounds each one."""

    segments: tuple[RecordedSegment, ...]
    target_duration: float


def starting_within(
    segments: tuple[RecordedSegment, ...], start: datetime, end: datetime
) -> tuple[RecordedSegment, ...]:
    """The segments that start in ``[start, end)``: footage served never begins before ``start``.

    A segment is indivisible, so one in progress at ``start`` is left out (it holds earlier footage) and the
    last one listed may run past ``end``. The broker applies this again to whatever an adapter returns.
    """
    return tuple(s for s in segments if start <= s.start < end)


@runtime_checkable
class CameraSystemAdapter(Protocol):
    """One instance per camera system. All methods are async and safe to call concurrently."""

    spec: SystemSpec

    async def live_playlist(self, camera_ref: str) -> Fetched:
        """The camera's live HLS playlist (master or media)."""
        ...

    async def resource(self, ref: str) -> Fetched:
        """A segment, a sub-playlist, an init section or key named by ``ref``.

        ``ref`` is a reference produced by :meth:`resolve`; the adapter must refuse (``AdapterError``) any
        ref that does not lie within its own system.
        """
        ...

    def resolve(self, base_ref: str, uri: str) -> str:
        """Resolve a URI found in the playlist fetched as ``base_ref`` to a system-relative ref.

        Raises ``AdapterError`` for a URI outside the system (another host, scheme, or a path escaping the
        system's base): that is how the broker refuses hostile playlists (no SSRF).
        """
        ...

    async def snapshot(self, camera_ref: str) -> Fetched:
        """A current JPEG of the camera."""
        ...

    async def recording(self, camera_ref: str, start: datetime, end: datetime) -> Recording:
        """The camera's recorded segments that start in ``[start, end)`` (see :func:`starting_within`).

        Empty when nothing was recorded then. Raises :class:`NotSupported` when the system keeps no recordings
        the adapter can read, :class:`RefusedPlaylist` for an unsafe or malformed listing, ``AdapterError``
        when the upstream fails (``status=404``: nothing recorded for this camera).
        """
        ...

    async def aclose(self) -> None: ...


class AdapterFactory(Protocol):
    def __call__(self, spec: SystemSpec) -> CameraSystemAdapter: ...
