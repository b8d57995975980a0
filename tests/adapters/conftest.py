from __future__ import annotations

from tests.fakes.fixtures import hls_content, hls_origin, hls_origin_server  # noqa: F401
