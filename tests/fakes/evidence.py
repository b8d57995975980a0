"""An evidence folder as a vendor's export job fills it: real MP4 clips (made once by ffmpeg) and sidecars.

``EvidenceFolder(path, clip)`` drops clips of a device with the sidecar of any format::

    folder.drop("stop-1", "FV-0003", start, fmt="digital_ally", positions=[(start, 41.1468, -73.4946)])

Sidecars are written first, the clip renamed into place last (an export job's order); ``clip_bytes`` drops
anything as the clip (a truncated file, a playlist posing as video).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from broker.demo.video import make_clip

CLIP_SECONDS = 6.0  # 1-second key frames: six 1-second or three 2-second segments


def make_test_clip(directory: Path, *, seconds: float = CLIP_SECONDS, label: str = "evidence test") -> Path:
    return make_clip(directory / "source.mp4", seconds=seconds, label=label, size="320x180", rate=10)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def sidecar(fmt: str, device: str, start: datetime, seconds: float, positions: list[tuple[datetime, float, float]],
            officer: str = "Rivera, A.") -> tuple[str, str]:  # fmt: skip
    """(suffix, text) of the sidecar of ``fmt`` for a clip of ``device`` recorded from ``start``."""
    end = start + timedelta(seconds=seconds)
    if fmt == "generic":
        body = {"device": device, "officer": officer, "start": _iso(start), "end": _iso(end),
                "positions": [{"at": _iso(at), "lat": lat, "lon": lon} for at, lat, lon in positions]}  # fmt: skip
        return ".json", json.dumps(body)
    if fmt == "axon":
        body = {"evidence_id": "NC-26-01433", "title": "Traffic stop", "recorded_on": _iso(start),
                "duration_seconds": seconds, "device": {"model": "Axon Body 3", "serial": device},
                "owner": {"name": officer, "badge_id": "4411"},
                "location_tags": [{"time": _iso(at), "latitude": lat, "longitude": lon} for at, lat, lon in positions]}  # fmt: skip
        return ".axon.json", json.dumps(body)
    if fmt == "digital_ally":
        lines = [f"Unit Serial: {device}", "Unit Model: FirstVu HD", f"Officer: {officer}", "Officer ID: 4411",
                 f"Event Start: {_iso(start)}", f"Event End: {_iso(end)}"]  # fmt: skip
        lines += [f"GPS: {_iso(at)}, {lat}, {lon}, 3" for at, lat, lon in positions]
        return ".mtd", "\n".join(lines) + "\n"
    if fmt == "arbitrator":
        source, _, camera = device.rpartition("-")
        gps = "".join(
            f'<GPS Time="{_iso(at)}" Latitude="{lat}" Longitude="{lon}" Speed="0"/>' for at, lat, lon in positions
        )
        return ".xml", (f'<ArbitratorVideo><Recording StartTime="{_iso(start)}" EndTime="{_iso(end)}" Area="Central" '
                        f'Source="{source}" Camera="{camera}"/><Officer1 UserID="4411" Name="{officer}"/>{gps}</ArbitratorVideo>')  # fmt: skip
    raise ValueError(fmt)


@dataclass
class EvidenceFolder:
    path: Path
    clip: Path  # a real MP4 clip, copied for each drop

    def drop(self, name: str, device: str, start: datetime, *, fmt: str = "generic", seconds: float = CLIP_SECONDS,
             positions: list[tuple[datetime, float, float]] | None = None, clip_bytes: bytes | None = None,
             metadata: str | None = None, age: float = 0.0) -> Path:  # fmt: skip
        """Put ``name.mp4`` and its sidecar in the folder; ``age`` seconds sets both modification times back."""
        suffix, text = sidecar(fmt, device, start, seconds, positions or [])
        target = self.path / f"{name}.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        side = target.with_name(f"{target.stem}{suffix}")
        side.write_text(text if metadata is None else metadata, encoding="utf-8")
        hidden = target.with_name(f".{target.name}")
        if clip_bytes is None:
            shutil.copyfile(self.clip, hidden)
        else:
            hidden.write_bytes(clip_bytes)
        os.replace(hidden, target)
        if age:
            then = datetime.now(UTC).timestamp() - age
            for path in (side, target):
                os.utime(path, (then, then))
        return target
