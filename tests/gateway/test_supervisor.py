"""The gateway's supervision, on a fake clock and a fake launcher (no ffmpeg, no sleeping): one process per
camera shared by its viewers, idle stop, restarts with doubling backoff reset by a stable run, stalls, the
process limit, record-always cameras, retired systems, shutdown."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from broker.clock import FakeClock
from broker.errors import GatewayBusy
from broker.gateway.gateway import Gateway, instance_name
from broker.gateway.stream import State
from broker.settings import GatewaySettings
from tests.gateway.fakes import FakeLauncher, FakeOwner

T = TypeVar("T")
CFG = GatewaySettings(
    idle_seconds=30,
    stall_seconds=10,
    backoff_initial_seconds=1,
    backoff_max_seconds=8,
    stable_seconds=30,
    retention_seconds=60,
    max_processes=2,
    list_size=3,
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def launcher() -> FakeLauncher:
    return FakeLauncher()


@pytest.fixture
def gateway(tmp_path: Path, clock: FakeClock, launcher: FakeLauncher) -> Gateway:
    return Gateway(CFG, tmp_path / "gw", clock, launcher=launcher, ffmpeg="/opt/ffmpeg")


async def step(gateway: Gateway, clock: FakeClock, seconds: float, emit: bool = True, watch: Any = None) -> None:
    """Move the clock by ``seconds`` in one-second ticks; the running processes write a segment each second;
    ``watch`` (a stream) is asked for by a viewer every second."""
    for _ in range(int(seconds)):
        clock.advance(1)
        if watch is not None:
            watch.last_demand = clock.now()
        if emit:
            for stream in list(gateway._streams.values()):
                if stream.process is not None and stream.process.poll() is None:
                    stream.process.emit(clock.now())  # type: ignore[attr-defined]
        await gateway.tick()


def test_viewers_of_a_camera_share_one_process_started_on_first_demand(
    gateway: Gateway, launcher: FakeLauncher, clock: FakeClock
) -> None:
    owner = FakeOwner()

    async def scenario() -> None:
        assert launcher.started == []  # nothing runs before a viewer asks
        streams = await asyncio.gather(*(gateway.demand(owner, "cam1") for _ in range(50)))
        assert len({id(s) for s in streams}) == 1 and len(launcher.started) == 1
        await step(gateway, clock, 3)
        await gateway.demand(owner, "cam1")
        assert len(launcher.started) == 1 and gateway.processes() == 1

    run(scenario())
    proc = launcher.started[0]
    source = proc.argv[proc.argv.index("-i") + 1]
    assert re.fullmatch(r"rtsp://127\.0\.0\.1:\d+/cam1", source)  # the credential relay (broker/gateway/relay.py)
    assert [a for a in proc.argv if "hunter2" in a or "admin" in a or "10.0.0.9" in a] == []
    for flag in (["-c", "copy"], ["-rtsp_transport", "tcp"], ["-f", "hls"]):
        assert proc.argv[proc.argv.index(flag[0]) + 1] == flag[1]
    assert proc.env == {"LC_ALL": "C", "PATH": "/usr/bin:/bin"}  # none of the broker's environment
    assert proc.directory.stat().st_mode & 0o777 == 0o700 and proc.directory.parent.stat().st_mode & 0o777 == 0o700


def test_the_process_stops_once_nobody_asked_for_idle_seconds(
    gateway: Gateway, launcher: FakeLauncher, clock: FakeClock
) -> None:
    owner = FakeOwner()

    async def scenario() -> None:
        stream = await gateway.demand(owner, "cam1")
        await step(gateway, clock, 20)
        await gateway.demand(owner, "cam1")  # a viewer still there at 20 s
        await step(gateway, clock, 29)
        assert stream.state is State.RUNNING and not launcher.started[0].terminated
        await step(gateway, clock, 2)
        assert stream.state is State.IDLE and launcher.started[0].terminated and gateway.processes() == 0
        await gateway.demand(owner, "cam1")  # a new viewer: a new process, a new live window
        assert len(launcher.started) == 2 and stream.index.live(stream.epoch, 3) == []

    run(scenario())


def test_a_dropped_camera_is_restarted_with_doubling_backoff_reset_by_a_stable_run(
    gateway: Gateway, launcher: FakeLauncher, clock: FakeClock
) -> None:
    owner = FakeOwner()

    async def scenario() -> list[float]:
        stream = await gateway.demand(owner, "cam1")
        waits = []
        for _ in range(5):  # the camera refuses every reconnection
            launcher.started[-1].crash("Connection refused")
            before = len(launcher.started)
            crashed = clock.now()
            while len(launcher.started) == before:
                gateway_demand_keeps_it_wanted(stream, clock)
                clock.advance(0.5)
                await gateway.tick()
            waits.append((clock.now() - crashed).total_seconds())
        assert stream.restarts == 5
        await step(gateway, clock, 31, watch=stream)  # a stable run...
        launcher.started[-1].crash("Connection reset by peer")
        await gateway.tick()
        assert stream.retry_at is not None and (stream.retry_at - clock.now()).total_seconds() == 1  # ...starts over
        return waits

    waits = run(scenario())
    # The first tick after a crash notices it, then the wait runs (ticks every 0.5 s): 1, 2, 4, 8, 8 s.
    assert waits == [1.5, 2.5, 4.5, 8.5, 8.5]


def gateway_demand_keeps_it_wanted(stream: Any, clock: FakeClock) -> None:
    stream.last_demand = clock.now()  # a viewer keeps asking (the player reloads the playlist)


def test_a_stalled_process_is_replaced_and_a_stream_nobody_wants_stops_retrying(
    gateway: Gateway, launcher: FakeLauncher, clock: FakeClock
) -> None:
    owner = FakeOwner()

    async def scenario() -> None:
        stream = await gateway.demand(owner, "cam1")
        await step(gateway, clock, 3)
        stalled = launcher.started[0]
        for _ in range(11):  # alive, but no new segment
            clock.advance(1)
            stream.last_demand = clock.now()
            await gateway.tick()
        assert stalled.terminated and stream.state is State.BACKOFF
        assert stream.last_error == "stalled: no new segment for 10 s"
        launcher.started.clear()
        await step(gateway, clock, 40, emit=False)  # nobody asks any more: no restart, idle
        assert stream.state is State.IDLE

    run(scenario())


def test_the_process_limit_refuses_with_gateway_busy_until_a_slot_frees(
    gateway: Gateway, launcher: FakeLauncher, clock: FakeClock
) -> None:
    owner = FakeOwner()

    async def scenario() -> None:
        await gateway.demand(owner, "cam1")
        await gateway.demand(owner, "cam2")
        with pytest.raises(GatewayBusy) as refused:
            await gateway.demand(owner, "cam3")
        assert refused.value.status == 503 and refused.value.headers() == {"Retry-After": "10"}
        launcher.started[1].crash("Connection refused")  # a dropped camera keeps its slot while it retries
        await gateway.tick()
        with pytest.raises(GatewayBusy):
            await gateway.demand(owner, "cam3")
        await step(gateway, clock, 31, emit=True)  # nobody watches cam1 and cam2 any more
        await gateway.demand(owner, "cam3")
        assert gateway.active() == 1

    run(scenario())


def test_record_always_keeps_cameras_running_without_viewers(
    gateway: Gateway, launcher: FakeLauncher, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    whole, some, more = FakeOwner("rec", "always"), FakeOwner("lot", ("cam9",)), FakeOwner("more", "always")
    cameras = {"rec": ["a"], "lot": ["cam9", "cam8"], "more": ["x"]}
    gateway.bind(systems=lambda: [whole, some, more], cameras=lambda system: cameras[system])

    async def scenario() -> None:
        await gateway.tick()
        assert sorted(s.ref for s in gateway._streams.values() if s.active) == ["a", "cam9"]
        await step(gateway, clock, 120)
        assert len(launcher.alive()) == 2  # never idle

    run(scenario())
    assert "more/x not recorded: all 2 processes are in use" in caplog.text  # the limit holds for them too


def test_a_retired_system_is_stopped_and_its_files_deleted(
    gateway: Gateway, launcher: FakeLauncher, clock: FakeClock
) -> None:
    owner = FakeOwner()
    serving = [owner]
    gateway.bind(systems=lambda: serving, cameras=lambda _s: [])

    async def scenario() -> None:
        stream = await gateway.demand(owner, "cam1")
        await step(gateway, clock, 2)
        launcher.started[0].stubborn = True  # ignores SIGTERM
        serving.clear()  # a reload replaced the system
        await gateway.tick()
        assert launcher.started[0].terminated and not launcher.started[0].killed and stream.directory.exists()
        await step(gateway, clock, 4)
        assert launcher.started[0].killed and not stream.directory.exists()
        with pytest.raises(Exception, match="was reloaded"):
            await gateway.demand(owner, "cam1")  # a request still holding the old adapter

    run(scenario())


def test_shutdown_stops_every_process_and_deletes_the_work_directory(
    gateway: Gateway, launcher: FakeLauncher, clock: FakeClock
) -> None:
    owner = FakeOwner()

    async def scenario() -> None:
        await gateway.demand(owner, "cam1")
        await gateway.demand(owner, "cam2")
        launcher.started[1].stubborn = True
        await gateway.aclose(grace=0.1)

    run(scenario())
    assert launcher.alive() == [] and launcher.started[1].killed
    assert not gateway.work.exists()


def test_status_counts_processes_restarts_and_the_last_error_without_url_or_password(
    gateway: Gateway, launcher: FakeLauncher, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    owner = FakeOwner()

    async def scenario() -> None:
        await gateway.demand(owner, "cam1")
        launcher.started[0].crash(
            "[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized rtsp://admin:hunter2-secret@10.0.0.9:554/cam1"
        )
        await gateway.tick()

    caplog.set_level("DEBUG")
    run(scenario())
    status = gateway.status("lot", {"cam1": 3})
    assert status["processes"] == 0 and status["viewers"] == 3 and status["restarts"] == 0
    assert (
        status["last_error"] == "ffmpeg ended (exit 1): [rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized <camera>"
    )
    assert status["cameras"][0]["state"] == "backoff"
    assert "hunter2" not in caplog.text and "admin:" not in caplog.text
    assert "rtsp://10.0.0.9:554/cam1" in caplog.text  # operators' logs name the camera, never its credentials


def test_ffmpeg_left_running_by_a_crashed_broker_is_stopped_at_the_next_start(
    tmp_path: Path, clock: FakeClock, launcher: FakeLauncher
) -> None:
    root = tmp_path / "gw"
    # A broker that is gone: its pid now names another process (this one), started at another time. (A pid
    # of a process that ended can be reused at any moment, so the test does not rely on one staying free.)
    gone = f"{os.getpid()}-1"
    stream_dir = root / gone / "abc-1"
    stream_dir.mkdir(parents=True)
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(stream_dir)])
    (stream_dir / "ffmpeg.pid").write_text(str(orphan.pid))
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # pid file, other command
    (root / gone / "abc-2").mkdir()
    (root / gone / "abc-2" / "ffmpeg.pid").write_text(str(unrelated.pid))
    legacy = root / "999999999"  # a pid-only name (before start times were kept), of no process
    legacy.mkdir()
    alive = root / instance_name(unrelated.pid)
    alive.mkdir()  # another broker still running: left alone
    try:
        gateway = Gateway(CFG, root, clock, launcher=launcher, ffmpeg="ffmpeg")
        gateway.prepare()
        assert orphan.wait(timeout=10) == -9 and unrelated.poll() is None
        assert not (root / gone).exists() and not legacy.exists() and alive.is_dir()
        assert gateway.work.is_dir() and gateway.work.name == instance_name(os.getpid())
    finally:
        for proc in (orphan, unrelated):
            proc.kill()
            proc.wait()


def test_a_relative_work_directory_gives_ffmpeg_absolute_paths(
    tmp_path: Path, clock: FakeClock, launcher: FakeLauncher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``make demo`` keeps its data in ".camgate" (relative); ffmpeg runs in the stream's own directory, where a
    relative output path does not exist (it failed "failed to rename file .camgate/gateway/…/live.m3u8.tmp")."""
    monkeypatch.chdir(tmp_path)
    gateway = Gateway(CFG, Path(".camgate/gateway"), clock, launcher=launcher, ffmpeg="/opt/ffmpeg")
    run(gateway.demand(FakeOwner(), "cam1"))
    proc = launcher.started[0]
    assert proc.directory.is_absolute()
    outputs = [proc.argv[-1], proc.argv[proc.argv.index("-hls_segment_filename") + 1]]
    assert all(Path(o).is_absolute() and Path(o).parent == proc.directory for o in outputs), outputs
