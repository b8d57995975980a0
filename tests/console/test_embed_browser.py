"""A page of ANOTHER origin embeds a camera with hls.js in Debian's Chromium (issue 13 item 10).

The broker (real HTTP on 127.0.0.1, live playlists rewritten from the fake HLS origin's real H.264) allows the
origin of a second local server, on another port, in ``http.cors_origins``. That page plays the stream with
hls.js, its ``xhrSetup`` adding the bearer token (so every playlist and segment request is a CORS request with a
preflight); and with a viewing URL it asked for, played without any header. A third origin, not on the list,
gets ``manifestLoadError``: the browser's CORS check holds. No cookie is involved anywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from broker.api import create_app
from broker.api.services import Services
from broker.clock import SystemClock
from broker.settings import load_settings
from tests.api.support import MOUS, write_inventory
from tests.fakes.hls_origin import FakeHlsOrigin
from tests.fakes.servers import serve_in_thread
from tests.paths import MODEL, REPO

pytestmark = [pytest.mark.video, pytest.mark.browser]

HLS_JS = REPO / "broker/console/static/vendor/hls.mjs"
PAGE = """<!doctype html>
<html lang="en"><meta charset="utf-8"><title>CAD screen</title>
<video id="v" muted playsinline></video>
<script type="module">
import Hls from "/hls.mjs";
window.errors = [];
window.play = (src, token) => {
  const video = document.getElementById("v");
  const config = token ? { xhrSetup: (xhr) => xhr.setRequestHeader("Authorization", "Bearer " + token) } : {};
  const hls = new Hls(config);
  hls.on(Hls.Events.ERROR, (_, data) => window.errors.push(data.details));
  hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
  hls.loadSource(src);
  hls.attachMedia(video);
};
window.viewingUrl = async (broker, camera, token) => {
  const r = await fetch(`${broker}/api/v1/cameras/${camera}/viewing-url`,
                        { method: "POST", headers: { Authorization: "Bearer " + token } });
  if (r.status !== 201) throw new Error(`viewing-url: ${r.status}`);
  return broker + (await r.json()).url;
};
window.ready = true;
</script>
</html>
"""


async def page(_: Request) -> Response:
    return HTMLResponse(PAGE)


async def hls_js(_: Request) -> Response:
    return Response(HLS_JS.read_bytes(), media_type="text/javascript")


PAGES = Starlette(routes=[Route("/", page), Route("/hls.mjs", hls_js)])


@pytest.fixture
def origins(tmp_path: Path, hls_origin: FakeHlsOrigin) -> Iterator[tuple[str, str, str, Services]]:
    """(the embedding page's origin, another page's origin, the broker's URL, its services)."""
    with serve_in_thread(PAGES) as cad, serve_in_thread(PAGES) as other:
        settings = load_settings(
            mode="dev",
            data_dir=tmp_path / "data",
            policy={"inventory": write_inventory(tmp_path, hls_origin.base_url), "mous": [MOUS], "model": MODEL},
            store={"url": f"sqlite:///{tmp_path / 'camgate.db'}"},
            http={"cors_origins": [cad]},
        )
        app = create_app(settings, clock=SystemClock(), housekeeping=False)
        with serve_in_thread(app) as broker:
            yield cad, other, broker, app.state.services


def officer_token(services: Services) -> str:
    assert services.dev_issuer is not None
    return services.dev_issuer.mint("officer-17", "ncpd", ["officer"], now=services.clock.now())


def open_page(browser: Any, url: str) -> Any:
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.goto(url)
    tab.wait_for_function("window.ready === true")
    return tab


def played(tab: Any, seconds: float = 1.0) -> None:
    tab.wait_for_function(f"document.getElementById('v').currentTime > {seconds}", timeout=30_000)


def test_hls_js_on_another_origin_plays_with_the_bearer_token_in_xhr_setup(browser: Any, origins: Any) -> None:
    cad, _, broker, services = origins
    tab = open_page(browser, cad)
    sent: list[dict[str, str]] = []
    tab.on("request", lambda req: sent.append(req.headers) if req.url.startswith(broker) else None)
    tab.evaluate(
        "([src, token]) => window.play(src, token)",
        [f"{broker}/api/v1/cameras/saxe-ext-01/live.m3u8", officer_token(services)],
    )
    played(tab)
    assert tab.evaluate("window.errors") == []
    assert len(sent) >= 3 and all(h.get("authorization", "").startswith("Bearer ") for h in sent)
    assert not any("cookie" in h for h in sent)
    tab.context.close()


def test_a_viewing_url_plays_on_another_origin_without_any_header(browser: Any, origins: Any) -> None:
    cad, _, broker, services = origins
    tab = open_page(browser, cad)
    url = tab.evaluate("([b, c, t]) => window.viewingUrl(b, c, t)", [broker, "saxe-ext-02", officer_token(services)])
    assert "/view.m3u8?v=" in url and "access_token" not in url
    tab.evaluate("src => window.play(src, null)", url)
    played(tab)
    assert tab.evaluate("window.errors") == []
    tab.context.close()


def test_an_origin_not_on_the_list_cannot_read_the_stream(browser: Any, origins: Any) -> None:
    _, other, broker, services = origins
    tab = open_page(browser, other)
    tab.evaluate(
        "([src, token]) => window.play(src, token)",
        [f"{broker}/api/v1/cameras/saxe-ext-01/live.m3u8", officer_token(services)],
    )
    tab.wait_for_function("window.errors.includes('manifestLoadError')")
    assert tab.evaluate("document.getElementById('v').currentTime") == 0
    tab.context.close()
