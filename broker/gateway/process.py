"""Starting gateway processes: the :class:`Launcher` the supervisor is given (tests give a fake one).

The real launcher runs ffmpeg with the minimal environment, no standard input, its own process group, and a
thread reading its standard error: each line redacted (:class:`~broker.gateway.ffmpeg.Redactor`) before it is
logged at debug level or kept as the process's last error. A pid file in the camera's work directory lets the
next start of the broker stop an ffmpeg orphaned by a crash (:func:`stop_orphans`). Every path a process is
given is absolute (:func:`require_absolute`): it runs in its own directory, where a relative path names another
file (``make demo``'s default data directory ``.camgate`` made ffmpeg fail: "failed to rename file
.camgate/gateway/…/live.m3u8.tmp").
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import re
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

log = logging.getLogger("camgate.gateway")
PID_FILE = "ffmpeg.pid"
_TAIL_LINES = 20
# Lines ffmpeg prints on every healthy start of a camera stream: never an explanation of a failure.
_NOISE = ("Timestamps are unset", "Non-monotonic DTS", "Last message repeated", "changing to")
# The lines ffmpeg ends every failed start with, whatever went wrong: the line before them says why (a silent
# camera ends "Error opening input files: Invalid data found", after "Failed reading RTSP data: Connection timed
# out"; a session description without video ends "Error opening output files: Invalid argument").
_AFTERMATH = (
    "Error opening input",
    "Error opening output",
    "Error parsing options",
    "Failed to set value",
    "To ignore this",
)
_CONTEXT = re.compile(r"^\[[^\]]* @ 0x[0-9a-f]+\] ")  # "[in#0 @ 0x5582e4183340] ": a memory address, no use to anyone


class RelativePath(ValueError):
    """A child process was about to be given a relative path (a bug of the caller: nothing is started)."""


def require_absolute(argv: Sequence[str], directory: Path | None = None) -> None:
    """Refuse a relative working directory, program, or argument naming a file (one with a ``/`` that is not a
    URL): the child runs elsewhere than the broker, so a relative path would name another file there."""
    if directory is not None and not directory.is_absolute():
        raise RelativePath(f"the working directory of a child process is relative: {directory}")
    for arg in argv:
        if "/" in arg and "://" not in arg and not arg.startswith("/"):
            raise RelativePath(f"a child process was given a relative path: {arg}")
    if argv and not argv[0].startswith("/"):
        raise RelativePath(f"a child process's program is not an absolute path: {argv[0]}")


class GatewayProcess(Protocol):
    pid: int

    def poll(self) -> int | None:
        """The exit status once it has ended, else None."""
        ...

    def terminate(self) -> None: ...

    def kill(self) -> None: ...

    def error(self) -> str | None:
        """The last thing it printed that explains a failure (redacted), if any."""
        ...


class Launcher(Protocol):
    """``launcher(argv, env, directory, redact, camera="system/ref")``: start the process in ``directory``; what
    it prints is logged naming ``camera``."""

    def __call__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        directory: Path,
        redact: Callable[[str], str],
        *,
        camera: str = "",
    ) -> GatewayProcess: ...


class FfmpegProcess:
    """A running ffmpeg whose standard error is read, redacted, by a daemon thread."""

    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str],
        directory: Path,
        redact: Callable[[str], str],
        *,
        camera: str = "",
    ) -> None:
        require_absolute(argv, directory)
        self._redact, self.camera = redact, camera
        self._tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
        self._proc = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=directory,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            close_fds=True,
        )
        self.pid = self._proc.pid
        self._pid_file = directory / PID_FILE
        self._pid_file.write_text(str(self.pid))
        threading.Thread(target=self._read, name=f"gateway-stderr-{self.pid}", daemon=True).start()

    def _read(self) -> None:
        assert self._proc.stderr is not None
        for raw in self._proc.stderr:
            line = self._redact(raw.decode("utf-8", "replace").rstrip())
            if line:
                self._tail.append(line)
                log.debug("gateway: %s: ffmpeg %d: %s", self.camera, self.pid, line, extra={"camera": self.camera})

    def poll(self) -> int | None:
        code = self._proc.poll()
        if code is not None:
            with contextlib.suppress(OSError):
                self._pid_file.unlink()
        return code

    def terminate(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._proc.terminate()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self._proc.kill()

    def error(self) -> str | None:
        lines = [_CONTEXT.sub("", line) for line in list(self._tail) if not any(n in line for n in _NOISE)]
        causes = [line for line in lines if not line.startswith(_AFTERMATH)]
        return (causes or lines)[-1] if lines else None


def launch_ffmpeg(
    argv: Sequence[str], env: Mapping[str, str], directory: Path, redact: Callable[[str], str], *, camera: str = ""
) -> GatewayProcess:
    return FfmpegProcess(argv, env, directory, redact, camera=camera)


def stop_orphans(root: Path) -> int:
    """Kill the ffmpeg processes a previous broker left running under ``root`` (it crashed); returns how many.

    A pid is only killed if that process's command line still names a directory under ``root``, so a pid
    reused by an unrelated process is left alone.
    """
    killed = 0
    for pid_file in root.glob(f"*/{PID_FILE}"):
        try:
            pid = int(pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if str(root).encode() in cmdline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed
