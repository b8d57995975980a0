"""A real RTSP camera (or NVR) on 127.0.0.1 for gateway and adapter tests: GStreamer's RTSP server
(:mod:`broker.demo.rtsp_gst`) fed live H.264 by the bundled ffmpeg.

    clip = build_rtsp_clip(tmp_dir)                      # 10 s of H.264 in MPEG-TS, 1 s GOP (~0.5 s to make)
    with FakeRtspCamera(clip, mounts=("/cam1",), username="camgate", password="s3cret") as cam:
        cam.url("/cam1")                                 # rtsp://127.0.0.1:PORT/cam1 (no credentials)
        cam.drop(); cam.come_back()                      # the camera goes away, then returns on the same port
        cam.clients                                      # RTSP connections accepted so far

The feeders (one ffmpeg per mount, ``-re -stream_loop -1``) run from start to stop, as a camera's encoder does;
:meth:`drop` stops only the RTSP server, so clients see the camera vanish mid-stream.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import imageio_ffmpeg

from tests.paths import REPO

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's: python3-gi and the GStreamer typelibs live there
SERVER = REPO / "broker" / "demo" / "rtsp_gst.py"  # the demo's camera server, with --user for Digest


def build_rtsp_clip(directory: Path, *, seconds: int = 10, size: str = "320x180", fps: int = 10) -> Path:
    """A looping test picture in H.264 (constrained baseline, keyframe every second) in MPEG-TS."""
    path = directory / "rtsp-clip.ts"
    if not path.exists():
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-v",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=size={size}:rate={fps},format=yuv420p",
                "-t",
                str(seconds),
                "-c:v",
                "libx264",
                "-profile:v",
                "baseline",
                "-g",
                str(fps),
                "-keyint_min",
                str(fps),
                "-sc_threshold",
                "0",
                "-f",
                "mpegts",
                str(path),
            ],
            check=True,
            timeout=60,
        )
    return path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeRtspCamera:
    def __init__(
        self,
        clip: Path,
        *,
        mounts: tuple[str, ...] = ("/cam1",),
        username: str | None = None,
        password: str | None = None,
        port: int | None = None,
    ) -> None:
        self.clip = clip
        self.mounts = {m: free_port(socket.SOCK_DGRAM) for m in mounts}
        self.username = username
        self.password = password
        self.port = port or free_port()
        self.clients = 0
        self._feeders: list[subprocess.Popen[bytes]] = []
        self._server: subprocess.Popen[str] | None = None

    def url(self, mount: str = "/cam1") -> str:
        return f"rtsp://127.0.0.1:{self.port}{mount}"

    def __enter__(self) -> FakeRtspCamera:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
        for udp in self.mounts.values():
            self._feeders.append(
                subprocess.Popen(
                    [
                        ffmpeg,
                        "-v",
                        "error",
                        "-re",
                        "-stream_loop",
                        "-1",
                        "-i",
                        str(self.clip),
                        "-c",
                        "copy",
                        "-f",
                        "rtp",
                        f"rtp://127.0.0.1:{udp}?pkt_size=1200",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        self.come_back()

    def come_back(self, timeout: float = 15.0) -> None:
        """Start (or restart) the RTSP server on the same port; returns once it listens."""
        args = [SYSTEM_PYTHON, str(SERVER), "--port", str(self.port)]
        args += [a for m, udp in self.mounts.items() for a in ("--mount", f"{m}={udp}")]
        if self.username is not None:
            args += ["--user", self.username, "--password-stdin"]  # never in its argv (issue 13, item 9)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        self._server = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, start_new_session=True
        )
        assert self._server.stdin is not None
        self._server.stdin.write((self.password or "") + "\n")
        self._server.stdin.close()
        ready = threading.Event()
        threading.Thread(target=self._read, args=(self._server, ready), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self._server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the GStreamer RTSP server did not start (exit {self._server.poll()})")

    def _read(self, proc: subprocess.Popen[str], ready: threading.Event) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("ready"):
                ready.set()
            elif line.startswith("client "):
                self.clients += 1

    def drop(self) -> None:
        """The camera goes away: the RTSP server is killed, its clients' connections reset."""
        if self._server is not None and self._server.poll() is None:
            os.killpg(self._server.pid, signal.SIGKILL)
            self._server.wait(timeout=10)
        self._server = None

    def stop(self) -> None:
        self.drop()
        for feeder in self._feeders:
            if feeder.poll() is None:
                os.killpg(feeder.pid, signal.SIGKILL)
                feeder.wait(timeout=10)
        self._feeders.clear()
