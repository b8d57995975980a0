"""The dispatcher's page in Debian's Chromium against a real ``camgate demo``: a point and radius picked on the
map, the emergency shown with its radius and a countdown, extended, its pre-event footage played, ended.

The demo runs with site recording (as ``make demo``): watching a camera keeps its whole school recording, so the
interior camera has footage from before the declaration. The test declares only once the simulated VMS's
recording of that camera reaches far enough back (asked of the VMS itself, a condition, not a fixed sleep).
Screenshots go to ``test-screenshots/8-*.png`` (git-ignored).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright import sync_api as playwright_api

from broker.timeutil import parse_instant
from tests.api.broker_process import BrokerProcess
from tests.console.test_console_browser import SHOTS, THREAT, current_time, open_console, playing

pytestmark = [pytest.mark.video, pytest.mark.browser]

OFFICE = "saxe-int-01"  # front office hallway, 41.14882, -73.49565
OFFICE_AT = (41.14882, -73.49565)
LIBRARY = "saxe-int-02"  # the same school's library, 38 m from the office
PRE_EVENT = 30  # seconds: MOU ncps-ncpd-video clause 4.2, playback.from: -30s


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess.start(tmp_path_factory.mktemp("dispatch"), site_recording=300) as running:
        yield running


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance (contract §3, R = 6,371,008.8 m)."""
    (la1, lo1), (la2, lo2) = (tuple(map(math.radians, p)) for p in (a, b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def recorded_since(broker: BrokerProcess, ref: str) -> datetime | None:
    """When the simulated VMS's rolling recording of ``ref`` begins (asked of the VMS, not the broker)."""
    inventory = yaml.safe_load(Path(broker.env["CAMGATE_POLICY__INVENTORY"]).read_text(encoding="utf-8"))
    base = next(s["base_url"] for s in inventory["systems"] if s["id"] == "ncps-vms")
    r = httpx.get(f"{base}{ref}/recording.m3u8", timeout=10)
    dates = [line.split(":", 1)[1] for line in r.text.splitlines() if line.startswith("#EXT-X-PROGRAM-DATE-TIME:")]
    return parse_instant(dates[0]) if r.status_code == 200 and dates else None


def wait_recorded(broker: BrokerProcess, ref: str, seconds: float, timeout: float = 120.0) -> datetime:
    """Wait until the recording of ``ref`` reaches at least ``seconds`` back from now."""
    deadline = time.monotonic() + timeout
    while True:
        since = recorded_since(broker, ref)
        if since is not None and since <= datetime.now(UTC) - timedelta(seconds=seconds):
            return since
        assert time.monotonic() < deadline, f"{ref}: recorded since {since}, not {seconds} s back after {timeout} s"
        time.sleep(0.5)


def countdown(page: Any) -> int:
    """The first emergency's countdown, in seconds."""
    text = page.locator("article.emergency .countdown").first.inner_text()
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + int(seconds)


def recorded_time(page: Any, camera: str) -> float:
    return float(
        page.evaluate("id => document.querySelector(`video[data-recorded-camera='${id}']`).currentTime", camera)
    )


def pick_near(page: Any, camera: str, dy: float) -> None:
    """Click the map ``dy`` screen pixels south of ``camera``'s dot."""
    box = page.locator(f"svg.map circle.cam[data-camera='{camera}']").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2 + dy)


def test_point_radius_extend_pre_event_and_end(browser: Any, broker: BrokerProcess) -> None:
    page = open_console(browser, broker, "dispatcher", "dispatch")
    page.wait_for_selector("form.declare")
    playing(page, "saxe-ext-01")  # watching the school keeps all its cameras recording

    # 1. The map shows the school (its cameras where the inventory puts them); a click places the centre.
    page.wait_for_selector("svg.map[data-view='ncps-saxe']")
    pick_near(page, OFFICE, 14)
    assert page.input_value("#em-scope") == "point" and page.input_value("#em-site") == "ncps-saxe"
    centre = (float(page.input_value("#em-lat")), float(page.input_value("#em-lon")))
    assert centre[0] < OFFICE_AT[0] and 2 < metres(centre, OFFICE_AT) < 9.1, centre  # just south of the office
    assert page.input_value("#em-radius") == "9.1"  # the default: 30 feet
    pick = page.locator("svg.map g.pick circle.area")
    r = float(pick.get_attribute("r"))
    # The keyboard path: the inputs are the point; the map follows them (twice the radius, twice the circle).
    page.fill("#em-radius", "18.2")
    assert float(pick.get_attribute("r")) == pytest.approx(2 * r)
    page.fill("#em-radius", "9.1")
    assert float(pick.get_attribute("r")) == pytest.approx(r)
    page.fill("#em-threat", THREAT)
    page.fill("#em-incident", "NC-26-01500")
    page.screenshot(path=str(SHOTS / "8-1-point-picked.png"), full_page=True)

    # 2. Declare once the camera system holds the 30 s before now.
    wait_recorded(broker, OFFICE, PRE_EVENT + 3)
    page.get_by_role("button", name="Declare emergency").click()
    article = page.locator("article.emergency")
    playwright_api.expect(article).to_have_count(1)
    emergency_id = article.get_attribute("data-emergency")
    em = page.request.get(f"{broker.url}/api/v1/emergencies/{emergency_id}").json()
    assert em["radius_m"] == 9.1 and (em["center"]["lat"], em["center"]["lon"]) == centre and em["zones"] == []
    playwright_api.expect(article.locator(".em-area")).to_contain_text(f"9.1 m around {centre[0]}, {centre[1]}")
    playing(page, OFFICE)  # inside the radius: opened
    playwright_api.expect(page.locator(f".denied li[data-camera='{LIBRARY}']")).to_contain_text("only during")
    assert page.locator("svg.map g.em-circle").count() == 1 and page.locator("svg.map g.pick").count() == 0
    before = countdown(page)
    assert 29 * 60 <= before <= 30 * 60  # the form's 30 minutes
    page.screenshot(path=str(SHOTS / "8-2-declared.png"), full_page=True)

    # 3. Extend by the default 15 minutes: the countdown grows by them; the API and the audit show the expiry.
    page.fill(f"#ext-why-{emergency_id}", "suspect still inside")
    page.get_by_role("button", name="Extend", exact=True).click()
    playwright_api.expect(page.locator("article.emergency .form-result")).to_contain_text("Extended by 15 min")
    extended = page.request.get(f"{broker.url}/api/v1/emergencies/{emergency_id}").json()
    assert parse_instant(extended["expires_at"]) == parse_instant(em["expires_at"]) + timedelta(minutes=15)
    page.wait_for_selector(f"article.emergency .countdown[data-expires='{extended['expires_at']}']")
    after = countdown(page)
    assert before + 15 * 60 - 10 <= after <= before + 15 * 60 + 1, (before, after)
    auditor = broker.token("auditor-ray", "ncps", "auditor")
    records = httpx.get(f"{broker.url}/api/v1/audit", params={"emergency": emergency_id, "kind": "emergency.extend"},
                        headers={"Authorization": f"Bearer {auditor}"}, timeout=10).json()["records"]  # fmt: skip
    (record,) = records
    assert record["details"]["emergency"]["expires_at"] == extended["expires_at"]
    assert record["details"]["previous_expires_at"] == em["expires_at"] and record["principal_sub"] == "dispatch-lee"
    page.screenshot(path=str(SHOTS / "8-3-extended.png"), full_page=True)

    # 4. Where the MOU allows no pre-event footage, the player says so and what to do (the broker's answer, as
    #    it gives it for an emergency grant without playback.from, served in its place).
    refusal = {"error": "access_denied", "message": "access denied", "reason": "outside_playback_window",
               "mou": "ncps-ncpd-video", "grant": "G2", "clause": "4.2"}  # fmt: skip
    page.route(
        f"**/api/v1/cameras/{OFFICE}/playback.m3u8*",
        lambda route: route.fulfill(status=403, content_type="application/json", body=json.dumps(refusal)),
    )
    assert page.locator("article.emergency button.pre-event").count() == 1  # only the office camera is covered
    page.locator("article.emergency button.pre-event").click()
    recorded = page.locator(f"figure.recorded[data-camera='{OFFICE}']")
    playwright_api.expect(recorded.locator(".status")).to_contain_text(
        "Not allowed: MOU ncps-ncpd-video (grant G2, clause 4.2) allows no footage from before the declaration. "
        "Ask the school district"
    )  # fmt: skip
    page.screenshot(path=str(SHOTS / "8-4-pre-event-refused.png"), full_page=True)
    page.unroute(f"**/api/v1/cameras/{OFFICE}/playback.m3u8*")
    recorded.get_by_role("button", name="Close recording").click()
    playwright_api.expect(recorded).to_have_count(0)

    # 5. The 30 s before the declaration, in a recorded player beside the live one.
    page.locator(f"figure.player[data-camera='{OFFICE}'] button.pre-event").click()
    playwright_api.expect(recorded.locator(".badge")).to_have_text("Recorded")
    assert page.evaluate(f"document.querySelector(\"figure.player[data-camera='{OFFICE}']\").nextElementSibling"
                         ".matches('figure.recorded')")  # fmt: skip
    start = parse_instant(recorded.locator("time").get_attribute("datetime"))
    assert start == parse_instant(em["declared_at"]) - timedelta(seconds=PRE_EVENT)
    playwright_api.expect(recorded.locator(".status")).to_contain_text("Recorded · ", timeout=20_000)
    page.wait_for_function(
        "id => { const v = document.querySelector(`video[data-recorded-camera='${id}']`); return v && v.currentTime > 1; }",
        arg=OFFICE, timeout=40_000,
    )  # fmt: skip
    first = recorded_time(page, OFFICE)
    page.wait_for_timeout(1500)
    assert recorded_time(page, OFFICE) > first  # advancing: really playing
    said = recorded.locator(".status").inner_text()  # "Recorded · 30 s."
    assert "begins at" not in said and int(said.split("·")[1].split()[0]) >= PRE_EVENT - 2, said
    assert current_time(page, OFFICE) > 0  # the live one plays on beside it
    page.screenshot(path=str(SHOTS / "8-5-pre-event.png"), full_page=True)

    # 6. End it: the live and the recorded players stop and say why; the circle leaves the map.
    page.fill(f"#end-why-{emergency_id}", "suspect in custody")
    page.get_by_role("button", name="End emergency").click()
    for player in (f"figure.player[data-camera='{OFFICE}']", f"figure.recorded[data-camera='{OFFICE}']"):
        playwright_api.expect(page.locator(f"{player} .status")).to_contain_text(
            "Access ended: emergency ended at", timeout=20_000
        )
        assert page.locator(f"{player}.stopped").count() == 1
    playwright_api.expect(page.locator("svg.map g.em-circle")).to_have_count(0)
    playwright_api.expect(page.locator("article.emergency")).to_have_count(0)
    page.screenshot(path=str(SHOTS / "8-6-ended.png"), full_page=True)
    page.context.close()
