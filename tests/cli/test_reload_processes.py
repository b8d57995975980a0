"""Reload of real broker processes: ``kill -HUP``, ``camgate reload``, and two replicas on one PostgreSQL."""

from __future__ import annotations

import json
import shutil
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.brokers import Broker, Brokers, dev_token
from tests.paths import REPO
from tests.waiting import wait_for


@pytest.fixture
def documents(tmp_path: Path) -> tuple[Path, Path]:
    """The demo district's documents, in a folder school IT can edit."""
    shutil.copy(REPO / "config" / "inventory.yaml", tmp_path / "inventory.yaml")
    shutil.copytree(REPO / "policies" / "mou", tmp_path / "mou")
    return tmp_path / "inventory.yaml", tmp_path / "mou"


@pytest.fixture
def start_broker(tmp_path: Path, documents: tuple[Path, Path]) -> Iterator[Callable[..., Broker]]:
    inventory, mous = documents
    brokers = Brokers(tmp_path)

    def start(store_url: str | None = None) -> Broker:
        env = {"CAMGATE_POLICY__INVENTORY": str(inventory), "CAMGATE_POLICY__MOUS": json.dumps([str(mous)])}
        return brokers.start(**env, **({"CAMGATE_STORE__URL": store_url} if store_url else {}))

    yield start
    brokers.close()


def officer_token(data_dir: Path) -> str:
    return dev_token(data_dir, "officer-kim", "ncpd", ["officer"])


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
    assert done.stdout.startswith("applied: generation 2, 18 cameras, 2 MOUs,")

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
