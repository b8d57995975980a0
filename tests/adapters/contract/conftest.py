"""Fixtures of the contract suite: ``rig`` (module scope, parametrized indirectly by rig name) starts that rig's
fake system once per module and stops it after; ``contract_clip`` is the H.264 every RTSP fake plays."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.contract.rigs import RIGS, Rig, RigEnv
from tests.fakes.rtsp import build_rtsp_clip


@pytest.fixture(scope="session")
def contract_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_rtsp_clip(tmp_path_factory.mktemp("contract-clip"))


@pytest.fixture(scope="module")
def rig(request: pytest.FixtureRequest, contract_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    kind = RIGS[request.param]
    env = RigEnv(workdir=tmp_path_factory.mktemp(f"rig-{kind.name}"), clip=contract_clip)
    with kind.start(env) as started:
        yield started
