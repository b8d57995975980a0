"""The adapter interface: the only part of broker that vendor adapters (``adapters/``) may import.

A camera *system* (a VMS, a body-camera cloud, an in-car system) is reached through one adapter instance,
built from the system's inventory entry. The broker never hands an upstream URL or credential to a client:
adapters return bytes, and references the broker signs into its own URLs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


class AdapterError(Exception):
    """Upstream failed or misbehaved. ``status`` is the upstream status if there was one."""

    def __init__(self, message: str, *, status: int | None = None, timeout: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.timeout = timeout


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

    async def aclose(self) -> None: ...


class AdapterFactory(Protocol):
    def __call__(self, spec: SystemSpec) -> CameraSystemAdapter: ...
