"""A real broker process, as ``make demo`` runs it, for tests that talk to it over HTTP (schemathesis).

``camgate demo`` in a subprocess: dev mode, SQLite and the dev issuer's key in a temporary data dir, the
simulated New Canaan VMS (real ffmpeg H.264 HLS, encoders started on first request) on free ports instead
of 9000/9001 so it never collides with a ``make demo`` already running. Tokens come from the real
``camgate token`` command against the same data dir::

    with BrokerProcess.start(tmp_path) as broker:
        broker.url                                  # http://127.0.0.1:<port>
        broker.token("officer-kim", "ncpd", "officer")
        broker.log()                                # what the process printed so far (for failure output)
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

from tests.paths import REPO

START_TIMEOUT = 60.0
CAMGATE = [sys.executable, "-m", "broker.cli.main"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_inventory(directory: Path, *, relative: bool = False) -> Path:
    """``config/inventory.yaml`` with every simulated VMS and RTSP camera moved from its fixed port to a free one,
    and the evidence folders (where the demo writes a clip at start) from ``.camgate/`` into ``directory``
    (``relative``: left as they are, relative to the demo's working directory)."""
    text = (REPO / "config" / "inventory.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(http|rtsp)://127\.0\.0\.1:\d+/", lambda m: f"{m.group(1)}://127.0.0.1:{free_port()}/", text)
    if not relative:
        text = text.replace("path: .camgate/evidence/", f"path: {directory / 'evidence'}/")
    path = directory / "inventory.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class BrokerProcess:
    url: str
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log_path: Path
    cwd: Path = REPO

    @classmethod
    def start(
        cls,
        directory: Path,
        timeout: float = START_TIMEOUT,
        *,
        site_recording: float = 0,
        default_data: bool = False,
        env: dict[str, str] | None = None,
    ) -> BrokerProcess:
        """``site_recording``: ``camgate demo --site-recording`` (default 0: schemathesis watches many cameras,
        the encoders of whole sites would crowd two cores; pre-event footage needs the site recorded).
        ``default_data``: as ``make demo`` runs, with the default data folder, the relative ``.camgate`` (the demo
        and ``camgate token`` run in ``directory``, so it is ``directory/.camgate``). ``env``: more ``CAMGATE_*``
        settings (e.g. ``CAMGATE_POLICY__MOUS``)."""
        directory.mkdir(parents=True, exist_ok=True)
        extra = env or {}
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAMGATE_")} | {
            "CAMGATE_MODE": "dev",
            "CAMGATE_POLICY__INVENTORY": str(demo_inventory(directory, relative=default_data)),
        }
        if not default_data:
            env["CAMGATE_DATA_DIR"] = str(directory / "data")
        else:  # this checkout's broker, whatever the working directory
            env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
        env |= extra
        cwd = directory if default_data else REPO
        port = free_port()
        log_path = directory / "broker.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [*CAMGATE, "demo", "--port", str(port), "--site-recording", f"{site_recording:g}"],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        broker = cls(f"http://127.0.0.1:{port}", env, proc, log_path, cwd)
        try:
            broker._wait_ready(timeout)
        except BaseException:
            broker.stop()
            raise
        return broker

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"camgate demo exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"camgate demo not ready after {timeout}s:\n{self.log()}")

    def token(self, sub: str, agency: str, roles: str) -> str:
        """A dev-issuer token from ``camgate token``, as the README's walkthrough mints them."""
        out = subprocess.run(
            [*CAMGATE, "token", "--sub", sub, "--agency", agency, "--roles", roles],
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return out.stdout.strip()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """SIGTERM to the process group (the broker and its ffmpeg encoders), SIGKILL if it lingers."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)

    def __enter__(self) -> BrokerProcess:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
