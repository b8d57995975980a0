"""The auditor's page in Debian's Chromium against a real ``camgate demo``: an emergency's timeline and CSV export.

An officer really watches an interior camera during an emergency (the ``<video>``'s ``currentTime`` advances),
the emergency ends, and the auditor sees that viewing as a bar between the declared and ended markers of the
emergency's timeline. The CSV download is the whole filtered view (every page, not the 50 rows shown),
quoted per RFC 4180, with cells that a spreadsheet would run as formulas defused (OWASP CSV injection).
Helpers come from ``test_console_browser.py``; this module has its own broker and browser.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright import sync_api as playwright_api

from tests.api.broker_process import BrokerProcess
from tests.console.test_console_a11y import axe, fits
from tests.console.test_console_browser import SHOTS, current_time, open_console, playing
from tests.waiting import wait_for

CSV_COLUMNS = [
    "seq",
    "ts",
    "kind",
    "principal_sub",
    "principal_agency",
    "principal_roles",
    "camera",
    "action",
    "allowed",
    "reason",
    "mou",
    "grant",
    "clause",
    "emergency",
    "client",
    "details",
    "prev_hash",
    "hash",
]
# A threat with a comma, quotes and a line break: the details column must survive the CSV round trip.
THREAT = 'Caller reports an armed intruder, a "tall man",\nin the front office.'
FORMULA = '=HYPERLINK("http://127.0.0.1/x","open me")'  # a principal name a spreadsheet would run

pytestmark = [pytest.mark.video, pytest.mark.browser]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess.start(tmp_path_factory.mktemp("console-auditor")) as running:
        yield running


class Http:
    """The broker's API with a dev-issuer bearer token (``camgate token``), as the README's walkthrough."""

    def __init__(self, broker: BrokerProcess, sub: str, agency: str, roles: str) -> None:
        self.client = httpx.Client(
            base_url=broker.url, timeout=30, headers={"Authorization": f"Bearer {broker.token(sub, agency, roles)}"}
        )

    def call(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        r = self.client.request(method, path, **kw)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()

    def audit(self, **params: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        after = None
        while True:
            page = self.call(
                "GET", "/api/v1/audit", params=params | {"limit": 1000} | ({"after": after} if after else {})
            )
            out += page["records"]
            if (after := page["next"]) is None:
                return out


def downloaded_csv(page: Any) -> tuple[str, list[list[str]]]:
    """Click "Download CSV"; the file's name and its rows (header first), read as a spreadsheet would."""
    with page.expect_download() as info:
        page.click("#csv")
    download = info.value
    text = download.path().read_bytes().decode("utf-8")
    assert text.endswith("\r\n") and "\r\n" in text  # RFC 4180 record separators
    return download.suggested_filename, list(csv.reader(io.StringIO(text, newline="")))


def test_the_auditor_sees_who_watched_which_camera_when(browser: Any, broker: BrokerProcess) -> None:
    dispatcher = Http(broker, "dispatch-lee", "ncpd", "dispatcher")
    auditor_api = Http(broker, "auditor-ray", "ncps", "auditor")
    em = dispatcher.call(
        "POST",
        "/api/v1/emergencies",
        201,
        json={
            "mou": "ncps-ncpd-video",
            "site": "ncps-saxe",
            "zones": ["interior"],
            "incident": "NC-26-01433",
            "duration_minutes": 30,
            "threat": THREAT,
        },
    )

    officer = open_console(browser, broker, "officer", "dispatch")
    playing(officer, "saxe-int-01")
    first = current_time(officer, "saxe-int-01")
    officer.wait_for_timeout(1500)
    assert current_time(officer, "saxe-int-01") > first  # really watched
    dispatcher.call("POST", f"/api/v1/emergencies/{em['id']}/end", json={"reason": "suspect in custody"})
    status = officer.locator("figure.player[data-camera='saxe-int-01'] .status")
    playwright_api.expect(status).to_contain_text("Access ended: emergency ended at", timeout=20_000)
    officer.context.close()

    def all_ended() -> bool:  # every interior camera on the officer's wall: one session each, all closed
        kinds = [r["kind"] for r in auditor_api.audit(emergency=em["id"], principal="officer-kim")]
        return 0 < kinds.count("session.start") == kinds.count("session.end")

    wait_for(all_ended, 20, "the officer's viewing sessions to be recorded as ended")

    auditor = open_console(browser, broker, "auditor", "audit")
    playwright_api.expect(auditor.locator("#verify")).to_contain_text("Chain intact")
    # From the log: filter by the emergency, click its id in a record.
    auditor.fill("#f-emergency", em["id"])
    auditor.get_by_role("button", name="Apply").click()
    auditor.wait_for_selector("#audit-table tbody tr:has(td:text-is('emergency.end'))")
    auditor.locator("#audit-table tbody tr").first.get_by_role("button", name=em["id"]).click()
    bar = auditor.locator(".gantt rect.tl-bar[data-principal='officer-kim'][data-camera='saxe-int-01']")
    playwright_api.expect(bar).to_have_count(1)
    assert auditor.locator("#tl-pick").input_value() == em["id"]

    def marker_x(kind: str) -> float:
        return float(auditor.locator(f".gantt .tl-marker[data-kind='{kind}']").get_attribute("data-x"))

    x, width = float(bar.get_attribute("x")), float(bar.get_attribute("width"))
    declared_x, ended_x = marker_x("declare"), marker_x("end")
    assert declared_x < x and x + width <= ended_x + 0.5, (declared_x, x, width, ended_x)  # between the markers
    assert bar.get_attribute("data-end")  # closed: drawn to its last request, not to "now"
    assert auditor.locator(".gantt .tl-marker[data-kind='now']").count() == 0
    lane = auditor.locator(".gantt g.tl-lane[data-principal='officer-kim'][data-camera='saxe-int-01']")
    assert "officer-kim (ncpd)" in (lane.text_content() or "")
    # One image for screen readers, with its title and description; the same data as a table.
    chart = auditor.locator(".gantt")
    assert chart.get_attribute("role") == "img"
    assert auditor.locator("#tl-svg-title").text_content() == f"Timeline of emergency {em['id']}"
    desc = auditor.locator("#tl-svg-desc").text_content() or ""
    n = len(auditor_api.audit(emergency=em["id"], kind="session.start"))
    assert f"{n} viewing session{'s' * (n > 1)} by 1 person on {n} camera{'s' * (n > 1)}" in desc, desc
    auditor.locator(".tl-details summary").click()
    row = auditor.locator("#tl-sessions tbody tr[data-principal='officer-kim'][data-camera='saxe-int-01']")
    assert "saxe-int-01" in row.inner_text() and "access revoked: no emergency" in row.inner_text()
    kinds = auditor.locator("#tl-transitions tbody tr").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == ["declare", "end"]
    axe(auditor, "the auditor's timeline, its tables open")  # WCAG 2 A/AA, contrast included
    auditor.set_viewport_size({"width": 768, "height": 1024})  # a tablet held upright: no sideways scroll
    fits(auditor, "the auditor's timeline at 768x1024")
    auditor.set_viewport_size({"width": 1280, "height": 1000})
    auditor.locator(".tl-details summary").click()
    assert auditor.locator("video").count() == 0
    auditor.evaluate("window.scrollTo(0, 0); document.querySelector('#audit-table').parentElement.scrollLeft = 0")
    auditor.screenshot(path=str(SHOTS / "7-auditor-timeline.png"))

    # The CSV of the filtered view: every record of the emergency, each field of each record.
    name, rows = downloaded_csv(auditor)
    assert name.startswith("camgate-audit-") and name.endswith(".csv")
    assert rows[0] == CSV_COLUMNS
    expected = auditor_api.audit(emergency=em["id"])
    assert [int(r[0]) for r in rows[1:]] == [rec["seq"] for rec in expected]
    assert {r[CSV_COLUMNS.index("emergency")] for r in rows[1:]} == {em["id"]}
    assert [r[CSV_COLUMNS.index("hash")] for r in rows[1:]] == [rec["hash"] for rec in expected]
    declared = next(r for r in rows[1:] if r[2] == "emergency.declare")
    assert json.loads(declared[CSV_COLUMNS.index("details")])["emergency"]["threat"] == THREAT
    auditor.context.close()


def test_the_csv_is_the_whole_filtered_view_with_formulas_defused(browser: Any, broker: BrokerProcess) -> None:
    odd = Http(broker, FORMULA, "ncps", "principal")  # one of the demo auditor's (ncps) own people
    for _ in range(60):  # 60 records named after the formula: more than one page of the table
        odd.call("GET", "/api/v1/cameras", params={"site": "ncps-east", "limit": 1})
    auditor = open_console(browser, broker, "auditor", "audit")
    auditor.wait_for_selector("#audit-table tbody tr")
    auditor.fill("#f-principal", FORMULA)
    auditor.fill("#f-kind", "cameras.list")
    auditor.get_by_role("button", name="Apply").click()
    playwright_api.expect(auditor.locator(".pager")).to_contain_text("Page 1 · 50 records")
    auditor.fill("#f-principal", "someone typing, not applied")  # the CSV is the view shown, not the form
    _, rows = downloaded_csv(auditor)
    assert rows[0] == CSV_COLUMNS and len(rows) == 61
    subs = {r[CSV_COLUMNS.index("principal_sub")] for r in rows[1:]}
    assert subs == {"'" + FORMULA}  # OWASP: a leading quote, so the cell is text
    assert {r[2] for r in rows[1:]} == {"cameras.list"}
    seqs = [int(r[0]) for r in rows[1:]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 60
    auditor.context.close()
