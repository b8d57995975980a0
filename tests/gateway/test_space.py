"""The gateway keeps the audit log's share of the disk free (broker/gateway/space.py), on a fake clock and a fake
launcher: the oldest recorded segments of every camera go first, never a running camera's live window; then
recording always pauses, until the room it took is free again."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from broker.clock import FakeClock
from broker.gateway.gateway import Gateway
from broker.gateway.space import DiskGuard
from broker.settings import GatewaySettings
from tests.gateway.fakes import FakeLauncher, FakeOwner
from tests.gateway.test_supervisor import step

CFG = GatewaySettings(retention_seconds=600, list_size=3, max_processes=4)
SEGMENT = 188  # bytes of each segment the fake ffmpeg writes


class FakeDisk(DiskGuard):
    """A disk of ``capacity`` bytes holding only the gateway's segments; ``keep_free`` of it kept free."""

    def __init__(self, capacity: int, keep_free: int) -> None:
        super().__init__(keep_free, Path("/audit.db"))
        self.capacity = capacity

    def free(self, work: Path) -> int | None:
        return self.capacity - sum(p.stat().st_size for p in work.rglob("*.ts"))


def segments(gateway: Gateway) -> dict[str, list[str]]:
    return {s.ref: sorted(p.name for p in s.directory.glob("*.ts")) for s in gateway._streams.values()}


def test_the_oldest_footage_of_every_camera_goes_first_then_recording_always_pauses_until_space_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock, launcher = FakeClock(), FakeLauncher()
    disk = FakeDisk(capacity=30 * SEGMENT, keep_free=10 * SEGMENT)  # room for 20 segments
    gateway = Gateway(CFG, tmp_path / "gw", clock, launcher=launcher, ffmpeg="/opt/ffmpeg", disk=disk)
    owner = FakeOwner("rec", "always")
    gateway.bind(systems=lambda: [owner], cameras=lambda system: ["a", "b"])

    async def scenario() -> None:
        await gateway.tick()
        await step(gateway, clock, 8)  # 16 segments: enough room
        assert [len(names) for names in segments(gateway).values()] == [8, 8]
        await step(gateway, clock, 12)  # 40 written: only 20 may stay
        kept = segments(gateway)
        assert [len(names) for names in kept.values()] == [10, 10]  # the oldest of both went, in turn
        assert disk.shortfall(gateway.root) == 0
        for stream in gateway._streams.values():  # what is left is the newest, and the index agrees
            assert [s.name for s in stream.index.segments] == kept[stream.ref]
            assert stream.index.segments[-1].start == clock.now()
        # The disk fills from elsewhere: the recording shrinks to the live windows, never below.
        disk.capacity = 16 * SEGMENT  # room for the two live windows
        await step(gateway, clock, 2)
        assert [len(names) for names in segments(gateway).values()] == [CFG.list_size, CFG.list_size]
        assert all(s.process is not None for s in gateway._streams.values())  # still recording
        # Less still: recording always pauses, its cameras stop (nobody watches), and their windows may go too.
        disk.capacity = 12 * SEGMENT
        await step(gateway, clock, 2)
        assert not launcher.alive()
        assert sum(len(names) for names in segments(gateway).values()) == 2  # what the room left holds
        assert "recording always paused" in caplog.text
        await step(gateway, clock, 3)
        assert not launcher.alive()  # not started again while the room it took is not back
        # Space comes back (the operator moved something): recording always starts again.
        disk.capacity = 30 * SEGMENT
        await step(gateway, clock, 3)
        assert len(launcher.alive()) == 2 and "recording always again" in caplog.text
        assert [len(names) for names in segments(gateway).values()] == [2, 2]

    asyncio.run(scenario())


def test_a_guard_applies_only_on_the_audit_databases_filesystem(tmp_path: Path) -> None:
    database = tmp_path / "camgate.db"
    database.write_bytes(b"")
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    assert DiskGuard(free + 4096, database).shortfall(tmp_path) >= 4096  # same filesystem, not enough free
    assert DiskGuard(1024, database).shortfall(tmp_path) == 0
    assert DiskGuard(free + 4096, None).shortfall(tmp_path) == 0  # PostgreSQL: no local database
    assert DiskGuard(0, database).shortfall(tmp_path) == 0  # no reserve configured
    assert DiskGuard(free + 4096, Path("/proc/self/status")).shortfall(tmp_path) == 0  # another filesystem
