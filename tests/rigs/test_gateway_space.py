"""Issue 12, reproduction 1, last part: the gateway's rolling recording (``record: always``) lives on the audit
database's volume and "refilled freed space within seconds".

Two RTSP cameras are recorded always onto the broker's data folder, an 8 MB tmpfs shared with the SQLite audit
log (reserve 512 KiB). Before, once a filler left 2 MiB free, the recording took it all within seconds and the
audit log stopped serving (free space under its reserve). Now the gateway keeps twice the reserve free: it gives
its oldest footage up while the cameras write more than was free, then, the disk fuller still, pauses recording
always, and records again once the space is back. Throughout, ``/readyz`` stays 200 and the free space never
falls under the reserve.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

import httpx
import imageio_ffmpeg
import pytest

from tests.fakes.rtsp import FakeRtspCamera
from tests.gateway.rig import PASSWORD, USER, rtsp_broker
from tests.rigs.volume import tmpfs
from tests.waiting import wait_for

pytestmark = [pytest.mark.video, pytest.mark.rig]
RESERVE = 512 * 1024  # the gateway keeps twice this free
LEFT = 2 * 1024 * 1024
GATEWAY = {"retention_seconds": 600, "segment_seconds": 0.5, "list_size": 3}


def dense_clip(directory: Path) -> Path:
    """A picture of high quality (about 160 KB/s, a keyframe every half second): seconds fill the space left."""
    path = directory / "dense.ts"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=10,format=yuv420p",
            "-t",
            "10",
            "-c:v",
            "libx264",
            "-profile:v",
            "baseline",
            "-g",
            "5",
            "-keyint_min",
            "5",
            "-sc_threshold",
            "0",
            "-qp",
            "10",
            "-f",
            "mpegts",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path


def test_recording_always_on_the_audit_volume_gives_up_old_footage_then_pauses_never_the_audit_reserve(
    tmp_path: Path,
) -> None:
    with (
        FakeRtspCamera(dense_clip(tmp_path), mounts=("/cam1", "/cam2"), username=USER, password=PASSWORD) as camera,
        tmpfs(tmp_path / "data", "8m") as volume,
        rtsp_broker(
            tmp_path,
            camera,
            gateway_block={"record": "always"},
            settings={"audit": {"reserve_bytes": RESERVE}},
            gateway=GATEWAY,
        ) as rig,
    ):
        gateway = rig.gateway
        streams = lambda: list(gateway._streams.values())  # noqa: E731
        wait_for(lambda: len(streams()) == 2 and all(len(s.index) >= 2 for s in streams()), 60, "both recording")
        written: dict[str, int] = {}  # every segment file seen, with its size
        lowest, unready = volume.free, []

        def watch() -> None:
            nonlocal lowest
            for stream in streams():
                for path in stream.directory.glob("*.ts"):
                    with contextlib.suppress(FileNotFoundError):  # deleted meanwhile
                        written.setdefault(f"{stream.key}/{path.name}", path.stat().st_size)
            lowest = min(lowest, volume.free)
            ready = httpx.get(f"{rig.url}/readyz", timeout=5)
            if ready.status_code != 200:
                unready.append(ready.json()["audit"])

        def watching(done: object) -> bool:
            watch()
            return bool(unready) or bool(done() if callable(done) else done)

        # 1. The cameras write more than was left: the oldest footage goes.
        volume.fill(leave=LEFT)
        before = sum(written.values())
        wait_for(
            lambda: watching(lambda: sum(written.values()) - before >= LEFT + RESERVE),
            60,
            "the cameras to write more than was left",
            interval=0.2,
        )
        assert not unready, f"the recording took the audit's reserve: {unready[0]}"
        assert gateway._paused_need is None and all(s.process is not None for s in streams())  # still recording
        shed = sum(written.values()) - sum(path.stat().st_size for s in streams() for path in s.directory.glob("*.ts"))
        assert shed > RESERVE

        # 2. Something else keeps taking what the gateway frees: its footage runs out, recording always pauses.
        def crowded() -> bool:
            volume.fill(leave=RESERVE + RESERVE // 2)
            return not any(s.process for s in streams())

        wait_for(lambda: watching(crowded), 30, "recording always to pause", interval=0.2)
        assert not unready, f"the recording took the audit's reserve: {unready[0]}"
        assert gateway._paused_need is not None

        # 3. Space is back: recording always again.
        volume.unfill()
        back = time.monotonic()
        wait_for(
            lambda: watching(lambda: all(s.process for s in streams())), 30, "recording always again", interval=0.2
        )
        resumed = time.monotonic() - back
        assert not unready and lowest >= RESERVE, (unready, lowest)
        assert rig.services.audit.probe() is True
        assert rig.get(rig.live_url("saxe-rtsp-01")).status_code == 200
    print(
        f"gateway on the audit volume: {sum(written.values())} bytes written, {shed} shed, lowest free {lowest} "
        f"(reserve {RESERVE}), recording again {resumed:.1f} s after space came back"
    )
