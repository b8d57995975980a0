"""The web console in Debian's Chromium (Playwright, never a downloaded browser) against a real ``camgate demo``.

One broker process and one browser for the module; each step writes a screenshot to ``test-screenshots/``
(git-ignored). The dispatch page must really play video: the ``<video>`` element's ``currentTime`` advances.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api as playwright_api

from tests.api.broker_process import BrokerProcess
from tests.paths import REPO

CHROMIUM = Path(os.environ.get("CAMGATE_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]
SHOTS = REPO / "test-screenshots"
THREAT = "Caller reports an armed intruder in the front office."

pytestmark = [pytest.mark.video, pytest.mark.browser]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess.start(tmp_path_factory.mktemp("console")) as running:
        yield running


def open_console(
    browser: Any, broker: BrokerProcess, persona: str, page_id: str, site: str | None = "ncps-saxe"
) -> Any:
    """A browser of its own, signed in on the demo's persona page with one click (the session cookie, no token
    anywhere in a URL or in page storage), showing the console's ``page_id``; the dispatch page on ``site``
    (None: the console's default, "All sites")."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    if site is not None:
        context.add_init_script(f"sessionStorage.setItem('camgate.site', {json.dumps(site)});")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{broker.url}/dev/signin")
    page.click(f"button[value='{persona}']")
    page.wait_for_url(f"{broker.url}/console/**")
    assert not page.evaluate("sessionStorage.getItem('camgate.token')")
    assert any(c["name"] == "camgate_session" and c["httpOnly"] for c in context.cookies())
    page.wait_for_selector("#nav a[aria-current=page]")
    if page_id != page.evaluate("document.querySelector('#nav a[aria-current=page]').dataset.page"):
        page.goto(f"{broker.url}/console/#{page_id}")
    return page


def playing(page: Any, camera: str, seconds: float = 1.0) -> None:
    """Wait until the camera's <video> has played past ``seconds``."""
    page.wait_for_function(
        "([id, s]) => { const v = document.querySelector(`video[data-camera='${id}']`); return v && v.currentTime > s; }",
        arg=[camera, seconds],
        timeout=40_000,
    )


def current_time(page: Any, camera: str) -> float:
    return float(page.evaluate("id => document.querySelector(`video[data-camera='${id}']`).currentTime", camera))


def test_dispatch_declare_watch_and_end(browser: Any, broker: BrokerProcess) -> None:
    officer = open_console(browser, broker, "officer", "dispatch")
    playing(officer, "saxe-ext-01")
    first = current_time(officer, "saxe-ext-01")
    officer.wait_for_timeout(1500)
    assert current_time(officer, "saxe-ext-01") > first  # advancing: really playing
    denied = officer.locator(".denied li[data-camera='saxe-int-01']")
    assert "only during a declared emergency" in denied.inner_text()
    assert officer.locator("form.declare").count() == 0  # officers do not declare
    officer.screenshot(path=str(SHOTS / "1-officer-dispatch.png"))

    dispatcher = open_console(browser, broker, "dispatcher", "dispatch")
    dispatcher.wait_for_selector("form.declare")
    assert dispatcher.locator("video[data-camera='saxe-int-01']").count() == 0
    dispatcher.select_option("#em-site", "ncps-saxe")
    dispatcher.fill("#em-zones", "interior")
    dispatcher.fill("#em-threat", THREAT)
    dispatcher.fill("#em-incident", "NC-26-01433")
    dispatcher.screenshot(path=str(SHOTS / "2-dispatcher-declare-form.png"))
    dispatcher.get_by_role("button", name="Declare emergency").click()
    declared = time.monotonic()
    # The officer's open page, untouched (in front, as on the officer's own screen; Chromium throttles pages
    # behind another): the events stream brings the declaration and the player appears.
    officer.bring_to_front()
    officer.wait_for_selector("video[data-camera='saxe-int-01']", timeout=10_000)
    appeared = time.monotonic() - declared
    playing(officer, "saxe-int-01")
    officer.screenshot(path=str(SHOTS / "3-officer-interior-playing.png"))
    assert appeared < 2.0, f"the interior player appeared {appeared:.2f} s after the declaration"
    dispatcher.wait_for_selector("article.emergency")
    playing(dispatcher, "saxe-int-01")
    dispatcher.screenshot(path=str(SHOTS / "3-dispatcher-interior-playing.png"))

    dispatcher.fill("article.emergency input[id^='end-why-']", "suspect in custody")
    dispatcher.get_by_role("button", name="End emergency").click()
    for page, name in ((dispatcher, "dispatcher"), (officer, "officer")):
        status = page.locator("figure.player[data-camera='saxe-int-01'] .status")
        playwright_api.expect(status).to_contain_text("Access ended: emergency ended at", timeout=20_000)
        assert page.locator("figure.player[data-camera='saxe-int-01'].stopped").count() == 1
        page.screenshot(path=str(SHOTS / f"4-{name}-ended.png"))
    officer.context.close()
    dispatcher.context.close()


def test_school_it_sees_unclassified_cameras_first(browser: Any, broker: BrokerProcess) -> None:
    school_it = open_console(browser, broker, "school_it", "school")
    school_it.wait_for_selector("tbody tr[data-camera]")
    first = school_it.locator("tbody tr[data-camera]").first
    assert first.get_attribute("class") == "unclassified" and first.get_attribute("data-camera") == "saxe-new-01"
    assert school_it.locator("video").count() == 0
    school_it.screenshot(path=str(SHOTS / "6-school-it.png"), full_page=True)
    school_it.context.close()


def test_auditor_sees_the_log_and_the_chain_but_no_video(browser: Any, broker: BrokerProcess) -> None:
    auditor = open_console(browser, broker, "auditor", "audit")
    playwright_api.expect(auditor.locator("#verify")).to_contain_text("Chain intact")
    auditor.wait_for_selector("#audit-table tbody tr")
    assert auditor.locator("#audit-table tbody tr").count() > 0
    assert auditor.locator("video").count() == 0
    auditor.screenshot(path=str(SHOTS / "5-auditor.png"), full_page=True)
    auditor.context.close()
