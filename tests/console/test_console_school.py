"""School IT's page in Debian's Chromium against a real ``camgate demo``: cameras with what the police may see now
and under which clause (unclassified first), the MOUs in plain words, and, once dispatch declares, the interior
camera shared under the emergency clause and the officer who watches it listed within seconds.

Screenshots go to ``test-screenshots/6-school-it-*.png`` (git-ignored); ``6-school-it-full.png`` is the README's.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright import sync_api as playwright_api

from tests.api.broker_process import BrokerProcess
from tests.console.test_console_a11y import axe, fits, tab_to
from tests.console.test_console_browser import SHOTS, THREAT, open_console, playing
from tests.paths import REPO

pytestmark = [pytest.mark.video, pytest.mark.browser]

INCIDENT = "NC-26-01433"
APPEAR_SECONDS = 5.0  # a viewer shows up on school IT's page within this of the officer's video playing


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess.start(tmp_path_factory.mktemp("school")) as running:
        yield running


def cameras_at(broker: BrokerProcess, site: str) -> int:
    """How many cameras the broker's inventory has at ``site`` (the demo's inventory grows with new adapters)."""
    inventory = yaml.safe_load(Path(broker.env["CAMGATE_POLICY__INVENTORY"]).read_text(encoding="utf-8"))
    return sum(1 for camera in inventory["cameras"] if camera["site"] == site)


def row(page: Any, camera: str) -> Any:
    return page.locator(f"#sharing-table tbody tr[data-camera='{camera}']")


def declare(broker: BrokerProcess) -> dict[str, Any]:
    token = broker.token("dispatch-lee", "ncpd", "dispatcher")
    body = {
        "mou": "ncps-ncpd-video",
        "site": "ncps-saxe",
        "zones": ["interior"],
        "threat": THREAT,
        "incident": INCIDENT,
    }
    auth = {"Authorization": f"Bearer {token}"}
    r = httpx.post(f"{broker.url}/api/v1/emergencies", json=body, headers=auth, timeout=10)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_school_it_sees_sharing_by_clause_and_who_watches_under_an_emergency(
    browser: Any, broker: BrokerProcess
) -> None:
    school = open_console(browser, broker, "school_it", "school")
    school.wait_for_selector("#sharing-table tbody tr[data-camera]")
    first = school.locator("#sharing-table tbody tr[data-camera]").first
    assert first.get_attribute("data-camera") == "saxe-new-01" and first.get_attribute("class") == "unclassified"
    assert "Shared with no one until you give it a zone" in first.inner_text()
    assert "Unclassified: no zone" in first.inner_text()
    exterior = row(school, "saxe-ext-01").locator("td.partners")
    assert "New Canaan Police Department" in exterior.inner_text()
    assert "Shared now: live, snapshots, playback under clause 4.1" in exterior.inner_text()
    interior = row(school, "saxe-int-01").locator("td.partners")
    assert "Only during a declared emergency: live, snapshots, playback (clause 4.2;" in interior.inner_text()
    assert "Never shared, not even in an emergency (MOU ncps-ncpd-video)" in row(school, "nchs-res-01").inner_text()
    mous = school.locator("article.mou[data-mou='ncps-ncpd-video']")
    assert "exterior cameras at every New Canaan Public Schools site, at any time" in mous.inner_text()
    assert "only during a declared emergency, for up to 4 h; pre-event footage" in mous.inner_text()
    playwright_api.expect(school.locator("#watch-title")).to_have_text("Emergencies at my sites (0)")
    assert school.locator("video").count() == 0  # no player on this page
    school.screenshot(path=str(SHOTS / "6-school-it-before.png"), full_page=True)

    # Dispatch declares (the API): the event stream brings it, the interior row flips to the emergency clause.
    emergency = declare(broker)
    flipped = f"Shared now: live, snapshots, playback under clause 4.2 during emergency {INCIDENT}"
    playwright_api.expect(interior).to_contain_text(flipped, timeout=APPEAR_SECONDS * 1000)
    assert flipped in row(school, "saxe-int-02").inner_text()  # the library: interior, in the declared scope too
    assert "Only during a declared emergency" in row(school, "east-int-01").inner_text()  # another school: still closed
    assert "under clause 4.1" in exterior.inner_text()
    playwright_api.expect(school.locator("#watch-title")).to_have_text("Emergencies at my sites (1)")
    article = school.locator(f"section.emergencies-here article[data-emergency='{emergency['id']}']")
    playwright_api.expect(article).to_contain_text("No one is watching under it now.")

    # An officer, in a browser of their own, watches the interior camera until its video really advances.
    officer = open_console(browser, broker, "officer", "dispatch")
    playing(officer, "saxe-int-01")
    played = time.monotonic()
    school.bring_to_front()  # the school IT person's own screen (Chromium throttles pages behind another)
    watcher = article.locator("tr[data-watching='saxe-int-01']")
    playwright_api.expect(watcher).to_contain_text("officer-kim", timeout=APPEAR_SECONDS * 1000)
    appeared = time.monotonic() - played
    assert appeared < APPEAR_SECONDS, f"the viewer appeared {appeared:.2f} s after the video played"
    assert "clause 4.2" in watcher.inner_text() and "Front office hallway (saxe-int-01)" in watcher.inner_text()
    # The live region says the newest viewer: the officer's wall also plays the library, the other interior camera
    # the emergency opened, and its announcement may come after the office's (was: the office's alone expected).
    announced = school.locator("#announce").inner_text()
    said = re.search(rf"officer-kim \(ncpd\) is watching .+ \((saxe-int-0[12])\) under {INCIDENT}\.", announced)
    assert said, announced
    playwright_api.expect(article.locator(f"tr[data-watching='{said.group(1)}']")).to_contain_text("officer-kim")
    axe(school, "school IT during an emergency")
    school.screenshot(path=str(SHOTS / "6-school-it-full.png"), full_page=True)
    school.select_option("#school-site", "ncps-saxe")  # one school: the README's picture (docs/console/school-it.png)
    saxe = cameras_at(broker, "ncps-saxe")
    playwright_api.expect(school.locator("#sharing-table caption")).to_have_text(re.compile(rf"^{saxe} cameras, "))
    assert school.locator("#sharing-table tbody tr[data-camera]").first.get_attribute("data-camera") == "saxe-new-01"
    school.screenshot(path=str(SHOTS / "6-school-it-saxe.png"), full_page=True)
    school.set_viewport_size({"width": 768, "height": 1024})
    fits(school, "school IT during an emergency, 768x1024")
    school.screenshot(path=str(SHOTS / "6-school-it-tablet.png"), full_page=True)
    officer.context.close()
    school.context.close()


def test_a_principal_picks_a_site_with_the_keyboard_and_has_no_inventory_to_do(
    browser: Any, broker: BrokerProcess
) -> None:
    principal = open_console(browser, broker, "principal", "school")
    principal.wait_for_selector("#sharing-table tbody tr[data-camera]")
    assert principal.locator("#sharing-table tbody tr[data-camera]").first.get_attribute("data-camera") == "saxe-new-01"
    assert "Classifying cameras is for school IT operators" in principal.locator("main").inner_text()
    assert principal.locator("#banner").is_hidden()  # a 403 on the operators' list is no error for a principal
    tab_to(principal, lambda f: f["id"] == "school-site")  # the keyboard alone, every stop with a visible focus
    principal.keyboard.type("East")  # type-ahead in the closed <select>
    assert principal.eval_on_selector("#school-site", "el => el.value") == "ncps-east"
    east = cameras_at(broker, "ncps-east")
    playwright_api.expect(principal.locator("#sharing-table caption")).to_have_text(re.compile(rf"^{east} cameras, "))
    assert principal.locator("#sharing-table tbody tr[data-camera]").count() == east
    principal.context.close()


def test_school_it_is_warned_of_an_expired_mou_and_a_zone_typo(browser: Any, tmp_path: Path) -> None:
    """Issue 13 item 19: an MOU past its expiry and a camera zone no MOU defines loaded silently; the School IT page
    now lists both, where the reload that applied them said them too."""
    mous = tmp_path / "mou"
    shutil.copytree(REPO / "policies" / "mou", mous)
    school_mou = mous / "mou-ncps-ncpd.yaml"
    expired = (datetime.now(UTC) - timedelta(days=2)).date()
    text = school_mou.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^effective: .*$", "effective: 2020-01-01", text)
    school_mou.write_text(re.sub(r"(?m)^expires: .*$", f"expires: {expired}", text), encoding="utf-8")
    with BrokerProcess.start(tmp_path / "broker", env={"CAMGATE_POLICY__MOUS": f'["{mous}"]'}) as broker:
        inventory = Path(broker.env["CAMGATE_POLICY__INVENTORY"])
        library = "name: Library, site: ncps-saxe, building: main, zone: interior"
        inventory.write_text(
            inventory.read_text(encoding="utf-8").replace(library, library.replace("interior", "intrior"))
        )
        token = broker.token("it-ana", "ncps", "operator")
        r = httpx.post(f"{broker.url}/api/v1/admin/reload", headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert r.status_code == 200, r.text
        fields = [w.split(": warning: ")[1].split(":")[0] for w in r.json()["warnings"]]
        assert fields[0] == "expires" and re.fullmatch(r"cameras\.\d+\.zone", fields[1]) and len(fields) == 2
        school = open_console(browser, broker, "school_it", "school")
        school.wait_for_selector("#doc-warnings-title")
        playwright_api.expect(school.locator("#doc-warnings-title")).to_have_text("Document warnings (2)")
        mou = school.locator("li[data-warning='mou_expired'][data-subject='ncps-ncpd-video']")
        assert f"MOU 'ncps-ncpd-video' expired on {expired}" in mou.inner_text()
        assert "mou-ncps-ncpd.yaml, line 8 (expires)" in mou.inner_text()
        zone = school.locator("li[data-warning='unknown_zone'][data-subject='saxe-int-02']")
        assert "zone 'intrior'" in zone.inner_text() and "Did you mean 'interior'?" in zone.inner_text()
        axe(school, "school IT with document warnings")
        school.context.close()
