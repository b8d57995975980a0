"""Issue 14 in the console, against a real ``camgate demo`` (MOUs kept in its store, policies/mou imported at
first start): school IT drafts v4 of the demo MOU in the editor (a zone ``gym`` never shared, the emergency maximum
from 4 h to 2 h); a first try naming the gym in a grant shows the error at its line; school IT approves; the police
chief signs in, reads the redline and impact, and approves. The new rules hold at the next request, over HTTP:
school IT classifies the gym lobby into the new zone and it is never shared, even in an emergency, and a 3-hour
declaration is refused. Screenshots: ``test-screenshots/14-*.png`` (git-ignored)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright import sync_api as playwright_api

from tests.api.broker_process import BrokerProcess
from tests.console.test_console_a11y import axe, fits
from tests.console.test_console_browser import SHOTS, THREAT, open_console

pytestmark = [pytest.mark.browser]

MOU = "ncps-ncpd-video"
GYM = "nchs-gym-01"  # config/inventory.yaml: the gym lobby (building gym, zone interior)
GYM_PLACE = {"site": "ncps-nchs", "building": "gym", "location": {"lat": 41.1526, "lon": -73.4815}}


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess.start(tmp_path_factory.mktemp("console-mous")) as running:
        yield running


def call(broker: BrokerProcess, who: tuple[str, str, str], method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {broker.token(*who)}"} | kw.pop("headers", {})
    return httpx.request(method, f"{broker.url}{path}", headers=headers, timeout=10, **kw)


OFFICER = ("officer-kim", "ncpd", "officer")
SERGEANT = ("sgt-ortiz", "ncpd", "supervisor")


def live(broker: BrokerProcess, camera: str) -> dict[str, Any]:
    r = call(broker, OFFICER, "GET", "/api/v1/cameras")
    assert r.status_code == 200, r.text
    return dict(next(c for c in r.json()["cameras"] if c["id"] == camera)["live"])


def declare(broker: BrokerProcess, minutes: int | None = None) -> httpx.Response:
    body: dict[str, Any] = {"mou": MOU, "site": "ncps-nchs", "threat": THREAT, "incident": "NC-26-01414"}
    if minutes is not None:
        body["duration_minutes"] = minutes
    return call(broker, SERGEANT, "POST", "/api/v1/emergencies", json=body)


def v4_text(v3: str, *, fixed: bool) -> str:
    """What school IT types: a gym zone never shared, and 2 h at most; the first try also lists it in G2."""
    text = v3.replace("version: 3", "version: 4").replace("max_duration: 4h", "max_duration: 2h")
    text = text.replace("  restricted: {never: true}", "  gym: {never: true}\n  restricted: {never: true}")
    if fixed:
        return text
    return text.replace(
        "zones: [interior]\n    actions: [live, snapshot, playback]",
        "zones: [interior, gym]\n    actions: [live, snapshot, playback]",
    )


def test_school_it_drafts_v4_and_the_chief_approves_it_after_reading_the_redline(
    browser: Any, broker: BrokerProcess
) -> None:
    # Before: the gym lobby (interior) is shared in an emergency (clause 4.2), and 3 h is a valid emergency.
    assert live(broker, GYM)["reason"] == "no_emergency"

    school = open_console(browser, broker, "school_it", "mous")
    card = school.locator(f"article.mou-card[data-mou='{MOU}']")
    playwright_api.expect(card).to_contain_text("version 3 in force")
    axe(school, "the MOU list")
    school.screenshot(path=str(SHOTS / "14-1-mou-list.png"), full_page=True)
    card.get_by_role("link", name="Draft a new version").click()
    school.wait_for_url(re.compile(r"#mous/ncps-ncpd-video/edit$"))
    editor = school.locator("#mou-text")
    playwright_api.expect(editor).to_have_value(re.compile(r"^version: 4$", re.M))  # from the text in force
    v3 = editor.input_value().replace("version: 4", "version: 3")
    playwright_api.expect(school.locator("#screen-title")).to_have_text(f"Draft version 4 of {MOU}")

    # A first try that does not validate: kept nowhere, each error at its line (gutter and list).
    editor.fill(v4_text(v3, fixed=False))
    school.get_by_role("button", name="Save draft").click()
    errors = school.locator(".findings.errors li")
    playwright_api.expect(errors.first).to_contain_text("never")
    bad = [int(x) for x in errors.evaluate_all("els => els.map((e) => e.dataset.line)")]
    lines = v4_text(v3, fixed=False).split("\n")
    assert len(bad) == 1 and "zones: [interior, gym]" in lines[bad[0] - 1], (bad, [lines[n - 1] for n in bad])
    for n in bad:
        playwright_api.expect(school.locator(f".gutter .ln.error[data-line='{n}']")).to_have_text(f"!{n}")
    assert call(broker, OFFICER, "GET", f"/api/v1/mous/{MOU}/versions").json()["versions"][-1]["version"] == 3
    errors.first.get_by_role("button").click()  # the caret goes to the line
    assert school.evaluate("document.activeElement.id") == "mou-text"
    axe(school, "the editor with errors")
    school.screenshot(path=str(SHOTS / "14-2-editor-errors.png"), full_page=True)

    # Corrected and saved: the plain words beside it.
    editor.fill(v4_text(v3, fixed=True))
    school.get_by_role("button", name="Save draft").click()
    status = school.locator(".editor-form .form-result")
    playwright_api.expect(status).to_contain_text("Saved: version 4, revision 1")
    reading = school.locator(".reading")
    playwright_api.expect(reading).to_contain_text("for up to 2 h")
    assert "Waiting for ncps and ncpd to approve" in reading.inner_text()
    assert school.locator(".findings.errors").count() == 0
    axe(school, "the editor after saving")
    school.screenshot(path=str(SHOTS / "14-3-editor-saved.png"), full_page=True)

    # School IT (an ncps approver) approves: one screen naming the hash.
    reading.get_by_role("link", name="Approve version 4…").click()
    button = school.locator("form.confirm button[type=submit]")
    sha = button.get_attribute("data-sha")
    assert sha and re.fullmatch(r"[0-9a-f]{64}", sha)
    playwright_api.expect(button).to_have_text(f"Approve {sha[:12]}")
    assert school.locator(f"form.confirm code[title='{sha}']").inner_text() == sha[:12]
    axe(school, "the approval screen")
    school.screenshot(path=str(SHOTS / "14-4-school-approves.png"), full_page=True)
    button.click()
    playwright_api.expect(school.locator("form.confirm .form-result")).to_contain_text("now proposed")
    assert "Waiting for ncpd to approve" in school.locator("form.confirm .form-result").inner_text()
    assert live(broker, GYM)["reason"] == "no_emergency"  # one party only: v3 still rules
    school.context.close()

    officer = open_console(browser, broker, "officer", "dispatch")
    assert officer.locator("#nav a").all_inner_texts() == ["Dispatch"]  # officers do not administer MOUs
    officer.context.close()

    # The chief: the history, then the redline and impact of v3 -> v4, then the approval.
    chief = open_console(browser, broker, "chief", "mous")
    chief.locator(f"article.mou-card[data-mou='{MOU}'] h3 a").click()
    version4 = chief.locator("article.version[data-version='4']")
    playwright_api.expect(version4).to_contain_text("Waiting for ncpd to approve")
    assert "it-ana (operator) approved" in version4.inner_text()
    chief.screenshot(path=str(SHOTS / "14-5-chief-history.png"), full_page=True)
    version4.get_by_role("link", name="Redline against version 3").click()
    redline = chief.locator("table.redline")
    playwright_api.expect(redline).to_be_visible()
    removed = redline.locator("tr.del").all_inner_texts()
    added = redline.locator("tr.ins").all_inner_texts()
    assert any("max_duration: 4h" in r for r in removed) and any("max_duration: 2h" in a for a in added)
    assert any("gym: {never: true}" in a for a in added) and any("version: 4" in a for a in added)
    impact = chief.locator("section[aria-labelledby=impact-title]")
    playwright_api.expect(impact).not_to_contain_text("Loading")
    if chief.locator("[data-impact=unavailable]").count() == 0:  # the broker has the diff route
        assert "New zone: gym cameras; never shared, by any grant or in any emergency." in impact.inner_text()
        assert "2 h" in impact.inner_text() and "(was 4 h)" in impact.inner_text()
        assert "No agency or role gains or loses any camera." in impact.inner_text()  # no camera is in zone gym yet
    axe(chief, "the redline and impact")
    fits(chief, "the redline and impact")
    chief.screenshot(path=str(SHOTS / "14-6-chief-redline.png"), full_page=True)
    impact.screenshot(path=str(SHOTS / "14-6-impact.png"))
    chief.get_by_role("link", name="Approve version 4…").click()
    button = chief.locator("form.confirm button[type=submit]")
    playwright_api.expect(button).to_have_text(f"Approve {sha[:12]}")
    chief.screenshot(path=str(SHOTS / "14-7-chief-approves.png"), full_page=True)
    button.press("Enter")  # by keyboard
    playwright_api.expect(chief.locator("form.confirm .form-result")).to_contain_text("now in force")

    # The new rules hold at the next request: 3 h is refused; school IT puts the gym lobby into the new zone
    # (PUT .../classification, the School IT page's form) and it is never shared, even in an emergency.
    assert live(broker, GYM)["reason"] == "no_emergency"
    it = ("it-ana", "ncps", "operator")
    r = call(broker, it, "PUT", f"/api/v1/cameras/{GYM}/classification", json=GYM_PLACE | {"zone": "gym"})
    assert r.status_code == 200, r.text
    assert live(broker, GYM)["reason"] == "never_shared_zone"
    r = declare(broker, minutes=180)
    assert r.status_code == 422 and "max_duration of 120 minutes" in r.text, r.text
    r = declare(broker)
    assert r.status_code == 201, r.text
    assert live(broker, "nchs-int-01")["allowed"] is True  # interior: still shared in an emergency
    gym = live(broker, GYM)
    assert (gym["allowed"], gym["reason"]) == (False, "never_shared_zone")
    chief.goto(f"{broker.url}/console/#mous/{MOU}")
    playwright_api.expect(chief.locator("article.version[data-version='3']")).to_contain_text("Superseded")
    playwright_api.expect(chief.locator("article.version[data-version='4']")).to_contain_text("In force")
    chief.screenshot(path=str(SHOTS / "14-8-in-force.png"), full_page=True)
    chief.context.close()


def test_a_supervisor_keeps_the_roster_and_only_named_officers_see(browser: Any, broker: BrokerProcess) -> None:
    """The roster screen: without the broker's roster route it says so; with it, a rostered version approved by
    both parties, then the police supervisor names one officer, and the next request follows the roster."""
    chief = ("chief-dunn", "ncpd", "chief")
    page = open_console(browser, broker, "supervisor", f"mous/{MOU}/roster")
    if call(broker, chief, "GET", f"/api/v1/mous/{MOU}/roster").status_code == 404:
        playwright_api.expect(page.locator("[data-roster=unavailable]")).to_contain_text("keeps no rosters yet")
        page.screenshot(path=str(SHOTS / "14-9-roster-unavailable.png"), full_page=True)
        page.context.close()
        return
    playwright_api.expect(page.locator("[data-roster=none]")).to_contain_text("requires no roster")
    history = call(broker, chief, "GET", f"/api/v1/mous/{MOU}/versions").json()
    latest = history["versions"][-1]["version"]
    text = call(broker, chief, "GET", f"/api/v1/mous/{MOU}/versions/{latest}").json()["text"]
    text = text.replace(f"version: {latest}", f"version: {latest + 1}") + "roster:\n  agencies: [ncpd]\n"
    it = ("it-ana", "ncps", "operator")
    r = call(broker, it, "POST", "/api/v1/mous", content=text.encode(), headers={"Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    for who in (it, chief):
        r = call(
            broker,
            who,
            "POST",
            f"/api/v1/mous/{MOU}/versions/{latest + 1}/approve",
            json={"sha256": r.json()["sha256"]},
        )
        assert r.status_code == 200, r.text
    assert r.json()["state"] == "in_force"
    assert live(broker, "saxe-ext-01")["reason"] == "not_on_roster"  # an empty roster: nobody of ncpd

    page.reload()
    page.get_by_role("button", name="Add a person").click()
    assert page.evaluate("document.activeElement.name") == "agency"  # the new row, by keyboard
    row = page.locator(".roster-form tbody tr").last
    row.locator("input[name=sub]").fill("officer-kim")
    row.locator("input[name=name]").fill("Officer Kim")
    row.locator("input[name=agency]").fill("ncpd")
    page.get_by_role("button", name="Save roster").click()
    playwright_api.expect(page.locator(".roster-form .form-result")).to_contain_text("is in force, 1 person")
    assert live(broker, "saxe-ext-01")["allowed"] is True  # officer-kim is named
    r = call(broker, ("dispatch-lee", "ncpd", "dispatcher"), "GET", "/api/v1/cameras")
    lee = next(c for c in r.json()["cameras"] if c["id"] == "saxe-ext-01")["live"]
    assert (lee["allowed"], lee["reason"]) == (False, "not_on_roster")
    page.reload()
    playwright_api.expect(page.locator("table.roster tbody tr[data-sub='officer-kim']")).to_contain_text("Officer Kim")
    axe(page, "the roster")
    page.screenshot(path=str(SHOTS / "14-9-roster.png"), full_page=True)
    page.context.close()


def test_school_it_withdraws_an_approval_and_terminates_the_mou(browser: Any, broker: BrokerProcess) -> None:
    """Last in this module: it ends the demo MOU. Each action one screen naming the hash, by keyboard."""
    it = ("it-ana", "ncps", "operator")
    history = call(broker, it, "GET", f"/api/v1/mous/{MOU}/versions").json()
    latest = history["versions"][-1]["version"]
    text = call(broker, it, "GET", f"/api/v1/mous/{MOU}/versions/{latest}").json()["text"]
    text = text.replace(f"version: {latest}", f"version: {latest + 1}").replace(
        "default_duration: 60m", "default_duration: 45m"
    )
    r = call(broker, it, "POST", "/api/v1/mous", content=text.encode(), headers={"Content-Type": "application/yaml"})
    assert r.status_code == 201, r.text
    sha = r.json()["sha256"]
    r = call(broker, it, "POST", f"/api/v1/mous/{MOU}/versions/{latest + 1}/approve", json={"sha256": sha})
    assert r.json()["state"] == "proposed", r.text

    page = open_console(browser, broker, "school_it", f"mous/{MOU}")
    version = page.locator(f"article.version[data-version='{latest + 1}']")
    version.get_by_role("link", name="Withdraw my agency's approval…").click()
    button = page.locator("form.confirm button[type=submit]")
    playwright_api.expect(button).to_have_text(f"Withdraw approval of {sha[:12]}")
    button.focus()
    page.keyboard.press("Enter")
    playwright_api.expect(page.locator("form.confirm .form-result")).to_contain_text("now draft")
    page.get_by_role("link", name="Back to the history").click()
    stale = page.locator(f"article.version[data-version='{latest + 1}'] .stale")
    playwright_api.expect(stale).to_contain_text("withdrawn")
    page.screenshot(path=str(SHOTS / "14-10-withdrawn.png"), full_page=True)

    assert live(broker, "saxe-ext-01")["allowed"] is True or live(broker, "saxe-ext-01")["reason"] == "not_on_roster"
    page.get_by_role("link", name="Terminate this MOU…").click()
    form = page.locator("form.confirm")
    playwright_api.expect(form).to_contain_text("You end MOU ncps-ncpd-video at once")
    page.locator("#terminate-reason").fill("too short")
    page.get_by_role("button", name=f"Terminate {MOU}").click()
    assert page.locator("#terminate-reason:invalid").count() == 1  # the browser says why; nothing was sent
    assert call(broker, it, "GET", f"/api/v1/mous/{MOU}/versions").json()["terminated"] is None
    page.locator("#terminate-reason").fill("The board ended the agreement on 7 December.")
    axe(page, "the termination screen")
    page.screenshot(path=str(SHOTS / "14-11-terminate.png"), full_page=True)
    page.get_by_role("button", name=f"Terminate {MOU}").click()
    playwright_api.expect(form.locator(".form-result")).to_contain_text("is terminated")
    cameras = call(broker, OFFICER, "GET", "/api/v1/cameras").json()["cameras"]
    assert not [c["id"] for c in cameras if c["id"].startswith("saxe-") and c["live"]["allowed"]]  # nothing shared
    page.goto(f"{broker.url}/console/#mous/{MOU}")
    playwright_api.expect(page.locator("main")).to_contain_text("The board ended the agreement")
    assert page.get_by_role("link", name="Terminate this MOU…").count() == 0
    assert page.get_by_role("link", name="Draft a new version").count() == 0
    page.context.close()
