"""School IT classifies the demo's unclassified camera on its page, by keyboard alone, in Debian's Chromium against a
real ``camgate demo`` (issue 14, item 7): errors are shown at their field, and once saved the camera leaves the list
of cameras to classify, its sharing row says what the police may see now, an officer's next request is decided
with it, and the inventory file is left as it was (the demo keeps its MOUs, and so its classifications, in the store).

Screenshots: ``test-screenshots/14-classify-*.png`` (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api as playwright_api

from tests.api.broker_process import BrokerProcess
from tests.console.test_console_a11y import axe, focused, tab_to
from tests.console.test_console_browser import SHOTS, open_console

pytestmark = [pytest.mark.video, pytest.mark.browser]

CAMERA = "saxe-new-01"
FORM = f"form[data-classify='{CAMERA}']"


def field(name: str) -> str:
    return f"classify-{CAMERA}-{name}"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess.start(tmp_path_factory.mktemp("classify")) as running:
        yield running


def officer_live(broker: BrokerProcess) -> dict[str, Any]:
    token = broker.token("officer-kim", "ncpd", "officer")
    r = httpx.get(f"{broker.url}/api/v1/cameras", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return dict(next(c for c in r.json()["cameras"] if c["id"] == CAMERA)["live"])


def test_school_it_classifies_the_new_camera_with_the_keyboard(browser: Any, broker: BrokerProcess) -> None:
    inventory = Path(broker.env["CAMGATE_POLICY__INVENTORY"])
    before = inventory.read_bytes()
    assert officer_live(broker)["reason"] == "unclassified_camera"
    page = open_console(browser, broker, "school_it", "school")
    page.wait_for_selector(FORM)
    row = page.locator(f"#sharing-table tbody tr[data-camera='{CAMERA}']")
    assert row.get_attribute("class") == "unclassified"
    assert page.eval_on_selector(f"#{field('site')}", "el => el.value") == "ncps-saxe"
    assert page.eval_on_selector(f"#{field('building')}", "el => el.value") == "main"
    zones = page.eval_on_selector_all(f"#{field('zone')} option", "els => els.map(e => e.textContent)")
    assert zones == ["Choose a zone", "exterior", "interior", "restricted (never shared)"]
    page.screenshot(path=str(SHOTS / "14-classify-form.png"), full_page=True)

    # No zone: said at the zone, where the focus goes.
    tab_to(page, lambda f: f["id"] == field("site"))
    tab_to(page, lambda f: f["tag"] == "button" and f["label"] is None and f["id"] == "")
    page.keyboard.press("Enter")
    playwright_api.expect(page.locator(f"#{field('zone')}-error")).to_have_text("Choose the zone this camera is in.")
    assert focused(page)["id"] == field("zone")
    page.keyboard.type("ext")  # type-ahead in the closed <select>
    assert page.eval_on_selector(f"#{field('zone')}", "el => el.value") == "exterior"

    # A latitude out of range: the broker's 422 names location.lat, said at the latitude.
    tab_to(page, lambda f: f["id"] == field("lat"))
    page.keyboard.type("95")
    tab_to(page, lambda f: f["id"] == field("lon"))
    page.keyboard.type("-73.4958")
    page.keyboard.press("Enter")
    lat_error = page.locator(f"#{field('lat')}-error")
    playwright_api.expect(lat_error).to_contain_text("less than or equal to 90")
    assert focused(page)["id"] == field("lat")
    assert page.get_attribute(f"#{field('lat')}", "aria-invalid") == "true"
    axe(page, "the classification form with an error at its field")
    page.screenshot(path=str(SHOTS / "14-classify-error.png"), full_page=True)

    page.keyboard.press("Control+a")
    page.keyboard.type("41.1489")
    page.keyboard.press("Enter")
    playwright_api.expect(page.locator(FORM)).to_have_count(0)
    playwright_api.expect(page.locator(f"li[data-todo='{CAMERA}']")).to_have_count(0)
    playwright_api.expect(row).to_contain_text("Shared now: live, snapshots, playback under clause 4.1")
    assert row.get_attribute("class") != "unclassified"
    assert "is classified: zone exterior at Saxe Middle School" in page.locator("#announce").inner_text()
    axe(page, "the school IT page after classifying")
    page.screenshot(path=str(SHOTS / "14-classify-done.png"), full_page=True)
    page.context.close()

    assert officer_live(broker)["allowed"] is True  # the very next request
    assert inventory.read_bytes() == before  # kept in the store: the checked-in example stays clean
    (record,) = audit_classify(broker)
    assert record["details"]["kept"] == "store"
    assert record["details"]["after"]["zone"] == "exterior" and record["details"]["after"]["location"] == {
        "lat": 41.1489,
        "lon": -73.4958,
    }


def audit_classify(broker: BrokerProcess) -> list[dict[str, Any]]:
    token = broker.token("auditor-ray", "ncps", "auditor")
    r = httpx.get(
        f"{broker.url}/api/v1/audit",
        params={"kind": "camera.classify"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return list(r.json()["records"])
