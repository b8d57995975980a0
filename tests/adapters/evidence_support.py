"""Helpers of the evidence adapter tests: an adapter on a folder, a counting ffmpeg, an injected poll timer."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from adapters.evidence import EvidenceAdapter
from adapters.evidence.repackage import bundled_ffmpeg
from broker.adapterapi import SystemSpec

T = TypeVar("T")
START = datetime(2026, 9, 14, 12, 58, tzinfo=UTC)


def evidence_adapter(folder: Path, *, ffmpeg: str | None = None, sleep: Any = None, **settings: Any) -> EvidenceAdapter:
    spec = SystemSpec(id="ncpb-evidence", adapter="evidence", base_url=None, settings={"path": str(folder), **settings})
    return EvidenceAdapter(spec, ffmpeg=ffmpeg, sleep=sleep)


def run(adapter: EvidenceAdapter, use: Callable[[EvidenceAdapter], Awaitable[T]]) -> T:
    """``use(adapter)`` in one event loop, the adapter closed after."""

    async def main() -> T:
        try:
            return await use(adapter)
        finally:
            await adapter.aclose()

    return asyncio.run(main())


def counting_ffmpeg(directory: Path) -> tuple[str, Path]:
    """(an ffmpeg that notes each run in a log, then runs the bundled one; the log)."""
    log = directory / "ffmpeg-runs.log"
    script = directory / "ffmpeg"
    script.write_text(f'#!/bin/sh\necho run >> "{log}"\nexec "{bundled_ffmpeg()}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), log


def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


class Ticks:
    """The watcher's injected ``sleep``: it sleeps until the test calls :meth:`tick`, never on the wall clock."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._sleeping: asyncio.Queue[asyncio.Future[None]] = asyncio.Queue()

    async def sleep(self, seconds: float) -> None:
        self.asked.append(seconds)
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._sleeping.put(woken)
        await woken

    async def asleep(self) -> None:
        """Wait until the watcher has finished its look at the folder and sleeps."""
        await self._sleeping.put(await asyncio.wait_for(self._sleeping.get(), 60))

    async def tick(self) -> None:
        """Wake the watcher and wait until it has looked at the folder and gone back to sleep."""
        (await asyncio.wait_for(self._sleeping.get(), 60)).set_result(None)
        await self.asleep()
