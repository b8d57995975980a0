"""The adapter interface: the only part of broker that vendor adapters (``adapters/``) may import.

A camera *system* (a VMS, a body-camera cloud, an in-car system) is reached through one adapter instance,
built from the system's inventory entry. The broker never hands an upstream URL or credential to a client:
adapters return bytes, and references the broker signs into its own URLs.

Recorded footage (contract §4 playback windows) is a listing, not bytes: :meth:`CameraSystemAdapter.recording`
returns the recorded segments placed in time, and the broker writes the VOD playlist itself (so nothing an
upstream playlist says reaches a player unchecked) and fetches each segment with :meth:`resource`.

Most IP cameras and NVRs speak RTSP, not HLS. Such an adapter implements :class:`RtspCameraSystem` instead: it
says where the camera's RTSP stream is (:meth:`RtspCameraSystem.rtsp_source`) and the broker's gateway repackages
it to HLS; the adapter never serves video bytes itself. An adapter that can list its system's cameras also
implements :class:`Discoverable` (inventory sync and health), and one whose parts can be wrong while the rest works
(an evidence folder's files) :class:`ReportsProblems` (health). Upstream secrets come from environment variables or
files only (:func:`read_secret`), never from the inventory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol, Self, runtime_checkable
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, ValidationError


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
    """The system cannot do this at all (e.g. it keeps no recordings the adapter can read, or, an evidence
    folder, has no live video). The broker answers 501 ``recording_unsupported``, ``live_unsupported`` or
    ``snapshot_unsupported``; never retried."""


class AuthFailed(AdapterError):
    """Upstream refused the configured credentials (HTTP or RTSP 401/403). Operators must fix the secret;
    the broker answers 502 ``upstream_auth`` and never says more than that to a viewer."""


class AdapterConfigError(ValueError):
    """The system's settings are unusable. ``setting`` (dotted, e.g. ``auth.password_env``) names the offending
    key of the system's inventory entry when there is one, ``system`` the system's id once the broker knows it;
    the message says both (``system 'x': setting 'auth.type': …``). The broker places the error at that key's
    line of the inventory from these attributes, never from the text."""

    def __init__(self, message: str, *, setting: str | None = None, system: str | None = None) -> None:
        text = f"setting {setting!r}: {message}" if setting is not None else message
        super().__init__(f"system {system!r}: {text}" if system is not None else text)
        self.setting = setting
        self.system = system
        self.detail = message  # without the setting and the system

    def in_system(self, system: str) -> AdapterConfigError:
        """The same error, naming ``system`` too."""
        return AdapterConfigError(self.detail, setting=self.setting, system=system)


def settings_error(exc: ValidationError) -> AdapterConfigError:
    """The first problem of a settings validation, naming the setting: ``setting 'auth.type': …``."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or None
    if err["type"] == "extra_forbidden":
        return AdapterConfigError("unknown key (not a setting of this adapter)", setting=where)
    return AdapterConfigError(str(err["msg"]).removeprefix("Value error, "), setting=where)


class AdapterSettings(BaseModel):
    """Base of an adapter's settings model: frozen, an unknown key refused (``extra="forbid"``: a misspelt
    setting must not be ignored), built by :meth:`from_spec`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def from_spec(cls, settings: Mapping[str, Any]) -> Self:
        """Validate ``settings``; :class:`AdapterConfigError` names the first offending setting."""
        try:
            return cls.model_validate(dict(settings))
        except ValidationError as exc:
            raise settings_error(exc) from None


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


@dataclass(frozen=True, slots=True)
class RtspSource:
    """Where a camera's RTSP stream is (RFC 2326 / RFC 7826). ``url`` carries no credentials; they are kept
    apart so that nothing that prints a source (logs, errors, reprs) can print the password."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    transport: Literal["tcp", "udp"] = "tcp"

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("rtsp", "rtsps") or not parts.hostname:
            raise AdapterError(f"not an rtsp:// URL: {self.redacted()}")
        if parts.username is not None or parts.password is not None:
            raise AdapterError(f"credentials belong in username/password, not in the URL: {self.redacted()}")

    def redacted(self) -> str:
        """Scheme, host, port and path only: safe for operators' logs (no userinfo, no query)."""
        parts = urlsplit(self.url)
        host = parts.hostname or "?"
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    def with_credentials(self) -> str:
        """The URL with percent-encoded userinfo (RFC 3986 §3.2.1), for the RTSP client process only."""
        if self.username is None:
            return self.url
        parts = urlsplit(self.url)
        userinfo = quote(self.username, safe="")
        if self.password is not None:
            userinfo += ":" + quote(self.password, safe="")
        return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, ""))


@dataclass(frozen=True, slots=True)
class DiscoveredCamera:
    """A camera (or NVR channel, or evidence device) as its own system lists it."""

    ref: str  # what the inventory's camera ``ref`` must say to reach it
    name: str
    details: Mapping[str, str] = field(default_factory=dict)  # model, serial, channel number, ...


def read_secret(
    setting: str, *, env: str | None = None, file: str | None = None, environ: Mapping[str, str] | None = None
) -> str:
    """A secret from the environment variable ``env`` or the file ``file`` (exactly one; a file's trailing
    newline is dropped). :class:`AdapterConfigError` names ``setting``, never the value."""
    if (env is None) == (file is None):
        raise AdapterConfigError(f"give exactly one of '{setting}_env' or '{setting}_file'", setting=setting)
    if env is not None:
        value = (os.environ if environ is None else environ).get(env)
        if not value:
            raise AdapterConfigError(f"environment variable {env!r} is not set", setting=f"{setting}_env")
        return value
    assert file is not None
    try:
        value = Path(file).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as exc:
        raise AdapterConfigError(f"cannot read {file!r}: {exc.strerror}", setting=f"{setting}_file") from None
    except UnicodeDecodeError:
        raise AdapterConfigError(f"{file!r} is not UTF-8 text", setting=f"{setting}_file") from None
    if not value:
        raise AdapterConfigError(f"{file!r} is empty", setting=f"{setting}_file")
    return value


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


@runtime_checkable
class RtspCameraSystem(Protocol):
    """A system whose live video is RTSP: the broker's gateway turns :meth:`rtsp_source` into HLS (shared by
    every viewer of the camera) and keeps the rolling recording used when :meth:`recording` raises
    :class:`NotSupported`."""

    spec: SystemSpec

    async def rtsp_source(self, camera_ref: str) -> RtspSource:
        """The camera's live stream. Raises ``AdapterError`` (``status=404``: no such camera)."""
        ...

    async def snapshot(self, camera_ref: str) -> Fetched:
        """A current JPEG of the camera."""
        ...

    async def recording(self, camera_ref: str, start: datetime, end: datetime) -> Recording:
        """As :meth:`CameraSystemAdapter.recording`; refs are served by :meth:`resource`."""
        ...

    async def resource(self, ref: str) -> Fetched:
        """A recorded segment named by a ref from :meth:`recording` (``NotSupported`` if there are none)."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Discoverable(Protocol):
    """A system that can list its own cameras (inventory sync, health)."""

    async def discover(self) -> tuple[DiscoveredCamera, ...]:
        """Every camera the system offers. Raises :class:`AuthFailed` for refused credentials and
        ``AdapterError`` (``timeout=True`` on a timeout) when the system cannot be asked."""
        ...


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one part of a camera system while the rest works, for operators.

    ``subject`` names the part within the system (a file by its path relative to an evidence folder; empty for
    the system as a whole); ``message`` says what is wrong and what to do. Neither holds a secret or a path
    outside the system's own configured location (no cache or temporary directory)."""

    subject: str
    message: str


@dataclass(frozen=True, slots=True)
class ProblemReport:
    """The problems found at the system's last look (``checked_at``, aware; None: not looked at yet)."""

    checked_at: datetime | None
    problems: tuple[Problem, ...] = ()


@runtime_checkable
class ReportsProblems(Protocol):
    """A system whose parts can fail one by one (health: ``GET /api/v1/systems``)."""

    async def problems(self) -> ProblemReport:
        """What was wrong at the last look, returned at once: never waits on the system (it may start the
        adapter's own watching, whose next look a later call shows)."""
        ...


class AdapterFactory(Protocol):
    def __call__(self, spec: SystemSpec) -> CameraSystemAdapter | RtspCameraSystem: ...
