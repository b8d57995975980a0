"""Debian's Chromium (Playwright, never a downloaded browser) for each console test module; each test opens its
own browser contexts, so nothing (cookies, storage) is shared between them.

Module scope, not session: Playwright's sync API keeps an event loop running in the main thread while it is open,
and every later test calling ``asyncio.run()`` would fail."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright import sync_api as playwright_api

from tests.console.test_console_browser import ARGS, CHROMIUM, SHOTS
from tests.paths import REPO

AXE = REPO / "tests/console/node_modules/axe-core/axe.min.js"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Missing parts fail the run (never a silent skip): `make test` installs all three.
    assert CHROMIUM.exists(), f"{CHROMIUM}: Debian's chromium is not installed (make test installs it)"
    assert (REPO / "broker/console/static/vendor/hls.mjs").exists(), "hls.js is not installed: run make console"
    assert AXE.exists(), "axe-core is not installed: run make test (npm ci in tests/console)"
    SHOTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()
