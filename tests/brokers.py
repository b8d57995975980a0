"""Real ``camgate serve`` processes for tests that need several brokers, signals or the console script.

``Brokers(tmp_path)`` starts each broker with dev mode, a shared data dir (so one dev issuer signs for all)
and the environment given, waits until ``/readyz`` answers, and stops them all when closed.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from broker.clock import SystemClock
from broker.identity import DevIssuer
from broker.identity.config import DevIssuerConfig
from tests.paths import REPO
from tests.waiting import wait_for

CAMGATE = str(Path(sys.executable).parent / "camgate")
WITH_FAKES = (sys.executable, "-m", "tests.fakes.camgate_with_fakes")  # camgate with tests/fakes' adapters
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dev_token(data_dir: Path, sub: str, agency: str, roles: list[str]) -> str:
    """A token of the dev issuer kept in ``data_dir`` (the one the brokers started here trust)."""
    return DevIssuer.load_or_create(data_dir, DevIssuerConfig()).mint(sub, agency, roles, now=SystemClock().now())


class Broker:
    def __init__(self, env: dict[str, str], port: int, log: Path, command: Sequence[str] = (CAMGATE,)) -> None:
        self.url, self.env, self.log = f"http://127.0.0.1:{port}", env, log
        self.proc = subprocess.Popen([*command, "serve", "--port", str(port)], env=env, stdout=log.open("wb"),
                                     stderr=subprocess.STDOUT, cwd=REPO)  # fmt: skip

    def ready(self) -> dict[str, object] | None:
        try:
            r = httpx.get(f"{self.url}/readyz", timeout=2)
        except httpx.HTTPError:
            assert self.proc.poll() is None, f"broker exited: {self.log.read_text()[-2000:]}"
            return None
        return r.json() if r.status_code == 200 else None

    def generation(self) -> int:
        ready = self.ready()
        return int(ready["generation"]) if ready else -1  # type: ignore[call-overload]

    def live_allowed(self, token: str, camera: str) -> bool:
        r = httpx.get(f"{self.url}/api/v1/cameras", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert r.status_code == 200, r.text
        return next(c["live"]["allowed"] for c in r.json()["cameras"] if c["id"] == camera)

    def reload_cli(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([CAMGATE, "reload", "--url", self.url, *extra], env=self.env, capture_output=True,
                              text=True, timeout=120)  # fmt: skip

    def stop(self) -> None:
        self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=20)
        self.proc.kill()


class Brokers:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path, self.data_dir = tmp_path, tmp_path / "data"
        self.started: list[Broker] = []

    def start(self, *, command: Sequence[str] = (CAMGATE,), **env: str) -> Broker:
        """``command``: the console script (``camgate``; :data:`WITH_FAKES` adds the test-only adapters)."""
        full = os.environ | {"CAMGATE_MODE": "dev", "CAMGATE_DATA_DIR": str(self.data_dir)} | env
        broker = Broker(full, free_port(), self.tmp_path / f"broker-{len(self.started)}.log", command)
        self.started.append(broker)
        wait_for(lambda: broker.ready() is not None, START_TIMEOUT, "the broker to be ready")
        return broker

    def close(self) -> None:
        for broker in self.started:
            broker.stop()
