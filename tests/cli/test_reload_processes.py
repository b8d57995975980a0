"""Reload of real broker processes: ``kill -HUP``, ``camgate reload``, and two replicas on one PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from broker.clock import SystemClock
from broker.identity import DevIssuer
from broker.identity.config import DevIssuerConfig
from tests.paths import REPO
from tests.waiting import wait_for

CAMGATE = str(Path(sys.executable).parent / "camgate")
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def documents(tmp_path: Path) -> tuple[Path, Path]:
    """The demo district's documents, in a folder school IT can edit."""
    shutil.copy(REPO / "config" / "inventory.yaml", tmp_path / "inventory.yaml")
    shutil.copytree(REPO / "policies" / "mou", tmp_path / "mou")
    return tmp_path / "inventory.yaml", tmp_path / "mou"


class Broker:
    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.url, self.env, self.log = f"http://127.0.0.1:{port}", env, log
        self.proc = subprocess.Popen([CAMGATE, "serve", "--port", str(port)], env=env, stdout=log.open("wb"),
                                     stderr=subprocess.STDOUT)  # fmt: skip

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


@pytest.fixture
def start_broker(tmp_path: Path, documents: tuple[Path, Path]) -> Iterator[Callable[..., Broker]]:
    inventory, mous = documents
    started: list[Broker] = []

    def start(store_url: str | None = None) -> Broker:
        env = os.environ | {
            "CAMGATE_MODE": "dev", "CAMGATE_DATA_DIR": str(tmp_path / "data"),
            "CAMGATE_POLICY__INVENTORY": str(inventory), "CAMGATE_POLICY__MOUS": json.dumps([str(mous)]),
        }  # fmt: skip
        if store_url:
            env["CAMGATE_STORE__URL"] = store_url
        broker = Broker(env, free_port(), tmp_path / f"broker-{len(started)}.log")
        started.append(broker)
        wait_for(lambda: broker.ready() is not None, START_TIMEOUT, "the broker to be ready")
        return broker

    yield start
    for broker in started:
        broker.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            broker.proc.wait(timeout=20)
        broker.proc.kill()


def officer_token(data_dir: Path) -> str:
    issuer = DevIssuer.load_or_create(data_dir, DevIssuerConfig())
    return issuer.mint("officer-kim", "ncpd", ["officer"], now=SystemClock().now())


def withdraw_exterior_live(mous: Path) -> None:
    """An amendment: clause 4.1 no longer includes live video."""
    mou = mous / "mou-ncps-ncpd.yaml"
    text = mou.read_text()
    old = "zones: [exterior]\n    actions: [live, snapshot, playback]"
    assert old in text
    mou.write_text(text.replace(old, "zones: [exterior]\n    actions: [snapshot, playback]", 1))


def test_sighup_and_camgate_reload(
    start_broker: Callable[..., Broker], documents: tuple[Path, Path], tmp_path: Path
) -> None:
    _inventory, mous = documents
    broker = start_broker()
    token = officer_token(tmp_path / "data")
    assert broker.generation() == 0 and broker.live_allowed(token, "saxe-ext-01")

    withdraw_exterior_live(mous)
    broker.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: broker.generation() == 1, 30, "the SIGHUP reload")
    assert not broker.live_allowed(token, "saxe-ext-01")

    done = broker.reload_cli()  # dev mode: the command mints its own operator token
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("applied: generation 2, 17 cameras, 2 MOUs,")

    (mous / "mou-ncpb-ncpd.yaml").write_text("mou: ncpb-ncpd-video\nversion: 0\n")
    refused = broker.reload_cli()
    assert refused.returncode == 2
    lines = refused.stdout.splitlines()
    assert f"{mous / 'mou-ncpb-ncpd.yaml'}:2: version: Input should be greater than or equal to 1" in lines
    assert all(line.startswith(f"{mous}/") for line in lines) and len(lines) > 3
    assert "the running policy is unchanged" in refused.stderr
    assert broker.generation() == 2 and not broker.live_allowed(token, "saxe-ext-01")

    anonymous = broker.reload_cli("--token", "not-a-token")
    assert anonymous.returncode == 2 and "401 unauthenticated" in anonymous.stderr


@pytest.mark.postgres
def test_a_reload_sent_to_one_replica_reaches_the_other(
    start_broker: Callable[..., Broker], documents: tuple[Path, Path], postgres_url: str, tmp_path: Path
) -> None:
    _, mous = documents
    one, two = start_broker(postgres_url), start_broker(postgres_url)
    token = officer_token(tmp_path / "data")
    assert one.live_allowed(token, "saxe-ext-01") and two.live_allowed(token, "saxe-ext-01")

    withdraw_exterior_live(mous)
    done = one.reload_cli()
    assert done.returncode == 0, done.stderr
    wait_for(lambda: two.generation() == 1, 30, "the second replica to follow")
    assert one.generation() == 1
    assert not one.live_allowed(token, "saxe-ext-01") and not two.live_allowed(token, "saxe-ext-01")
    assert one.ready()["documents"] == two.ready()["documents"]  # type: ignore[index]
