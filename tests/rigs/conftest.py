"""Fixtures of the rigs: one simulated VMS for the session (its encoder stays warm between rigs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from broker.clock import SystemClock
from broker.demo.vms import SimulatedVms
from tests.rigs.district import CAMERA


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "rig: a real broker made to lose its audit store under ffmpeg viewers (root: mounts; ~90 s in all)"
    )


@pytest.fixture(scope="session")
def vms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatedVms]:
    """Live H.264 of the rigs' camera: 1-second segments of small frames, off the volumes the rigs fill."""
    vms = SimulatedVms(
        {CAMERA: "Saxe · Main entrance"},
        work_dir=tmp_path_factory.mktemp("vms"),
        clock=SystemClock(),
        segment_seconds=1.0,
        size="320x180",
        rate=10,
        idle_seconds=120,
    )
    vms.start()
    yield vms
    vms.stop()
