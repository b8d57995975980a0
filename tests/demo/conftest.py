"""Fixtures for the simulated-VMS tests: real ffmpeg encoders behind a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

try:
    import broker  # noqa: F401
except ModuleNotFoundError:  # running the bare pytest script without the project installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from broker.clock import FakeClock
from broker.demo.vms import SimulatedVms

CAMERAS = {
    "cam-a": "Saxe Middle School · Main entrance",
    "cam-b": "East School · Bus loop",
}


@pytest.fixture
def make_vms(tmp_path: Path) -> Iterator[Callable[..., tuple[SimulatedVms, str]]]:
    """Factory: start a SimulatedVms (FakeClock, no background reaping unless asked); stops them all after."""
    started: list[SimulatedVms] = []

    def make(**kwargs: object) -> tuple[SimulatedVms, str]:
        kwargs.setdefault("clock", FakeClock())
        kwargs.setdefault("reap_interval", 3600.0)  # tests call reap() themselves
        vms = SimulatedVms(CAMERAS, work_dir=tmp_path / f"vms{len(started)}", **kwargs)  # type: ignore[arg-type]
        started.append(vms)
        return vms, vms.start()

    yield make
    for vms in started:
        vms.stop()


@pytest.fixture(scope="module")
def shared_vms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimulatedVms, str]]:
    """One VMS for the read-only tests in a module (encoders started once)."""
    vms = SimulatedVms(CAMERAS, work_dir=tmp_path_factory.mktemp("shared-vms"), clock=FakeClock(), reap_interval=3600.0)
    url = vms.start()
    yield vms, url
    vms.stop()
