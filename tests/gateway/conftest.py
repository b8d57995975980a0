"""Fixtures of the gateway tests: one test clip for the session, one fake RTSP camera per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.rtsp import FakeRtspCamera, build_rtsp_clip
from tests.gateway.rig import PASSWORD, USER


@pytest.fixture(scope="session")
def rtsp_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_rtsp_clip(tmp_path_factory.mktemp("rtsp-clip"))


@pytest.fixture(scope="module")
def camera(rtsp_clip: Path) -> Iterator[FakeRtspCamera]:
    with FakeRtspCamera(rtsp_clip, mounts=("/cam1", "/cam2"), username=USER, password=PASSWORD) as cam:
        yield cam
