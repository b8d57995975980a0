"""A fake process launcher for the gateway's supervision tests: each "ffmpeg" writes segments only when told.

launcher = FakeLauncher()
gateway = Gateway(cfg, tmp_path, clock, launcher=launcher, ffmpeg="ffmpeg")
proc = launcher.started[-1]
proc.emit(clock.now())          # a 1-second segment and ffmpeg's playlist, as the hls muxer writes them
proc.crash("401 Unauthorized")  # the process ends with that message
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from broker.adapterapi import RtspSource

_pids = itertools.count(50_000)
_numbers = itertools.count(1_796_000_000_000_000)


class FakeProcess:
    def __init__(
        self, argv: Sequence[str], env: Mapping[str, str], directory: Path, redact: Callable[[str], str]
    ) -> None:
        self.argv, self.env, self.directory, self.redact = list(argv), dict(env), directory, redact
        self.pid = next(_pids)
        self.code: int | None = None
        self.message: str | None = None
        self.stubborn = False  # ignores SIGTERM
        self.terminated = self.killed = False
        self.listed: list[tuple[str, datetime, float]] = []

    def poll(self) -> int | None:
        return self.code

    def terminate(self) -> None:
        self.terminated = True
        if not self.stubborn:
            self.code = -15

    def kill(self) -> None:
        self.killed = True
        self.code = -9

    def error(self) -> str | None:
        return self.redact(self.message) if self.message else None

    def emit(self, start: datetime, duration: float = 1.0) -> str:
        """Write one segment and ffmpeg's playlist of the newest six (EXTINF before PROGRAM-DATE-TIME)."""
        name = f"s{next(_numbers)}.ts"
        (self.directory / name).write_bytes(b"\x47" + bytes(187))
        self.listed = [*self.listed, (name, start, duration)][-6:]
        lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-TARGETDURATION:1", "#EXT-X-MEDIA-SEQUENCE:0"]
        for seg, at, length in self.listed:
            lines += [
                f"#EXTINF:{length:.6f},",
                f"#EXT-X-PROGRAM-DATE-TIME:{at.isoformat(timespec='milliseconds')}",
                seg,
            ]
        (self.directory / "live.m3u8").write_text("\n".join(lines) + "\n")
        return name

    def crash(self, message: str, code: int = 1) -> None:
        self.message, self.code = message, code


class FakeLauncher:
    def __init__(self) -> None:
        self.started: list[FakeProcess] = []
        self.cameras: list[str] = []  # the camera each start was for (what its log lines name)
        self.fail: OSError | None = None

    def __call__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        directory: Path,
        redact: Callable[[str], str],
        *,
        camera: str = "",
    ) -> FakeProcess:
        self.cameras.append(camera)
        if self.fail is not None:
            raise self.fail
        proc = FakeProcess(argv, env, directory, redact)
        self.started.append(proc)
        return proc

    def alive(self) -> list[FakeProcess]:
        return [p for p in self.started if p.code is None]


class FakeOwner:
    """A system's adapter as the gateway sees it."""

    def __init__(self, system_id: str = "lot", record: str | tuple[str, ...] = "on_demand") -> None:
        from broker.gateway.gateway import next_serial

        self.serial = next_serial()
        self.system_id = system_id
        self.record = record
        self.asked: list[str] = []

    async def source(self, ref: str) -> RtspSource:
        self.asked.append(ref)
        return RtspSource(f"rtsp://10.0.0.9:554/{ref}", username="admin", password="hunter2-secret")
