"""The rig interface (see the package docstring) and the registry of rigs the contract suite runs."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from broker.adapterapi import SystemSpec

Fault = str | None  # None, "hang" or "malformed"
# An RtspCameraSystem or a CameraSystemAdapter, Discoverable when its kind ``lists``: each check uses only what
# the rig's kind says the system offers.
ContractAdapter = Any


@dataclass(frozen=True)
class RigEnv:
    workdir: Path  # a directory of the rig's own
    clip: Path  # H.264 in MPEG-TS for RTSP servers (tests.fakes.rtsp.build_rtsp_clip)


@dataclass(frozen=True)
class Rig:
    name: str
    system_id: str
    expected: tuple[tuple[str, str], ...]  # (ref, name) of the system's cameras: what discover() lists, in order
    missing_ref: str
    secret: str | None  # None: the system has no credentials (a folder)
    timeout_seconds: float | None  # None: nothing to time out (a folder)
    malformed: str  # a regex the error (or the reported problem) for a malformed answer must match
    build: Callable[..., ContractAdapter]
    set_fault: Callable[[Fault], None]
    window: tuple[datetime, datetime] | None = None  # when the recorded footage is (kinds that offer ``recording``)
    spec: SystemSpec | None = None  # what build() builds, for checks in another process (kinds that ask a folder)


Serves = Literal["rtsp", "hls"]
Asks = Literal["adapter", "stream", "folder"]


@dataclass(frozen=True)
class RigKind:
    """What a rig's system offers. Each check is parametrized with the rigs it applies to (:func:`rigs`), so a
    check a system cannot meet is not run for it, never skipped.

    ``asks`` is where the system is asked, and so where wrong credentials, silence and malformed answers show:
    ``"adapter"``: the adapter's own requests (AuthFailed, AdapterError(timeout=True), an AdapterError saying what
    was wrong); ``"stream"``: only the RTSP stream the broker's gateway opens (the adapter asks nothing): the
    broker answers 502 upstream_auth, 504 upstream_timeout or 502 upstream_error and its gateway status says
    why; ``"folder"``: a local folder: no credentials (an unreadable folder is an AdapterError naming it, never
    AuthFailed) and nothing to time out; a malformed file is skipped and reported (ReportsProblems).
    """

    name: str
    start: Callable[[RigEnv], AbstractContextManager[Rig]]
    serves: Serves = "rtsp"  # an RtspCameraSystem (the gateway makes HLS of it), or a CameraSystemAdapter ("hls")
    lists: bool = True  # Discoverable: discover() lists the cameras
    live: bool = True  # live video: rtsp_source(), or live_playlist() when it serves "hls"
    snapshot: bool = True  # snapshot() is the system's JPEG; False: NotSupported
    recording: bool = False  # recording() lists footage; False: NotSupported (an RTSP system: the gateway records)
    asks: Asks = "adapter"

    @property
    def records(self) -> bool:
        """Recorded footage plays through the broker: the system's own, or the gateway's rolling recording."""
        return self.recording or self.serves == "rtsp"


def _kinds() -> tuple[RigKind, ...]:
    from tests.adapters.contract import rig_axis, rig_evidence, rig_hikvision, rig_hls, rig_onvif, rig_rtsp

    return (rig_axis.KIND, rig_hikvision.KIND, rig_onvif.KIND, rig_rtsp.KIND, rig_hls.KIND, rig_evidence.KIND)


RIGS: dict[str, RigKind] = {kind.name: kind for kind in _kinds()}


def rigs(where: Callable[[RigKind], bool] = lambda kind: True) -> list[str]:
    """The names of the rigs whose kind satisfies ``where``, sorted."""
    return sorted(name for name, kind in RIGS.items() if where(kind))


def offering(capability: str) -> list[str]:
    """The names of the rigs whose system offers ``capability`` ("live", "snapshot", "recording", "records")."""
    return rigs(lambda kind: bool(getattr(kind, capability)))
