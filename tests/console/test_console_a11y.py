"""The console made for the situation: usable with the keyboard alone, labelled for screen readers, dark in a
dispatch room, usable on a patrol car's tablet. Debian's Chromium (Playwright) against a real ``camgate demo``.

axe-core (npm, pinned in tests/console/package-lock.json, installed by ``make test``) is injected into each page
and its WCAG 2.x A/AA rules (color-contrast among them) must find nothing serious or critical. Screenshots go to
``test-screenshots/9-*.png`` (git-ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright import sync_api as playwright_api

from tests.api.broker_process import BrokerProcess
from tests.console.conftest import AXE
from tests.console.test_console_browser import SHOTS, THREAT, open_console

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
TABLETS = [(768, 1024), (1024, 768)]  # a patrol car's tablet, upright and on its side
TARGET = 44  # px, WCAG 2.5.5 target size

pytestmark = [pytest.mark.video, pytest.mark.browser]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    with BrokerProcess.start(tmp_path_factory.mktemp("console-a11y")) as running:
        yield running


def axe(page: Any, where: str) -> None:
    """No serious or critical WCAG 2 A/AA violation on the page as it is now (axe evaluated over CDP, so the
    console's Content-Security-Policy stays on)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })", WCAG
    )
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{where}: " + "; ".join(
        f"{v['impact']} {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes'][:5]]}: "
        f"{v['nodes'][0]['failureSummary']}"
        for v in bad
    )


def dark(page: Any) -> None:
    """The page's own background is dark (relative luminance well under 0.05) and its text light."""
    lum = page.evaluate("""() => {
      const l = (c) => { const [r, g, b] = c.match(/\\d+/g).slice(0, 3).map((v) => { v /= 255;
        return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const s = getComputedStyle(document.body); return [l(s.backgroundColor), l(s.color)]; }""")  # fmt: skip
    assert lum[0] < 0.02 and lum[1] > 0.7, f"background/text luminance {lum}: not the dark theme"


def persona_page(browser: Any, broker: BrokerProcess, path: str, scheme: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{broker.url}{path}")
    return page


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_every_page_passes_axe_and_stays_dark(browser: Any, broker: BrokerProcess, scheme: str) -> None:
    """Dark by default and in a light system theme too (a dispatch room at night); contrast checked by axe."""
    for path, ready in (("/dev/signin", "button[value=dispatcher]"),
                        ("/console/", "form.signin")):  # fmt: skip
        page = persona_page(browser, broker, path, scheme)
        page.wait_for_selector(ready)
        assert page.evaluate("document.documentElement.lang") == "en"
        dark(page)
        axe(page, f"{path} ({scheme})")
        page.context.close()
    for persona, page_id, ready in (
        ("officer", "dispatch", "video[data-camera]"),
        ("dispatcher", "dispatch", "form.declare"),
        ("school_it", "school", "tbody tr[data-camera]"),
        ("auditor", "audit", "#audit-table tbody tr"),
        ("school_it", "mous", "article.mou-card"),
        ("chief", "mous/ncps-ncpd-video", "article.version"),
        ("chief", "mous/ncps-ncpd-video/edit/3", ".reading article.mou"),
    ):
        page = open_console(browser, broker, persona, page_id)
        page.emulate_media(color_scheme=scheme)
        page.wait_for_selector(ready)
        dark(page)
        axe(page, f"{persona} on {page_id} ({scheme})")
        page.context.close()


FOCUS = """() => { const el = document.activeElement; const s = getComputedStyle(el); const r = el.getBoundingClientRect();
  return { id: el.id, tag: el.tagName.toLowerCase(), camera: el.dataset?.camera || null, cls: el.getAttribute('class'),
    role: el.getAttribute('role'), label: el.getAttribute('aria-label'), visible: el.matches(':focus-visible'),
    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2, stroke: s.stroke,
    onscreen: r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth }; }"""


def focused(page: Any) -> dict[str, Any]:
    """What has the focus, and that a sighted keyboard user can see it: on screen, with the focus ring (an
    outline of 2 px or more; a camera dot's stroke in the focus colour)."""
    f: dict[str, Any] = page.evaluate(FOCUS)
    assert f["tag"] != "body", "the focus was lost"
    ring = f["outline"] or (f["tag"] == "circle" and f["stroke"] == "rgb(255, 211, 61)")
    assert f["visible"] and ring and f["onscreen"], f"focus not visible: {f}"
    return f


def tab_to(page: Any, wanted: Any, *, back: bool = False, limit: int = 80) -> dict[str, Any]:
    """Tab (or Shift+Tab) until ``wanted(focus)``; every stop on the way has a visible focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        f = focused(page)
        if wanted(f):
            return f
    raise AssertionError(f"not reached with {limit} presses of {'Shift+Tab' if back else 'Tab'}; last: {f}")


def test_a_dispatcher_declares_and_ends_with_the_keyboard_alone(browser: Any, broker: BrokerProcess) -> None:
    page = open_console(browser, broker, "dispatcher", "dispatch")
    page.wait_for_selector("form.declare")
    page.wait_for_selector(".cam[data-camera='saxe-int-01']")
    # The skip link is the first stop, shows itself, and moves the focus into the page without reloading it.
    url = page.url
    page.evaluate("window.notReloaded = true")
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip["cls"] == "skip", skip
    page.keyboard.press("Enter")
    assert page.evaluate("[document.activeElement.id, window.notReloaded, location.href]") == ["main", True, url]

    # Camera dots are buttons whose names say their state; Enter shows that camera.
    dot = tab_to(page, lambda f: f["camera"] == "saxe-ext-01")
    assert dot["role"] == "button" and dot["label"].endswith(": allowed now"), dot
    page.keyboard.press("Enter")
    playwright_api.expect(page.locator("figure.player[data-camera='saxe-ext-01']")).to_have_class(re.compile("flash"))
    interior = tab_to(page, lambda f: f["camera"] == "saxe-int-01")
    assert interior["label"].endswith(": not allowed") and "denied" in interior["cls"], interior

    # The declare form, filled and sent with keys only.
    tab_to(page, lambda f: f["id"] == "em-mou")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "em-site"
    assert page.eval_on_selector("#em-site", "el => el.value") == "ncps-saxe"  # the site the page shows
    tab_to(page, lambda f: f["id"] == "em-zones", limit=3)
    page.keyboard.type("interior")
    tab_to(page, lambda f: f["id"] == "em-incident", limit=2)
    page.keyboard.type("NC-26-01501")
    tab_to(page, lambda f: f["id"] == "em-threat", limit=3)
    page.keyboard.type(THREAT)
    button = tab_to(page, lambda f: f["tag"] == "button", limit=2)
    page.screenshot(path=str(SHOTS / "9-keyboard-declare.png"))
    assert page.evaluate("document.activeElement.textContent") == "Declare emergency", button
    page.keyboard.press("Space")

    # Announced once, politely; the countdown ticks without a live region of its own.
    announce = page.locator("#announce")
    playwright_api.expect(announce).to_have_text(re.compile(r"Emergency declared at ncps-saxe \(NC-26-01501\)"))
    assert announce.get_attribute("aria-live") == "polite" and page.locator("#banner").get_attribute("role") == "alert"
    assert page.locator("form.declare .form-result").get_attribute("aria-live") == "assertive"  # "Not declared: …"
    countdown = page.locator("article.emergency .countdown")
    assert countdown.get_attribute("role") == "timer" and countdown.get_attribute("aria-live") == "off"
    live = "[aria-live]:not([aria-live=off]), [role=status], [role=alert], [role=log], [role=marquee]"
    assert countdown.evaluate("(el, live) => el.parentElement.closest(live)", live) is None
    said, ticks = announce.inner_text(), countdown.inner_text()
    playwright_api.expect(countdown).not_to_have_text(ticks, timeout=5_000)
    assert announce.inner_text() == said  # the ticking is not re-announced
    page.wait_for_selector("video[data-camera='saxe-int-01']")
    axe(page, "dispatch during an emergency")

    # Back up to the emergency's End form. A supervisor extends it meanwhile: the event stream re-renders the
    # list, and the focus and what was typed stay.
    field = tab_to(page, lambda f: f["id"].startswith("end-why-"), back=True, limit=20)
    page.keyboard.type("suspect in custody")
    emergency = field["id"].removeprefix("end-why-")
    expires = countdown.get_attribute("data-expires")
    token = broker.token("sgt-ortiz", "ncpd", "supervisor")
    r = httpx.post(f"{broker.url}/api/v1/emergencies/{emergency}/extend", json={"minutes": 15, "reason": "still searching"},
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)  # fmt: skip
    assert r.status_code == 200, r.text
    playwright_api.expect(page.locator("article.emergency .countdown")).not_to_have_attribute("data-expires", expires)
    assert focused(page)["id"] == field["id"]
    assert page.eval_on_selector(f"#{field['id']}", "el => el.value") == "suspect in custody"
    end = tab_to(page, lambda f: f["tag"] == "button", limit=1)
    assert page.evaluate("document.activeElement.textContent") == "End emergency", end
    page.screenshot(path=str(SHOTS / "9-keyboard-end.png"))
    page.keyboard.press("Enter")
    playwright_api.expect(announce).to_have_text(re.compile(r"Emergency at ncps-saxe \(NC-26-01501\) is over"))
    playwright_api.expect(page.locator("#em-title")).to_have_text("Active emergencies (0)")
    # The control that had the focus is gone with the emergency: the focus is on the list's heading.
    playwright_api.expect(page.locator("#em-title")).to_be_focused()
    status = page.locator("figure.player[data-camera='saxe-int-01'] .status")
    playwright_api.expect(status).to_contain_text("Access ended", timeout=20_000)
    page.context.close()


def fits(page: Any, where: str) -> None:
    """No horizontal scrolling of the page, and every control a full-size touch target."""
    width = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], f"{where}: the page scrolls sideways ({width[0]} > {width[1]} px)"
    small = page.evaluate(
        """min => [...document.querySelectorAll('button, select, input, #nav a, .issuers a, .signin-page p > a')]
          .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
          .map((el) => { const r = el.getBoundingClientRect();
            return { el: el.id || el.name || el.textContent.trim(), w: Math.round(r.width), h: Math.round(r.height) }; })
          .filter((t) => t.w < min || t.h < min)""",
        TARGET,
    )  # fmt: skip
    assert not small, f"{where}: touch targets under {TARGET} px: {small}"


def usable(page: Any, selector: str) -> None:
    """Scrolled to, ``selector`` is inside the viewport and is what a finger on its centre would touch."""
    el = page.locator(selector).first
    el.scroll_into_view_if_needed()
    box = el.bounding_box()
    size = page.viewport_size
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= size["width"], f"{selector} off screen: {box}"
    hit = page.evaluate(
        "([s, x, y]) => document.querySelector(s).contains(document.elementFromPoint(x, y))",
        [selector, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )  # fmt: skip
    assert hit, f"{selector} is covered by something else"


@pytest.mark.parametrize(("width", "height"), TABLETS)
def test_a_patrol_car_tablet(browser: Any, broker: BrokerProcess, width: int, height: int) -> None:
    size = f"{width}x{height}"
    page = persona_page(browser, broker, "/dev/signin", "dark")
    page.set_viewport_size({"width": width, "height": height})
    fits(page, f"/dev/signin {size}")
    page.screenshot(path=str(SHOTS / f"9-tablet-signin-{size}.png"), full_page=True)
    page.context.close()

    dispatcher = open_console(browser, broker, "dispatcher", "dispatch")
    dispatcher.set_viewport_size({"width": width, "height": height})
    dispatcher.wait_for_selector("form.declare")
    dispatcher.wait_for_selector("figure.player video")
    fits(dispatcher, f"dispatch {size}")
    wall = dispatcher.locator(".wall").bounding_box()
    assert wall and wall["x"] + wall["width"] <= width and wall["width"] >= 240, f"the camera wall at {size}: {wall}"
    for selector in ("figure.player video", "#em-site", "#em-threat", "form.declare button[type=submit]"):
        usable(dispatcher, selector)
    dispatcher.screenshot(path=str(SHOTS / f"9-tablet-dispatch-{size}.png"), full_page=True)
    axe(dispatcher, f"dispatch {size}")
    dispatcher.context.close()

    for persona, page_id, ready in (
        ("school_it", "school", "tbody tr[data-camera]"),
        ("auditor", "audit", "#audit-table tbody tr"),
        ("school_it", "mous/ncps-ncpd-video/edit", "#mou-text"),
        ("chief", "mous/ncps-ncpd-video", "article.version"),
    ):
        other = open_console(browser, broker, persona, page_id)
        other.set_viewport_size({"width": width, "height": height})
        other.wait_for_selector(ready)
        fits(other, f"{page_id} {size}")
        other.screenshot(path=str(SHOTS / f"9-tablet-{page_id.replace('/', '-')}-{size}.png"), full_page=True)
        axe(other, f"{page_id} {size}")
        other.context.close()
