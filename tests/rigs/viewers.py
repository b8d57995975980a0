"""ffmpeg viewers: each reads a live HLS playlist (real H.264) through its own port of the counting proxy, with a
bearer token, and starts again when ffmpeg gives up (as a player retries), until stopped.

Each ffmpeg gets SIGKILL if the test process dies (``PR_SET_PDEATHSIG``), and is killed when its viewer stops.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from broker.demo.video import ffmpeg_exe

PR_SET_PDEATHSIG = 1
RETRY_SECONDS = 0.5  # a player's pause before it asks again (the viewer's own pace, not a test's wait)


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Viewer:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.runs = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="viewer")

    def argv(self) -> list[str]:
        return [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-rw_timeout",
            "5000000",
            "-headers",
            f"Authorization: Bearer {self.token}\r\n",
            "-i",
            self.url,
            "-map",
            "0:v",
            "-c",
            "copy",
            "-f",
            "null",
            "-",
        ]

    def start(self) -> Viewer:
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                if self._stop.is_set():
                    return
                self._proc = subprocess.Popen(
                    self.argv(),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent,
                )
                self.runs += 1
            self._proc.wait()
            self._stop.wait(RETRY_SECONDS)

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            if self._proc is not None and self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait()
        self._thread.join(timeout=10)


@contextmanager
def viewers(urls_and_tokens: Sequence[tuple[str, str]]) -> Iterator[list[Viewer]]:
    """Start one viewer per (url, token); stop them all after the block."""
    started = [Viewer(url, token).start() for url, token in urls_and_tokens]
    try:
        yield started
    finally:
        for viewer in started:
            viewer.stop()
