"""Waiting for a real process or server (ffmpeg, a broker subprocess) to reach a state, with a deadline.

Only for what no injected clock can drive: another process's progress. Logic under test takes a FakeClock.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)
