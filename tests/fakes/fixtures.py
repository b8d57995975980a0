"""Pytest fixtures around the fake HLS origin, registered for every test by ``tests/conftest.py``.

``hls_content`` (session): real HLS + JPEG, encoded once. ``hls_origin_server`` (session): one running
:class:`~tests.fakes.hls_origin.FakeHlsOrigin`. ``hls_origin`` (function): that server, reset before and after
the test (no auth, no overrides, no faults, zeroed counters).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.hls_origin import FakeHlsOrigin, OriginContent, build_origin_content


@pytest.fixture(scope="session")
def hls_content(tmp_path_factory: pytest.TempPathFactory) -> OriginContent:
    return build_origin_content(tmp_path_factory.mktemp("hls-origin"))


@pytest.fixture(scope="session")
def hls_origin_server(hls_content: OriginContent) -> Iterator[FakeHlsOrigin]:
    with FakeHlsOrigin(hls_content.root) as origin:
        yield origin


@pytest.fixture
def hls_origin(hls_origin_server: FakeHlsOrigin) -> Iterator[FakeHlsOrigin]:
    hls_origin_server.reset()
    yield hls_origin_server
    hls_origin_server.reset()
