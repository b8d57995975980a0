"""The rig interface (see the package docstring) and the registry of rigs the contract suite runs."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from broker.adapterapi import Discoverable, RtspCameraSystem

Fault = str | None  # None, "hang" or "malformed"


class ContractAdapter(RtspCameraSystem, Discoverable, Protocol):
    """What the contract checks: an RTSP camera system that lists its cameras."""


@dataclass(frozen=True)
class RigEnv:
    workdir: Path  # a directory of the rig's own
    clip: Path  # H.264 in MPEG-TS for RTSP servers (tests.fakes.rtsp.build_rtsp_clip)


@dataclass(frozen=True)
class Rig:
    name: str
    system_id: str
    expected: tuple[tuple[str, str], ...]
    missing_ref: str
    secret: str
    timeout_seconds: float
    malformed: str
    build: Callable[..., ContractAdapter]
    set_fault: Callable[[Fault], None]


@dataclass(frozen=True)
class RigKind:
    name: str
    start: Callable[[RigEnv], AbstractContextManager[Rig]]
    live: bool = True  # rtsp_source() gives live H.264 over RTSP
    snapshot: bool = True  # snapshot() gives a JPEG
    recording: bool = False  # recording() lists footage; False: it raises NotSupported (the gateway records)


def _kinds() -> tuple[RigKind, ...]:
    from tests.adapters.contract import rig_axis, rig_hikvision, rig_onvif

    return (rig_axis.KIND, rig_hikvision.KIND, rig_onvif.KIND)


RIGS: dict[str, RigKind] = {kind.name: kind for kind in _kinds()}


def offering(capability: str) -> list[str]:
    """The names of the rigs whose system offers ``capability`` ("live", "snapshot", "recording")."""
    return [name for name, kind in RIGS.items() if getattr(kind, capability)]
