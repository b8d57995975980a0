"""The demo's child processes die with it, even after ``kill -9`` (the project's rule for child processes).

A SIGTERM lets ``camgate demo`` stop its encoders and its RTSP camera server itself (broker/demo/run.py); a
``kill -9`` or a crash gave it no chance, and they ran on: 18 ffmpeg encoders using CPU, and the RTSP server
holding 127.0.0.1:9554, so that the next ``make demo`` failed ("the demo's RTSP camera server did not start").

On Linux, ``setpriv --pdeathsig KILL`` (util-linux) sets PR_SET_PDEATHSIG and execs the command: the kernel
sends it SIGKILL when the thread that started it ends (with the process, for the demo's long-lived threads).
No ``preexec_fn`` (not safe with threads). Without setpriv, the command runs as before.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence

SETPRIV = shutil.which("setpriv")


def dying_with_parent(argv: Sequence[str]) -> list[str]:
    """``argv`` run so that it is killed when the thread starting it (here: its process) ends."""
    if SETPRIV is None:
        return list(argv)
    return [SETPRIV, "--pdeathsig", "KILL", "--", *argv]
