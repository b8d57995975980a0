"""The demo's RTSP cameras: what ``camgate demo`` serves for an ``adapter: rtsp`` system on 127.0.0.1.

One live encoder per camera (``testsrc2`` with the camera's name and the time burnt in, H.264 sent as RTP to a
local UDP port) and GStreamer's RTSP server (:mod:`broker.demo.rtsp_gst`) offering each at
``rtsp://127.0.0.1:<port>/<ref>``, the URL the system's ``url_template`` names. The broker reaches them only
through its RTSP gateway, like a real camera.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from broker.demo.children import dying_with_parent
from broker.demo.video import ffmpeg_exe, label_filter
from broker.errors import ConfigError

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's: python3-gi and the GStreamer typelibs live there
SERVER = Path(__file__).with_name("rtsp_gst.py")


def rtsp_port(settings: Mapping[str, Any]) -> int | None:
    """The local port of a demo RTSP system (``url_template: rtsp://127.0.0.1:PORT/{ref}``), else None."""
    parts = urlsplit(str(settings.get("url_template") or ""))
    if parts.scheme != "rtsp" or parts.hostname != "127.0.0.1" or parts.port is None:
        return None
    return parts.port


def _udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def encoder_cmd(label: str, udp: int, *, size: str = "640x360", rate: int = 10) -> list[str]:
    """A live camera: real-time H.264 (a keyframe a second) of ``label`` and the time, as RTP to ``udp``."""
    return [
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
        "-re", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}", "-vf", label_filter(label, clock=True),
        "-an", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
        "-profile:v", "baseline", "-threads", "1", "-g", str(rate), "-keyint_min", str(rate), "-sc_threshold", "0",
        "-f", "rtp", f"rtp://127.0.0.1:{udp}?pkt_size=1200",
    ]  # fmt: skip


class DemoRtspCameras:
    """``cameras`` (ref -> label) served on ``rtsp://127.0.0.1:<port>/<ref>`` until :meth:`stop`."""

    def __init__(self, cameras: Mapping[str, str], port: int, log_path: Path) -> None:
        self.cameras, self.port, self.log_path = dict(cameras), port, log_path
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(self, timeout: float = 15.0) -> DemoRtspCameras:
        mounts = []
        for ref, label in self.cameras.items():
            udp = _udp_port()
            self._procs.append(subprocess.Popen(dying_with_parent(encoder_cmd(label, udp)), stdin=subprocess.DEVNULL,
                                                stdout=subprocess.DEVNULL, start_new_session=True))  # fmt: skip
            mounts += ["--mount", f"/{ref}={udp}"]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.log_path.open("wb") as log:
                argv = dying_with_parent([SYSTEM_PYTHON, str(SERVER), "--port", str(self.port), *mounts])
                server = subprocess.Popen(argv, env=env,
                                          stdout=subprocess.PIPE, stderr=log, start_new_session=True)  # fmt: skip
        except OSError as exc:
            self.stop()
            raise ConfigError(f"cannot run {SYSTEM_PYTHON} for the demo's RTSP camera: {exc.strerror}") from None
        self._procs.append(server)
        ready = threading.Event()
        threading.Thread(target=self._wait_ready, args=(server, ready), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if server.poll() is not None or time.monotonic() > deadline:
                self.stop()
                why = self.log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no message"]
                raise ConfigError(
                    f"the demo's RTSP camera server did not start on 127.0.0.1:{self.port} ({why[0]}); "
                    "`make rtsp-server` installs GStreamer's RTSP server"
                )
        return self

    @staticmethod
    def _wait_ready(proc: subprocess.Popen[bytes], ready: threading.Event) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(b"ready"):
                ready.set()
                return

    def stop(self) -> None:
        for proc in self._procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self._procs.clear()
