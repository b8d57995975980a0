"""200 slow viewers against a real served broker (uvicorn on 127.0.0.1, async httpx clients): no stream URL of
theirs expires (issue 13 item 7: 48% of segment requests were refused "stream token expired" at 200 viewers).

Each viewer behaves like a player that falls behind: it reads the live playlist, then fetches the segments it
lists one after another, each after a delay (0.5 to 4 s: the load's playlist p95 was 3.8 s), and every tenth
viewer also stalls up to 25 s (a starved client, a slow network).
The delays are on the broker's injected clock: :class:`SimulatedTime` moves it to the next viewer's due time
whenever every viewer is waiting, so the test is deterministic and fast while the requests themselves are real
and concurrent (all 200 playlists at once, then the segments as they fall due).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from broker.api import create_app
from broker.api.services import Services
from broker.clock import FakeClock
from broker.settings import load_settings
from tests.api.support import MOUS, START, write_inventory
from tests.fakes.hls_origin import FakeHlsOrigin
from tests.fakes.servers import serve_in_thread
from tests.paths import MODEL

VIEWERS = 200
CAMERAS = ("saxe-ext-01", "saxe-ext-02", "lots-ext-01")  # TARGETDURATION 1, four segments each
ROUNDS = 1  # the playlist, then its segments (2 doubles the requests and the time)


class SimulatedTime:
    """Sleeps on a FakeClock: when every viewer is waiting, the clock jumps to the earliest due time."""

    def __init__(self, clock: FakeClock, viewers: int) -> None:
        self.clock, self.running = clock, viewers
        self._due: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._idle = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._due, (self.clock.now() + timedelta(seconds=seconds), next(self._order), woken))
        self._stopped()
        await woken

    def done(self) -> None:
        self._stopped()

    def _stopped(self) -> None:
        self.running -= 1
        if self.running == 0:
            self._idle.set()

    async def drive(self) -> None:
        while True:
            await self._idle.wait()
            self._idle.clear()
            if not self._due:
                return
            now = self._due[0][0]
            self.clock.set(now)
            while self._due and self._due[0][0] <= now:
                *_, woken = heapq.heappop(self._due)
                self.running += 1
                woken.set_result(None)


async def slow_player(
    client: httpx.AsyncClient, sim: SimulatedTime, camera: str, token: str, rng: random.Random, seen: Counter[str]
) -> float:
    """Returns the longest time (simulated seconds) between reading a playlist and fetching its last segment."""
    longest = 0.0
    stall_at = rng.randrange(4) if rng.random() < 0.1 else None
    try:
        for _ in range(ROUNDS):
            r = await client.get(f"/api/v1/cameras/{camera}/live.m3u8", headers={"Authorization": f"Bearer {token}"})
            seen[f"playlist {r.status_code}"] += 1
            read = sim.clock.now()
            for i, uri in enumerate(line for line in r.text.splitlines() if line and not line.startswith("#")):
                # On a half-second grid, so that many viewers fall due together (as many requests at once).
                await sim.sleep(rng.randint(1, 8) / 2 + (rng.randint(10, 25) if i == stall_at else 0))
                seg = await client.get(uri)
                key = f"segment {seg.status_code}"
                if seg.status_code != 200:
                    key += f" {seg.json().get('reason')}"
                seen[key] += 1
                longest = max(longest, (sim.clock.now() - read).total_seconds())
    finally:
        sim.done()
    return longest


@pytest.fixture
def broker(tmp_path: Path, hls_origin: FakeHlsOrigin) -> Iterator[tuple[str, Services, FakeClock]]:
    clock = FakeClock(START)
    settings = load_settings(
        mode="dev",
        data_dir=tmp_path / "data",
        policy={"inventory": write_inventory(tmp_path, hls_origin.base_url), "mous": [MOUS], "model": MODEL},
        store={"url": f"sqlite:///{tmp_path / 'camgate.db'}"},
    )
    app = create_app(settings, clock=clock, housekeeping=False)
    with serve_in_thread(app, timeout_keep_alive=300) as url:  # players keep their connections between segments
        yield url, app.state.services, clock


async def watch(url: str, services: Services, clock: FakeClock) -> tuple[Counter[str], list[float]]:
    issuer = services.dev_issuer
    assert issuer is not None
    tokens = [issuer.mint(f"officer-{i}", "ncpd", ["officer"], now=clock.now()) for i in range(VIEWERS)]
    sim, seen = SimulatedTime(clock, VIEWERS), Counter[str]()
    limits = httpx.Limits(max_connections=VIEWERS, max_keepalive_connections=VIEWERS)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        driver = asyncio.create_task(sim.drive())
        players = [
            slow_player(client, sim, CAMERAS[i % len(CAMERAS)], tokens[i], random.Random(i), seen)
            for i in range(VIEWERS)
        ]
        longest = await asyncio.gather(*players)
        await driver
    return seen, list(longest)


def test_200_slow_viewers_see_no_expired_stream_url(broker: tuple[str, Services, FakeClock]) -> None:
    url, services, clock = broker
    seen, longest = asyncio.run(watch(url, services, clock))
    segments = VIEWERS * ROUNDS * 4
    assert seen == Counter({"playlist 200": VIEWERS * ROUNDS, "segment 200": segments}), seen
    # The players really fell behind: far more than the old life of two target durations (2 s), up to ~40 s.
    assert max(longest) > 25 and sorted(longest)[VIEWERS // 2] > 6
