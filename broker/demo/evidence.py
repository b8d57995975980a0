"""The demo's evidence folders: a body-camera clip made by ffmpeg at every start, with its export sidecar.

For each ``adapter: evidence`` system of the inventory, each of its cameras gets one fresh clip (H.264 and AAC,
the camera's name and recording time burnt in) that ended a minute before the demo started, with the sidecar
of the system's format (Digital Ally ``.mtd`` or camgate's generic ``.json``, see ``adapters/evidence``) and
GPS positions around the camera's site. The demo's clip from an earlier start is replaced; nothing else in the
folder is touched. Files are written under hidden names and renamed, as an export job should, so the broker
never takes a half-written clip.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from broker.demo.video import make_clip
from broker.documents import Inventory
from broker.documents.common import Location
from broker.errors import ConfigError

PREFIX = "demo-"
ENDED_AGO = timedelta(minutes=1)
Positions = list[tuple[datetime, float, float]]


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def digital_ally_mtd(device: str, start: datetime, end: datetime, positions: Positions) -> str:
    lines = [
        "# Digital Ally export sidecar written by camgate demo (format: adapters/evidence/vendors.py)",
        f"Unit Serial: {device}",
        "Unit Model: FirstVu HD",
        "Officer: Demo parking officer",
        "Officer ID: PB-17",
        f"Event Start: {_iso(start)}",
        f"Event End: {_iso(end)}",
    ]
    lines += [f"GPS: {_iso(at)}, {lat:.6f}, {lon:.6f}" for at, lat, lon in positions]
    return "\n".join(lines) + "\n"


def generic_json(device: str, start: datetime, end: datetime, positions: Positions) -> str:
    body = {
        "device": device,
        "officer": "Demo parking officer (PB-17)",
        "start": _iso(start),
        "end": _iso(end),
        "positions": [{"at": _iso(at), "lat": lat, "lon": lon} for at, lat, lon in positions],
    }
    return json.dumps(body, indent=1) + "\n"


WRITERS: dict[str, tuple[str, Callable[[str, datetime, datetime, Positions], str]]] = {
    "digital_ally": (".mtd", digital_ally_mtd),
    "generic": (".json", generic_json),
}


def _write(path: Path, make: Callable[[Path], object]) -> None:
    hidden = path.with_name(f".{path.name}")
    make(hidden)
    os.replace(hidden, path)


def write_clip(
    folder: Path, device: str, label: str, fmt: str, *, start: datetime, seconds: float, center: Location | None
) -> Path:
    """One clip of ``device`` recorded from ``start`` with its sidecar; the demo's older clip of it removed."""
    suffix, render = WRITERS[fmt]
    for old in folder.glob(f"{PREFIX}{device}-*"):
        old.unlink(missing_ok=True)
    name = f"{PREFIX}{device}-{start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    end = start + timedelta(seconds=seconds)
    positions: Positions = []
    if center is not None:  # a slow walk along the lot, a fix every 5 s
        positions = [
            (start + timedelta(seconds=t), center.lat + 0.00001 * t, center.lon + 0.000005 * t)
            for t in range(0, int(seconds), 5)
        ]
    caption = f"{label} - recorded {start.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    clip = folder / f"{name}.mp4"
    _write(clip, lambda p: make_clip(p, seconds=seconds, label=caption, size="640x360", rate=10))
    _write(folder / f"{name}{suffix}", lambda p: p.write_text(render(device, start, end, positions), encoding="utf-8"))
    return clip


def prepare_evidence(inventory: Inventory, now: datetime, *, seconds: float = 20.0) -> list[str]:
    """A fresh clip for every camera of every evidence system; one banner line per system."""
    sites = {s.id: s for s in inventory.sites}
    lines = []
    for system in inventory.systems:
        if system.adapter != "evidence":
            continue
        folder, fmt = (
            Path(str(system.settings.get("path", ""))).absolute(),
            str(system.settings.get("format", "generic")),
        )
        if fmt not in WRITERS:
            raise ConfigError(f"system {system.id}: the demo writes {' or '.join(WRITERS)} evidence, not {fmt!r}")
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"system {system.id}: cannot create evidence folder {folder}: {exc.strerror}") from None
        start = now - ENDED_AGO - timedelta(seconds=seconds)
        cameras = [c for c in inventory.cameras if c.system == system.id and c.ref]
        for cam in cameras:
            center = cam.location or sites[cam.site].location
            write_clip(folder, cam.ref or "", cam.name, fmt, start=start, seconds=seconds, center=center)
        lines.append(f"{system.id} at {folder} ({len(cameras)} clip(s) of {seconds:g} s, {fmt})")
    return lines
